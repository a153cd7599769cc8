"""The idempotent handler: one record per instance, any order, any repetition."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection

from checks import schedule
from checks.models import Check, RetiredSlug, Status
from integrations.aws import handler
from integrations.aws.events import parse_message
from integrations.aws.models import AwsInstance, InstanceState
from integrations.aws.templates import InstanceFacts
from tests.factories import AwsRuleFactory, ChannelFactory, ProfileFactory
from tests.integrations.aws import samples

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 27, 10, 0, 5, tzinfo=UTC)
IID = "i-0123456789abcdef0"


def apply(integration, event, lookup=None, now=NOW):
    return handler.apply(
        integration=integration, signal=parse_message(event), now=now, lookup=lookup
    )


def launch(integration, iid=IID, group="web-1", time="2026-11-27T10:00:00Z"):
    return apply(integration, samples.asg_event(samples.LAUNCH, iid, group, time))


def terminate(integration, iid=IID, group="web-1", time="2026-11-27T11:00:00Z"):
    return apply(integration, samples.asg_event(samples.TERMINATE, iid, group, time))


@pytest.fixture
def rule():
    return AwsRuleFactory(timeout=timedelta(minutes=5), grace=timedelta(minutes=2))


def test_launch_creates_check_from_template(rule):
    outcome = launch(rule.integration)
    check = Check.objects.get(pk=outcome.check_id)
    assert (check.name, check.slug) == (f"web-1/{IID}", f"web-1-{IID}")
    assert check.tags == "aws web-1"
    assert (check.timeout, check.grace) == (timedelta(minutes=5), timedelta(minutes=2))
    assert check.status == Status.NEW
    assert check.project == rule.integration.project


def test_launch_attaches_all_project_channels_by_default(rule):
    channel = ChannelFactory(project=rule.integration.project)
    check = Check.objects.get(pk=launch(rule.integration).check_id)
    assert list(check.channels.all()) == [channel]


def test_duplicate_launch_creates_one_check(rule):
    launch(rule.integration)
    outcome = launch(rule.integration)
    assert outcome.action == "ignored"
    assert Check.objects.count() == 1
    assert AwsInstance.objects.count() == 1


def test_launch_in_unmatched_group_creates_nothing(rule):
    assert launch(rule.integration, group="db-1").action == "unmatched"
    assert not Check.objects.exists()
    assert not AwsInstance.objects.exists()


def test_terminate_deletes_check_by_default(rule):
    launch(rule.integration)
    outcome = terminate(rule.integration)
    assert outcome.action == "retired"
    assert not Check.objects.exists()
    assert AwsInstance.objects.get().state == InstanceState.GONE


def test_scaled_in_slug_cannot_be_auto_provisioned_again(rule, client):
    launch(rule.integration)
    terminate(rule.integration)
    project = rule.integration.project
    assert RetiredSlug.objects.filter(project=project, slug=f"web-1-{IID}").exists()
    response = client.get(f"/ping/{project.ping_key}/web-1-{IID}?create=1")
    assert response.status_code == 404
    assert not Check.objects.exists()


def test_terminate_with_pause_policy_pauses_and_ignores_late_pings(rule):
    rule.on_scale_in = "pause"
    rule.save()
    check_id = launch(rule.integration).check_id
    terminate(rule.integration)
    check = Check.objects.get(pk=check_id)
    assert (check.status, check.manual_resume) == (Status.PAUSED, True)
    assert AwsInstance.objects.get().delete_at == NOW + timedelta(days=7)


def test_paused_check_is_deleted_after_retention(rule):
    rule.on_scale_in = "pause"
    rule.save()
    launch(rule.integration)
    terminate(rule.integration)
    later = NOW + timedelta(days=7, seconds=1)
    assert handler.purge_retired(integration=rule.integration, now=NOW) == 0
    assert handler.purge_retired(integration=rule.integration, now=later) == 1
    assert not Check.objects.exists()


def test_terminate_with_keep_policy_keeps_check(rule):
    rule.on_scale_in = "keep"
    rule.save()
    launch(rule.integration)
    terminate(rule.integration)
    assert Check.objects.get().status == Status.NEW


def test_terminate_before_launch_leaves_tombstone_and_no_check(rule):
    assert terminate(rule.integration).action == "tombstone"
    assert launch(rule.integration).action == "ignored"
    assert not Check.objects.exists()


def test_launch_after_terminate_does_not_recreate(rule):
    launch(rule.integration)
    terminate(rule.integration)
    launch(rule.integration, time="2026-11-27T12:00:00Z")
    assert not Check.objects.exists()


def test_duplicate_terminate_changes_nothing(rule):
    launch(rule.integration)
    terminate(rule.integration)
    assert terminate(rule.integration).action == "ignored"


def test_return_to_warm_pool_pauses_and_relaunch_resumes(rule):
    check_id = launch(rule.integration).check_id
    stop = samples.asg_event(
        samples.TERMINATE_HOOK,
        IID,
        "web-1",
        "2026-11-27T10:10:00Z",
        Destination="WarmPool",
    )
    assert apply(rule.integration, stop).action == "paused"
    assert Check.objects.get(pk=check_id).status == Status.PAUSED
    launch(rule.integration, time="2026-11-27T10:20:00Z")
    assert Check.objects.get(pk=check_id).status == Status.NEW
    assert AwsInstance.objects.get().state == InstanceState.ACTIVE


def test_stale_warm_pool_stop_is_ignored(rule):
    launch(rule.integration, time="2026-11-27T10:20:00Z")
    stop = samples.asg_event(
        samples.TERMINATE_HOOK,
        IID,
        "web-1",
        "2026-11-27T10:10:00Z",
        Destination="WarmPool",
    )
    assert apply(rule.integration, stop).action == "ignored"
    assert Check.objects.get().status == Status.NEW


def test_ec2_event_is_matched_by_looking_the_instance_up(rule):
    def lookup(region, instance_id):
        return InstanceFacts(instance_id, region, asg="web-7", state="running")

    outcome = apply(rule.integration, samples.ec2_event("running", IID), lookup)
    assert Check.objects.get(pk=outcome.check_id).slug == f"web-7-{IID}"


def test_ec2_event_for_instance_not_listed_yet_is_retried(rule):
    with pytest.raises(handler.RetryLater):
        apply(rule.integration, samples.ec2_event("running", IID), lambda r, i: None)
    assert not AwsInstance.objects.exists()


def test_ec2_terminated_event_needs_no_lookup(rule):
    launch(rule.integration)
    apply(rule.integration, samples.ec2_event("terminated", IID))
    assert not Check.objects.exists()


def test_tag_rule_matches_instance_tag():
    rule = AwsRuleFactory(asg_pattern="", tag_key="hc", tag_value="batch")

    def lookup(region, instance_id):
        return InstanceFacts(instance_id, region, tags={"hc": "batch", "Name": "x"})

    outcome = apply(rule.integration, samples.ec2_event("running", IID), lookup)
    assert outcome.action == "created"


def test_check_auto_provisioned_before_launch_is_adopted(rule, client):
    project = rule.integration.project
    response = client.get(f"/ping/{project.ping_key}/web-1-{IID}?create=1")
    assert response.status_code == 201
    early = Check.objects.get()
    outcome = launch(rule.integration)
    assert (outcome.action, outcome.check_id) == ("adopted", early.pk)
    assert Check.objects.get().name == f"web-1/{IID}"


def test_boot_deadline_makes_never_pinged_check_go_down(rule):
    rule.boot_deadline = timedelta(minutes=15)
    rule.save()
    check = Check.objects.get(pk=launch(rule.integration).check_id)
    assert check.alert_after == NOW + timedelta(minutes=15)
    assert schedule.status_at(check, NOW + timedelta(minutes=16)) == Status.DOWN


def test_without_boot_deadline_new_check_never_goes_down(rule):
    check = Check.objects.get(pk=launch(rule.integration).check_id)
    assert check.alert_after is None
    assert schedule.status_at(check, NOW + timedelta(days=30)) == Status.NEW


def test_check_limit_stops_creation_and_is_reported(rule):
    ProfileFactory(user=rule.integration.project.owner, check_limit=0)
    assert launch(rule.integration).action == "limit"
    rule.integration.refresh_from_db()
    assert "check limit" in rule.integration.last_error
    assert not AwsInstance.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_launches_of_one_instance_make_one_check():
    rule = AwsRuleFactory(asg_pattern="web-*")
    barrier = threading.Barrier(2)
    outcomes = []

    def worker():
        barrier.wait()
        try:
            outcomes.append(launch(rule.integration).action)
        except handler.RetryLater:
            outcomes.append("retry")
            outcomes.append(launch(rule.integration).action)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert Check.objects.count() == 1
    assert outcomes.count("created") == 1
    assert AwsInstance.objects.count() == 1
