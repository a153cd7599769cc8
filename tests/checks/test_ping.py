"""The UUID ping URLs: spec section 2 and the edge cases of section 9 (items 1-6)."""

import threading
import uuid
from datetime import timedelta

import pytest
from django.db import IntegrityError, connection
from django.utils import timezone

from checks.models import Check, Flip, Ping, PingKind, Status
from tests.factories import CheckFactory

pytestmark = pytest.mark.django_db

RID = "8d6b3c9e-0f5f-4b8e-9c1d-2a7f3e4b5c6d"
OTHER_RID = "0b1a2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"


def ago(**kwargs: float):
    return timezone.now() - timedelta(**kwargs)


def snapshot(check: Check) -> dict:
    """Every field of the stored check, to assert that bad input changed nothing."""
    fresh = Check.objects.get(pk=check.pk)
    return {f.attname: getattr(fresh, f.attname) for f in Check._meta.concrete_fields}


# --- answers and headers -----------------------------------------------------------


def test_ping_answers_ok(client):
    check = CheckFactory()
    response = client.get(f"/ping/{check.code}")
    assert response.status_code == 200
    assert response.content == b"OK"


def test_ping_allows_any_origin(client):
    check = CheckFactory()
    response = client.get(f"/ping/{check.code}")
    assert response["Access-Control-Allow-Origin"] == "*"


def test_ping_announces_body_limit(client):
    check = CheckFactory()
    response = client.get(f"/ping/{check.code}")
    assert response["Ping-Body-Limit"] == "100000"


def test_ping_answer_is_never_cached(client):
    check = CheckFactory()
    response = client.get(f"/ping/{check.code}")
    assert set(response["Cache-Control"].split(", ")) == {
        "max-age=0",
        "no-cache",
        "no-store",
        "must-revalidate",
        "private",
    }
    assert "Expires" in response


def test_ping_cache_headers_are_those_of_add_never_cache_headers(client):
    from django.http import HttpResponse
    from django.utils.cache import add_never_cache_headers

    expected = HttpResponse()
    add_never_cache_headers(expected)
    response = client.get(f"/ping/{CheckFactory().code}")
    assert response["Cache-Control"] == expected["Cache-Control"]


def test_ping_content_type_is_djangos_default(client):
    check = CheckFactory()
    response = client.get(f"/ping/{check.code}")
    assert response["Content-Type"] == "text/html; charset=utf-8"


def test_ping_with_trailing_slash_is_a_success(client):
    check = CheckFactory()
    response = client.get(f"/ping/{check.code}/")
    assert response.status_code == 200
    assert Ping.objects.get(owner=check).kind == PingKind.SUCCESS


@pytest.mark.parametrize("method", ["head", "post", "put", "delete", "options"])
def test_ping_accepts_any_method_and_logs_it(client, method):
    check = CheckFactory()
    response = getattr(client, method)(f"/ping/{check.code}")
    assert response.status_code == 200
    assert Ping.objects.get(owner=check).method == method.upper()


def test_ping_needs_no_csrf_token(client):
    client.handler.enforce_csrf_checks = True
    check = CheckFactory()
    assert client.post(f"/ping/{check.code}", "x", "text/plain").status_code == 200


def test_ping_method_longer_than_column_is_cut(client):
    check = CheckFactory()
    response = client.generic("VERYLONGMETHODNAME", f"/ping/{check.code}")
    assert response.status_code == 200
    assert Ping.objects.get(owner=check).method == "VERYLONGME"


# --- unknown and malformed URLs (spec 9.1) -----------------------------------------


def test_ping_to_unknown_uuid_is_not_found(client):
    response = client.get("/ping/07c2f548-9850-4b27-af5d-6c9dc157ec02")
    assert response.status_code == 404
    assert response.content == b"not found"


def test_not_found_answer_has_no_cors_header(client):
    response = client.get("/ping/07c2f548-9850-4b27-af5d-6c9dc157ec02")
    assert "Access-Control-Allow-Origin" not in response


def test_ping_to_uuid_without_hyphens_is_not_found(client):
    check = CheckFactory()
    response = client.get(f"/ping/{check.code.hex}/")
    assert response.status_code == 404
    assert not Ping.objects.exists()


