"""End to end against moto in server mode (a separate process), as boto3 sees AWS.

moto emits no EC2/Auto Scaling events: after changing a group, the test publishes
the events AWS would send with EventBridge put_events; rules route them to SQS.
"""

import json
import logging
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from checks import alerts, services
from checks.models import Check, Notification, Status
from integrations.aws import clients, config, reconcile
from integrations.aws.models import AwsInstance, InstanceState
from tests.factories import AwsIntegrationFactory, AwsRuleFactory, ChannelFactory
from tests.integrations.aws import samples

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

ASG_PATTERN = {
    "source": ["aws.autoscaling"],
    "detail-type": [samples.LAUNCH, samples.TERMINATE, samples.LAUNCH_HOOK],
}
EC2_PATTERN = {
    "source": ["aws.ec2"],
    "detail-type": ["EC2 Instance State-change Notification"],
    "detail": {"state": ["running", "terminated"]},
}


@pytest.fixture
def fleet(aws, settings):
    """Group web-fleet at 0, a queue fed by two EventBridge rules, an integration."""
    settings.AWS_RECONCILE_MIN_AGE = 0
    ec2, autoscaling, sqs, events = (
        aws("ec2"),
        aws("autoscaling"),
        aws("sqs"),
        aws("events"),
    )
    image = ec2.register_image(Name="base", RootDeviceName="/dev/sda1")["ImageId"]
    ec2.create_launch_template(
        LaunchTemplateName="web",
        LaunchTemplateData={"ImageId": image, "InstanceType": "t3.micro"},
    )
    autoscaling.create_auto_scaling_group(
        AutoScalingGroupName="web-fleet",
        LaunchTemplate={"LaunchTemplateName": "web", "Version": "$Latest"},
        MinSize=0,
        MaxSize=5,
        DesiredCapacity=0,
        AvailabilityZones=["us-east-1a"],
    )
    queue_url = sqs.create_queue(QueueName="hc-events")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(
        QueueUrl=queue_url, AttributeNames=["QueueArn"]
    )["Attributes"]["QueueArn"]
    for name, pattern in (("asg", ASG_PATTERN), ("ec2", EC2_PATTERN)):
        events.put_rule(Name=name, EventPattern=json.dumps(pattern))
        events.put_targets(Rule=name, Targets=[{"Id": "q", "Arn": queue_arn}])
    iam = aws("iam")
    role = iam.create_role(RoleName="hc-poller", AssumeRolePolicyDocument="{}")
    integration = AwsIntegrationFactory(
        credentials="role",
        role_arn=role["Role"]["Arn"],
        queue_url=queue_url,
    )
    return AwsRuleFactory(
        integration=integration,
        asg_pattern="web-*",
        timeout=timedelta(minutes=10),
        grace=timedelta(minutes=5),
    )


def members(aws):
    group = aws("autoscaling").describe_auto_scaling_groups(
        AutoScalingGroupNames=["web-fleet"]
    )["AutoScalingGroups"][0]
    return sorted(i["InstanceId"] for i in group["Instances"])


def scale(aws, desired):
    before = set(members(aws))
    aws("autoscaling").set_desired_capacity(
        AutoScalingGroupName="web-fleet", DesiredCapacity=desired
    )
    after = set(members(aws))
    return sorted(after - before), sorted(before - after)


def publish(aws, detail_type, instance_ids, source="aws.autoscaling"):
    """What AWS would send; put_events takes at most 10 entries per call."""
    entries = []
    for iid in instance_ids:
        if source == "aws.ec2":
            detail = samples.ec2_event(detail_type, iid)["detail"]
            kind = "EC2 Instance State-change Notification"
        else:
            detail = samples.asg_detail(detail_type, iid, "web-fleet")
            kind = detail_type
        entries.append(
            {"Source": source, "DetailType": kind, "Detail": json.dumps(detail)}
        )
    result = aws("events").put_events(Entries=entries)
    assert result["FailedEntryCount"] == 0


