"""Pure parsing: an EventBridge event (raw, SNS-wrapped) -> a Signal, or nothing.

No queries, no AWS calls. Shapes: docs/aws.md and the AWS event references.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, TypedDict


class BadEvent(ValueError):
    """A message that is not an event we can read (never retried)."""


class SignalKind(StrEnum):
    LAUNCH = "launch"  # the instance serves: it gets a check
    STOP = "stop"  # back into a warm pool: pause, it will return
    TERMINATE = "terminate"  # scale-in or termination: final
    NOTHING = "nothing"  # no change for us (a lifecycle hook may still need completing)


@dataclass(frozen=True)
class Hook:
    group: str
    name: str
    token: str


@dataclass(frozen=True)
class Signal:
    kind: SignalKind
    instance_id: str
    region: str = ""
    account: str = ""
    asg: str = ""
    # AWS's clock; None when the source has none (reconciler: "now").
    when: datetime | None = None
    event_id: str = ""
    hook: Hook | None = None
    # Facts a lookup or the reconciler already knows (skips describe_instances).
    tags: dict[str, str] | None = field(default=None, compare=False)
    az: str = ""


INSTANCE_ID_RE = re.compile(r"^i-[0-9a-f]{8,32}$")
EC2_STATE = {
    "running": SignalKind.LAUNCH,
    "shutting-down": SignalKind.TERMINATE,
    "terminated": SignalKind.TERMINATE,
}
ASG_DETAIL_TYPES = {
    "EC2 Instance Launch Successful": SignalKind.LAUNCH,
    "EC2 Instance Terminate Successful": SignalKind.TERMINATE,
    # A detached instance leaves the group: for the group's checks that is a scale-in.
    "EC2 Instance Detach Successful": SignalKind.TERMINATE,
    "EC2 Instance-launch Lifecycle Action": SignalKind.LAUNCH,
    "EC2 Instance-terminate Lifecycle Action": SignalKind.TERMINATE,
}


def parse_time(value: Any) -> datetime | None:
    """An ISO 8601 UTC time as AWS writes it; None if absent or unreadable."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def unwrap(message: Any) -> dict[str, Any]:
    """The EventBridge event inside an SQS body or an SNS notification envelope."""
    if isinstance(message, str | bytes):
        try:
            message = json.loads(message)
        except ValueError as e:
            raise BadEvent("not JSON") from e
    if not isinstance(message, dict):
        raise BadEvent("not a JSON object")
    if message.get("Type") == "Notification" and isinstance(
        message.get("Message"), str
    ):
        return unwrap(message["Message"])
    return message


def _instance_id(value: Any) -> str:
    if not isinstance(value, str) or not INSTANCE_ID_RE.match(value):
        raise BadEvent("no valid instance id")
    return value


class _EventFacts(TypedDict):
    """What every EventBridge event says, whatever its source."""

    region: str
    account: str
    when: datetime | None
    event_id: str


def parse_event(event: dict[str, Any]) -> Signal | None:
    """The signal an event carries; None for events about something else."""
    detail = event.get("detail")
    source = event.get("source")
    detail_type = event.get("detail-type")
    if not isinstance(detail, dict) or not isinstance(detail_type, str):
        raise BadEvent("not an EventBridge event")
    common: _EventFacts = {
        "region": str(event.get("region") or ""),
        "account": str(event.get("account") or ""),
        "when": parse_time(event.get("time")),
        "event_id": str(event.get("id") or ""),
    }
    if source == "aws.ec2" and detail_type == "EC2 Instance State-change Notification":
        kind = EC2_STATE.get(str(detail.get("state")))
        if kind is None:
            # pending/stopping/stopped: a plain stop is no scale-in, the check stays
            # armed so an instance that dies this way still alerts.
            return None
        return Signal(kind, _instance_id(detail.get("instance-id")), **common)
    if source == "aws.autoscaling" and detail_type in ASG_DETAIL_TYPES:
        kind = ASG_DETAIL_TYPES[detail_type]
        instance_id = _instance_id(detail.get("EC2InstanceId"))
        group = str(detail.get("AutoScalingGroupName") or "")
        hook = None
        if "LifecycleActionToken" in detail:
            hook = Hook(
                group=group,
                name=str(detail.get("LifecycleHookName") or ""),
                token=str(detail.get("LifecycleActionToken") or ""),
            )
        if detail.get("Destination") == "WarmPool":
            # Into the warm pool: stopped and kept for reuse, not a scale-in. A new
            # instance being prepared for the pool is not serving yet either.
            kind = (
                SignalKind.STOP if kind == SignalKind.TERMINATE else SignalKind.NOTHING
            )
        details = detail.get("Details")
        az = ""
        if isinstance(details, dict):
            az = str(details.get("Availability Zone") or "")
        return Signal(kind, instance_id, asg=group, hook=hook, az=az, **common)
    return None


def parse_message(message: Any) -> Signal | None:
    """unwrap() then parse_event(): one SQS body, SNS message or pushed body."""
    return parse_event(unwrap(message))
