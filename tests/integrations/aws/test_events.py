"""Parsing EventBridge events into signals (integrations/aws/events.py)."""

import json

import pytest

from integrations.aws.events import BadEvent, SignalKind, parse_message
from tests.integrations.aws import samples

IID = "i-0123456789abcdef0"


def test_launch_successful_is_a_launch_with_group_and_zone():
    signal = parse_message(samples.asg_event(samples.LAUNCH, IID, "web-1"))
    assert (signal.kind, signal.instance_id, signal.asg) == ("launch", IID, "web-1")
    assert signal.az == "us-east-1a"
    assert signal.when.isoformat() == "2026-11-27T10:00:00+00:00"


def test_terminate_successful_is_a_terminate():
    signal = parse_message(samples.asg_event(samples.TERMINATE, IID))
    assert signal.kind == SignalKind.TERMINATE


def test_lifecycle_event_carries_its_hook():
    event = samples.asg_event(samples.LAUNCH_HOOK, IID)
    signal = parse_message(event)
    assert signal.kind == SignalKind.LAUNCH
    assert signal.hook.token == event["detail"]["LifecycleActionToken"]
    assert signal.hook.name == "hc-hook"


def test_scale_in_into_warm_pool_is_a_stop_not_a_terminate():
    event = samples.asg_event(samples.TERMINATE_HOOK, IID, Destination="WarmPool")
    assert parse_message(event).kind == SignalKind.STOP


def test_launch_into_warm_pool_changes_nothing():
    event = samples.asg_event(samples.LAUNCH, IID, Destination="WarmPool")
    assert parse_message(event).kind == SignalKind.NOTHING


@pytest.mark.parametrize(
    ("state", "kind"),
    [
        ("running", "launch"),
        ("terminated", "terminate"),
        ("shutting-down", "terminate"),
    ],
)
def test_ec2_state_change_maps_to_signal(state, kind):
    signal = parse_message(samples.ec2_event(state, IID))
    assert signal.kind == kind
    assert signal.asg == ""


@pytest.mark.parametrize("state", ["pending", "stopping", "stopped"])
def test_plain_stop_and_transitions_are_ignored(state):
    assert parse_message(samples.ec2_event(state, IID)) is None


def test_sns_envelope_is_unwrapped():
    inner = samples.asg_event(samples.LAUNCH, IID)
    wrapped = {"Type": "Notification", "Message": json.dumps(inner)}
    assert parse_message(json.dumps(wrapped)).instance_id == IID


def test_unrelated_event_is_ignored():
    event = samples.envelope("aws.s3", "Object Created", {"bucket": "b"}, "")
    assert parse_message(event) is None


@pytest.mark.parametrize("body", ["not json", "[1]", '{"detail": 1}'])
def test_malformed_message_is_bad_event(body):
    with pytest.raises(BadEvent):
        parse_message(body)


def test_bad_instance_id_is_bad_event():
    with pytest.raises(BadEvent):
        parse_message(samples.ec2_event("running", "i-; drop table"))
