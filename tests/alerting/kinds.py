"""Test-only channel kinds for engine tests (the real kinds live in integrations/)."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import requests
from rest_framework import serializers

from integrations.base import ChannelKind, DeliveryError

if TYPE_CHECKING:
    from checks.models import Channel, Notification


class RecordConfig(serializers.Serializer):
    fail = serializers.CharField(required=False)


class RecordKind(ChannelKind):
    """Records each send; config {"fail": "temporary"|"permanent"} makes it fail."""

    kind = "record"
    label = "Record (tests)"
    config = RecordConfig
    sent: ClassVar[list[tuple[int, str, str]]] = []

    def send(self, channel: Channel, notification: Notification) -> None:
        failure = channel.config.get("fail")
        if failure == "crash":
            raise RuntimeError("https://secret.example/token123 exploded")
        if failure:
            raise DeliveryError(f"{failure} failure", permanent=failure == "permanent")
        self.sent.append((channel.pk, notification.kind, notification.check_status))

    def is_noop(self, channel: Channel, status: str) -> bool:
        return status in channel.config.get("ignore", [])


class PostConfig(serializers.Serializer):
    url = serializers.URLField()


class PostKind(ChannelKind):
    """POSTs the notification's code and status to config["url"] (a local receiver)."""

    kind = "post"
    label = "POST (tests)"
    config = PostConfig

    def send(self, channel: Channel, notification: Notification) -> None:
        try:
            response = requests.post(
                channel.config["url"],
                json={
                    "notification": str(notification.code),
                    "kind": notification.kind,
                    "status": notification.check_status,
                    "check": str(notification.owner.code)
                    if notification.owner
                    else None,
                },
                timeout=10,
            )
        except requests.RequestException as e:
            raise DeliveryError(f"Connection failed: {type(e).__name__}") from e
        if response.status_code >= 400:
            raise DeliveryError(
                f"Received status code {response.status_code}",
                permanent=response.status_code < 500,
            )


TEST_KINDS = {
    "record": "tests.alerting.kinds.RecordKind",
    "post": "tests.alerting.kinds.PostKind",
}
