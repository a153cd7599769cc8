"""What every channel kind provides: a config serializer and `send()`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlsplit

from rest_framework import serializers

if TYPE_CHECKING:
    from checks.models import Channel, Notification


class DeliveryError(Exception):
    """A failed delivery. permanent=True: retrying cannot help (bad config, 4xx)."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.permanent = permanent


def first_error(errors: Any) -> str:
    """The first message of a DRF `errors` structure, prefixed with its field."""
    if isinstance(errors, dict):
        for key, value in errors.items():
            message = first_error(value)
            return message if key == "non_field_errors" else f"{key}: {message}"
    if isinstance(errors, list) and errors:
        return first_error(errors[0])
    return str(errors)


# Dashboard forms show fields with this style as password inputs.
SECRET = {"input_type": "password"}


def validate_http_url(value: str) -> None:
    """Empty, or an http(s) URL with a host."""
    if value:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise serializers.ValidationError("Enter an http:// or https:// URL.")


def http_url_field(**kwargs: Any) -> serializers.CharField:
    """A config field holding an http(s) URL (≤ 1000 characters)."""
    return serializers.CharField(
        max_length=1000, validators=[validate_http_url], **kwargs
    )


@dataclass(frozen=True)
class RateLimit:
    """At most `count` messages per `period` to one destination (`what`)."""

    count: int
    period: timedelta
    what: str

    def describe(self) -> str:
        minutes = self.period / timedelta(minutes=1)
        per = "a minute" if minutes == 1 else f"per {minutes:g} minutes"
        return f"at most {self.count} messages {per} to one {self.what}"


class ChannelKind:
    """One kind of alert destination (email, webhook, slack, ...)."""

    kind: ClassVar[str]
    label: ClassVar[str]
    config: ClassVar[type[serializers.Serializer]]  # validates Channel.config (JSON)
    # Deliveries over the limit wait for a token (checks/ratelimit.py); None = none.
    rate_limit: ClassVar[RateLimit | None] = None

    def send(self, channel: Channel, notification: Notification) -> None:
        """Deliver one notification; raise DeliveryError on failure."""
        raise NotImplementedError

    def is_noop(self, channel: Channel, status: str) -> bool:
        """True when this channel is set up to ignore alerts for `status` (up/down)."""
        return False

    def rate_key(self, channel: Channel) -> str | None:
        """The destination `rate_limit` counts per (chat, user, topic); None = none."""
        return None

    @property
    def enabled(self) -> bool:
        """False when the operator turned this kind off (it is not offered)."""
        return True

    def load_config(self, channel: Channel) -> dict[str, Any]:
        """The channel's validated config; a permanent DeliveryError if invalid."""
        serializer = self.config(data=channel.config)
        if not serializer.is_valid():
            raise DeliveryError(
                f"Invalid {self.label} configuration: {first_error(serializer.errors)}",
                permanent=True,
            )
        return dict(serializer.validated_data)


class UpDownConfig(serializers.Serializer):
    """`up`/`down` toggles: which status changes a channel announces."""

    up = serializers.BooleanField(
        default=True, help_text="Notify when a check comes back up."
    )
    down = serializers.BooleanField(
        default=True, help_text="Notify when a check goes down."
    )


class UpDownKind(ChannelKind):
    """A kind whose config carries `up`/`down` toggles."""

    def is_noop(self, channel: Channel, status: str) -> bool:
        """True when the toggle for `status` is off."""
        value = channel.config.get(status, True) if status in ("up", "down") else True
        return value is False
