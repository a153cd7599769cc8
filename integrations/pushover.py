"""Pushover: a push message through the operator's Pushover application."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.utils.html import escape
from rest_framework import serializers

from integrations import http
from integrations.base import ChannelKind, DeliveryError, RateLimit
from integrations.message import build_message

if TYPE_CHECKING:
    from checks.models import Channel, Notification

OFF, EMERGENCY = -3, 2
MESSAGE_LIMIT = 1024  # Pushover's limit on the message text


def _priority() -> serializers.IntegerField:
    # -2 lowest .. 2 emergency (repeats until acknowledged); -3 = do not send.
    return serializers.IntegerField(
        min_value=OFF,
        max_value=EMERGENCY,
        default=0,
        help_text="-2 lowest, -1 low, 0 normal, 1 high, 2 emergency; -3 = do not send.",
    )


class PushoverConfig(serializers.Serializer):
    user_key = serializers.RegexField(
        r"^[A-Za-z0-9]{30}$",
        max_length=30,
        help_text="Your user (or group) key, from the Pushover dashboard.",
    )
    priority = _priority()
    priority_up = _priority()


class Pushover(ChannelKind):
    kind = "pushover"
    label = "Pushover"
    config = PushoverConfig
    rate_limit = RateLimit(6, timedelta(minutes=1), "Pushover user")

    def rate_key(self, channel: Channel) -> str | None:
        """The user (or group) key."""
        user_key = channel.config.get("user_key")
        return user_key if isinstance(user_key, str) and user_key else None

    def is_noop(self, channel: Channel, status: str) -> bool:
        """Priority -3 for a direction turns it off."""
        key = "priority" if status == "down" else "priority_up"
        return channel.config.get(key, 0) == OFF

    def send(self, channel: Channel, notification: Notification) -> None:
        """POST /1/messages.json; an up cancels the emergency repeats of the down."""
        config = self.load_config(channel)
        if not settings.PUSHOVER_API_TOKEN:
            raise DeliveryError(
                "Pushover is not configured on this server (PUSHOVER_API_TOKEN)",
                permanent=True,
            )
        message = build_message(notification)
        base = settings.PUSHOVER_API_URL.rstrip("/")
        tag = message.check.unique_key
        if not message.is_down and config["priority"] == EMERGENCY:
            # Stop the down alert's emergency repeats: the check recovered.
            http.request(
                "POST",
                f"{base}/1/receipts/cancel_by_tag/{tag}.json",
                data={"token": settings.PUSHOVER_API_TOKEN},
            )
        priority = config["priority" if message.is_down else "priority_up"]
        text = "<br>".join(
            [escape(message.detail)]
            + [f"<b>{escape(k)}:</b> {escape(v)}" for k, v in message.fields()]
        )
        form: dict[str, Any] = {
            "token": settings.PUSHOVER_API_TOKEN,
            "user": config["user_key"],
            "title": message.headline,
            "message": text[:MESSAGE_LIMIT],
            "html": 1,
            "priority": priority,
            "url": message.url,
            "url_title": f"View in {settings.SITE_NAME}",
        }
        if priority == EMERGENCY:
            form["retry"] = settings.PUSHOVER_EMERGENCY_RETRY_DELAY
            form["expire"] = settings.PUSHOVER_EMERGENCY_EXPIRATION
            form["tags"] = tag
        http.request("POST", f"{base}/1/messages.json", data=form)
