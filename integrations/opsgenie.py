"""Opsgenie: create an alert on down, close it on up; the alias is the check's key."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from rest_framework import serializers

from integrations import http
from integrations.base import SECRET, ChannelKind
from integrations.message import build_message

if TYPE_CHECKING:
    from checks.models import Channel, Notification

MESSAGE_LIMIT = 130  # Opsgenie truncates longer alert messages


class OpsgenieConfig(serializers.Serializer):
    key = serializers.CharField(
        max_length=100,
        label="API key",
        style=SECRET,
        help_text="The key of an API integration of your Opsgenie team.",
    )
    region = serializers.ChoiceField(["us", "eu"], default="us")


def api_url(region: str) -> str:
    base = (
        settings.OPSGENIE_API_URL_EU if region == "eu" else settings.OPSGENIE_API_URL_US
    )
    return base.rstrip("/")


class Opsgenie(ChannelKind):
    kind = "opsgenie"
    label = "Opsgenie"
    config = OpsgenieConfig

    def send(self, channel: Channel, notification: Notification) -> None:
        """Create (down) or close (up) the alert aliased to the check's unique_key."""
        config = self.load_config(channel)
        message = build_message(notification)
        headers = {"Authorization": f"GenieKey {config['key']}"}
        alias = message.check.unique_key
        base = api_url(config["region"])
        if message.is_down:
            description = "\n".join(
                [message.detail, message.url]
                + [f"{k}: {v}" for k, v in message.fields()]
            )
            alert = {
                "alias": alias,
                "message": message.headline[:MESSAGE_LIMIT],
                "description": description.strip(),
                "source": settings.SITE_NAME,
                "tags": message.tags,
                "details": dict(message.fields()) | {"URL": message.url},
            }
            http.request("POST", f"{base}/v2/alerts", headers=headers, json=alert)
        else:
            close = {"source": settings.SITE_NAME, "note": message.text}
            url = f"{base}/v2/alerts/{alias}/close?identifierType=alias"
            http.request("POST", url, headers=headers, json=close)
