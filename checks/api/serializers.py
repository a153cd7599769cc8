"""Check input (upstream's strict `Spec`) and the JSON of checks, pings and flips.

Input fields are strict: no coercion (`"60"` is not a number, `1` is not a boolean)
and JSON `null` is rejected with the field's type message. Only the first error is
reported, as `json validation error: <field> <message>`.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.utils.text import slugify
from rest_framework import serializers
from rest_framework.fields import SkipField, empty

from checks import schedule
from checks.models import (
    Check,
    Flip,
    Kind,
    Ping,
    PingKind,
    Status,
    unique_key_of,
)

MAX_SECONDS = 31_536_000  # 365 days
# NUL and lone surrogates cannot be stored (PostgreSQL refuses them).
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


class StrictField(serializers.Field):
    """A request field: absent is skipped, anything else must have the exact type."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(required=False, **kwargs)

    def run_validation(self, data: Any = empty) -> Any:
        if data is empty:
            raise SkipField
        return self.to_internal_value(data)

    def reject(self, message: str) -> None:
        raise serializers.ValidationError(f"{self.field_name} {message}")

    def to_representation(self, value: Any) -> Any:
        return value

    def schema(self) -> dict[str, Any]:
        """The field's JSON schema (drf-spectacular reads it, see checks/api/schema)."""
        raise NotImplementedError


class Text(StrictField):
    def __init__(
        self, *, max_length: int | None = None, pattern: str | None = None
    ) -> None:
        super().__init__()
        self.max_length = max_length
        self.pattern = re.compile(pattern) if pattern else None

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.reject("is not a string")
        if UNSTORABLE.search(data):
            self.reject("contains characters that cannot be stored")
        if self.max_length is not None and len(data) > self.max_length:
            self.reject("is too long")
        if self.pattern and not self.pattern.match(data):
            self.reject("does not match pattern")
        return data

    def schema(self) -> dict[str, Any]:
        result: dict[str, Any] = {"type": "string"}
        if self.max_length is not None:
            result["maxLength"] = self.max_length
        if self.pattern:
            result["pattern"] = self.pattern.pattern
        return result


class ScheduleText(Text):
    def to_internal_value(self, data: Any) -> str:
        value = super().to_internal_value(data)
        try:
            schedule.validate_schedule(value)
        except schedule.ScheduleError:
            self.reject("is not a valid cron or OnCalendar expression")
        return value


class TimeZone(Text):
    def to_internal_value(self, data: Any) -> str:
        value = super().to_internal_value(data)
        try:
            return schedule.canonical_tz(value)
        except schedule.ScheduleError:
            self.reject("is not a valid timezone")
        raise AssertionError("unreachable")  # pragma: no cover


class Seconds(StrictField):
    """A whole number of seconds between 60 s and 365 days."""

    def to_internal_value(self, data: Any) -> timedelta:
        if not isinstance(data, int) or isinstance(data, bool):
            self.reject("is not a number")
        if data < 60:
            self.reject("is too small")
        if data > MAX_SECONDS:
            self.reject("is too large")
        return timedelta(seconds=data)

    def schema(self) -> dict[str, Any]:
        return {"type": "integer", "minimum": 60, "maximum": MAX_SECONDS}


class ReminderSeconds(Seconds):
    """hcserver's per-check reminders: `null` = the project's interval, 0 = off,
    else seconds like `timeout`. The one field where `null` means something."""

    def run_validation(self, data: Any = empty) -> Any:
        if data is None:
            return None
        return super().run_validation(data)

    def to_internal_value(self, data: Any) -> timedelta:
        if type(data) is int and data == 0:
            return timedelta(0)
        return super().to_internal_value(data)

    def schema(self) -> dict[str, Any]:
        return {
            "type": "integer",
            "nullable": True,
            "minimum": 0,
            "maximum": MAX_SECONDS,
            "description": "Repeat the down alert every this many seconds (60 or "
            "more) while down; 0 = never for this check; null = the project's "
            "interval.",
        }


class Flag(StrictField):
    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.reject("is not a boolean")
        return data

    def schema(self) -> dict[str, Any]:
        return {"type": "boolean"}


