"""The shared alert content: reasons, downtime, links, reminders and tests."""

from datetime import timedelta

import pytest
from django.utils import timezone

from checks.models import NotificationKind, Reason, Status
from integrations.message import build_message, format_duration
from tests.factories import (
    ChannelFactory,
    CheckFactory,
    FlipFactory,
    NotificationFactory,
    PingFactory,
    ProfileFactory,
)

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0 seconds"),
        (1, "1 second"),
        (59, "59 seconds"),
        (60, "1 minute"),
        (3 * 3600 + 5 * 60 + 7, "3 hours 5 minutes"),
        (86400 + 60, "1 day 1 minute"),
        (15 * 86400, "2 weeks 1 day"),
    ],
)
def test_format_duration_shows_two_largest_units(seconds, text):
    assert format_duration(timedelta(seconds=seconds)) == text


def test_down_alert_names_the_check_and_the_timeout_reason():
    message = build_message(NotificationFactory(flip__owner__name="backup"))
    assert message.title == "DOWN | backup"
    assert message.headline == 'The check "backup" is DOWN.'
    assert message.detail == (
        "Reason: success signal did not arrive on time, grace time passed."
    )


def test_down_alert_for_a_failure_signal_says_so():
    flip = FlipFactory(reason=Reason.FAIL)
    message = build_message(NotificationFactory(flip=flip))
    assert message.reason == "received a failure signal"


def test_up_alert_tells_how_long_the_downtime_lasted():
    check = CheckFactory(name="backup")
    down_at = timezone.now() - timedelta(hours=2, minutes=5)
    FlipFactory(owner=check, created=down_at)
    up = FlipFactory(
        owner=check,
        created=down_at + timedelta(hours=2, minutes=5),
        old_status=Status.DOWN,
        new_status=Status.UP,
    )
    message = build_message(NotificationFactory(flip=up))
    assert message.title == "UP | backup"
    assert message.detail == "The downtime lasted 2 hours 5 minutes."


def test_link_points_at_the_dashboard_check_page(settings):
    settings.SITE_ROOT = "https://hc.example.org"
    message = build_message(NotificationFactory())
    assert message.url == (
        f"https://hc.example.org/checks/{message.check.code}/details/"
    )


def test_reminder_says_still_down_and_for_how_long():
    check = CheckFactory(name="backup", status=Status.DOWN)
    FlipFactory(owner=check, created=timezone.now() - timedelta(hours=3, seconds=5))
    notification = NotificationFactory(
        flip=None,
        owner=check,
        kind=NotificationKind.REMINDER,
        check_status=Status.DOWN,
        channel__project=check.project,
    )
    message = build_message(notification)
    assert message.title == "Reminder: DOWN | backup"
    assert message.headline == 'Reminder: the check "backup" is still DOWN.'
    assert "It has been down for 3 hours." in message.detail


def test_test_notification_talks_about_a_stand_in_check():
    channel = ChannelFactory()
    notification = NotificationFactory(
        flip=None, owner=None, channel=channel, kind=NotificationKind.TEST
    )
    message = build_message(notification)
    assert message.title == "Test: DOWN | TEST"
    assert message.headline.startswith("This is a test notification")


def test_body_excerpt_keeps_the_end_of_the_last_ping_body():
    flip = FlipFactory()
    PingFactory(owner=flip.owner, body=b"old")
    PingFactory(owner=flip.owner, body=b"start " + b"x" * 50 + b" error at end")
    message = build_message(NotificationFactory(flip=flip))
    assert message.body_excerpt(12) == "error at end"


def test_body_excerpt_of_invalid_utf8_does_not_fail():
    flip = FlipFactory()
    PingFactory(owner=flip.owner, body=b"Hello \xe9 World")
    message = build_message(NotificationFactory(flip=flip))
    assert message.body_excerpt() == "Hello \ufffd World"


def test_times_are_shown_in_the_project_owners_time_zone():
    check = CheckFactory()
    ProfileFactory(user=check.project.owner, tz="Europe/Riga")
    message = build_message(NotificationFactory(flip__owner=check))
    assert message.changed_at_text.endswith(("EET", "EEST"))


def test_fields_list_project_tags_and_period():
    check = CheckFactory(tags="db nightly", timeout=timedelta(days=1))
    message = build_message(NotificationFactory(flip__owner=check))
    fields = dict(message.fields())
    assert fields["Project"] == check.project.name
    assert fields["Tags"] == "db, nightly"
    assert fields["Period"] == "1 day (grace 1 hour)"