def poll():
    call_command("aws_poll", "--once", stdout=open("/dev/null", "w"))  # noqa: SIM115


def queue_depth(aws, rule):
    attributes = aws("sqs").get_queue_attributes(
        QueueUrl=rule.integration.queue_url,
        AttributeNames=[
            "ApproximateNumberOfMessages",
            "ApproximateNumberOfMessagesNotVisible",
        ],
    )["Attributes"]
    return sum(int(v) for v in attributes.values())


def test_scale_out_creates_one_check_per_instance(aws, fleet):
    launched, _ = scale(aws, 3)
    publish(aws, samples.LAUNCH, launched)
    poll()
    slugs = sorted(Check.objects.values_list("slug", flat=True))
    assert slugs == [f"web-fleet-{iid}" for iid in launched]
    assert set(Check.objects.values_list("status", flat=True)) == {Status.NEW}
    assert queue_depth(aws, fleet) == 0


def test_scale_in_removes_checks_of_removed_instances(aws, fleet):
    launched, _ = scale(aws, 3)
    publish(aws, samples.LAUNCH, launched)
    poll()
    _, removed = scale(aws, 1)
    assert len(removed) == 2
    publish(aws, samples.TERMINATE, removed)
    poll()
    assert list(Check.objects.values_list("slug", flat=True)) == [
        f"web-fleet-{iid}" for iid in members(aws)
    ]


def test_scale_in_with_pause_policy_pauses_removed_checks(aws, fleet):
    fleet.on_scale_in = "pause"
    fleet.save()
    launched, _ = scale(aws, 3)
    publish(aws, samples.LAUNCH, launched)
    poll()
    _, removed = scale(aws, 1)
    publish(aws, samples.TERMINATE, removed)
    poll()
    paused = Check.objects.filter(status=Status.PAUSED)
    assert sorted(paused.values_list("slug", flat=True)) == [
        f"web-fleet-{iid}" for iid in removed
    ]


def test_ec2_state_events_are_matched_to_the_group_by_lookup(aws, fleet):
    launched, _ = scale(aws, 2)
    publish(aws, "running", launched, source="aws.ec2")
    poll()
    assert Check.objects.count() == 2
    publish(aws, "terminated", launched[:1], source="aws.ec2")
    poll()
    assert Check.objects.count() == 1


def test_duplicated_and_reordered_events_change_nothing(aws, fleet):
    launched, _ = scale(aws, 3)
    publish(aws, samples.LAUNCH, launched + launched)
    poll()
    _, removed = scale(aws, 2)
    # The terminate arrives first, its launch (redelivered) after: still gone.
    publish(aws, samples.TERMINATE, removed)
    publish(aws, samples.LAUNCH, removed + launched)
    poll()
    assert Check.objects.count() == 2
    assert AwsInstance.objects.count() == 3
    assert AwsInstance.objects.get(instance_id=removed[0]).state == InstanceState.GONE


