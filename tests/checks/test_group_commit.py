"""Group commit: pings that arrive together are recorded in one transaction.

services.ping_many records a batch; checks.group_commit.GroupCommit forms the batches
from the threads answering pings; the ping handler answers through them on
PostgreSQL (the same answers as Django's: tests/checks/test_ping_handler.py).
"""

import threading
import time
import uuid
from datetime import timedelta

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.db import connection, connections, transaction
from django.utils import timezone
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from checks import group_commit, services
from checks.group_commit import GroupCommit, Outcome
from checks.models import Check, Flip, Ping, PingKind, Profile, Status
from checks.ping_handler import PingHandler
from checks.services import PingData, PingTarget
from hcserver.wsgi import django_application
from tests.checks.test_ping import terminate_backend
from tests.checks.test_ping_handler import call
from tests.factories import CheckFactory, ProjectFactory
from tests.locks import Held

# ping_many runs its own transactions, and GroupCommit's threads their own
# connections: these tests commit for real.
pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

SUCCESS = PingData()
FAIL = PingData(action=PingKind.FAIL)
START = PingData(action=PingKind.START)


def by_code(check: Check, ping: PingData = SUCCESS, now=None):
    return PingTarget(code=check.code), ping, now or timezone.now()


def by_slug(check: Check, ping: PingData = SUCCESS):
    target = PingTarget(ping_key=check.project.ping_key, slug=check.slug)
    return target, ping, timezone.now()


def stored(check: Check) -> list[tuple[int, str]]:
    return list(Ping.objects.filter(owner=check).order_by("n").values_list("n", "kind"))


# --- services.ping_many ----------------------------------------------------------


def test_ping_many_records_every_ping_in_order():
    a, b = CheckFactory(), CheckFactory()
    kinds = services.ping_many(
        [by_code(a, START), by_code(b), by_code(a, SUCCESS), by_code(b, FAIL)]
    )
    assert kinds == ["start", "success", "success", "fail"]
    assert stored(a) == [(1, "start"), (2, "success")]
    assert stored(b) == [(1, "success"), (2, "fail")]


def test_ping_many_updates_each_check_as_its_last_ping_left_it():
    check = CheckFactory(status=Status.NEW)
    services.ping_many([by_code(check, START), by_code(check, FAIL)])
    check.refresh_from_db()
    assert (check.status, check.n_pings, check.last_start) == (Status.DOWN, 2, None)


def test_ping_many_inserts_a_flip_per_status_change():
    check = CheckFactory(status=Status.UP, last_ping=timezone.now())
    services.ping_many([by_code(check, FAIL), by_code(check), by_code(check)])
    flips = Flip.objects.filter(owner=check).order_by("id")
    assert [(f.old_status, f.new_status) for f in flips] == [
        (Status.UP, Status.DOWN),
        (Status.DOWN, Status.UP),
    ]


def test_ping_many_is_two_round_trips(django_assert_num_queries):
    checks = [CheckFactory() for _ in range(5)]
    connection.ensure_connection()
    with django_assert_num_queries(2):
        services.ping_many([by_code(c) for c in checks] + [by_slug(checks[0])])


def test_ping_many_finds_checks_by_slug():
    check = CheckFactory(slug="backup")
    assert services.ping_many([by_slug(check)]) == ["success"]
    assert stored(check) == [(1, "success")]


def test_ping_many_finds_slugs_of_one_project_and_uuids_together():
    project = ProjectFactory()
    a = CheckFactory(project=project, slug="a")
    b = CheckFactory(project=project, slug="b")
    other = CheckFactory(project=project, slug="other")
    kinds = services.ping_many([by_slug(a), by_code(other), by_slug(b)])
    assert kinds == ["success"] * 3
    assert [stored(c) for c in (a, b, other)] == [[(1, "success")]] * 3


def test_ping_many_finds_slugs_of_several_projects():
    a = CheckFactory(slug="job")
    b = CheckFactory(slug="job")  # the same slug in another project
    assert services.ping_many([by_slug(a), by_slug(b)]) == ["success", "success"]
    assert [stored(a), stored(b)] == [[(1, "success")], [(1, "success")]]


def test_ping_many_finds_slugs_of_several_projects_and_uuids_together():
    a, b, c = CheckFactory(slug="job"), CheckFactory(slug="job"), CheckFactory()
    kinds = services.ping_many([by_slug(a), by_code(c), by_slug(b)])
    assert kinds == ["success"] * 3
    assert [stored(x) for x in (a, b, c)] == [[(1, "success")]] * 3


