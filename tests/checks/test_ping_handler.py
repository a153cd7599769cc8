"""The ping URLs' own WSGI handler answers exactly as Django's full handler does."""

import logging
import uuid

import pytest
from django.core.signals import request_finished, request_started
from django.db import connection
from django.test import RequestFactory
from django.urls import Resolver404, resolve
from django.utils import timezone
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from checks import ping
from checks.models import Check, Ping, Status
from checks.ping_handler import PingHandler, match_ping_url
from hcserver.wsgi import application, django_application
from tests.factories import CheckFactory

RID = "8d6b3c9e-0f5f-4b8e-9c1d-2a7f3e4b5c6d"
CODE = "2f1b7c3e-9a4d-4e6f-8b0a-1c2d3e4f5a6b"
# Answers carry the time they were made.
TIMED = {"Expires", "Date"}


def call(app, method: str, path: str, body: bytes = b"", **meta):
    """Send one request through a WSGI application: status, headers, body."""
    environ = (
        RequestFactory()
        .generic(method, path, body, content_type="text/plain", **meta)
        .environ
    )
    answer = {}

    def start_response(status, headers, exc_info=None):
        answer.update(status=status, headers=headers)

    result = app(environ, start_response)
    try:
        content = b"".join(result)
    finally:
        if hasattr(result, "close"):  # WSGI: close the iterable if it can be
            result.close()
    headers = sorted((k, v) for k, v in answer["headers"] if k not in TIMED)
    return answer["status"], headers, content


# --- routing ---------------------------------------------------------------------

PATHS = [
    f"/ping/{CODE}",
    f"/ping/{CODE}/",
    f"/ping/{CODE}/start",
    f"/ping/{CODE}/fail",
    f"/ping/{CODE}/log",
    f"/ping/{CODE}/0",
    f"/ping/{CODE}/256",
    f"/ping/{CODE}/start/",
    f"/ping/{CODE}/other",
    f"/ping/{CODE.upper()}",
    "/ping/key_1/backup-db",
    "/ping/key_1/backup-db/start",
    "/ping/key_1/backup-db/7",
    "/ping/key_1/backup-db/",
    "/ping/key_1/Backup",
    "/ping/",
    "/ping/a/b/c/d",
    "/pings/key/slug",
    "/api/v3/checks/",
]


def django_match(path: str):
    """The ping view and arguments Django's resolver picks, or None."""
    try:
        found = resolve(path)
    except Resolver404:
        return None
    if found.func.__module__ != ping.__name__:
        return None
    return found.func, found.kwargs


def handler_match(path: str):
    found = match_ping_url(path)
    return None if found is None else (found.func, found.kwargs)


@pytest.mark.parametrize("path", PATHS)
def test_ping_routes_are_resolved_as_by_django(path):
    assert handler_match(path) == django_match(path)


SEGMENTS = st.sampled_from(
    [CODE, CODE.upper(), "start", "fail", "log", "0", "255", "999", "key", "a-b_c", ""]
)


@hypothesis_settings(max_examples=300, deadline=None)
@given(st.lists(SEGMENTS, min_size=0, max_size=4))
def test_any_path_under_ping_is_resolved_as_by_django(segments):
    path = "/ping/" + "/".join(segments)
    assert handler_match(path) == django_match(path)


# --- the same answers as Django's handler ------------------------------------------

# The handlers send request_started/finished, which close a connection that is inside
# a test's transaction: these tests commit for real.
db = pytest.mark.django_db(transaction=True)


def twin_checks(**fields) -> tuple[Check, Check]:
    """Two checks alike in every stored field that a ping reads."""
    return CheckFactory(**fields), CheckFactory(**fields)


REQUESTS = [
    ("GET", "/ping/{code}", b"", {}),
    ("HEAD", "/ping/{code}", b"", {}),
    ("POST", "/ping/{code}", b"x" * 10_000, {}),
    ("OPTIONS", "/ping/{code}", b"", {}),
    ("GET", "/ping/{code}/", b"", {}),
    ("GET", f"/ping/{{code}}/start?rid={RID}", b"", {}),
    ("GET", "/ping/{code}/fail", b"", {}),
    ("GET", "/ping/{code}/1", b"", {}),
    ("POST", "/ping/{code}/log", b"some output", {}),
    ("GET", "/ping/{code}/256", b"", {}),
    ("GET", "/ping/{code}?rid=bad", b"", {}),
    ("GET", f"/ping/{uuid.uuid4()}", b"", {}),
    ("GET", "/ping/{key}/{slug}", b"", {}),
    ("GET", "/ping/{key}/{slug}/fail", b"", {}),
    ("GET", "/ping/{key}/new-job", b"", {}),
    ("GET", "/ping/{key}/{slug}", b"", {"HTTP_HOST": "evil.example"}),
    ("GET", "/ping/{code}", b"", {"HTTP_USER_AGENT": "curl/8.5.0"}),
]


