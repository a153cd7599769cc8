"""Building a notification for a channel kind test in one call."""

from datetime import UTC, datetime, timedelta

from checks.models import Notification, NotificationKind, Status
from integrations import registry
from tests.factories import (
    ChannelFactory,
    CheckFactory,
    FlipFactory,
    NotificationFactory,
)

FLIP_TIME = datetime(2026, 11, 27, 12, 30, 15, tzinfo=UTC)


def notification_for(
    kind: str,
    config: dict,
    *,
    status: str = Status.DOWN,
    notification_kind: str = NotificationKind.ALERT,
    **check_fields,
) -> Notification:
    """An alert (flip to `status`) of a check named "backup" to a `kind` channel."""
    check = CheckFactory(**({"name": "backup", "tags": "db nightly"} | check_fields))
    if status == Status.UP:
        FlipFactory(owner=check, created=FLIP_TIME - timedelta(hours=2, minutes=30))
    flip = FlipFactory(
        owner=check,
        created=FLIP_TIME,
        old_status=Status.DOWN if status == Status.UP else Status.UP,
        new_status=status,
    )
    channel = ChannelFactory(project=check.project, kind=kind, config=config)
    return NotificationFactory(flip=flip, channel=channel, kind=notification_kind)


def send(kind: str, config: dict, **kwargs) -> Notification:
    """Build a notification and deliver it through the registered kind."""
    notification = notification_for(kind, config, **kwargs)
    registry.get(kind).send(notification.channel, notification)
    return notification
