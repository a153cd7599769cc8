"""Drain an integration's SQS queue: parse, apply, then delete what was committed."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from django.utils import timezone

from integrations.aws import clients, handler
from integrations.aws.events import BadEvent, parse_message
from integrations.aws.models import AwsIntegration

log = logging.getLogger(__name__)


@dataclass
class PollResult:
    received: int = 0
    applied: int = 0
    skipped: int = 0  # unreadable or irrelevant messages (deleted)
    failed: int = 0  # left on the queue for redelivery (and the DLQ in the end)


def process(
    *, integration: AwsIntegration, body: Any, lookup: handler.Lookup | None
) -> handler.Outcome | None:
    """Apply one message's event and complete its lifecycle hook; None if irrelevant.

    Raises BadEvent (never retry) or RetryLater / AWS errors (retry later).
    """
    signal = parse_message(body)
    if signal is None:
        return None
    outcome = handler.apply(
        integration=integration, signal=signal, now=timezone.now(), lookup=lookup
    )
    if signal.hook is not None:
        # After the commit: the instance goes in service once its check exists.
        region = signal.region or integration.region_list()[0]
        clients.complete_hook(integration, region, signal.hook, signal.instance_id)
    return outcome


def receive_once(
    integration: AwsIntegration, sqs: Any, *, wait: int, result: PollResult
) -> int:
    """One ReceiveMessage round; returns how many messages came."""
    response = sqs.receive_message(
        QueueUrl=integration.queue_url,
        MaxNumberOfMessages=10,
        WaitTimeSeconds=wait,
    )
    messages = response.get("Messages", [])
    lookup = clients.lookup_for(integration)
    for message in messages:
        result.received += 1
        try:
            outcome = process(
                integration=integration, body=message.get("Body", ""), lookup=lookup
            )
        except BadEvent as e:
            log.warning("aws: dropping unreadable message: %s", e)
            outcome = None
        except (handler.RetryLater, ClientError, BotoCoreError) as e:
            log.warning("aws: message left for redelivery: %s", e)
            result.failed += 1
            continue
        except Exception:
            # Our own bug or the DB: keep the message; the DLQ catches poison.
            log.exception("aws: message left for redelivery")
            result.failed += 1
            continue
        if outcome is None:
            result.skipped += 1
        else:
            result.applied += 1
        sqs.delete_message(
            QueueUrl=integration.queue_url, ReceiptHandle=message["ReceiptHandle"]
        )
    return len(messages)


def poll(
    integration: AwsIntegration, *, wait: int = 20, budget: float = 50.0
) -> PollResult:
    """Receive until the queue is empty or `budget` seconds have passed."""
    result = PollResult()
    sqs = clients.client(integration, "sqs", clients.queue_region(integration))
    deadline = time.monotonic() + budget
    while time.monotonic() < deadline:
        remaining = max(0, min(wait, int(deadline - time.monotonic())))
        if receive_once(integration, sqs, wait=remaining, result=result) == 0:
            break
    AwsIntegration.objects.filter(pk=integration.pk).update(last_poll_at=timezone.now())
    return result


def pollable() -> list[AwsIntegration]:
    return list(
        AwsIntegration.objects.filter(enabled=True)
        .exclude(queue_url="")
        .exclude(credentials="none")
        .select_related("project")
    )


def poll_all(*, wait: int, budget: float) -> dict[str, PollResult]:
    """Poll every enabled queue; one integration's failure does not stop the rest."""
    results = {}
    for integration in pollable():
        try:
            results[str(integration.code)] = poll(integration, wait=wait, budget=budget)
        except (ClientError, BotoCoreError, clients.AwsUnavailable) as e:
            _record_error(integration, f"polling failed: {type(e).__name__}")
            log.warning("aws: polling %s failed: %s", integration.code, e)
    return results


def _record_error(integration: AwsIntegration, message: str) -> None:
    AwsIntegration.objects.filter(pk=integration.pk).update(last_error=message[:200])
