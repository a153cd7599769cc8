"""`make prod-local`: the compose process layout run for real through the entrypoint.

deploy/procfile.py runs `migrate`, then gunicorn, a Celery worker and beat against
PostgreSQL (a scratch database) and Redis (an own redis-server); SIGINT stops them all.
"""

import json
import os
import re
import signal
import smtplib
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from email.message import Message

import pytest
from django.conf import settings

from bench.processes import (
    ENTRYPOINT,
    ROOT,
    OwnRedis,
    drop_database,
    free_port,
    http_status,
    role_env,
    run_role,
    scratch_database_url,
    wait_for,
)

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

CREATE_CHECK = (
    "from checks.models import Project; from checks import services; "
    "print(services.create_check(project=Project.objects.get(), name='job').code)"
)


CREATE_API_KEY = (
    "from checks.models import Project; from checks import services; "
    "print(services.create_api_key(project=Project.objects.get(), name='t', "
    "read_only=True)[1])"
)

COUNT_EMAIL_PINGS = (
    "from checks.models import Ping; print(Ping.objects.filter(scheme='email').count())"
)


def _accepts(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture(scope="module")
def layout(tmp_path_factory):
    """The running layout: (base URL, env, runner process, log path)."""
    workdir = tmp_path_factory.mktemp("prod-local")
    own_redis = OwnRedis(workdir)
    own_redis.start()
    base = os.environ["DATABASE_URL"]
    database_url = scratch_database_url(
        base, f"{settings.DATABASES['default']['NAME']}_layout"
    )
    port = free_port()
    env = role_env(
        DATABASE_URL=database_url,
        REDIS_URL=own_redis.url,
        PORT=str(port),
        GUNICORN_BIND=f"127.0.0.1:{port}",
        WEB_CONCURRENCY="1",
        GUNICORN_THREADS="2",
        CELERY_CONCURRENCY="1",
        CELERY_BEAT_SCHEDULE_FILE=str(workdir / "beat-schedule"),
        STOP_TIMEOUT="30",
    )
    log = workdir / "runner.log"
    with log.open("wb") as out:
        runner = subprocess.Popen(
            [sys.executable, "deploy/procfile.py", "deploy/Procfile"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: http_status(f"{url}/health/", 1) == 200, 60, "web")
        wait_for(lambda: "ready." in log.read_text(), 60, "celery worker")
        yield url, env, runner, log
    finally:
        if runner.poll() is None:
            runner.send_signal(signal.SIGINT)
            try:
                runner.wait(60)
            except subprocess.TimeoutExpired:
                runner.kill()
        own_redis.stop()
        drop_database(database_url)


def test_prod_local_serves_health_with_database_and_redis(layout):
    url, _, _, _ = layout
    assert http_status(f"{url}/health/") == 200


def test_prod_local_bootstrap_role_prints_the_account(layout):
    _, env, _, _ = layout
    account = json.loads(run_role("bootstrap", "--json", env=env))
    assert account["email"] == "admin@localhost"
    assert account["api_key"].startswith("hcw_")


def test_prod_local_web_records_pings(layout):
    url, env, _, _ = layout
    run_role("bootstrap", env=env)
    code = run_role("manage", "shell", "-c", CREATE_CHECK, env=env).split()[-1]
    assert http_status(f"{url}/ping/{code}") == 200


def fetch(url: str, **kwargs) -> tuple[int, Message, bytes]:
    """Status, headers (looked up in any case) and body of one request."""
    request = urllib.request.Request(url, **kwargs)  # noqa: S310 - http://127.0.0.1
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def test_prod_local_web_serves_the_api(layout):
    url, env, _, _ = layout
    run_role("bootstrap", env=env)
    key = run_role("manage", "shell", "-c", CREATE_API_KEY, env=env).split()[-1]
    status, _, body = fetch(f"{url}/api/v3/checks/", headers={"X-Api-Key": key})
    assert status == 200
    assert "checks" in json.loads(body)


def test_prod_local_web_serves_the_dashboard_and_static_files(layout):
    url, _, _, _ = layout
    status, headers, body = fetch(f"{url}/accounts/login/")
    assert status == 200
    assert "csrftoken=" in (headers["Set-Cookie"] or "")
    stylesheet = re.search(rb'href="(/static/[^"]+\.css)"', body).group(1).decode()
    assert fetch(f"{url}{stylesheet}")[0] == 200


def test_prod_local_web_keeps_the_start_of_a_large_ping_body(layout):
    url, env, _, _ = layout
    run_role("bootstrap", env=env)
    code = run_role("manage", "shell", "-c", CREATE_CHECK, env=env).split()[-1]
    status, headers, _ = fetch(f"{url}/ping/{code}", data=b"x" * 300_000)
    assert (status, headers["Ping-Body-Limit"]) == (200, "100000")
    size = run_role(
        "manage",
        "shell",
        "-c",
        "from checks.models import Ping; "
        f"print(len(Ping.objects.get(owner__code='{code}').body))",
        env=env,
    )
    assert size.split()[-1] == "100000"


def test_prod_local_runs_worker_and_beat(layout):
    _, _, _, log = layout
    wait_for(lambda: "beat: Starting" in log.read_text(), 30, "celery beat")
    text = log.read_text()
    assert re.search(r"^worker\s+\| .*ready\.", text, re.M)
    assert re.search(r"^beat\s+\| .*beat: Starting", text, re.M)


def test_container_healthcheck_passes_against_running_web(layout):
    _, env, _, _ = layout
    done = subprocess.run(
        [sys.executable, "deploy/healthcheck.py"], cwd=ROOT, env=env, timeout=10
    )
    assert done.returncode == 0


def test_smtpd_role_records_email_pings(layout):
    _, env, _, _ = layout
    port = free_port()
    smtpd_env = {**env, "SMTPD_HOST": "127.0.0.1", "SMTPD_PORT": str(port)}
    code = run_role("manage", "shell", "-c", CREATE_CHECK, env=env).split()[-1]
    smtpd = subprocess.Popen([ENTRYPOINT, "smtpd"], env=smtpd_env)  # noqa: S603
    try:
        wait_for(lambda: _accepts(port), 30, "smtpd")
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
            client.sendmail(
                "cron@example.org", [f"{code}@localhost"], b"Subject: x\n\n"
            )
    finally:
        smtpd.send_signal(signal.SIGTERM)
        assert smtpd.wait(30) == 0
    count = run_role("manage", "shell", "-c", COUNT_EMAIL_PINGS, env=env).split()[-1]
    assert count == "1"


def test_prod_local_stops_every_process_on_ctrl_c(layout):
    url, _, runner, log = layout
    pids = [int(p) for p in re.findall(r"started \w+ \(pid (\d+)\)", log.read_text())]
    assert len(pids) == 3
    runner.send_signal(signal.SIGINT)
    assert runner.wait(60) == 0
    assert not [pid for pid in pids if _alive(pid)]
    assert http_status(f"{url}/health/", 1) == 0
