"""Status maths (spec 3): pure functions, checked by examples and by properties."""

import contextlib
import itertools
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from checks import schedule
from checks.models import Kind, Status
from checks.schedule import ScheduleError

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@dataclass(frozen=True)
class FakeCheck:
    """The fields schedule.py reads, without a database."""

    kind: str = Kind.SIMPLE
    status: str = Status.NEW
    timeout: timedelta = timedelta(days=1)
    grace: timedelta = timedelta(hours=1)
    schedule: str = "* * * * *"
    tz: str = "UTC"
    last_ping: datetime | None = None
    last_start: datetime | None = None
    new_deadline: datetime | None = None


def up(**kwargs) -> FakeCheck:
    return FakeCheck(status=Status.UP, last_ping=T0, **kwargs)


def cron(expr: str, tz: str = "UTC", **kwargs) -> FakeCheck:
    return up(kind=Kind.CRON, schedule=expr, tz=tz, **kwargs)


# --- hypothesis strategies -----------------------------------------------------------

moments = st.datetimes(
    min_value=datetime(2001, 1, 1),  # noqa: DTZ001 - hypothesis wants naive bounds
    max_value=datetime(2037, 12, 31),  # noqa: DTZ001
    timezones=st.just(UTC),
)
periods = st.timedeltas(min_value=timedelta(minutes=1), max_value=timedelta(days=365))
offsets = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=800))
# Zones with DST, half-hour DST (Lord Howe), odd offsets and none at all.
zones = st.sampled_from(
    [
        "UTC",
        "Europe/Riga",
        "America/New_York",
        "Australia/Lord_Howe",
        "Asia/Kathmandu",
        "America/Santiago",
        "Pacific/Chatham",
    ]
)
RANK = {Status.UP: 0, Status.GRACE: 1, Status.DOWN: 2}


# --- simple checks -------------------------------------------------------------------


def test_simple_check_is_due_one_period_after_last_ping():
    assert schedule.grace_start(up(timeout=timedelta(hours=2))) == T0 + timedelta(
        hours=2
    )


def test_deadline_is_grace_after_due():
    check = up(timeout=timedelta(hours=2), grace=timedelta(minutes=5))
    assert schedule.going_down_after(check) == T0 + timedelta(hours=2, minutes=5)


@pytest.mark.parametrize(
    ("elapsed", "status"),
    [
        (timedelta(hours=23), Status.UP),
        (timedelta(days=1), Status.GRACE),
        (timedelta(hours=24, minutes=59), Status.GRACE),
        (timedelta(hours=25), Status.DOWN),
    ],
)
def test_simple_check_status_over_time(elapsed, status):
    assert schedule.status_at(up(), T0 + elapsed) == status


@given(last_ping=moments, timeout=periods, grace=periods, elapsed=offsets)
def test_simple_status_follows_period_and_grace(last_ping, timeout, grace, elapsed):
    check = FakeCheck(
        status=Status.UP, last_ping=last_ping, timeout=timeout, grace=grace
    )
    now = last_ping + elapsed
    expected = (
        Status.UP
        if elapsed < timeout
        else Status.GRACE
        if elapsed < timeout + grace
        else Status.DOWN
    )
    assert schedule.status_at(check, now) == expected


@given(last_ping=moments, timeout=periods, grace=periods, a=offsets, b=offsets)
def test_status_never_improves_without_a_ping(last_ping, timeout, grace, a, b):
    check = FakeCheck(
        status=Status.UP, last_ping=last_ping, timeout=timeout, grace=grace
    )
    early, late = sorted((a, b))
    assert (
        RANK[schedule.status_at(check, last_ping + early)]
        <= RANK[schedule.status_at(check, last_ping + late)]
    )


@given(last_ping=moments, timeout=periods, grace=periods)
def test_check_goes_down_exactly_at_its_deadline(last_ping, timeout, grace):
    check = FakeCheck(
        status=Status.UP, last_ping=last_ping, timeout=timeout, grace=grace
    )
    deadline = schedule.going_down_after(check)
    assert schedule.status_at(check, deadline) == Status.DOWN
    assert schedule.status_at(check, deadline - timedelta(microseconds=1)) != (
        Status.DOWN
    )


# --- stored statuses and runs (spec 3.2-3.4) -----------------------------------------


