"""Zulip: the bot posts to a stream topic or privately, for down and up."""

import base64
from urllib.parse import parse_qs

import pytest

from checks.models import Status
from integrations.base import DeliveryError
from integrations.zulip import ZulipConfig
from tests.integrations.helpers import send

pytestmark = pytest.mark.django_db


def _config(receiver, **extra):
    return {
        "site": receiver.url,
        "bot_email": "bot@zulip.example.org",
        "api_key": "key123",
        "to": "ops",
    } | extra


def _form(request):
    return {k: v[0] for k, v in parse_qs(request.body.decode()).items()}


def test_down_posts_to_the_stream_topic_of_the_check(receiver, settings):
    notification = send("zulip", _config(receiver))
    [request] = receiver.wait_for(1)
    assert (request.method, request.path) == ("POST", "/api/v1/messages")
    credentials = base64.b64encode(b"bot@zulip.example.org:key123").decode()
    assert request.headers["Authorization"] == f"Basic {credentials}"
    form = _form(request)
    url = f"{settings.SITE_ROOT}/checks/{notification.owner.code}/details/"
    assert (form["type"], form["to"], form["topic"]) == ("stream", "ops", "backup")
    assert form["content"].startswith(f'**[The check "backup" is DOWN.]({url})**\n')
    assert "* **Tags:** db, nightly" in form["content"]


def test_up_tells_the_downtime(receiver):
    send("zulip", _config(receiver, topic="alerts"), status=Status.UP)
    form = _form(receiver.wait_for(1)[0])
    assert form["topic"] == "alerts"
    assert "The downtime lasted 2 hours 30 minutes." in form["content"]


def test_private_message_has_no_topic(receiver):
    send("zulip", _config(receiver, mtype="private", to="alice@example.org"))
    form = _form(receiver.wait_for(1)[0])
    assert (form["type"], form["to"]) == ("private", "alice@example.org")
    assert "topic" not in form


def test_bad_request_400_is_permanent(receiver):
    receiver.status = 400
    with pytest.raises(DeliveryError) as e:
        send("zulip", _config(receiver))
    assert e.value.permanent


@pytest.mark.parametrize("missing", ["site", "bot_email", "api_key", "to"])
def test_config_requires_each_field(missing):
    config = {
        "site": "https://z.example.org",
        "bot_email": "b@z.org",
        "api_key": "k",
        "to": "ops",
    }
    del config[missing]
    serializer = ZulipConfig(data=config)
    assert not serializer.is_valid()
    assert missing in serializer.errors
