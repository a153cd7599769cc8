"""What every channel kind provides: a config serializer and `send()`."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rest_framework import serializers

if TYPE_CHECKING:
    from checks.models import Channel, Notification


class DeliveryError(Exception):
    """A failed delivery. permanent=True: retrying cannot help (bad config, 4xx)."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.permanent = permanent


class ChannelKind:
    """One kind of alert destination (email, webhook, slack, ...)."""

    kind: ClassVar[str]
    label: ClassVar[str]
    config: ClassVar[type[serializers.Serializer]]  # validates Channel.config (JSON)

    def send(self, channel: Channel, notification: Notification) -> None:
        """Deliver one notification; raise DeliveryError on failure."""
        raise NotImplementedError

    def is_noop(self, channel: Channel, status: str) -> bool:
        """True when this channel is set up to ignore alerts for `status` (up/down)."""
        return False
