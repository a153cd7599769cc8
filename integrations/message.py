"""What an alert says, shared by every channel kind: one Message per notification.

`for_delivery()` loads a notification with its channel, flip, check, project and
the owner's time zone in one query; `build_message()` adds the few queries an
up alert or a reminder needs (previous flips), and the last ping is fetched when
a kind first asks for it. Kinds only format the Message's fields.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.db.models import OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from checks.models import (
    Channel,
    Check,
    DeliveryState,
    Flip,
    Kind,
    Notification,
    NotificationKind,
    Ping,
    Profile,
    Reason,
    Status,
)

REASONS = {
    Reason.TIMEOUT: "success signal did not arrive on time, grace time passed",
    Reason.FAIL: "received a failure signal",
}
BODY_EXCERPT_BYTES = 10_000


def format_duration(td: timedelta) -> str:
    """`2 days 3 hours`, `5 minutes`, `40 seconds`: the two largest units."""
    seconds = max(int(td.total_seconds()), 0)
    units = [("week", 604800), ("day", 86400), ("hour", 3600), ("minute", 60)]
    parts: list[str] = []
    for name, size in units:
        if seconds >= size:
            n, seconds = divmod(seconds, size)
            parts.append(f"{n} {name}{'s' if n != 1 else ''}")
        if len(parts) == 2:
            break
    if not parts:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    return " ".join(parts)


def check_url(check: Check) -> str:
    """The check's page on the dashboard."""
    return f"{settings.SITE_ROOT}/checks/{check.code}/details/"


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


@dataclass
class Message:
    """Everything an alert, reminder or test notification can tell."""

    kind: str  # NotificationKind
    status: str  # the announced status: "down" or "up"
    check: Check
    channel: Channel
    notification: Notification
    changed_at: datetime  # when the check went to `status` (now for tests)
    reason: str  # long reason of a down flip, "" when unknown
    downtime: timedelta | None  # up: how long it was down; reminder: down so far
    tz: ZoneInfo

    @property
    def name(self) -> str:
        return self.check.name or str(self.check.code)

    @cached_property
    def last_ping(self) -> Ping | None:
        """The check's latest ping: one query, on first use (not all kinds need it)."""
        if self.check.pk is None:
            return None  # the stand-in check of a test notification
        return Ping.objects.filter(owner=self.check).order_by("-id").first()

    @property
    def is_test(self) -> bool:
        return self.kind == NotificationKind.TEST

    @property
    def is_reminder(self) -> bool:
        return self.kind == NotificationKind.REMINDER

    @property
    def is_down(self) -> bool:
        return self.status == Status.DOWN

    @property
    def status_word(self) -> str:
        return self.status.upper()

    @property
    def url(self) -> str:
        return check_url(self.check)

    @property
    def project(self) -> str:
        return str(self.check.project)

    @property
    def tags(self) -> list[str]:
        return self.check.tags_list()

    @property
    def title(self) -> str:
        """Short: email subject, push title. `DOWN | name`."""
        title = f"{self.status_word} | {self.name}"
        if self.is_reminder:
            return f"Reminder: {title}"
        if self.is_test:
            return f"Test: {title}"
        return title

    @property
    def headline(self) -> str:
        """One sentence: what happened."""
        if self.is_reminder:
            return f'Reminder: the check "{self.name}" is still DOWN.'
        if self.is_test:
            return (
                f"This is a test notification from {settings.SITE_NAME}: "
                f'the check "{self.name}" is {self.status_word}.'
            )
        return f'The check "{self.name}" is {self.status_word}.'

    @property
    def detail(self) -> str:
        """One sentence: why, or for how long."""
        if self.is_test:
            return "No check changed status; this only tests the integration."
        parts: list[str] = []
        if self.is_down and self.reason:
            parts.append(f"Reason: {self.reason}.")
        if self.downtime is not None:
            if self.is_reminder:
                parts.append(f"It has been down for {format_duration(self.downtime)}.")
            elif not self.is_down:
                parts.append(f"The downtime lasted {format_duration(self.downtime)}.")
        return " ".join(parts)

    @property
    def text(self) -> str:
        """Headline and detail: the whole message for plain-text channels."""
        return f"{self.headline} {self.detail}".strip()

    @property
    def schedule(self) -> tuple[str, str]:
        """("Period", "1 day (grace 1 hour)") or ("Schedule", "0 3 * * * (UTC, ..)")."""
        grace = format_duration(self.check.grace)
        if self.check.kind == Kind.SIMPLE:
            return "Period", f"{format_duration(self.check.timeout)} (grace {grace})"
        return "Schedule", f"{self.check.schedule} ({self.check.tz}, grace {grace})"

    def format_time(self, moment: datetime | None) -> str:
        if moment is None:
            return "never"
        return moment.astimezone(self.tz).strftime("%Y-%m-%d %H:%M:%S %Z")

    @property
    def changed_at_text(self) -> str:
        return self.format_time(self.changed_at)

    @property
    def site_name(self) -> str:
        return str(settings.SITE_NAME)

    @property
    def last_ping_text(self) -> str:
        if self.check.last_ping is None:
            return "never"
        when = self.format_time(self.check.last_ping)
        ago = format_duration(timezone.now() - self.check.last_ping)
        return f"{when} ({ago} ago)"

    def body_excerpt(self, limit: int = BODY_EXCERPT_BYTES) -> str:
        """The end of the last ping's body (where errors usually are), as text."""
        if self.last_ping is None or not self.last_ping.body:
            return ""
        body = bytes(self.last_ping.body)
        if len(body) > limit:
            body = body[-limit:]
        return body.decode("utf-8", errors="replace")

    @property
    def exitstatus(self) -> int:
        if self.last_ping is None or self.last_ping.exitstatus is None:
            return -1
        return self.last_ping.exitstatus

    def fields(self) -> list[tuple[str, str]]:
        """Labelled facts for rich messages (Slack fields, email table, ...)."""
        facts = [("Project", self.project)]
        if self.tags:
            facts.append(("Tags", ", ".join(self.tags)))
        facts.append(self.schedule)
        facts.append(("Last ping", self.last_ping_text))
        facts.append(("Total pings", str(self.check.n_pings)))
        return facts


