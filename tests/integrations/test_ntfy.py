"""ntfy: a JSON publish for down and up; priority 0 turns a direction off."""

import pytest

from checks.models import Status
from integrations.base import DeliveryError
from integrations.ntfy import Ntfy, NtfyConfig
from tests.factories import ChannelFactory
from tests.integrations.helpers import send

pytestmark = pytest.mark.django_db


def test_down_publishes_a_max_priority_message(receiver, settings):
    config = {"url": f"{receiver.url}/ntfy", "topic": "ops-alerts", "token": "tk"}
    notification = send("ntfy", config)
    [request] = receiver.wait_for(1)
    assert (request.method, request.path) == ("POST", "/ntfy/")
    assert request.headers["Authorization"] == "Bearer tk"
    body = request.json()
    url = f"{settings.SITE_ROOT}/checks/{notification.owner.code}/details/"
    assert body["topic"] == "ops-alerts"
    assert body["title"] == 'The check "backup" is DOWN.'
    assert body["priority"] == 5
    assert body["tags"] == ["red_circle"]
    assert body["click"] == url
    assert body["actions"] == [
        {"action": "view", "label": f"View in {settings.SITE_NAME}", "url": url}
    ]
    assert body["message"].startswith("Reason: success signal did not arrive")


def test_up_publishes_with_the_up_priority(receiver):
    config = {"url": receiver.url, "topic": "ops", "priority_up": 2}
    send("ntfy", config, status=Status.UP)
    [request] = receiver.wait_for(1)
    body = request.json()
    assert "Authorization" not in request.headers
    assert (body["title"], body["priority"], body["tags"]) == (
        'The check "backup" is UP.',
        2,
        ["green_circle"],
    )
    assert body["message"].startswith("The downtime lasted 2 hours 30 minutes.")


def test_server_url_defaults_to_the_setting(receiver, settings):
    settings.NTFY_DEFAULT_URL = f"{receiver.url}/default"
    send("ntfy", {"topic": "ops"})
    assert receiver.wait_for(1)[0].path == "/default/"


def test_priority_zero_is_a_no_op():
    channel = ChannelFactory(kind="ntfy", config={"topic": "t", "priority_up": 0})
    assert Ntfy().is_noop(channel, "up")
    assert not Ntfy().is_noop(channel, "down")


def test_wrong_token_401_is_permanent(receiver):
    receiver.status = 401
    with pytest.raises(DeliveryError) as e:
        send("ntfy", {"url": receiver.url, "topic": "ops"})
    assert e.value.permanent


@pytest.mark.parametrize(
    "config",
    [
        {},
        {"topic": "has space"},
        {"topic": "ok", "priority": 6},
        {"topic": "ok", "url": "x"},
    ],
)
def test_config_rejects_bad_topic_priority_or_url(config):
    assert not NtfyConfig(data=config).is_valid()