def test_ping_many_does_not_take_a_slug_of_one_project_for_another():
    a = CheckFactory(slug="job")
    CheckFactory(slug="elsewhere")
    wrong = PingTarget(ping_key=a.project.ping_key, slug="elsewhere")
    kinds = services.ping_many([by_slug(a), (wrong, SUCCESS, timezone.now())])
    assert kinds == ["success", None]


def test_ping_many_answers_none_for_an_unknown_check_and_records_the_rest():
    check = CheckFactory()
    unknown = (PingTarget(code=uuid.uuid4()), SUCCESS, timezone.now())
    assert services.ping_many([unknown, by_code(check)]) == [None, "success"]
    assert stored(check) == [(1, "success")]


def test_ping_many_answers_none_for_an_ambiguous_slug_and_records_nothing_for_it():
    project = ProjectFactory()
    first = CheckFactory(project=project, slug="twin")
    CheckFactory(project=project, slug="twin")
    assert services.ping_many([by_slug(first)]) == [None]
    assert not Ping.objects.filter(owner__project=project).exists()


def test_ping_many_writes_nothing_when_a_write_fails():
    good, bad = CheckFactory(), CheckFactory()
    # Occupy the number bad's next ping would get: the batch's INSERT fails.
    Ping.objects.create(owner=bad, n=1, created=timezone.now())
    with pytest.raises(Exception):  # noqa: B017, PT011 - IntegrityError, wrapped or not
        services.ping_many([by_code(good), by_code(bad)])
    good.refresh_from_db()
    assert (good.n_pings, stored(good)) == (0, [])


def test_ping_many_leaves_the_connection_usable_after_a_failure():
    check = CheckFactory()
    Ping.objects.create(owner=check, n=1, created=timezone.now())
    with pytest.raises(Exception):  # noqa: B017, PT011
        services.ping_many([by_code(check)])
    Ping.objects.filter(owner=check).delete()
    assert services.ping_many([by_code(check)]) == ["success"]


def test_ping_many_on_a_connection_the_server_dropped_records_the_batch():
    check = CheckFactory()
    connection.ensure_connection()
    terminate_backend(connection.connection.get_backend_pid())
    assert services.ping_many([by_code(check)]) == ["success"]
    assert stored(check) == [(1, "success")]


def test_ping_many_refuses_to_run_inside_a_transaction():
    check = CheckFactory()
    with transaction.atomic(), pytest.raises(transaction.TransactionManagementError):
        services.ping_many([by_code(check)])


def with_pings(n_pings: int, *ns: int, **check) -> Check:
    made = CheckFactory(n_pings=n_pings, **check)
    for n in ns:
        Ping.objects.create(owner=made, n=n, created=timezone.now())
    return made


def test_ping_many_prunes_the_ping_log_at_every_hundredth_ping(settings):
    settings.PING_LOG_LIMIT = 2
    check = with_pings(99, 97, 98, 99)
    services.ping_many([by_code(check)])  # n = 100
    assert [n for n, _ in stored(check)] == [99, 100]


def test_ping_many_leaves_the_log_alone_between_hundredth_pings(settings):
    settings.PING_LOG_LIMIT = 2
    check = with_pings(100, 98, 99, 100)
    services.ping_many([by_code(check)])  # n = 101
    assert [n for n, _ in stored(check)] == [98, 99, 100, 101]


def test_ping_many_prunes_after_the_last_ping_of_the_check_in_the_batch(settings):
    settings.PING_LOG_LIMIT = 2
    check = with_pings(98, 97, 98)
    services.ping_many([by_code(check)] * 3)  # n = 99, 100 (due), 101
    assert [n for n, _ in stored(check)] == [100, 101]


def test_ping_many_prunes_to_the_owners_own_log_limit():
    project = ProjectFactory()
    Profile.objects.update_or_create(user=project.owner, defaults={"ping_log_limit": 3})
    check = with_pings(99, 96, 97, 98, 99, project=project)
    services.ping_many([by_code(check)])
    assert [n for n, _ in stored(check)] == [98, 99, 100]


def test_ping_many_prune_skips_rows_the_hourly_prune_holds(settings):
    settings.PING_LOG_LIMIT = 2
    check = with_pings(99, 97, 98, 99)
    # Without the skip, the ping would wait for the lock's 10 s, then delete n=97.
    lock = Held(Ping.objects.get(owner=check, n=97), timeout=10)
    try:
        services.ping_many([by_code(check)])  # n = 100: prunes
        assert [n for n, _ in stored(check)] == [97, 99, 100]
    finally:
        lock.release()


