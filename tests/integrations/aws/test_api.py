"""The read-only JSON API under /api/v3/aws/ (X-Api-Key)."""

import pytest

from checks import services
from integrations.aws import config
from tests.factories import AwsIntegrationFactory, AwsRuleFactory, ProjectFactory
from tests.integrations.aws import samples
from tests.integrations.aws.test_handler import NOW, apply

pytestmark = pytest.mark.django_db


@pytest.fixture
def rule():
    return AwsRuleFactory(asg_pattern="web-*")


def key_for(project, read_only=True):
    return services.create_api_key(project=project, name="k", read_only=read_only)[1]


def get(client, url, key):
    return client.get(url, HTTP_X_API_KEY=key) if key else client.get(url)


def test_list_shows_the_projects_integrations_and_rules(client, rule):
    key = key_for(rule.integration.project)
    response = get(client, "/api/v3/aws/integrations/", key)
    assert response.status_code == 200
    [doc] = response.json()["integrations"]
    assert doc["uuid"] == str(rule.integration.code)
    assert doc["rules"][0]["asg"] == "web-*"
    assert doc["rules"][0]["on_scale_in"] == "delete"
    assert doc["events_url"].endswith(
        f"/integrations/aws/{rule.integration.code}/events/"
    )


def test_list_without_key_is_unauthorized(client, rule):
    response = get(client, "/api/v3/aws/integrations/", None)
    assert response.status_code == 401
    assert response.json() == {"error": "missing api key"}


def test_list_with_wrong_key_is_unauthorized(client, rule):
    response = get(client, "/api/v3/aws/integrations/", "hcr_" + "x" * 28)
    assert response.json() == {"error": "wrong api key"}


def test_other_projects_integration_is_not_found(client, rule):
    key = key_for(ProjectFactory())
    url = f"/api/v3/aws/integrations/{rule.integration.code}/"
    assert get(client, url, key).status_code == 404
    assert get(client, "/api/v3/aws/integrations/", key).json() == {"integrations": []}


def test_detail_never_shows_the_push_secret(client, rule):
    secret = config.rotate_push_secret(integration=rule.integration)
    rule.integration.refresh_from_db()
    key = key_for(rule.integration.project)
    response = get(client, f"/api/v3/aws/integrations/{rule.integration.code}/", key)
    assert response.json()["push_secret_set"] is True
    assert secret not in response.content.decode()
    assert rule.integration.push_secret_hash not in response.content.decode()


def test_instances_lists_records_with_their_checks(client, rule):
    event = samples.asg_event(samples.LAUNCH, "i-0123456789abcdef0", "web-1")
    outcome = apply(rule.integration, event, now=NOW)
    key = key_for(rule.integration.project)
    url = f"/api/v3/aws/integrations/{rule.integration.code}/instances/"
    [doc] = get(client, url, key).json()["instances"]
    assert doc["instance_id"] == "i-0123456789abcdef0"
    assert doc["state"] == "active"
    assert doc["check"] is not None
    assert outcome.action == "created"


def test_post_is_not_allowed(client, rule):
    key = key_for(rule.integration.project, read_only=False)
    response = client.post("/api/v3/aws/integrations/", HTTP_X_API_KEY=key)
    assert response.status_code == 405


def test_integration_without_rules_lists_empty_rules(client):
    integration = AwsIntegrationFactory()
    key = key_for(integration.project)
    url = f"/api/v3/aws/integrations/{integration.code}/"
    assert get(client, url, key).json()["rules"] == []
