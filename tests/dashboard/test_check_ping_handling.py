"""The check page's "Ping handling" form: filtering rules, manual resume, reminders."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from checks.models import Status
from tests.factories import CheckFactory

pytestmark = pytest.mark.django_db

# Everything off, as a browser posts it: unticked checkboxes are simply absent.
BLANK = {
    "methods": "",
    "start_kw": "",
    "success_kw": "",
    "failure_kw": "",
    "reminder_interval": "",
}
SETTINGS = (
    "methods",
    "filter_http_body",
    "filter_subject",
    "filter_body",
    "filter_default_fail",
    "start_kw",
    "success_kw",
    "failure_kw",
    "manual_resume",
    "reminder_interval",
)


def _url(check):
    return f"/checks/{check.code}/ping_handling/"


def _post(client, user, check, data):
    client.force_login(user)
    return client.post(_url(check), {**BLANK, **data})


def _settings(check):
    check.refresh_from_db()
    return {name: getattr(check, name) for name in SETTINGS}


@pytest.mark.parametrize(
    ("data", "field", "value"),
    [
        ({"methods": "POST"}, "methods", "POST"),
        ({"filter_http_body": "on"}, "filter_http_body", True),
        ({"filter_subject": "on"}, "filter_subject", True),
        ({"filter_body": "on"}, "filter_body", True),
        ({"filter_default_fail": "on"}, "filter_default_fail", True),
        ({"start_kw": "starting"}, "start_kw", "starting"),
        ({"success_kw": "OK, done"}, "success_kw", "OK, done"),
        ({"failure_kw": "ERROR,FATAL"}, "failure_kw", "ERROR,FATAL"),
        ({"manual_resume": "on"}, "manual_resume", True),
        ({"reminder_interval": "3600"}, "reminder_interval", timedelta(hours=1)),
        ({"reminder_interval": "86400"}, "reminder_interval", timedelta(days=1)),
        ({"reminder_interval": "0"}, "reminder_interval", timedelta(0)),
    ],
)
def test_form_saves_each_field(client, team, data, field, value):
    check = CheckFactory(project=team.project)
    response = _post(client, team.member, check, data)
    assert response.status_code == 302
    assert response.url == f"/checks/{check.code}/details/"
    assert _settings(check)[field] == value


def test_unticked_boxes_and_blank_fields_turn_settings_off(client, team):
    check = CheckFactory(
        project=team.project,
        methods="POST",
        filter_http_body=True,
        filter_default_fail=True,
        success_kw="OK",
        manual_resume=True,
        reminder_interval=timedelta(hours=6),
    )
    assert _post(client, team.member, check, {}).status_code == 302
    saved = _settings(check)
    assert saved["methods"] == ""
    assert saved["filter_http_body"] is False
    assert saved["filter_default_fail"] is False
    assert saved["success_kw"] == ""
    assert saved["manual_resume"] is False
    assert saved["reminder_interval"] is None


def test_saved_filter_changes_how_pings_are_classified(client, team):
    check = CheckFactory(project=team.project)
    _post(
        client,
        team.member,
        check,
        {"filter_http_body": "on", "failure_kw": "ERROR", "success_kw": "OK"},
    )
    client.post(f"/ping/{check.code}", "job ERROR", content_type="text/plain")
    check.refresh_from_db()
    assert check.status == Status.DOWN


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"methods": "GET"}, "methods", "Choose any method or POST only."),
        (
            {"start_kw": "s" * 201},
            "start_kw",
            "Keywords may be at most 200 characters.",
        ),
        (
            {"success_kw": "s" * 201},
            "success_kw",
            "Keywords may be at most 200 characters.",
        ),
        (
            {"failure_kw": "f" * 201},
            "failure_kw",
            "Keywords may be at most 200 characters.",
        ),
        (
            {"reminder_interval": "5"},
            "reminder_interval",
            "Choose one of the offered reminder intervals.",
        ),
        (
            {"reminder_interval": "hourly"},
            "reminder_interval",
            "Choose one of the offered reminder intervals.",
        ),
    ],
)
def test_form_rejects_bad_input_and_changes_nothing(client, team, data, field, message):
    check = CheckFactory(project=team.project, success_kw="OK")
    before = _settings(check)
    # A valid change alongside the bad one must not be saved either.
    response = _post(client, team.member, check, {"filter_body": "on", **data})
    assert response.status_code == 400
    assert response.context["ping_handling_form"].errors[field] == [message]
    assert message in response.content.decode()
    assert _settings(check) == before


def test_stranger_gets_not_found_and_changes_nothing(client, team):
    check = CheckFactory(project=team.project)
    before = _settings(check)
    response = _post(client, team.stranger, check, {"methods": "POST"})
    assert response.status_code == 404
    assert _settings(check) == before


def test_read_only_member_gets_forbidden_and_changes_nothing(client, team):
    check = CheckFactory(project=team.project)
    before = _settings(check)
    response = _post(client, team.reader, check, {"methods": "POST"})
    assert response.status_code == 403
    assert _settings(check) == before


def test_post_without_csrf_token_is_refused(team):
    check = CheckFactory(project=team.project)
    before = _settings(check)
    client = Client(enforce_csrf_checks=True)
    response = _post(client, team.owner, check, {"methods": "POST"})
    assert response.status_code == 403
    assert _settings(check) == before


def test_get_is_not_allowed(client, team):
    check = CheckFactory(project=team.project)
    client.force_login(team.member)
    assert client.get(_url(check)).status_code == 405


def test_details_shows_form_with_current_settings(client, team):
    check = CheckFactory(
        project=team.project,
        methods="POST",
        failure_kw="ERROR",
        manual_resume=True,
        reminder_interval=timedelta(hours=6),
    )
    client.force_login(team.member)
    body = client.get(f"/checks/{check.code}/details/").content.decode()
    assert 'id="ping-handling-form"' in body
    assert '<option value="POST" selected>POST only</option>' in body
    assert 'value="ERROR"' in body
    assert 'name="manual_resume" id="id_manual_resume" checked' in body
    assert '<option value="21600" selected>Every 6 hours</option>' in body


def test_details_names_the_project_default_interval(client, team):
    team.project.reminder_interval = timedelta(days=1)
    team.project.save()
    check = CheckFactory(project=team.project)
    client.force_login(team.member)
    body = client.get(f"/checks/{check.code}/details/").content.decode()
    assert "Project default (every 1 day)" in body


def test_details_keeps_an_interval_set_elsewhere(client, team):
    check = CheckFactory(project=team.project, reminder_interval=timedelta(minutes=30))
    client.force_login(team.member)
    body = client.get(f"/checks/{check.code}/details/").content.decode()
    assert '<option value="1800" selected>Every 30 minutes</option>' in body


def test_details_shows_reminders_turned_off_for_the_check(client, team):
    check = CheckFactory(project=team.project, reminder_interval=timedelta(0))
    client.force_login(team.member)
    body = client.get(f"/checks/{check.code}/details/").content.decode()
    assert '<option value="0" selected>Off</option>' in body


def test_read_only_member_sees_settings_without_save_button(client, team):
    check = CheckFactory(project=team.project, methods="POST")
    client.force_login(team.reader)
    body = client.get(f"/checks/{check.code}/details/").content.decode()
    assert "Ping handling" in body
    assert 'id="ping-handling-form"' not in body
    assert "Save ping handling" not in body
    assert '<fieldset class="plain" disabled>' in body


def test_new_interval_reschedules_reminder_of_down_check(client, team):
    check = CheckFactory(project=team.project, status=Status.DOWN)
    before = timezone.now()
    _post(client, team.member, check, {"reminder_interval": "3600"})
    check.refresh_from_db()
    assert check.next_reminder is not None
    assert before + timedelta(hours=1) <= check.next_reminder
    assert check.next_reminder <= timezone.now() + timedelta(hours=1)


def test_shorter_interval_brings_a_later_reminder_forward(client, team):
    later = timezone.now() + timedelta(days=5)
    check = CheckFactory(
        project=team.project,
        status=Status.DOWN,
        reminder_interval=timedelta(weeks=1),
        next_reminder=later,
    )
    _post(client, team.member, check, {"reminder_interval": "3600"})
    check.refresh_from_db()
    assert check.next_reminder <= timezone.now() + timedelta(hours=1)


def test_turning_reminders_off_cancels_the_next_one(client, team):
    check = CheckFactory(
        project=team.project,
        status=Status.DOWN,
        reminder_interval=timedelta(hours=1),
        next_reminder=timezone.now() + timedelta(minutes=30),
    )
    _post(client, team.member, check, {"reminder_interval": ""})
    check.refresh_from_db()
    assert check.next_reminder is None


def test_reminders_off_cancel_the_next_one_despite_the_project_default(client, team):
    team.project.reminder_interval = timedelta(hours=1)
    team.project.save()
    check = CheckFactory(
        project=team.project,
        status=Status.DOWN,
        next_reminder=timezone.now() + timedelta(minutes=30),
    )
    _post(client, team.member, check, {"reminder_interval": "0"})
    check.refresh_from_db()
    assert check.next_reminder is None


def test_interval_of_up_check_schedules_no_reminder(client, team):
    check = CheckFactory(project=team.project, status=Status.UP)
    _post(client, team.member, check, {"reminder_interval": "3600"})
    check.refresh_from_db()
    assert check.next_reminder is None