def test_ping_to_uppercase_uuid_is_not_found(client):
    check = CheckFactory()
    response = client.get(f"/ping/{str(check.code).upper()}")
    assert response.status_code == 404
    assert not Ping.objects.exists()


# --- actions -------------------------------------------------------------------------


def test_ping_marks_new_check_up(client):
    check = CheckFactory()
    client.get(f"/ping/{check.code}")
    check.refresh_from_db()
    assert check.status == Status.UP
    assert check.last_ping is not None


def test_first_ping_records_silent_flip_from_new(client):
    check = CheckFactory()
    client.get(f"/ping/{check.code}")
    flip = Flip.objects.get(owner=check)
    assert (flip.old_status, flip.new_status, flip.reason) == ("new", "up", "")
    assert not flip.notifies


def test_ping_to_up_check_records_no_flip(client):
    check = CheckFactory(status=Status.UP, last_ping=ago(hours=1))
    client.get(f"/ping/{check.code}")
    assert not Flip.objects.exists()


def test_ping_sets_deadline_from_period_and_grace(client):
    check = CheckFactory(timeout=timedelta(hours=2), grace=timedelta(minutes=5))
    client.get(f"/ping/{check.code}")
    check.refresh_from_db()
    assert check.alert_after == check.last_ping + timedelta(hours=2, minutes=5)


def test_ping_numbers_pings_per_check(client):
    check = CheckFactory(n_pings=41)
    client.get(f"/ping/{check.code}")
    check.refresh_from_db()
    assert check.n_pings == 42
    assert Ping.objects.get(owner=check).n == 42


def test_ping_stores_time_of_check_update(client):
    check = CheckFactory()
    client.get(f"/ping/{check.code}")
    check.refresh_from_db()
    assert Ping.objects.get(owner=check).created == check.last_ping


def test_fail_ping_marks_check_down(client):
    check = CheckFactory(status=Status.UP, last_ping=ago(hours=1))
    client.get(f"/ping/{check.code}/fail")
    check.refresh_from_db()
    assert check.status == Status.DOWN
    assert check.alert_after is None


def test_fail_ping_records_flip(client):
    check = CheckFactory(status=Status.UP)
    client.get(f"/ping/{check.code}/fail")
    flip = Flip.objects.get(owner=check)
    assert (flip.old_status, flip.new_status, flip.reason) == ("up", "down", "fail")
    assert flip.processed is None
    assert Ping.objects.get(owner=check).kind == PingKind.FAIL


def test_success_after_fail_records_up_flip(client):
    check = CheckFactory(status=Status.DOWN, last_ping=ago(hours=1))
    client.get(f"/ping/{check.code}")
    flip = Flip.objects.get(owner=check)
    assert (flip.old_status, flip.new_status) == ("down", "up")
    assert flip.notifies


def test_start_ping_sets_last_start_only(client):
    last_ping = ago(hours=1)
    check = CheckFactory(status=Status.UP, last_ping=last_ping)
    client.get(f"/ping/{check.code}/start")
    check.refresh_from_db()
    assert check.last_start is not None
    assert check.last_ping == last_ping
    assert check.status == Status.UP
    assert Ping.objects.get(owner=check).kind == PingKind.START


def test_start_ping_makes_new_check_due_after_grace(client):
    check = CheckFactory(grace=timedelta(minutes=10))
    client.get(f"/ping/{check.code}/start")
    check.refresh_from_db()
    assert check.status == Status.NEW
    assert check.alert_after == check.last_start + timedelta(minutes=10)


def test_log_ping_changes_no_status(client):
    last_ping = ago(hours=1)
    check = CheckFactory(status=Status.UP, last_ping=last_ping, last_start=ago(hours=2))
    client.get(f"/ping/{check.code}/log")
    check.refresh_from_db()
    assert (check.status, check.last_ping, check.n_pings) == (Status.UP, last_ping, 1)
    assert check.last_start is not None
    assert Ping.objects.get(owner=check).kind == PingKind.LOG


# --- exit status (spec 9.5) ----------------------------------------------------------


