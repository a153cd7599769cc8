"""deploy/gunicorn.conf.py: processes and threads from the environment."""

import runpy
from pathlib import Path

import pytest

CONF = str(Path(__file__).resolve().parents[2] / "deploy" / "gunicorn.conf.py")


def test_gunicorn_workers_and_threads_come_from_env(monkeypatch):
    monkeypatch.setenv("WEB_WORKER", "gthread")
    monkeypatch.setenv("WEB_CONCURRENCY", "5")
    monkeypatch.setenv("GUNICORN_THREADS", "3")
    conf = runpy.run_path(CONF)
    assert (conf["workers"], conf["threads"]) == (5, 3)


def test_gunicorn_binds_port_from_env(monkeypatch):
    monkeypatch.delenv("GUNICORN_BIND", raising=False)
    monkeypatch.setenv("PORT", "8123")
    assert runpy.run_path(CONF)["bind"] == "0.0.0.0:8123"


def test_gunicorn_logs_json_when_log_format_is_json(monkeypatch):
    monkeypatch.setenv("LOG_FORMAT", "json")
    conf = runpy.run_path(CONF)
    formatter = conf["logconfig_dict"]["formatters"]["json"]
    assert formatter["()"] == "hcserver.logs.JsonFormatter"


def test_gunicorn_access_log_is_off_by_default(monkeypatch):
    monkeypatch.delenv("GUNICORN_ACCESS_LOG", raising=False)
    assert runpy.run_path(CONF)["accesslog"] is None


def test_gunicorn_runs_the_asgi_application_by_default(monkeypatch):
    monkeypatch.delenv("WEB_WORKER", raising=False)
    conf = runpy.run_path(CONF)
    assert (conf["worker_class"], conf["wsgi_app"]) == (
        "hcserver.worker.Worker",
        "hcserver.asgi:application",
    )


def test_gunicorn_runs_the_wsgi_application_on_threads_when_asked(monkeypatch):
    monkeypatch.setenv("WEB_WORKER", "gthread")
    conf = runpy.run_path(CONF)
    assert (conf["worker_class"], conf["wsgi_app"]) == (
        "gthread",
        "hcserver.wsgi:application",
    )


def test_gunicorn_refuses_an_unknown_worker(monkeypatch):
    monkeypatch.setenv("WEB_WORKER", "eventlet")
    with pytest.raises(SystemExit, match="WEB_WORKER"):
        runpy.run_path(CONF)
