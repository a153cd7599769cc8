"""`manage.py serve`: the embedded default, web server on one port.

Without REDIS_URL the alert loop (checks.alerts.run_loop: beat's schedule, the same
Celery tasks called in-process) runs in background threads of this process. With
REDIS_URL set, run `celery -A hcserver worker` and `celery -A hcserver beat` instead.
"""

import threading
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from checks import alerts


class Command(BaseCommand):
    help = "Serve the dashboard, API and ping URLs (embedded mode: no Redis needed)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument(
            "--no-alerts",
            action="store_true",
            help="do not run the in-process alert loop",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.REDIS_URL and not options["no_alerts"]:
            start_alert_thread()
            self.stdout.write("Alerts: checked in-process every few seconds.")
        elif settings.REDIS_URL:
            self.stdout.write(
                "Alerts: REDIS_URL is set, run `celery -A hcserver worker` and "
                "`celery -A hcserver beat`."
            )
        address = f"{options['host']}:{options['port']}"
        call_command("runserver", address, use_reloader=False)


def start_alert_thread() -> threading.Thread:
    """Run the alert loop beside the web server; it dies with the process."""
    thread = threading.Thread(
        target=alerts.run_loop,
        kwargs={"stop": threading.Event()},
        name="alerts",
        daemon=True,
    )
    thread.start()
    return thread