def test_exit_status_zero_marks_check_up(client):
    check = CheckFactory(status=Status.DOWN)
    response = client.get(f"/ping/{check.code}/0")
    assert response.status_code == 200
    check.refresh_from_db()
    assert check.status == Status.UP
    assert Ping.objects.get(owner=check).exitstatus == 0


@pytest.mark.parametrize("exitstatus", [1, 255])
def test_nonzero_exit_status_marks_check_down(client, exitstatus):
    check = CheckFactory(status=Status.UP)
    client.get(f"/ping/{check.code}/{exitstatus}")
    check.refresh_from_db()
    assert check.status == Status.DOWN
    ping = Ping.objects.get(owner=check)
    assert (ping.kind, ping.exitstatus) == (PingKind.FAIL, exitstatus)


def test_exit_status_above_255_is_bad_request(client):
    check = CheckFactory(status=Status.UP)
    before = snapshot(check)
    response = client.get(f"/ping/{check.code}/256")
    assert response.status_code == 400
    assert response.content == b"invalid url format"
    assert not Ping.objects.exists()
    assert snapshot(check) == before


def test_exit_status_above_255_to_unknown_check_is_not_found(client):
    response = client.get(f"/ping/{uuid.uuid4()}/256")
    assert response.status_code == 404
    assert response.content == b"not found"


def test_huge_exit_status_is_bad_request(client):
    check = CheckFactory()
    response = client.get(f"/ping/{check.code}/99999999999999999999999")
    assert response.status_code == 400
    assert not Ping.objects.exists()


# --- run ids and durations (spec 2.3, 9.2) --------------------------------------------


def test_success_with_matching_rid_records_duration(client):
    start = ago(minutes=5)
    check = CheckFactory(status=Status.UP, last_start=start, last_start_rid=RID)
    client.get(f"/ping/{check.code}?rid={RID}")
    check.refresh_from_db()
    assert check.last_start is None
    assert timedelta(minutes=5) <= check.last_duration < timedelta(minutes=6)


def test_success_without_rids_records_duration(client):
    check = CheckFactory(status=Status.UP, last_start=ago(minutes=5))
    client.get(f"/ping/{check.code}")
    check.refresh_from_db()
    assert check.last_start is None
    assert check.last_duration >= timedelta(minutes=5)


def test_success_with_other_rid_keeps_run_going(client):
    start = ago(minutes=5)
    check = CheckFactory(status=Status.UP, last_start=start, last_start_rid=RID)
    client.get(f"/ping/{check.code}?rid={OTHER_RID}")
    check.refresh_from_db()
    assert check.last_start == start
    assert check.last_start_rid == uuid.UUID(RID)
    assert check.last_duration is None


def test_success_without_rid_ends_run_without_duration(client):
    check = CheckFactory(
        status=Status.UP, last_start=ago(minutes=5), last_start_rid=RID
    )
    client.get(f"/ping/{check.code}")
    check.refresh_from_db()
    assert check.last_start is None
    assert check.last_duration is None


def test_fail_with_other_rid_ends_run_without_duration(client):
    check = CheckFactory(
        status=Status.UP, last_start=ago(minutes=5), last_start_rid=RID
    )
    client.get(f"/ping/{check.code}/fail?rid={OTHER_RID}")
    check.refresh_from_db()
    assert check.last_start is None
    assert check.last_duration is None


def test_fail_with_matching_rid_records_duration(client):
    check = CheckFactory(
        status=Status.UP, last_start=ago(minutes=5), last_start_rid=RID
    )
    client.get(f"/ping/{check.code}/fail?rid={RID}")
    check.refresh_from_db()
    assert check.last_duration >= timedelta(minutes=5)


def test_success_clears_previous_duration(client):
    check = CheckFactory(status=Status.UP, last_duration=timedelta(seconds=30))
    client.get(f"/ping/{check.code}")
    check.refresh_from_db()
    assert check.last_duration is None


def test_start_with_rid_stores_it(client):
    check = CheckFactory()
    client.get(f"/ping/{check.code}/start?rid={RID}")
    check.refresh_from_db()
    assert check.last_start_rid == uuid.UUID(RID)
    assert Ping.objects.get(owner=check).rid == uuid.UUID(RID)


