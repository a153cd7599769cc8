"""Checks list and check page (issue 5 items 4 and 5)."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from checks.models import Channel, Check, Flip, Kind, Ping, PingKind, Profile, Status
from tests.factories import ChannelFactory, CheckFactory, ProjectFactory

pytestmark = pytest.mark.django_db


def _list(client, team, query=""):
    client.force_login(team.owner)
    return client.get(f"/projects/{team.project.code}/checks/{query}")


def _names(response):
    return [row.check.name for row in response.context["rows"]]


# --- checks list ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "status"),
    [
        ({}, "new"),
        ({"status": Status.UP, "last_ping_ago": timedelta(minutes=1)}, "up"),
        ({"status": Status.UP, "last_ping_ago": timedelta(days=1, minutes=5)}, "grace"),
        ({"status": Status.UP, "last_ping_ago": timedelta(days=3)}, "down"),
        ({"status": Status.PAUSED}, "paused"),
        ({"status": Status.UP, "last_start_ago": timedelta(minutes=1)}, "started"),
    ],
)
def test_list_shows_icon_for_each_status(client, team, fields, status):
    now = timezone.now()
    if "last_ping_ago" in fields:
        fields["last_ping"] = now - fields.pop("last_ping_ago")
    if "last_start_ago" in fields:
        fields["last_ping"] = now
        fields["last_start"] = now - fields.pop("last_start_ago")
    CheckFactory(project=team.project, **fields)
    response = _list(client, team)
    assert f'class="st-icon st-{status}"' in response.content.decode()


def test_list_shows_name_tags_schedule_and_last_ping(client, team):
    CheckFactory(
        project=team.project,
        name="nightly backup",
        tags="prod db",
        timeout=timedelta(days=1),
        last_ping=timezone.now() - timedelta(hours=2),
        status=Status.UP,
    )
    body = _list(client, team).content.decode()
    assert "nightly backup" in body
    assert '<span class="tag">prod</span>' in body
    assert "every 1 day" in body
    assert "2 hours ago" in body


def test_list_shows_cron_schedule(client, team):
    CheckFactory(
        project=team.project, kind=Kind.CRON, schedule="0 3 * * *", tz="Europe/Riga"
    )
    body = _list(client, team).content.decode()
    assert "0 3 * * *" in body


def test_list_filters_by_all_selected_tags(client, team):
    CheckFactory(project=team.project, name="both", tags="prod db")
    CheckFactory(project=team.project, name="prod only", tags="prod")
    CheckFactory(project=team.project, name="dbx", tags="dbx")
    response = _list(client, team, "?tag=prod&tag=db")
    assert _names(response) == ["both"]


def test_list_filters_by_status(client, team):
    CheckFactory(project=team.project, name="paused", status=Status.PAUSED)
    CheckFactory(project=team.project, name="new")
    assert _names(_list(client, team, "?status=paused")) == ["paused"]


def test_list_search_matches_name_slug_and_uuid(client, team):
    CheckFactory(project=team.project, name="Backup", slug="bk")
    other = CheckFactory(project=team.project, name="reports", slug="rep")
    assert _names(_list(client, team, "?search=backup")) == ["Backup"]
    assert _names(_list(client, team, "?search=rep")) == ["reports"]
    assert _names(_list(client, team, f"?search={str(other.code)[:13]}")) == ["reports"]


def test_list_sorts_by_name(client, team):
    for name in ("b", "c", "a"):
        CheckFactory(project=team.project, name=name)
    assert _names(_list(client, team, "?sort=name")) == ["a", "b", "c"]
    assert _names(_list(client, team, "?sort=-name")) == ["c", "b", "a"]


def test_list_puts_down_checks_first_whatever_the_sort(client, team):
    CheckFactory(project=team.project, name="a")
    CheckFactory(project=team.project, name="z", status=Status.DOWN)
    assert _names(_list(client, team, "?sort=name")) == ["z", "a"]


def test_list_ignores_unknown_sort(client, team):
    CheckFactory(project=team.project, name="x")
    response = _list(client, team, "?sort=password")
    assert response.status_code == 200
    assert response.context["sort"] == "created"


def test_list_hides_checks_of_other_projects(client, team):
    CheckFactory(name="not mine")
    assert "not mine" not in _list(client, team).content.decode()


def test_list_reads_without_javascript(client, team):
    CheckFactory(project=team.project, name="plain")
    body = _list(client, team).content.decode()
    # The rows are in the HTML itself, not filled in by a script.
    assert '<table class="checks"' in body
    assert "plain" in body


def _count_queries(client, team, django_assert_max_num_queries, n):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    Check.objects.filter(project=team.project).delete()
    for i in range(n):
        CheckFactory(project=team.project, tags=f"t{i % 3}")
    client.force_login(team.reader)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(f"/projects/{team.project.code}/checks/").status_code == 200
    return len(ctx.captured_queries)


def test_list_query_count_does_not_grow_with_checks(client, team):
    one = _count_queries(client, team, None, 1)
    many = _count_queries(client, team, None, 30)
    assert one == many


def test_status_endpoint_reports_every_check(client, team):
    check = CheckFactory(
        project=team.project, status=Status.UP, last_ping=timezone.now(), tags="x"
    )
    client.force_login(team.reader)
    data = client.get(f"/projects/{team.project.code}/checks/status/").json()
    assert data["checks"] == [
        {
            "code": str(check.code),
            "status": "up",
            "status_label": "Up",
            "last_ping": "just now",
            "next_due": "in 23 hours",
        }
    ]
    assert data["tags"] == {"x": "up"}


def test_status_endpoint_query_count_does_not_grow_with_checks(
    client, team, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(team.reader)
    counts = []
    for n in (1, 20):
        CheckFactory.create_batch(n, project=team.project)
        with CaptureQueriesContext(connection) as ctx:
            client.get(f"/projects/{team.project.code}/checks/status/")
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]


def test_add_check_creates_check_with_all_channels(client, team):
    channel = ChannelFactory(project=team.project)
    client.force_login(team.member)
    response = client.post(f"/projects/{team.project.code}/checks/add/")
    check = Check.objects.get(project=team.project)
    assert response.status_code == 302
    assert response.url == f"/checks/{check.code}/details/"
    assert list(check.channels.all()) == [channel]


def test_add_check_refuses_over_the_check_limit(client, team):
    Profile.objects.create(user=team.owner, check_limit=1)
    CheckFactory(project=team.project)
    client.force_login(team.owner)
    response = client.post(f"/projects/{team.project.code}/checks/add/", follow=True)
    assert Check.objects.filter(project=team.project).count() == 1
    assert "check limit" in response.content.decode()


# --- check page ----------------------------------------------------------------


def _details(client, user, check):
    client.force_login(user)
    return client.get(f"/checks/{check.code}/details/")


def test_details_shows_uuid_and_slug_ping_urls(client, team, settings):
    settings.PING_ENDPOINT = "https://hc.example.org/ping/"
    check = CheckFactory(project=team.project, slug="backup")
    body = _details(client, team.reader, check).content.decode()
    assert f"https://hc.example.org/ping/{check.code}" in body
    assert f"https://hc.example.org/ping/{team.project.ping_key}/backup" in body


def test_details_has_curl_bash_and_python_snippets(client, team):
    check = CheckFactory(project=team.project)
    body = _details(client, team.reader, check).content.decode()
    assert 'id="snippet-curl"' in body
    assert 'id="snippet-bash"' in body
    assert 'id="snippet-python"' in body


def test_details_omits_slug_url_without_slug(client, team):
    check = CheckFactory(project=team.project, slug="")
    assert 'id="slug-url"' not in _details(client, team.reader, check).content.decode()


def test_details_hides_forms_from_read_only_member(client, team):
    check = CheckFactory(project=team.project)
    body = _details(client, team.reader, check).content.decode()
    assert 'id="name-form"' not in body
    assert 'id="pause"' not in body


def test_details_lists_next_cron_runs(client, team):
    check = CheckFactory(
        project=team.project, kind=Kind.CRON, schedule="0 3 * * *", tz="UTC"
    )
    response = _details(client, team.reader, check)
    runs = response.context["expected"]
    assert len(runs) == 5
    assert all(r.hour == 3 and r.minute == 0 for r in runs)


def test_name_form_saves_and_collapses_tag_whitespace(client, team):
    check = CheckFactory(project=team.project)
    client.force_login(team.member)
    response = client.post(
        f"/checks/{check.code}/name/",
        {"name": "Backup", "slug": "backup-1", "tags": "  prod\t db ", "desc": "d"},
    )
    assert response.status_code == 302
    check.refresh_from_db()
    assert (check.name, check.slug, check.tags, check.desc) == (
        "Backup",
        "backup-1",
        "prod db",
        "d",
    )


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"slug": "Not Valid"}, "slug", "lowercase letters"),
        ({"name": "x" * 101}, "name", "at most 100"),
        ({"slug": "s" * 101}, "slug", "at most 100"),
        ({"tags": "t " * 300}, "tags", "at most 500"),
    ],
)
def test_name_form_rejects_bad_input(client, team, data, field, message):
    check = CheckFactory(project=team.project, name="before")
    client.force_login(team.member)
    response = client.post(f"/checks/{check.code}/name/", data)
    assert response.status_code == 400
    assert message in " ".join(response.context["name_form"].errors[field])
    check.refresh_from_db()
    assert check.name == "before"


def test_schedule_form_saves_period_and_grace(client, team):
    check = CheckFactory(
        project=team.project, status=Status.UP, last_ping=timezone.now()
    )
    client.force_login(team.member)
    response = client.post(
        f"/checks/{check.code}/schedule/",
        {
            "kind": "simple",
            "timeout_value": "2",
            "timeout_unit": "3600",
            "grace_value": "5",
            "grace_unit": "60",
        },
    )
    assert response.status_code == 302
    check.refresh_from_db()
    assert check.timeout == timedelta(hours=2)
    assert check.grace == timedelta(minutes=5)
    assert check.alert_after == check.last_ping + timedelta(hours=2, minutes=5)


def test_schedule_that_makes_up_check_overdue_flips_it_down_silently(client, team):
    check = CheckFactory(
        project=team.project,
        status=Status.UP,
        last_ping=timezone.now() - timedelta(hours=3),
    )
    client.force_login(team.member)
    client.post(
        f"/checks/{check.code}/schedule/",
        {
            "kind": "simple",
            "timeout_value": "1",
            "timeout_unit": "3600",
            "grace_value": "1",
            "grace_unit": "60",
        },
    )
    check.refresh_from_db()
    flip = Flip.objects.get(owner=check)
    assert check.status == Status.DOWN
    assert check.alert_after is None
    assert (flip.old_status, flip.new_status, flip.reason) == ("up", "down", "timeout")
    assert flip.processed is not None  # already handled: no notification


def test_schedule_form_saves_cron_with_time_zone(client, team):
    check = CheckFactory(project=team.project)
    client.force_login(team.member)
    client.post(
        f"/checks/{check.code}/schedule/",
        {
            "kind": "cron",
            "schedule": "0 3 * * 1-5",
            "tz": "Europe/Kiev",
            "grace_value": "1",
            "grace_unit": "3600",
        },
    )
    check.refresh_from_db()
    assert (check.kind, check.schedule, check.tz) == (
        "cron",
        "0 3 * * 1-5",
        "Europe/Kyiv",
    )


def test_schedule_form_detects_oncalendar(client, team):
    check = CheckFactory(project=team.project)
    client.force_login(team.member)
    client.post(
        f"/checks/{check.code}/schedule/",
        {
            "kind": "cron",
            "schedule": "Mon..Fri 09:00",
            "tz": "UTC",
            "grace_value": "1",
            "grace_unit": "3600",
        },
    )
    check.refresh_from_db()
    assert check.kind == Kind.ONCALENDAR


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        (
            {"kind": "simple", "timeout_value": "60", "timeout_unit": "604800"},
            "timeout_value",
            "between 1 minute and 365 days",
        ),
        ({"kind": "simple"}, "timeout_value", "Enter the period"),
        (
            {"kind": "simple", "timeout_value": "0", "timeout_unit": "60"},
            "timeout_value",
            "greater than or equal to 1",
        ),
        (
            {"kind": "simple", "timeout_value": "1", "timeout_unit": "7"},
            "timeout_unit",
            "valid choice",
        ),
        (
            {"kind": "cron", "schedule": "61 * * * *"},
            "schedule",
            "not a valid cron expression",
        ),
        ({"kind": "cron", "schedule": ""}, "schedule", "Enter a cron or OnCalendar"),
        (
            {"kind": "cron", "schedule": "* * * * *", "tz": "Mars/Olympus"},
            "tz",
            "not a valid time zone",
        ),
        (
            {"kind": "oncalendar", "schedule": "Mon..Fry 09:00"},
            "schedule",
            "not a valid OnCalendar",
        ),
        ({"kind": "weekly"}, "kind", "valid choice"),
    ],
)
def test_schedule_form_rejects_bad_input(client, team, data, field, message):
    check = CheckFactory(project=team.project)
    client.force_login(team.member)
    post = {"grace_value": "1", "grace_unit": "3600", **data}
    response = client.post(f"/checks/{check.code}/schedule/", post)
    assert response.status_code == 400
    assert message in " ".join(response.context["schedule_form"].errors[field])
    check.refresh_from_db()
    assert (check.kind, check.timeout) == ("simple", timedelta(days=1))


def test_schedule_form_rejects_grace_below_a_minute(client, team):
    check = CheckFactory(project=team.project)
    client.force_login(team.member)
    response = client.post(
        f"/checks/{check.code}/schedule/",
        {
            "kind": "simple",
            "timeout_value": "1",
            "timeout_unit": "3600",
            "grace_value": "",
            "grace_unit": "60",
        },
    )
    assert response.status_code == 400
    assert "grace_value" in response.context["schedule_form"].errors


def test_schedule_preview_describes_next_runs(client, team):
    client.force_login(team.reader)
    response = client.get(
        "/checks/schedule_preview/", {"schedule": "30 4 * * *", "tz": "Asia/Tokyo"}
    )
    data = response.json()
    assert response.status_code == 200
    assert data["kind"] == "cron"
    assert len(data["next"]) == 5
    assert all(t.endswith("JST") and "04:30" in t for t in data["next_text"])


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"schedule": "bogus"}, "not a valid OnCalendar"),
        ({"schedule": "* * * * *", "tz": "Nowhere/City"}, "not a valid time zone"),
        ({"schedule": ""}, "Enter a cron or OnCalendar"),
        ({"schedule": "* " * 60}, "at most 100"),
    ],
)
def test_schedule_preview_rejects_bad_input(client, team, params, message):
    client.force_login(team.reader)
    response = client.get("/checks/schedule_preview/", params)
    assert response.status_code == 400
    assert message in response.json()["error"]


def test_schedule_preview_needs_login(client):
    response = client.get("/checks/schedule_preview/", {"schedule": "* * * * *"})
    assert response.status_code == 302


def test_pause_and_resume(client, team):
    check = CheckFactory(
        project=team.project, status=Status.UP, last_ping=timezone.now()
    )
    client.force_login(team.member)
    client.post(f"/checks/{check.code}/pause/")
    check.refresh_from_db()
    assert check.status == Status.PAUSED
    client.post(f"/checks/{check.code}/resume/")
    check.refresh_from_db()
    assert check.status == Status.NEW


def test_delete_asks_for_confirmation_first(client, team):
    check = CheckFactory(project=team.project)
    client.force_login(team.member)
    response = client.get(f"/checks/{check.code}/delete/")
    assert response.status_code == 200
    assert Check.objects.filter(pk=check.pk).exists()


def test_delete_removes_check(client, team):
    check = CheckFactory(project=team.project)
    client.force_login(team.member)
    response = client.post(f"/checks/{check.code}/delete/")
    assert response.status_code == 302
    assert response.url == f"/projects/{team.project.code}/checks/"
    assert not Check.objects.filter(pk=check.pk).exists()


def test_channels_form_attaches_exactly_the_ticked_channels(client, team):
    check = CheckFactory(project=team.project)
    keep, drop = ChannelFactory.create_batch(2, project=team.project)
    check.channels.set([drop])
    client.force_login(team.member)
    client.post(f"/checks/{check.code}/channels/", {"channel": [str(keep.code)]})
    assert list(check.channels.all()) == [keep]


def test_channels_form_refuses_channel_of_other_project(client, team):
    check = CheckFactory(project=team.project)
    foreign = ChannelFactory(project=ProjectFactory())
    client.force_login(team.member)
    response = client.post(
        f"/checks/{check.code}/channels/", {"channel": [str(foreign.code)]}
    )
    assert response.status_code == 400
    assert not check.channels.exists()


def test_channels_form_refuses_malformed_code(client, team):
    check = CheckFactory(project=team.project)
    client.force_login(team.member)
    response = client.post(f"/checks/{check.code}/channels/", {"channel": ["nope"]})
    assert response.status_code == 400


def _ping(check, n, kind, created, **fields):
    return Ping.objects.create(owner=check, n=n, kind=kind, created=created, **fields)


def test_log_shows_ping_details_and_run_duration(client, team):
    check = CheckFactory(project=team.project, n_pings=2)
    t = timezone.now() - timedelta(minutes=10)
    rid = uuid.uuid4()
    _ping(check, 1, PingKind.START, t, rid=rid, remote_addr="192.0.2.7", method="GET")
    _ping(
        check,
        2,
        PingKind.FAIL,
        t + timedelta(seconds=42),
        rid=rid,
        exitstatus=3,
        method="POST",
        ua="curl/8.5",
        remote_addr="192.0.2.7",
        body=b"disk full",
    )
    response = _details(client, team.reader, check)
    body = response.content.decode()
    assert "Exit status 3" in body
    assert "192.0.2.7" in body
    assert "curl/8.5" in body
    assert "42 s" in body
    assert "disk full" in body
    assert response.context["chart"].bars[0].failed


def test_log_escapes_ping_body(client, team):
    check = CheckFactory(project=team.project, n_pings=1)
    _ping(check, 1, PingKind.SUCCESS, timezone.now(), body=b"<script>alert(1)</script>")
    body = _details(client, team.reader, check).content.decode()
    assert "<script>alert(1)" not in body
    assert "&lt;script&gt;" in body


def test_ping_body_is_served_as_plain_text(client, team):
    check = CheckFactory(project=team.project, n_pings=1)
    _ping(check, 1, PingKind.SUCCESS, timezone.now(), body=b"<b>hi</b>")
    client.force_login(team.reader)
    response = client.get(f"/checks/{check.code}/pings/1/body/")
    assert response.content == b"<b>hi</b>"
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_ping_body_without_body_is_not_found(client, team):
    check = CheckFactory(project=team.project, n_pings=1)
    _ping(check, 1, PingKind.SUCCESS, timezone.now())
    client.force_login(team.reader)
    assert client.get(f"/checks/{check.code}/pings/1/body/").status_code == 404


def test_details_shows_status_history(client, team):
    check = CheckFactory(project=team.project)
    Flip.objects.create(
        owner=check,
        created=timezone.now(),
        old_status="up",
        new_status="down",
        reason="timeout",
    )
    body = _details(client, team.reader, check).content.decode()
    assert "grace time passed" in body


def test_details_of_unknown_check_is_not_found(client, team):
    client.force_login(team.owner)
    assert client.get(f"/checks/{uuid.uuid4()}/details/").status_code == 404


def test_new_channel_is_listed_on_check_page(client, team):
    check = CheckFactory(project=team.project)
    Channel.objects.create(project=team.project, kind="webhook", name="ops hook")
    assert "ops hook" in _details(client, team.reader, check).content.decode()
