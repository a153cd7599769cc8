"""Status and deadline maths: pure functions of a check's stored fields and `now`.

Nothing here queries the database. `alert_after` (what the scan polls) is
`going_down_after(check)`, stored after every write that changes its inputs.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from cronsim import CronSim, CronSimError
from oncalendar import OnCalendar, OnCalendarError

from checks.models import Kind, Status

if TYPE_CHECKING:
    from collections.abc import Iterator

# Upstream's legacy names, mapped to what they became.
LEGACY_TZ = {"Europe/Kiev": "Europe/Kyiv", "UCT": "Etc/UTC", "CET": "Europe/Brussels"}
ALL_TIMEZONES = frozenset(available_timezones()) | {"UTC"}


class ScheduledCheck(Protocol):
    """The fields of a Check that status maths reads (a Check or a test stand-in)."""

    kind: str
    status: str
    timeout: timedelta
    grace: timedelta
    schedule: str
    tz: str
    last_ping: datetime | None
    last_start: datetime | None
    new_deadline: datetime | None


class ScheduleError(ValueError):
    """A cron/OnCalendar expression or time zone that cannot be used."""


def canonical_tz(tz: str) -> str:
    """The time zone name to store, or ScheduleError if it is not a known zone."""
    tz = LEGACY_TZ.get(tz, tz)
    if tz not in ALL_TIMEZONES:
        raise ScheduleError(f"{tz!r} is not a valid time zone")
    return tz


def is_cron(schedule: str) -> bool:
    """One line of exactly five fields is cron; anything else is OnCalendar."""
    return "\n" not in schedule.strip() and len(schedule.split()) == 5


def schedule_kind(schedule: str) -> Kind:
    return Kind.CRON if is_cron(schedule) else Kind.ONCALENDAR


def _zone(tz: str) -> ZoneInfo:
    try:
        return ZoneInfo(LEGACY_TZ.get(tz, tz))
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def iter_schedule(
    kind: str, schedule: str, tz: str, after: datetime
) -> Iterator[datetime]:
    """Matches of a cron/OnCalendar schedule strictly after `after`, in UTC.

    Cron is evaluated at minute resolution in `tz`; cronsim handles DST gaps and
    repeated hours. OnCalendar lines may carry their own zone, else `tz` applies.
    """
    local = after.astimezone(_zone(tz))
    it: Iterator[datetime] = (
        CronSim(schedule, local) if kind == Kind.CRON else OnCalendar(schedule, local)
    )
    for moment in it:
        if moment > after:
            yield moment.astimezone(UTC)


# Matches the Check.schedule column (spec 4.5: a schedule is at most 100 characters).
SCHEDULE_MAX_LENGTH = 100


def validate_schedule(schedule: str) -> Kind:
    """The kind of a schedule; ScheduleError if it does not parse or never fires.

    One line of five fields is cron, anything else OnCalendar (spec 4.5). Like
    upstream, a schedule must yield a time after 2000-01-01, so `0 0 31 2 *`
    (February 31st) is refused.
    """
    if len(schedule) > SCHEDULE_MAX_LENGTH:
        raise ScheduleError(f"schedule is longer than {SCHEDULE_MAX_LENGTH} characters")
    kind = schedule_kind(schedule)
    label = "cron" if kind == Kind.CRON else "OnCalendar"
    start = datetime(2000, 1, 1, tzinfo=UTC)
    try:
        next(iter_schedule(kind, schedule, "UTC", start))
    except StopIteration as e:
        raise ScheduleError(f"{label} expression {schedule!r} never matches") from e
    except (CronSimError, OnCalendarError, ValueError, KeyError) as e:
        detail = str(e)
        detail = detail[:1].lower() + detail[1:]
        raise ScheduleError(
            f"{schedule!r} is not a valid {label} expression"
            + (f": {detail}" if detail else "")
        ) from e
    return kind


def next_runs(
    kind: str, schedule: str, tz: str, after: datetime, count: int = 5
) -> list[datetime]:
    """The next `count` expected times (for previews); fewer when the schedule ends."""
    runs: list[datetime] = []
    for moment in iter_schedule(kind, schedule, tz, after):
        runs.append(moment)
        if len(runs) == count:
            break
    return runs


def _next_expected(check: ScheduledCheck) -> datetime | None:
    """When the next success ping is due, for an up check (None: never)."""
    assert check.last_ping is not None  # noqa: S101 - callers check status == up
    if check.kind == Kind.SIMPLE:
        return check.last_ping + check.timeout
    try:
        return next(
            iter_schedule(check.kind, check.schedule, check.tz, check.last_ping)
        )
    except (CronSimError, OnCalendarError, StopIteration, ValueError, KeyError):
        return None


def grace_start(check: ScheduledCheck, *, with_started: bool = True) -> datetime | None:
    """The moment a check becomes late (API `next_ping`); None when nothing is due.

    A running check (last_start set) is due at last_start at the latest, so a run
    that outlives its grace goes down even while the check is new or paused.
    """
    result: datetime | None = None
    if check.status == Status.UP and check.last_ping is not None:
        result = _next_expected(check)
    if with_started and check.last_start is not None and check.status != Status.DOWN:
        result = check.last_start if result is None else min(result, check.last_start)
    return result


def going_down_after(check: ScheduledCheck) -> datetime | None:
    """The deadline: the moment the check goes down without further pings."""
    start = grace_start(check)
    deadline = start + check.grace if start is not None else None
    if check.status == Status.NEW and check.new_deadline is not None:
        deadline = (
            check.new_deadline
            if deadline is None
            else min(deadline, check.new_deadline)
        )
    return deadline


def status_at(
    check: ScheduledCheck, now: datetime, *, with_started: bool = False
) -> Status:
    """What the dashboard and API show at `now`; may be ahead of the stored status."""
    if check.last_start is not None:
        if now >= check.last_start + check.grace:
            return Status.DOWN
        if with_started:
            return Status.STARTED
    if check.status == Status.NEW and check.new_deadline is not None:
        return Status.DOWN if now >= check.new_deadline else Status.NEW
    if check.status != Status.UP:
        return Status(check.status)
    due = grace_start(check, with_started=False)
    if due is None or now < due:
        return Status.UP
    return Status.GRACE if now < due + check.grace else Status.DOWN


UNITS = (
    ("week", 7 * 24 * 3600),
    ("day", 24 * 3600),
    ("hour", 3600),
    ("minute", 60),
    ("second", 1),
)


def format_duration(duration: timedelta) -> str:
    """`1 day`, `2 hours 30 minutes`, `90 seconds` → `1 minute 30 seconds`."""
    remaining = int(duration.total_seconds())
    parts = []
    for name, seconds in UNITS:
        count, remaining = divmod(remaining, seconds)
        if count:
            parts.append(f"{count} {name}{'' if count == 1 else 's'}")
    return " ".join(parts) or "0 seconds"


def describe_expression(kind: str, schedule: str, tz: str) -> str:
    """A cron/OnCalendar schedule in one line: `cron `0 3 * * *` in Europe/Riga`."""
    label = "cron" if kind == Kind.CRON else "OnCalendar"
    lines = (line.strip() for line in schedule.strip().splitlines())
    return f"{label} `{'; '.join(line for line in lines if line)}` in {tz}"


def describe_schedule(check: ScheduledCheck) -> str:
    """One line for people: `every 1 day, 1 hour grace` or `cron `0 3 * * *` in UTC`."""
    grace = f"{format_duration(check.grace)} grace"
    if check.kind == Kind.SIMPLE:
        return f"every {format_duration(check.timeout)}, {grace}"
    return f"{describe_expression(check.kind, check.schedule, check.tz)}, {grace}"
