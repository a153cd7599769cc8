"""Read-only JSON API: GET /api/v3/aws/integrations/[<uuid>/[instances/]].

Built on the Management API's ApiView: same X-Api-Key auth, errors and limits.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from django.conf import settings
from django.urls import path, reverse
from rest_framework.request import Request
from rest_framework.response import Response

from checks.api.base import ApiView
from checks.api.errors import ApiError
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


class AwsApiView(ApiView):
    """The Management API's key auth, limits and errors; read-only keys may read."""

    methods = ("GET",)
    read_methods = ("GET",)

    def get_integration(self, code: UUID) -> AwsIntegration:
        found = AwsIntegration.objects.filter(project=self.project, code=code).first()
        if found is None:
            raise ApiError(404, "not found")
        return found


class IntegrationsView(AwsApiView):
    def get(self, request: Request) -> Response:
        rows = AwsIntegration.objects.filter(project=self.project).order_by("created")
        return Response({"integrations": [integration_json(r) for r in rows]})


class IntegrationView(AwsApiView):
    def get(self, request: Request, code: UUID) -> Response:
        return Response(integration_json(self.get_integration(code)))


class InstancesView(AwsApiView):
    def get(self, request: Request, code: UUID) -> Response:
        integration = self.get_integration(code)
        rows = integration.instances.select_related("target").order_by("created")
        return Response({"instances": [instance_json(r) for r in rows]})


urlpatterns = [
    path("integrations/", IntegrationsView.as_view()),
    path("integrations/<uuid:code>/", IntegrationView.as_view()),
    path("integrations/<uuid:code>/instances/", InstancesView.as_view()),
]
