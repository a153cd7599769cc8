"""The fixed-window attempt counter, on the local cache and on Redis."""

import uuid
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from checks.dashboard import ratelimit


def attempts(key: str, n: int, limit: int = 3, window: int = 60) -> list[bool]:
    return [
        ratelimit.allow(scope="test", key=key, limit=limit, window=window)
        for _ in range(n)
    ]


def test_allows_up_to_the_limit_then_refuses():
    assert attempts("a", 5) == [True, True, True, False, False]


def test_keys_are_counted_separately():
    attempts("a", 3)
    assert attempts("b", 1) == [True]


def test_window_expiry_allows_again():
    attempts("a", 4)
    with time_machine.travel(timezone.now() + timedelta(seconds=61)):
        assert attempts("a", 1) == [True]


@pytest.mark.redis
def test_counts_in_redis_are_shared_between_cache_clients(settings):
    from django.core.cache import caches

    assert "redis" in settings.CACHES["default"]["BACKEND"].lower()
    key = f"shared-{uuid.uuid4()}"
    attempts(key, 3)
    # A fresh connection (another web worker) sees the same counter.
    caches["default"].close()
    assert attempts(key, 1) == [False]


def test_email_normalization_folds_case_and_plus_alias():
    assert ratelimit.normalize_email(" Bob+x@Example.ORG ") == "bob@example.org"


def test_client_ip_ignores_forwarded_header_by_default(rf, settings):
    settings.TRUST_X_FORWARDED_FOR = False
    request = rf.get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="1.2.3.4")
    assert ratelimit.client_ip(request) == "10.0.0.1"


def test_client_ip_behind_trusted_proxy_is_first_forwarded_address(rf, settings):
    settings.TRUST_X_FORWARDED_FOR = True
    request = rf.get(
        "/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="1.2.3.4, 10.0.0.9"
    )
    assert ratelimit.client_ip(request) == "1.2.3.4"
