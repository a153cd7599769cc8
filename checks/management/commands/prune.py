"""`manage.py prune`: delete old pings, flips, notifications and idle buckets now."""

from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone

from checks import services


class Command(BaseCommand):
    help = (
        "Delete pings beyond each check's log limit, and flips and finished "
        "notifications older than FLIP_RETENTION_DAYS / NOTIFICATION_RETENTION_DAYS, "
        "and rate-limit buckets idle for a day. "
        "Beat runs this hourly; run it from cron where there is no beat."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        deleted = services.prune_history(now=timezone.now())
        self.stdout.write(
            f"Deleted {deleted['pings']} pings, {deleted['flips']} flips, "
            f"{deleted['notifications']} notifications, "
            f"{deleted['token_buckets']} idle rate-limit buckets"
        )