def test_uppercase_rid_is_accepted(client):
    check = CheckFactory()
    response = client.get(f"/ping/{check.code}/start?rid={RID.upper()}")
    assert response.status_code == 200
    assert Ping.objects.get(owner=check).rid == uuid.UUID(RID)


@pytest.mark.parametrize("rid", ["", "not-a-uuid", RID.replace("-", ""), RID + "0"])
def test_invalid_rid_is_bad_request(client, rid):
    check = CheckFactory(status=Status.UP)
    before = snapshot(check)
    response = client.get(f"/ping/{check.code}", {"rid": rid})
    assert response.status_code == 400
    assert response.content == b"invalid uuid format"
    assert not Ping.objects.exists()
    assert snapshot(check) == before


def test_invalid_rid_to_unknown_check_is_not_found(client):
    response = client.get(f"/ping/{uuid.uuid4()}?rid=nope")
    assert response.status_code == 404


# --- methods=POST (spec 9.3) ---------------------------------------------------------


def test_get_to_post_only_check_is_ignored(client):
    check = CheckFactory(methods="POST")
    response = client.get(f"/ping/{check.code}")
    assert response.content == b"OK"
    check.refresh_from_db()
    assert (check.status, check.last_ping) == (Status.NEW, None)
    assert Ping.objects.get(owner=check).kind == PingKind.IGNORED


def test_post_to_post_only_check_is_a_success(client):
    check = CheckFactory(methods="POST")
    client.post(f"/ping/{check.code}")
    check.refresh_from_db()
    assert check.status == Status.UP


def test_post_only_takes_precedence_over_default_fail(client):
    check = CheckFactory(
        methods="POST", filter_http_body=True, filter_default_fail=True
    )
    client.get(f"/ping/{check.code}")
    check.refresh_from_db()
    assert check.status == Status.NEW
    assert Ping.objects.get(owner=check).kind == PingKind.IGNORED


# --- paused and manual_resume (spec 3.6, 9.4) -----------------------------------------


def test_ping_to_manual_resume_check_is_ignored(client):
    check = CheckFactory(status=Status.PAUSED, manual_resume=True)
    client.get(f"/ping/{check.code}")
    check.refresh_from_db()
    assert check.status == Status.PAUSED
    assert Ping.objects.get(owner=check).kind == PingKind.IGNORED


def test_manual_resume_beats_success_keyword(client):
    check = CheckFactory(
        status=Status.PAUSED,
        manual_resume=True,
        filter_http_body=True,
        success_kw="SUCCESS",
    )
    client.post(f"/ping/{check.code}", "SUCCESS", content_type="text/plain")
    check.refresh_from_db()
    assert check.status == Status.PAUSED
    assert Ping.objects.get(owner=check).kind == PingKind.IGNORED


def test_fail_to_manual_resume_check_is_ignored(client):
    check = CheckFactory(status=Status.PAUSED, manual_resume=True)
    client.get(f"/ping/{check.code}/fail")
    check.refresh_from_db()
    assert check.status == Status.PAUSED
    assert not Flip.objects.exists()


def test_success_unpauses_check_without_manual_resume(client):
    check = CheckFactory(status=Status.PAUSED)
    client.get(f"/ping/{check.code}")
    check.refresh_from_db()
    assert check.status == Status.UP
    flip = Flip.objects.get(owner=check)
    assert (flip.old_status, flip.new_status) == ("paused", "up")
    assert not flip.notifies


def test_start_on_paused_check_keeps_it_paused_with_deadline(client):
    check = CheckFactory(status=Status.PAUSED, grace=timedelta(minutes=3))
    client.get(f"/ping/{check.code}/start")
    check.refresh_from_db()
    assert check.status == Status.PAUSED
    assert check.last_start is not None
    assert check.alert_after == check.last_start + timedelta(minutes=3)


# --- bodies (spec 9.6) ---------------------------------------------------------------


def test_post_body_is_stored(client):
    check = CheckFactory()
    client.post(f"/ping/{check.code}", b"hello world", content_type="text/plain")
    assert bytes(Ping.objects.get(owner=check).body) == b"hello world"


def test_get_without_body_stores_none(client):
    check = CheckFactory()
    client.get(f"/ping/{check.code}")
    assert Ping.objects.get(owner=check).body is None