@pytest.mark.parametrize("status", [Status.NEW, Status.PAUSED, Status.DOWN])
def test_stored_status_without_run_is_shown(status):
    check = FakeCheck(status=status, last_ping=T0)
    assert schedule.status_at(check, T0 + timedelta(days=400)) == status
    assert schedule.grace_start(check) is None
    assert schedule.going_down_after(check) is None


@given(now=moments)
def test_stored_down_stays_down(now):
    check = FakeCheck(status=Status.DOWN, last_ping=T0)
    assert schedule.status_at(check, now) == Status.DOWN


@pytest.mark.parametrize("status", [Status.NEW, Status.PAUSED, Status.UP])
def test_started_check_goes_down_after_grace(status):
    check = FakeCheck(status=status, last_ping=T0, last_start=T0)
    later = T0 + timedelta(hours=1)
    assert schedule.going_down_after(check) == later
    assert schedule.status_at(check, later) == Status.DOWN


@given(
    status=st.sampled_from([Status.NEW, Status.PAUSED, Status.UP]),
    last_start=moments,
    grace=periods,
    elapsed=offsets,
)
def test_running_check_is_started_until_grace_passes(
    status, last_start, grace, elapsed
):
    check = FakeCheck(
        status=status,
        last_ping=last_start,
        last_start=last_start,
        grace=grace,
        timeout=timedelta(days=365),
    )
    now = last_start + elapsed
    shown = schedule.status_at(check, now, with_started=True)
    assert shown == (Status.STARTED if elapsed < grace else Status.DOWN)


def test_started_is_shown_only_when_asked():
    check = FakeCheck(status=Status.NEW, last_start=T0)
    assert schedule.status_at(check, T0) == Status.NEW
    assert schedule.status_at(check, T0, with_started=True) == Status.STARTED


def test_next_ping_of_running_up_check_is_its_start():
    # Spec 3.2 quirk: grace start = min(next expected ping, last_start).
    check = up(last_start=T0 + timedelta(minutes=10))
    assert schedule.grace_start(check) == T0 + timedelta(minutes=10)
    assert schedule.grace_start(check, with_started=False) == T0 + timedelta(days=1)


def test_run_started_after_due_time_does_not_postpone_deadline():
    check = up(last_start=T0 + timedelta(days=2))
    assert schedule.going_down_after(check) == T0 + timedelta(days=1, hours=1)


def test_run_on_down_check_sets_no_deadline():
    check = FakeCheck(status=Status.DOWN, last_ping=T0, last_start=T0)
    assert schedule.going_down_after(check) is None
    assert schedule.status_at(check, T0, with_started=True) == Status.STARTED


def test_new_check_with_boot_deadline_goes_down_then():
    check = FakeCheck(status=Status.NEW, new_deadline=T0)
    assert schedule.going_down_after(check) == T0
    assert schedule.status_at(check, T0 - timedelta(seconds=1)) == Status.NEW
    assert schedule.status_at(check, T0) == Status.DOWN


# --- cron ----------------------------------------------------------------------------


def test_cron_check_is_due_at_next_match():
    check = cron("0 3 * * *")
    assert schedule.grace_start(check) == datetime(2026, 3, 2, 3, 0, tzinfo=UTC)


def test_cron_next_match_is_strictly_after_last_ping():
    check = cron("0 12 * * *")  # T0 is 12:00 itself
    assert schedule.grace_start(check) == T0 + timedelta(days=1)


def test_cron_is_evaluated_in_the_checks_zone():
    check = cron("0 3 * * *", tz="Europe/Riga")  # UTC+2 in March before DST
    assert schedule.grace_start(check) == datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


def test_cron_in_grace_then_down():
    check = cron("0 13 * * *")
    assert schedule.status_at(check, T0 + timedelta(minutes=59)) == Status.UP
    assert schedule.status_at(check, T0 + timedelta(minutes=61)) == Status.GRACE
    assert schedule.status_at(check, T0 + timedelta(minutes=121)) == Status.DOWN


def test_cron_job_in_spring_forward_gap_runs_at_the_jump_new_york():
    # 2026-03-08 02:00 EST -> 03:00 EDT: 02:30 does not exist that night.
    runs = schedule.next_runs(
        Kind.CRON,
        "30 2 * * *",
        "America/New_York",
        datetime(2026, 3, 7, 12, tzinfo=UTC),
        3,
    )
    local = [r.astimezone(ZoneInfo("America/New_York")) for r in runs]
    assert [(d.day, d.hour, d.minute) for d in local] == [
        (8, 3, 0),
        (9, 2, 30),
        (10, 2, 30),
    ]


