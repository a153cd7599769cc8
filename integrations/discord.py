"""Discord: a webhook message with one embed."""

from __future__ import annotations

from typing import TYPE_CHECKING, NotRequired, TypedDict

from django.conf import settings
from rest_framework import serializers

from integrations import http
from integrations.base import ChannelKind, http_url_field
from integrations.message import Message, build_message

if TYPE_CHECKING:
    from checks.models import Channel, Notification

RED, GREEN = 0xD9534F, 0x5CB85C
# Discord's limits: 1024 characters per field value, 4096 per description.
FIELD_LIMIT = 1024
BODY_LIMIT = 1000


class EmbedField(TypedDict):
    name: str
    value: str
    inline: NotRequired[bool]


class Embed(TypedDict):
    title: str
    url: str
    description: str
    color: int
    fields: list[EmbedField]
    timestamp: str


class DiscordPayload(TypedDict):
    username: str
    content: str
    embeds: list[Embed]


class DiscordConfig(serializers.Serializer):
    url = http_url_field(
        help_text="Server settings → Integrations → Webhooks → Copy Webhook URL."
    )


def _truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def payload(message: Message) -> DiscordPayload:
    fields: list[EmbedField] = [
        {"name": label, "value": _truncate(value, FIELD_LIMIT), "inline": True}
        for label, value in message.fields()
    ]
    body = message.body_excerpt(BODY_LIMIT)
    if body:
        fields.append(
            {"name": "Last Ping Body", "value": _truncate(f"```\n{body}\n```", 1024)}
        )
    return {
        "username": settings.SITE_NAME,
        "content": message.headline,
        "embeds": [
            {
                "title": _truncate(message.headline, 256),
                "url": message.url,
                "description": message.detail,
                "color": RED if message.is_down else GREEN,
                "fields": fields,
                "timestamp": message.changed_at.isoformat(),
            }
        ],
    }


class Discord(ChannelKind):
    kind = "discord"
    label = "Discord"
    config = DiscordConfig

    def send(self, channel: Channel, notification: Notification) -> None:
        """POST the message to the channel's Discord webhook URL."""
        url = self.load_config(channel)["url"]
        # Old webhook URLs still name discordapp.com, which Discord is retiring.
        url = url.replace("https://discordapp.com/", "https://discord.com/")
        http.request("POST", url, json=payload(build_message(notification)))
