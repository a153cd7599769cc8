"""PagerDuty Events API v2: trigger on down, resolve on up, same dedup_key."""

import pytest

from checks.models import Status
from integrations.base import DeliveryError
from integrations.pagerduty import PagerDutyConfig
from tests.integrations.helpers import send

pytestmark = pytest.mark.django_db
KEY = "a" * 32


@pytest.fixture
def events(receiver, settings):
    settings.PAGERDUTY_API_URL = receiver.url
    receiver.status = 202
    return receiver


def test_down_triggers_an_event(events, settings):
    notification = send("pagerduty", {"routing_key": KEY})
    [request] = events.wait_for(1)
    assert (request.method, request.path) == ("POST", "/v2/enqueue")
    body = request.json()
    check = notification.owner
    url = f"{settings.SITE_ROOT}/checks/{check.code}/details/"
    assert body["routing_key"] == KEY
    assert body["event_action"] == "trigger"
    assert body["dedup_key"] == check.unique_key
    assert body["payload"]["summary"] == 'The check "backup" is DOWN.'
    assert body["payload"]["severity"] == "critical"
    assert body["payload"]["source"] == settings.SITE_NAME
    assert body["payload"]["custom_details"]["Reason"] == (
        "success signal did not arrive on time, grace time passed"
    )
    assert body["links"] == [{"href": url, "text": f"View in {settings.SITE_NAME}"}]


def test_up_resolves_the_same_incident(events):
    notification = send("pagerduty", {"routing_key": KEY}, status=Status.UP)
    body = events.wait_for(1)[0].json()
    assert body == {
        "routing_key": KEY,
        "event_action": "resolve",
        "dedup_key": notification.owner.unique_key,
    }


def test_dedup_key_does_not_reveal_the_ping_uuid(events):
    notification = send("pagerduty", {"routing_key": KEY})
    assert notification.owner.code.hex not in events.wait_for(1)[0].body.decode()


def test_invalid_routing_key_400_is_permanent(events):
    events.status = 400
    with pytest.raises(DeliveryError) as e:
        send("pagerduty", {"routing_key": KEY})
    assert e.value.permanent


def test_rate_limit_429_is_transient(events):
    events.status = 429
    with pytest.raises(DeliveryError) as e:
        send("pagerduty", {"routing_key": KEY})
    assert not e.value.permanent


@pytest.mark.parametrize("key", ["", "short", "a" * 33, "!" * 32])
def test_config_needs_a_32_character_routing_key(key):
    serializer = PagerDutyConfig(data={"routing_key": key})
    assert not serializer.is_valid()
    assert "routing_key" in serializer.errors
