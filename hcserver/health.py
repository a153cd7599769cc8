"""`/health/`: readiness of this process for load balancers and container probes."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import lru_cache
from typing import TypedDict

import redis
from django.conf import settings
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse

HEALTH_PATH = "/health/"
# A probe must answer before the orchestrator's own timeout (Docker: 5 s by default).
REDIS_TIMEOUT = 2.0


class Health(TypedDict):
    status: str
    database: str
    redis: str


@lru_cache(maxsize=1)
def _redis_client(url: str) -> redis.Redis:
    return redis.Redis.from_url(
        url, socket_timeout=REDIS_TIMEOUT, socket_connect_timeout=REDIS_TIMEOUT
    )


def _database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        # The next request must not reuse a connection that just failed.
        connection.close_if_unusable_or_obsolete()
        return "unavailable"
    return "ok"


def _redis() -> str:
    if not settings.REDIS_URL:
        return "not configured"
    try:
        _redis_client(settings.REDIS_URL).ping()
    except redis.RedisError:
        return "unavailable"
    return "ok"


def check_health() -> Health:
    """Probe the database and (when configured) Redis."""
    database = _database()
    broker = _redis()
    healthy = database == "ok" and broker in ("ok", "not configured")
    return {
        "status": "ok" if healthy else "unavailable",
        "database": database,
        "redis": broker,
    }


def health_response() -> HttpResponse:
    health = check_health()
    response = HttpResponse(
        json.dumps(health),
        content_type="application/json",
        status=200 if health["status"] == "ok" else 503,
    )
    response["Cache-Control"] = "no-store"
    return response


class HealthMiddleware:
    """Answer `/health/` before host validation, sessions and the URL resolver.

    Probes reach the process by IP address or container name, which are usually not
    in ALLOWED_HOSTS; the answer reveals nothing but "ok"/"unavailable".
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info == HEALTH_PATH and request.method in ("GET", "HEAD"):
            return health_response()
        return self.get_response(request)
