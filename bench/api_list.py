"""Time `GET /api/v3/checks/` for a project of 10,000 checks (printed, not asserted).

Runs against a throwaway test database: SQLite by default, or PostgreSQL when
DATABASE_URL is set (pytest-style `test_` database, dropped afterwards).

    SECRET_KEY=x .venv/bin/python bench/api_list.py [--checks 10000] [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hcserver.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-secret-key")

import django

django.setup()

from django.contrib.auth.models import User  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import (  # noqa: E402
    CaptureQueriesContext,
    setup_databases,
    setup_test_environment,
    teardown_databases,
    teardown_test_environment,
)

from checks import services  # noqa: E402
from checks.models import Channel, Check  # noqa: E402


def populate(count: int) -> str:
    owner = User.objects.create(username="bench@example.org")
    project = services.create_project(owner=owner, name="bench")
    channels = [
        Channel.objects.create(project=project, kind="webhook", name=f"ch{i}")
        for i in range(3)
    ]
    Check.objects.bulk_create(
        (
            Check(project=project, name=f"job {i}", tags="prod batch")
            for i in range(count)
        ),
        batch_size=1000,
    )
    through = Channel.checks.through
    ids = list(Check.objects.filter(project=project).values_list("id", flat=True))
    through.objects.bulk_create(
        (through(check_id=i, channel_id=c.pk) for i in ids for c in channels),
        batch_size=2000,
    )
    _, key = services.create_api_key(project=project, name="bench", read_only=False)
    return key


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--checks", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    setup_test_environment()
    old = setup_databases(verbosity=0, interactive=False)
    try:
        key = populate(args.checks)
        client = Client(headers={"X-Api-Key": key})
        client.get("/api/v3/checks/")  # warm-up
        times = []
        for _ in range(args.runs):
            with CaptureQueriesContext(connection) as queries:
                start = time.perf_counter()
                response = client.get("/api/v3/checks/")
                times.append(time.perf_counter() - start)
            assert response.status_code == 200
        size = len(response.content)
        engine = connection.vendor
        print(
            f"list {args.checks} checks ({engine}): {len(queries)} queries, "
            f"{size / 1e6:.1f} MB of JSON"
        )
        print(
            f"  min {min(times) * 1000:.0f} ms, median "
            f"{statistics.median(times) * 1000:.0f} ms over {args.runs} runs"
        )
    finally:
        teardown_databases(old, verbosity=0)
        teardown_test_environment()


if __name__ == "__main__":
    main()
