"""Housekeeping: old pings, flips and notifications are pruned on a schedule."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

from checks import services, tasks
from checks.models import DeliveryState, Flip, Notification, Ping
from tests.factories import (
    CheckFactory,
    FlipFactory,
    NotificationFactory,
    PingFactory,
    ProfileFactory,
)
from tests.locks import Held

pytestmark = pytest.mark.django_db

NOW = timezone.now()


def _pings(check, count):
    for n in range(1, count + 1):
        PingFactory(owner=check, n=n)
    check.n_pings = count
    check.save()


def _aged(notification, days):
    Notification.objects.filter(pk=notification.pk).update(
        created=NOW - timedelta(days=days)
    )
    return notification


def test_prune_keeps_the_newest_pings_up_to_the_log_limit(settings):
    settings.PING_LOG_LIMIT = 3
    check = CheckFactory()
    _pings(check, 5)
    assert services.prune_old_pings() == 2
    assert sorted(Ping.objects.values_list("n", flat=True)) == [3, 4, 5]


def test_prune_uses_the_owners_profile_log_limit(settings):
    settings.PING_LOG_LIMIT = 1
    check = CheckFactory()
    ProfileFactory(user=check.project.owner, ping_log_limit=4)
    _pings(check, 5)
    services.prune_old_pings()
    assert Ping.objects.count() == 4


def test_prune_leaves_checks_under_their_limit_alone(settings):
    settings.PING_LOG_LIMIT = 10
    _pings(CheckFactory(), 5)
    assert services.prune_old_pings() == 0


def test_prune_deletes_in_batches_beyond_one_batch(settings, monkeypatch):
    monkeypatch.setattr(services, "PRUNE_BATCH", 2)
    settings.PING_LOG_LIMIT = 1
    _pings(CheckFactory(), 6)
    assert services.prune_old_pings() == 5


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_prune_skips_pings_another_transaction_holds(settings):
    # A ping's transaction pruning the same check's log holds these rows; waiting
    # for them while holding other rows could deadlock, so the prune leaves them.
    settings.PING_LOG_LIMIT = 1
    check = CheckFactory()
    _pings(check, 3)
    lock = Held(Ping.objects.get(owner=check, n=1), timeout=10)
    try:
        assert services.prune_old_pings() == 1
        assert sorted(Ping.objects.values_list("n", flat=True)) == [1, 3]
    finally:
        lock.release()


def test_prune_deletes_processed_flips_past_retention(settings):
    settings.FLIP_RETENTION_DAYS = 30
    old = FlipFactory(created=NOW - timedelta(days=31), processed=NOW)
    recent = FlipFactory(created=NOW - timedelta(days=29), processed=NOW)
    assert services.prune_old_flips(now=NOW) == 1
    assert list(Flip.objects.all()) == [recent]
    assert not Flip.objects.filter(pk=old.pk).exists()


def test_prune_keeps_old_flips_not_yet_fanned_out(settings):
    settings.FLIP_RETENTION_DAYS = 30
    FlipFactory(created=NOW - timedelta(days=31), processed=None)
    assert services.prune_old_flips(now=NOW) == 0


def test_prune_keeps_old_flips_with_notifications_still_pending(settings):
    settings.FLIP_RETENTION_DAYS = 30
    flip = FlipFactory(created=NOW - timedelta(days=31), processed=NOW)
    NotificationFactory(flip=flip, state=DeliveryState.PENDING)
    assert services.prune_old_flips(now=NOW) == 0


def test_prune_deletes_finished_notifications_past_retention(settings):
    settings.NOTIFICATION_RETENTION_DAYS = 30
    _aged(NotificationFactory(state=DeliveryState.SENT), 31)
    _aged(NotificationFactory(state=DeliveryState.FAILED), 31)
    kept = _aged(NotificationFactory(state=DeliveryState.SENT), 29)
    assert services.prune_old_notifications(now=NOW) == 2
    assert list(Notification.objects.all()) == [kept]


def test_prune_keeps_old_notifications_still_being_delivered(settings):
    settings.NOTIFICATION_RETENTION_DAYS = 30
    _aged(NotificationFactory(state=DeliveryState.SENDING), 31)
    assert services.prune_old_notifications(now=NOW) == 0


def test_prune_task_runs_every_prune(settings):
    settings.PING_LOG_LIMIT = 1
    _pings(CheckFactory(), 3)
    tasks.prune_history()
    assert Ping.objects.count() == 1


def test_prune_is_in_the_beat_schedule():
    entry = settings.CELERY_BEAT_SCHEDULE["prune"]
    assert entry["task"] == tasks.prune_history.name


def test_prune_command_prints_what_it_deleted(settings, capsys):
    settings.PING_LOG_LIMIT = 1
    _pings(CheckFactory(), 3)
    call_command("prune")
    assert "Deleted 2 pings, 0 flips, 0 notifications" in capsys.readouterr().out
