"""Real Celery workers and a gated webhook receiver for the end-to-end alert tests."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from bench.processes import role_env
from checks.models import AlertHeartbeat, Channel, Check, Project, Status
from tests.factories import ProjectFactory

ROOT = Path(__file__).resolve().parents[2]


def worker_env(redis_url: str, **extra: str) -> dict[str, str]:
    """Environment of a worker subprocess: this test's database and broker."""
    db = connection.settings_dict
    return role_env(
        DATABASE_URL=f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        REDIS_URL=redis_url,
        ALLOW_PRIVATE_TARGETS="true",
        LOG_LEVEL="WARNING",
        **extra,
    )


def start_worker(
    name: str, env: dict[str, str], log_dir: Path, *args: str
) -> subprocess.Popen[bytes]:
    """`celery -A hcserver worker` with one task at a time (solo pool: no child)."""
    log = (log_dir / f"{name}.log").open("ab")
    return subprocess.Popen(  # noqa: S603
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "hcserver",
            "worker",
            "--pool",
            "solo",
            "--hostname",
            f"{name}@%h",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            *args,
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def start_beat(env: dict[str, str], log_dir: Path) -> subprocess.Popen[bytes]:
    log = (log_dir / "beat.log").open("ab")
    return subprocess.Popen(  # noqa: S603
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "hcserver",
            "beat",
            "--schedule",
            str(log_dir / "beat-schedule"),
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM (gunicorn then stops its workers), SIGKILL if that is not enough."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


@dataclass
class Receiver:
    """Records POST paths; the first request to a path in `hold` gets no answer."""

    hold: set[str] = field(default_factory=set)
    received: list[str] = field(default_factory=list)
    answered: list[str] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)
    arrived: threading.Condition = field(default_factory=threading.Condition)

    def __post_init__(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                with receiver.arrived:
                    receiver.received.append(self.path)
                    receiver.arrived.notify_all()
                with receiver.arrived:
                    held = self.path in receiver.hold
                    receiver.hold.discard(self.path)
                if held:
                    # Its sender is about to be killed: it never gets an answer.
                    receiver.release.wait(60)
                    return
                try:
                    self.send_response(200)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok")
                    self.wfile.flush()
                except OSError:
                    return  # the sender died: it never learnt the outcome
                with receiver.arrived:
                    receiver.answered.append(self.path)
                    receiver.arrived.notify_all()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def wait(self, predicate: Any, timeout: float) -> bool:
        with self.arrived:
            return bool(self.arrived.wait_for(lambda: predicate(self), timeout))

    def answered_counts(self) -> Counter[str]:
        with self.arrived:
            return Counter(self.answered)

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


def webhook_project(receiver: Receiver) -> tuple[Project, Channel]:
    """A project whose webhook channel POSTs each down alert to /down/<check code>."""
    project = ProjectFactory()
    channel = Channel.objects.create(
        project=project,
        kind="webhook",
        config={
            "method_down": "POST",
            "url_down": f"{receiver.url}/down/$CODE",
            "body_down": "$NAME is $STATUS",
        },
    )
    return project, channel


def due_checks(project: Project, channel: Channel, count: int) -> list[Check]:
    """`count` up checks whose deadline passed a minute ago, all on `channel`."""
    now = timezone.now()
    # As if the alert loop had been running: its very first scan would take the
    # whole past for an outage and give these checks ALERT_OUTAGE_GRACE.
    AlertHeartbeat.objects.update_or_create(pk=1, defaults={"last_scan": now})
    rows = [
        Check(
            project=project,
            name=f"job {i}",
            status=Status.UP,
            timeout=timedelta(hours=1),
            grace=timedelta(minutes=1),
            last_ping=now - timedelta(hours=1, minutes=2),
            alert_after=now - timedelta(minutes=1),
        )
        for i in range(count)
    ]
    through = Channel.checks.through
    with transaction.atomic():  # never a due check without its channel link
        checks = Check.objects.bulk_create(rows)
        through.objects.bulk_create(
            through(channel_id=channel.pk, check_id=c.pk) for c in checks
        )
    return checks


def attach(project: Project, channel: Channel, count: int) -> list[Check]:
    """`count` up checks pinged just now (not due), all on `channel`."""
    now = timezone.now()
    checks = Check.objects.bulk_create(
        Check(
            project=project,
            name=f"job {i}",
            status=Status.UP,
            last_ping=now,
            alert_after=now + timedelta(days=1),
        )
        for i in range(count)
    )
    through = Channel.checks.through
    through.objects.bulk_create(
        through(channel_id=channel.pk, check_id=c.pk) for c in checks
    )
    return checks
