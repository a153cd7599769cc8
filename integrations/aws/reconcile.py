"""Repair drift: compare AWS's live instances with our records, apply the difference.

AWS's Auto Scaling events are best effort; this is what makes the integration
correct anyway. Missing live instances get a LAUNCH, records whose instance is
terminated (or no longer a member) get a TERMINATE, both through the handler.
"""

from __future__ import annotations

import fnmatch
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from django.utils import timezone

from integrations.aws import clients, handler
from integrations.aws.events import Signal, SignalKind
from integrations.aws.models import AwsInstance, AwsIntegration, InstanceState
from integrations.aws.templates import InstanceFacts

log = logging.getLogger(__name__)

# Members in these Auto Scaling lifecycle states are serving or about to.
LIVE_LIFECYCLE = ("Pending", "Pending:Wait", "Pending:Proceed", "InService")
LIVE_EC2 = ("pending", "running")


@dataclass
class ReconcileResult:
    launched: list[str] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)
    purged: int = 0


def _group_members(autoscaling: Any, patterns: list[str]) -> set[str]:
    members: set[str] = set()
    if not patterns:
        return members
    for page in autoscaling.get_paginator("describe_auto_scaling_groups").paginate():
        for group in page.get("AutoScalingGroups", []):
            name = group["AutoScalingGroupName"]
            if not any(fnmatch.fnmatchcase(name, p) for p in patterns):
                continue
            for instance in group.get("Instances", []):
                if instance.get("LifecycleState") in LIVE_LIFECYCLE:
                    members.add(instance["InstanceId"])
    return members


def _tagged(
    ec2: Any, region: str, tags: list[tuple[str, str]]
) -> dict[str, InstanceFacts]:
    found: dict[str, InstanceFacts] = {}
    for key, value in tags:
        filters = [{"Name": "instance-state-name", "Values": list(LIVE_EC2)}]
        if value:
            filters.append({"Name": f"tag:{key}", "Values": [value]})
        else:
            filters.append({"Name": "tag-key", "Values": [key]})
        for page in ec2.get_paginator("describe_instances").paginate(Filters=filters):
            for reservation in page.get("Reservations", []):
                for instance in reservation.get("Instances", []):
                    facts = clients.facts_from_instance(
                        instance, region, reservation.get("OwnerId", "")
                    )
                    found[facts.instance_id] = facts
    return found


def live_instances(
    integration: AwsIntegration, region: str
) -> dict[str, InstanceFacts]:
    """Instances in `region` that some rule claims and that are pending/running."""
    rules = list(integration.rules.all())
    patterns = [r.asg_pattern for r in rules if r.asg_pattern]
    tags = [(r.tag_key, r.tag_value) for r in rules if r.tag_key and not r.asg_pattern]
    ec2 = clients.client(integration, "ec2", region)
    members = _group_members(
        clients.client(integration, "autoscaling", region), patterns
    )
    candidates = clients.describe(ec2, region, sorted(members)) if members else {}
    candidates.update(_tagged(ec2, region, tags))
    return {
        iid: facts
        for iid, facts in candidates.items()
        if facts.state in LIVE_EC2 and handler.match_rule(integration, facts)
    }


def _signal(kind: SignalKind, facts: InstanceFacts) -> Signal:
    return Signal(
        kind,
        facts.instance_id,
        region=facts.region,
        account=facts.account,
        asg=facts.asg,
        az=facts.az,
        tags=facts.tags,
    )


def reconcile_region(
    integration: AwsIntegration, region: str, now: datetime, result: ReconcileResult
) -> None:
    live = live_instances(integration, region)
    known = {
        row.instance_id: row
        for row in AwsInstance.objects.filter(integration=integration)
        .filter(region__in=[region, ""])
        .exclude(state=InstanceState.GONE)
    }
    gone_ids = set(
        AwsInstance.objects.filter(
            integration=integration,
            state=InstanceState.GONE,
            instance_id__in=list(live),
        ).values_list("instance_id", flat=True)
    )
    for iid, facts in live.items():
        if iid not in known and iid not in gone_ids:
            outcome = handler.apply(
                integration=integration,
                signal=_signal(SignalKind.LAUNCH, facts),
                now=now,
            )
            if outcome.action in ("created", "adopted"):
                result.launched.append(iid)
    missing = [iid for iid in known if iid not in live]
    if not missing:
        return
    ec2 = clients.client(integration, "ec2", region)
    described = clients.describe(ec2, region, missing)
    min_age = timedelta(seconds=settings.AWS_RECONCILE_MIN_AGE)
    for iid in missing:
        row = known[iid]
        seen = described.get(iid)
        if seen is not None and seen.state == "stopped":
            # Stopped outside a warm pool is not a scale-in: the check stays armed.
            continue
        terminated = seen is not None and seen.state in handler.GONE_STATES
        # Unknown to EC2 or no longer claimed by a rule (detached, tag removed):
        # only once the record is old enough for EC2's lists to have caught up.
        if not terminated and now - row.created < min_age:
            continue
        gone = seen or InstanceFacts(instance_id=iid, region=region)
        outcome = handler.apply(
            integration=integration, signal=_signal(SignalKind.TERMINATE, gone), now=now
        )
        if outcome.action == "retired":
            result.retired.append(iid)


def reconcile(
    integration: AwsIntegration, *, now: datetime | None = None
) -> ReconcileResult:
    """One full pass over the integration's regions, then purge expired checks."""
    now = now or timezone.now()
    result = ReconcileResult()
    for region in integration.region_list():
        reconcile_region(integration, region, now, result)
    result.purged = handler.purge_retired(integration=integration, now=now)
    AwsIntegration.objects.filter(pk=integration.pk).update(last_reconcile_at=now)
    return result


def reconcile_all() -> dict[str, ReconcileResult]:
    results = {}
    integrations = AwsIntegration.objects.filter(enabled=True).select_related("project")
    for integration in integrations:
        try:
            if integration.credentials == "none":
                handler.purge_retired(integration=integration, now=timezone.now())
                continue
            results[str(integration.code)] = reconcile(integration)
        except (ClientError, BotoCoreError, clients.AwsUnavailable) as e:
            AwsIntegration.objects.filter(pk=integration.pk).update(
                last_error=f"reconcile failed: {type(e).__name__}"
            )
            log.warning("aws: reconcile of %s failed: %s", integration.code, e)
    return results
