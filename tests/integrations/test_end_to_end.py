"""Real kinds through the alert engine: a failing ping reaches webhook and mailbox."""

import pytest

from checks import alerts
from checks.models import DeliveryState, Status
from tests.factories import ChannelFactory, CheckFactory

pytestmark = pytest.mark.django_db


def test_fail_ping_is_delivered_to_webhook_and_email(
    client, receiver, smtp_server, django_capture_on_commit_callbacks
):
    check = CheckFactory(name="backup", status=Status.UP)
    webhook = ChannelFactory(
        project=check.project,
        kind="webhook",
        config={"url_down": f"{receiver.url}/$CODE", "body_down": "$STATUS"},
    )
    email = ChannelFactory(
        project=check.project, kind="email", config={"to": ["oncall@example.org"]}
    )
    check.channels.add(webhook, email)
    client.get(f"/ping/{check.code}/fail")
    with django_capture_on_commit_callbacks(execute=True):
        alerts.tick()
    [request] = receiver.wait_for(1)
    assert (request.path, request.body) == (f"/{check.code}", b"down")
    [mail] = smtp_server.wait_for(1)
    assert mail.subject == "DOWN | backup"
    assert "Reason: received a failure signal." in mail.text()


def test_test_notification_reaches_the_webhook(receiver):
    channel = ChannelFactory(
        kind="webhook", config={"url_down": receiver.url, "body_down": "$NAME"}
    )
    notification = alerts.send_test_notification(channel=channel)
    assert notification.state == DeliveryState.SENT
    assert receiver.wait_for(1)[0].body == b"TEST"


def test_refused_target_fails_the_notification_permanently(http_receiver, settings):
    settings.ALLOW_PRIVATE_TARGETS = False
    channel = ChannelFactory(kind="webhook", config={"url_down": http_receiver.url})
    notification = alerts.send_test_notification(channel=channel)
    assert notification.state == DeliveryState.FAILED
    assert "Refused to connect" in notification.error
    assert http_receiver.requests == []
