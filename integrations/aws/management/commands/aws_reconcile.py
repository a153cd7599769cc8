"""`manage.py aws_reconcile [--once]`: repair drift between AWS and the checks."""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from integrations.aws import reconcile


class Command(BaseCommand):
    help = "List live instances, create missing checks, apply scale-in to gone ones."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="one pass, then exit")

    def handle(self, *args: Any, **options: Any) -> None:
        while True:
            for code, r in reconcile.reconcile_all().items():
                self.stdout.write(
                    f"{code}: launched {len(r.launched)}, retired {len(r.retired)}, "
                    f"purged {r.purged}"
                )
            if options["once"]:
                return
            time.sleep(settings.AWS_RECONCILE_INTERVAL)