def _for_delivery() -> QuerySet[Notification]:
    owner = OuterRef("owner__project__owner_id")
    tz = Profile.objects.filter(user_id=owner).values("tz")[:1]
    return Notification.objects.select_related(
        "channel", "flip", "owner__project"
    ).annotate(owner_tz=Coalesce(Subquery(tz), Value("UTC")))


def for_delivery(notification_id: int) -> Notification:
    """The notification with everything build_message() needs, in one query."""
    return _for_delivery().get(pk=notification_id)


def pending_for_delivery(notification_ids: list[int]) -> dict[int, Notification]:
    """Those of the notifications that are pending, as for_delivery(), in one query."""
    pending = _for_delivery().filter(
        pk__in=notification_ids, state=DeliveryState.PENDING
    )
    return {n.pk: n for n in pending}


def _owner_tz(notification: Notification, check: Check) -> ZoneInfo:
    """The project owner's time zone: loaded by for_delivery(), else one query."""
    tz = getattr(notification, "owner_tz", None)
    if tz is None:
        tz = (
            Profile.objects.filter(user_id=check.project.owner_id)
            .values_list("tz", flat=True)
            .first()
        )
    return _zone(tz or "UTC")


def _test_check(channel: Channel) -> Check:
    """The unsaved stand-in check test notifications talk about (as upstream: TEST)."""
    return Check(name="TEST", tags="test", project=channel.project, code=uuid.uuid4())


def build_message(notification: Notification) -> Message:
    """Gather what `notification` announces: a few queries, done once per delivery."""
    channel = notification.channel
    flip = notification.flip
    check = notification.owner or (flip.owner if flip is not None else None)
    now = timezone.now()
    if check is None:
        return Message(
            kind=NotificationKind.TEST,
            status=notification.check_status or Status.DOWN,
            check=_test_check(channel),
            channel=channel,
            notification=notification,
            changed_at=now,
            reason="",
            downtime=None,
            tz=ZoneInfo("UTC"),
        )

    flips = Flip.objects.filter(owner=check).order_by("-created")
    if flip is None and notification.check_status == Status.DOWN:
        # A reminder (or a test about a real check): the flip that took it down.
        flip = flips.filter(new_status=Status.DOWN).first()
    reason = REASONS.get(Reason(flip.reason), "") if flip and flip.reason else ""
    changed_at = flip.created if flip is not None else now
    downtime: timedelta | None = None
    if notification.kind == NotificationKind.REMINDER and flip is not None:
        downtime = now - flip.created
    elif notification.check_status == Status.UP and flip is not None:
        previous = flips.filter(created__lt=flip.created).first()
        if previous is not None and previous.new_status == Status.DOWN:
            downtime = flip.created - previous.created
    return Message(
        kind=notification.kind,
        status=notification.check_status,
        check=check,
        channel=channel,
        notification=notification,
        changed_at=changed_at,
        reason=reason,
        downtime=downtime,
        tz=_owner_tz(notification, check),
    )
