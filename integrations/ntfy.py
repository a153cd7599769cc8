"""ntfy: a JSON publish to an ntfy server (ntfy.sh or self-hosted)."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from rest_framework import serializers

from integrations import http
from integrations.base import SECRET, ChannelKind, RateLimit, http_url_field
from integrations.message import build_message

if TYPE_CHECKING:
    from checks.models import Channel, Notification

BODY_LIMIT = 1000


def _priority(default: int) -> serializers.IntegerField:
    # ntfy priorities are 1 (min) .. 5 (max); 0 here = do not send.
    return serializers.IntegerField(
        min_value=0, max_value=5, default=default, help_text="1 to 5; 0 = do not send."
    )


class NtfyConfig(serializers.Serializer):
    url = http_url_field(
        required=False, help_text="Your ntfy server; empty = the server's default."
    )
    topic = serializers.RegexField(
        r"^[A-Za-z0-9_-]{1,64}$",
        max_length=64,
        help_text="Letters, digits, - and _ (up to 64).",
    )
    priority = _priority(5)
    priority_up = _priority(3)
    token = serializers.CharField(
        max_length=200,
        required=False,
        allow_blank=True,
        style=SECRET,
        help_text="Access token, for protected topics.",
    )


def _server(config: dict[str, Any]) -> str:
    """The channel's ntfy server, else the operator's default (no trailing /)."""
    return str(config.get("url") or settings.NTFY_DEFAULT_URL).rstrip("/")


class Ntfy(ChannelKind):
    kind = "ntfy"
    label = "ntfy"
    config = NtfyConfig
    rate_limit = RateLimit(6, timedelta(minutes=1), "ntfy topic")

    def rate_key(self, channel: Channel) -> str | None:
        """The topic on its server."""
        topic = channel.config.get("topic")
        if not isinstance(topic, str) or not topic:
            return None
        return f"{_server(channel.config)}/{topic}"

    def is_noop(self, channel: Channel, status: str) -> bool:
        """Priority 0 for a direction turns it off."""
        key = "priority" if status == "down" else "priority_up"
        return channel.config.get(key, 5 if status == "down" else 3) == 0

    def send(self, channel: Channel, notification: Notification) -> None:
        """Publish a message with title, priority, tag and a link to the check."""
        config = self.load_config(channel)
        message = build_message(notification)
        lines = [message.detail] if message.detail else []
        lines += [f"{k}: {v}" for k, v in message.fields()]
        excerpt = message.body_excerpt(BODY_LIMIT)
        if excerpt:
            lines += ["", "Last ping body:", excerpt]
        payload: dict[str, Any] = {
            "topic": config["topic"],
            "title": message.headline,
            "message": "\n".join(lines),
            "priority": config["priority" if message.is_down else "priority_up"],
            "tags": ["red_circle" if message.is_down else "green_circle"],
            "click": message.url,
            "actions": [
                {
                    "action": "view",
                    "label": f"View in {settings.SITE_NAME}",
                    "url": message.url,
                }
            ],
        }
        headers = {}
        if config.get("token"):
            headers["Authorization"] = f"Bearer {config['token']}"
        base = _server(config)
        # JSON publishing goes to the server's root URL; the topic is in the body.
        http.request("POST", f"{base}/", headers=headers, json=payload)
