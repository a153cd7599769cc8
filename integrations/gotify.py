"""Gotify: a message to a Gotify server through an application token."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from rest_framework import serializers

from integrations import http
from integrations.base import SECRET, ChannelKind, http_url_field
from integrations.message import build_message

if TYPE_CHECKING:
    from checks.models import Channel, Notification

BODY_LIMIT = 1000


def _priority() -> serializers.IntegerField:
    # Gotify priorities are 1..10 here; 0 = do not send (as in Healthchecks).
    return serializers.IntegerField(
        min_value=0, max_value=10, default=5, help_text="1 to 10; 0 = do not send."
    )


class GotifyConfig(serializers.Serializer):
    url = http_url_field(
        help_text="Your Gotify server, e.g. https://gotify.example.org"
    )
    token = serializers.CharField(
        max_length=200, style=SECRET, help_text="The token of a Gotify application."
    )
    priority = _priority()
    priority_up = _priority()


class Gotify(ChannelKind):
    kind = "gotify"
    label = "Gotify"
    config = GotifyConfig

    def is_noop(self, channel: Channel, status: str) -> bool:
        """Priority 0 for a direction turns it off."""
        return (
            channel.config.get("priority" if status == "down" else "priority_up") == 0
        )

    def send(self, channel: Channel, notification: Notification) -> None:
        """POST /message with a Markdown body and a click-through URL."""
        config = self.load_config(channel)
        message = build_message(notification)
        lines = [message.detail, ""] if message.detail else []
        lines += [f"**{k}:** {v}  " for k, v in message.fields()]
        lines += ["", f"[View in {settings.SITE_NAME}]({message.url})"]
        excerpt = message.body_excerpt(BODY_LIMIT)
        if excerpt:
            lines += ["", "Last ping body:", "```", excerpt, "```"]
        payload = {
            "title": message.headline,
            "message": "\n".join(lines),
            "priority": config["priority" if message.is_down else "priority_up"],
            "extras": {
                "client::display": {"contentType": "text/markdown"},
                "client::notification": {"click": {"url": message.url}},
            },
        }
        url = f"{config['url'].rstrip('/')}/message"
        # The token in a header, not the query string: URLs end up in proxy logs.
        headers = {"X-Gotify-Key": config["token"]}
        http.request("POST", url, headers=headers, json=payload)
