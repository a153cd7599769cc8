"""PagerDuty: Events API v2, trigger on down, resolve on up, deduplicated by check."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.conf import settings
from rest_framework import serializers

from integrations import http
from integrations.base import SECRET, ChannelKind
from integrations.message import build_message

if TYPE_CHECKING:
    from checks.models import Channel, Notification


class PagerDutyConfig(serializers.Serializer):
    # The "Integration Key" of an Events API v2 integration on a PagerDuty service.
    routing_key = serializers.RegexField(
        r"^[A-Za-z0-9]{32}$",
        max_length=32,
        label="Integration key",
        style=SECRET,
        help_text="Service → Integrations → Events API V2 → Integration Key.",
    )


class PagerDuty(ChannelKind):
    kind = "pagerduty"
    label = "PagerDuty"
    config = PagerDutyConfig

    def send(self, channel: Channel, notification: Notification) -> None:
        """Enqueue a trigger (down) or resolve (up) event; dedup_key = unique_key."""
        config = self.load_config(channel)
        message = build_message(notification)
        event: dict[str, Any] = {
            "routing_key": config["routing_key"],
            "event_action": "trigger" if message.is_down else "resolve",
            # Stable per check, and not the ping UUID (PagerDuty users may not
            # be allowed to ping the check).
            "dedup_key": message.check.unique_key,
        }
        if message.is_down:
            details = dict(message.fields())
            if message.reason:
                details["Reason"] = message.reason
            event["payload"] = {
                "summary": message.headline[:1024],
                "source": settings.SITE_NAME,
                "severity": "critical",
                "custom_details": details,
            }
            event["client"] = settings.SITE_NAME
            event["client_url"] = message.url
            event["links"] = [
                {"href": message.url, "text": f"View in {settings.SITE_NAME}"}
            ]
        url = f"{settings.PAGERDUTY_API_URL.rstrip('/')}/v2/enqueue"
        http.request("POST", url, json=event)
