"""Slack: an incoming-webhook message with one coloured attachment."""

from __future__ import annotations

from typing import TYPE_CHECKING, NotRequired, TypedDict

from django.conf import settings
from rest_framework import serializers

from integrations import http
from integrations.base import ChannelKind, http_url_field
from integrations.message import Message, build_message

if TYPE_CHECKING:
    from checks.models import Channel, Notification

BODY_LIMIT = 1000


class SlackField(TypedDict):
    title: str
    value: str
    short: NotRequired[bool]


class SlackAttachment(TypedDict):
    color: str
    fallback: str
    title: str
    title_link: str
    text: str
    fields: list[SlackField]
    mrkdwn_in: list[str]


class SlackPayload(TypedDict):
    username: str
    text: str
    attachments: list[SlackAttachment]


class SlackConfig(serializers.Serializer):
    url = http_url_field(help_text="The incoming-webhook URL.")


def attachment_payload(message: Message) -> SlackPayload:
    """The Slack-compatible message (Mattermost accepts the same)."""
    fields: list[SlackField] = [
        {"title": label, "value": value, "short": True}
        for label, value in message.fields()
    ]
    if message.check.desc:
        fields.insert(0, {"title": "Description", "value": message.check.desc})
    body = message.body_excerpt(BODY_LIMIT)
    if body:
        fields.append({"title": "Last Ping Body", "value": f"```\n{body}\n```"})
    return {
        "username": settings.SITE_NAME,
        "text": message.headline,
        "attachments": [
            {
                "color": "danger" if message.is_down else "good",
                "fallback": message.text,
                "title": message.headline,
                "title_link": message.url,
                "text": message.detail,
                "fields": fields,
                "mrkdwn_in": ["fields"],
            }
        ],
    }


class Slack(ChannelKind):
    kind = "slack"
    label = "Slack"
    config = SlackConfig

    def send(self, channel: Channel, notification: Notification) -> None:
        """POST the message to the channel's incoming-webhook URL."""
        config = self.load_config(channel)
        http.request(
            "POST", config["url"], json=attachment_payload(build_message(notification))
        )