# Pings a job might send; each is applied the same way alone or in a batch.
PINGS = st.sampled_from(
    [
        SUCCESS,
        FAIL,
        START,
        PingData(action=PingKind.LOG, body=b"output"),
        PingData(exitstatus=3),
        PingData(action=PingKind.START, rid=uuid.UUID(int=1)),
        PingData(rid=uuid.UUID(int=1)),
        PingData(method="HEAD"),
        PingData(body=b"please confirm"),
    ]
)


def state(check: Check) -> tuple:
    check.refresh_from_db()
    fields = [*services.PING_UPDATE_FIELDS]
    pings = Ping.objects.filter(owner=check).order_by("n")
    flips = Flip.objects.filter(owner=check).order_by("id")
    return (
        [getattr(check, f) for f in fields],
        list(pings.values_list("n", "kind", "created", "method", "rid", "exitstatus")),
        list(flips.values_list("created", "old_status", "new_status", "reason")),
    )


@hypothesis_settings(max_examples=25, deadline=None)
@given(st.lists(PINGS, min_size=1, max_size=8), st.booleans())
def test_a_batch_leaves_what_the_same_pings_one_by_one_leave(pings, post_only):
    start = timezone.now() - timedelta(hours=1)
    fields = {"status": Status.NEW, "methods": "POST" if post_only else ""}
    alone, together = CheckFactory(**fields), CheckFactory(**fields)
    times = [start + timedelta(minutes=i) for i in range(len(pings))]
    expected = [
        services.ping_by_code(code=alone.code, ping=p, now=t)
        for p, t in zip(pings, times, strict=True)
    ]
    got = services.ping_many(
        [by_code(together, p, t) for p, t in zip(pings, times, strict=True)]
    )
    assert got == expected
    assert state(together) == state(alone)


# --- GroupCommit: batches from threads ---------------------------------------------


def in_thread(work, results: list) -> threading.Thread:
    def run() -> None:
        try:
            results.append(work())
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def ping_in_thread(group: GroupCommit, check: Check, results: list) -> threading.Thread:
    return in_thread(lambda: group.record(*by_code(check)), results)


