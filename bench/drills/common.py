"""What the fault drills share: a local webhook receiver, hcserver roles started
through deploy/entrypoint.sh, ping streams, database queries, verdicts."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import subprocess
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import psycopg2

from bench.processes import (
    ENTRYPOINT,
    free_port,
    http_status,
    role_env,
    run_role,
    wait_for,
)

# Creates `checks` checks (timeout/grace in seconds), a webhook channel to `hook`
# attached to all of them, and prints their codes as JSON.
SETUP = """
import json
import os
from datetime import timedelta
from django.contrib.auth.models import User
from checks import services
from checks.models import Channel, Check, Project
from integrations.webhook import WebhookConfig
user = User.objects.filter(username="drill").first() or User.objects.create_user(
    "drill", "drill@localhost", "x")
project = Project.objects.filter(owner=user).first() or services.create_project(
    owner=user, name="drill")
config = WebhookConfig(data={{"url_down": "{hook}/down/$CODE",
                              "url_up": "{hook}/up/$CODE"}})
config.is_valid(raise_exception=True)
channel = Channel.objects.create(project=project, kind="webhook",
                                 config=dict(config.validated_data))
codes = []
for i in range({checks}):
    check = services.create_check(project=project, name=f"{prefix}{{i}}",
        timeout=timedelta(seconds={timeout}), grace=timedelta(seconds={grace}))
    check.channels.add(channel)
    codes.append(str(check.code))
