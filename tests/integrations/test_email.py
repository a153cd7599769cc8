"""Email channel through a real SMTP server."""

import pytest

from checks.models import NotificationKind, Status
from integrations.base import DeliveryError
from integrations.email import Email, EmailConfig
from tests.factories import (
    ChannelFactory,
    CheckFactory,
    FlipFactory,
    NotificationFactory,
    PingFactory,
)

pytestmark = pytest.mark.django_db


def _notification(config, **flip):
    check = CheckFactory(name="backup")
    channel = ChannelFactory(project=check.project, kind="email", config=config)
    return NotificationFactory(flip=FlipFactory(owner=check, **flip), channel=channel)


def test_down_alert_sends_one_message_per_address(smtp_server):
    notification = _notification({"to": ["a@example.org", "b@example.org"]})
    Email().send(notification.channel, notification)
    mails = smtp_server.wait_for(2)
    assert [m.rcpt_tos for m in mails] == [["a@example.org"], ["b@example.org"]]
    assert [m.subject for m in mails] == ["DOWN | backup", "DOWN | backup"]


def test_alert_offers_one_click_unsubscribe(smtp_server, settings):
    notification = _notification({"to": ["a@example.org"]})
    Email().send(notification.channel, notification)
    [mail] = smtp_server.wait_for(1)
    url = str(mail.message["List-Unsubscribe"]).strip().strip("<>")
    code = notification.channel.code
    assert url.startswith(f"{settings.SITE_ROOT}/integrations/{code}/unsubscribe/")
    assert mail.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert url in mail.text()
    assert f'href="{url}"' in mail.html()


def test_each_address_gets_its_own_unsubscribe_link(smtp_server):
    notification = _notification({"to": ["a@example.org", "b@example.org"]})
    Email().send(notification.channel, notification)
    a, b = smtp_server.wait_for(2)
    assert a.message["List-Unsubscribe"] != b.message["List-Unsubscribe"]


def test_down_alert_has_text_and_html_bodies(smtp_server, settings):
    notification = _notification({"to": ["a@example.org"]})
    PingFactory(owner=notification.owner, body=b"disk full <oops>")
    Email().send(notification.channel, notification)
    [mail] = smtp_server.wait_for(1)
    code = notification.owner.code
    assert 'The check "backup" is DOWN.' in mail.text()
    assert "Reason: success signal did not arrive on time" in mail.text()
    assert f"/checks/{code}/details/" in mail.text()
    assert "disk full <oops>" in mail.text()
    assert "The check &quot;backup&quot; is DOWN." in mail.html()
    assert f'href="{settings.SITE_ROOT}/checks/{code}/details/"' in mail.html()
    assert "disk full &lt;oops&gt;" in mail.html()


def test_up_alert_subject_and_downtime(smtp_server):
    check = CheckFactory(name="backup")
    FlipFactory(owner=check)
    up = FlipFactory(owner=check, old_status=Status.DOWN, new_status=Status.UP)
    channel = ChannelFactory(
        project=check.project, kind="email", config={"to": ["a@example.org"]}
    )
    notification = NotificationFactory(flip=up, channel=channel)
    Email().send(channel, notification)
    [mail] = smtp_server.wait_for(1)
    assert mail.subject == "UP | backup"
    assert "The downtime lasted" in mail.text()


def test_reminder_subject_says_reminder(smtp_server):
    check = CheckFactory(name="backup", status=Status.DOWN)
    FlipFactory(owner=check)
    channel = ChannelFactory(
        project=check.project, kind="email", config={"to": ["a@example.org"]}
    )
    notification = NotificationFactory(
        flip=None, owner=check, channel=channel, kind=NotificationKind.REMINDER
    )
    Email().send(channel, notification)
    [mail] = smtp_server.wait_for(1)
    assert mail.subject == "Reminder: DOWN | backup"


def test_toggles_make_directions_no_ops():
    channel = ChannelFactory(
        kind="email", config={"to": ["a@example.org"], "up": False, "down": True}
    )
    assert Email().is_noop(channel, "up")
    assert not Email().is_noop(channel, "down")


def test_unreachable_mail_server_is_a_transient_error(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = 1  # nothing listens there
    settings.EMAIL_TIMEOUT = 2
    notification = _notification({"to": ["a@example.org"]})
    with pytest.raises(DeliveryError) as e:
        Email().send(notification.channel, notification)
    assert not e.value.permanent


def test_invalid_config_is_a_permanent_error():
    notification = _notification({"to": []})
    with pytest.raises(DeliveryError, match="to:") as e:
        Email().send(notification.channel, notification)
    assert e.value.permanent


@pytest.mark.parametrize(
    "config",
    [{}, {"to": []}, {"to": ["not-an-address"]}, {"to": "a@example.org"}],
)
def test_config_rejects_missing_or_bad_addresses(config):
    assert not EmailConfig(data=config).is_valid()


def test_config_defaults_both_toggles_on():
    serializer = EmailConfig(data={"to": ["a@example.org"]})
    assert serializer.is_valid()
    assert serializer.validated_data["up"] is True
    assert serializer.validated_data["down"] is True