def test_cron_job_in_fall_back_fold_runs_once_new_york():
    # 2026-11-01 02:00 EDT -> 01:00 EST: 01:30 happens twice, the job runs once.
    runs = schedule.next_runs(
        Kind.CRON,
        "30 1 * * *",
        "America/New_York",
        datetime(2026, 10, 31, 12, tzinfo=UTC),
        2,
    )
    assert runs == [
        datetime(2026, 11, 1, 5, 30, tzinfo=UTC),
        datetime(2026, 11, 2, 6, 30, tzinfo=UTC),
    ]


def test_every_minute_job_runs_through_both_folds():
    runs = schedule.next_runs(
        Kind.CRON,
        "*/30 1 * * *",
        "America/New_York",
        datetime(2026, 11, 1, tzinfo=UTC),
        4,
    )
    assert [r.strftime("%H:%M") for r in runs] == ["05:00", "05:30", "06:00", "06:30"]


def test_cron_job_in_spring_forward_gap_runs_at_the_jump_riga():
    # 2026-03-29 03:00 EET -> 04:00 EEST.
    runs = schedule.next_runs(
        Kind.CRON,
        "30 3 * * *",
        "Europe/Riga",
        datetime(2026, 3, 28, 12, tzinfo=UTC),
        2,
    )
    assert runs == [
        datetime(2026, 3, 29, 1, 0, tzinfo=UTC),
        datetime(2026, 3, 30, 0, 30, tzinfo=UTC),
    ]


def test_cron_check_due_across_dst_change():
    check = cron("30 2 * * *", tz="America/New_York", grace=timedelta(minutes=10))
    check = replace(check, last_ping=datetime(2026, 3, 7, 7, 35, tzinfo=UTC))
    assert schedule.going_down_after(check) == datetime(2026, 3, 8, 7, 10, tzinfo=UTC)


@given(
    zone=zones,
    hour=st.integers(0, 23),
    minute=st.integers(0, 59),
    after=moments,
)
def test_daily_cron_job_runs_once_every_local_day(zone, hour, minute, after):
    runs = schedule.next_runs(Kind.CRON, f"{minute} {hour} * * *", zone, after, 4)
    assert len(runs) == 4
    assert runs[0] > after
    assert all(a < b for a, b in itertools.pairwise(runs))
    days = [r.astimezone(ZoneInfo(zone)).date() for r in runs]
    assert all((b - a) == timedelta(days=1) for a, b in itertools.pairwise(days))


@given(
    zone=zones,
    expr=st.sampled_from(["0 3 * * *", "*/15 * * * 1-5", "5 4 1 * *"]),
    last_ping=moments,
)
def test_cron_grace_start_is_the_first_run_after_last_ping(zone, expr, last_ping):
    check = FakeCheck(
        kind=Kind.CRON, status=Status.UP, schedule=expr, tz=zone, last_ping=last_ping
    )
    first = schedule.next_runs(Kind.CRON, expr, zone, last_ping, 1)[0]
    assert schedule.grace_start(check) == first > last_ping
    assert first.second == 0


# --- OnCalendar ----------------------------------------------------------------------


def test_oncalendar_check_is_due_at_next_match():
    check = up(kind=Kind.ONCALENDAR, schedule="Mon *-*-* 09:00", tz="Europe/Riga")
    # 2026-03-01 is a Sunday; Monday 09:00 in Riga is 07:00 UTC.
    assert schedule.grace_start(check) == datetime(2026, 3, 2, 7, 0, tzinfo=UTC)


def test_oncalendar_lines_are_all_used():
    runs = schedule.next_runs(Kind.ONCALENDAR, "08:00\n20:00", "UTC", T0, 3)
    assert [r.hour for r in runs] == [20, 8, 20]


def test_oncalendar_that_has_ended_is_never_due():
    check = up(kind=Kind.ONCALENDAR, schedule="2020-01-01 00:00")
    assert schedule.grace_start(check) is None
    assert schedule.status_at(check, T0 + timedelta(days=999)) == Status.UP


def test_oncalendar_skips_time_in_spring_forward_gap():
    # systemd semantics: a time that does not exist that day is skipped.
    runs = schedule.next_runs(
        Kind.ONCALENDAR,
        "*-*-* 02:30",
        "America/New_York",
        datetime(2026, 3, 7, 12, tzinfo=UTC),
        2,
    )
    assert [r.astimezone(ZoneInfo("America/New_York")).day for r in runs] == [9, 10]


