"""Celery tasks: ids in, one service call, safe to run twice."""

from celery import shared_task

from checks import services


@shared_task(name="checks.prune_pings", acks_late=True, ignore_result=True)
def prune_pings(check_id: int) -> None:
    """Delete pings beyond a check's log limit."""
    services.prune_pings(check_id=check_id)
