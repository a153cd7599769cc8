"""Alerting: due checks -> flips -> notifications, and the delivery state machine.

Every function is safe to run in several processes at once: the database holds
the work (conditional UPDATEs, `SKIP LOCKED` on PostgreSQL, a unique notification
per flip and channel) and a Celery message only says "work is waiting". The
periodic `requeue()` finds what a lost message or a killed worker left behind, so
delivery is at-least-once. docs/alerts.md describes the guarantees.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, TypedDict, cast
from zoneinfo import ZoneInfo

from celery import schedules as celery_schedules
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import close_old_connections, connections, transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.utils import timezone

from checks import ratelimit, schedule
from checks.models import (
    AlertHeartbeat,
    Channel,
    Check,
    DeliveryAttempt,
    DeliveryState,
    Flip,
    Notification,
    NotificationKind,
    Profile,
    Project,
    Reason,
    Reports,
    Status,
)
from integrations import email, email_links, http, registry
from integrations.base import DeliveryError
from integrations.message import for_delivery, pending_for_delivery

if TYPE_CHECKING:
    from collections.abc import Iterable

    from celery import Task
    from kombu.transport.virtual import Channel as VirtualChannel

log = logging.getLogger(__name__)

BACKOFF_FIRST = timedelta(minutes=1)
BACKOFF_MAX = timedelta(hours=1)
# One tick stops making flips after this many so that fan-out is not starved.
SCAN_LIMIT = 100_000


def _seconds(name: str) -> timedelta:
    return timedelta(seconds=float(getattr(settings, name)))


# --- the scan: outage guard, due checks -> flips ------------------------------------


def tick(*, now: datetime | None = None) -> tuple[int, int]:
    """One pass of the alert loop: (flips created, notifications queued)."""
    now = now or timezone.now()
    guard_outage(now=now)
    flips = notifications = 0
    batch = settings.ALERT_BATCH_SIZE
    while True:
        handled, created = scan_due(now=now, batch=batch)
        flips += created
        # Fan out after every batch: the first alerts of a burst leave at once.
        while True:
            fanned, queued = fan_out(now=now, batch=batch)
            notifications += queued
            if fanned < batch:
                break
        if handled < batch or flips >= SCAN_LIMIT:
            break
    return flips, notifications


def guard_outage(*, now: datetime) -> int:
    """Record this scan; after a long gap between scans, push deadlines inside it.

    The scan runs every few seconds, so a long gap means the database (or the
    whole service) was unreachable and pings may have been refused meanwhile. A
    check whose deadline fell in the gap gets ALERT_OUTAGE_GRACE to ping again
    instead of a false alert. Returns the number of checks whose deadline moved.
    """
    with transaction.atomic():
        beat = AlertHeartbeat.objects.select_for_update().filter(pk=1).first()
        # No earlier scan on record (the first scan ever: a database outage may
        # come before it, or this is an upgrade's first scan after downtime): the
        # whole past is the gap.
        last = beat.last_scan if beat is not None else None
        if last is not None and now <= last:
            return 0
        pushed = 0
        if last is None or now - last > _seconds("ALERT_OUTAGE_AFTER"):
            # Pings recorded inside the gap prove little: once the database is back,
            # clients' retries get through before the next scan. So every gap counts
            # (a worker-only outage delays such alerts, it never invents one).
            inside = Check.objects.filter(alert_after__lte=now)
            if last is not None:
                inside = inside.filter(alert_after__gt=last)
            pushed = inside.exclude(status=Status.DOWN).update(
                alert_after=now + _seconds("ALERT_OUTAGE_GRACE")
            )
            if pushed or last is not None:  # a first scan on a fresh install: quiet
                log.warning(
                    "no alert scan between %s and %s: %d deadlines inside that "
                    "window moved to give pings time to arrive",
                    last.isoformat() if last is not None else "(none on record)",
                    now.isoformat(),
                    pushed,
                )
        AlertHeartbeat.objects.update_or_create(pk=1, defaults={"last_scan": now})
    return pushed


def scan_due(*, now: datetime, batch: int = 500) -> tuple[int, int]:
    """Move due checks to down, one timeout Flip each: (checks handled, flips made)."""
    with transaction.atomic():
        # SKIP LOCKED: concurrent scans take disjoint batches, and a check being
        # pinged right now is left for the next scan instead of waited for.
        due = list(
            Check.objects.select_for_update(skip_locked=True)
            .filter(alert_after__lte=now)
            .exclude(status=Status.DOWN)
            .order_by("alert_after")[:batch]
        )
        # The rows cannot change under us until commit: locked FOR UPDATE on
        # PostgreSQL, and SQLite transactions here take the write lock at BEGIN.
        flips: list[Flip] = []
        for check in due:
            if schedule.status_at(check, now) == Status.DOWN:
                # alert_after__lte above: never None for a check in `due`.
                down_at = schedule.going_down_after(check) or cast(
                    datetime, check.alert_after
                )
                flips.append(
                    Flip(
                        owner=check,
                        created=down_at,
                        old_status=check.status,
                        new_status=Status.DOWN,
                        reason=Reason.TIMEOUT,
                    )
                )
                continue
            deadline = schedule.going_down_after(check)
            if deadline is not None and deadline <= now:
                # Maths disagree with the cached deadline; never spin on one check.
                log.error("check %s: deadline %s is not ahead", check.pk, deadline)
                deadline = now + timedelta(hours=1)
            Check.objects.filter(pk=check.pk).update(alert_after=deadline)
        # One UPDATE for the whole batch instead of one per check.
        Check.objects.filter(pk__in=[f.owner_id for f in flips]).exclude(
            status=Status.DOWN
        ).update(
            status=Status.DOWN, alert_after=None, last_start=None, last_start_rid=None
        )
        Flip.objects.bulk_create(flips)
    return len(due), len(flips)


# --- fan-out: flips -> one notification per channel --------------------------------


def reminder_interval(check: Check) -> timedelta | None:
    """The check's repeat-alert interval, else its project's; None = no reminders."""
    interval = check.reminder_interval  # None: the project's; zero: off
    if interval is None:
        interval = check.project.reminder_interval
    return interval if interval and interval > timedelta(0) else None


def _targets(channels: Iterable[Channel], status: str) -> list[Channel]:
    """The channels that announce `status`: enabled and not set to ignore it."""
    result = []
    for channel in channels:
        if channel.disabled:
            continue
        try:
            if registry.get(channel.kind).is_noop(channel, status):
                continue
        except KeyError:
            pass  # an unknown kind fails visibly at delivery instead of vanishing
        result.append(channel)
    return result


def _channels_by_check(check_ids: Iterable[int]) -> dict[int, list[Channel]]:
    through = Channel.checks.through.objects.filter(check_id__in=list(check_ids))
    found: dict[int, list[Channel]] = defaultdict(list)
    for link in through.select_related("channel"):
        found[link.check_id].append(link.channel)
    return found


def fan_out(*, now: datetime, batch: int = 500) -> tuple[int, int]:
    """Turn unprocessed flips into notifications: (flips handled, notifications)."""
    with transaction.atomic():
        flips = list(
            Flip.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(processed__isnull=True)
            .select_related("owner__project")
            .order_by("created")[:batch]
        )
        if not flips:
            return 0, 0
        channels = _channels_by_check({f.owner_id for f in flips if f.notifies})
        rows = []
        for flip in flips:
            if not flip.notifies:
                continue
            for channel in _targets(channels[flip.owner_id], flip.new_status):
                rows.append(
                    Notification(
                        kind=NotificationKind.ALERT,
                        flip=flip,
                        owner=flip.owner,
                        channel=channel,
                        check_status=flip.new_status,
                        next_attempt=now,
                        claimed_at=now,
                    )
                )
            _schedule_reminder(flip, now)
        # The unique (flip, channel) constraint makes a repeated fan-out harmless.
        Notification.objects.bulk_create(rows, ignore_conflicts=True)
        flip_ids = [f.pk for f in flips]
        Flip.objects.filter(pk__in=flip_ids, processed__isnull=True).update(
            processed=now
        )
        queued = list(
            Notification.objects.filter(
                flip_id__in=flip_ids, state=DeliveryState.PENDING
            ).values_list("pk", "channel_id")
        )
        dispatch(queued)
    return len(flips), len(queued)


def _schedule_reminder(flip: Flip, now: datetime) -> None:
    check = flip.owner
    if flip.new_status == Status.DOWN:
        interval = reminder_interval(check)
        if interval is not None:
            Check.objects.filter(pk=check.pk, status=Status.DOWN).update(
                next_reminder=now + interval
            )
    elif check.next_reminder is not None:
        Check.objects.filter(pk=check.pk).update(next_reminder=None)


def send_reminders(*, now: datetime | None = None, batch: int = 500) -> int:
    """Repeat the down alert on every channel of checks still down; the count queued."""
    now = now or timezone.now()
    with transaction.atomic():
        due = list(
            Check.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(next_reminder__lte=now)
            .select_related("project")
            .order_by("next_reminder")[:batch]
        )
        channels = _channels_by_check(c.pk for c in due)
        rows = []
        for check in due:
            interval = reminder_interval(check)
            if check.status != Status.DOWN or interval is None:
                Check.objects.filter(pk=check.pk).update(next_reminder=None)
                continue
            assert check.next_reminder is not None  # noqa: S101 - filtered above
            following = check.next_reminder + interval
            Check.objects.filter(pk=check.pk).update(
                next_reminder=following if following > now else now + interval
            )
            for channel in _targets(channels[check.pk], Status.DOWN):
                rows.append(
                    Notification(
                        kind=NotificationKind.REMINDER,
                        owner=check,
                        channel=channel,
                        check_status=Status.DOWN,
                        next_attempt=now,
                        claimed_at=now,
                    )
                )
        created = Notification.objects.bulk_create(rows)
        dispatch((n.pk, n.channel_id) for n in created)
    return len(created)


# --- delivery: pending -> sending -> sent | failed -----------------------------------


def dispatch(notifications: Iterable[tuple[int, int]]) -> None:
    """Queue (notification id, channel id) deliveries once the transaction commits."""
    chunks = delivery_chunks(notifications)
    if chunks:
        transaction.on_commit(lambda: _queue(chunks))


# A channel's share of a burst goes to at least this many tasks (when it has that
# many alerts), so that idle workers take part instead of one worker doing it all.
SPREAD = 8


def delivery_chunks(notifications: Iterable[tuple[int, int]]) -> list[list[int]]:
    """The ids grouped by channel, in tasks of at most ALERT_DELIVERY_BATCH each.

    A task delivers its ids one after another over one database connection: a
    burst to one channel costs a task per chunk, not per alert. Only alerts to one
    channel share a task, so a slow target delays its own alerts, never another
    channel's. Chunks are ordered by their first id: channels take turns.
    """
    by_channel: dict[int, list[int]] = defaultdict(list)
    for pk, channel_id in notifications:
        by_channel[channel_id].append(pk)
    chunks: list[list[int]] = []
    for ids in by_channel.values():
        ids.sort()
        size = max(1, min(settings.ALERT_DELIVERY_BATCH, -(-len(ids) // SPREAD)))
        chunks.extend(ids[i : i + size] for i in range(0, len(ids), size))
    return sorted(chunks)


def _queue(chunks: list[list[int]]) -> None:
    from checks import tasks

    for i, ids in enumerate(chunks):
        try:
            tasks.deliver_notifications.apply_async((ids,), retry=False)
        except Exception:  # noqa: BLE001 - the rows stay pending; requeue() retries
            waiting = sum(len(chunk) for chunk in chunks[i:])
            log.warning(
                "broker unavailable: %d notifications wait for requeue", waiting
            )
            return


def backoff(attempts: int) -> timedelta:
    """The wait after the n-th failed attempt: 1 min doubling up to 1 h."""
    return min(BACKOFF_FIRST * 2 ** max(attempts - 1, 0), BACKOFF_MAX)


def deliver(
    notification_id: int,
    *,
    now: datetime | None = None,
    loaded: Notification | None = None,
) -> str | None:
    """Make one attempt at a notification; its new state, or None if not ours.

    `loaded`: the notification as read a moment ago (by deliver_all()); it is
    claimed only if no attempt was made since, else it is read again.
    """
    now = now or timezone.now()
    # Claim by conditional UPDATE (one statement): a duplicate message finds
    # nothing to do. The attempt is logged with its outcome in _record(); if
    # the worker dies before that, requeue() logs it as interrupted.
    claim = Notification.objects.filter(
        pk=notification_id, state=DeliveryState.PENDING, next_attempt__lte=now
    )
    if loaded is not None:
        claim = claim.filter(attempts=loaded.attempts)
    claimed = claim.update(
        state=DeliveryState.SENDING, claimed_at=now, attempts=F("attempts") + 1
    )
    if not claimed:
        return None if loaded is None else deliver(notification_id, now=now)
    if loaded is None:
        notification = for_delivery(notification_id)
    else:
        notification = loaded
        notification.state, notification.claimed_at = DeliveryState.SENDING, now
        notification.attempts += 1
    deferred = ratelimit.defer(notification, now=now)
    if deferred is not None:
        return deferred  # over the destination's rate limit: pending until its slot
    started = time.monotonic()
    error, permanent = _send(notification)
    duration = timedelta(seconds=time.monotonic() - started)
    return _record(notification, now, duration, error, permanent)


def deliver_all(notification_ids: list[int]) -> None:
    """Deliver a chunk of notifications (one channel's) one after another.

    The chunk is read in one query; each notification is still claimed on its
    own just before its attempt, so a slow chunk never holds claims it has not
    reached. A channel edited while its chunk is being sent applies from the
    next chunk.
    """
    loaded = pending_for_delivery(notification_ids)
    # One connection to the channel's server (HTTP, or the mail server for email).
    with http.keep_alive(), email.keep_alive():
        for pk in notification_ids:
            if pk in loaded:
                deliver(pk, loaded=loaded[pk])


def _send(notification: Notification) -> tuple[str, bool]:
    """Call the channel kind: ("", False) on success, else (error, permanent)."""
    channel = notification.channel
    try:
        if channel.disabled:
            raise DeliveryError("The channel is disabled", permanent=True)
        try:
            kind = registry.get(channel.kind)
        except KeyError:
            raise DeliveryError(
                f"Unknown channel kind {channel.kind!r}", permanent=True
            ) from None
        kind.send(channel, notification)
    except DeliveryError as e:
        return e.message or "Delivery failed", e.permanent
    except Exception as e:
        # A bug in one kind must not lose the alert: it is retried like any failure.
        # The message may carry a URL with a token: log it, store only the type.
        log.exception("delivery of notification %s crashed", notification.pk)
        return f"Unexpected error ({type(e).__name__})", False
    return "", False


def _record(
    notification: Notification,
    claimed_at: datetime,
    duration: timedelta,
    error: str,
    permanent: bool,
) -> str:
    finished = claimed_at + duration
    row = Notification.objects.filter(pk=notification.pk)
    gives_up = False
    with transaction.atomic():
        DeliveryAttempt.objects.create(
            notification_id=notification.pk,
            started=claimed_at,
            duration=duration,
            ok=not error,
            error=error,
        )
        if not error:
            state = DeliveryState.SENT
            # Sent even if requeue() took the row back meanwhile: no second send.
            row.filter(state__in=[DeliveryState.PENDING, DeliveryState.SENDING]).update(
                state=state, sent_at=finished, error=""
            )
        else:
            retry_at = finished + backoff(notification.attempts)
            horizon = notification.created + _seconds("ALERT_RETRY_HORIZON")
            gives_up = (
                permanent
                or notification.kind == NotificationKind.TEST
                or retry_at > horizon
            )
            state = DeliveryState.FAILED if gives_up else DeliveryState.PENDING
            mine = row.filter(state=DeliveryState.SENDING, claimed_at=claimed_at)
            mine.update(
                state=state,
                error=error,
                next_attempt=None if gives_up else retry_at,
                claimed_at=None,
            )
    if not error:
        _channel_health(notification.channel, claimed_at, duration, problem="")
    else:
        problem = error[:200] if gives_up else None
        _channel_health(notification.channel, claimed_at, duration, problem=problem)
        log.info(
            "notification %s via %s: %s (%s)",
            notification.pk,
            notification.channel.kind,
            error,
            state,
        )
    return state


# A channel's last_notify is rewritten at most this often: thousands of checks may
# share one channel, and a write per delivery would queue them all on its row lock.
CHANNEL_HEALTH_EVERY = timedelta(seconds=10)


def _channel_health(
    channel: Channel, claimed_at: datetime, duration: timedelta, *, problem: str | None
) -> None:
    """Show the channel's last delivery (and problem: "" = none, None = unchanged).

    Written only when it changes what the dashboard shows: the problem appears or
    clears, or last_notify is older than CHANNEL_HEALTH_EVERY. `channel` was read
    with the notification, so a problem recorded by another worker an instant ago
    may stay until the next success. Outside the delivery's transaction: the row
    lock lasts one statement.
    """
    changes_problem = problem is not None and problem != channel.last_error
    stale = (
        channel.last_notify is None
        or channel.last_notify <= claimed_at - CHANNEL_HEALTH_EVERY
    )
    if not (changes_problem or stale):
        return
    fields: dict[str, object] = {
        "last_notify": claimed_at,
        "last_notify_duration": duration,
    }
    if problem is not None:
        fields["last_error"] = problem
    Channel.objects.filter(pk=channel.pk).update(**fields)


def requeue(*, now: datetime | None = None, batch: int = 1000) -> int:
    """Queue again what a lost message or a dead worker left; the count queued."""
    now = now or timezone.now()
    stuck_before = now - _seconds("ALERT_SENDING_TIMEOUT")
    with transaction.atomic():
        stuck = list(
            Notification.objects.select_for_update(skip_locked=True)
            .filter(state=DeliveryState.SENDING, claimed_at__lt=stuck_before)
            .values_list("pk", "claimed_at")[:batch]
        )
        if stuck:
            Notification.objects.filter(
                pk__in=[pk for pk, _ in stuck], state=DeliveryState.SENDING
            ).update(state=DeliveryState.PENDING, claimed_at=None, next_attempt=now)
            DeliveryAttempt.objects.bulk_create(
                DeliveryAttempt(
                    notification_id=pk,
                    started=cast(datetime, claimed_at),  # claimed_at__lt above
                    error="Interrupted: the worker was lost during the attempt",
                )
                for pk, claimed_at in stuck
            )
            log.warning("%d notifications were stuck sending; retrying", len(stuck))
    if queued_deliveries():
        # Messages are still waiting: they reach their rows first. Queuing more
        # now would only multiply a backlog; a lost one is found once it drains.
        return 0
    # claimed_at on a pending row = when it was last handed to the broker.
    queued_before = now - _seconds("ALERT_REQUEUE_AFTER")
    with transaction.atomic():
        waiting = list(
            Notification.objects.select_for_update(skip_locked=True)
            .filter(state=DeliveryState.PENDING, next_attempt__lte=now)
            .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=queued_before))
            .order_by("next_attempt")
            .values_list("pk", "channel_id")[:batch]
        )
        Notification.objects.filter(pk__in=[pk for pk, _ in waiting]).update(
            claimed_at=now
        )
        dispatch(waiting)
    return len(waiting)


def queued_deliveries() -> int:
    """Messages waiting in the broker's deliver queue (0 in-process or unknown)."""
    from hcserver.celery import app

    if app.conf.task_always_eager:
        return 0
    try:
        with app.connection_for_read() as conn:
            # Typed as the abstract StdChannel; every broker's channel is virtual.
            channel = cast("VirtualChannel", conn.default_channel)
            declared = channel.queue_declare(queue="deliver", passive=True)
            return int(declared.message_count)
    except Exception:  # noqa: BLE001 - broker down: requeue as if nothing waits
        return 0


def send_test_notification(*, channel: Channel, queue: bool = False) -> Notification:
    """Send a test alert now (or queue it); the notification with its outcome."""
    status = Status.DOWN
    try:
        if registry.get(channel.kind).is_noop(channel, Status.DOWN):
            status = Status.UP
    except KeyError:
        pass  # delivery records "Unknown channel kind"
    now = timezone.now()
    notification = Notification.objects.create(
        kind=NotificationKind.TEST,
        channel=channel,
        check_status=status,
        next_attempt=now,
        claimed_at=now,
    )
    if queue:
        with transaction.atomic():
            dispatch([(notification.pk, channel.pk)])
    else:
        deliver(notification.pk, now=now)
    notification.refresh_from_db()
    return notification


# --- reports ---------------------------------------------------------------------


REPORT_HOUR = 9


def next_report_date(period: str, tz: str, now: datetime) -> datetime | None:
    """09:00 local on the next day / Monday / first of the month; None when off."""
    zone = ZoneInfo(schedule.canonical_tz(tz) if tz else "UTC")
    today = now.astimezone(zone).date()
    if period == Reports.DAILY:
        day = today + timedelta(days=1)
    elif period == Reports.WEEKLY:
        day = today + timedelta(days=7 - today.weekday())
    elif period == Reports.MONTHLY:
        day = (today.replace(day=1) + timedelta(days=32)).replace(day=1)
    else:
        return None
    local = datetime(day.year, day.month, day.day, REPORT_HOUR, tzinfo=zone)
    return local.astimezone(UTC)


def send_reports(*, now: datetime | None = None) -> int:
    """Email due daily/weekly/monthly reports; the number sent."""
    now = now or timezone.now()
    sent = 0
    due = (
        Profile.objects.exclude(reports=Reports.OFF)
        .filter(Q(next_report_date__isnull=True) | Q(next_report_date__lte=now))
        .select_related("user")
    )
    for profile in due:
        try:
            following = next_report_date(profile.reports, profile.tz, now)
        except schedule.ScheduleError:
            following = next_report_date(profile.reports, "UTC", now)
        # Optimistic claim: of several workers, only one sends each report.
        claimed = Profile.objects.filter(
            pk=profile.pk, next_report_date=profile.next_report_date
        ).update(next_report_date=following)
        if not claimed or profile.next_report_date is None:
            continue  # lost the race, or the first date was only being scheduled
        if send_report(profile=profile, now=now):
            sent += 1
    return sent


class ReportRow(TypedDict):
    """One check's line in a status report email."""

    name: str
    status: str
    last_ping: datetime | None


def send_report(*, profile: Profile, now: datetime) -> bool:
    """Email one user the status of their projects' checks; False if nothing to say."""
    user = profile.user
    if not user.email:
        return False
    projects = (
        Project.objects.filter(Q(owner=user) | Q(members__user=user))
        .distinct()
        .order_by("name")
    )
    sections = []
    for project in projects:
        checks = list(project.checks.order_by("name", "created"))
        rows = [
            ReportRow(
                name=check.name or str(check.code),
                status=schedule.status_at(check, now).value,
                last_ping=check.last_ping,
            )
            for check in checks
        ]
        sections.append({"project": project, "checks": rows, "down": _count_down(rows)})
    if not any(section["checks"] for section in sections):
        return False
    context = {
        "period": profile.reports,
        "sections": sections,
        "site_name": settings.SITE_NAME,
        "site_root": settings.SITE_ROOT,
        "now": now,
    }
    unsubscribe = email_links.reports_unsubscribe_url(user.pk)
    context["unsubscribe_url"] = unsubscribe
    message = EmailMultiAlternatives(
        subject=f"{settings.SITE_NAME}: {profile.reports} report",
        body=render_to_string("emails/report.txt", context),
        to=[user.email],
        headers=email_links.unsubscribe_headers(unsubscribe),
    )
    message.attach_alternative(
        render_to_string("emails/report.html", context), "text/html"
    )
    message.send()
    return True


def _count_down(rows: list[ReportRow]) -> int:
    return sum(1 for row in rows if row["status"] == Status.DOWN)


# --- the embedded loop (no Redis: `manage.py serve` / `manage.py alerts`) ------------


@dataclass
class Job:
    """One entry of beat's schedule, to be called in-process."""

    name: str
    task: Task[..., object]
    every: celery_schedules.BaseSchedule
    args: tuple[object, ...] = ()
    kwargs: dict[str, object] = field(default_factory=dict)


def beat_jobs(*, scan_every: float | None = None) -> dict[str, list[Job]]:
    """Beat's schedule by queue: CELERY_BEAT_SCHEDULE and the AWS entries that
    hcserver/celery.py adds. `scan_every` overrides the scan's period."""
    from hcserver.celery import app

    app.loader.import_default_modules()  # registers the tasks (autodiscovery)
    queues: dict[str, list[Job]] = defaultdict(list)
    for name, entry in app.conf.beat_schedule.items():
        every = entry["schedule"]
        if entry["task"] == "checks.scan" and scan_every:
            every = scan_every
        if not isinstance(every, celery_schedules.BaseSchedule):
            # Seconds or a timedelta, read the way beat reads them.
            period = every if isinstance(every, timedelta) else timedelta(seconds=every)
            every = celery_schedules.schedule(period, app=app)
        options = entry.get("options") or {}
        queue = app.amqp.router.route(dict(options), entry["task"])["queue"].name
        queues[queue].append(
            Job(
                name=name,
                task=app.tasks[entry["task"]],
                every=every,
                args=tuple(entry.get("args") or ()),
                kwargs=dict(entry.get("kwargs") or {}),
            )
        )
    return dict(queues)


def run_loop(*, stop: threading.Event, interval: float | None = None) -> None:
    """Run beat's schedule in-process until `stop` is set; `interval`: scan period.

    The same entries, tasks and periods as production's beat, each task called
    directly when due (without a broker, the deliveries they queue run eagerly
    in the same thread). One thread per queue, like workers consuming separate
    queues: a slow AWS poll never holds up the scan. Every entry also runs once
    at start: no beat file remembers when it last ran, and a laptop's process
    may not live an hour.
    """
    interval = interval or settings.ALERT_SCAN_INTERVAL
    threads = [
        threading.Thread(
            target=_run_jobs, args=(jobs, stop, interval), name=f"alerts-{queue}"
        )
        for queue, jobs in beat_jobs(scan_every=interval).items()
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def _run_jobs(jobs: list[Job], stop: threading.Event, pace: float) -> None:
    last_run: dict[str, datetime] = {}
    while not stop.is_set():
        for job in jobs:
            last = last_run.get(job.name)
            if stop.is_set() or (last is not None and not job.every.is_due(last)[0]):
                continue
            started = job.every.now()
            try:
                job.task(*job.args, **job.kwargs)
            except Exception:
                # E.g. the database restarting: keep the loop alive; a failed job
                # is tried again on the next round, not a whole period later.
                log.exception("%s failed; retrying", job.name)
            else:
                last_run[job.name] = started
            finally:
                close_old_connections()
        stop.wait(pace)
    connections.close_all()  # this thread's connections, before it ends
