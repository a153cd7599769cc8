"""Graceful worker shutdown: on SIGTERM the task in progress finishes (warm)."""

import signal
import subprocess

import pytest
from celery import Celery

from bench.processes import ENTRYPOINT, OwnRedis, role_env, wait_for

pytestmark = pytest.mark.slow


@pytest.fixture
def worker(tmp_path):
    own_redis = OwnRedis(tmp_path)
    own_redis.start()
    env = role_env(
        REDIS_URL=own_redis.url,
        DATABASE_URL="",
        DATA_DIR=str(tmp_path / "data"),
        CELERY_CONCURRENCY="1",
    )
    log = (tmp_path / "worker.log").open("wb")
    proc = subprocess.Popen(  # noqa: S603
        [ENTRYPOINT, "worker", "--include", "tests.deploy.slow_task"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    wait_for(lambda: b"ready." in (tmp_path / "worker.log").read_bytes(), 60, "worker")
    app = Celery(broker=own_redis.url, set_as_current=False)
    yield proc, app
    if proc.poll() is None:
        proc.kill()
        proc.wait()
    log.close()
    own_redis.stop()


def test_sigterm_lets_the_running_task_finish(worker, tmp_path):
    proc, app = worker
    app.send_task("tests.slow_write", args=[str(tmp_path), 3.0])
    wait_for(lambda: (tmp_path / "started").exists(), 30, "task start")
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(60) == 0
    assert (tmp_path / "done").exists()


def test_sigterm_takes_no_new_task(worker, tmp_path):
    proc, app = worker
    app.send_task("tests.slow_write", args=[str(tmp_path), 2.0])
    wait_for(lambda: (tmp_path / "started").exists(), 30, "task start")
    proc.send_signal(signal.SIGTERM)
    second = tmp_path / "second"
    second.mkdir()
    app.send_task("tests.slow_write", args=[str(second), 0.0])
    proc.wait(60)
    assert not (second / "started").exists()
