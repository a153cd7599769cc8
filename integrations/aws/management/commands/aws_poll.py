"""`manage.py aws_poll [--once]`: long-poll the integrations' SQS queues."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from integrations.aws import poller


class Command(BaseCommand):
    help = "Receive EC2/Auto Scaling events from SQS and apply them to checks."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--once", action="store_true", help="drain the queues once and exit"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        while True:
            # --once: short waits, stop when every queue answered empty.
            wait = 1 if options["once"] else 20
            results = poller.poll_all(wait=wait, budget=60)
            for code, r in results.items():
                if r.received or options["once"]:
                    self.stdout.write(
                        f"{code}: received {r.received}, applied {r.applied}, "
                        f"skipped {r.skipped}, failed {r.failed}"
                    )
            if options["once"]:
                return
            if not results:
                time.sleep(20)