def wait_until(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


@pytest.fixture
def batches(monkeypatch):
    """The size of every batch services.ping_many records, in order. Until
    `batches.gate` is set, the first batch waits before it is recorded."""

    class Sizes(list):
        gate = threading.Event()

    sizes = Sizes()
    sizes.gate.set()
    real = services.ping_many

    def counting(pings):
        sizes.append(len(pings))
        if len(sizes) == 1:
            assert sizes.gate.wait(10)
        return real(pings)

    monkeypatch.setattr(services, "ping_many", counting)
    return sizes


def test_pings_that_queue_behind_a_batch_share_the_next_one(batches):
    first, later = CheckFactory(), CheckFactory()
    group = GroupCommit()
    batches.gate.clear()
    results = []
    threads = [ping_in_thread(group, first, results)]
    wait_until(lambda: batches == [1])  # the leader's batch is held at the gate
    threads += [ping_in_thread(group, later, results) for _ in range(4)]
    wait_until(lambda: len(group._queue) == 4)
    batches.gate.set()
    for t in threads:
        t.join(10)
    assert batches == [1, 4]
    assert results == ["success"] * 5
    assert [n for n, _ in stored(later)] == [1, 2, 3, 4]


def test_a_batch_leaves_out_a_check_locked_elsewhere_and_records_the_rest():
    held, free = CheckFactory(), CheckFactory()
    lock = Held(held)
    try:
        kinds = services.ping_many([by_code(held), by_code(free)])
    finally:
        lock.release()
    assert kinds == [None, "success"]
    assert (stored(held), stored(free)) == ([], [(1, "success")])


def test_many_threads_lose_no_ping_and_number_them_densely():
    checks = [CheckFactory() for _ in range(3)]
    group = GroupCommit()
    results = []
    threads = [ping_in_thread(group, checks[i % 3], results) for i in range(30)]
    for t in threads:
        t.join(20)
    assert results == ["success"] * 30
    for check in checks:
        assert [n for n, _ in stored(check)] == list(range(1, 11))
    assert not group._leading


def test_a_failed_batch_leaves_each_ping_to_be_recorded_alone():
    check = CheckFactory()
    Ping.objects.create(owner=check, n=1, created=timezone.now())
    group = GroupCommit()
    assert group.record(*by_code(check)) == Outcome.NOT_RECORDED
    assert not group._leading


def test_a_ping_not_taken_in_time_is_withdrawn_and_not_recorded(monkeypatch, batches):
    monkeypatch.setattr(group_commit, "WAIT_LIMIT", 0.3)
    first, other = CheckFactory(), CheckFactory()
    group = GroupCommit()
    batches.gate.clear()
    results = []
    leader = ping_in_thread(group, first, results)
    wait_until(lambda: batches == [1])
    assert group.record(*by_code(other)) == Outcome.NOT_RECORDED
    batches.gate.set()
    leader.join(10)
    assert (results, batches) == (["success"], [1])
    assert stored(other) == []


# --- the ping handler on the group-commit road -------------------------------------


def test_handler_records_a_ping_through_the_group_commit(batches):
    check = CheckFactory()
    handler = PingHandler(fallback=django_application)
    status, _, body = call(handler, "GET", f"/ping/{check.code}")
    assert (status, body, batches) == ("200 OK", b"OK", [1])
    assert stored(check) == [(1, "success")]


def test_handler_answers_an_unknown_check_on_the_django_road(batches):
    handler = PingHandler(fallback=django_application)
    status, _, body = call(handler, "GET", f"/ping/{uuid.uuid4()}")
    assert (status, body, batches) == ("404 Not Found", b"not found", [1])


def test_handler_records_a_ping_of_a_locked_check_once_the_lock_is_released():
    check = CheckFactory()
    handler = PingHandler(fallback=django_application)
    lock = Held(check)
    answers = []
    thread = in_thread(lambda: call(handler, "GET", f"/ping/{check.code}"), answers)
    time.sleep(0.3)
    assert answers == []  # waiting for the lock on the Django road
    lock.release()
    thread.join(10)
    assert answers[0][0] == "200 OK"
    assert stored(check) == [(1, "success")]


def test_handler_sends_no_bad_request_to_the_group_commit(batches):
    check = CheckFactory()
    handler = PingHandler(fallback=django_application)
    status, _, _ = call(handler, "GET", f"/ping/{check.code}?rid=bad")
    assert (status, batches) == ("400 Bad Request", [])


def test_handler_keeps_the_body_for_the_django_road_after_a_failed_batch():
    check = CheckFactory()
    Ping.objects.create(owner=check, n=1, created=timezone.now())
    handler = PingHandler(fallback=django_application)
    call(handler, "POST", f"/ping/{check.code}", b"x")  # 500: n=1 is taken
    Ping.objects.filter(owner=check).delete()
    Check.objects.filter(pk=check.pk).update(n_pings=0)
    # The handler works on: a later ping is recorded, body and all.
    status, _, _ = call(handler, "POST", f"/ping/{check.code}", b"output")
    assert status == "200 OK"
    assert bytes(Ping.objects.get(owner=check).body) == b"output"


def test_handler_off_records_each_ping_alone(settings, batches):
    settings.PING_GROUP_COMMIT = False
    check = CheckFactory()
    handler = PingHandler(fallback=django_application)
    status, _, _ = call(handler, "GET", f"/ping/{check.code}")
    assert (status, batches) == ("200 OK", [])
    assert stored(check) == [(1, "success")]


def test_handler_answers_https_pings_with_their_own_headers(settings):
    settings.SECURE_HSTS_SECONDS = 3600
    ours, theirs = CheckFactory(), CheckFactory()
    # Middleware reads its settings when it is made: both handlers made after.
    handler, django_handler = PingHandler(fallback=WSGIHandler()), WSGIHandler()
    call(handler, "GET", f"/ping/{ours.code}")  # the plain-HTTP headers first
    expected = call(django_handler, "GET", f"/ping/{theirs.code}", secure=True)
    got = call(handler, "GET", f"/ping/{ours.code}", secure=True)
    assert got == expected
    assert ("Strict-Transport-Security", "max-age=3600") in got[1]


def test_handler_redirects_plain_http_pings_when_told_to(settings, batches):
    settings.SECURE_SSL_REDIRECT = True
    check = CheckFactory()
    handler = PingHandler(fallback=django_application)
    status, _, _ = call(handler, "GET", f"/ping/{check.code}")
    assert (status, batches) == ("301 Moved Permanently", [])
    assert stored(check) == []