class Choice(StrictField):
    def __init__(self, *, choices: tuple[str, ...]) -> None:
        super().__init__()
        self.choices = choices

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str) or data not in self.choices:
            self.reject("has unexpected value")
        return data

    def schema(self) -> dict[str, Any]:
        return {"type": "string", "enum": list(self.choices)}


UNIQUE_FIELDS = ("name", "slug", "tags", "timeout", "grace")


class UniqueFields(StrictField):
    def to_internal_value(self, data: Any) -> list[str]:
        if not isinstance(data, list):
            self.reject("is not an array")
        for item in data:
            if not isinstance(item, str) or item not in UNIQUE_FIELDS:
                raise serializers.ValidationError(
                    f"an item in '{self.field_name}' has unexpected value"
                )
        return data

    def schema(self) -> dict[str, Any]:
        return {"type": "array", "items": {"type": "string", "enum": UNIQUE_FIELDS}}


class CheckSpecSerializer(serializers.Serializer):
    """The body of create/update requests; unknown keys are ignored."""

    channels = Text()
    desc = Text()
    failure_kw = Text(max_length=200)
    filter_body = Flag()
    filter_default_fail = Flag()
    filter_http_body = Flag()
    filter_subject = Flag()
    grace = Seconds()
    manual_resume = Flag()
    methods = Choice(choices=("", "POST"))
    name = Text(max_length=100)
    reminder_interval = ReminderSeconds()
    schedule = ScheduleText(max_length=100)
    slug = Text(max_length=100, pattern=r"^[a-z0-9-_]*\Z")
    start_kw = Text(max_length=200)
    subject = Text(max_length=200)
    subject_fail = Text(max_length=200)
    success_kw = Text(max_length=200)
    # No limit upstream; ours is the column's, so a long value is a 400, not a 500.
    tags = Text(max_length=500)
    timeout = Seconds()
    tz = TimeZone()
    unique = UniqueFields()

    def first_error(self) -> str:
        """Upstream reports only the first problem."""
        messages = next(iter(self.errors.values()))
        return str(messages[0])

    def check_fields(self, *, v: int, check: Check | None) -> dict[str, Any]:
        """Model field values to set from the validated request (upstream `_update`)."""
        data = self.validated_data
        fields: dict[str, Any] = {}
        if "name" in data:
            fields["name"] = data["name"]
            if v < 3:
                fields["slug"] = slugify(data["name"])
        for name in (
            "slug",
            "tags",
            "desc",
            "manual_resume",
            "methods",
            "grace",
            "reminder_interval",
        ):
            if name in data:
                fields[name] = data[name]
        if "schedule" in data:
            fields["kind"] = schedule.schedule_kind(data["schedule"])
            fields["schedule"] = data["schedule"]
        elif "timeout" in data:
            fields["kind"] = Kind.SIMPLE
            fields["timeout"] = data["timeout"]
        if "tz" in data:
            fields["tz"] = data["tz"]

        def current(name: str) -> Any:
            if name in fields:
                return fields[name]
            return getattr(check, name) if check else ""

        if "subject" in data:
            fields["success_kw"] = data["subject"]
            fields["filter_subject"] = bool(
                current("success_kw") or current("failure_kw")
            )
        if "subject_fail" in data:
            fields["failure_kw"] = data["subject_fail"]
            fields["filter_subject"] = bool(
                current("success_kw") or current("failure_kw")
            )
        for name in (
            "start_kw",
            "success_kw",
            "failure_kw",
            "filter_subject",
            "filter_body",
            "filter_http_body",
            "filter_default_fail",
        ):
            if name in data:
                fields[name] = data[name]
        return fields

    def unique_lookup(self) -> dict[str, Any] | None:
        """The `unique` fields and their values; None when the request cannot upsert."""
        data = self.validated_data
        names = data.get("unique") or []
        if not names or any(name not in data for name in names):
            return None
        return {name: data[name] for name in names}


@dataclass(slots=True)
class CheckRow:
    """The fields of a check that its JSON needs: listing 10,000 of these is several
    times cheaper than building 10,000 model instances."""

    id: int
    name: str
    slug: str
    tags: str
    desc: str
    kind: str
    timeout: timedelta
    grace: timedelta
    schedule: str
    tz: str
    status: str
    last_ping: datetime | None
    last_start: datetime | None
    last_duration: timedelta | None
    new_deadline: datetime | None
    n_pings: int
    manual_resume: bool
    methods: str
    start_kw: str
    success_kw: str
    failure_kw: str
    filter_subject: bool
    filter_body: bool
    filter_http_body: bool
    filter_default_fail: bool
    code: uuid.UUID
    badge_key: uuid.UUID
    reminder_interval: timedelta | None

    @property
    def unique_key(self) -> str:
        return unique_key_of(self.code)

    def tags_list(self) -> list[str]:
        return [t for t in self.tags.split(" ") if t]