def test_dropped_scale_in_event_is_repaired_by_reconcile(aws, fleet):
    launched, _ = scale(aws, 3)
    publish(aws, samples.LAUNCH, launched)
    poll()
    _, removed = scale(aws, 1)
    publish(aws, samples.TERMINATE, removed[:1])  # the other one is lost
    poll()
    assert Check.objects.count() == 2
    call_command("aws_reconcile", "--once", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert Check.objects.count() == 1


def test_dropped_scale_out_event_is_repaired_by_reconcile(aws, fleet):
    launched, _ = scale(aws, 3)
    publish(aws, samples.LAUNCH, launched[:2])
    poll()
    result = reconcile.reconcile(fleet.integration)
    assert result.launched == [launched[2]]
    assert Check.objects.count() == 3


def test_reconcile_twice_changes_nothing(aws, fleet):
    scale(aws, 2)
    reconcile.reconcile(fleet.integration)
    result = reconcile.reconcile(fleet.integration)
    assert (result.launched, result.retired) == ([], [])
    assert Check.objects.count() == 2


def test_instance_that_stops_pinging_without_scale_in_alerts(
    aws, fleet, client, http_receiver, settings
):
    settings.ALLOW_PRIVATE_TARGETS = True
    channel = ChannelFactory(
        project=fleet.integration.project,
        config={"url_down": f"{http_receiver.url}/down", "method_down": "POST"},
    )
    launched, _ = scale(aws, 2)
    publish(aws, samples.LAUNCH, launched)
    poll()
    project = fleet.integration.project
    for iid in launched:
        response = client.get(f"/ping/{project.ping_key}/web-fleet-{iid}")
        assert response.status_code == 200
    # Instance 0 keeps pinging; instance 1 hangs, and no scale-in event comes.
    later = timezone.now() + timedelta(minutes=16)
    alive = Check.objects.get(slug=f"web-fleet-{launched[0]}")
    services.update_check(check=alive, fields={"last_ping": later})
    alerts.scan_due(now=later)
    alerts.fan_out(now=later)
    quiet = Check.objects.get(slug=f"web-fleet-{launched[1]}")
    assert quiet.status == Status.DOWN
    assert Check.objects.get(pk=alive.pk).status == Status.UP
    alert = Notification.objects.get(channel=channel)
    assert (alert.flip.owner_id, alert.flip.reason) == (quiet.pk, "timeout")


def test_message_stays_queued_when_applying_fails(aws, fleet, monkeypatch):
    launched, _ = scale(aws, 1)
    publish(aws, samples.LAUNCH, launched)

    def broken(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr("integrations.aws.handler.apply", broken)
    poll()
    assert not Check.objects.exists()
    assert queue_depth(aws, fleet) == 1


def test_unreadable_message_is_dropped(aws, fleet):
    aws("sqs").send_message(QueueUrl=fleet.integration.queue_url, MessageBody="{")
    poll()
    assert queue_depth(aws, fleet) == 0


def test_lifecycle_hook_is_completed_after_the_check_exists(aws, fleet, monkeypatch):
    launched, _ = scale(aws, 1)
    completed = []

    def complete(integration, region, hook, instance_id):
        # moto lacks complete_lifecycle_action: record what would be sent.
        completed.append(
            (hook.group, Check.objects.filter(slug__endswith=instance_id).exists())
        )
        return True

    monkeypatch.setattr(clients, "complete_hook", complete)
    publish(aws, samples.LAUNCH_HOOK, launched)
    poll()
    assert completed == [("web-fleet", True)]


def test_poller_assumes_the_role_with_the_external_id(aws, fleet, monkeypatch):
    seen = []
    real = clients.boto3.client

    def spy(service, **kwargs):
        made = real(service, **kwargs)
        if service == "sts":
            made.meta.events.register(
                "provide-client-params.sts.AssumeRole",
                lambda params, **kw: seen.append(params.get("ExternalId")),
            )
        return made

    monkeypatch.setattr(clients.boto3, "client", spy)
    poll()
    assert seen == [fleet.integration.external_id]


def test_credentials_and_secrets_never_appear_in_logs(aws, fleet, client, caplog):
    caplog.set_level(logging.DEBUG)
    launched, _ = scale(aws, 1)
    publish(aws, samples.LAUNCH, launched)
    poll()
    secret = config.rotate_push_secret(integration=fleet.integration)
    url = f"/integrations/aws/{fleet.integration.code}/events/"
    for header in (secret, secret[:-1] + "x"):
        client.post(
            url, "{", content_type="application/json", HTTP_X_HC_AWS_SECRET=header
        )
    assumed = clients.session(fleet.integration).get_credentials()
    assert caplog.records  # the poll did log
    for value in (
        assumed.secret_key,
        assumed.token,
        secret,
        fleet.integration.external_id,
    ):
        assert value not in caplog.text
