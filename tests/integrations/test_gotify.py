"""Gotify: POST /message with the app token, for down and up."""

import pytest

from checks.models import Status
from integrations.base import DeliveryError
from integrations.gotify import Gotify, GotifyConfig
from tests.factories import ChannelFactory
from tests.integrations.helpers import send

pytestmark = pytest.mark.django_db


def test_down_posts_a_markdown_message(receiver, settings):
    config = {"url": f"{receiver.url}/gotify/", "token": "AppTok", "priority": 8}
    notification = send("gotify", config)
    [request] = receiver.wait_for(1)
    assert (request.method, request.path) == ("POST", "/gotify/message")
    assert request.headers["X-Gotify-Key"] == "AppTok"
    body = request.json()
    url = f"{settings.SITE_ROOT}/checks/{notification.owner.code}/details/"
    assert body["title"] == 'The check "backup" is DOWN.'
    assert body["priority"] == 8
    assert body["extras"] == {
        "client::display": {"contentType": "text/markdown"},
        "client::notification": {"click": {"url": url}},
    }
    assert f"[View in {settings.SITE_NAME}]({url})" in body["message"]


def test_up_uses_the_up_priority(receiver):
    send(
        "gotify",
        {"url": receiver.url, "token": "t", "priority_up": 3},
        status=Status.UP,
    )
    body = receiver.wait_for(1)[0].json()
    assert (body["title"], body["priority"]) == ('The check "backup" is UP.', 3)
    assert body["message"].startswith("The downtime lasted 2 hours 30 minutes.")


def test_priority_zero_is_a_no_op():
    channel = ChannelFactory(kind="gotify", config={"priority": 0, "priority_up": 5})
    assert Gotify().is_noop(channel, "down")
    assert not Gotify().is_noop(channel, "up")


def test_unknown_token_401_is_permanent(receiver):
    receiver.status = 401
    with pytest.raises(DeliveryError) as e:
        send("gotify", {"url": receiver.url, "token": "t"})
    assert e.value.permanent


@pytest.mark.parametrize(
    "config",
    [{}, {"url": "http://g/"}, {"url": "http://g/", "token": "t", "priority": 11}],
)
def test_config_needs_url_token_and_valid_priorities(config):
    assert not GotifyConfig(data=config).is_valid()
