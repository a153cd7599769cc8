"""Celery tasks: ids in, one service call, safe to run twice."""

from celery import shared_task
from django.utils import timezone

from checks import alerts, services


@shared_task(name="checks.prune_pings", acks_late=True, ignore_result=True)
def prune_pings(check_id: int) -> None:
    """Delete pings beyond a check's log limit."""
    services.prune_pings(check_id=check_id)


@shared_task(name="checks.scan", acks_late=True, ignore_result=True)
def scan() -> None:
    """Move due checks to down and fan new flips out to notifications."""
    alerts.tick()


@shared_task(name="checks.deliver_notifications", acks_late=True, ignore_result=True)
def deliver_notifications(notification_ids: list[int]) -> None:
    """Send a chunk of one channel's notifications; outcomes are recorded in the DB."""
    alerts.deliver_all(notification_ids)


@shared_task(name="checks.deliver_notification", acks_late=True, ignore_result=True)
def deliver_notification(notification_id: int) -> None:
    """Send one notification (messages queued before chunks existed)."""
    alerts.deliver(notification_id)


@shared_task(name="checks.requeue_notifications", acks_late=True, ignore_result=True)
def requeue_notifications() -> None:
    """Queue again notifications whose message was lost or whose worker died."""
    alerts.requeue()


@shared_task(name="checks.send_reminders", acks_late=True, ignore_result=True)
def send_reminders() -> None:
    """Repeat alerts for checks that stay down."""
    alerts.send_reminders()


@shared_task(name="checks.send_reports", acks_late=True, ignore_result=True)
def send_reports() -> None:
    """Email the daily/weekly/monthly status reports that are due."""
    alerts.send_reports()


@shared_task(name="checks.prune_history", acks_late=True, ignore_result=True)
def prune_history() -> None:
    """Delete old pings, flips and notifications (hourly housekeeping)."""
    services.prune_history(now=timezone.now())
