"""CORS, methods, status endpoint, rate limiting (spec 4.3, 4.6.14)."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from tests.factories import CheckFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("path", "methods"),
    [
        ("checks/", "GET, POST, OPTIONS"),
        ("checks/07c2f548-9850-4b27-af5d-6c9dc157ec02", "POST, DELETE, GET, OPTIONS"),
        ("checks/07c2f548-9850-4b27-af5d-6c9dc157ec02/pause", "POST, OPTIONS"),
        ("badges/", "GET, OPTIONS"),
    ],
)
def test_options_is_204_with_cors_headers_and_no_key(api, path, methods):
    response = api.call("OPTIONS", path, key=None)
    assert response.status_code == 204
    assert response["Access-Control-Allow-Origin"] == "*"
    assert response["Access-Control-Allow-Headers"] == "X-Api-Key"
    assert response["Access-Control-Allow-Methods"] == methods
    assert response["Access-Control-Max-Age"] == "600"


def test_responses_carry_cors_headers(api):
    assert api.get("checks/")["Access-Control-Allow-Origin"] == "*"


def test_error_responses_carry_cors_headers(api):
    assert api.get("checks/", key=None)["Access-Control-Allow-Origin"] == "*"


@pytest.mark.parametrize("method", ["PUT", "PATCH", "HEAD"])
def test_unsupported_method_is_empty_405_before_auth(api, method):
    response = api.call(method, "checks/", key=None)
    assert response.status_code == 405
    assert response.content == b""
    assert response["Access-Control-Allow-Origin"] == "*"


@pytest.mark.parametrize("v", [1, 2, 3])
def test_status_answers_ok_without_a_key(api, v):
    response = api.get("status/", key=None, v=v)
    assert (response.status_code, response.content) == (200, b"OK")


def test_status_has_no_cors_headers(api):
    assert "Access-Control-Allow-Origin" not in api.get("status/", key=None)


def test_paths_without_upstreams_trailing_slash_are_not_found(api, project):
    check = CheckFactory(project=project)
    assert api.post(f"checks/{check.code}/pause/").status_code == 404


@pytest.fixture
def rate_limit(settings):
    settings.API_RATE_LIMIT = 2
    cache.clear()
    yield
    cache.clear()


def test_rate_limit_is_off_by_default(api):
    statuses = {api.get("checks/").status_code for _ in range(30)}
    assert statuses == {200}


def test_rate_limit_answers_429_json_when_exceeded(api, rate_limit):
    api.get("checks/")
    api.get("checks/")
    response = api.get("checks/")
    assert response.status_code == 429
    assert response.json() == {"error": "rate limit exceeded"}
    assert int(response["Retry-After"]) <= 60


def test_rate_limit_counts_per_key(api, ro_key, rate_limit):
    api.get("checks/")
    api.get("checks/")
    assert api.get("checks/", key=ro_key).status_code == 200


@pytest.mark.redis
def test_rate_limit_is_shared_through_redis(api, rate_limit, settings):
    import os

    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": os.environ["REDIS_URL"],
        }
    }
    from django.core.cache import caches

    caches["default"].clear()
    api.get("checks/")
    api.get("checks/")
    assert api.get("checks/").status_code == 429
    caches["default"].clear()
