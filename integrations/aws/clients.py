"""boto3 clients per integration (assumed role or default chain) and EC2 lookups.

Credentials live only in boto3 objects: nothing here logs or stores them.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings

from integrations.aws.events import Hook
from integrations.aws.models import AwsIntegration, Credentials
from integrations.aws.templates import InstanceFacts

if TYPE_CHECKING:
    from integrations.aws.handler import Lookup

log = logging.getLogger(__name__)

BOTO_CONFIG = Config(
    retries={"mode": "adaptive", "max_attempts": 5},
    connect_timeout=5,
    read_timeout=30,
)
# Refresh assumed-role credentials this long before they expire.
EXPIRY_MARGIN = 300
_sessions: dict[tuple[int, str, str], tuple[float, boto3.Session]] = {}
# Making a client loads the service's model (tens of ms): one per session and
# (service, region, endpoint), dropped with its session when credentials rotate.
_clients: weakref.WeakKeyDictionary[boto3.Session, dict[tuple[str, ...], Any]] = (
    weakref.WeakKeyDictionary()
)
_default_session: list[boto3.Session] = []
_lock = threading.Lock()


class AwsUnavailable(Exception):
    """This integration makes no AWS calls (push-only)."""


def _endpoint() -> str | None:
    return settings.AWS_ENDPOINT_URL or None


def session(integration: AwsIntegration) -> boto3.Session:
    """A boto3 session for the integration; assumed-role credentials are cached."""
    if integration.credentials == Credentials.NONE:
        raise AwsUnavailable(str(integration.code))
    if integration.credentials == Credentials.DEFAULT:
        with _lock:
            if not _default_session:
                _default_session.append(boto3.Session())
            return _default_session[0]
    key = (integration.pk, integration.role_arn, integration.external_id)
    with _lock:
        cached = _sessions.get(key)
        if cached is not None and cached[0] > time.time() + EXPIRY_MARGIN:
            return cached[1]
    sts = boto3.client(
        "sts",
        region_name=integration.region_list()[0],
        endpoint_url=_endpoint(),
        config=BOTO_CONFIG,
    )
    params: dict[str, Any] = {
        "RoleArn": integration.role_arn,
        "RoleSessionName": f"hcserver-{integration.code.hex[:16]}",
        "DurationSeconds": 3600,
    }
    if integration.external_id:
        params["ExternalId"] = integration.external_id
    creds = sts.assume_role(**params)["Credentials"]
    assumed = boto3.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
    )
    with _lock:
        _sessions[key] = (creds["Expiration"].timestamp(), assumed)
    return assumed


def client(integration: AwsIntegration, service: str, region: str) -> Any:
    owner = session(integration)
    key = (service, region, _endpoint() or "")
    with _lock:
        made = _clients.setdefault(owner, {})
        if key not in made:
            made[key] = owner.client(
                service,
                region_name=region,
                endpoint_url=key[2] or None,
                config=BOTO_CONFIG,
            )
        return made[key]


def queue_region(integration: AwsIntegration) -> str:
    """The region in the queue URL (sqs.<region>.amazonaws.com), else the first."""
    host = integration.queue_url.split("/")[2] if "://" in integration.queue_url else ""
    parts = host.split(".")
    if len(parts) >= 4 and parts[0] == "sqs" and parts[2] == "amazonaws":
        return parts[1]
    return integration.region_list()[0]


def facts_from_instance(
    instance: dict[str, Any], region: str, account: str
) -> InstanceFacts:
    tags = {t["Key"]: t.get("Value", "") for t in instance.get("Tags", [])}
    return InstanceFacts(
        instance_id=instance["InstanceId"],
        region=region,
        account=account,
        asg=tags.get("aws:autoscaling:groupName", ""),
        az=instance.get("Placement", {}).get("AvailabilityZone", ""),
        state=instance.get("State", {}).get("Name", ""),
        tags=tags,
    )


def describe(
    ec2: Any, region: str, instance_ids: list[str]
) -> dict[str, InstanceFacts]:
    """Facts of the instances EC2 knows, by id; unknown ids are simply absent."""
    found: dict[str, InstanceFacts] = {}
    paginator = ec2.get_paginator("describe_instances")
    # A filter, not InstanceIds=: an unknown id must not fail the whole batch.
    for start in range(0, len(instance_ids), 100):
        batch = instance_ids[start : start + 100]
        filters = [{"Name": "instance-id", "Values": batch}]
        for page in paginator.paginate(Filters=filters):
            for reservation in page.get("Reservations", []):
                account = reservation.get("OwnerId", "")
                for instance in reservation.get("Instances", []):
                    facts = facts_from_instance(instance, region, account)
                    found[facts.instance_id] = facts
    return found


def lookup_for(integration: AwsIntegration) -> Lookup | None:
    """A handler.Lookup backed by ec2:DescribeInstances; None for push-only."""
    if integration.credentials == Credentials.NONE:
        return None

    def lookup(region: str, instance_id: str) -> InstanceFacts | None:
        ec2 = client(integration, "ec2", region)
        return describe(ec2, region, [instance_id]).get(instance_id)

    return lookup


def complete_hook(
    integration: AwsIntegration, region: str, hook: Hook, instance_id: str
) -> bool:
    """CONTINUE a lifecycle action; False if AWS refused (already done or expired)."""
    if integration.credentials == Credentials.NONE or not hook.name:
        return False
    params: dict[str, Any] = {
        "AutoScalingGroupName": hook.group,
        "LifecycleHookName": hook.name,
        "LifecycleActionResult": "CONTINUE",
    }
    if len(hook.token) >= 36:
        params["LifecycleActionToken"] = hook.token
    else:
        params["InstanceId"] = instance_id
    try:
        client(integration, "autoscaling", region).complete_lifecycle_action(**params)
    except ClientError as e:
        # "No active Lifecycle Action found": completed already or timed out; the
        # hook's DefaultResult (CONTINUE in our templates) has applied.
        log.warning(
            "aws: lifecycle hook %s for %s not completed: %s",
            hook.name,
            instance_id,
            e.response.get("Error", {}).get("Code", "error"),
        )
        return False
    except (BotoCoreError, NotImplementedError) as e:
        log.warning("aws: lifecycle hook %s: %s", hook.name, type(e).__name__)
        return False
    return True
