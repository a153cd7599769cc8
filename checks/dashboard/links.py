"""Pages opened from links in emails, without logging in: the signed token is the
permission. GET only shows what a click would do (mail scanners fetch links);
the change is a POST from that page.
"""

from __future__ import annotations

from uuid import UUID

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from checks.models import Channel
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
