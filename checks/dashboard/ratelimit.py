"""Fixed-window attempt counters in the Django cache (Redis when configured)."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

HOUR = 3600
DAY = 24 * HOUR


def allow(*, scope: str, key: str, limit: int, window: int) -> bool:
    """Count one attempt for (scope, key); False once over `limit` in the window."""
    # Hash the key: addresses and IPs are personal data and cache keys show in tools.
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    cache_key = f"hc:rl:{scope}:{digest}"
    if cache.add(cache_key, 1, timeout=window):
        return True
    try:
        count = cache.incr(cache_key)
    except ValueError:
        # The window expired between add() and incr(): this attempt opens a new one.
        cache.add(cache_key, 1, timeout=window)
        return True
    return count <= limit


def client_ip(request: HttpRequest) -> str:
    """The client's address; X-Forwarded-For only behind a trusted proxy."""
    if settings.TRUST_X_FORWARDED_FOR:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[0].strip()
    return str(request.META.get("REMOTE_ADDR", ""))


def normalize_email(address: str) -> str:
    """One counter per mailbox: case and +aliases do not give fresh attempts."""
    local, _, domain = address.strip().lower().partition("@")
    return f"{local.split('+')[0]}@{domain}"
