"""Matrix: the operator's bot account posts to a room (PUT send event)."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import quote

from django.conf import settings
from django.utils.html import escape
from rest_framework import serializers

from integrations import http
from integrations.base import ChannelKind, DeliveryError
from integrations.message import Message, build_message

if TYPE_CHECKING:
    from checks.models import Channel, Notification


class MatrixConfig(serializers.Serializer):
    room_id = serializers.RegexField(
        r"^![^:\s]+:\S+$",
        max_length=255,
        label="Room ID",
        help_text="The internal id, like !abc123:example.org (Room settings → "
        "Advanced). Invite the bot to the room first.",
    )


def bodies(message: Message) -> tuple[str, str]:
    """(plain text, HTML) of the room message."""
    facts = message.fields()
    plain = "\n".join([message.text, message.url] + [f"{k}: {v}" for k, v in facts])
    html = "".join(
        [f'<p><b><a href="{escape(message.url)}">{escape(message.headline)}</a></b>']
        + ([f"<br>{escape(message.detail)}"] if message.detail else [])
        + ["</p><ul>"]
        + [f"<li><b>{escape(k)}:</b> {escape(v)}</li>" for k, v in facts]
        + ["</ul>"]
    )
    return plain, html


class Matrix(ChannelKind):
    kind = "matrix"
    label = "Matrix"
    config = MatrixConfig

    def send(self, channel: Channel, notification: Notification) -> None:
        """PUT an m.room.message; the transaction id makes a retry a no-op."""
        config = self.load_config(channel)
        if not (settings.MATRIX_HOMESERVER and settings.MATRIX_ACCESS_TOKEN):
            raise DeliveryError(
                "Matrix is not configured on this server "
                "(MATRIX_HOMESERVER, MATRIX_ACCESS_TOKEN)",
                permanent=True,
            )
        plain, html = bodies(build_message(notification))
        room = quote(config["room_id"], safe="")
        # The homeserver deduplicates by transaction id: a redelivered
        # notification (at-least-once) shows up in the room once.
        txn = notification.code.hex
        base = settings.MATRIX_HOMESERVER.rstrip("/")
        url = f"{base}/_matrix/client/v3/rooms/{room}/send/m.room.message/{txn}"
        event = {
            "msgtype": "m.text",
            "body": plain,
            "format": "org.matrix.custom.html",
            "formatted_body": html,
        }
        headers = {"Authorization": f"Bearer {settings.MATRIX_ACCESS_TOKEN}"}
        http.request("PUT", url, headers=headers, json=event)
