"""Slack and Mattermost: the incoming-webhook message for down and up."""

import pytest

from checks.models import Status
from integrations import registry
from integrations.base import DeliveryError
from integrations.slack import SlackConfig
from tests.factories import PingFactory
from tests.integrations.helpers import notification_for, send

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("kind", ["slack", "mattermost"])
def test_down_posts_a_red_attachment(receiver, settings, kind):
    notification = send(kind, {"url": f"{receiver.url}/services/T0/B0/x"})
    [request] = receiver.wait_for(1)
    assert (request.method, request.path) == ("POST", "/services/T0/B0/x")
    assert request.headers["Content-Type"] == "application/json"
    body = request.json()
    assert body["username"] == settings.SITE_NAME
    assert body["text"] == 'The check "backup" is DOWN.'
    [attachment] = body["attachments"]
    assert attachment["color"] == "danger"
    assert attachment["title"] == 'The check "backup" is DOWN.'
    code = notification.owner.code
    assert attachment["title_link"] == f"{settings.SITE_ROOT}/checks/{code}/details/"
    assert attachment["text"] == (
        "Reason: success signal did not arrive on time, grace time passed."
    )
    titles = [f["title"] for f in attachment["fields"]]
    assert titles == ["Project", "Tags", "Period", "Last ping", "Total pings"]


@pytest.mark.parametrize("kind", ["slack", "mattermost"])
def test_up_posts_a_green_attachment_with_downtime(receiver, kind):
    send(kind, {"url": receiver.url}, status=Status.UP)
    [attachment] = receiver.wait_for(1)[0].json()["attachments"]
    assert attachment["color"] == "good"
    assert attachment["title"] == 'The check "backup" is UP.'
    assert attachment["text"] == "The downtime lasted 2 hours 30 minutes."


def test_last_ping_body_is_a_code_block_of_at_most_1000_chars(receiver):
    notification = notification_for("slack", {"url": receiver.url})
    PingFactory(owner=notification.owner, body=b"a" * 1500 + b"END")
    registry.get("slack").send(notification.channel, notification)
    fields = receiver.wait_for(1)[0].json()["attachments"][0]["fields"]
    value = fields[-1]["value"]
    assert fields[-1]["title"] == "Last Ping Body"
    assert value.startswith("```\n")
    assert value.endswith("END\n```")
    assert len(value) == 1000 + len("```\n\n```")


def test_description_is_the_first_field(receiver):
    send("slack", {"url": receiver.url}, desc="Nightly database dump")
    fields = receiver.wait_for(1)[0].json()["attachments"][0]["fields"]
    assert fields[0] == {"title": "Description", "value": "Nightly database dump"}


def test_404_from_slack_is_permanent(receiver):
    receiver.status = 404
    with pytest.raises(DeliveryError) as e:
        send("slack", {"url": receiver.url})
    assert e.value.permanent


def test_500_from_slack_is_transient(receiver):
    receiver.status = 500
    with pytest.raises(DeliveryError) as e:
        send("slack", {"url": receiver.url})
    assert not e.value.permanent


@pytest.mark.parametrize(
    "config", [{}, {"url": ""}, {"url": "hooks.slack.com/x"}, {"url": "ftp://x/"}]
)
def test_config_needs_an_http_url(config):
    serializer = SlackConfig(data=config)
    assert not serializer.is_valid()
    assert "url" in serializer.errors
