"""Alert latency and burst throughput with real Celery workers, Redis and PostgreSQL.

    .venv/bin/python -m bench.alerts [--checks 100000] [--due 500] [--spread 60]
                                  [--burst 10000] [--workers 2] [--concurrency 2]
                                  [--limit 600]

Needs DATABASE_URL (a PostgreSQL server; a scratch database `<name>_alerts_bench` is
created and dropped) and redis-server on PATH (its own instance on an ephemeral port).
Starts beat and --workers `celery -A hcserver worker` processes, and a local webhook
receiver; every check has one webhook channel pointing at it.

1. Latency: --checks checks exist; --due of them reach their deadline spread over
   --spread seconds (keep due/spread below the delivery rate of phase 2, or this
   measures a queue). Prints deadline -> webhook arrival (p50/p90/p99/max).
2. Burst: --burst checks go down at the same moment. Prints how long until every alert
   arrived, and the rate.
Each phase stops after --limit seconds and prints what arrived by then.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from bench.processes import (
    ROOT,
    OwnRedis,
    drop_database,
    role_env,
    scratch_database_url,
    wait_for,
)


class Receiver:
    """Records the arrival time of each POST path (first arrival, and a count)."""

    def __init__(self) -> None:
        self.arrivals: dict[str, float] = {}
        self.total = 0
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as the chat services offer

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver.lock:
                    receiver.total += 1
                    receiver.arrivals.setdefault(self.path, time.time())
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def count(self, paths: set[str]) -> int:
        with self.lock:
            return len(paths & self.arrivals.keys())


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def make_checks(project: Any, channel: Any, count: int, deadlines: list[float]) -> list:
    """Up checks whose deadline is deadlines[i] (epoch seconds), all on `channel`."""
    from datetime import UTC, datetime

    from django.db import transaction

    from checks.models import Channel, Check, Status

    timeout, grace = timedelta(minutes=10), timedelta(minutes=1)
    rows = []
    for i in range(count):
        deadline = datetime.fromtimestamp(deadlines[i], UTC)
        rows.append(
            Check(
                project=project,
                name=f"job {i}",
                status=Status.UP,
                timeout=timeout,
                grace=grace,
                last_ping=deadline - timeout - grace,
                alert_after=deadline,
            )
        )
    # One transaction: a scan must not see a due check before its channel link.
    with transaction.atomic():
        checks = Check.objects.bulk_create(rows, batch_size=5000)
        through = Channel.checks.through
        through.objects.bulk_create(
            (through(channel_id=channel.pk, check_id=c.pk) for c in checks),
            batch_size=5000,
        )
    return checks


def load() -> str:
    """The 1-minute load average, to print beside each figure."""
    return f"load average {os.getloadavg()[0]:.1f}"


def wait_arrivals(receiver: Receiver, paths: set[str], limit: float) -> None:
    deadline = time.monotonic() + limit
    while receiver.count(paths) < len(paths) and time.monotonic() < deadline:
        time.sleep(0.2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checks", type=int, default=100_000)
    parser.add_argument("--due", type=int, default=500)
    parser.add_argument("--spread", type=float, default=60)
    parser.add_argument("--burst", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--limit", type=float, default=600)
    args = parser.parse_args()

    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith("postgres"):
        sys.exit("set DATABASE_URL=postgres://... (a scratch database is made there)")
    db_name = base.rsplit("/", 1)[1] + "_alerts_bench"
    db_url = scratch_database_url(base, db_name)
    workdir = Path(tempfile.mkdtemp(prefix="hc-alerts-bench-"))
    redis_server = OwnRedis(workdir)
    redis_server.start()
    receiver = Receiver()
    env = role_env(
        DATABASE_URL=db_url,
        REDIS_URL=redis_server.url,
        ALLOW_PRIVATE_TARGETS="true",
        LOG_LEVEL="WARNING",
    )
    os.environ.update(
        DATABASE_URL=db_url,
        REDIS_URL=redis_server.url,
        SECRET_KEY=env["SECRET_KEY"],
        DJANGO_SETTINGS_MODULE="hcserver.settings",
    )
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.contrib.auth.models import User
    from django.core.management import call_command

    from checks.models import AlertHeartbeat, Channel
    from checks.services import create_project

    processes: list[subprocess.Popen[bytes]] = []
    try:
        call_command("migrate", verbosity=0)
        user = User.objects.create_user("bench@localhost", "bench@localhost", "x")
        project = create_project(owner=user, name="bench")
        channel = Channel.objects.create(
            project=project,
            kind="webhook",
            config={"url_down": f"{receiver.url}/down/$CODE", "body_down": "$NAME"},
        )
        started = time.monotonic()
        idle = args.checks - args.due
        make_checks(project, channel, idle, [time.time() + 86400] * idle)
        print(f"setup: {idle} idle checks in {time.monotonic() - started:.1f} s")

        log = (workdir / "processes.log").open("ab")
        celery = [sys.executable, "-m", "celery", "-A", "hcserver"]
        processes.append(
            subprocess.Popen(
                [*celery, "beat", "--schedule", str(workdir / "beat")],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        )
        for i in range(args.workers):
            processes.append(
                subprocess.Popen(
                    [
                        *celery,
                        "worker",
                        "--hostname",
                        f"bench{i}@%h",
                        "--concurrency",
                        str(args.concurrency),
                        "--without-gossip",
                        "--without-mingle",
                    ],
                    cwd=ROOT,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
        wait_for(AlertHeartbeat.objects.exists, 60, "the first scan")
        print(
            f"{args.workers} workers x concurrency {args.concurrency}, beat scan "
            f"every {os.environ.get('ALERT_SCAN_INTERVAL', '2')} s"
        )

        # 1. Latency: deadlines spread over the next --spread s, among the others.
        now = time.time()
        deadlines = sorted(
            now + 5 + random.random() * args.spread for _ in range(args.due)
        )
        due = make_checks(project, channel, args.due, deadlines)
        by_path = {f"/down/{c.code}": d for c, d in zip(due, deadlines, strict=True)}
        wait_arrivals(receiver, set(by_path), 5 + args.spread + args.limit)
        latencies = [
            receiver.arrivals[p] - d
            for p, d in by_path.items()
            if p in receiver.arrivals
        ]
        print(
            f"latency, deadline -> webhook, {len(latencies)}/{args.due} alerts among "
            f"{args.checks} checks: p50 {statistics.median(latencies):.2f} s, "
            f"p90 {percentile(latencies, 90):.2f} s, "
            f"p99 {percentile(latencies, 99):.2f} s, max {max(latencies):.2f} s "
            f"({load()})"
        )

        # 2. Burst: many checks down at the same moment.
        moment = time.time()
        burst = make_checks(project, channel, args.burst, [moment] * args.burst)
        created = time.time()
        paths = {f"/down/{c.code}" for c in burst}
        wait_arrivals(receiver, paths, args.limit)
        arrived = [receiver.arrivals[p] for p in paths if p in receiver.arrivals]
        last = max(arrived)
        print(
            f"burst: {len(arrived)}/{args.burst} simultaneous alerts delivered "
            f"{last - moment:.1f} s after their deadline, {last - created:.1f} s "
            f"after the insert committed ({len(arrived) / (last - created):.0f} "
            f"alerts/s; the insert took {created - moment:.1f} s); first "
            f"{min(arrived) - created:.1f} s after the commit ({load()})"
        )
        print(
            f"receiver: {receiver.total} requests for {len(receiver.arrivals)} alerts"
        )
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
        from django.db import connections

        connections.close_all()
        redis_server.stop()
        drop_database(db_url)


if __name__ == "__main__":
    main()
