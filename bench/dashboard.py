"""Cost of the checks list, its status JSON and the Prometheus endpoint by check count.

    .venv/bin/python bench/dashboard.py [--checks 100 1000] [--repeat 10]

Builds a throwaway SQLite database in a temporary DATA_DIR (or uses DATABASE_URL),
creates a project with N checks (a third up, some late, some down, tags on all), and
prints the median time and the number of SQL queries of each page, rendered through
Django's test client (no network, no browser). Bounded by --repeat.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hcserver.settings")
os.environ.setdefault("SECRET_KEY", "bench-only")
os.environ.setdefault("DATA_DIR", tempfile.mkdtemp(prefix="hc-bench-"))

import django  # noqa: E402

django.setup()

from django.contrib.auth.models import User  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from checks import services  # noqa: E402
from checks.models import Check, Status  # noqa: E402


def populate(n: int) -> tuple[User, str, str]:
    user = User.objects.create_user(f"bench{n}@example.org", f"bench{n}@example.org")
    project = services.create_project(owner=user, name=f"bench {n}")
    _, key = services.create_api_key(project=project, name="ro", read_only=True)
    now = timezone.now()
    ages = [timedelta(minutes=5), timedelta(days=1, minutes=10), timedelta(days=3)]
    Check.objects.bulk_create(
        Check(
            project=project,
            name=f"job {i}",
            tags=f"team{i % 7} env{i % 3}",
            status=Status.UP if i % 4 else Status.NEW,
            last_ping=now - ages[i % 3] if i % 4 else None,
        )
        for i in range(n)
    )
    return user, str(project.code), key


def measure(client: Client, url: str, repeat: int) -> tuple[float, int]:
    client.get(url)  # warm caches, templates, key last_used
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        assert client.get(url).status_code == 200
        times.append((time.perf_counter() - t0) * 1000)
    with CaptureQueriesContext(connection) as ctx:
        client.get(url)
    return statistics.median(times), len(ctx.captured_queries)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--checks", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    print(f"database: {connection.vendor}")
    for n in args.checks:
        user, code, key = populate(n)
        client = Client(SERVER_NAME="localhost")
        client.force_login(user)
        for label, url in [
            ("checks list", f"/projects/{code}/checks/"),
            ("checks status JSON", f"/projects/{code}/checks/status/"),
            ("prometheus", f"/projects/{code}/metrics/{key}"),
        ]:
            ms, queries = measure(client, url, args.repeat)
            print(f"{n:6d} checks  {label:<20} {ms:8.1f} ms   {queries} queries")


if __name__ == "__main__":
    main()
