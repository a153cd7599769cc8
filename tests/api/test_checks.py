"""Checks: list, get, create, upsert, update, pause, resume, delete (spec 4.6)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from checks.api import serializers
from checks.models import Check, Flip, Kind, Status
from tests.factories import ChannelFactory, CheckFactory, ProfileFactory

pytestmark = pytest.mark.django_db

RW_ORDER = [
    "name", "slug", "tags", "desc", "grace", "n_pings", "status", "started",
    "last_ping", "next_ping", "manual_resume", "methods", "subject", "subject_fail",
    "start_kw", "success_kw", "failure_kw", "filter_subject", "filter_body",
    "filter_http_body", "filter_default_fail", "badge_url", "uuid", "ping_url",
    "update_url", "pause_url", "resume_url", "channels", "timeout",
]  # fmt: skip


# --- check JSON ---------------------------------------------------------------------


def test_check_json_has_upstreams_fields_in_order_then_hcservers(api, project):
    check = CheckFactory(project=project)
    assert list(api.get(f"checks/{check.code}").json()) == [
        *RW_ORDER,
        "reminder_interval",
    ]


def test_read_only_json_swaps_urls_for_unique_key(ro_api, project):
    check = CheckFactory(project=project)
    data = ro_api.get(f"checks/{check.code}").json()
    assert data["unique_key"] == check.unique_key
    assert not {"uuid", "ping_url", "update_url", "pause_url", "channels"} & set(data)


def test_cron_check_shows_schedule_and_tz_instead_of_timeout(api, project):
    check = CheckFactory(project=project, kind=Kind.CRON, schedule="0 5 * * *")
    data = api.get(f"checks/{check.code}").json()
    assert (data["schedule"], data["tz"]) == ("0 5 * * *", "UTC")
    assert "timeout" not in data


def test_urls_embed_the_version_used(api, project):
    check = CheckFactory(project=project)
    data = api.get(f"checks/{check.code}", v=2).json()
    assert data["update_url"].endswith(f"/api/v2/checks/{check.code}")
    assert data["pause_url"].endswith(f"/api/v2/checks/{check.code}/pause")
    assert data["ping_url"].endswith(f"/ping/{check.code}")


def test_badge_url_points_at_the_check_badge(api, project):
    check = CheckFactory(project=project)
    data = api.get(f"checks/{check.code}").json()
    assert data["badge_url"].endswith(f"/b/2/{check.badge_key}.svg")


def test_times_drop_microseconds(api, project):
    moment = timezone.now().replace(microsecond=123456)
    check = CheckFactory(project=project, status=Status.UP, last_ping=moment)
    data = api.get(f"checks/{check.code}").json()
    assert data["last_ping"] == moment.replace(microsecond=0).isoformat()
    assert (
        data["next_ping"]
        == (moment + timedelta(days=1)).replace(microsecond=0).isoformat()
    )


def test_last_duration_shown_only_when_known(api, project):
    check = CheckFactory(project=project, last_duration=timedelta(seconds=42))
    assert api.get(f"checks/{check.code}").json()["last_duration"] == 42


def test_subject_fields_reflect_keywords_only_with_filter_subject(api, project):
    check = CheckFactory(project=project, success_kw="ok", filter_subject=False)
    data = api.get(f"checks/{check.code}").json()
    assert (data["subject"], data["success_kw"]) == ("", "ok")


def test_late_check_shows_grace(api, project):
    last = timezone.now() - timedelta(days=1, minutes=5)
    check = CheckFactory(project=project, status=Status.UP, last_ping=last)
    assert api.get(f"checks/{check.code}").json()["status"] == "grace"


def test_v1_shows_running_check_as_started(api, project):
    check = CheckFactory(project=project, status=Status.UP, last_ping=timezone.now(),
                         last_start=timezone.now())  # fmt: skip
    data = api.get(f"checks/{check.code}", v=1).json()
    assert (data["status"], data["started"]) == ("started", True)


@pytest.mark.parametrize("v", [2, 3])
def test_v2_v3_show_real_status_and_started_flag(api, project, v):
    check = CheckFactory(project=project, status=Status.UP, last_ping=timezone.now(),
                         last_start=timezone.now())  # fmt: skip
    data = api.get(f"checks/{check.code}", v=v).json()
    assert (data["status"], data["started"]) == ("up", True)


def test_channels_field_lists_sorted_channel_uuids(api, project):
    check = CheckFactory(project=project)
    channels = [ChannelFactory(project=project) for _ in range(3)]
    check.channels.set(channels)
    data = api.get(f"checks/{check.code}").json()
    assert data["channels"] == ",".join(sorted(str(c.code) for c in channels))


def test_serialized_status_is_computed_at_now():
    check = Check(status=Status.UP, last_ping=timezone.now() - timedelta(days=3))
    data = serializers.check_dict(
        check, v=3, readonly=True, channels="", now=timezone.now()
    )
    assert data["status"] == "down"


# --- list ---------------------------------------------------------------------------


def test_list_returns_the_projects_checks(api, project):
    CheckFactory(project=project, name="a")
    CheckFactory(project=project, name="b")
    names = [c["name"] for c in api.get("checks/").json()["checks"]]
    assert names == ["a", "b"]


def test_list_by_tag_matches_exact_tags_only(api, project):
    CheckFactory(project=project, name="exact", tags="foo bar")
    CheckFactory(project=project, name="longer", tags="foobar")
    names = [c["name"] for c in api.get("checks/?tag=foo").json()["checks"]]
    assert names == ["exact"]


def test_list_by_several_tags_needs_all_of_them(api, project):
    CheckFactory(project=project, name="both", tags="a b")
    CheckFactory(project=project, name="one", tags="a")
    names = [c["name"] for c in api.get("checks/?tag=a&tag=b").json()["checks"]]
    assert names == ["both"]


def test_list_by_unknown_tag_is_empty(api, project):
    CheckFactory(project=project, tags="a")
    assert api.get("checks/?tag=zzz").json() == {"checks": []}


@pytest.mark.parametrize("v", [1, 2, 3])
def test_list_by_slug(api, project, v):
    CheckFactory(project=project, name="mine", slug="backup")
    CheckFactory(project=project, slug="other")
    names = [c["name"] for c in api.get("checks/?slug=backup", v=v).json()["checks"]]
    assert names == ["mine"]


def test_list_with_nul_in_tag_is_empty_not_an_error(api, project):
    CheckFactory(project=project, tags="a")
    assert api.get("checks/?tag=a%00").json() == {"checks": []}


# --- get ----------------------------------------------------------------------------


def test_get_unknown_uuid_is_djangos_404(api):
    response = api.get("checks/07c2f548-9850-4b27-af5d-6c9dc157ec02")
    assert response.status_code == 404
    assert b"Not Found" in response.content


def test_get_by_unique_key(ro_api, project):
    check = CheckFactory(project=project, name="found")
    assert ro_api.get(f"checks/{check.unique_key}").json()["name"] == "found"


def test_get_by_unknown_unique_key_is_empty_404(ro_api, project):
    response = ro_api.get("checks/" + "a" * 40)
    assert response.status_code == 404
    assert response.content == b""


# --- create -------------------------------------------------------------------------


def test_create_applies_defaults(api, project):
    response = api.post("checks/", {})
    assert response.status_code == 201
    check = Check.objects.get()
    assert (check.name, check.timeout, check.grace, check.kind, check.tz) == (
        "", timedelta(days=1), timedelta(hours=1), Kind.SIMPLE, "UTC",
    )  # fmt: skip


def test_create_does_not_assign_channels_by_default(api, project):
    ChannelFactory(project=project)
    api.post("checks/", {"name": "x"})
    assert not Check.objects.get().channels.exists()


def test_create_with_schedule_makes_a_cron_check(api, project):
    data = api.post("checks/", {"schedule": "*/5 * * * *", "tz": "Europe/Riga"}).json()
    assert (data["schedule"], data["tz"]) == ("*/5 * * * *", "Europe/Riga")
    assert Check.objects.get().kind == Kind.CRON


def test_create_with_oncalendar_schedule(api, project):
    api.post("checks/", {"schedule": "Mon *-*-* 09:00"})
    assert Check.objects.get().kind == Kind.ONCALENDAR


def test_schedule_wins_over_timeout(api, project):
    api.post("checks/", {"schedule": "0 * * * *", "timeout": 120})
    check = Check.objects.get()
    assert (check.kind, check.timeout) == (Kind.CRON, timedelta(days=1))


def test_legacy_time_zone_is_canonicalised(api, project):
    api.post("checks/", {"schedule": "0 * * * *", "tz": "Europe/Kiev"})
    assert Check.objects.get().tz == "Europe/Kyiv"


@pytest.mark.parametrize("v", [1, 2])
def test_v1_v2_derive_slug_from_name(api, project, v):
    assert api.post("checks/", {"name": "My Backup"}, v=v).json()["slug"] == "my-backup"


def test_v3_does_not_derive_slug(api, project):
    assert api.post("checks/", {"name": "My Backup"}).json()["slug"] == ""


def test_explicit_slug_wins_over_derived_one(api, project):
    data = api.post("checks/", {"name": "My Backup", "slug": "bk"}, v=1).json()
    assert data["slug"] == "bk"


def test_subject_sets_success_keyword_and_filter(api, project):
    data = api.post("checks/", {"subject": "SUCCESS"}).json()
    assert (data["success_kw"], data["filter_subject"]) == ("SUCCESS", True)


def test_subject_fail_sets_failure_keyword(api, project):
    data = api.post("checks/", {"subject_fail": "ERROR"}).json()
    assert (data["failure_kw"], data["subject_fail"]) == ("ERROR", "ERROR")


def test_explicit_filter_subject_wins_over_subject(api, project):
    data = api.post("checks/", {"subject": "OK", "filter_subject": False}).json()
    assert data["filter_subject"] is False


def test_create_stores_every_field(api, project):
    body = {
        "name": "n", "slug": "s", "tags": "t u", "desc": "d", "timeout": 120,
        "grace": 240, "manual_resume": True, "methods": "POST", "start_kw": "go",
        "success_kw": "ok", "failure_kw": "bad", "filter_subject": True,
        "filter_body": True, "filter_http_body": True, "filter_default_fail": True,
    }  # fmt: skip
    data = api.post("checks/", body).json()
    assert {k: data[k] for k in body} == body


def test_create_at_check_limit_is_empty_403(api, project):
    ProfileFactory(user=project.owner, check_limit=1)
    CheckFactory(project=project)
    response = api.post("checks/", {"name": "one too many"})
    assert response.status_code == 403
    assert response.content == b""


def test_created_check_has_no_deadline_until_its_first_ping(api, project):
    api.post("checks/", {"timeout": 60})
    assert Check.objects.get().alert_after is None  # new: nothing due yet


# --- upsert (`unique`) --------------------------------------------------------------


def test_unique_match_updates_the_existing_check_with_200(api, project):
    existing = CheckFactory(project=project, name="backup", grace=timedelta(hours=1))
    response = api.post("checks/", {"name": "backup", "grace": 600, "unique": ["name"]})
    assert response.status_code == 200
    assert response.json()["uuid"] == str(existing.code)
    assert Check.objects.get().grace == timedelta(seconds=600)


def test_unique_without_match_creates_with_201(api, project):
    CheckFactory(project=project, name="other")
    response = api.post("checks/", {"name": "backup", "unique": ["name"]})
    assert response.status_code == 201
    assert Check.objects.count() == 2


def test_unique_on_absent_field_always_creates(api, project):
    CheckFactory(project=project, name="backup")
    response = api.post("checks/", {"name": "backup", "unique": ["slug"]})
    assert response.status_code == 201


def test_unique_by_timeout_compares_durations(api, project):
    CheckFactory(project=project, timeout=timedelta(seconds=300))
    response = api.post("checks/", {"timeout": 300, "unique": ["timeout"]})
    assert response.status_code == 200


def test_unique_ignores_other_projects(api, project):
    CheckFactory(name="backup")
    response = api.post("checks/", {"name": "backup", "unique": ["name"]})
    assert response.status_code == 201


def test_unique_match_at_check_limit_is_still_200(api, project):
    ProfileFactory(user=project.owner, check_limit=0)
    CheckFactory(project=project, name="backup")
    response = api.post("checks/", {"name": "backup", "unique": ["name"]})
    assert response.status_code == 200


# --- update -------------------------------------------------------------------------


def test_update_changes_only_the_fields_sent(api, project):
    check = CheckFactory(project=project, name="n", tags="keep", desc="keep")
    api.post(f"checks/{check.code}", {"name": "renamed"})
    check.refresh_from_db()
    assert (check.name, check.tags, check.desc) == ("renamed", "keep", "keep")


def test_update_with_timeout_turns_cron_check_simple(api, project):
    check = CheckFactory(project=project, kind=Kind.CRON)
    api.post(f"checks/{check.code}", {"timeout": 3600})
    check.refresh_from_db()
    assert (check.kind, check.timeout) == (Kind.SIMPLE, timedelta(hours=1))


def test_update_recomputes_the_deadline(api, project):
    now = timezone.now()
    check = CheckFactory(project=project, status=Status.UP, last_ping=now)
    api.post(f"checks/{check.code}", {"timeout": 60, "grace": 60})
    check.refresh_from_db()
    assert check.alert_after == now + timedelta(seconds=120)


def test_update_v3_keeps_slug_when_renaming(api, project):
    check = CheckFactory(project=project, name="a", slug="keep")
    assert api.post(f"checks/{check.code}", {"name": "b"}).json()["slug"] == "keep"


def test_update_v1_reslugs_when_renaming(api, project):
    check = CheckFactory(project=project, name="a", slug="old")
    assert (
        api.post(f"checks/{check.code}", {"name": "New"}, v=1).json()["slug"] == "new"
    )


def test_update_unknown_check_is_404(api):
    response = api.post("checks/07c2f548-9850-4b27-af5d-6c9dc157ec02", {"name": "x"})
    assert response.status_code == 404


def test_update_racing_a_delete_is_empty_404(api, project, monkeypatch):
    check = CheckFactory(project=project)
    original = serializers.CheckSpecSerializer.check_fields

    def delete_first(self, **kw):
        Check.objects.filter(pk=check.pk).delete()
        return original(self, **kw)

    monkeypatch.setattr(serializers.CheckSpecSerializer, "check_fields", delete_first)
    response = api.post(f"checks/{check.code}", {"name": "late"})
    assert response.status_code == 404
    assert response.content == b""


# --- pause / resume -----------------------------------------------------------------


def test_pause_pauses_and_records_a_processed_flip(api, project):
    check = CheckFactory(project=project, status=Status.UP, last_ping=timezone.now())
    assert api.post(f"checks/{check.code}/pause").json()["status"] == "paused"
    flip = Flip.objects.get(owner=check)
    assert (flip.new_status, flip.processed is not None) == ("paused", True)


def test_pause_clears_a_running_start(api, project):
    check = CheckFactory(project=project, last_start=timezone.now())
    assert api.post(f"checks/{check.code}/pause").json()["started"] is False


def test_pausing_a_paused_check_changes_nothing(api, project):
    check = CheckFactory(project=project, status=Status.PAUSED)
    response = api.post(f"checks/{check.code}/pause")
    assert response.status_code == 200
    assert not Flip.objects.exists()


def test_pause_accepts_key_in_body(api, project, rw_key):
    check = CheckFactory(project=project)
    response = api.post(f"checks/{check.code}/pause", {"api_key": rw_key}, key=None)
    assert response.status_code == 200


def test_resume_makes_a_paused_check_new(api, project):
    check = CheckFactory(
        project=project, status=Status.PAUSED, last_ping=timezone.now()
    )
    data = api.post(f"checks/{check.code}/resume").json()
    assert (data["status"], data["last_ping"]) == ("new", None)


def test_resume_of_unpaused_check_is_409(api, project):
    check = CheckFactory(project=project, status=Status.UP)
    response = api.post(f"checks/{check.code}/resume")
    assert response.status_code == 409
    assert response.content == b"check is not paused"


# --- delete -------------------------------------------------------------------------


def test_delete_removes_the_check(api, project):
    check = CheckFactory(project=project)
    api.delete(f"checks/{check.code}")
    assert not Check.objects.exists()


def test_delete_answers_with_the_deleted_check_and_no_channels(api, project):
    check = CheckFactory(project=project, name="gone")
    check.channels.add(ChannelFactory(project=project))
    data = api.delete(f"checks/{check.code}").json()
    assert (data["name"], data["uuid"], data["channels"]) == (
        "gone",
        str(check.code),
        "",
    )


# --- reminders (hcserver addition) ----------------------------------------------------


def test_reminder_interval_null_uses_the_project_default(api, project):
    check = CheckFactory(project=project, reminder_interval=timedelta(hours=1))
    data = api.post(f"checks/{check.code}", {"reminder_interval": None}).json()
    check.refresh_from_db()
    assert (data["reminder_interval"], check.reminder_interval) == (None, None)


def test_reminder_interval_zero_turns_reminders_off_for_the_check(api, project):
    data = api.post("checks/", {"reminder_interval": 0}).json()
    assert data["reminder_interval"] == 0
    assert Check.objects.get().reminder_interval == timedelta(0)


def test_reminder_interval_in_seconds_is_stored(api, project):
    data = api.post("checks/", {"reminder_interval": 3600}).json()
    assert data["reminder_interval"] == 3600
    assert Check.objects.get().reminder_interval == timedelta(hours=1)


def test_check_list_shows_the_reminder_interval(api, project):
    CheckFactory(project=project, reminder_interval=timedelta(0))
    (data,) = api.get("checks/").json()["checks"]
    assert data["reminder_interval"] == 0


def test_reminders_off_cancel_the_next_reminder_of_a_down_check(api, project):
    project.reminder_interval = timedelta(hours=1)
    project.save()
    check = CheckFactory(
        project=project,
        status=Status.DOWN,
        next_reminder=timezone.now() + timedelta(minutes=30),
    )
    api.post(f"checks/{check.code}", {"reminder_interval": 0})
    check.refresh_from_db()
    assert check.next_reminder is None


def test_new_reminder_interval_schedules_a_down_checks_next_reminder(api, project):
    check = CheckFactory(project=project, status=Status.DOWN)
    api.post(f"checks/{check.code}", {"reminder_interval": 3600})
    check.refresh_from_db()
    assert check.next_reminder is not None
    assert check.next_reminder <= timezone.now() + timedelta(hours=1)
