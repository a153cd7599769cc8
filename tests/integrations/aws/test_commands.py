"""Management commands that configure integrations and rules."""

import io
import json

import pytest
from django.core.management import CommandError, call_command

from integrations.aws.models import AwsIntegration, AwsRule
from tests.factories import AwsIntegrationFactory, ProjectFactory

pytestmark = pytest.mark.django_db

ROLE = "arn:aws:iam::123456789012:role/hc-poller"
QUEUE = "https://sqs.eu-west-1.amazonaws.com/123456789012/hc-events"


def run(*args):
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_create_integration_prints_it_with_a_new_external_id():
    project = ProjectFactory()
    out = run(
        "aws_integration",
        "create",
        "--project",
        str(project.code),
        "--role-arn",
        ROLE,
        "--queue-url",
        QUEUE,
        "--regions",
        "eu-west-1",
    )
    integration = AwsIntegration.objects.get()
    assert integration.project == project
    assert len(integration.external_id) == 32
    assert f"external id: {integration.external_id}" in out


def test_create_with_push_secret_shows_it_once_and_stores_a_digest():
    project = ProjectFactory()
    out = run(
        "aws_integration",
        "create",
        "--project",
        str(project.code),
        "--credentials",
        "none",
        "--push-secret",
    )
    secret = out.split("push secret (shown once): ")[1].strip()
    integration = AwsIntegration.objects.get()
    assert integration.push_secret_hash
    assert secret not in integration.push_secret_hash


def test_create_with_bad_role_arn_fails_and_creates_nothing():
    project = ProjectFactory()
    with pytest.raises(CommandError, match="role ARN"):
        run(
            "aws_integration",
            "create",
            "--project",
            str(project.code),
            "--role-arn",
            "arn:aws:iam::12:user/x",
        )
    assert not AwsIntegration.objects.exists()


def test_role_credentials_need_a_role_arn():
    project = ProjectFactory()
    with pytest.raises(CommandError, match="needs a role ARN"):
        run("aws_integration", "create", "--project", str(project.code))


def test_edit_integration_disables_it():
    integration = AwsIntegrationFactory()
    run("aws_integration", "edit", str(integration.code), "--disable")
    integration.refresh_from_db()
    assert integration.enabled is False


def test_add_rule_with_group_glob_and_policy():
    integration = AwsIntegrationFactory()
    out = run(
        "aws_rule",
        "add",
        str(integration.code),
        "--asg",
        "batch-*",
        "--timeout",
        "3600",
        "--grace",
        "600",
        "--on-scale-in",
        "pause",
        "--boot-deadline",
        "900",
    )
    rule = AwsRule.objects.get()
    assert json.loads(out)["id"] == rule.pk
    assert (rule.asg_pattern, rule.on_scale_in) == ("batch-*", "pause")
    assert rule.boot_deadline.total_seconds() == 900


def test_add_rule_with_cron_schedule_makes_cron_checks():
    integration = AwsIntegrationFactory()
    run(
        "aws_rule",
        "add",
        str(integration.code),
        "--tag",
        "hc=batch",
        "--schedule",
        "*/15 * * * *",
        "--tz",
        "Europe/Riga",
    )
    rule = AwsRule.objects.get()
    assert (rule.kind, rule.tag_key, rule.tag_value) == ("cron", "hc", "batch")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "group"),
        (["--asg", "web", "--slug-template", "{asg}"], "instance_id"),
        (["--asg", "web", "--name-template", "{hostname}"], "placeholder"),
        (["--asg", "web", "--timeout", "5"], "timeout"),
        (["--asg", "web", "--schedule", "not cron"], "not a valid"),
        (["--asg", "web", "--channels", "nope"], "channels"),
    ],
)
def test_invalid_rule_is_refused(args, message):
    integration = AwsIntegrationFactory()
    with pytest.raises(CommandError, match=message):
        run("aws_rule", "add", str(integration.code), *args)
    assert not AwsRule.objects.exists()


def test_edit_rule_changes_scale_in_policy():
    integration = AwsIntegrationFactory()
    run("aws_rule", "add", str(integration.code), "--asg", "web")
    rule = AwsRule.objects.get()
    run("aws_rule", "edit", str(rule.pk), "--on-scale-in", "keep")
    rule.refresh_from_db()
    assert rule.on_scale_in == "keep"


def test_poll_once_without_integrations_does_nothing():
    assert run("aws_poll", "--once") == ""