def test_body_is_cut_at_limit(client, settings):
    settings.PING_BODY_LIMIT = 5
    check = CheckFactory()
    response = client.post(f"/ping/{check.code}", b"hello world", "text/plain")
    assert response["Ping-Body-Limit"] == "5"
    assert bytes(Ping.objects.get(owner=check).body) == b"hello"


def test_unlimited_body_is_kept_whole_without_header(client, settings):
    settings.PING_BODY_LIMIT = None
    check = CheckFactory()
    response = client.post(f"/ping/{check.code}", b"x" * 20000, "text/plain")
    assert "Ping-Body-Limit" not in response
    assert len(Ping.objects.get(owner=check).body) == 20000


def test_body_beyond_upload_limit_is_cut_not_refused(client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    check = CheckFactory()
    body = b"0123456789" * 500_000  # 5 MB
    response = client.post(f"/ping/{check.code}", body, "application/octet-stream")
    assert response.status_code == 200
    assert bytes(Ping.objects.get(owner=check).body) == body[:100_000]


def test_large_form_encoded_body_is_cut_not_refused(client):
    check = CheckFactory()
    body = "a=" + "b" * 3_000_000
    response = client.post(
        f"/ping/{check.code}", body, "application/x-www-form-urlencoded"
    )
    assert response.status_code == 200
    assert len(Ping.objects.get(owner=check).body) == 100_000


def test_invalid_utf8_body_is_stored_verbatim(client):
    check = CheckFactory()
    client.post(f"/ping/{check.code}", b"Hello \xe9 World", "text/plain")
    assert bytes(Ping.objects.get(owner=check).body) == b"Hello \xe9 World"


def test_body_mentioning_confirm_flags_confirmation_link(client):
    check = CheckFactory()
    client.post(f"/ping/{check.code}", b"Please CONFIRM your address", "text/plain")
    check.refresh_from_db()
    assert check.has_confirmation_link


def test_body_without_confirm_clears_confirmation_link(client):
    check = CheckFactory(has_confirmation_link=True)
    client.post(f"/ping/{check.code}", b"all good", "text/plain")
    check.refresh_from_db()
    assert not check.has_confirmation_link


# --- keyword filters (spec 2.6) ------------------------------------------------------


def keyword_check(**kwargs):
    fields = {
        "filter_http_body": True,
        "start_kw": "STARTING",
        "success_kw": "SUCCESS, ALL OK",
        "failure_kw": "ERROR,FAILED",
    }
    return CheckFactory(**(fields | kwargs))


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        (b"job: SUCCESS", PingKind.SUCCESS),
        (b"job: ALL OK", PingKind.SUCCESS),
        (b"job FAILED", PingKind.FAIL),
        (b"STARTING job", PingKind.START),
        (b"nothing to see", PingKind.IGNORED),
        (b"success", PingKind.IGNORED),  # case-sensitive
    ],
)
def test_http_body_keywords_classify_ping(client, body, kind):
    check = keyword_check()
    client.post(f"/ping/{check.code}", body, "text/plain")
    assert Ping.objects.get(owner=check).kind == kind


def test_failure_keyword_beats_success_keyword(client):
    check = keyword_check()
    client.post(f"/ping/{check.code}", b"SUCCESS except ERROR", "text/plain")
    assert Ping.objects.get(owner=check).kind == PingKind.FAIL


def test_keywords_override_url_action(client):
    check = keyword_check()
    client.post(f"/ping/{check.code}/fail", b"SUCCESS", "text/plain")
    assert Ping.objects.get(owner=check).kind == PingKind.SUCCESS


def test_no_keyword_match_fails_with_default_fail(client):
    check = keyword_check(filter_default_fail=True)
    client.post(f"/ping/{check.code}", b"nothing to see", "text/plain")
    check.refresh_from_db()
    assert check.status == Status.DOWN


def test_empty_get_fails_with_default_fail(client):
    check = keyword_check(filter_default_fail=True)
    client.get(f"/ping/{check.code}")
    assert Ping.objects.get(owner=check).kind == PingKind.FAIL


def test_ignored_ping_leaves_check_new(client):
    check = keyword_check()
    client.post(f"/ping/{check.code}", b"nothing to see", "text/plain")
    check.refresh_from_db()
    assert (check.status, check.last_ping, check.n_pings) == (Status.NEW, None, 1)


