"""Pushover: messages.json form posts, priorities, emergency cancel on up."""

from urllib.parse import parse_qs

import pytest

from checks.models import Status
from integrations.base import DeliveryError
from integrations.pushover import Pushover, PushoverConfig
from tests.factories import ChannelFactory
from tests.integrations.helpers import send

pytestmark = pytest.mark.django_db
USER = "u" * 30


@pytest.fixture
def api(receiver, settings):
    settings.PUSHOVER_API_URL = receiver.url
    settings.PUSHOVER_API_TOKEN = "apptoken"
    return receiver


def _form(request):
    return {k: v[0] for k, v in parse_qs(request.body.decode()).items()}


def test_down_posts_the_message_form(api, settings):
    notification = send("pushover", {"user_key": USER, "priority": 1})
    [request] = api.wait_for(1)
    assert (request.method, request.path) == ("POST", "/1/messages.json")
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    form = _form(request)
    url = f"{settings.SITE_ROOT}/checks/{notification.owner.code}/details/"
    assert form["token"] == "apptoken"
    assert form["user"] == USER
    assert form["title"] == 'The check "backup" is DOWN.'
    assert form["priority"] == "1"
    assert form["html"] == "1"
    assert (form["url"], form["url_title"]) == (url, f"View in {settings.SITE_NAME}")
    assert form["message"].startswith("Reason: success signal did not arrive")
    assert "retry" not in form


def test_up_posts_with_the_up_priority(api):
    send("pushover", {"user_key": USER, "priority_up": -1}, status=Status.UP)
    form = _form(api.wait_for(1)[0])
    assert (form["title"], form["priority"]) == ('The check "backup" is UP.', "-1")


def test_emergency_priority_sends_retry_expire_and_tag(api, settings):
    notification = send("pushover", {"user_key": USER, "priority": 2})
    form = _form(api.wait_for(1)[0])
    assert form["retry"] == str(settings.PUSHOVER_EMERGENCY_RETRY_DELAY)
    assert form["expire"] == str(settings.PUSHOVER_EMERGENCY_EXPIRATION)
    assert form["tags"] == notification.owner.unique_key


def test_up_after_emergency_cancels_the_repeats_first(api):
    notification = send("pushover", {"user_key": USER, "priority": 2}, status=Status.UP)
    cancel, message = api.wait_for(2)
    tag = notification.owner.unique_key
    assert cancel.path == f"/1/receipts/cancel_by_tag/{tag}.json"
    assert _form(cancel) == {"token": "apptoken"}
    assert message.path == "/1/messages.json"


def test_priority_minus_three_is_a_no_op():
    channel = ChannelFactory(
        kind="pushover", config={"user_key": USER, "priority_up": -3}
    )
    assert Pushover().is_noop(channel, "up")
    assert not Pushover().is_noop(channel, "down")


def test_missing_app_token_is_a_permanent_error(receiver, settings):
    settings.PUSHOVER_API_URL = receiver.url
    settings.PUSHOVER_API_TOKEN = ""
    with pytest.raises(DeliveryError, match="PUSHOVER_API_TOKEN") as e:
        send("pushover", {"user_key": USER})
    assert e.value.permanent


def test_invalid_user_400_is_permanent(api):
    api.status = 400
    with pytest.raises(DeliveryError) as e:
        send("pushover", {"user_key": USER})
    assert e.value.permanent


@pytest.mark.parametrize(
    "config",
    [
        {},
        {"user_key": "short"},
        {"user_key": USER, "priority": 3},
        {"user_key": USER, "priority_up": -4},
    ],
)
def test_config_needs_a_user_key_and_valid_priorities(config):
    assert not PushoverConfig(data=config).is_valid()
