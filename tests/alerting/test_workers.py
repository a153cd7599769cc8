"""End to end with real Celery workers, a real Redis and PostgreSQL.

Each test starts its own redis-server on an ephemeral port (never the shared one),
worker subprocesses (`celery -A hcserver worker`), and counts deliveries at a local
webhook receiver.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from celery import Celery
from django.conf import settings
from django.db import connection

from bench.processes import OwnRedis, wait_for
from checks import alerts
from checks.models import (
    AlertHeartbeat,
    DeliveryAttempt,
    DeliveryState,
    Flip,
    Notification,
    Ping,
)
from tests.alerting.workers import (
    ROOT,
    Receiver,
    attach,
    due_checks,
    start_beat,
    start_worker,
    stop,
    webhook_project,
    worker_env,
)
from tests.servers import free_port

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.slow,
    pytest.mark.workers,
    pytest.mark.django_db(transaction=True),
]

# Fast requeue so that recoveries happen within seconds.
FAST = {
    "ALERT_SCAN_INTERVAL": "0.5",
    "ALERT_REQUEUE_INTERVAL": "1",
    "ALERT_REQUEUE_AFTER": "3",
    "ALERT_SENDING_TIMEOUT": "3",
}


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[OwnRedis]:
    server = OwnRedis(tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.close()


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:  # all at once: each takes a moment to shut down
        if process.poll() is None:
            process.terminate()
    for process in started:
        stop(process)


def dump_logs(log_dir: Path) -> str:
    states = list(Notification.objects.values_list("state", flat=True))
    summary = f"flips={Flip.objects.count()} notifications={states.count}"
    counts = {s: states.count(s) for s in set(states)}
    logs = "\n".join(p.read_text()[-2000:] for p in sorted(log_dir.glob("*.log")))
    return f"{summary} {counts}\n{logs}"


def all_answered(receiver: Receiver, codes: set[str]) -> bool:
    # Cheap until the count is reached: evaluated on every one of 3000 arrivals.
    return len(receiver.answered) >= len(codes) and set(receiver.answered) >= codes


def test_four_workers_and_concurrent_scans_deliver_each_alert_once(
    own_redis, receiver, processes, tmp_path
):
    project, channel = webhook_project(receiver)
    checks = due_checks(project, channel, 3000)
    env = worker_env(own_redis.url, ALERT_SCAN_INTERVAL="0.5")
    processes.append(start_beat(env, tmp_path))
    for i in range(4):
        processes.append(start_worker(f"w{i}", env, tmp_path))
    # More scans at once: extra scan tasks, and scans from this process too.
    # Not the current app: shared tasks elsewhere in this process stay on hcserver's.
    sender = Celery(broker=own_redis.url, set_as_current=False)
    sender.conf.task_queues = settings.CELERY_TASK_QUEUES
    for _ in range(8):
        sender.send_task("checks.scan", queue="alerts")

    def scan_here() -> None:
        try:
            for _ in range(5):
                alerts.scan_due(now=alerts.timezone.now(), batch=200)
        finally:
            connection.close()

    threads = [threading.Thread(target=scan_here) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    codes = {f"/down/{c.code}" for c in checks}
    done = receiver.wait(lambda r: all_answered(r, codes), timeout=180)
    assert done, dump_logs(tmp_path)
    time.sleep(2)  # let any duplicate arrive before counting
    assert max(receiver.answered_counts().values()) == 1
    assert len(receiver.received) == len(codes)
    assert Flip.objects.filter(owner__project=project).count() == len(codes)
    sent = Notification.objects.filter(state=DeliveryState.SENT).count()
    assert sent == len(codes)


def test_worker_killed_mid_delivery_is_covered_by_the_requeue(
    own_redis, receiver, processes, tmp_path
):
    project, channel = webhook_project(receiver)
    checks = due_checks(project, channel, 20)
    victim = f"/down/{checks[0].code}"
    receiver.hold.add(victim)
    env = worker_env(own_redis.url, **FAST)
    processes.append(start_beat(env, tmp_path))
    worker = start_worker("doomed", env, tmp_path)
    processes.append(worker)
    assert receiver.wait(lambda r: victim in r.received, 60), dump_logs(tmp_path)
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait(10)
    processes.append(start_worker("heir", env, tmp_path))

    codes = {f"/down/{c.code}" for c in checks}
    done = receiver.wait(lambda r: set(r.answered) >= codes, timeout=60)
    assert done, dump_logs(tmp_path)
    receiver.release.set()
    time.sleep(2)
    assert max(receiver.answered_counts().values()) == 1
    # The killed attempt is the only request made twice (the crash window).
    assert receiver.received.count(victim) == 2
    assert len(receiver.received) == len(codes) + 1
    notification = Notification.objects.get(owner=checks[0])
    assert (notification.state, notification.attempts) == (DeliveryState.SENT, 2)
    first = DeliveryAttempt.objects.filter(notification=notification).earliest("id")
    assert first.error.startswith("Interrupted")


def test_redis_down_pings_recorded_and_alerts_sent_when_it_returns(
    own_redis, receiver, processes, tmp_path
):
    project, channel = webhook_project(receiver)
    checks = attach(project, channel, 10)
    env = worker_env(own_redis.url, **FAST)
    port = free_port()
    web = subprocess.Popen(  # noqa: S603
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "hcserver.wsgi:application",
        ],
        cwd=ROOT,
        env=env,
        stdout=(tmp_path / "web.log").open("ab"),
        stderr=subprocess.STDOUT,
    )
    processes.append(web)
    processes.append(start_beat(env, tmp_path))
    processes.append(start_worker("w", env, tmp_path))
    wait_for(AlertHeartbeat.objects.exists, 60, "the first scan")

    own_redis.stop()
    for check in checks:
        url = f"http://127.0.0.1:{port}/ping/{check.code}/fail"
        with urllib.request.urlopen(url, timeout=10) as response:
            assert response.status == 200
    assert Ping.objects.filter(owner__project=project, kind="fail").count() == 10
    time.sleep(2)
    assert receiver.received == []

    own_redis.start()
    codes = {f"/down/{c.code}" for c in checks}
    # Workers and beat reconnect with growing back-off: allow for a loaded machine.
    done = receiver.wait(lambda r: set(r.answered) >= codes, timeout=120)
    assert done, dump_logs(tmp_path)
    time.sleep(2)
    assert max(receiver.answered_counts().values()) == 1
    assert len(receiver.received) == len(codes)