@given(zone=zones, hour=st.integers(0, 23), after=moments)
def test_daily_oncalendar_runs_at_most_once_a_local_day(zone, hour, after):
    runs = schedule.next_runs(Kind.ONCALENDAR, f"*-*-* {hour:02}:00", zone, after, 4)
    assert runs[0] > after
    days = [r.astimezone(ZoneInfo(zone)).date() for r in runs]
    assert len(set(days)) == 4
    assert all(
        timedelta(days=1) <= b - a <= timedelta(days=2)
        for a, b in itertools.pairwise(days)
    )


# --- validation ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expr", "kind"),
    [
        ("0 3 * * *", Kind.CRON),
        ("*/5 * * * MON-FRI", Kind.CRON),
        ("0 0 29 2 *", Kind.CRON),
        ("0 3 * * *\n", Kind.CRON),
        ("Mon..Fri 09:00", Kind.ONCALENDAR),
        ("daily", Kind.ONCALENDAR),
        ("08:00\n20:00 Europe/Riga", Kind.ONCALENDAR),
    ],
)
def test_valid_schedules(expr, kind):
    assert schedule.validate_schedule(expr) == kind


@pytest.mark.parametrize(
    ("expr", "message"),
    [
        ("0 0 31 2 *", "'0 0 31 2 *' is not a valid cron expression: bad day-of-month"),
        ("61 * * * *", "'61 * * * *' is not a valid cron expression: bad minute"),
        ("* * * * * *", "'* * * * * *' is not a valid OnCalendar expression"),
        ("", "'' is not a valid OnCalendar expression"),
        ("2000-02-30 12:00", "OnCalendar expression '2000-02-30 12:00' never matches"),
        ("0 " * 60, "schedule is longer than 100 characters"),
    ],
)
def test_invalid_schedules_are_refused_with_reason(expr, message):
    with pytest.raises(ScheduleError) as e:
        schedule.validate_schedule(expr)
    assert str(e.value).startswith(message)


@given(text=st.text(max_size=100))
def test_validation_raises_nothing_but_schedule_error(text):
    with contextlib.suppress(ScheduleError):
        schedule.validate_schedule(text)


@pytest.mark.parametrize(
    ("tz", "canonical"),
    [
        ("Europe/Riga", "Europe/Riga"),
        ("UTC", "UTC"),
        ("Europe/Kiev", "Europe/Kyiv"),
        ("UCT", "Etc/UTC"),
        ("CET", "Europe/Brussels"),
    ],
)
def test_time_zones_are_canonicalised(tz, canonical):
    assert schedule.canonical_tz(tz) == canonical


@pytest.mark.parametrize("tz", ["", "Mars/Olympus", "europe/riga", "../etc/passwd"])
def test_unknown_time_zone_is_refused(tz):
    with pytest.raises(ScheduleError, match="is not a valid time zone"):
        schedule.canonical_tz(tz)


def test_stored_garbage_schedule_is_never_due():
    check = cron("not a schedule")
    assert schedule.grace_start(check) is None


# --- descriptions --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("duration", "text"),
    [
        (timedelta(days=1), "1 day"),
        (timedelta(hours=2, minutes=30), "2 hours 30 minutes"),
        (timedelta(seconds=90), "1 minute 30 seconds"),
        (timedelta(days=14), "2 weeks"),
        (timedelta(0), "0 seconds"),
    ],
)
def test_format_duration(duration, text):
    assert schedule.format_duration(duration) == text


def test_describe_simple_schedule():
    assert schedule.describe_schedule(FakeCheck()) == "every 1 day, 1 hour grace"


def test_describe_cron_schedule():
    check = cron("0 3 * * *", tz="Europe/Riga", grace=timedelta(minutes=5))
    assert (
        schedule.describe_schedule(check)
        == "cron `0 3 * * *` in Europe/Riga, 5 minutes grace"
    )


def test_describe_oncalendar_schedule_joins_lines():
    check = up(kind=Kind.ONCALENDAR, schedule="08:00\n20:00\n")
    assert (
        schedule.describe_schedule(check)
        == "OnCalendar `08:00; 20:00` in UTC, 1 hour grace"
    )


def test_describe_expression_without_grace():
    assert (
        schedule.describe_expression(Kind.CRON, "0 3 * * *", "Europe/Riga")
        == "cron `0 3 * * *` in Europe/Riga"
    )
