"""One mail server connection per delivery batch (integrations.email.keep_alive)."""

import pytest
from django.utils import timezone

from checks import alerts
from checks.models import DeliveryState, Notification
from integrations import email
from integrations.base import DeliveryError
from integrations.email import Email
from tests.factories import ChannelFactory, CheckFactory, FlipFactory

pytestmark = pytest.mark.django_db


def _notifications(count, to=("a@example.org",)):
    check = CheckFactory(name="backup")
    channel = ChannelFactory(project=check.project, kind="email", config={"to": to})
    return [
        Notification.objects.create(
            flip=FlipFactory(owner=check),
            owner=check,
            channel=channel,
            check_status="down",
            next_attempt=timezone.now(),
        )
        for _ in range(count)
    ]


def _send_all(notifications):
    for notification in notifications:
        Email().send(notification.channel, notification)


def _connections(mails):
    return len({m.peer for m in mails})


def test_alerts_inside_keep_alive_share_one_connection(smtp_server):
    with email.keep_alive():
        _send_all(_notifications(3))
    assert _connections(smtp_server.wait_for(3)) == 1


def test_alerts_outside_keep_alive_each_open_a_connection(smtp_server):
    _send_all(_notifications(3))
    assert _connections(smtp_server.wait_for(3)) == 3


def test_connection_the_server_dropped_is_replaced_before_sending(smtp_server):
    first, second = _notifications(2)
    with email.keep_alive():
        _send_all([first])
        smtp_server.restart()
        _send_all([second])
    mails = smtp_server.wait_for(2)
    assert len(mails) == 2
    assert _connections(mails) == 2


def test_kept_connection_carries_alerts_up_to_the_cap(smtp_server, monkeypatch):
    monkeypatch.setattr(email, "MESSAGES_PER_CONNECTION", 3)
    two = _notifications(1, to=["b@example.org", "c@example.org"])
    with email.keep_alive():
        _send_all(two + _notifications(1))  # three messages: exactly the cap
    assert _connections(smtp_server.wait_for(3)) == 1


def test_kept_connection_is_replaced_before_an_alert_would_pass_the_cap(
    smtp_server, monkeypatch
):
    monkeypatch.setattr(email, "MESSAGES_PER_CONNECTION", 3)
    two = _notifications(1, to=["b@example.org", "c@example.org"])
    with email.keep_alive():
        _send_all(_notifications(1) + two)  # one, then two at once: still fits
        _send_all(_notifications(1))  # a fourth would pass it
    mails = smtp_server.wait_for(4)
    assert _connections(mails[:3]) == 1
    assert _connections(mails) == 2


def test_failed_alert_leaves_the_next_one_a_new_connection(smtp_server):
    smtp_server.refuse.add("gone@example.org")
    refused, sent = _notifications(1, to=["gone@example.org"]) + _notifications(1)
    with email.keep_alive():
        with pytest.raises(DeliveryError):
            _send_all([refused])
        _send_all([sent])
    smtp_server.wait_for(1)
    assert len(set(smtp_server.recipient_peers)) == 2


def test_batch_of_email_deliveries_uses_one_connection(smtp_server):
    ids = [n.pk for n in _notifications(3)]
    alerts.deliver_all(ids)
    states = set(Notification.objects.values_list("state", flat=True))
    assert states == {DeliveryState.SENT}
    assert _connections(smtp_server.wait_for(3)) == 1