print(json.dumps(codes))
"""


@dataclass
class Verdict:
    """What a drill found: passed or not, the figures, and why."""

    name: str
    passed: bool = True
    figures: dict[str, Any] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)

    def expect(self, condition: bool, failure: str) -> None:
        if not condition:
            self.passed = False
            self.failures.append(failure)

    def report(self) -> str:
        lines = [f"drill: {self.name}"]
        lines += [f"  {key}: {value}" for key, value in self.figures.items()]
        lines += [f"  FAILED: {failure}" for failure in self.failures]
        lines.append(f"verdict: {'PASS' if self.passed else 'FAIL'}")
        return "\n".join(lines)

    def exit(self) -> None:
        """Print the report and end the process: status 0 on PASS, 1 on FAIL."""
        print(self.report())
        raise SystemExit(0 if self.passed else 1)


class Receiver:
    """A local HTTP server counting webhook alerts by path; `delay` slows answers."""

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.paths: list[str] = []
        self.arrived = 0
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                with receiver.lock:
                    receiver.arrived += 1
                time.sleep(receiver.delay)
                with receiver.lock:
                    receiver.paths.append(self.path)
                # The sender may be gone (a killed worker): nobody to answer.
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.send_response(200)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok")

            do_GET = do_POST = do_PUT = _handle

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def count(self, prefix: str) -> dict[str, int]:
        """Alerts received per check code for paths starting with `prefix`."""
        counts: dict[str, int] = {}
        with self.lock:
            for path in self.paths:
                if path.startswith(prefix):
                    code = path[len(prefix) :]
                    counts[code] = counts.get(code, 0) + 1
        return counts

    def stop(self) -> None:
        self.server.shutdown()


class Service:
    """hcserver roles (web, worker, beat) on one database; logs in a temp dir."""

    def __init__(self, database_url: str, redis_url: str, **settings: str) -> None:
        self.workdir = Path(tempfile.mkdtemp(prefix="hc-drill-"))
        self.port = free_port()
        self.env = role_env(
            DATABASE_URL=database_url,
            REDIS_URL=redis_url,
            PORT=str(self.port),
            GUNICORN_BIND=f"127.0.0.1:{self.port}",
            WEB_CONCURRENCY="2",
            GUNICORN_THREADS="4",
            CELERY_CONCURRENCY="2",
            CELERY_BEAT_SCHEDULE_FILE=str(self.workdir / "beat-schedule"),
            ALLOW_PRIVATE_TARGETS="true",
            PING_LOG_LIMIT="1000000",
            LOG_LEVEL="INFO",  # the worker's "ready." line is at INFO
            **settings,
        )
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.logs: dict[str, Any] = {}

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def migrate(self) -> None:
        run_role("migrate", env=self.env)

    def create_checks(
        self, hook: str, checks: int, timeout: float, grace: float, prefix: str = "c"
    ) -> list[str]:
        script = SETUP.format(
            hook=hook, checks=checks, timeout=timeout, grace=grace, prefix=prefix
        )
        out = run_role("manage", "shell", "-c", script, env=self.env)
        return list(json.loads(out.splitlines()[-1]))

    def start(self, role: str, name: str | None = None) -> None:
        name = name or role
        self._spawn(role, name)
        self._wait_ready(role, name)

    def start_all(self, *roles: str) -> None:
        """Start several roles at once (their start-ups overlap), then wait for each."""
        for role in roles:
            self._spawn(role, role)
        for role in roles:
            self._wait_ready(role, role)

    def _spawn(self, role: str, name: str) -> None:
        log = (self.workdir / f"{name}.log").open("ab")
        self.logs[name] = log
        self.procs[name] = subprocess.Popen(
            [ENTRYPOINT, role], env=self.env, stdout=log, stderr=subprocess.STDOUT
        )

    def _wait_ready(self, role: str, name: str) -> None:
        if role == "web":
            wait_for(lambda: http_status(f"{self.base}/health/", 1) != 0, 60, "web")
        if role == "worker":
            wait_for(lambda: b"ready." in self.log(name), 60, "worker")
        if role == "beat":
            # Running means scanning; before its first scan the outage guard takes
            # the whole past for an outage (docs/alerts.md).
            wait_for(self._scanned, 60, "the first alert scan")

    def _scanned(self) -> bool:
        heartbeat = "SELECT count(*) FROM checks_alertheartbeat"
        return bool(query(self.env["DATABASE_URL"], heartbeat)[0][0])

    def log(self, name: str) -> bytes:
        return (self.workdir / f"{name}.log").read_bytes()

    def kill(self, name: str) -> None:
        """SIGKILL a role and its child processes at once, like a crashed host."""
        proc = self.procs.pop(name)
        children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text()
        for pid in [proc.pid, *map(int, children.split())]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        proc.wait(60)

    def stop(self) -> None:
        for name in list(self.procs):
            proc = self.procs.pop(name)
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        for log in self.logs.values():
            log.close()


class PingStream:
    """Threads pinging checks in a loop; each ping's User-Agent is a unique tag, so
    the database can be asked which acknowledged pings it holds."""

    def __init__(
        self, base: str, codes: list[str], threads: int, pause: float = 0.0
    ) -> None:
        self.host = "127.0.0.1"
        self.port = int(base.rsplit(":", 1)[1])
        self.codes = codes
        self.pause = pause
        self.results: list[tuple[float, str, str, int]] = []  # time, code, tag, status
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.threads = [
            threading.Thread(target=self._run, args=(n, threads), daemon=True)
            for n in range(threads)
        ]

    def _run(self, offset: int, step: int) -> None:
        mine = self.codes[offset::step]
        i = 0
        while not self.stopping.is_set() and mine:
            code = mine[i % len(mine)]
            i += 1
            tag = uuid.uuid4().hex
            try:
                conn = http.client.HTTPConnection(self.host, self.port, timeout=10)
                conn.request("GET", f"/ping/{code}", headers={"User-Agent": tag})
                status = conn.getresponse().status
                conn.close()
            except OSError:
                status = 0  # no answer at all
            with self.lock:
                self.results.append((time.monotonic(), code, tag, status))
            if self.pause:
                self.stopping.wait(self.pause)

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def stop(self) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join(15)


def query(database_url: str, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    with psycopg2.connect(database_url) as conn, conn.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    conn.close()
    return rows
