"""Discord: the webhook message with one embed, for down and up."""

import pytest

from checks.models import Status
from integrations import discord
from integrations.base import DeliveryError
from integrations.discord import DiscordConfig
from tests.integrations.helpers import send

pytestmark = pytest.mark.django_db


def test_down_posts_a_red_embed(receiver, settings):
    notification = send("discord", {"url": f"{receiver.url}/api/webhooks/1/tok"})
    [request] = receiver.wait_for(1)
    assert (request.method, request.path) == ("POST", "/api/webhooks/1/tok")
    body = request.json()
    assert body["content"] == 'The check "backup" is DOWN.'
    [embed] = body["embeds"]
    assert embed["color"] == 0xD9534F
    assert embed["url"] == (
        f"{settings.SITE_ROOT}/checks/{notification.owner.code}/details/"
    )
    assert embed["description"].startswith("Reason: success signal")
    assert embed["timestamp"] == "2026-11-27T12:30:15+00:00"
    assert {"name": "Tags", "value": "db, nightly", "inline": True} in embed["fields"]


def test_up_posts_a_green_embed(receiver):
    send("discord", {"url": receiver.url}, status=Status.UP)
    [embed] = receiver.wait_for(1)[0].json()["embeds"]
    assert embed["color"] == 0x5CB85C
    assert embed["title"] == 'The check "backup" is UP.'
    assert embed["description"] == "The downtime lasted 2 hours 30 minutes."


def test_discord_204_is_success(receiver):
    receiver.status = 204
    receiver.response_body = b""
    send("discord", {"url": receiver.url})
    assert len(receiver.wait_for(1)) == 1


def test_400_is_permanent(receiver):
    receiver.status = 400
    with pytest.raises(DeliveryError) as e:
        send("discord", {"url": receiver.url})
    assert e.value.permanent


def test_old_discordapp_host_is_rewritten(monkeypatch):
    # Nothing real can answer for discord.com here: capture the call instead.
    calls = []
    monkeypatch.setattr(
        discord.http, "request", lambda method, url, **kw: calls.append(url)
    )
    send("discord", {"url": "https://discordapp.com/api/webhooks/1/tok"})
    assert calls == ["https://discord.com/api/webhooks/1/tok"]


def test_config_needs_a_url():
    serializer = DiscordConfig(data={})
    assert not serializer.is_valid()
    assert "url" in serializer.errors
