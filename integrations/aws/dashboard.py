"""Dashboard pages of AWS integrations: list, add/edit/delete integrations and rules."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from checks.dashboard.access import Access, project_access
from checks.models import Channel
from integrations.aws import config
from integrations.aws.forms import IntegrationForm, RuleForm
from integrations.aws.models import AwsInstance, AwsIntegration, AwsRule

# A big fleet's history can be long; the page shows the newest records.
INSTANCE_LIMIT = 200


def _integration(access: Access, integration: UUID) -> AwsIntegration:
    # Looked up within the project: another project's integration is simply not found.
    found = AwsIntegration.objects.filter(project=access.project, code=integration)
    row = found.first()
    if row is None:
        raise Http404
    return row


def _rule(access: Access, rule: int) -> AwsRule:
    found = AwsRule.objects.filter(pk=rule, integration__project=access.project)
    row = found.select_related("integration").first()
    if row is None:
        raise Http404
    return row


def _list_url(access: Access) -> str:
    return reverse("aws-list", args=[access.project.code])


@login_required
@require_GET
def aws_list(request: HttpRequest, code: UUID) -> HttpResponse:
    """The project's AWS integrations, their rules and instance records."""
    access = project_access(request.user, code)
    integrations = []
    rows = AwsIntegration.objects.filter(project=access.project).order_by("created")
    for integration in rows.prefetch_related("rules"):
        instances = AwsInstance.objects.filter(integration=integration)
        integrations.append(
            {
                "integration": integration,
                "rules": list(integration.rules.all()),
                "instances": instances.select_related("target").order_by(
                    "-created", "-id"
                )[:INSTANCE_LIMIT],
                "n_instances": instances.count(),
            }
        )
    context = {
        "project": access.project,
        "access": access,
        "integrations": integrations,
        "instance_limit": INSTANCE_LIMIT,
    }
    return render(request, "aws/list.html", context)


def _integration_form(
    request: HttpRequest,
    access: Access,
    form: IntegrationForm,
    integration: AwsIntegration | None,
    status: int = 200,
) -> HttpResponse:
    context = {
        "project": access.project,
        "access": access,
        "form": form,
        "integration": integration,
    }
    return render(request, "aws/integration_form.html", context, status=status)


def _saved(
    request: HttpRequest, access: Access, integration: AwsIntegration, push: str
) -> HttpResponse:
    """Apply the push-secret choice; a new secret is rendered once, never stored."""
    if push == "off":
        config.disable_push_secret(integration=integration)
    if push != "new":
        messages.success(request, f"AWS integration “{integration}” saved.")
        return redirect(_list_url(access))
    secret = config.rotate_push_secret(integration=integration)
    context = {
        "project": access.project,
        "access": access,
        "integration": integration,
        "secret": secret,
        "events_url": settings.SITE_ROOT
        + reverse("aws-events", args=[integration.code]),
    }
    response = render(request, "aws/secret.html", context)
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_http_methods(["GET", "POST"])
def add_integration(request: HttpRequest, code: UUID) -> HttpResponse:
    access = project_access(request.user, code, write=True)
    if request.method == "GET":
        form = IntegrationForm(initial={"regions": "us-east-1", "enabled": True})
        return _integration_form(request, access, form, None)
    form = IntegrationForm(request.POST)
    if not form.is_valid():
        return _integration_form(request, access, form, None, 400)
    try:
        integration = config.create_integration(
            project=access.project, **form.settings()
        )
    except config.ConfigError as e:
        form.add_error(None, str(e))
        return _integration_form(request, access, form, None, 400)
    return _saved(request, access, integration, form.cleaned_data["push_secret"])


@login_required
@require_http_methods(["GET", "POST"])
def edit_integration(
    request: HttpRequest, code: UUID, integration: UUID
) -> HttpResponse:
    access = project_access(request.user, code, write=True)
    row = _integration(access, integration)
    if request.method == "GET":
        form = IntegrationForm.for_integration(row)
        return _integration_form(request, access, form, row)
    form = IntegrationForm(request.POST)
    if not form.is_valid():
        return _integration_form(request, access, form, row, 400)
    try:
        row = config.update_integration(integration=row, **form.settings())
    except config.ConfigError as e:
        form.add_error(None, str(e))
        # The failed edit may have set attributes on `row`; show the stored one.
        row = _integration(access, integration)
        return _integration_form(request, access, form, row, 400)
    return _saved(request, access, row, form.cleaned_data["push_secret"])


