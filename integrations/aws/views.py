"""Push endpoints: SNS -> HTTPS and EventBridge API destination -> HTTPS.

Both feed the same handler as the SQS poller and answer only after the effect is
committed: 2xx means done, 5xx asks AWS to retry. Secrets are never logged.
"""

from __future__ import annotations

import hmac
import json
import logging
from datetime import timedelta
from typing import Any
from uuid import UUID

from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.urls import path
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from checks.models import key_digest
from integrations.aws import clients, handler, poller, sns
from integrations.aws.events import BadEvent
from integrations.aws.models import AwsIntegration

log = logging.getLogger(__name__)

# EventBridge events are at most 256 KiB; SNS messages too.
MAX_BODY = 256 * 1024
SECRET_HEADER = "X-Hc-Aws-Secret"  # noqa: S105 - a header name


def _error(message: str, status: int) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


def _integration(code: UUID) -> AwsIntegration | None:
    return (
        AwsIntegration.objects.filter(code=code, enabled=True)
        .select_related("project")
        .first()
    )


def _body(request: HttpRequest) -> Any:
    """The JSON body (SNS posts it as text/plain); ValueError if unreadable."""
    if len(request.body) > MAX_BODY:
        raise ValueError("body too large")
    return json.loads(request.body)


def _apply(integration: AwsIntegration, body: Any) -> JsonResponse:
    try:
        outcome = poller.process(
            integration=integration, body=body, lookup=clients.lookup_for(integration)
        )
    except BadEvent as e:
        return _error(f"unreadable event: {e}", 400)
    except (handler.RetryLater, ClientError, BotoCoreError) as e:
        log.warning("aws: pushed event not applied yet: %s", e)
        return _error("try again later", 503)
    return JsonResponse({"result": outcome.action if outcome else "ignored"})


@csrf_exempt
@require_POST
def sns_endpoint(request: HttpRequest, code: UUID) -> JsonResponse:
    """SNS HTTP(S) subscription: confirmations and notifications, all signed."""
    integration = _integration(code)
    if integration is None:
        return _error("not found", 404)
    try:
        message = _body(request)
    except ValueError:
        return _error("body is not a JSON document", 400)
    try:
        sns.verify(
            message,
            now=timezone.now(),
            max_age=timedelta(seconds=settings.AWS_SNS_MAX_AGE),
        )
    except sns.SnsError as e:
        log.warning("aws: SNS message for %s refused: %s", code, e)
        return _error(f"refused: {e}", 403)
    if message["TopicArn"] not in integration.topic_list():
        log.warning("aws: SNS message for %s from a topic not allowed", code)
        return _error("refused: topic not allowed", 403)
    kind = message["Type"]
    if kind == "SubscriptionConfirmation":
        try:
            sns.confirm_subscription(str(message.get("SubscribeURL", "")))
        except sns.SnsError as e:
            log.warning("aws: SNS subscription for %s not confirmed: %s", code, e)
            return _error(f"not confirmed: {e}", 502)
        AwsIntegration.objects.filter(pk=integration.pk).update(
            sns_confirmed_at=timezone.now(), last_error=""
        )
        return JsonResponse({"result": "confirmed"})
    if kind == "UnsubscribeConfirmation":
        # Never visit its SubscribeURL: that would subscribe again.
        AwsIntegration.objects.filter(pk=integration.pk).update(
            sns_confirmed_at=None, last_error="the SNS subscription was deleted"
        )
        return JsonResponse({"result": "unsubscribed"})
    return _apply(integration, message["Message"])


@csrf_exempt
@require_POST
def events_endpoint(request: HttpRequest, code: UUID) -> JsonResponse:
    """EventBridge API destination: the event as the body, our secret in a header."""
    integration = _integration(code)
    if integration is None:
        return _error("not found", 404)
    secret = request.headers.get(SECRET_HEADER, "")
    # 401 (not 403): EventBridge retries a 401, so a key rotated on one side only
    # delays events instead of losing them.
    if not (
        integration.push_secret_hash
        and secret
        and hmac.compare_digest(key_digest(secret), integration.push_secret_hash)
    ):
        return _error("wrong secret", 401)
    try:
        event = _body(request)
    except ValueError:
        return _error("body is not a JSON document", 400)
    return _apply(integration, event)


urlpatterns = [
    path("<uuid:code>/sns/", sns_endpoint, name="aws-sns"),
    path("<uuid:code>/events/", events_endpoint, name="aws-events"),
]
