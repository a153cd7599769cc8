"""hcserver/asgi.py, the `web` role's application: the same answers as Django's.

Each test drives a fresh Application with the ASGI messages gunicorn's asgi worker
sends; pings are recorded through the group commit on PostgreSQL and on the Django
road elsewhere.
"""

import asyncio
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.test import RequestFactory
from django.utils import timezone
from django.utils.http import http_date

from checks import group_commit, services
from checks.group_commit import AsyncGroupCommit, Outcome
from checks.models import Ping, Status
from checks.ping_handler import PingHandler, match_ping_url
from hcserver.asgi import Application
from tests.checks.test_group_commit import by_code, stored
from tests.checks.test_ping_handler import REQUESTS, TIMED, call, twin_checks
from tests.factories import CheckFactory

# The application's threads hold their own connections: these tests commit for real.
pytestmark = pytest.mark.django_db(transaction=True)


def run(coroutine):
    """asyncio.run in a thread of its own: other tests (Playwright's) may leave an
    event loop running in this one."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


@pytest.fixture
def app():
    application = Application(PingHandler(fallback=WSGIHandler()), threads=2)
    yield application
    application.close()


def scope_for(method: str, path: str, body: bytes = b"", **meta) -> dict:
    """The ASGI scope of the request RequestFactory would make."""
    environ = (
        RequestFactory()
        .generic(method, path, body, content_type="text/plain", **meta)
        .environ
    )
    headers = [(b"host", environ.get("HTTP_HOST", "testserver").encode())]
    headers += [
        (key[5:].lower().replace("_", "-").encode(), value.encode())
        for key, value in environ.items()
        if key.startswith("HTTP_") and key != "HTTP_HOST"
    ]
    headers += [(b"content-type", b"text/plain")]
    if body:
        headers += [(b"content-length", str(len(body)).encode())]
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": environ["wsgi.url_scheme"],
        "path": environ["PATH_INFO"],
        "raw_path": environ["PATH_INFO"].encode(),
        "query_string": environ.get("QUERY_STRING", "").encode(),
        "root_path": "",
        "headers": headers,
        "server": ("testserver", 80),
        "client": ("127.0.0.1", 40000),
    }


async def asgi_call(app, scope: dict, chunks: list[bytes]) -> tuple:
    """One request: the status line, headers (as the WSGI helper sorts them), body."""
    messages = [
        {"type": "http.request", "body": chunk, "more_body": i < len(chunks) - 1}
        for i, chunk in enumerate(chunks or [b""])
    ]
    sent = []

    async def receive():
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    await app(scope, receive, send)
    start = sent[0]
    body = b"".join(m.get("body", b"") for m in sent[1:])
    headers = sorted(
        (k.decode(), v.decode()) for k, v in start["headers"] if k.decode() not in TIMED
    )
    return start["status"], headers, body


def call_asgi(app, method: str, path: str, body: bytes = b"", **meta) -> tuple:
    chunks = [body[i : i + 4096] for i in range(0, len(body), 4096)]
    return run(asgi_call(app, scope_for(method, path, body, **meta), chunks))


def as_asgi(answer: tuple) -> tuple:
    """A WSGI answer from tests.checks.test_ping_handler.call, as ASGI gives it."""
    status, headers, body = answer
    lowered = sorted((k.lower(), v) for k, v in headers if k not in TIMED)
    return (
        int(status[:3]),
        [h for h in lowered if h[0] not in ("expires", "date")],
        body,
    )


@pytest.mark.parametrize(("method", "path", "body", "meta"), REQUESTS)
def test_ping_answers_match_djangos(app, method, path, body, meta):
    ours, theirs = twin_checks(status=Status.UP, last_ping=timezone.now())
    ours.slug = theirs.slug = "backup"
    ours.save()
    theirs.save()

    def url(check):
        return path.format(code=check.code, key=check.project.ping_key, slug="backup")

    expected = as_asgi(call(WSGIHandler(), method, url(theirs), body, **meta))
    got = call_asgi(app, method, url(ours), body, **meta)
    got = got[0], [h for h in got[1] if h[0] not in ("expires", "date")], got[2]
    assert got == expected


def test_ping_is_stored_with_its_details(app):
    check = CheckFactory()
    call_asgi(app, "POST", f"/ping/{check.code}/log", b"output", HTTP_USER_AGENT="job")
    stored_ping = Ping.objects.get(owner=check)
    assert (stored_ping.kind, stored_ping.method, stored_ping.ua) == (
        "log",
        "POST",
        "job",
    )
    assert bytes(stored_ping.body) == b"output"


def test_body_over_the_limit_is_cut_when_it_comes_in_pieces(app, settings):
    settings.PING_BODY_LIMIT = 5000
    check = CheckFactory()
    status, _, _ = call_asgi(app, "POST", f"/ping/{check.code}", b"a" * 12000)
    assert status == 200
    assert bytes(Ping.objects.get(owner=check).body) == b"a" * 5000


def test_other_paths_are_djangos(app):
    expected = as_asgi(call(WSGIHandler(), "GET", "/api/v3/checks/"))
    got = call_asgi(app, "GET", "/api/v3/checks/")
    got = got[0], [h for h in got[1] if h[0] not in ("expires", "date")], got[2]
    assert got == expected
    assert got[0] == 401


def test_a_path_under_ping_that_is_no_ping_url_is_djangos_404(app):
    status, _, _ = call_asgi(app, "GET", "/ping/a/b/c/d")
    assert status == 404


def test_create_on_first_ping_makes_the_check(app):
    check = CheckFactory()
    status, _, body = call_asgi(
        app, "GET", f"/ping/{check.project.ping_key}/new-job?create=1"
    )
    assert (status, body) == (201, b"Created")


async def many_pings(app, codes: list) -> list:
    return await asyncio.gather(
        *(asgi_call(app, scope_for("GET", f"/ping/{c}"), []) for c in codes)
    )


@pytest.mark.postgres  # the test database on SQLite is shared memory: no busy wait
def test_concurrent_pings_are_all_stored_and_numbered_densely(app):
    checks = [CheckFactory() for _ in range(3)]
    answers = run(many_pings(app, [c.code for c in checks] * 10))
    assert [a[0] for a in answers] == [200] * 30
    for check in checks:
        assert [n for n, _ in stored(check)] == list(range(1, 11))


@pytest.mark.postgres
def test_concurrent_pings_share_transactions(app, monkeypatch):
    sizes = []
    real = services.ping_many
    monkeypatch.setattr(
        services, "ping_many", lambda pings: sizes.append(len(pings)) or real(pings)
    )
    checks = [CheckFactory() for _ in range(5)]
    run(many_pings(app, [c.code for c in checks] * 4))
    assert sum(sizes) == 20
    assert max(sizes) > 1


@pytest.mark.postgres
def test_a_failed_batch_is_answered_as_django_answers_it(app):
    ours, theirs = twin_checks()
    for check in (ours, theirs):
        Ping.objects.create(owner=check, n=1, created=timezone.now())
    expected = as_asgi(call(WSGIHandler(), "GET", f"/ping/{theirs.code}"))
    got = call_asgi(app, "GET", f"/ping/{ours.code}")
    got = got[0], [h for h in got[1] if h[0] not in ("expires", "date")], got[2]
    assert got == expected
    assert got[0] == 500


@pytest.mark.postgres
def test_async_group_commit_answers_an_unknown_check_with_none():
    group = AsyncGroupCommit()
    target = services.PingTarget(code=uuid.uuid4())
    try:
        result = run(group.record(target, services.PingData(), timezone.now()))
    finally:
        group.close()
    assert result is None


@pytest.mark.postgres
def test_async_group_commit_withdraws_a_ping_not_taken_in_time(monkeypatch):
    monkeypatch.setattr(group_commit, "WAIT_LIMIT", 0.3)
    gate = threading.Event()
    real = services.ping_many

    def held(pings):
        assert gate.wait(10)
        return real(pings)

    monkeypatch.setattr(services, "ping_many", held)
    first, other = CheckFactory(), CheckFactory()
    group = AsyncGroupCommit()

    async def both():
        in_flight = asyncio.ensure_future(group.record(*by_code(first)))
        await asyncio.sleep(0.1)  # first's batch is held at the gate
        late = await group.record(*by_code(other))
        gate.set()
        return await in_flight, late

    try:
        assert run(both()) == ("success", Outcome.NOT_RECORDED)
    finally:
        gate.set()
        group.close()
    assert stored(other) == []


@pytest.mark.postgres
def test_closing_records_what_is_queued_first():
    check = CheckFactory()
    group = AsyncGroupCommit()

    async def ping_then_close():
        pinging = asyncio.ensure_future(group.record(*by_code(check)))
        await asyncio.sleep(0)  # queued
        await asyncio.get_running_loop().run_in_executor(None, group.close)
        return await pinging

    assert run(ping_then_close()) == "success"
    assert stored(check) == [(1, "success")]


def test_lifespan_starts_and_stops(app):
    messages = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent = []

    async def receive():
        return messages.pop(0)

    async def send(message):
        sent.append(message["type"])

    run(app({"type": "lifespan"}, receive, send))
    assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]


# --- gathering a batch under load (AsyncGroupCommit._gather) -----------------------


def gather_in_thread(group: AsyncGroupCommit) -> threading.Thread:
    def gather():
        with group._lock:
            group._gather()

    thread = threading.Thread(target=gather, daemon=True)
    thread.start()
    return thread


@pytest.fixture
def under_load(monkeypatch):
    """Every batch counts as just ended, however slowly the test runs."""
    monkeypatch.setattr(group_commit, "GATHER_AFTER", 3600.0)


def queue_one(group: AsyncGroupCommit) -> None:
    with group._lock:  # as record() does
        group._enqueue(object())  # _gather only counts the queue


def test_under_load_a_batch_waits_for_as_many_pings_as_the_last_one(
    monkeypatch, under_load
):
    monkeypatch.setattr(group_commit, "GATHER_WAIT", 60.0)
    group = AsyncGroupCommit()
    group._last = (3, time.monotonic())
    queue_one(group)
    thread = gather_in_thread(group)
    queue_one(group)
    thread.join(0.2)
    assert thread.is_alive()  # two of three: still waiting
    queue_one(group)
    thread.join(30)
    assert not thread.is_alive()


class CountedNotifies(threading.Condition):
    def __init__(self, lock) -> None:
        super().__init__(lock)
        self.notified = 0

    def notify(self, n: int = 1) -> None:
        self.notified += 1
        super().notify(n)


def test_a_gathering_thread_is_woken_when_its_batch_is_complete_not_before():
    group = AsyncGroupCommit()
    group._arrived = CountedNotifies(group._lock)
    group._want = 3  # as _gather sets it, waiting for three pings
    queue_one(group)
    queue_one(group)
    assert group._arrived.notified == 0
    queue_one(group)
    assert group._arrived.notified == 1


def test_pings_queued_while_no_batch_is_gathered_wake_nobody():
    group = AsyncGroupCommit()
    group._arrived = CountedNotifies(group._lock)
    queue_one(group)
    queue_one(group)
    assert group._arrived.notified == 0


def test_gathering_ends_after_gather_wait_with_fewer_pings(monkeypatch, under_load):
    monkeypatch.setattr(group_commit, "GATHER_WAIT", 0.2)
    group = AsyncGroupCommit()
    group._last = (3, time.monotonic())
    queue_one(group)
    started = time.monotonic()
    thread = gather_in_thread(group)
    thread.join(30)
    assert not thread.is_alive()
    assert time.monotonic() - started >= 0.2  # it did wait
    assert len(group._queue) == 1


def takes_at_once(group: AsyncGroupCommit) -> bool:
    """Whether _gather returns with one ping queued, GATHER_WAIT being 60 s."""
    queue_one(group)
    thread = gather_in_thread(group)
    thread.join(30)
    return not thread.is_alive()


def test_no_gathering_when_the_last_batch_ended_long_ago(monkeypatch):
    monkeypatch.setattr(group_commit, "GATHER_WAIT", 60.0)
    group = AsyncGroupCommit()
    group._last = (3, time.monotonic() - 1000.0)
    assert takes_at_once(group)


def test_no_gathering_after_a_batch_of_one_ping(monkeypatch, under_load):
    monkeypatch.setattr(group_commit, "GATHER_WAIT", 60.0)
    group = AsyncGroupCommit()
    group._last = (1, time.monotonic())
    assert takes_at_once(group)


# --- the `OK`'s headers (Application.ok_headers) -----------------------------------


def together_for(app, **extra):
    check = CheckFactory()
    environ = RequestFactory().get(f"/ping/{check.code}", **extra).environ
    together = app.handler.prepare(environ, match_ping_url(environ["PATH_INFO"]))
    assert together is not None
    return together


def expires(headers) -> bytes:
    return dict(headers)[b"expires"]


@pytest.mark.postgres
def test_ok_headers_expire_now(app):
    before = int(time.time())
    headers = app.ok_headers(together_for(app))
    after = int(time.time())
    assert expires(headers) in {
        http_date(second).encode() for second in range(before, after + 1)
    }


@pytest.mark.postgres
def test_ok_headers_of_https_pings_are_the_https_answers(app, settings):
    settings.SECURE_HSTS_SECONDS = 3600
    plain = dict(app.ok_headers(together_for(app)))
    secure = dict(app.ok_headers(together_for(app, secure=True)))
    assert b"strict-transport-security" in secure
    assert b"strict-transport-security" not in plain


@pytest.mark.postgres
def test_ok_headers_handed_out_are_not_shared(app):
    together = together_for(app)
    app.ok_headers(together).append((b"x-changed", b"by a caller"))
    assert b"x-changed" not in dict(app.ok_headers(together))
