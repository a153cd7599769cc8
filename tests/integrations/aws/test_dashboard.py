"""AWS dashboard pages (issue 6 item 1): integrations and rules, edited in a browser."""

from datetime import timedelta

import pytest
from django.test import Client

from checks.models import Kind, key_digest
from integrations.aws.models import AwsInstance, AwsIntegration, AwsRule
from tests.dashboard.conftest import Team
from tests.factories import (
    AwsIntegrationFactory,
    AwsRuleFactory,
    ChannelFactory,
    CheckFactory,
)

pytestmark = pytest.mark.django_db

ROLE_ARN = "arn:aws:iam::111122223333:role/hc-poller"
QUEUE_URL = "https://sqs.eu-west-1.amazonaws.com/111122223333/hc-events"
INTEGRATION = {
    "name": "production",
    "regions": "eu-west-1 us-east-1",
    "queue_url": QUEUE_URL,
    "credentials": "role",
    "role_arn": ROLE_ARN,
    "sns_topic_arns": "",
    "enabled": "on",
    "push_secret": "keep",
}
RULE = {
    "asg_pattern": "web-*",
    "tag_key": "",
    "tag_value": "",
    "name_tpl": "{asg}/{instance_id}",
    "slug_tpl": "{asg}-{instance_id}",
    "tags_tpl": "aws {asg}",
    "desc_tpl": "",
    "kind": "simple",
    "timeout": "60",
    "grace": "10",
    "schedule": "",
    "tz": "UTC",
    "channel_mode": "all",
    "on_scale_in": "delete",
    "retention": "10080",
    "boot_deadline": "15",
}


def _base(team: Team) -> str:
    return f"/projects/{team.project.code}/aws"


def _write_urls(team: Team) -> list[str]:
    integration = AwsIntegrationFactory(project=team.project)
    rule = AwsRuleFactory(integration=integration)
    base = _base(team)
    return [
        f"{base}/add/",
        f"{base}/{integration.code}/edit/",
        f"{base}/{integration.code}/delete/",
        f"{base}/{integration.code}/rules/add/",
        f"{base}/rules/{rule.pk}/edit/",
        f"{base}/rules/{rule.pk}/delete/",
        f"{base}/rules/{rule.pk}/move/",
    ]


# Listing


def test_list_shows_integrations_rules_and_instances_with_check_link(client, team):
    integration = AwsIntegrationFactory(project=team.project, name="prod fleet")
    AwsRuleFactory(integration=integration, asg_pattern="batch-*")
    check = CheckFactory(project=team.project, name="batch-a/i-0abc")
    AwsInstance.objects.create(
        integration=integration, instance_id="i-0abc", asg="batch-a", target=check
    )
    client.force_login(team.reader)
    body = client.get(f"{_base(team)}/").content.decode()
    assert "prod fleet" in body
    assert "batch-*" in body
    assert "i-0abc" in body
    assert f"/checks/{check.code}/details/" in body


def test_list_never_shows_the_push_secret_digest(client, team):
    integration = AwsIntegrationFactory(
        project=team.project, push_secret_hash=key_digest("hcaws_secret")
    )
    client.force_login(team.owner)
    body = client.get(f"{_base(team)}/").content.decode()
    assert integration.push_secret_hash not in body
    assert "hcaws_secret" not in body


def test_list_hides_write_links_from_read_only_members(client, team):
    AwsIntegrationFactory(project=team.project)
    client.force_login(team.reader)
    body = client.get(f"{_base(team)}/").content.decode()
    assert "/edit/" not in body
    assert 'id="add-aws"' not in body


def test_list_omits_other_projects_integrations(client, team):
    AwsIntegrationFactory(name="someone else's fleet")
    client.force_login(team.owner)
    body = client.get(f"{_base(team)}/").content.decode()
    assert "someone else&#x27;s fleet" not in body
    assert "No AWS integrations yet" in body


def test_project_nav_links_to_the_aws_page(client, team):
    client.force_login(team.member)
    body = client.get(f"/projects/{team.project.code}/checks/").content.decode()
    assert f'href="{_base(team)}/"' in body


# Integrations


def test_add_integration_form_renders(client, team):
    client.force_login(team.member)
    response = client.get(f"{_base(team)}/add/")
    assert response.status_code == 200
    assert 'name="role_arn"' in response.content.decode()


