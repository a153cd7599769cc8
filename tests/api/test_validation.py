"""Request bodies: strict types, limits, and upstream's exact error messages."""

from __future__ import annotations

import pytest

from checks.models import Check
from tests.factories import CheckFactory

pytestmark = pytest.mark.django_db

ERRORS = [
    # (body, message after "json validation error: ")
    ({"name": "x" * 101}, "name is too long"),
    ({"name": 5}, "name is not a string"),
    ({"slug": "Has Caps"}, "slug does not match pattern"),
    ({"slug": "x" * 101}, "slug is too long"),
    ({"tags": ["a"]}, "tags is not a string"),
    ({"tags": "t" * 501}, "tags is too long"),
    ({"desc": False}, "desc is not a string"),
    ({"timeout": 59}, "timeout is too small"),
    ({"timeout": 0}, "timeout is too small"),
    ({"timeout": 31536001}, "timeout is too large"),
    ({"timeout": "oops"}, "timeout is not a number"),
    ({"timeout": "60"}, "timeout is not a number"),
    ({"timeout": 60.5}, "timeout is not a number"),
    ({"timeout": True}, "timeout is not a number"),
    ({"grace": 59}, "grace is too small"),
    ({"grace": 31536001}, "grace is too large"),
    ({"grace": "1h"}, "grace is not a number"),
    (
        {"schedule": "* * * * * *"},
        "schedule is not a valid cron or OnCalendar expression",
    ),
    (
        {"schedule": "0 0 31 2 *"},
        "schedule is not a valid cron or OnCalendar expression",
    ),
    (
        {"schedule": "not a schedule"},
        "schedule is not a valid cron or OnCalendar expression",
    ),
    ({"schedule": "* " * 60}, "schedule is too long"),
    ({"schedule": 5}, "schedule is not a string"),
    ({"tz": "Mars/Olympus"}, "tz is not a valid timezone"),
    ({"tz": 1}, "tz is not a string"),
    ({"manual_resume": 1}, "manual_resume is not a boolean"),
    ({"manual_resume": "true"}, "manual_resume is not a boolean"),
    ({"filter_subject": 0}, "filter_subject is not a boolean"),
    ({"filter_body": "yes"}, "filter_body is not a boolean"),
    ({"filter_http_body": []}, "filter_http_body is not a boolean"),
    ({"filter_default_fail": {}}, "filter_default_fail is not a boolean"),
    ({"methods": "GET"}, "methods has unexpected value"),
    ({"methods": 1}, "methods has unexpected value"),
    ({"start_kw": "k" * 201}, "start_kw is too long"),
    ({"success_kw": "k" * 201}, "success_kw is too long"),
    ({"failure_kw": "k" * 201}, "failure_kw is too long"),
    ({"subject": "k" * 201}, "subject is too long"),
    ({"subject_fail": "k" * 201}, "subject_fail is too long"),
    ({"channels": ["a"]}, "channels is not a string"),
    ({"unique": "name"}, "unique is not an array"),
    ({"unique": ["status"]}, "an item in 'unique' has unexpected value"),
    ({"unique": [1]}, "an item in 'unique' has unexpected value"),
    ({"reminder_interval": 30}, "reminder_interval is too small"),
    ({"reminder_interval": 31536001}, "reminder_interval is too large"),
    ({"reminder_interval": "3600"}, "reminder_interval is not a number"),
    ({"reminder_interval": False}, "reminder_interval is not a number"),
    ({"reminder_interval": 0.0}, "reminder_interval is not a number"),
    ({"name": "nul\x00"}, "name contains characters that cannot be stored"),
    ({"desc": "\ud800"}, "desc contains characters that cannot be stored"),
]

NULLS = [
    ("channels", "is not a string"),
    ("timeout", "is not a number"),
    ("grace", "is not a number"),
    ("name", "is not a string"),
    ("schedule", "is not a string"),
    ("subject", "is not a string"),
    ("subject_fail", "is not a string"),
    ("unique", "is not an array"),
    ("manual_resume", "is not a boolean"),
    ("methods", "has unexpected value"),
    ("tz", "is not a string"),
]


@pytest.mark.parametrize(("body", "message"), ERRORS, ids=[e[1] for e in ERRORS])
def test_create_rejects_bad_field_with_upstreams_message(api, body, message):
    response = api.post("checks/", body)
    assert response.status_code == 400
    assert response.json() == {"error": f"json validation error: {message}"}


@pytest.mark.parametrize(("body", "message"), ERRORS, ids=[e[1] for e in ERRORS])
def test_update_rejects_bad_field_with_upstreams_message(api, project, body, message):
    check = CheckFactory(project=project)
    response = api.post(f"checks/{check.code}", body)
    assert response.status_code == 400
    assert response.json() == {"error": f"json validation error: {message}"}


@pytest.mark.parametrize(("field", "message"), NULLS, ids=[n[0] for n in NULLS])
def test_null_is_rejected_with_the_fields_type_message(api, field, message):
    response = api.post("checks/", {field: None})
    assert response.json() == {"error": f"json validation error: {field} {message}"}


def test_rejected_create_creates_nothing(api):
    api.post("checks/", {"name": "ok", "timeout": 1})
    assert not Check.objects.exists()


def test_rejected_update_changes_nothing(api, project):
    check = CheckFactory(project=project, name="before")
    api.post(f"checks/{check.code}", {"name": "after", "grace": "bad"})
    check.refresh_from_db()
    assert check.name == "before"


def test_only_the_first_error_is_reported(api):
    response = api.post("checks/", {"timeout": 1, "grace": 1, "name": 5})
    assert response.json() == {"error": "json validation error: grace is too small"}


def test_unknown_keys_are_ignored(api):
    response = api.post("checks/", {"name": "x", "colour": "blue"})
    assert response.status_code == 201


def test_unparsable_body_is_400(api):
    response = api.post("checks/", raw="{not json")
    assert response.json() == {"error": "could not parse request body"}


def test_invalid_utf8_body_is_400(api):
    response = api.post("checks/", raw=b'{"name": "\xe9"}')
    assert response.json() == {"error": "could not parse request body"}


def test_deeply_nested_body_is_400_not_500(api):
    response = api.post("checks/", raw="[" * 100_000)
    assert response.status_code == 400


@pytest.mark.parametrize("raw", ["[1, 2, 3]", '"text"', "5", "null"])
def test_non_object_body_is_400(api, raw):
    response = api.post("checks/", raw=raw)
    assert response.json() == {"error": "json validation error: value is not an object"}


def test_form_content_type_is_still_read_as_json(api):
    response = api.post(
        "checks/",
        raw='{"name": "from curl -d"}',
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 201
    assert response.json()["name"] == "from curl -d"


def test_missing_content_type_is_still_read_as_json(api):
    response = api.post("checks/", raw='{"name": "bare"}', content_type="")
    assert response.status_code == 201


def test_accept_header_is_ignored(api):
    response = api.get("checks/", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
