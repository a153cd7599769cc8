"""Presentation helpers for the checks pages: pure functions, no queries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from checks import schedule
from checks.models import Kind, PingKind, Status

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from checks.models import Check, Ping

UNITS = (("week", 604800), ("day", 86400), ("hour", 3600), ("minute", 60))

# Keyed by str: templates look labels up with plain status strings.
STATUS_LABELS: dict[str, str] = {
    Status.NEW: "New, no pings yet",
    Status.UP: "Up",
    Status.GRACE: "Late (in grace time)",
    Status.DOWN: "Down",
    Status.PAUSED: "Paused",
    Status.STARTED: "Running",
}

# Down first, then late, then the rest: what needs attention is on top.
STATUS_RANK = {
    Status.DOWN: 0,
    Status.GRACE: 1,
    Status.STARTED: 2,
    Status.UP: 3,
    Status.NEW: 4,
    Status.PAUSED: 5,
}


def format_duration(td: timedelta, *, parts: int = 2) -> str:
    """`timedelta(days=1, hours=2)` -> "1 day 2 hours"; seconds only under a minute."""
    seconds = int(td.total_seconds())
    if seconds < 60:
        return f"{seconds} second" + ("" if seconds == 1 else "s")
    out: list[str] = []
    for name, size in UNITS:
        amount, seconds = divmod(seconds, size)
        if amount:
            out.append(f"{amount} {name}" + ("" if amount == 1 else "s"))
        if len(out) == parts:
            break
    return " ".join(out)


def short_duration(td: timedelta) -> str:
    """A compact run time for logs and charts: "850 ms", "12 s", "3 min 5 s"."""
    seconds = td.total_seconds()
    if seconds < 1:
        return f"{int(seconds * 1000)} ms"
    if seconds < 60:
        return f"{seconds:.1f} s" if seconds < 10 else f"{int(seconds)} s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


def schedule_words(check: Check) -> str:
    """The schedule in words for lists: "every 1 day" or the cron line and its zone."""
    if check.kind == Kind.SIMPLE:
        return f"every {format_duration(check.timeout)}"
    return schedule.describe_expression(check.kind, check.schedule, check.tz)


def ping_kind_label(ping: Ping) -> str:
    """Healthchecks' display kinds: Success, Failure, Exit status N, Start, ..."""
    if ping.kind == PingKind.FAIL and ping.exitstatus:
        return f"Exit status {ping.exitstatus}"
    return {
        PingKind.SUCCESS: "Success",
        PingKind.FAIL: "Failure",
        PingKind.START: "Start",
        PingKind.LOG: "Log",
        PingKind.IGNORED: "Ignored",
    }.get(PingKind(ping.kind), ping.kind)


@dataclass(frozen=True)
class Run:
    """One start -> finish pair: what the duration chart draws."""

    n: int
    finished: datetime
    duration: timedelta
    failed: bool


def run_durations(pings: Sequence[Ping], max_duration: timedelta) -> dict[int, Run]:
    """Durations of finish pings (keyed by ping n) from a newest-first ping list.

    A success/fail ping's run started at the nearest earlier start ping with the
    same run id, unless another success/fail with that run id came in between.
    Pings whose start fell off the list get no duration.
    """
    runs: dict[int, Run] = {}
    # Walk oldest first, remembering the open start per run id.
    open_starts: dict[object, Ping] = {}
    for ping in reversed(pings):
        if ping.kind == PingKind.START:
            open_starts[ping.rid] = ping
        elif ping.kind in (PingKind.SUCCESS, PingKind.FAIL):
            start = open_starts.pop(ping.rid, None)
            if start is not None and ping.created - start.created < max_duration:
                runs[ping.n] = Run(
                    n=ping.n,
                    finished=ping.created,
                    duration=ping.created - start.created,
                    failed=ping.kind == PingKind.FAIL,
                )
    return runs


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    failed: bool
    label: str


@dataclass(frozen=True)
class Chart:
    """An inline SVG bar chart of run durations (oldest left)."""

    width: int
    height: int
    bars: list[Bar]
    max_label: str


CHART_WIDTH = 600
CHART_HEIGHT = 120


def duration_chart(runs: Iterable[Run]) -> Chart | None:
    """Bars scaled to the longest run; None when there is nothing to draw."""
    ordered = sorted(runs, key=lambda r: r.n)
    if not ordered:
        return None
    longest = max(r.duration for r in ordered).total_seconds() or 1.0
    slot = CHART_WIDTH / len(ordered)
    bars = []
    for i, run in enumerate(ordered):
        height = max(1.0, run.duration.total_seconds() / longest * CHART_HEIGHT)
        bars.append(
            Bar(
                x=round(i * slot + slot * 0.1, 2),
                y=round(CHART_HEIGHT - height, 2),
                width=round(slot * 0.8, 2),
                height=round(height, 2),
                failed=run.failed,
                label=f"#{run.n}: {short_duration(run.duration)}",
            )
        )
    return Chart(
        CHART_WIDTH,
        CHART_HEIGHT,
        bars,
        short_duration(max(r.duration for r in ordered)),
    )