def test_add_integration_creates_it_with_an_external_id(client, team):
    client.force_login(team.member)
    response = client.post(f"{_base(team)}/add/", INTEGRATION)
    assert response.status_code == 302
    integration = AwsIntegration.objects.get(project=team.project)
    assert integration.regions == "eu-west-1 us-east-1"
    assert integration.role_arn == ROLE_ARN
    assert len(integration.external_id) == 32


def test_add_integration_with_new_push_secret_shows_it_once(client, team):
    client.force_login(team.member)
    data = {**INTEGRATION, "push_secret": "new"}
    response = client.post(f"{_base(team)}/add/", data)
    body = response.content.decode()
    secret = body.split('id="push-secret">')[1].split("<")[0]
    integration = AwsIntegration.objects.get(project=team.project)
    assert integration.push_secret_hash == key_digest(secret)
    assert response["Cache-Control"] == "no-store"
    assert secret not in client.get(f"{_base(team)}/").content.decode()


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"regions": ""}, "This field is required."),
        ({"regions": "mars-1"}, "invalid regions"),
        ({"queue_url": "https://example.org/queue"}, "invalid queue URL"),
        ({"role_arn": "arn:aws:iam::1:role/x"}, "invalid role ARN"),
        ({"role_arn": ""}, "credentials=role needs a role ARN"),
        ({"credentials": "password"}, "Select a valid choice"),
        ({"sns_topic_arns": "topic"}, "invalid SNS topic ARN"),
        ({"name": "x" * 101}, "at most 100 characters"),
        ({"push_secret": "maybe"}, "Select a valid choice"),
    ],
)
def test_add_integration_shows_validation_errors_and_saves_nothing(
    client, team, change, error
):
    client.force_login(team.member)
    response = client.post(f"{_base(team)}/add/", {**INTEGRATION, **change})
    assert response.status_code == 400
    assert error in response.content.decode()
    assert not AwsIntegration.objects.exists()


def test_edit_integration_form_shows_values_but_not_the_secret(client, team):
    integration = AwsIntegrationFactory(
        project=team.project, role_arn=ROLE_ARN, push_secret_hash=key_digest("s")
    )
    client.force_login(team.member)
    body = client.get(f"{_base(team)}/{integration.code}/edit/").content.decode()
    assert ROLE_ARN in body
    assert integration.external_id in body
    assert integration.push_secret_hash not in body


def test_edit_integration_saves_changes(client, team):
    integration = AwsIntegrationFactory(project=team.project)
    client.force_login(team.member)
    data = {**INTEGRATION, "name": "renamed", "credentials": "default"}
    data.pop("enabled")
    response = client.post(f"{_base(team)}/{integration.code}/edit/", data)
    assert response.status_code == 302
    integration.refresh_from_db()
    assert (integration.name, integration.credentials) == ("renamed", "default")
    assert not integration.enabled


def test_edit_integration_can_turn_the_push_endpoint_off(client, team):
    integration = AwsIntegrationFactory(
        project=team.project, push_secret_hash=key_digest("s")
    )
    client.force_login(team.member)
    data = {**INTEGRATION, "push_secret": "off"}
    client.post(f"{_base(team)}/{integration.code}/edit/", data)
    integration.refresh_from_db()
    assert integration.push_secret_hash == ""


def test_edit_integration_with_invalid_input_changes_nothing(client, team):
    integration = AwsIntegrationFactory(project=team.project, name="fleet")
    client.force_login(team.member)
    data = {**INTEGRATION, "name": "renamed", "queue_url": "nope"}
    response = client.post(f"{_base(team)}/{integration.code}/edit/", data)
    assert response.status_code == 400
    assert "invalid queue URL" in response.content.decode()
    integration.refresh_from_db()
    assert integration.name == "fleet"


def test_delete_integration_asks_then_deletes(client, team):
    integration = AwsIntegrationFactory(project=team.project)
    client.force_login(team.member)
    url = f"{_base(team)}/{integration.code}/delete/"
    assert 'id="confirm-delete"' in client.get(url).content.decode()
    assert client.post(url).status_code == 302
    assert not AwsIntegration.objects.exists()


# Rules


def test_add_rule_form_renders_with_defaults(client, team):
    integration = AwsIntegrationFactory(project=team.project)
    client.force_login(team.member)
    body = client.get(f"{_base(team)}/{integration.code}/rules/add/").content.decode()
    assert 'value="{asg}-{instance_id}"' in body


