"""Zulip: a bot posts to a stream topic or sends a private message."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rest_framework import serializers

from integrations import http
from integrations.base import SECRET, ChannelKind, http_url_field
from integrations.message import build_message

if TYPE_CHECKING:
    from checks.models import Channel, Notification

BODY_LIMIT = 1000


class ZulipConfig(serializers.Serializer):
    site = http_url_field(
        help_text="Your Zulip server, e.g. https://example.zulipchat.com"
    )
    bot_email = serializers.EmailField(max_length=254)
    api_key = serializers.CharField(max_length=100, label="API key", style=SECRET)
    mtype = serializers.ChoiceField(
        [("stream", "Stream"), ("private", "Private message")],
        default="stream",
        label="Post to",
    )
    to = serializers.CharField(
        max_length=200, help_text="Stream name, or the recipient's email."
    )
    topic = serializers.CharField(
        max_length=60,
        required=False,
        allow_blank=True,
        help_text="Stream topic; empty = the check's name.",
    )


class Zulip(ChannelKind):
    kind = "zulip"
    label = "Zulip"
    config = ZulipConfig

    def send(self, channel: Channel, notification: Notification) -> None:
        """POST /api/v1/messages as the bot (HTTP basic auth), in Markdown."""
        config = self.load_config(channel)
        message = build_message(notification)
        lines = [f"**[{message.headline}]({message.url})**"]
        if message.detail:
            lines.append(message.detail)
        lines.append("")
        lines += [f"* **{k}:** {v}" for k, v in message.fields()]
        excerpt = message.body_excerpt(BODY_LIMIT)
        if excerpt:
            lines += ["", "Last ping body:", "```", excerpt, "```"]
        form = {
            "type": config["mtype"],
            "to": config["to"],
            "content": "\n".join(lines),
        }
        if config["mtype"] == "stream":
            # One topic per check keeps its downs and ups together.
            form["topic"] = config.get("topic") or message.name[:60]
        url = f"{config['site'].rstrip('/')}/api/v1/messages"
        auth = (config["bot_email"], config["api_key"])
        http.request("POST", url, data=form, auth=auth)
