"""The domain: projects, keys, checks, pings, flips, channels, notifications.

Model methods are pure (no hidden queries); writes live in checks/services.py and
status maths in checks/schedule.py.
"""

import hashlib
import hmac
import secrets
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q


class Status(models.TextChoices):
    """Check status. Only new/up/down/paused are stored; grace/started are derived."""

    NEW = "new"
    UP = "up"
    GRACE = "grace"
    DOWN = "down"
    PAUSED = "paused"
    STARTED = "started"


STORED_STATUSES = [
    (s.value, s.label) for s in (Status.NEW, Status.UP, Status.DOWN, Status.PAUSED)
]


class Kind(models.TextChoices):
    SIMPLE = "simple"
    CRON = "cron"
    ONCALENDAR = "oncalendar"


class PingKind(models.TextChoices):
    SUCCESS = "success"
    START = "start"
    FAIL = "fail"
    LOG = "log"
    IGNORED = "ign"


class Reason(models.TextChoices):
    NONE = "", "none"
    TIMEOUT = "timeout"
    FAIL = "fail"


class Role(models.TextChoices):
    READONLY = "r", "Read-only"
    MEMBER = "w", "Member"
    MANAGER = "m", "Manager"


class Reports(models.TextChoices):
    OFF = "off"
    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"


def _token(nbytes: int) -> str:
    """A random [A-Za-z0-9] token: like token_urlsafe, minus '-' and '_'."""
    while True:
        token = secrets.token_urlsafe(nbytes)
        if "-" not in token and "_" not in token:
            return token


def new_ping_key() -> str:
    return _token(16).lower()


def new_badge_key() -> str:
    return str(uuid.uuid4())


class Profile(models.Model):
    """Per-user preferences: time zone, reports, reminders, limits."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, models.CASCADE)
    tz = models.CharField(max_length=36, default="UTC")
    reports = models.CharField(
        max_length=10, choices=Reports.choices, default=Reports.OFF
    )
    next_report_date = models.DateTimeField(null=True, blank=True)
    # Email reminders while any check of the user's projects is down; 0 = off.
    nag_period = models.DurationField(default=timedelta(0))
    next_nag_date = models.DateTimeField(null=True, blank=True)
    ping_log_limit = models.IntegerField(default=100)
    check_limit = models.IntegerField(default=10000)
    sort = models.CharField(max_length=20, default="created")
    # Hash of the current magic-link token (single use), "" when none.
    token = models.CharField(max_length=128, blank=True)

    def __str__(self) -> str:
        return f"profile of {self.user}"


class Project(models.Model):
    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=200, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.CASCADE, related_name="projects"
    )
    created = models.DateTimeField(auto_now_add=True)
    # For /ping/<ping_key>/<slug> URLs; None = slug URLs disabled.
    ping_key = models.CharField(max_length=128, null=True, blank=True, unique=True)
    badge_key = models.CharField(max_length=150, unique=True, default=new_badge_key)
    show_slugs = models.BooleanField(default=False)
    # Repeat alerts while a check stays down; None = off (a check may override).
    reminder_interval = models.DurationField(null=True, blank=True)

    def __str__(self) -> str:
        return self.name or str(self.code)


class Member(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.CASCADE, related_name="memberships"
    )
    project = models.ForeignKey(Project, models.CASCADE, related_name="members")
    role = models.CharField(max_length=1, choices=Role.choices, default=Role.MEMBER)
    created = models.DateTimeField(auto_now_add=True)
    transfer_request_date = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "project"], name="member_user_project"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.project}"

    @property
    def is_rw(self) -> bool:
        return self.role in (Role.MEMBER, Role.MANAGER)


def key_digest(key: str) -> str:
    """HMAC of a full API key, keyed by SECRET_KEY: only this is stored."""
    return hmac.new(
        settings.SECRET_KEY.encode(), key.encode(), hashlib.sha256
    ).hexdigest()


class ApiKey(models.Model):
    """A named API key of a project, stored as a prefix and an HMAC digest."""

    RW_PREFIX = "hcw_"
    RO_PREFIX = "hcr_"

    project = models.ForeignKey(Project, models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100, blank=True)
    read_only = models.BooleanField(default=False)
    # First 8 characters of the secret, shown in lists and used for lookup.
    prefix = models.CharField(max_length=8, db_index=True)
    digest = models.CharField(max_length=64)
    created = models.DateTimeField(auto_now_add=True)
    last_used = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.display_prefix}… ({self.name})"

    @property
    def display_prefix(self) -> str:
        return (self.RO_PREFIX if self.read_only else self.RW_PREFIX) + self.prefix

    @staticmethod
    def generate(read_only: bool) -> str:
        """A new full key: hcw_/hcr_ + 28 characters [A-Za-z0-9], 32 in all."""
        return (ApiKey.RO_PREFIX if read_only else ApiKey.RW_PREFIX) + _token(21)

    def matches(self, key: str) -> bool:
        return hmac.compare_digest(self.digest, key_digest(key))


def unique_key_of(code: uuid.UUID) -> str:
    """A check's stable 40-hex id that does not reveal its ping UUID (read-only API)."""
    return hashlib.sha1(code.hex[:16].encode()).hexdigest()  # noqa: S324


