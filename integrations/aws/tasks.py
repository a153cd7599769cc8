"""Celery tasks: thin wrappers, safe to run twice (the handler is idempotent)."""

from celery import shared_task

from integrations.aws import poller, reconcile


@shared_task(name="aws.poll", acks_late=True, ignore_result=True)
def poll() -> None:
    """Drain every enabled integration's queue (time-boxed below the beat period)."""
    poller.poll_all(wait=5, budget=20)


@shared_task(name="aws.reconcile", acks_late=True, ignore_result=True)
def reconcile_all() -> None:
    """Repair missed events and delete paused checks past their retention."""
    reconcile.reconcile_all()
