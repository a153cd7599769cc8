"""Microsoft Teams: an Adaptive Card posted to a Teams Workflows webhook."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.conf import settings
from rest_framework import serializers

from integrations import http
from integrations.base import ChannelKind, http_url_field
from integrations.message import Message, build_message

if TYPE_CHECKING:
    from checks.models import Channel, Notification

BODY_LIMIT = 1000


class TeamsConfig(serializers.Serializer):
    url = http_url_field(
        help_text="The URL of a Teams Workflows flow started by a webhook request."
    )


def card(message: Message) -> dict[str, Any]:
    """The Adaptive Card (schema 1.4) announcing the status change."""
    body: list[dict[str, Any]] = [
        {
            "type": "TextBlock",
            "text": message.headline,
            "weight": "Bolder",
            "size": "Medium",
            "color": "Attention" if message.is_down else "Good",
            "wrap": True,
        }
    ]
    if message.detail:
        body.append({"type": "TextBlock", "text": message.detail, "wrap": True})
    body.append(
        {
            "type": "FactSet",
            "facts": [{"title": k, "value": v} for k, v in message.fields()],
        }
    )
    excerpt = message.body_excerpt(BODY_LIMIT)
    if excerpt:
        body.append(
            {
                "type": "TextBlock",
                "text": excerpt,
                "fontType": "Monospace",
                "wrap": True,
            }
        )
    return {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "fallbackText": message.text,
        "body": body,
        "actions": [
            {
                "type": "Action.OpenUrl",
                "title": f"View in {settings.SITE_NAME}",
                "url": message.url,
            }
        ],
    }


class MsTeams(ChannelKind):
    kind = "msteams"
    label = "Microsoft Teams"
    config = TeamsConfig

    def send(self, channel: Channel, notification: Notification) -> None:
        """POST a message with one Adaptive Card attachment to the workflow URL."""
        url = self.load_config(channel)["url"]
        payload = {
            "type": "message",
            "attachments": [
                {
                    "contentType": "application/vnd.microsoft.card.adaptive",
                    "contentUrl": None,
                    "content": card(build_message(notification)),
                }
            ],
        }
        http.request("POST", url, json=payload)
