"""hcserver/settings.py, loaded in a fresh process per case (settings load once)."""

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parents[2]
# Variables the tested behaviour depends on: removed unless a test sets them.
CLEARED = ("SECRET_KEY", "DATABASE_URL", "DEBUG", "PING_BODY_LIMIT", "DATA_DIR")


def load(tmp_path: Path, expr: str, **env: str) -> subprocess.CompletedProcess:
    """Import the settings with `env` and print `expr` evaluated on them."""
    environ = {k: v for k, v in os.environ.items() if k not in CLEARED}
    environ |= {"DATA_DIR": str(tmp_path / "var"), "PYTHONPATH": str(BASE_DIR)}
    environ |= env
    code = f"from hcserver import settings as s; print({expr})"
    return subprocess.run(  # noqa: S603 - our interpreter, our code
        [sys.executable, "-c", code],
        env=environ,
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_embedded_default_generates_and_keeps_a_secret_key(tmp_path):
    first = load(tmp_path, "s.SECRET_KEY")
    second = load(tmp_path, "s.SECRET_KEY")
    key_file = tmp_path / "var" / "secret_key"
    assert first.stdout.strip() == key_file.read_text().strip()
    assert second.stdout == first.stdout
    assert len(first.stdout.strip()) >= 50
    assert key_file.stat().st_mode & 0o777 == 0o600


def test_secret_key_from_environment_wins(tmp_path):
    result = load(tmp_path, "s.SECRET_KEY", SECRET_KEY="from-env")
    assert result.stdout.strip() == "from-env"
    assert not (tmp_path / "var" / "secret_key").exists()


def test_database_url_without_secret_key_refuses_to_start(tmp_path):
    result = load(tmp_path, "1", DATABASE_URL="postgres://u@127.0.0.1:1/hc")
    assert result.returncode != 0
    assert "ImproperlyConfigured: SECRET_KEY is not set" in result.stderr
    assert not (tmp_path / "var" / "secret_key").exists()


def test_debug_allows_database_url_without_secret_key(tmp_path):
    result = load(
        tmp_path, "1", DATABASE_URL="postgres://u@127.0.0.1:1/hc", DEBUG="true"
    )
    assert result.returncode == 0, result.stderr


def test_embedded_default_uses_sqlite_in_data_dir(tmp_path):
    result = load(tmp_path, "s.DATABASES['default']['NAME']")
    assert result.stdout.strip() == str(tmp_path / "var" / "hc.sqlite3")


@pytest.mark.parametrize(
    ("value", "limit"), [(None, "100000"), ("5", "5"), ("none", "None"), ("0", "None")]
)
def test_ping_body_limit(tmp_path, value, limit):
    env = {} if value is None else {"PING_BODY_LIMIT": value}
    assert load(tmp_path, "s.PING_BODY_LIMIT", **env).stdout.strip() == limit


@pytest.mark.parametrize("value", ["lots", "-1"])
def test_bad_ping_body_limit_is_a_clear_error(tmp_path, value):
    result = load(tmp_path, "1", PING_BODY_LIMIT=value)
    assert result.returncode != 0
    assert "PING_BODY_LIMIT" in result.stderr


def test_without_redis_tasks_run_in_process(tmp_path):
    result = load(
        tmp_path, "s.CELERY_BROKER_URL, s.CELERY_TASK_ALWAYS_EAGER", REDIS_URL=""
    )
    assert result.stdout.strip() == "memory://localhost/ True"


@pytest.mark.django_db
def test_in_process_tasks_log_no_broker_warning(caplog):
    from checks import tasks

    with caplog.at_level(logging.WARNING, logger="kombu"):
        tasks.prune_pings.delay(0)
    assert not [r for r in caplog.records if r.name.startswith("kombu")]


def test_site_root_sets_allowed_hosts(tmp_path):
    result = load(tmp_path, "s.ALLOWED_HOSTS[0]", SITE_ROOT="https://hc.example.org/")
    assert result.stdout.strip() == "hc.example.org"


def test_connection_health_checks_can_be_turned_off(tmp_path):
    expr = "s.DATABASES['default']['CONN_HEALTH_CHECKS']"
    assert load(tmp_path, expr).stdout.strip() == "True"
    assert load(tmp_path, expr, DB_CONN_HEALTH_CHECKS="false").stdout.strip() == "False"