def test_keywords_without_filter_do_nothing(client):
    check = keyword_check(filter_http_body=False)
    client.post(f"/ping/{check.code}", b"job FAILED", "text/plain")
    assert Ping.objects.get(owner=check).kind == PingKind.SUCCESS


def test_invalid_utf8_body_with_keyword_filter_is_classified(client):
    check = keyword_check()
    response = client.post(f"/ping/{check.code}", b"\xff\xfe FAILED \xe9", "text/plain")
    assert response.status_code == 200
    ping = Ping.objects.get(owner=check)
    assert ping.kind == PingKind.FAIL
    assert bytes(ping.body) == b"\xff\xfe FAILED \xe9"


def test_email_filters_do_not_apply_to_http_pings(client):
    check = CheckFactory(filter_subject=True, filter_body=True, failure_kw="FAILED")
    client.post(f"/ping/{check.code}", b"FAILED", "text/plain")
    assert Ping.objects.get(owner=check).kind == PingKind.SUCCESS


# --- client details ------------------------------------------------------------------


def test_remote_addr_is_the_peer_by_default(client):
    check = CheckFactory()
    client.get(
        f"/ping/{check.code}", REMOTE_ADDR="10.0.0.7", HTTP_X_FORWARDED_FOR="1.2.3.4"
    )
    assert Ping.objects.get(owner=check).remote_addr == "10.0.0.7"


def test_forwarded_for_is_used_when_trusted(client, settings):
    settings.TRUST_X_FORWARDED_FOR = True
    check = CheckFactory()
    client.get(f"/ping/{check.code}", HTTP_X_FORWARDED_FOR="1.2.3.4, 10.0.0.1")
    assert Ping.objects.get(owner=check).remote_addr == "1.2.3.4"


def test_forwarded_for_with_port_is_stripped(client, settings):
    settings.TRUST_X_FORWARDED_FOR = True
    check = CheckFactory()
    client.get(f"/ping/{check.code}", HTTP_X_FORWARDED_FOR="1.2.3.4:5678")
    assert Ping.objects.get(owner=check).remote_addr == "1.2.3.4"


def test_forwarded_for_that_is_no_address_is_not_stored(client, settings):
    settings.TRUST_X_FORWARDED_FOR = True
    check = CheckFactory()
    response = client.get(f"/ping/{check.code}", HTTP_X_FORWARDED_FOR="evil; drop")
    assert response.status_code == 200
    assert Ping.objects.get(owner=check).remote_addr is None


def test_forwarded_proto_sets_scheme_when_trusted(client, settings):
    settings.TRUST_X_FORWARDED_FOR = True
    check = CheckFactory()
    client.get(f"/ping/{check.code}", HTTP_X_FORWARDED_PROTO="https")
    assert Ping.objects.get(owner=check).scheme == "https"


def test_user_agent_is_cut_to_200_characters(client):
    check = CheckFactory()
    client.get(f"/ping/{check.code}", HTTP_USER_AGENT="curl/" + "x" * 300)
    assert len(Ping.objects.get(owner=check).ua) == 200


# --- one transaction, pinned query counts ---------------------------------------------
# In these tests the ping's transaction is a savepoint inside the test's transaction,
# so each count includes SAVEPOINT and RELEASE SAVEPOINT. On PostgreSQL the writes
# (UPDATE check, INSERT flip, INSERT ping) go as one statement string; on SQLite each is
# its own query. The production transaction on PostgreSQL is pinned further below.


def budget(*, sqlite: int, postgresql: int) -> int:
    return postgresql if connection.vendor == "postgresql" else sqlite


def test_failed_write_leaves_check_unchanged(client):
    check = CheckFactory()
    # Occupy the number the next ping would get: its INSERT fails after the UPDATE.
    Ping.objects.create(owner=check, n=1, created=timezone.now())
    with pytest.raises(IntegrityError):
        client.get(f"/ping/{check.code}")
    check.refresh_from_db()
    assert (check.status, check.n_pings, check.last_ping) == (Status.NEW, 0, None)
    assert not Flip.objects.exists()