def test_add_rule_creates_it_after_the_existing_ones(client, team):
    integration = AwsIntegrationFactory(project=team.project)
    first = AwsRuleFactory(integration=integration, position=3)
    client.force_login(team.member)
    response = client.post(f"{_base(team)}/{integration.code}/rules/add/", RULE)
    assert response.status_code == 302
    rule = AwsRule.objects.exclude(pk=first.pk).get()
    assert rule.position == 4
    assert rule.timeout == timedelta(hours=1)
    assert rule.grace == timedelta(minutes=10)
    assert rule.boot_deadline == timedelta(minutes=15)
    assert rule.channels == "*"


def test_add_cron_rule_with_chosen_channels(client, team):
    integration = AwsIntegrationFactory(project=team.project)
    channel = ChannelFactory(project=team.project)
    client.force_login(team.member)
    data = {
        **RULE,
        "kind": "cron",
        "schedule": "*/15 * * * *",
        "tz": "Europe/Riga",
        "channel_mode": "some",
        "channels": [str(channel.code)],
        "on_scale_in": "pause",
        "boot_deadline": "",
    }
    client.post(f"{_base(team)}/{integration.code}/rules/add/", data)
    rule = AwsRule.objects.get()
    assert (rule.kind, rule.schedule, rule.tz) == (
        Kind.CRON,
        "*/15 * * * *",
        "Europe/Riga",
    )
    assert rule.channels == str(channel.code)
    assert rule.on_scale_in == "pause"
    assert rule.boot_deadline is None


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"asg_pattern": ""}, "needs an Auto Scaling group"),
        ({"slug_tpl": "{asg}"}, "must contain {instance_id}"),
        ({"name_tpl": "{nope}"}, "unknown placeholder"),
        ({"name_tpl": ""}, "This field is required."),
        ({"timeout": "0"}, "greater than or equal to 1"),
        ({"timeout": "abc"}, "Enter a whole number."),
        ({"grace": "600000"}, "grace must be between"),
        ({"kind": "cron"}, "Enter a cron or OnCalendar schedule."),
        ({"kind": "cron", "schedule": "bogus"}, "not a valid OnCalendar expression"),
        (
            {"kind": "cron", "schedule": "* * * * *", "tz": "Mars/Base"},
            "is not a valid time zone",
        ),
        ({"on_scale_in": "explode"}, "Select a valid choice"),
        ({"retention": "-1"}, "greater than or equal to 0"),
        ({"boot_deadline": "0"}, "greater than or equal to 1"),
        ({"channel_mode": "some"}, "Choose at least one integration."),
        ({"channel_mode": "some", "channels": ["x"]}, "Select a valid choice"),
    ],
)
def test_add_rule_shows_validation_errors_and_saves_nothing(
    client, team, change, error
):
    integration = AwsIntegrationFactory(project=team.project)
    client.force_login(team.member)
    url = f"{_base(team)}/{integration.code}/rules/add/"
    response = client.post(url, {**RULE, **change})
    assert response.status_code == 400
    assert error in response.content.decode()
    assert not AwsRule.objects.exists()


def test_add_rule_refuses_another_projects_channel(client, team):
    integration = AwsIntegrationFactory(project=team.project)
    foreign = ChannelFactory()
    client.force_login(team.member)
    data = {**RULE, "channel_mode": "some", "channels": [str(foreign.code)]}
    response = client.post(f"{_base(team)}/{integration.code}/rules/add/", data)
    assert response.status_code == 400
    assert not AwsRule.objects.exists()


def test_edit_rule_form_shows_its_values(client, team):
    rule = AwsRuleFactory(
        integration__project=team.project, asg_pattern="api-*", grace=timedelta(hours=2)
    )
    client.force_login(team.member)
    body = client.get(f"{_base(team)}/rules/{rule.pk}/edit/").content.decode()
    assert 'value="api-*"' in body
    assert 'value="120"' in body


def test_edit_rule_saves_changes_and_clears_the_boot_deadline(client, team):
    rule = AwsRuleFactory(
        integration__project=team.project, boot_deadline=timedelta(minutes=5)
    )
    client.force_login(team.member)
    data = {**RULE, "asg_pattern": "api-*", "on_scale_in": "keep", "boot_deadline": ""}
    response = client.post(f"{_base(team)}/rules/{rule.pk}/edit/", data)
    assert response.status_code == 302
    rule.refresh_from_db()
    assert (rule.asg_pattern, rule.on_scale_in) == ("api-*", "keep")
    assert rule.boot_deadline is None