ROW_FIELDS = [f.name for f in fields(CheckRow)]


def isostring(moment: datetime | None) -> str | None:
    """ISO 8601 without microseconds, as upstream shows check and flip times."""
    return moment.replace(microsecond=0).isoformat() if moment else None


def api_url(v: int, path: str) -> str:
    return f"{settings.SITE_ROOT}/api/v{v}/{path}"


def check_dict(
    check: Check | CheckRow, *, v: int, readonly: bool, channels: str, now: datetime
) -> dict[str, Any]:
    """Upstream `Check.to_dict`: field order as emitted there (spec 4.8)."""
    status = schedule.status_at(check, now, with_started=v == 1)
    filter_subject = check.filter_subject
    result: dict[str, Any] = {
        "name": check.name,
        "slug": check.slug,
        "tags": check.tags,
        "desc": check.desc,
        "grace": int(check.grace.total_seconds()),
        "n_pings": check.n_pings,
        "status": str(status.value),
        "started": check.last_start is not None,
        "last_ping": isostring(check.last_ping),
        "next_ping": isostring(schedule.grace_start(check)),
        "manual_resume": check.manual_resume,
        "methods": check.methods,
        "subject": check.success_kw if filter_subject else "",
        "subject_fail": check.failure_kw if filter_subject else "",
        "start_kw": check.start_kw,
        "success_kw": check.success_kw,
        "failure_kw": check.failure_kw,
        "filter_subject": filter_subject,
        "filter_body": check.filter_body,
        "filter_http_body": check.filter_http_body,
        "filter_default_fail": check.filter_default_fail,
        "badge_url": f"{settings.SITE_ROOT}/b/2/{check.badge_key}.svg",
    }
    if check.last_duration:
        result["last_duration"] = int(check.last_duration.total_seconds())
    if readonly:
        result["unique_key"] = check.unique_key
    else:
        code = str(check.code)
        result["uuid"] = code
        result["ping_url"] = f"{settings.PING_ENDPOINT}{code}"
        # One settings lookup, not three: this runs 10,000 times for a big list.
        update_url = api_url(v, f"checks/{code}")
        result["update_url"] = update_url
        result["pause_url"] = f"{update_url}/pause"
        result["resume_url"] = f"{update_url}/resume"
        result["channels"] = channels
    if check.kind == Kind.SIMPLE:
        result["timeout"] = int(check.timeout.total_seconds())
    else:
        result["schedule"] = check.schedule
        result["tz"] = check.tz
    # hcserver's addition, after upstream's fields: None = the project's interval.
    reminder = check.reminder_interval
    result["reminder_interval"] = (
        None if reminder is None else int(reminder.total_seconds())
    )
    return result


def ping_dict(
    ping: Ping, *, v: int, code: str, duration: timedelta | None
) -> dict[str, Any]:
    """Upstream `Ping.to_dict`; `duration` only when it could be worked out."""
    body_url = None
    if getattr(ping, "has_body", False):  # annotated by the pings view
        body_url = api_url(v, f"checks/{code}/pings/{ping.n}/body")
    result: dict[str, Any] = {
        "type": ping.kind,
        "date": ping.created.isoformat(),
        "n": ping.n,
        "scheme": ping.scheme,
        "remote_addr": ping.remote_addr,
        "method": ping.method,
        "ua": ping.ua,
        "rid": str(ping.rid) if ping.rid else None,
        "body_url": body_url,
    }
    if duration is not None:
        result["duration"] = round(duration.total_seconds(), 2)
    return result


def flip_dict(flip: Flip) -> dict[str, Any]:
    return {
        "timestamp": isostring(flip.created),
        "up": 1 if flip.new_status == Status.UP else 0,
    }


# Pings that end a run (and may so have a duration).
FINISHES = (PingKind.SUCCESS, PingKind.FAIL)
