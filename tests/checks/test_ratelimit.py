"""Per-destination rate limits (checks/ratelimit.py): DB token buckets and deferral."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection

from checks import alerts, ratelimit, services
from checks.models import DeliveryAttempt, DeliveryState, TokenBucket
from integrations import registry
from integrations.base import RateLimit
from tests.integrations.helpers import notification_for

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
SIX_A_MINUTE = RateLimit(6, timedelta(minutes=1), "test chat")


def _reserve(n: int, key: str = "k", now: datetime = NOW) -> list[datetime]:
    return [ratelimit.reserve(key, SIX_A_MINUTE, now=now) for _ in range(n)]


# --- the bucket ----------------------------------------------------------------------


def test_reserve_gives_a_burst_of_count_tokens_at_once():
    assert _reserve(6) == [NOW] * 6


def test_reserve_beyond_the_burst_spaces_slots_by_the_refill_interval():
    slots = _reserve(9)[6:]
    assert slots == [NOW + timedelta(seconds=s) for s in (10, 20, 30)]


def test_bucket_refills_linearly():
    _reserve(6)
    later = NOW + timedelta(seconds=20)
    assert _reserve(3, now=later) == [later, later, later + timedelta(seconds=10)]


def test_buckets_of_other_keys_are_independent():
    _reserve(6, key="a")
    assert _reserve(1, key="b") == [NOW]


def test_bucket_key_does_not_store_the_destination():
    key = ratelimit.bucket_key("pushover", "uQiRzpo4DXghDmr9QzzfQu27cmVRsG")
    assert key.startswith("pushover:")
    assert "uQiRzpo4" not in key


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_workers_share_one_bucket():
    slots: list[datetime] = []
    errors: list[BaseException] = []

    def take() -> None:
        try:
            slots.append(ratelimit.reserve("shared", SIX_A_MINUTE, now=NOW))
        except BaseException as e:  # noqa: BLE001 - reported by the assert below
            errors.append(e)
        finally:
            connection.close()

    threads = [threading.Thread(target=take) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    expected = [NOW] * 6 + [NOW + timedelta(seconds=10 * i) for i in range(1, 7)]
    assert sorted(slots) == expected


def test_prune_deletes_buckets_idle_for_a_day():
    _reserve(1, key="old", now=NOW - timedelta(days=2))
    _reserve(1, key="recent", now=NOW - timedelta(hours=1))
    assert ratelimit.prune(now=NOW) == 1
    assert list(TokenBucket.objects.values_list("key", flat=True)) == ["recent"]


def test_prune_history_prunes_buckets():
    _reserve(1, now=NOW - timedelta(days=2))
    assert services.prune_history(now=NOW)["token_buckets"] == 1


# --- the kinds that declare a limit --------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "what"),
    [
        ("telegram", "Telegram chat"),
        ("pushover", "Pushover user"),
        ("ntfy", "ntfy topic"),
    ],
)
def test_kind_declares_six_a_minute(kind, what):
    limit = registry.get(kind).rate_limit
    assert (limit.count, limit.period, limit.what) == (6, timedelta(minutes=1), what)


def test_ntfy_topics_on_different_servers_are_different_destinations():
    kind = registry.get("ntfy")
    a = notification_for("ntfy", {"topic": "t", "url": "https://a.example"})
    b = notification_for("ntfy", {"topic": "t", "url": "https://b.example"})
    assert kind.rate_key(a.channel) != kind.rate_key(b.channel)


def test_webhook_has_no_limit():
    assert registry.get("webhook").rate_limit is None


# --- delivery: over the limit is deferred, never dropped ------------------------------


@pytest.fixture
def bot(http_receiver, settings):
    settings.ALLOW_PRIVATE_TARGETS = True
    settings.TELEGRAM_API_URL = http_receiver.url
    settings.TELEGRAM_TOKEN = "123:ABC"
    return http_receiver


def _deliver_to_chat(n: int, chat: int = 42, now: datetime = NOW) -> list:
    notifications = []
    for _ in range(n):
        notification = notification_for("telegram", {"id": chat})
        notification.next_attempt = now
        notification.save(update_fields=["next_attempt"])
        alerts.deliver(notification.pk, now=now)
        notification.refresh_from_db()
        notifications.append(notification)
    return notifications


def test_seventh_message_a_minute_to_a_chat_is_deferred_not_sent(bot):
    notifications = _deliver_to_chat(7)
    assert [n.state for n in notifications] == [DeliveryState.SENT] * 6 + [
        DeliveryState.PENDING
    ]
    assert len(bot.wait_for(6)) == 6


def test_deferred_notification_waits_for_its_slot(bot):
    deferred = _deliver_to_chat(7)[-1]
    assert deferred.next_attempt == NOW + timedelta(seconds=10)


def test_deferral_is_recorded_as_an_attempt_with_its_reason(bot):
    deferred = _deliver_to_chat(7)[-1]
    attempt = DeliveryAttempt.objects.get(notification=deferred)
    assert not attempt.ok
    assert attempt.error == (
        "Deferred by the rate limit (at most 6 messages a minute to one "
        "Telegram chat); next attempt at 12:00:10 UTC"
    )
    assert deferred.error == attempt.error


def test_deferral_does_not_count_as_an_attempt(bot):
    assert _deliver_to_chat(7)[-1].attempts == 0


def test_deferral_past_the_retry_horizon_is_not_given_up(bot, settings):
    settings.ALERT_RETRY_HORIZON = 1
    deferred = _deliver_to_chat(7)[-1]
    assert deferred.state == DeliveryState.PENDING


def test_deferral_leaves_the_channel_without_a_problem(bot):
    deferred = _deliver_to_chat(7)[-1]
    deferred.channel.refresh_from_db()
    assert deferred.channel.last_error == ""


def test_deferred_notification_is_sent_at_its_slot(bot):
    deferred = _deliver_to_chat(7)[-1]
    slot = NOW + timedelta(seconds=10)
    assert alerts.deliver(deferred.pk, now=slot) == DeliveryState.SENT
    assert len(bot.wait_for(7)) == 7


def test_deferred_notification_uses_its_reserved_slot_not_a_new_token(bot):
    deferred = _deliver_to_chat(7)[-1]
    before = TokenBucket.objects.get().full_at
    alerts.deliver(deferred.pk, now=NOW + timedelta(seconds=10))
    assert TokenBucket.objects.get().full_at == before


def test_deferred_notifications_get_one_slot_each(bot):
    later = _deliver_to_chat(9)[6:]
    assert [n.next_attempt for n in later] == [
        NOW + timedelta(seconds=s) for s in (10, 20, 30)
    ]


def test_another_chat_is_not_held_up(bot):
    _deliver_to_chat(6, chat=1)
    [other] = _deliver_to_chat(1, chat=2)
    assert other.state == DeliveryState.SENT


def test_failure_after_a_deferral_counts_one_attempt(bot):
    deferred = _deliver_to_chat(7)[-1]
    bot.status = 500
    alerts.deliver(deferred.pk, now=NOW + timedelta(seconds=10))
    deferred.refresh_from_db()
    assert (deferred.state, deferred.attempts) == (DeliveryState.PENDING, 1)
