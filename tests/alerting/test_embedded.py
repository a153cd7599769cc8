"""Embedded mode: no Redis, the alert loop runs beside the web server."""

import threading
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from checks import alerts
from checks.management.commands import serve
from checks.models import Status
from tests.factories import ChannelFactory, CheckFactory


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