def test_edit_rule_with_invalid_input_changes_nothing(client, team):
    rule = AwsRuleFactory(integration__project=team.project, asg_pattern="api-*")
    client.force_login(team.member)
    data = {**RULE, "asg_pattern": "db-*", "slug_tpl": "{asg}"}
    response = client.post(f"{_base(team)}/rules/{rule.pk}/edit/", data)
    assert response.status_code == 400
    assert "must contain {instance_id}" in response.content.decode()
    rule.refresh_from_db()
    assert rule.asg_pattern == "api-*"


def test_edit_rule_back_to_simple_kind(client, team):
    rule = AwsRuleFactory(
        integration__project=team.project, kind=Kind.CRON, schedule="0 * * * *"
    )
    client.force_login(team.member)
    client.post(f"{_base(team)}/rules/{rule.pk}/edit/", RULE)
    rule.refresh_from_db()
    assert rule.kind == Kind.SIMPLE


def test_delete_rule_asks_then_deletes(client, team):
    rule = AwsRuleFactory(integration__project=team.project)
    client.force_login(team.member)
    url = f"{_base(team)}/rules/{rule.pk}/delete/"
    assert 'id="confirm-delete"' in client.get(url).content.decode()
    assert client.post(url).status_code == 302
    assert not AwsRule.objects.exists()


def test_move_rule_up_reorders_the_rules(client, team):
    integration = AwsIntegrationFactory(project=team.project)
    a, b, c = (AwsRuleFactory(integration=integration) for _ in range(3))
    client.force_login(team.member)
    url = f"{_base(team)}/rules/{c.pk}/move/"
    assert client.post(url, {"direction": "up"}).status_code == 302
    assert list(integration.rules.values_list("pk", flat=True)) == [a.pk, c.pk, b.pk]


def test_move_first_rule_up_changes_nothing(client, team):
    integration = AwsIntegrationFactory(project=team.project)
    a, b = (AwsRuleFactory(integration=integration) for _ in range(2))
    client.force_login(team.member)
    client.post(f"{_base(team)}/rules/{a.pk}/move/", {"direction": "up"})
    assert list(integration.rules.values_list("pk", flat=True)) == [a.pk, b.pk]


def test_move_rule_with_unknown_direction_is_bad_request(client, team):
    rule = AwsRuleFactory(integration__project=team.project)
    client.force_login(team.member)
    url = f"{_base(team)}/rules/{rule.pk}/move/"
    assert client.post(url, {"direction": "sideways"}).status_code == 400


def test_move_rule_refuses_get(client, team):
    rule = AwsRuleFactory(integration__project=team.project)
    client.force_login(team.member)
    assert client.get(f"{_base(team)}/rules/{rule.pk}/move/").status_code == 405


# Access


def _request(client, url: str):
    if url.endswith("/move/"):
        return client.post(url, {"direction": "up"})
    return client.post(url, {})


def test_every_view_is_not_found_for_another_projects_user(client, team):
    urls = _write_urls(team)
    client.force_login(team.stranger)
    assert client.get(f"{_base(team)}/").status_code == 404
    for url in urls:
        assert _request(client, url).status_code == 404, url
        if not url.endswith("/move/"):
            assert client.get(url).status_code == 404, url


def test_strangers_own_project_url_does_not_reach_our_rows(client, team):
    integration = AwsIntegrationFactory(project=team.project)
    rule = AwsRuleFactory(integration=integration)
    stranger_project = team.stranger.projects.first()
    client.force_login(team.stranger)
    base = f"/projects/{stranger_project.code}/aws"
    for url in (
        f"{base}/{integration.code}/edit/",
        f"{base}/{integration.code}/delete/",
        f"{base}/{integration.code}/rules/add/",
        f"{base}/rules/{rule.pk}/edit/",
        f"{base}/rules/{rule.pk}/delete/",
        f"{base}/rules/{rule.pk}/move/",
    ):
        assert _request(client, url).status_code == 404, url
    assert AwsRule.objects.filter(pk=rule.pk).exists()


def test_every_write_is_forbidden_to_a_read_only_member(client, team):
    urls = _write_urls(team)
    client.force_login(team.reader)
    for url in urls:
        assert _request(client, url).status_code == 403, url
        if not url.endswith("/move/"):
            assert client.get(url).status_code == 403, url
    assert AwsIntegration.objects.count() == 1
    assert AwsRule.objects.count() == 1


def test_anonymous_users_are_sent_to_log_in(client, team):
    response = client.get(f"{_base(team)}/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_writes_need_a_csrf_token(team):
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(team.member)
    response = csrf_client.post(f"{_base(team)}/add/", INTEGRATION)
    assert response.status_code == 403
    assert not AwsIntegration.objects.exists()
