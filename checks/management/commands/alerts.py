"""`manage.py alerts`: the alert loop without Celery (embedded mode, or one host)."""

import signal
import threading
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from checks import alerts


class Command(BaseCommand):
    help = "Scan for due checks and deliver notifications in a loop (no Redis needed)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--interval", type=float, default=None)
        parser.add_argument("--once", action="store_true", help="one pass, then exit")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["once"]:
            flips, queued = alerts.tick()
            alerts.requeue()
            self.stdout.write(f"{flips} flips, {queued} notifications")
            return
        stop = threading.Event()

        def finish(signum: int, frame: object) -> None:
            self.stdout.write(f"{signal.strsignal(signum)}, finishing...")
            stop.set()

        signal.signal(signal.SIGTERM, finish)
        signal.signal(signal.SIGINT, finish)
        alerts.run_loop(stop=stop, interval=options["interval"])
        self.stdout.write("Done.")
