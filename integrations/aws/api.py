"""Read-only JSON API: GET /api/v3/aws/integrations/[<uuid>/[instances/]]."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.urls import path, reverse
from django.views.decorators.http import require_GET

from integrations.aws.auth import ApiAuthError, api_project
from integrations.aws.models import AwsInstance, AwsIntegration, AwsRule


def _time(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value else None


def _seconds(value: timedelta | None) -> int | None:
    return int(value.total_seconds()) if value is not None else None


def rule_json(rule: AwsRule) -> dict[str, Any]:
    return {
        "id": rule.pk,
        "position": rule.position,
        "asg": rule.asg_pattern,
        "tag_key": rule.tag_key,
        "tag_value": rule.tag_value,
        "name_template": rule.name_tpl,
        "slug_template": rule.slug_tpl,
        "tags_template": rule.tags_tpl,
        "desc_template": rule.desc_tpl,
        "kind": rule.kind,
        "timeout": _seconds(rule.timeout),
        "grace": _seconds(rule.grace),
        "schedule": rule.schedule,
        "tz": rule.tz,
        "channels": rule.channels,
        "on_scale_in": rule.on_scale_in,
        "retention": _seconds(rule.retention),
        "boot_deadline": _seconds(rule.boot_deadline),
    }


def integration_json(integration: AwsIntegration) -> dict[str, Any]:
    """Everything but secrets: the push secret's digest is never shown."""
    code = integration.code
    return {
        "uuid": str(code),
        "name": integration.name,
        "regions": integration.region_list(),
        "queue_url": integration.queue_url,
        "credentials": integration.credentials,
        "role_arn": integration.role_arn,
        # AWS documents the external id as not secret; the role's trust policy needs it.
        "external_id": integration.external_id,
        "sns_topic_arns": integration.topic_list(),
        "sns_url": settings.SITE_ROOT + reverse("aws-sns", args=[code]),
        "events_url": settings.SITE_ROOT + reverse("aws-events", args=[code]),
        "push_secret_set": bool(integration.push_secret_hash),
        "enabled": integration.enabled,
        "last_poll": _time(integration.last_poll_at),
        "last_reconcile": _time(integration.last_reconcile_at),
        "sns_confirmed": _time(integration.sns_confirmed_at),
        "last_error": integration.last_error,
        "rules": [rule_json(r) for r in integration.rules.all()],
    }


def instance_json(row: AwsInstance) -> dict[str, Any]:
    return {
        "instance_id": row.instance_id,
        "account": row.account,
        "region": row.region,
        "asg": row.asg,
        "state": row.state,
        "slug": row.slug,
        "check": str(row.target.code) if row.target else None,
        "rule": row.rule_id,
        "created": _time(row.created),
        "retired": _time(row.retired_at),
        "delete_at": _time(row.delete_at),
    }


def _not_found() -> JsonResponse:
    return JsonResponse({"error": "not found"}, status=404)


@require_GET
def integrations(request: HttpRequest) -> JsonResponse:
    try:
        project = api_project(request)
    except ApiAuthError as e:
        return e.response
    rows = AwsIntegration.objects.filter(project=project).order_by("created")
    return JsonResponse({"integrations": [integration_json(r) for r in rows]})


@require_GET
def integration(request: HttpRequest, code: UUID) -> JsonResponse:
    try:
        project = api_project(request)
    except ApiAuthError as e:
        return e.response
    row = AwsIntegration.objects.filter(project=project, code=code).first()
    if row is None:
        return _not_found()
    return JsonResponse(integration_json(row))


@require_GET
def instances(request: HttpRequest, code: UUID) -> JsonResponse:
    try:
        project = api_project(request)
    except ApiAuthError as e:
        return e.response
    row = AwsIntegration.objects.filter(project=project, code=code).first()
    if row is None:
        return _not_found()
    rows = row.instances.select_related("target").order_by("created")
    return JsonResponse({"instances": [instance_json(r) for r in rows]})


urlpatterns = [
    path("integrations/", integrations),
    path("integrations/<uuid:code>/", integration),
    path("integrations/<uuid:code>/instances/", instances),
]
