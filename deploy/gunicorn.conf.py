"""Gunicorn settings for the `web` role; every value can be set from the environment.

See docs/configuration.md ("Web server") and docs/performance.md for how the
defaults were chosen.
"""

import os
from pathlib import Path


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, "") or default)


bind = os.environ.get("GUNICORN_BIND") or f"0.0.0.0:{_int('PORT', 8000)}"
# "asgi" (default): gunicorn's event-loop worker with hcserver.asgi, pings answered on
# the loop; "gthread": a thread per request with hcserver.wsgi. Both run Django for
# everything but pings in GUNICORN_THREADS threads (docs/performance.md).
WEB_WORKERS = {
    "asgi": "hcserver.asgi:application",
    "gthread": "hcserver.wsgi:application",
}
web_worker = os.environ.get("WEB_WORKER", "") or "asgi"
if web_worker not in WEB_WORKERS:
    raise SystemExit(
        f"WEB_WORKER={web_worker!r}: expected one of {sorted(WEB_WORKERS)}"
    )
# asgi: gunicorn's asgi worker on an event loop that deals connections out between
# the processes (hcserver/worker.py).
worker_class = "hcserver.worker.Worker" if web_worker == "asgi" else web_worker
wsgi_app = WEB_WORKERS[web_worker]
# Processes x threads; each thread holds its own persistent database connection.
workers = _int("WEB_CONCURRENCY", 2)
threads = _int("GUNICORN_THREADS", 8)
if web_worker == "asgi":
    # The asgi worker has no thread setting: hcserver.asgi reads GUNICORN_THREADS.
    del threads
timeout = _int("GUNICORN_TIMEOUT", 30)
# SIGTERM: stop accepting, let requests in flight finish for this long.
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
keepalive = _int("GUNICORN_KEEPALIVE", 5)
# Recycle a worker after this many requests (0 = never), jittered so they don't all
# restart together.
max_requests = _int("GUNICORN_MAX_REQUESTS", 0)
max_requests_jitter = max_requests // 10
accesslog = (
    "-" if os.environ.get("GUNICORN_ACCESS_LOG", "").lower() in ("1", "true") else None
)
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
# Heartbeat files on tmpfs: a worker blocked on a slow disk is not killed for it.
if Path("/dev/shm").is_dir():  # noqa: S108 - tmpfs, not a shared temp file
    worker_tmp_dir = "/dev/shm"  # noqa: S108
# Behind a reverse proxy on another host, list its address (default: local only).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")

if os.environ.get("LOG_FORMAT", "plain") == "json":
    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "hcserver.logs.JsonFormatter"}},
        "handlers": {
            "console": {"class": "logging.StreamHandler", "formatter": "json"}
        },
        "loggers": {
            "gunicorn.error": {"handlers": ["console"], "propagate": False},
            "gunicorn.access": {"handlers": ["console"], "propagate": False},
        },
    }
