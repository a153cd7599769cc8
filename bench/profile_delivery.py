"""Time and profile alert delivery in-process: where one delivery's time goes.

    DATABASE_URL=postgres://... .venv/bin/python -m bench.profile_delivery \
        [--deliveries 1000] [--kind webhook] [--worker] [--profile] [--sort tottime]

Makes a scratch database `<name>_delivery_bench` beside DATABASE_URL's, one channel of
--kind (webhook to a local receiver, or email to an in-process SMTP server) shared by
every check, and --deliveries down checks with a flip and a pending notification each.
Delivers them one after another with `alerts.deliver()` in this thread and prints the
SQL statements of one delivery, deliveries/s, wall and CPU time per delivery, and with
--profile the top of a cProfile of the run.

--worker: instead, queues them as the fan-out does (in chunks of ALERT_DELIVERY_BATCH)
to its own redis-server and lets one real `celery -A hcserver worker --pool solo`
deliver them: deliveries/s and the worker's CPU per delivery, including Celery's own
work; --profile runs that worker under cProfile.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
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


def webhook_receiver() -> str:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}"


def make_notifications(kind: str, count: int) -> list[int]:
    """`count` pending down alerts for `count` checks sharing one channel of `kind`."""
    from django.contrib.auth.models import User
    from django.db import transaction
    from django.utils import timezone

    from checks.models import Channel, Check, Flip, Notification, Ping, Status
    from checks.services import create_project

    user = User.objects.create_user("bench@localhost", "bench@localhost", "x")
    project = create_project(owner=user, name="bench")
    if kind == "webhook":
        config = {
            "url_down": f"{webhook_receiver()}/down/$CODE",
            "body_down": "$NAME is $STATUS: $BODY",
        }
    else:
        config = {"to": ["ops@example.com"]}
    channel = Channel.objects.create(project=project, kind=kind, config=config)
    now = timezone.now()
    with transaction.atomic():
        checks = Check.objects.bulk_create(
            Check(
                project=project,
                name=f"job {i}",
                status=Status.DOWN,
                timeout=timedelta(minutes=10),
                last_ping=now - timedelta(minutes=20),
                n_pings=1,
            )
            for i in range(count)
        )
        channel.checks.add(*checks)
        Ping.objects.bulk_create(
            Ping(owner=c, n=1, created=c.last_ping, body=b"exit 1\n") for c in checks
        )
        flips = Flip.objects.bulk_create(
            Flip(
                owner=c,
                created=now,
                old_status=Status.UP,
                new_status=Status.DOWN,
                reason="timeout",
                processed=now,
            )
            for c in checks
        )
        notifications = Notification.objects.bulk_create(
            Notification(
                flip=f,
                owner_id=f.owner_id,
                channel=channel,
                check_status=Status.DOWN,
                next_attempt=now,
                claimed_at=now,
            )
            for f in flips
        )
    return [n.pk for n in notifications]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a running process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def through_worker(ids: list[int], args: argparse.Namespace, db_url: str) -> None:
    """Queue `ids` like the fan-out and time one solo worker delivering them."""
    from checks import alerts
    from checks.models import DeliveryState, Notification

    workdir = Path(tempfile.mkdtemp(prefix="hc-delivery-bench-"))
    out = workdir / "worker.prof"
    profile = ["-m", "cProfile", "-o", str(out)] if args.profile else []
    env = role_env(
        DATABASE_URL=db_url,
        REDIS_URL=os.environ["REDIS_URL"],
        ALLOW_PRIVATE_TARGETS="true",
        LOG_LEVEL="WARNING",
    )
    with open(workdir / "worker.log", "ab") as log:
        worker = subprocess.Popen(
            [
                sys.executable,
                *profile,
                "-m",
                "celery",
                "-A",
                "hcserver",
                "worker",
                "--pool",
                "solo",
                "-Q",
                "deliver",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        sent = Notification.objects.filter(state=DeliveryState.SENT)
        channel = Notification.objects.values_list("channel_id", flat=True).first()
        warm = ids[:20]
        alerts._queue(alerts.delivery_chunks((pk, channel) for pk in warm))
        wait_for(lambda: sent.count() >= len(warm), 60, "the worker")
        cpu, started = cpu_seconds(worker.pid), time.perf_counter()
        alerts._queue(alerts.delivery_chunks((pk, channel) for pk in ids[20:]))
        wait_for(lambda: sent.count() >= len(ids), 3600, "the deliveries")
        wall = (time.perf_counter() - started) / (len(ids) - 20)
        cpu = (cpu_seconds(worker.pid) - cpu) / (len(ids) - 20)
        print(
            f"one solo worker: {1 / wall:.0f} deliveries/s, {wall * 1000:.2f} ms "
            f"wall, {cpu * 1000:.2f} ms worker CPU per delivery "
            f"(load average {os.getloadavg()[0]:.1f})"
        )
    finally:
        worker.terminate()
        worker.wait(30)
    if args.profile:
        report = io.StringIO()
        stats = pstats.Stats(str(out), stream=report).sort_stats(args.sort)
        stats.print_stats(args.top)
        print(report.getvalue())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--deliveries", type=int, default=1000)
    parser.add_argument("--kind", choices=["webhook", "email"], default="webhook")
    parser.add_argument("--worker", action="store_true")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--sort", default="cumulative")
    parser.add_argument("--top", type=int, default=40, help="profile lines shown")
    args = parser.parse_args()

    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith("postgres"):
        sys.exit("set DATABASE_URL=postgres://... (a scratch database is made there)")
    db_url = scratch_database_url(base, base.rsplit("/", 1)[1] + "_delivery_bench")
    os.environ.update(
        DATABASE_URL=db_url,
        ALLOW_PRIVATE_TARGETS="true",
        LOG_LEVEL="WARNING",
        DJANGO_SETTINGS_MODULE="hcserver.settings",
    )
    os.environ.setdefault("SECRET_KEY", "bench-only-secret-key")
    os.environ.pop("REDIS_URL", None)
    redis_server = None
    if args.worker:
        redis_server = OwnRedis(Path(tempfile.mkdtemp(prefix="hc-delivery-redis-")))
        redis_server.start()
        os.environ["REDIS_URL"] = redis_server.url
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection, connections
    from django.test.utils import CaptureQueriesContext

    from checks import alerts
    from checks.models import DeliveryState, Notification
    from tests.servers import SmtpServer

    smtp = None
    try:
        call_command("migrate", verbosity=0)
        if args.kind == "email":
            smtp = SmtpServer()
            smtp.start()
            settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
            settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", smtp.port
            settings.EMAIL_USE_TLS = False
        if args.worker:
            through_worker(
                make_notifications(args.kind, args.deliveries + 20), args, db_url
            )
            return
        ids = make_notifications(args.kind, args.deliveries + 21)
        for pk in ids[:20]:  # warm up: imports, connections, template caches
            alerts.deliver(pk)
        with CaptureQueriesContext(connection) as queries:
            alerts.deliver(ids[20])
        print(f"SQL of one {args.kind} delivery ({len(queries)} statements):")
        for query in queries.captured_queries:
            print("  ", query["sql"][:120])

        profile = cProfile.Profile() if args.profile else None
        started, cpu = time.perf_counter(), time.process_time()
        if profile:
            profile.enable()
        for pk in ids[21:]:
            alerts.deliver(pk)
        if profile:
            profile.disable()
        wall = (time.perf_counter() - started) / args.deliveries
        cpu = (time.process_time() - cpu) / args.deliveries
        sent = Notification.objects.filter(state=DeliveryState.SENT).count()
        print(
            f"{1 / wall:.0f} deliveries/s in one thread ({sent}/{len(ids)} sent): "
            f"{wall * 1000:.2f} ms wall, {cpu * 1000:.2f} ms CPU per delivery "
            f"(load average {os.getloadavg()[0]:.1f})"
        )
        if profile:
            out = io.StringIO()
            stats = pstats.Stats(profile, stream=out).sort_stats(args.sort)
            stats.print_stats(args.top)
            print(out.getvalue())
    finally:
        if smtp is not None:
            smtp.stop()
        connections.close_all()
        drop_database(db_url)
        if redis_server is not None:
            redis_server.stop()


if __name__ == "__main__":
    main()
