"""AWS-shaped events (as in AWS's event references) for tests."""

from __future__ import annotations

import uuid
from typing import Any

LAUNCH = "EC2 Instance Launch Successful"
TERMINATE = "EC2 Instance Terminate Successful"
LAUNCH_HOOK = "EC2 Instance-launch Lifecycle Action"
TERMINATE_HOOK = "EC2 Instance-terminate Lifecycle Action"


def asg_detail(
    detail_type: str, instance_id: str, group: str = "web", **extra: Any
) -> dict[str, Any]:
    if "Lifecycle Action" in detail_type:
        transition = "LAUNCHING" if "launch" in detail_type else "TERMINATING"
        detail = {
            "LifecycleActionToken": str(uuid.uuid4()),
            "AutoScalingGroupName": group,
            "LifecycleHookName": "hc-hook",
            "EC2InstanceId": instance_id,
            "LifecycleTransition": f"autoscaling:EC2_INSTANCE_{transition}",
            "Origin": "EC2",
            "Destination": "AutoScalingGroup",
        }
    else:
        verb = "Launching a new" if detail_type == LAUNCH else "Terminating"
        detail = {
            "StatusCode": "InProgress",
            "Description": f"{verb} EC2 instance: {instance_id}",
            "AutoScalingGroupName": group,
            "ActivityId": str(uuid.uuid4()),
            "Details": {"Availability Zone": "us-east-1a", "Subnet ID": "subnet-1"},
            "RequestId": str(uuid.uuid4()),
            "StatusMessage": "",
            "EndTime": "2026-11-27T10:00:00Z",
            "EC2InstanceId": instance_id,
            "StartTime": "2026-11-27T09:59:00Z",
            "Cause": "a user request",
        }
    detail.update(extra)
    return detail


def envelope(
    source: str, detail_type: str, detail: dict[str, Any], time: str
) -> dict[str, Any]:
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": detail_type,
        "source": source,
        "account": "123456789012",
        "time": time,
        "region": "us-east-1",
        "resources": [],
        "detail": detail,
    }


def asg_event(
    detail_type: str,
    instance_id: str,
    group: str = "web",
    time: str = "2026-11-27T10:00:00Z",
    **extra: Any,
) -> dict[str, Any]:
    detail = asg_detail(detail_type, instance_id, group, **extra)
    return envelope("aws.autoscaling", detail_type, detail, time)


def ec2_event(
    state: str, instance_id: str, time: str = "2026-11-27T10:00:00Z"
) -> dict[str, Any]:
    detail = {"instance-id": instance_id, "state": state}
    return envelope("aws.ec2", "EC2 Instance State-change Notification", detail, time)
