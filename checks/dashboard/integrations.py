"""Integrations pages: list, add, edit, test and remove the project's channels."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from checks import alerts, services
from checks.dashboard import config_form
from checks.dashboard.access import Access, project_access
from checks.models import Channel, DeliveryState, EmailVerification
from integrations import email_links, registry
from integrations.base import ChannelKind

NAME_LIMIT = 100


def _kind(kind: str) -> ChannelKind:
    try:
        return registry.get(kind)
    except KeyError:
        raise Http404 from None


def _channel_access(
    request: HttpRequest, code: UUID, *, write: bool = False
) -> tuple[Channel, Access]:
    channel = Channel.objects.filter(code=code).select_related("project").first()
    if channel is None:
        raise Http404
    access = project_access(request.user, channel.project.code, write=write)
    return channel, access


def _label(kind: str) -> str:
    try:
        return registry.get(kind).label
    except KeyError:
        return kind


@login_required
@require_GET
def integrations_list(request: HttpRequest, code: UUID) -> HttpResponse:
    """The project's channels with their last delivery, and the kinds to add."""
    access = project_access(request.user, code)
    channels = (
        Channel.objects.filter(project=access.project)
        .annotate(n_checks=Count("checks"))
        .prefetch_related("unverified")
        .order_by("created", "id")
    )
    context = {
        "project": access.project,
        "access": access,
        "channels": [(c, _label(c.kind), _waiting(c)) for c in channels],
        "kinds": registry.choices(),
    }
    return render(request, "integrations/list.html", context)


def _form(
    request: HttpRequest,
    access: Access,
    kind: ChannelKind,
    *,
    channel: Channel | None,
    name: str,
    fields: list[config_form.ConfigField],
    errors: list[str],
    status: int = 200,
) -> HttpResponse:
    context = {
        "project": access.project,
        "access": access,
        "kind": kind,
        "channel": channel,
        "name": name,
        "name_limit": NAME_LIMIT,
        "fields": fields,
        "errors": errors,
    }
    return render(request, "integrations/form.html", context, status=status)


def _validate(
    request: HttpRequest, kind: ChannelKind
) -> tuple[str, dict[str, Any] | None, list[config_form.ConfigField], list[str]]:
    """(name, config or None when invalid, fields to redisplay, form-level errors)."""
    name = request.POST.get("name", "").strip()
    form_errors = []
    if len(name) > NAME_LIMIT:
        form_errors.append(f"The name may be at most {NAME_LIMIT} characters.")
    try:
        data = config_form.parse_post(kind.config, request.POST)
    except config_form.ParseError as e:
        redisplay = _submitted(request, kind, e.errors)
        return name, None, redisplay, form_errors
    serializer = kind.config(data=data)
    if not serializer.is_valid() or form_errors:
        errors = dict(serializer.errors) if serializer.errors else {}
        form_errors += config_form.flatten_errors(errors.pop("non_field_errors", []))
        return name, None, _submitted(request, kind, errors), form_errors
    return name, dict(serializer.validated_data), [], []


def _submitted(
    request: HttpRequest, kind: ChannelKind, errors: dict[str, Any]
) -> list[config_form.ConfigField]:
    """The inputs as the user filled them, with the errors beside them."""
    fields = config_form.build_fields(kind.config, errors=errors)
    for f in fields:
        if f.widget == "checkbox":
            f.value = f.input_name in request.POST
        else:
            f.value = request.POST.get(f.input_name, "")
    return fields


def _waiting(channel: Channel) -> list[EmailVerification]:
    """The email addresses still to confirm, from the prefetched rows."""
    if channel.kind != "email" or not settings.EMAIL_USE_VERIFICATION:
        return []
    return sorted(channel.unverified.all(), key=lambda row: row.address)


def _tell_unverified(request: HttpRequest, channel: Channel) -> None:
    waiting = email_links.unverified(channel)
    if waiting:
        messages.info(
            request,
            f"Waiting for {', '.join(waiting)} to confirm by the link emailed to "
            "them: alerts go there once they do.",
        )