class Check(models.Model):
    name = models.CharField(max_length=100, blank=True)
    slug = models.CharField(max_length=100, blank=True)
    tags = models.CharField(max_length=500, blank=True)
    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    desc = models.TextField(blank=True)
    # No index of its own: check_project_slug (project, slug) serves lookups by
    # project, and every ping's UPDATE would maintain one more index.
    project = models.ForeignKey(
        Project, models.CASCADE, related_name="checks", db_index=False
    )
    created = models.DateTimeField(auto_now_add=True)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.SIMPLE)
    timeout = models.DurationField(default=timedelta(days=1))
    grace = models.DurationField(default=timedelta(hours=1))
    schedule = models.CharField(max_length=100, default="* * * * *")
    tz = models.CharField(max_length=36, default="UTC")
    filter_subject = models.BooleanField(default=False)
    filter_body = models.BooleanField(default=False)
    filter_http_body = models.BooleanField(default=False)
    filter_default_fail = models.BooleanField(default=False)
    start_kw = models.CharField(max_length=200, blank=True)
    success_kw = models.CharField(max_length=200, blank=True)
    failure_kw = models.CharField(max_length=200, blank=True)
    methods = models.CharField(max_length=30, blank=True)
    manual_resume = models.BooleanField(default=False)
    badge_key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    n_pings = models.IntegerField(default=0)
    last_ping = models.DateTimeField(null=True, blank=True)
    last_start = models.DateTimeField(null=True, blank=True)
    last_start_rid = models.UUIDField(null=True, blank=True)
    last_duration = models.DurationField(null=True, blank=True)
    has_confirmation_link = models.BooleanField(default=False)
    # Cached deadline (schedule.going_down_after); the scan polls it.
    alert_after = models.DateTimeField(null=True, blank=True, editable=False)
    status = models.CharField(max_length=6, choices=STORED_STATUSES, default=Status.NEW)
    # A new check that receives no ping before this moment goes down (boot deadline).
    new_deadline = models.DateTimeField(null=True, blank=True)
    # Repeat alerts while down; None = the project's reminder_interval, zero = off.
    reminder_interval = models.DurationField(null=True, blank=True)
    next_reminder = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            # The scan: "checks whose deadline passed and that are not down yet".
            models.Index(
                fields=["alert_after"],
                name="check_alert_after_not_down",
                condition=~Q(status="down") & Q(alert_after__isnull=False),
            ),
            models.Index(fields=["project", "slug"], name="check_project_slug"),
            models.Index(
                fields=["next_reminder"],
                name="check_next_reminder",
                condition=Q(next_reminder__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return self.name or str(self.code)

    @property
    def unique_key(self) -> str:
        """Stable 40-hex id that does not reveal the ping UUID (read-only API)."""
        return unique_key_of(self.code)

    def tags_list(self) -> list[str]:
        return [t for t in self.tags.split(" ") if t]

    def ping_url(self) -> str:
        return f"{settings.PING_ENDPOINT}{self.code}"


class Ping(models.Model):
    id = models.BigAutoField(primary_key=True)
    n = models.IntegerField()
    # "owner", not "check": a field named check would shadow Model.check().
    # No index of its own: ping_check_n (owner, n) serves lookups by check, and
    # every ping's INSERT would maintain one more index.
    owner = models.ForeignKey(
        Check, models.CASCADE, related_name="pings", db_index=False
    )
    created = models.DateTimeField()
    kind = models.CharField(
        max_length=7, choices=PingKind.choices, default=PingKind.SUCCESS
    )
    scheme = models.CharField(max_length=10, default="http")
    remote_addr = models.GenericIPAddressField(null=True, blank=True)
    method = models.CharField(max_length=10, blank=True)
    ua = models.CharField(max_length=200, blank=True)
    body = models.BinaryField(null=True, blank=True)
    exitstatus = models.SmallIntegerField(null=True, blank=True)
    rid = models.UUIDField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["owner", "n"], name="ping_check_n")
        ]

    def __str__(self) -> str:
        return f"ping #{self.n} of {self.owner_id}"