def test_success_to_up_check_stays_in_query_budget(client, django_assert_num_queries):
    check = CheckFactory(status=Status.UP, last_ping=ago(hours=1))
    # SAVEPOINT, SELECT ... FOR UPDATE, UPDATE check, INSERT ping, RELEASE SAVEPOINT
    with django_assert_num_queries(budget(sqlite=5, postgresql=4)):
        client.get(f"/ping/{check.code}")


def test_first_ping_stays_in_query_budget(client, django_assert_num_queries):
    check = CheckFactory()
    # SAVEPOINT, SELECT, UPDATE check, INSERT flip, INSERT ping, RELEASE SAVEPOINT
    with django_assert_num_queries(budget(sqlite=6, postgresql=4)):
        client.get(f"/ping/{check.code}")


def test_start_stays_in_query_budget(client, django_assert_num_queries):
    check = CheckFactory(status=Status.UP, last_ping=ago(hours=1))
    with django_assert_num_queries(budget(sqlite=5, postgresql=4)):
        client.get(f"/ping/{check.code}/start?rid={RID}")


def test_fail_with_flip_stays_in_query_budget(client, django_assert_num_queries):
    check = CheckFactory(status=Status.UP, last_ping=ago(hours=1))
    with django_assert_num_queries(budget(sqlite=6, postgresql=4)):
        client.get(f"/ping/{check.code}/fail")


def test_log_stays_in_query_budget(client, django_assert_num_queries):
    check = CheckFactory(status=Status.UP, last_ping=ago(hours=1))
    with django_assert_num_queries(budget(sqlite=5, postgresql=4)):
        client.post(f"/ping/{check.code}/log", b"some output", "text/plain")


def test_hundredth_ping_prunes_within_the_query_budget(
    client, django_assert_num_queries
):
    check = CheckFactory(status=Status.UP, last_ping=ago(hours=1), n_pings=99)
    # SAVEPOINT, SELECT, UPDATE check, INSERT ping, DELETE pings, RELEASE SAVEPOINT;
    # on PostgreSQL the DELETE goes in the writes' statement string.
    with django_assert_num_queries(budget(sqlite=6, postgresql=4)):
        client.get(f"/ping/{check.code}")


def test_exit_status_stays_in_query_budget(client, django_assert_num_queries):
    check = CheckFactory(status=Status.UP, last_ping=ago(hours=1))
    with django_assert_num_queries(budget(sqlite=5, postgresql=4)):
        client.get(f"/ping/{check.code}/0")


def test_unknown_uuid_costs_one_query(client, django_assert_num_queries):
    # SAVEPOINT, SELECT, RELEASE SAVEPOINT: nothing written.
    with django_assert_num_queries(3):
        client.get(f"/ping/{uuid.uuid4()}")


def test_bad_input_costs_one_read(client, django_assert_num_queries):
    check = CheckFactory()
    with django_assert_num_queries(1):
        client.get(f"/ping/{check.code}?rid=bad")