@login_required
@require_http_methods(["GET", "POST"])
def add_channel(request: HttpRequest, code: UUID, kind: str) -> HttpResponse:
    """A form generated from the kind's config serializer; POST creates the channel."""
    access = project_access(request.user, code, write=True)
    channel_kind = _kind(kind)
    if request.method == "GET":
        fields = config_form.build_fields(channel_kind.config)
        return _form(
            request,
            access,
            channel_kind,
            channel=None,
            name="",
            fields=fields,
            errors=[],
        )
    name, config, fields, errors = _validate(request, channel_kind)
    if config is None:
        return _form(
            request,
            access,
            channel_kind,
            channel=None,
            name=name,
            fields=fields,
            errors=errors,
            status=400,
        )
    channel = services.create_channel(
        project=access.project, kind=kind, name=name, config=config, by=request.user
    )
    messages.success(request, f"{channel_kind.label} integration added.")
    _tell_unverified(request, channel)
    return redirect("integrations-list", code=access.project.code)


@login_required
@require_http_methods(["GET", "POST"])
def edit_channel(request: HttpRequest, code: UUID) -> HttpResponse:
    channel, access = _channel_access(request, code, write=True)
    channel_kind = _kind(channel.kind)
    if request.method == "GET":
        fields = config_form.build_fields(channel_kind.config, values=channel.config)
        return _form(
            request,
            access,
            channel_kind,
            channel=channel,
            name=channel.name,
            fields=fields,
            errors=[],
        )
    name, config, fields, errors = _validate(request, channel_kind)
    if config is None:
        return _form(
            request,
            access,
            channel_kind,
            channel=channel,
            name=name,
            fields=fields,
            errors=errors,
            status=400,
        )
    services.update_channel(channel=channel, name=name, config=config, by=request.user)
    messages.success(request, "Integration saved.")
    _tell_unverified(request, channel)
    return redirect("integrations-list", code=access.project.code)


@login_required
@require_POST
def test_channel(request: HttpRequest, code: UUID) -> HttpResponse:
    """Send a test alert now and report how it went."""
    channel, access = _channel_access(request, code, write=True)
    notification = alerts.send_test_notification(channel=channel)
    if notification.state == DeliveryState.SENT:
        messages.success(request, f"Test notification sent to “{channel}”.")
    elif notification.state == DeliveryState.PENDING:
        # Over the destination's rate limit: it goes out at its slot.
        messages.info(
            request, f"Test notification to “{channel}”: {notification.error}"
        )
    else:
        error = notification.error or "delivery did not complete"
        messages.error(request, f"Test notification to “{channel}” failed: {error}")
    return redirect("integrations-list", code=access.project.code)


@login_required
@require_http_methods(["GET", "POST"])
def remove_channel(request: HttpRequest, code: UUID) -> HttpResponse:
    """GET asks for confirmation; POST removes the channel."""
    channel, access = _channel_access(request, code, write=True)
    if request.method == "GET":
        context = {
            "project": access.project,
            "access": access,
            "channel": channel,
            "label": _label(channel.kind),
        }
        return render(request, "integrations/remove.html", context)
    channel.delete()
    messages.success(request, f"Integration “{channel}” removed.")
    return redirect("integrations-list", code=access.project.code)


@login_required
@require_POST
def resend_verification(request: HttpRequest, code: UUID) -> HttpResponse:
    """Email the verification links of the channel's waiting addresses again."""
    channel, access = _channel_access(request, code, write=True)
    outcome = email_links.resend(channel)
    if not outcome:
        messages.info(request, f"Every address of “{channel}” is confirmed.")
    for sent in outcome:
        if sent.error:
            messages.error(
                request, f"No verification email to {sent.address}: {sent.error}."
            )
        else:
            messages.success(request, f"Verification email sent to {sent.address}.")
    return redirect("integrations-list", code=access.project.code)
