"""The API keys page of a project: named keys and the ping key."""

from __future__ import annotations

from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_POST

from checks import services
from checks.dashboard.access import Access
from checks.dashboard.forms import ApiKeyForm
from checks.dashboard.projects import access_for
from checks.models import ApiKey, Project


def _render(
    request: HttpRequest,
    access: Access,
    form: ApiKeyForm | None = None,
    status: int = 200,
    **extra: object,
) -> HttpResponse:
    context = {
        "access": access,
        "project": access.project,
        "keys": access.project.api_keys.order_by("created"),
        "form": form or ApiKeyForm(),
        **extra,
    }
    response = render(request, "projects/keys.html", context, status=status)
    # The page may carry a full key: keep it out of every cache.
    add_never_cache_headers(response)
    return response


@login_required
def keys_page(request: HttpRequest, code: UUID) -> HttpResponse:
    """GET lists the keys; POST creates one and shows it in full, this once."""
    # Read-only members do not see keys at all (as upstream).
    access = access_for(request, code, "write")
    if request.method != "POST":
        return _render(request, access)
    form = ApiKeyForm(request.POST)
    if not form.is_valid():
        return _render(request, access, form, status=400)
    key, full = services.create_api_key(
        project=access.project,
        name=form.cleaned_data["name"],
        read_only=form.cleaned_data["kind"] == "ro",
    )
    # Rendered, not redirected: the full key must not be stored, not even in a session.
    return _render(request, access, new_key=key, full_key=full)


@login_required
@require_POST
def revoke_key(request: HttpRequest, code: UUID, key_id: int) -> HttpResponse:
    access = access_for(request, code, "write")
    key = ApiKey.objects.filter(project=access.project, pk=key_id).first()
    if key is None:
        raise Http404
    key.delete()
    messages.success(request, f"API key “{key.name}” was revoked.")
    return redirect(f"/projects/{code}/settings/keys/")


@login_required
@require_POST
def create_ping_key(request: HttpRequest, code: UUID) -> HttpResponse:
    access = access_for(request, code, "write")
    services.rotate_ping_key(project=access.project)
    messages.success(
        request, "A new ping key was created; slug URLs with the old one stop working."
    )
    return redirect(f"/projects/{code}/settings/keys/")


@login_required
@require_POST
def revoke_ping_key(request: HttpRequest, code: UUID) -> HttpResponse:
    access = access_for(request, code, "write")
    Project.objects.filter(pk=access.project.pk).update(ping_key=None)
    messages.success(request, "The ping key was revoked; slug ping URLs are disabled.")
    return redirect(f"/projects/{code}/settings/keys/")
