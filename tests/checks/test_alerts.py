"""The alert engine (checks/alerts.py): scan, fan-out, delivery, requeue, outages."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from checks import alerts
from checks.models import (
    AlertHeartbeat,
    Channel,
    Check,
    DeliveryAttempt,
    DeliveryState,
    Flip,
    Kind,
    Notification,
    NotificationKind,
    Reason,
    Reports,
    Status,
)
from integrations.message import pending_for_delivery
from tests.factories import (
    ChannelFactory,
    CheckFactory,
    FlipFactory,
    NotificationFactory,
    ProfileFactory,
)

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def up_check(last_ping: datetime, **fields) -> Check:
    """An up check pinged at `last_ping`, with its cached deadline."""
    fields = {
        "timeout": timedelta(hours=1),
        "grace": timedelta(minutes=10),
        **fields,
    }
    check = CheckFactory(status=Status.UP, last_ping=last_ping, **fields)
    check.alert_after = last_ping + check.timeout + check.grace
    Check.objects.filter(pk=check.pk).update(alert_after=check.alert_after)
    return check


def channel_for(check: Check, **fields) -> object:
    channel = ChannelFactory(project=check.project, kind="record", **fields)
    channel.checks.add(check)
    return channel


def down_flip(check: Check, created: datetime = NOW, old: str = Status.UP) -> Flip:
    return Flip.objects.create(
        owner=check, created=created, old_status=old, new_status=Status.DOWN
    )


def pending(channel, check=None, kind=NotificationKind.ALERT, **fields):
    now = timezone.now()
    return Notification.objects.create(
        kind=kind,
        owner=check,
        channel=channel,
        check_status=Status.DOWN,
        next_attempt=now,
        claimed_at=now,
        **fields,
    )


# --- scan ------------------------------------------------------------------------


def test_scan_marks_overdue_check_down():
    check = up_check(NOW - timedelta(hours=2))
    alerts.scan_due(now=NOW)
    check.refresh_from_db()
    assert (check.status, check.alert_after) == (Status.DOWN, None)


def test_scan_flip_is_a_timeout_dated_at_the_deadline():
    check = up_check(NOW - timedelta(hours=2))
    alerts.scan_due(now=NOW)
    flip = Flip.objects.get(owner=check)
    assert (flip.old_status, flip.new_status, flip.reason) == (
        Status.UP,
        Status.DOWN,
        Reason.TIMEOUT,
    )
    assert flip.created == NOW - timedelta(minutes=50)


def test_scan_leaves_check_in_grace_up():
    check = up_check(NOW - timedelta(minutes=65))
    alerts.scan_due(now=NOW)
    check.refresh_from_db()
    assert check.status == Status.UP
    assert not Flip.objects.exists()


def test_scan_moves_stale_deadline_of_check_pinged_since():
    check = up_check(NOW - timedelta(hours=2))
    # A ping whose deadline update was lost: the scan must not trust alert_after.
    Check.objects.filter(pk=check.pk).update(last_ping=NOW - timedelta(minutes=5))
    alerts.scan_due(now=NOW)
    check.refresh_from_db()
    assert check.status == Status.UP
    assert check.alert_after == NOW + timedelta(minutes=65)


def test_scan_twice_makes_one_flip():
    check = up_check(NOW - timedelta(hours=2))
    alerts.scan_due(now=NOW)
    alerts.scan_due(now=NOW + timedelta(seconds=2))
    assert Flip.objects.filter(owner=check).count() == 1


def test_scan_marks_new_check_down_after_boot_deadline():
    check = CheckFactory(new_deadline=NOW - timedelta(seconds=1))
    Check.objects.filter(pk=check.pk).update(alert_after=check.new_deadline)
    alerts.scan_due(now=NOW)
    flip = Flip.objects.get(owner=check)
    assert (flip.old_status, flip.created) == (Status.NEW, check.new_deadline)


def test_scan_closes_run_that_outlived_its_grace():
    started = NOW - timedelta(minutes=11)
    check = CheckFactory(
        status=Status.PAUSED, last_start=started, grace=timedelta(minutes=10)
    )
    Check.objects.filter(pk=check.pk).update(alert_after=started + check.grace)
    alerts.scan_due(now=NOW)
    check.refresh_from_db()
    assert (check.status, check.last_start) == (Status.DOWN, None)
    assert Flip.objects.get(owner=check).old_status == Status.PAUSED


def test_scan_leaves_running_check_within_grace_alone():
    check = up_check(NOW - timedelta(minutes=30), grace=timedelta(minutes=10))
    Check.objects.filter(pk=check.pk).update(
        last_start=NOW - timedelta(minutes=5), alert_after=NOW - timedelta(seconds=1)
    )
    alerts.scan_due(now=NOW)
    check.refresh_from_db()
    assert check.status == Status.UP
    assert check.alert_after == NOW + timedelta(minutes=5)


def test_scan_marks_cron_check_down_after_missed_run():
    check = CheckFactory(
        kind=Kind.CRON,
        schedule="0 * * * *",
        grace=timedelta(minutes=5),
        status=Status.UP,
        last_ping=NOW - timedelta(minutes=70),
    )
    Check.objects.filter(pk=check.pk).update(alert_after=NOW - timedelta(minutes=55))
    alerts.scan_due(now=NOW)
    flip = Flip.objects.get(owner=check)
    assert flip.created == datetime(2026, 3, 2, 11, 5, tzinfo=UTC)


def test_scan_leaves_cron_check_whose_run_is_not_due():
    check = CheckFactory(
        kind=Kind.CRON,
        schedule="0 * * * *",
        grace=timedelta(minutes=5),
        status=Status.UP,
        last_ping=NOW - timedelta(minutes=1),
    )
    Check.objects.filter(pk=check.pk).update(alert_after=NOW - timedelta(minutes=1))
    alerts.scan_due(now=NOW)
    check.refresh_from_db()
    assert check.status == Status.UP
    assert check.alert_after == datetime(2026, 3, 2, 12, 5, tzinfo=UTC)


# --- fan-out ---------------------------------------------------------------------


def test_fan_out_makes_one_notification_per_attached_channel(test_kinds):
    check = CheckFactory(status=Status.DOWN)
    first, second = channel_for(check), channel_for(check)
    ChannelFactory(project=check.project, kind="record")  # not attached
    down_flip(check)
    alerts.fan_out(now=NOW)
    notified = Notification.objects.filter(owner=check)
    assert {n.channel_id for n in notified} == {first.pk, second.pk}


def test_fan_out_marks_flip_processed(test_kinds):
    check = CheckFactory(status=Status.DOWN)
    channel_for(check)
    flip = down_flip(check)
    alerts.fan_out(now=NOW)
    flip.refresh_from_db()
    assert flip.processed == NOW


def test_fan_out_skips_disabled_channel(test_kinds):
    check = CheckFactory(status=Status.DOWN)
    channel_for(check, disabled=True)
    down_flip(check)
    alerts.fan_out(now=NOW)
    assert not Notification.objects.exists()


def test_fan_out_skips_channel_that_ignores_the_status(test_kinds):
    check = CheckFactory(status=Status.DOWN)
    channel_for(check, config={"ignore": ["down"]})
    down_flip(check)
    alerts.fan_out(now=NOW)
    assert not Notification.objects.exists()


@pytest.mark.parametrize("old", [Status.NEW, Status.PAUSED])
def test_fan_out_of_flip_to_up_from_new_or_paused_notifies_nobody(test_kinds, old):
    check = CheckFactory(status=Status.UP)
    channel_for(check)
    flip = Flip.objects.create(
        owner=check, created=NOW, old_status=old, new_status=Status.UP
    )
    alerts.fan_out(now=NOW)
    flip.refresh_from_db()
    assert flip.processed == NOW
    assert not Notification.objects.exists()


def test_fan_out_of_down_to_up_flip_notifies(test_kinds):
    check = CheckFactory(status=Status.UP)
    channel_for(check)
    Flip.objects.create(
        owner=check, created=NOW, old_status=Status.DOWN, new_status=Status.UP
    )
    alerts.fan_out(now=NOW)
    assert Notification.objects.get().check_status == Status.UP


def test_fan_out_repeated_for_one_flip_makes_no_duplicate(test_kinds):
    check = CheckFactory(status=Status.DOWN)
    channel_for(check)
    flip = down_flip(check)
    alerts.fan_out(now=NOW)
    Flip.objects.filter(pk=flip.pk).update(processed=None)  # as if the mark was lost
    alerts.fan_out(now=NOW)
    assert Notification.objects.count() == 1


# --- delivery --------------------------------------------------------------------


def test_deliver_sends_and_marks_sent(test_kinds):
    check = CheckFactory(status=Status.DOWN)
    notification = pending(channel_for(check), check)
    assert alerts.deliver(notification.pk) == DeliveryState.SENT
    notification.refresh_from_db()
    assert (notification.state, notification.attempts) == (DeliveryState.SENT, 1)
    assert test_kinds == [(notification.channel_id, "alert", "down")]


def test_deliver_records_the_attempt(test_kinds):
    notification = pending(channel_for(CheckFactory()))
    alerts.deliver(notification.pk)
    attempt = DeliveryAttempt.objects.get(notification=notification)
    assert attempt.ok
    assert attempt.duration is not None


def test_deliver_twice_sends_once(test_kinds):
    notification = pending(channel_for(CheckFactory()))
    alerts.deliver(notification.pk)
    assert alerts.deliver(notification.pk) is None
    assert len(test_kinds) == 1


def test_temporary_failure_is_retried_after_a_minute(test_kinds):
    channel = channel_for(CheckFactory(), config={"fail": "temporary"})
    notification = pending(channel)
    now = timezone.now()
    assert alerts.deliver(notification.pk, now=now) == DeliveryState.PENDING
    notification.refresh_from_db()
    assert notification.error == "temporary failure"
    assert now + timedelta(minutes=1) <= notification.next_attempt
    assert notification.next_attempt < now + timedelta(minutes=1, seconds=5)


def test_retry_is_not_claimed_before_it_is_due(test_kinds):
    channel = channel_for(CheckFactory(), config={"fail": "temporary"})
    notification = pending(channel)
    alerts.deliver(notification.pk)
    assert alerts.deliver(notification.pk) is None


def test_retry_after_backoff_succeeds(test_kinds):
    channel = channel_for(CheckFactory(), config={"fail": "temporary"})
    notification = pending(channel)
    alerts.deliver(notification.pk)
    channel.config = {}
    channel.save()
    later = timezone.now() + timedelta(minutes=2)
    assert alerts.deliver(notification.pk, now=later) == DeliveryState.SENT


@pytest.mark.parametrize(
    ("attempts", "minutes"), [(1, 1), (2, 2), (3, 4), (6, 32), (7, 60), (30, 60)]
)
def test_backoff_doubles_up_to_an_hour(attempts, minutes):
    assert alerts.backoff(attempts) == timedelta(minutes=minutes)


def test_permanent_failure_stops_at_once(test_kinds):
    channel = channel_for(CheckFactory(), config={"fail": "permanent"})
    notification = pending(channel)
    assert alerts.deliver(notification.pk) == DeliveryState.FAILED
    channel.refresh_from_db()
    assert channel.last_error == "permanent failure"


def test_temporary_failure_past_the_horizon_gives_up(test_kinds, settings):
    settings.ALERT_RETRY_HORIZON = 30
    channel = channel_for(CheckFactory(), config={"fail": "temporary"})
    notification = pending(channel)
    assert alerts.deliver(notification.pk) == DeliveryState.FAILED
    channel.refresh_from_db()
    assert channel.last_error == "temporary failure"


def test_temporary_failure_within_horizon_leaves_channel_without_problem(test_kinds):
    channel = channel_for(CheckFactory(), config={"fail": "temporary"})
    alerts.deliver(pending(channel).pk)
    channel.refresh_from_db()
    assert channel.last_error == ""


def test_success_clears_the_channel_problem(test_kinds):
    channel = channel_for(CheckFactory(), last_error="old trouble")
    alerts.deliver(pending(channel).pk)
    channel.refresh_from_db()
    assert channel.last_error == ""
    assert channel.last_notify is not None


def test_retries_until_the_horizon_then_fails_and_shows_the_channel_problem(
    test_kinds, settings
):
    # Waits of 1, 2, 4 min; the 4th failure would wait 8 min more: past 10 min.
    settings.ALERT_RETRY_HORIZON = 600
    channel = channel_for(CheckFactory(), config={"fail": "temporary"})
    notification = pending(channel)
    start = notification.next_attempt
    states = [
        alerts.deliver(notification.pk, now=start + timedelta(seconds=s))
        for s in (0, 90, 240, 540)
    ]
    assert states == [DeliveryState.PENDING] * 3 + [DeliveryState.FAILED]
    channel.refresh_from_db()
    assert channel.last_error == "temporary failure"


def test_delivery_in_a_burst_does_not_rewrite_a_fresh_channel_row(test_kinds):
    channel = channel_for(CheckFactory())
    fresh = timezone.now()
    Channel.objects.filter(pk=channel.pk).update(last_notify=fresh)
    alerts.deliver(pending(channel).pk, now=fresh + timedelta(seconds=1))
    channel.refresh_from_db()
    assert channel.last_notify == fresh


def test_delivery_refreshes_a_stale_channel_last_notify(test_kinds):
    channel = channel_for(CheckFactory())
    notification = pending(channel)
    now = timezone.now()
    Channel.objects.filter(pk=channel.pk).update(last_notify=now - timedelta(hours=1))
    alerts.deliver(notification.pk, now=now)
    channel.refresh_from_db()
    assert channel.last_notify == now


def test_permanent_failure_on_a_fresh_channel_still_shows_the_problem(test_kinds):
    channel = channel_for(CheckFactory(), config={"fail": "permanent"})
    notification = pending(channel)
    now = timezone.now()
    Channel.objects.filter(pk=channel.pk).update(last_notify=now)
    alerts.deliver(notification.pk, now=now)
    channel.refresh_from_db()
    assert channel.last_error == "permanent failure"


def webhook_notifications(receiver, count: int) -> list[Notification]:
    """`count` pending down alerts to one webhook channel posting to `receiver`."""
    check = CheckFactory()
    channel = ChannelFactory(
        project=check.project,
        kind="webhook",
        config={"url_down": f"{receiver.url}/$CODE", "body_down": "$NAME"},
        last_notify=timezone.now(),
    )
    return [
        NotificationFactory(
            flip=FlipFactory(owner=check), channel=channel, next_attempt=timezone.now()
        )
        for _ in range(count)
    ]


def test_webhook_delivery_stays_in_query_budget(
    http_receiver, settings, django_assert_num_queries
):
    # Claim, load (notification, channel, flip, check, project, owner's time
    # zone), then a savepoint around the attempt row and the new state (in a
    # test's transaction; BEGIN/COMMIT in a worker). The channel row is fresh.
    settings.ALLOW_PRIVATE_TARGETS = True
    [notification] = webhook_notifications(http_receiver, 1)
    with django_assert_num_queries(6):
        assert alerts.deliver(notification.pk) == DeliveryState.SENT


def test_chunk_of_webhook_deliveries_stays_in_query_budget(
    http_receiver, settings, django_assert_num_queries
):
    # One load for the chunk, then per delivery: claim, savepoint, attempt row,
    # new state, release.
    settings.ALLOW_PRIVATE_TARGETS = True
    notifications = webhook_notifications(http_receiver, 3)
    with django_assert_num_queries(1 + 3 * 5):
        alerts.deliver_all([n.pk for n in notifications])
    assert len(http_receiver.requests) == 3


def test_deliver_all_skips_what_is_no_longer_pending(test_kinds):
    channel = channel_for(CheckFactory())
    first, second = pending(channel), pending(channel)
    alerts.deliver(first.pk)
    alerts.deliver_all([first.pk, second.pk])
    assert len(test_kinds) == 2
    second.refresh_from_db()
    assert second.state == DeliveryState.SENT


def test_deliver_reads_again_a_notification_attempted_since_it_was_loaded(
    test_kinds,
):
    channel = channel_for(CheckFactory())
    notification = pending(channel)
    [loaded] = pending_for_delivery([notification.pk]).values()
    Notification.objects.filter(pk=notification.pk).update(attempts=1)
    assert alerts.deliver(notification.pk, loaded=loaded) == DeliveryState.SENT
    notification.refresh_from_db()
    assert notification.attempts == 2


def test_chunks_hold_one_channel_each_and_at_most_the_batch(settings):
    settings.ALERT_DELIVERY_BATCH = 3
    rows = [(pk, 7) for pk in range(1, 31)] + [(100, 8)]
    chunks = alerts.delivery_chunks(rows)
    assert [len(c) for c in chunks] == [3] * 10 + [1]
    assert chunks[-1] == [100]


def test_small_burst_to_one_channel_is_spread_over_tasks(settings):
    settings.ALERT_DELIVERY_BATCH = 50
    chunks = alerts.delivery_chunks((pk, 7) for pk in range(16))
    assert len(chunks) == alerts.SPREAD


def test_chunks_of_two_channels_take_turns(settings):
    settings.ALERT_DELIVERY_BATCH = 2
    rows = [(pk, 7 + pk % 2) for pk in range(1, 33)]  # 16 to each: 8 chunks of 2
    channels = [dict(rows)[chunk[0]] for chunk in alerts.delivery_chunks(rows)]
    assert channels == [8, 7] * 8


def test_crashing_kind_is_retried_without_storing_its_message(test_kinds):
    channel = channel_for(CheckFactory(), config={"fail": "crash"})
    notification = pending(channel)
    assert alerts.deliver(notification.pk) == DeliveryState.PENDING
    notification.refresh_from_db()
    assert notification.error == "Unexpected error (RuntimeError)"


def test_unknown_kind_fails_permanently(test_kinds):
    channel = ChannelFactory(kind="carrier-pigeon")
    notification = pending(channel)
    assert alerts.deliver(notification.pk) == DeliveryState.FAILED
    notification.refresh_from_db()
    assert notification.error == "Unknown channel kind 'carrier-pigeon'"


def test_channel_disabled_after_fan_out_is_not_sent(test_kinds):
    channel = channel_for(CheckFactory(), disabled=True)
    assert alerts.deliver(pending(channel).pk) == DeliveryState.FAILED
    assert test_kinds == []


# --- requeue ---------------------------------------------------------------------


def test_requeue_takes_back_notification_stuck_sending(test_kinds, settings):
    settings.ALERT_SENDING_TIMEOUT = 60
    notification = pending(channel_for(CheckFactory()))
    stuck_since = timezone.now() - timedelta(minutes=2)
    Notification.objects.filter(pk=notification.pk).update(
        state=DeliveryState.SENDING, claimed_at=stuck_since
    )
    alerts.requeue()
    notification.refresh_from_db()
    assert notification.state == DeliveryState.PENDING


def test_requeue_leaves_recent_sending_alone(test_kinds, settings):
    settings.ALERT_SENDING_TIMEOUT = 60
    notification = pending(channel_for(CheckFactory()))
    Notification.objects.filter(pk=notification.pk).update(state=DeliveryState.SENDING)
    alerts.requeue()
    notification.refresh_from_db()
    assert notification.state == DeliveryState.SENDING


def test_requeue_delivers_notification_whose_message_was_lost(
    test_kinds, settings, django_capture_on_commit_callbacks
):
    settings.ALERT_REQUEUE_AFTER = 60
    notification = pending(channel_for(CheckFactory()))
    Notification.objects.filter(pk=notification.pk).update(
        claimed_at=timezone.now() - timedelta(minutes=2)
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert alerts.requeue() == 1
    notification.refresh_from_db()
    assert notification.state == DeliveryState.SENT


def test_requeue_leaves_recently_queued_notification_alone(test_kinds):
    pending(channel_for(CheckFactory()))
    assert alerts.requeue() == 0


def test_requeue_queues_retry_once_due(test_kinds):
    notification = pending(channel_for(CheckFactory()), attempts=1)
    Notification.objects.filter(pk=notification.pk).update(claimed_at=None)
    assert alerts.requeue() == 1


def test_requeue_logs_the_lost_attempt_as_interrupted(test_kinds, settings):
    settings.ALERT_SENDING_TIMEOUT = 60
    notification = pending(channel_for(CheckFactory()))
    claimed = timezone.now() - timedelta(minutes=2)
    Notification.objects.filter(pk=notification.pk).update(
        state=DeliveryState.SENDING, claimed_at=claimed
    )
    alerts.requeue()
    attempt = DeliveryAttempt.objects.get()
    assert (attempt.started, attempt.ok, attempt.duration) == (claimed, False, None)
    assert attempt.error.startswith("Interrupted")


def test_slow_send_finishing_after_requeue_is_not_sent_again(test_kinds, settings):
    settings.ALERT_SENDING_TIMEOUT = 0
    notification = pending(channel_for(CheckFactory()))
    RecordKind = __import__("tests.alerting.kinds", fromlist=["RecordKind"]).RecordKind
    original = RecordKind.send

    def slow_send(self, channel, n):
        alerts.requeue(now=timezone.now() + timedelta(seconds=1))  # times us out
        original(self, channel, n)

    RecordKind.send = slow_send
    try:
        alerts.deliver(notification.pk)
    finally:
        RecordKind.send = original
    assert alerts.deliver(notification.pk) is None
    notification.refresh_from_db()
    assert notification.state == DeliveryState.SENT


# --- outages ---------------------------------------------------------------------


def test_first_scan_records_the_heartbeat():
    alerts.guard_outage(now=NOW)
    assert AlertHeartbeat.objects.get().last_scan == NOW


def test_first_scan_ever_pushes_deadlines_already_passed(settings):
    # No scan on record: a database outage may have come before the first scan
    # (the outage_guard drill, when beat starts late), so the whole past is a gap.
    settings.ALERT_OUTAGE_GRACE = 300
    check = up_check(NOW - timedelta(hours=3))
    alerts.guard_outage(now=NOW)
    check.refresh_from_db()
    assert check.alert_after == NOW + timedelta(minutes=5)


def test_first_scan_ever_keeps_deadlines_still_ahead():
    check = up_check(NOW - timedelta(minutes=3))  # deadline NOW + 67 min
    alerts.guard_outage(now=NOW)
    check.refresh_from_db()
    assert check.alert_after == NOW + timedelta(minutes=67)


def test_gap_without_pings_pushes_deadlines_that_fell_inside_it(settings):
    settings.ALERT_OUTAGE_GRACE = 300
    alerts.guard_outage(now=NOW - timedelta(minutes=30))
    check = up_check(NOW - timedelta(hours=1, minutes=20))  # deadline NOW - 10 min
    alerts.guard_outage(now=NOW)
    check.refresh_from_db()
    assert check.alert_after == NOW + timedelta(minutes=5)


def test_gap_pushes_deadlines_even_when_pings_got_through_on_recovery(settings):
    # Once the database is back, clients' retries are recorded before the next
    # scan: pings inside the gap do not show that there was no outage.
    settings.ALERT_OUTAGE_GRACE = 300
    alerts.guard_outage(now=NOW - timedelta(minutes=30))
    check = up_check(NOW - timedelta(hours=1, minutes=20))
    up_check(NOW - timedelta(seconds=10))
    alerts.guard_outage(now=NOW)
    check.refresh_from_db()
    assert check.alert_after == NOW + timedelta(minutes=5)


def test_check_pinged_during_the_gap_keeps_its_own_deadline():
    alerts.guard_outage(now=NOW - timedelta(minutes=30))
    check = up_check(NOW - timedelta(minutes=3))  # deadline NOW + 67 min
    alerts.guard_outage(now=NOW)
    check.refresh_from_db()
    assert check.alert_after == NOW + timedelta(minutes=67)


def test_short_gap_pushes_nothing():
    alerts.guard_outage(now=NOW - timedelta(seconds=20))
    check = up_check(NOW - timedelta(hours=1, minutes=10, seconds=10))
    alerts.guard_outage(now=NOW)
    check.refresh_from_db()
    assert check.alert_after == NOW - timedelta(seconds=10)


def test_deadline_before_the_gap_is_not_pushed():
    alerts.guard_outage(now=NOW - timedelta(minutes=30))
    check = up_check(NOW - timedelta(hours=2))  # deadline NOW - 50 min
    alerts.guard_outage(now=NOW)
    check.refresh_from_db()
    assert check.alert_after == NOW - timedelta(minutes=50)


def test_check_pushed_by_an_outage_goes_down_after_the_grace(settings):
    settings.ALERT_OUTAGE_GRACE = 300
    alerts.guard_outage(now=NOW - timedelta(minutes=30))
    check = up_check(NOW - timedelta(hours=1, minutes=20))
    alerts.tick(now=NOW)
    assert not Flip.objects.exists()
    alerts.tick(now=NOW + timedelta(minutes=4))  # scans resumed: short gaps only
    alerts.tick(now=NOW + timedelta(minutes=5))
    # The flip still tells when the check really went down.
    assert Flip.objects.get(owner=check).created == NOW - timedelta(minutes=10)


# --- reminders -------------------------------------------------------------------


def test_down_flip_schedules_a_reminder(test_kinds):
    check = CheckFactory(status=Status.DOWN)
    check.project.reminder_interval = timedelta(hours=1)
    check.project.save()
    down_flip(check)
    alerts.fan_out(now=NOW)
    check.refresh_from_db()
    assert check.next_reminder == NOW + timedelta(hours=1)


def test_check_reminder_interval_overrides_the_project(test_kinds):
    check = CheckFactory(status=Status.DOWN, reminder_interval=timedelta(minutes=10))
    check.project.reminder_interval = timedelta(hours=1)
    check.project.save()
    down_flip(check)
    alerts.fan_out(now=NOW)
    check.refresh_from_db()
    assert check.next_reminder == NOW + timedelta(minutes=10)


def test_check_reminders_off_override_the_projects_interval(test_kinds):
    check = CheckFactory(status=Status.DOWN, reminder_interval=timedelta(0))
    check.project.reminder_interval = timedelta(hours=1)
    check.project.save()
    down_flip(check)
    alerts.fan_out(now=NOW)
    check.refresh_from_db()
    assert check.next_reminder is None


def test_reminder_already_due_is_not_sent_once_the_check_turns_them_off(test_kinds):
    check = CheckFactory(
        status=Status.DOWN, reminder_interval=timedelta(0), next_reminder=NOW
    )
    check.project.reminder_interval = timedelta(hours=1)
    check.project.save()
    ChannelFactory(project=check.project, kind="record").checks.add(check)
    assert alerts.send_reminders(now=NOW) == 0


def test_up_flip_cancels_the_reminder(test_kinds):
    check = CheckFactory(status=Status.UP, next_reminder=NOW)
    Flip.objects.create(
        owner=check, created=NOW, old_status=Status.DOWN, new_status=Status.UP
    )
    alerts.fan_out(now=NOW)
    check.refresh_from_db()
    assert check.next_reminder is None


def test_reminder_goes_to_every_channel_of_the_check(test_kinds):
    check = CheckFactory(
        status=Status.DOWN, reminder_interval=timedelta(hours=1), next_reminder=NOW
    )
    channel_for(check)
    channel_for(check)
    assert alerts.send_reminders(now=NOW) == 2
    kinds = set(Notification.objects.values_list("kind", "check_status"))
    assert kinds == {(NotificationKind.REMINDER, Status.DOWN)}


def test_reminder_schedules_the_next_one(test_kinds):
    check = CheckFactory(
        status=Status.DOWN, reminder_interval=timedelta(hours=1), next_reminder=NOW
    )
    alerts.send_reminders(now=NOW + timedelta(minutes=1))
    check.refresh_from_db()
    assert check.next_reminder == NOW + timedelta(hours=1)


def test_no_reminder_for_a_check_that_came_back_up(test_kinds):
    check = CheckFactory(
        status=Status.UP, reminder_interval=timedelta(hours=1), next_reminder=NOW
    )
    channel_for(check)
    assert alerts.send_reminders(now=NOW) == 0
    check.refresh_from_db()
    assert check.next_reminder is None


def test_reminder_not_due_yet_is_not_sent(test_kinds):
    check = CheckFactory(
        status=Status.DOWN,
        reminder_interval=timedelta(hours=1),
        next_reminder=NOW + timedelta(seconds=1),
    )
    channel_for(check)
    assert alerts.send_reminders(now=NOW) == 0


# --- reports ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("period", "expected"),
    [
        (Reports.DAILY, datetime(2026, 3, 3, 9, tzinfo=UTC)),
        (Reports.WEEKLY, datetime(2026, 3, 9, 9, tzinfo=UTC)),
        (Reports.MONTHLY, datetime(2026, 4, 1, 9, tzinfo=UTC)),
    ],
)
def test_next_report_date_is_nine_in_the_morning(period, expected):
    assert alerts.next_report_date(period, "UTC", NOW) == expected


def test_next_report_date_uses_the_users_time_zone():
    expected = datetime(2026, 3, 3, 8, tzinfo=UTC)  # 09:00 in Berlin (CET)
    assert alerts.next_report_date(Reports.DAILY, "Europe/Berlin", NOW) == expected


def test_first_report_is_only_scheduled(smtp_server):
    profile = ProfileFactory(reports=Reports.DAILY)
    CheckFactory(project__owner=profile.user)
    assert alerts.send_reports(now=NOW) == 0
    profile.refresh_from_db()
    assert profile.next_report_date == datetime(2026, 3, 3, 9, tzinfo=UTC)


def test_due_report_is_emailed_with_each_checks_status(smtp_server):
    profile = ProfileFactory(reports=Reports.WEEKLY, next_report_date=NOW)
    CheckFactory(project__owner=profile.user, name="nightly backup", status="down")
    assert alerts.send_reports(now=NOW) == 1
    (mail,) = smtp_server.wait_for(1)
    assert mail.rcpt_tos == [profile.user.email]
    assert "[DOWN] nightly backup" in mail.text()
    assert "nightly backup" in mail.html()


def test_report_email_offers_one_click_unsubscribe(smtp_server, settings):
    profile = ProfileFactory(reports=Reports.WEEKLY, next_report_date=NOW)
    CheckFactory(project__owner=profile.user)
    alerts.send_reports(now=NOW)
    (mail,) = smtp_server.wait_for(1)
    url = str(mail.message["List-Unsubscribe"]).strip().strip("<>")
    assert url.startswith(f"{settings.SITE_ROOT}/accounts/unsubscribe_reports/")
    assert mail.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert url in mail.text()


def test_report_is_not_sent_twice(smtp_server):
    profile = ProfileFactory(reports=Reports.DAILY, next_report_date=NOW)
    CheckFactory(project__owner=profile.user)
    alerts.send_reports(now=NOW)
    assert alerts.send_reports(now=NOW) == 0


def test_user_without_checks_gets_no_report(smtp_server):
    ProfileFactory(reports=Reports.DAILY, next_report_date=NOW)
    assert alerts.send_reports(now=NOW) == 0


# --- test notifications and the embedded loop ------------------------------------


def test_test_notification_is_delivered_at_once(test_kinds):
    channel = ChannelFactory(kind="record")
    notification = alerts.send_test_notification(channel=channel)
    assert notification.state == DeliveryState.SENT
    assert test_kinds == [(channel.pk, "test", "down")]


def test_test_notification_uses_up_for_channel_that_ignores_down(test_kinds):
    channel = ChannelFactory(kind="record", config={"ignore": ["down"]})
    assert alerts.send_test_notification(channel=channel).check_status == Status.UP


def test_failed_test_notification_is_not_retried(test_kinds):
    channel = ChannelFactory(kind="record", config={"fail": "temporary"})
    notification = alerts.send_test_notification(channel=channel)
    assert (notification.state, notification.error) == (
        DeliveryState.FAILED,
        "temporary failure",
    )


def test_queued_test_notification_is_delivered_after_commit(
    test_kinds, django_capture_on_commit_callbacks
):
    channel = ChannelFactory(kind="record")
    with django_capture_on_commit_callbacks(execute=True):
        notification = alerts.send_test_notification(channel=channel, queue=True)
    notification.refresh_from_db()
    assert notification.state == DeliveryState.SENT


def test_fail_ping_reaches_the_channel_in_one_tick(
    client, test_kinds, http_receiver, django_capture_on_commit_callbacks
):
    check = CheckFactory(status=Status.UP, last_ping=timezone.now())
    channel = ChannelFactory(
        project=check.project, kind="post", config={"url": http_receiver.url}
    )
    channel.checks.add(check)
    client.get(f"/ping/{check.code}/fail")
    with django_capture_on_commit_callbacks(execute=True):
        alerts.tick()
    (request,) = http_receiver.wait_for(1)
    assert request.json()["status"] == "down"
    assert request.json()["check"] == str(check.code)


def test_alerts_command_once_runs_one_pass(test_kinds, capsys):
    alerts.guard_outage(now=timezone.now() - timedelta(seconds=1))  # loop was running
    up_check(timezone.now() - timedelta(hours=2))
    call_command("alerts", "--once")
    assert "1 flips" in capsys.readouterr().out


def test_requeue_waits_while_delivery_messages_are_queued(test_kinds, monkeypatch):
    notification = pending(channel_for(CheckFactory()))
    Notification.objects.filter(pk=notification.pk).update(claimed_at=None)
    monkeypatch.setattr(alerts, "queued_deliveries", lambda: 5)
    assert alerts.requeue() == 0