class Flip(models.Model):
    owner = models.ForeignKey(Check, models.CASCADE, related_name="flips")
    created = models.DateTimeField()
    old_status = models.CharField(max_length=8, choices=STORED_STATUSES)
    new_status = models.CharField(max_length=8, choices=STORED_STATUSES)
    reason = models.CharField(max_length=8, choices=Reason.choices, blank=True)
    # When notifications were fanned out for this flip; null = not yet.
    processed = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["created"],
                name="flip_not_processed",
                condition=Q(processed__isnull=True),
            ),
            models.Index(fields=["owner", "created"], name="flip_check_created"),
        ]

    def __str__(self) -> str:
        return f"{self.owner_id}: {self.old_status} -> {self.new_status}"

    @property
    def notifies(self) -> bool:
        """Only up->down, new/paused->down and down->up flips are announced."""
        if self.new_status == Status.DOWN:
            return self.old_status != Status.DOWN
        return self.new_status == Status.UP and self.old_status == Status.DOWN


class Channel(models.Model):
    """An alert destination; kind-specific settings live in `config` (JSON)."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    project = models.ForeignKey(Project, models.CASCADE, related_name="channels")
    name = models.CharField(max_length=100, blank=True)
    kind = models.CharField(max_length=20)
    config = models.JSONField(default=dict)
    created = models.DateTimeField(auto_now_add=True)
    checks = models.ManyToManyField(Check, related_name="channels", blank=True)
    disabled = models.BooleanField(default=False)
    last_notify = models.DateTimeField(null=True, blank=True)
    last_notify_duration = models.DurationField(null=True, blank=True)
    # Text of the last delivery error; "" = no problem.
    last_error = models.CharField(max_length=200, blank=True)

    def __str__(self) -> str:
        return self.name or f"{self.kind} {self.code}"


class EmailVerification(models.Model):
    """An address of an email channel that has not yet confirmed it wants the alerts.

    Only waiting addresses have a row (the click deletes it), so channels that
    existed before verification, and their creators' own addresses, have none.
    """

    channel = models.ForeignKey(Channel, models.CASCADE, related_name="unverified")
    address = models.EmailField(max_length=254)
    # When the last verification link was emailed; None = none went out yet (too
    # many lately, or the mail server failed: "Resend verification" tries again).
    sent = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "address"], name="email_verification_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.address} on channel {self.channel_id}: not verified"


class DeliveryState(models.TextChoices):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class NotificationKind(models.TextChoices):
    ALERT = "alert"
    REMINDER = "reminder"
    TEST = "test"


class Notification(models.Model):
    """One delivery of one flip (or reminder/test) to one channel."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(
        max_length=8, choices=NotificationKind.choices, default=NotificationKind.ALERT
    )
    flip = models.ForeignKey(Flip, models.CASCADE, null=True, blank=True)
    owner = models.ForeignKey(Check, models.CASCADE, null=True, blank=True)
    channel = models.ForeignKey(Channel, models.CASCADE, related_name="notifications")
    check_status = models.CharField(max_length=6)
    created = models.DateTimeField(auto_now_add=True)
    state = models.CharField(
        max_length=8, choices=DeliveryState.choices, default=DeliveryState.PENDING
    )
    attempts = models.IntegerField(default=0)
    next_attempt = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    # A send slot the destination's rate limit reserved for this notification when
    # it deferred it (checks/ratelimit.py); the next attempt uses it.
    rate_slot = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["flip", "channel"],
                name="notification_flip_channel",
                condition=Q(kind="alert"),
            )
        ]
        indexes = [
            models.Index(
                fields=["next_attempt"],
                name="notification_open",
                condition=Q(state__in=["pending", "sending"]),
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.check_status} via {self.channel_id}: {self.state}"


class DeliveryAttempt(models.Model):
    """The outcome of one attempt to deliver a notification (shown on the dashboard)."""

    notification = models.ForeignKey(
        Notification, models.CASCADE, related_name="attempt_log"
    )
    started = models.DateTimeField()
    duration = models.DurationField(null=True, blank=True)
    ok = models.BooleanField(default=False)
    error = models.TextField(blank=True)

    def __str__(self) -> str:
        return f"attempt on {self.notification_id}: {'ok' if self.ok else self.error}"


class RetiredSlug(models.Model):
    """A slug `?create=1` must not auto-provision again (a scaled-in instance)."""

    project = models.ForeignKey(Project, models.CASCADE, related_name="retired_slugs")
    slug = models.CharField(max_length=100)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["project", "slug"], name="retired_slug_unique"
            )
        ]

    def __str__(self) -> str:
        return self.slug


class AlertHeartbeat(models.Model):
    """One row: when the alert scan last ran (a long gap = pings may have been lost)."""

    last_scan = models.DateTimeField()

    def __str__(self) -> str:
        return f"alert scan at {self.last_scan}"


class TokenBucket(models.Model):
    """A rate limit's state for one key (e.g. one Telegram chat): checks/ratelimit.py.

    `full_at` is when the bucket has every token back; a row whose moment has
    passed is the same as no row, so the prune deletes idle ones.
    """

    key = models.CharField(max_length=100, unique=True)
    full_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.key} full at {self.full_at}"
