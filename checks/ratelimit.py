"""Per-destination rate limits: token buckets in the database, shared by all workers.

A channel kind declares a `RateLimit` (e.g. 6 messages a minute to one Telegram
chat) and how to name its destination (`ChannelKind.rate_key`). The bucket is
kept as one row per destination (`TokenBucket`) in the GCRA form: `full_at` is
when every token is back. Taking a token moves `full_at` on by one interval
under a row lock, so any number of workers share one budget; SQLite needs no
Redis for it.

Delivery never drops an alert over the limit: `defer()` reserves the next free
slot, puts the notification back to pending until then, and records the
deferral as an attempt that does not count toward giving up.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.db.models import F

from checks.models import (
    DeliveryAttempt,
    DeliveryState,
    Notification,
    TokenBucket,
)
from integrations import registry

if TYPE_CHECKING:
    from integrations.base import RateLimit

log = logging.getLogger(__name__)

# Buckets idle this long are deleted by the periodic prune (as upstream).
IDLE = timedelta(days=1)


def bucket_key(scope: str, destination: str) -> str:
    """The stored key: destinations (chat ids, user keys) are hashed, not kept."""
    digest = hashlib.sha256(destination.encode()).hexdigest()[:40]
    return f"{scope}:{digest}"


def _locked_bucket(key: str, now: datetime) -> TokenBucket:
    """The key's bucket row, locked until the transaction ends (created if new)."""
    bucket = TokenBucket.objects.select_for_update().filter(key=key).first()
    if bucket is None:
        try:
            with transaction.atomic():
                return TokenBucket.objects.create(key=key, full_at=now)
        except IntegrityError:
            # Another worker created it first: wait for its lock like everyone.
            bucket = TokenBucket.objects.select_for_update().get(key=key)
    return bucket


def reserve(key: str, limit: RateLimit, *, now: datetime) -> datetime:
    """Take the next token of `key`'s bucket: when it may be used (now or later)."""
    interval = limit.period / limit.count
    with transaction.atomic():
        bucket = _locked_bucket(key, now)
        # A message conforms once at most `count` intervals are outstanding.
        slot = max(now, bucket.full_at + interval - limit.period)
        bucket.full_at = max(bucket.full_at, now) + interval
        bucket.save(update_fields=["full_at"])
    return slot


def prune(*, now: datetime) -> int:
    """Delete buckets idle for a day (a full bucket is the same as none)."""
    deleted, _ = TokenBucket.objects.filter(full_at__lt=now - IDLE).delete()
    return deleted


def _limit_of(notification: Notification) -> tuple[str, RateLimit] | None:
    """The bucket key and limit of the notification's destination, if it has one."""
    channel = notification.channel
    if channel.disabled:
        return None  # delivery fails it anyway; no token spent
    try:
        kind = registry.get(channel.kind)
    except KeyError:
        return None
    if kind.rate_limit is None:
        return None
    destination = kind.rate_key(channel)
    if destination is None:
        return None  # e.g. invalid config: delivery reports the error
    return bucket_key(channel.kind, destination), kind.rate_limit


def defer(notification: Notification, *, now: datetime) -> str | None:
    """Before sending: take a token, or defer the claimed notification to its slot.

    None = go ahead and send. Otherwise the notification is pending again with
    `next_attempt` at a reserved slot (requeue() sends it then), the attempt
    records why, and the attempt count is given back: a deferral is not a failure.
    """
    found = _limit_of(notification)
    if found is None:
        return None
    key, limit = found
    held = notification.rate_slot
    if held is not None:
        Notification.objects.filter(pk=notification.pk).update(rate_slot=None)
        notification.rate_slot = None
        if now < held + limit.period:
            return None  # the slot reserved when it was deferred
        # A stale slot (workers were away): take a fresh one like anyone else.
    slot = reserve(key, limit, now=now)
    if slot <= now:
        return None
    reason = (
        f"Deferred by the rate limit ({limit.describe()}); "
        f"next attempt at {slot:%H:%M:%S} UTC"
    )
    with transaction.atomic():
        DeliveryAttempt.objects.create(
            notification_id=notification.pk,
            started=now,
            duration=timedelta(0),
            ok=False,
            error=reason,
        )
        Notification.objects.filter(
            pk=notification.pk, state=DeliveryState.SENDING, claimed_at=now
        ).update(
            state=DeliveryState.PENDING,
            next_attempt=slot,
            rate_slot=slot,
            claimed_at=None,
            attempts=F("attempts") - 1,
            error=reason,
        )
    log.info("notification %s: %s", notification.pk, reason)
    return DeliveryState.PENDING