@db
@pytest.mark.parametrize(("method", "path", "body", "meta"), REQUESTS)
def test_ping_answers_match_djangos(method, path, body, meta):
    ours, theirs = twin_checks(status=Status.UP, last_ping=timezone.now())
    ours.slug = theirs.slug = "backup"
    ours.save()
    theirs.save()

    def url(check):
        return path.format(code=check.code, key=check.project.ping_key, slug="backup")

    expected = call(django_application, method, url(theirs), body, **meta)
    got = call(application, method, url(ours), body, **meta)
    assert got == expected


@db
def test_create_on_first_ping_answers_as_djangos():
    ours, theirs = twin_checks()
    expected = call(
        django_application, "GET", f"/ping/{theirs.project.ping_key}/a?create=1"
    )
    got = call(application, "GET", f"/ping/{ours.project.ping_key}/a?create=1")
    assert got == expected
    assert got[0] == "201 Created"


@db
def test_ping_through_the_handler_is_stored():
    check = CheckFactory()
    call(
        application, "POST", f"/ping/{check.code}/log", b"output", HTTP_USER_AGENT="job"
    )
    stored = Ping.objects.get(owner=check)
    assert (stored.kind, stored.method, stored.ua) == ("log", "POST", "job")
    assert bytes(stored.body) == b"output"


@db
def test_server_error_answers_as_djangos():
    ours, theirs = twin_checks()
    for check in (ours, theirs):
        # Occupy the number the next ping would get: its INSERT fails.
        Ping.objects.create(owner=check, n=1, created=timezone.now())
    expected = call(django_application, "GET", f"/ping/{theirs.code}")
    got = call(application, "GET", f"/ping/{ours.code}")
    assert got == expected
    assert got[0].startswith("500")


@db
def test_server_error_is_logged():
    check = CheckFactory()
    Ping.objects.create(owner=check, n=1, created=timezone.now())
    logger = logging.getLogger("django.request")
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    logger.addHandler(handler)
    try:
        call(application, "GET", f"/ping/{check.code}")
    finally:
        logger.removeHandler(handler)
    assert any(r.levelno == logging.ERROR for r in records)


@db
def test_other_paths_go_to_djangos_handler():
    expected = call(django_application, "GET", "/api/v3/checks/")
    assert call(application, "GET", "/api/v3/checks/") == expected
    assert expected[0] == "401 Unauthorized"


def signals_sent(app, path: str) -> list[str]:
    sent = []

    def started(**kwargs):
        sent.append("started")

    def finished(**kwargs):
        sent.append("finished")

    request_started.connect(started)
    request_finished.connect(finished)
    try:
        call(app, "GET", path)
    finally:
        request_started.disconnect(started)
        request_finished.disconnect(finished)
    return sent


@db
def test_ping_on_the_django_road_sends_the_request_signals_once(settings):
    settings.PING_GROUP_COMMIT = False
    check = CheckFactory()
    assert signals_sent(application, f"/ping/{check.code}") == ["started", "finished"]


@db
@pytest.mark.postgres
def test_ping_recorded_together_sends_no_request_signals():
    # What their receivers do for a request (drop an old or broken database
    # connection) services.ping_many does itself.
    check = CheckFactory()
    assert signals_sent(application, f"/ping/{check.code}") == []


@db
def test_ping_handler_runs_middleware_it_does_not_know(settings):
    # Request logging is off by default; when on, pings are logged like any request.
    settings.MIDDLEWARE = ["hcserver.logs.RequestLogMiddleware", *settings.MIDDLEWARE]
    handler = PingHandler(fallback=django_application)
    check = CheckFactory()
    records = []
    log_handler = logging.Handler()
    log_handler.emit = records.append
    logger = logging.getLogger("hcserver.requests")
    logger.addHandler(log_handler)
    try:
        call(handler, "GET", f"/ping/{check.code}")
    finally:
        logger.removeHandler(log_handler)
    assert [r.status for r in records] == [200]


@db
@pytest.mark.postgres
def test_ping_through_the_handler_is_two_round_trips(django_assert_num_queries):
    check = CheckFactory(status=Status.UP, last_ping=timezone.now())
    connection.ensure_connection()
    with django_assert_num_queries(2):
        call(application, "GET", f"/ping/{check.code}")
