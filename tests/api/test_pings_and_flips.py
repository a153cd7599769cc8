"""`pings/`, ping bodies and `flips/` (spec 4.6.9-4.6.11)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from checks.models import Flip, Ping, PingKind, Profile, Status
from tests.factories import CheckFactory

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 1, 12, 0, 0, 250000, tzinfo=UTC)


def add_ping(check, n, kind=PingKind.SUCCESS, at=T0, rid=None, body=None):
    check.n_pings = max(check.n_pings, n)
    check.save(update_fields=["n_pings"])
    return Ping.objects.create(owner=check, n=n, created=at, kind=kind, rid=rid,
                               body=body, method="POST", ua="curl")  # fmt: skip


def flip(check, new, at):
    Flip.objects.create(owner=check, created=at, old_status="new", new_status=new)


# --- pings --------------------------------------------------------------------------


def test_pings_newest_first_with_upstream_fields(api, project):
    check = CheckFactory(project=project)
    add_ping(check, 1, body=b"log")
    add_ping(check, 2, PingKind.FAIL, at=T0 + timedelta(minutes=1))
    pings = api.get(f"checks/{check.code}/pings/").json()["pings"]
    assert [p["n"] for p in pings] == [2, 1]
    assert list(pings[1]) == ["type", "date", "n", "scheme", "remote_addr", "method",
                              "ua", "rid", "body_url"]  # fmt: skip


def test_ping_date_keeps_microseconds(api, project):
    check = CheckFactory(project=project)
    add_ping(check, 1)
    ping = api.get(f"checks/{check.code}/pings/").json()["pings"][0]
    assert ping["date"] == "2026-03-01T12:00:00.250000+00:00"


def test_body_url_only_when_there_is_a_body(api, project):
    check = CheckFactory(project=project)
    add_ping(check, 1, body=b"hello")
    add_ping(check, 2)
    pings = api.get(f"checks/{check.code}/pings/", v=2).json()["pings"]
    assert pings[0]["body_url"] is None
    assert pings[1]["body_url"].endswith(f"/api/v2/checks/{check.code}/pings/1/body")


def test_ping_types(api, project):
    check = CheckFactory(project=project)
    for n, kind in enumerate(PingKind, start=1):
        add_ping(check, n, kind, at=T0 + timedelta(seconds=n))
    types = [p["type"] for p in api.get(f"checks/{check.code}/pings/").json()["pings"]]
    assert types == ["ign", "log", "fail", "start", "success"]


def test_duration_of_a_run_with_matching_rid(api, project):
    check = CheckFactory(project=project)
    rid = uuid.uuid4()
    add_ping(check, 1, PingKind.START, at=T0, rid=rid)
    add_ping(check, 2, at=T0 + timedelta(seconds=90.5), rid=rid)
    finish = api.get(f"checks/{check.code}/pings/").json()["pings"][0]
    assert (finish["duration"], finish["rid"]) == (90.5, str(rid))


def test_overlapping_runs_get_their_own_durations(api, project):
    check = CheckFactory(project=project)
    a, b = uuid.uuid4(), uuid.uuid4()
    add_ping(check, 1, PingKind.START, at=T0, rid=a)
    add_ping(check, 2, PingKind.START, at=T0 + timedelta(seconds=60), rid=b)
    add_ping(check, 3, at=T0 + timedelta(seconds=120), rid=a)
    add_ping(check, 4, at=T0 + timedelta(seconds=360), rid=b)
    pings = api.get(f"checks/{check.code}/pings/").json()["pings"]
    assert [p.get("duration") for p in pings] == [300.0, 120.0, None, None]


def test_no_duration_after_another_finish(api, project):
    check = CheckFactory(project=project)
    add_ping(check, 1, PingKind.START, at=T0)
    add_ping(check, 2, at=T0 + timedelta(seconds=10))
    add_ping(check, 3, at=T0 + timedelta(seconds=20))
    assert "duration" not in api.get(f"checks/{check.code}/pings/").json()["pings"][0]


def test_no_duration_for_runs_longer_than_72_hours(api, project):
    check = CheckFactory(project=project)
    add_ping(check, 1, PingKind.START, at=T0)
    add_ping(check, 2, at=T0 + timedelta(hours=73))
    assert "duration" not in api.get(f"checks/{check.code}/pings/").json()["pings"][0]


def test_duration_found_beyond_the_page(api, project):
    Profile.objects.create(user=project.owner, ping_log_limit=100)
    check = CheckFactory(project=project)
    add_ping(check, 1, PingKind.START, at=T0)
    for n in range(2, 102):
        add_ping(check, n, PingKind.LOG, at=T0 + timedelta(seconds=n))
    add_ping(check, 102, at=T0 + timedelta(seconds=200))
    Ping.objects.filter(n__in=range(2, 4)).delete()
    pings = api.get(f"checks/{check.code}/pings/").json()["pings"]
    assert pings[0]["duration"] == 200.0


def _runs_started_before_the_page(check, finishes):
    rids = [uuid.uuid4() for _ in range(finishes)]
    for n, rid in enumerate(rids, start=1):
        add_ping(check, n, PingKind.START, at=T0, rid=rid)
    for n, rid in enumerate(rids, start=finishes + 1):
        add_ping(check, n, at=T0 + timedelta(seconds=n), rid=rid)


def test_durations_looked_up_for_up_to_ten_runs_started_before_the_page(api, project):
    Profile.objects.create(user=project.owner, ping_log_limit=10)
    check = CheckFactory(project=project)
    _runs_started_before_the_page(check, 10)
    pings = api.get(f"checks/{check.code}/pings/").json()["pings"]
    assert all("duration" in p for p in pings)


def test_durations_dropped_when_more_than_ten_need_a_lookup(api, project):
    Profile.objects.create(user=project.owner, ping_log_limit=11)
    check = CheckFactory(project=project)
    _runs_started_before_the_page(check, 11)
    pings = api.get(f"checks/{check.code}/pings/").json()["pings"]
    assert len(pings) == 11
    assert all("duration" not in p for p in pings)


def test_pings_limited_to_the_ping_log_limit(api, project):
    Profile.objects.create(user=project.owner, ping_log_limit=3)
    check = CheckFactory(project=project)
    for n in range(1, 6):
        add_ping(check, n, at=T0 + timedelta(seconds=n))
    pings = api.get(f"checks/{check.code}/pings/").json()["pings"]
    assert [p["n"] for p in pings] == [5, 4, 3]


# --- ping body ----------------------------------------------------------------------


def test_ping_body_is_returned_as_text(api, project):
    check = CheckFactory(project=project)
    add_ping(check, 1, body=b"hello \xe9 world")
    response = api.get(f"checks/{check.code}/pings/1/body")
    assert response["Content-Type"] == "text/plain"
    assert response.content == b"hello \xe9 world"


def test_missing_ping_body_is_404(api, project):
    check = CheckFactory(project=project)
    add_ping(check, 1)
    assert api.get(f"checks/{check.code}/pings/1/body").status_code == 404


def test_unknown_ping_number_is_404(api, project):
    check = CheckFactory(project=project)
    assert api.get(f"checks/{check.code}/pings/7/body").status_code == 404


def test_body_of_a_ping_beyond_the_log_limit_is_404(api, project):
    Profile.objects.create(user=project.owner, ping_log_limit=1)
    check = CheckFactory(project=project)
    add_ping(check, 1, body=b"old")
    add_ping(check, 2, body=b"new")
    assert api.get(f"checks/{check.code}/pings/1/body").status_code == 404


# --- flips --------------------------------------------------------------------------


def test_flips_newest_first_without_microseconds(api, project):
    check = CheckFactory(project=project)
    flip(check, Status.DOWN, T0)
    flip(check, Status.UP, T0 + timedelta(hours=1))
    assert api.get(f"checks/{check.code}/flips/").json() == {
        "flips": [
            {"timestamp": "2026-03-01T13:00:00+00:00", "up": 1},
            {"timestamp": "2026-03-01T12:00:00+00:00", "up": 0},
        ]
    }


def test_flip_to_paused_reports_up_0(api, project):
    check = CheckFactory(project=project)
    flip(check, Status.PAUSED, T0)
    assert api.get(f"checks/{check.code}/flips/").json()["flips"][0]["up"] == 0


def test_flips_by_unique_key(ro_api, project):
    check = CheckFactory(project=project)
    flip(check, Status.UP, T0)
    assert len(ro_api.get(f"checks/{check.unique_key}/flips/").json()["flips"]) == 1


def test_flips_start_and_end_filter(api, project):
    check = CheckFactory(project=project)
    for hours in range(3):
        flip(check, Status.UP, T0 + timedelta(hours=hours))
    start = int((T0 + timedelta(minutes=30)).timestamp())
    end = int((T0 + timedelta(hours=2)).timestamp())
    flips = api.get(f"checks/{check.code}/flips/?start={start}&end={end}").json()
    assert [f["timestamp"] for f in flips["flips"]] == ["2026-03-01T13:00:00+00:00"]


def test_flips_seconds_filter(api, project):
    check = CheckFactory(project=project)
    flip(check, Status.UP, timezone.now() - timedelta(hours=2))
    flip(check, Status.DOWN, timezone.now() - timedelta(minutes=5))
    flips = api.get(f"checks/{check.code}/flips/?seconds=3600").json()["flips"]
    assert [f["up"] for f in flips] == [0]


def test_flips_zero_means_no_filter(api, project):
    check = CheckFactory(project=project)
    flip(check, Status.UP, T0)
    flips = api.get(f"checks/{check.code}/flips/?seconds=0&start=0&end=0").json()
    assert len(flips["flips"]) == 1


@pytest.mark.parametrize(
    "query",
    ["start=abc", "start=-1", "start=10000000001", "end=1.5", "seconds=-1",
     "seconds=31536001"],
)  # fmt: skip
def test_bad_flip_filters_are_empty_400(api, project, query):
    check = CheckFactory(project=project)
    response = api.get(f"checks/{check.code}/flips/?{query}")
    assert response.status_code == 400
    assert response.content == b""


def test_post_to_flips_is_empty_405(api, project):
    check = CheckFactory(project=project)
    response = api.post(f"checks/{check.code}/flips/")
    assert response.status_code == 405
    assert response.content == b""
