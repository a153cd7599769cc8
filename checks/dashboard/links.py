"""Pages opened from links in emails, without logging in: the signed token is the
permission. GET only shows what a click would do (mail scanners fetch links);
the change is a POST from that page, or a one-click unsubscribe POST (RFC 8058).
"""

from __future__ import annotations

from collections.abc import Callable
from uuid import UUID

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods

from checks.models import Channel, Profile, Reports
from integrations import email_links


def _invalid(request: HttpRequest) -> HttpResponse:
    return render(request, "links/invalid.html", status=400)


@require_http_methods(["GET", "POST"])
def verify_email(request: HttpRequest, code: UUID, token: str) -> HttpResponse:
    """GET asks to confirm; POST starts the alerts to the address."""
    channel = (
        Channel.objects.filter(code=code, kind="email")
        .select_related("project")
        .first()
    )
    address = email_links.read_address(email_links.VERIFY_SALT, code, token)
    if channel is None or address is None:
        return _invalid(request)
    context: dict[str, object] = {
        "address": address,
        "project_name": channel.project.name or "(unnamed)",
    }
    if request.method == "GET":
        return render(request, "links/verify.html", context)
    context["verified"] = email_links.verify(channel, address)
    return render(request, "links/verified.html", context)


def _one_click(request: HttpRequest) -> bool:
    """An RFC 8058 one-click unsubscribe: a POST of List-Unsubscribe=One-Click."""
    return (
        request.method == "POST" and request.POST.get("List-Unsubscribe") == "One-Click"
    )


def _unsubscribe_view(
    request: HttpRequest,
    page: str,
    context: dict[str, object],
    action: Callable[[], bool],
) -> HttpResponse:
    """GET asks; POST acts. CSRF is waived only for a one-click POST, whose signed
    URL is the permission (mail providers send it without cookies or a token)."""
    if _one_click(request):
        action()
        return HttpResponse("Unsubscribed.\n", content_type="text/plain")

    @csrf_protect
    def confirm(request: HttpRequest) -> HttpResponse:
        if request.method == "POST":
            context["done"] = action()
        return render(request, page, context)

    return confirm(request)


@csrf_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe_alerts(request: HttpRequest, code: UUID, token: str) -> HttpResponse:
    """Take the address of the token off the email channel (List-Unsubscribe)."""
    address = email_links.read_address(email_links.UNSUBSCRIBE_SALT, code, token)
    if address is None:
        return _invalid(request)
    channel = (
        Channel.objects.filter(code=code, kind="email")
        .select_related("project")
        .first()
    )
    context: dict[str, object] = {
        "address": address,
        "project_name": (channel.project.name or "(unnamed)") if channel else "",
        "subscribed": channel is not None
        and address in email_links.addresses(channel.config),
    }
    return _unsubscribe_view(
        request,
        "links/unsubscribe_alerts.html",
        context,
        lambda: email_links.unsubscribe(code, address),
    )


@csrf_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe_reports(request: HttpRequest, token: str) -> HttpResponse:
    """Turn off the reports of the token's user (List-Unsubscribe)."""
    user_id = email_links.read_user(token)
    if user_id is None:
        return _invalid(request)
    profile = Profile.objects.filter(user_id=user_id).first()
    context: dict[str, object] = {
        "subscribed": profile is not None and profile.reports != Reports.OFF,
        "period": profile.reports if profile else "",
    }
    return _unsubscribe_view(
        request,
        "links/unsubscribe_reports.html",
        context,
        lambda: email_links.unsubscribe_reports(user_id),
    )
