"""Telegram: an HTML message from the operator's bot to a chat."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.utils.html import escape
from rest_framework import serializers

from integrations import http
from integrations.base import ChannelKind, DeliveryError, RateLimit
from integrations.message import Message, build_message

if TYPE_CHECKING:
    from checks.models import Channel, Notification

BODY_LIMIT = 1000


class TelegramConfig(serializers.Serializer):
    id = serializers.IntegerField(
        label="Chat ID",
        help_text="Negative for groups and channels. Add the bot to the chat first.",
    )
    thread_id = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        label="Topic ID",
        help_text="Optional: a forum topic of the group.",
    )
    type = serializers.CharField(max_length=20, required=False, allow_blank=True)
    name = serializers.CharField(max_length=100, required=False, allow_blank=True)


def html_text(message: Message) -> str:
    """The message in Telegram's HTML subset (b, a, pre)."""
    lines = [f"<b>{escape(message.headline)}</b>"]
    if message.detail:
        lines.append(escape(message.detail))
    lines.append("")
    lines += [f"<b>{escape(k)}:</b> {escape(v)}" for k, v in message.fields()]
    excerpt = message.body_excerpt(BODY_LIMIT)
    if excerpt:
        lines += ["", "<b>Last ping body:</b>", f"<pre>{escape(excerpt)}</pre>"]
    lines += [
        "",
        f'<a href="{escape(message.url)}">Open in {escape(settings.SITE_NAME)}</a>',
    ]
    return "\n".join(lines)


class Telegram(ChannelKind):
    kind = "telegram"
    label = "Telegram"
    config = TelegramConfig
    # Telegram answers 429 beyond about 20 messages a minute to a group.
    rate_limit = RateLimit(6, timedelta(minutes=1), "Telegram chat")

    def rate_key(self, channel: Channel) -> str | None:
        """The chat (topics of a group share its limit)."""
        chat = channel.config.get("id")
        return None if chat is None else str(chat)

    def send(self, channel: Channel, notification: Notification) -> None:
        """Call the Bot API's sendMessage for the configured chat (and topic)."""
        config = self.load_config(channel)
        if not settings.TELEGRAM_TOKEN:
            raise DeliveryError(
                "Telegram is not configured on this server (TELEGRAM_TOKEN)",
                permanent=True,
            )
        payload: dict[str, object] = {
            "chat_id": config["id"],
            "text": html_text(build_message(notification)),
            "parse_mode": "HTML",
            "disable_web_page_preview": True,
        }
        if config.get("thread_id") is not None:
            payload["message_thread_id"] = config["thread_id"]
        base = settings.TELEGRAM_API_URL.rstrip("/")
        # The token is part of the URL: DeliveryError texts never include URLs.
        url = f"{base}/bot{settings.TELEGRAM_TOKEN}/sendMessage"
        http.request("POST", url, json=payload)