# --- the production transaction on PostgreSQL: two round trips ------------------------
# Outside any caller's transaction a ping sends `BEGIN; SELECT ... FOR UPDATE`, then
# `UPDATE ...; [INSERT flip;] INSERT ping; COMMIT` as one string.


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_ping_is_two_round_trips(client, django_assert_num_queries):
    check = CheckFactory(status=Status.UP, last_ping=ago(hours=1))
    with django_assert_num_queries(2) as queries:
        assert client.get(f"/ping/{check.code}").status_code == 200
    assert queries.captured_queries[0]["sql"].startswith("BEGIN; SELECT")
    assert queries.captured_queries[1]["sql"].endswith("; COMMIT")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_ping_with_a_flip_is_two_round_trips(client, django_assert_num_queries):
    check = CheckFactory()
    with django_assert_num_queries(2):
        client.get(f"/ping/{check.code}")
    flip = Flip.objects.get(owner=check)
    assert (flip.old_status, flip.new_status) == (Status.NEW, Status.UP)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_round_trip_ping_stores_the_check_and_the_ping(client):
    check = CheckFactory(status=Status.UP, last_ping=ago(hours=1), n_pings=4)
    client.post(f"/ping/{check.code}/7?rid={RID}", b"output", "text/plain")
    check.refresh_from_db()
    ping = Ping.objects.get(owner=check)
    assert (check.n_pings, check.status, ping.n) == (5, Status.DOWN, 5)
    assert (ping.kind, ping.exitstatus, bytes(ping.body)) == (
        PingKind.FAIL,
        7,
        b"output",
    )
    assert str(ping.rid) == RID


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_unknown_uuid_is_rolled_back_in_two_round_trips(
    client, django_assert_num_queries
):
    # BEGIN; SELECT ... FOR UPDATE, then ROLLBACK.
    with django_assert_num_queries(2) as queries:
        assert client.get(f"/ping/{uuid.uuid4()}").status_code == 404
    assert queries.captured_queries[1]["sql"] == "ROLLBACK"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_failed_two_round_trip_write_is_rolled_back(client):
    check = CheckFactory()
    Ping.objects.create(owner=check, n=1, created=timezone.now())
    with pytest.raises(IntegrityError):
        client.get(f"/ping/{check.code}")
    check.refresh_from_db()
    assert (check.status, check.n_pings, check.last_ping) == (Status.NEW, 0, None)
    assert not Flip.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_connection_serves_the_next_ping_after_a_failed_write(client):
    check = CheckFactory()
    Ping.objects.create(owner=check, n=1, created=timezone.now())
    with pytest.raises(IntegrityError):
        client.get(f"/ping/{check.code}")
    Ping.objects.filter(owner=check).delete()
    assert client.get(f"/ping/{check.code}").status_code == 200
    assert Check.objects.get(pk=check.pk).n_pings == 1


def terminate_backend(pid: int) -> None:
    """Have the server drop one connection, as a restart or an idle timeout would."""
    from django.db import connections

    def run() -> None:
        try:
            with connections["default"].cursor() as cursor:
                cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
        finally:
            connections["default"].close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_ping_on_a_connection_the_server_dropped_is_stored(client):
    check = CheckFactory()
    connection.ensure_connection()
    terminate_backend(connection.connection.get_backend_pid())
    assert client.get(f"/ping/{check.code}").status_code == 200
    assert Check.objects.get(pk=check.pk).n_pings == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_ping_skips_the_connection_health_check(client, monkeypatch):
    check = CheckFactory()
    connection.ensure_connection()
    connection.health_check_done = False
    checked = []
    is_usable = connection.is_usable
    monkeypatch.setattr(
        connection, "is_usable", lambda: checked.append(1) or is_usable()
    )
    client.get(f"/ping/{check.code}")
    assert checked == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_hundredth_ping_prunes_the_log_in_its_transaction(client, settings):
    settings.PING_LOG_LIMIT = 2
    check = CheckFactory(n_pings=99)
    for n in (98, 99):
        Ping.objects.create(owner=check, n=n, created=ago(minutes=100 - n))
    client.get(f"/ping/{check.code}")
    assert sorted(Ping.objects.values_list("n", flat=True)) == [99, 100]


# --- concurrency (real PostgreSQL: row locks) -----------------------------------------


def ping_concurrently(urls: list[str]) -> list[int]:
    """GET each URL from its own thread and database connection; the status codes."""
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection
    from django.test import Client

    barrier = threading.Barrier(len(urls))

    def one(url: str) -> int:
        try:
            barrier.wait(timeout=30)
            return Client().get(url).status_code
        finally:
            connection.close()

    with ThreadPoolExecutor(len(urls)) as pool:
        return list(pool.map(one, urls))


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_pings_are_numbered_without_gaps():
    check = CheckFactory()
    codes = ping_concurrently([f"/ping/{check.code}"] * 12)
    assert codes == [200] * 12
    check.refresh_from_db()
    assert check.n_pings == 12
    assert sorted(Ping.objects.values_list("n", flat=True)) == list(range(1, 13))
    assert Flip.objects.filter(owner=check).count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_first_pings_create_one_check():
    from tests.factories import ProjectFactory

    project = ProjectFactory()
    codes = ping_concurrently([f"/ping/{project.ping_key}/new-job?create=1"] * 8)
    assert sorted(codes) == [200] * 7 + [201]
    check = Check.objects.get(project=project)
    assert check.n_pings == 8
