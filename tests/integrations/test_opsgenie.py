"""Opsgenie: create an alert on down, close it by alias on up; regions."""

import pytest

from checks.models import Status
from integrations.base import DeliveryError
from integrations.opsgenie import OpsgenieConfig
from tests.integrations.helpers import send

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(receiver, settings):
    settings.OPSGENIE_API_URL_US = f"{receiver.url}/us"
    settings.OPSGENIE_API_URL_EU = f"{receiver.url}/eu"
    receiver.status = 202
    return receiver


def test_down_creates_an_alert_aliased_to_the_check(api, settings):
    notification = send("opsgenie", {"key": "k-123", "region": "us"})
    [request] = api.wait_for(1)
    assert (request.method, request.path) == ("POST", "/us/v2/alerts")
    assert request.headers["Authorization"] == "GenieKey k-123"
    body = request.json()
    check = notification.owner
    assert body["alias"] == check.unique_key
    assert body["message"] == 'The check "backup" is DOWN.'
    assert body["source"] == settings.SITE_NAME
    assert body["tags"] == ["db", "nightly"]
    assert body["details"]["URL"] == (
        f"{settings.SITE_ROOT}/checks/{check.code}/details/"
    )
    assert body["description"].startswith("Reason: success signal")


def test_up_closes_the_alert_by_alias(api, settings):
    notification = send("opsgenie", {"key": "k-123"}, status=Status.UP)
    [request] = api.wait_for(1)
    alias = notification.owner.unique_key
    assert request.method == "POST"
    assert request.path == f"/us/v2/alerts/{alias}/close?identifierType=alias"
    assert request.headers["Authorization"] == "GenieKey k-123"
    assert request.json() == {
        "source": settings.SITE_NAME,
        "note": 'The check "backup" is UP. The downtime lasted 2 hours 30 minutes.',
    }


def test_eu_region_uses_the_eu_api(api):
    send("opsgenie", {"key": "k", "region": "eu"})
    assert api.wait_for(1)[0].path == "/eu/v2/alerts"


def test_bad_key_401_is_permanent(api):
    api.status = 401
    with pytest.raises(DeliveryError) as e:
        send("opsgenie", {"key": "k"})
    assert e.value.permanent


@pytest.mark.parametrize("config", [{}, {"key": ""}, {"key": "k", "region": "ap"}])
def test_config_needs_a_key_and_a_known_region(config):
    assert not OpsgenieConfig(data=config).is_valid()
