"""Embedded mode: no Redis, the alert loop runs beside the web server."""

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from checks import alerts
from checks.management.commands import serve
from checks.models import Flip, Status
from hcserver.celery import app
from integrations.aws import poller
from tests.factories import ChannelFactory, CheckFactory, FlipFactory


@contextmanager
def alert_loop() -> Iterator[None]:
    """run_loop in a thread (scan every 0.1 s) for the duration of the block."""
    stop = threading.Event()
    loop = threading.Thread(
        target=alerts.run_loop, kwargs={"stop": stop, "interval": 0.1}
    )
    loop.start()
    try:
        yield
    finally:
        stop.set()
        loop.join(20)


def wait_until(predicate: Callable[[], bool], timeout: float = 30) -> bool:
    deadline = timezone.now() + timedelta(seconds=timeout)
    while not predicate() and timezone.now() < deadline:
        threading.Event().wait(0.1)
    return predicate()


def test_embedded_loop_runs_every_beat_schedule_entry():
    jobs = [job for queue in alerts.beat_jobs().values() for job in queue]
    schedule = {
        name: (entry["task"], float(entry["schedule"]))
        for name, entry in app.conf.beat_schedule.items()
    }
    assert {j.name: (j.task.name, j.every.seconds) for j in jobs} == schedule


def test_embedded_loop_schedule_includes_pruning_and_aws():
    names = {job.name for queue in alerts.beat_jobs().values() for job in queue}
    assert {"prune", "aws-poll", "aws-reconcile"} <= names


def test_embedded_loop_interval_sets_the_scan_period():
    (scan,) = [
        j for j in alerts.beat_jobs(scan_every=0.5)["alerts"] if j.name == "scan"
    ]
    assert scan.every.seconds == 0.5


def test_embedded_loop_keeps_aws_polls_off_the_scan_thread():
    queues = {q: {j.name for j in jobs} for q, jobs in alerts.beat_jobs().items()}
    assert "scan" in queues["alerts"]
    assert "aws-poll" not in queues["alerts"]


@pytest.mark.django_db(transaction=True)
def test_alert_loop_delivers_a_fail_ping_alert(client, test_kinds):
    check = CheckFactory(status=Status.UP, last_ping=timezone.now())
    channel = ChannelFactory(project=check.project, kind="record")
    channel.checks.add(check)
    # Ping first: the test database (in-memory SQLite, shared cache) does not wait
    # for locks the way the real file database does.
    client.get(f"/ping/{check.code}/fail")
    stop = threading.Event()
    loop = threading.Thread(
        target=alerts.run_loop, kwargs={"stop": stop, "interval": 0.1}
    )
    loop.start()
    try:
        deadline = timezone.now() + timedelta(seconds=20)
        while not test_kinds and timezone.now() < deadline:
            stop.wait(0.1)
    finally:
        stop.set()
        loop.join(20)
    assert test_kinds == [(channel.pk, "alert", "down")]


@pytest.mark.django_db(transaction=True)
def test_alert_loop_prunes_old_flips(settings):
    settings.FLIP_RETENTION_DAYS = 30
    long_ago = timezone.now() - timedelta(days=31)
    flip = FlipFactory(created=long_ago, processed=long_ago)
    with alert_loop():
        pruned = wait_until(lambda: not Flip.objects.filter(pk=flip.pk).exists())
    assert pruned


@pytest.mark.django_db(transaction=True)
def test_slow_aws_poll_does_not_hold_up_alerts(client, test_kinds, monkeypatch):
    check = CheckFactory(status=Status.UP, last_ping=timezone.now())
    ChannelFactory(project=check.project, kind="record").checks.add(check)
    client.get(f"/ping/{check.code}/fail")  # before the loop: see the test above
    polling, release = threading.Event(), threading.Event()

    def slow_poll(**kwargs):
        polling.set()
        release.wait(30)
        return {}

    tick = alerts.tick

    def tick_while_polling(**kwargs):
        polling.wait(30)  # scan only once the poll is stuck
        return tick(**kwargs)

    monkeypatch.setattr(poller, "poll_all", slow_poll)
    monkeypatch.setattr(alerts, "tick", tick_while_polling)
    try:
        with alert_loop():
            delivered = wait_until(lambda: bool(test_kinds), timeout=20)
            release.set()
    finally:
        release.set()
    assert delivered


@pytest.fixture
def served(monkeypatch):
    """Run `serve` without its web server; records whether the loop was started."""
    started = []
    monkeypatch.setattr(serve, "call_command", lambda *a, **k: None)
    monkeypatch.setattr(serve, "start_alert_thread", lambda: started.append(True))
    return started


def test_serve_without_redis_runs_the_alert_loop(served, settings):
    settings.REDIS_URL = ""
    call_command("serve")
    assert served == [True]


def test_serve_with_redis_leaves_alerts_to_celery(served, settings):
    settings.REDIS_URL = "redis://127.0.0.1:6379/0"
    call_command("serve")
    assert served == []


def test_serve_no_alerts_flag_skips_the_loop(served, settings):
    settings.REDIS_URL = ""
    call_command("serve", "--no-alerts")
    assert served == []
