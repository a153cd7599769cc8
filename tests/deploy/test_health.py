"""`/health/`: readiness for load balancers and container probes."""

import json
import os

import pytest

from tests.servers import free_port

pytestmark = pytest.mark.django_db


def test_health_is_ok_when_database_answers(client, settings):
    settings.REDIS_URL = ""
    response = client.get("/health/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert json.loads(response.content) == {
        "status": "ok",
        "database": "ok",
        "redis": "not configured",
    }


def test_health_answers_probes_by_a_host_not_in_allowed_hosts(client, settings):
    settings.REDIS_URL = ""
    settings.ALLOWED_HOSTS = ["hc.example.org"]
    response = client.get("/health/", HTTP_HOST="172.17.0.5:8000")
    assert response.status_code == 200


def test_health_is_unavailable_when_redis_is_unreachable(client, settings):
    settings.REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"
    response = client.get("/health/")
    assert response.status_code == 503
    assert json.loads(response.content)["redis"] == "unavailable"


@pytest.mark.redis
def test_health_checks_redis_when_configured(client, settings):
    settings.REDIS_URL = os.environ["REDIS_URL"]
    response = client.get("/health/")
    assert json.loads(response.content)["redis"] == "ok"


def test_health_is_not_cached(client, settings):
    settings.REDIS_URL = ""
    assert client.get("/health/")["Cache-Control"] == "no-store"


def test_health_rejects_post_like_any_unknown_url(client):
    assert client.post("/health/").status_code == 404