def _confirm(
    request: HttpRequest, access: Access, what: str, warning: str
) -> HttpResponse:
    context = {
        "project": access.project,
        "access": access,
        "what": what,
        "warning": warning,
        "action": request.path,
    }
    return render(request, "aws/delete.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def delete_integration(
    request: HttpRequest, code: UUID, integration: UUID
) -> HttpResponse:
    """GET asks for confirmation; POST deletes the integration and its rules."""
    access = project_access(request.user, code, write=True)
    row = _integration(access, integration)
    if request.method == "GET":
        warning = (
            "Its rules and instance records go too; the checks it created stay. "
            "Events from its queue are no longer read."
        )
        return _confirm(request, access, f"the AWS integration “{row}”", warning)
    row.delete()
    messages.success(request, f"AWS integration “{row}” deleted.")
    return redirect(_list_url(access))


def _channels(access: Access) -> list[Channel]:
    return list(Channel.objects.filter(project=access.project).order_by("created"))


def _rule_form(
    request: HttpRequest,
    access: Access,
    form: RuleForm,
    integration: AwsIntegration,
    rule: AwsRule | None,
    status: int = 200,
) -> HttpResponse:
    context = {
        "project": access.project,
        "access": access,
        "form": form,
        "integration": integration,
        "rule": rule,
    }
    return render(request, "aws/rule_form.html", context, status=status)


def _save_rule(
    request: HttpRequest,
    access: Access,
    form: RuleForm,
    integration: AwsIntegration,
    rule: AwsRule,
) -> HttpResponse:
    data: dict[str, Any] = form.settings()
    # save_rule skips None ("not given"); an emptied boot deadline means "none".
    rule.boot_deadline = data.pop("boot_deadline")
    try:
        config.save_rule(rule=rule, **data)
    except config.ConfigError as e:
        form.add_error(None, str(e))
        shown = None if rule.pk is None else _rule(access, rule.pk)
        return _rule_form(request, access, form, integration, shown, 400)
    messages.success(request, "Rule saved.")
    return redirect(_list_url(access))


@login_required
@require_http_methods(["GET", "POST"])
def add_rule(request: HttpRequest, code: UUID, integration: UUID) -> HttpResponse:
    access = project_access(request.user, code, write=True)
    row = _integration(access, integration)
    channels = _channels(access)
    if request.method == "GET":
        form = RuleForm(initial=RuleForm.initial_for(AwsRule()), channels=channels)
        return _rule_form(request, access, form, row, None)
    form = RuleForm(request.POST, channels=channels)
    if not form.is_valid():
        return _rule_form(request, access, form, row, None, 400)
    rule = AwsRule(integration=row, position=config.next_position(integration=row))
    return _save_rule(request, access, form, row, rule)


@login_required
@require_http_methods(["GET", "POST"])
def edit_rule(request: HttpRequest, code: UUID, rule: int) -> HttpResponse:
    access = project_access(request.user, code, write=True)
    row = _rule(access, rule)
    channels = _channels(access)
    if request.method == "GET":
        form = RuleForm(initial=RuleForm.initial_for(row), channels=channels)
        return _rule_form(request, access, form, row.integration, row)
    form = RuleForm(request.POST, channels=channels)
    if not form.is_valid():
        return _rule_form(request, access, form, row.integration, row, 400)
    return _save_rule(request, access, form, row.integration, row)


@login_required
@require_http_methods(["GET", "POST"])
def delete_rule(request: HttpRequest, code: UUID, rule: int) -> HttpResponse:
    """GET asks for confirmation; POST deletes the rule."""
    access = project_access(request.user, code, write=True)
    row = _rule(access, rule)
    if request.method == "GET":
        warning = "Instances it matched keep their checks; new ones no longer match it."
        return _confirm(request, access, f"{row}", warning)
    row.delete()
    messages.success(request, "Rule deleted.")
    return redirect(_list_url(access))


@login_required
@require_POST
def move_rule(request: HttpRequest, code: UUID, rule: int) -> HttpResponse:
    """Move a rule one place up or down: the first matching rule wins."""
    access = project_access(request.user, code, write=True)
    row = _rule(access, rule)
    offsets = {"up": -1, "down": 1}
    direction = request.POST.get("direction", "")
    if direction not in offsets:
        return HttpResponse("direction must be up or down", status=400)
    config.move_rule(rule=row, offset=offsets[direction])
    return redirect(_list_url(access))
