"""Status badges: signed URLs per project tag (spec 4.6.13) and per check.

`/badge/<badge_key>/<sig>[-2]/<tag>.<fmt>` and `/badge/<badge_key>/<sig>[-2].<fmt>`
(all checks, `*`), `sig` = first 8 characters of an HMAC of the tag keyed by
SECRET_KEY, so a badge URL reveals nothing and cannot be forged for another tag;
`-2` asks for two states (up/down) instead of three (up/late/down).
`/b/<2|3>/<check.badge_key>.<fmt>` is one check's badge. Formats: svg, json, shields.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import TypedDict
from urllib.parse import quote
from uuid import UUID

from django.conf import settings
from django.core.signing import base64_hmac
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import path, re_path
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.html import escape

from checks import schedule
from checks.models import Check, Project, Status

FORMATS = ("svg", "json", "shields")
COLORS = {"up": "#4c1", "late": "#fe7d37", "down": "#e05d44"}
SHIELDS_COLORS = {"up": "success", "late": "important", "down": "critical"}


class BadgeStatus(TypedDict):
    status: str
    total: int
    grace: int
    down: int


class Shields(TypedDict):
    schemaVersion: int
    label: str
    message: str
    color: str


def badge_signature(badge_key: str, tag: str) -> str:
    return base64_hmac(str(badge_key), tag, settings.SECRET_KEY)[:8]


def badge_url(
    badge_key: str, tag: str, fmt: str = "svg", with_late: bool = False
) -> str:
    """The public URL of a project badge for `tag` (`*` = all checks)."""
    sig = badge_signature(badge_key, tag)
    if not with_late:
        sig += "-2"
    if tag == "*":
        return f"{settings.SITE_ROOT}/badge/{badge_key}/{sig}.{fmt}"
    return f"{settings.SITE_ROOT}/badge/{badge_key}/{sig}/{quote(tag, safe='')}.{fmt}"


def badge_urls(badge_key: str, tag: str) -> dict[str, str]:
    """The six variants the API's `badges/` lists for one tag."""
    urls = {}
    for fmt in FORMATS:
        urls[fmt] = badge_url(badge_key, tag, fmt)
        urls[f"{fmt}3"] = badge_url(badge_key, tag, fmt, with_late=True)
    return urls


def project_badges(project: Project, tags: Iterable[str]) -> dict[str, dict[str, str]]:
    """Badge URLs for every tag given, then `*`."""
    result = {tag: badge_urls(project.badge_key, tag) for tag in sorted(set(tags))}
    result["*"] = badge_urls(project.badge_key, "*")
    return result


def check_badge_url(check: Check, fmt: str = "svg", states: int = 2) -> str:
    return f"{settings.SITE_ROOT}/b/{states}/{check.badge_key}.{fmt}"


def badge_status(
    checks: Iterable[Check], now: datetime, *, with_late: bool
) -> BadgeStatus:
    """Any check down → down; else any late → late (3 states) or up."""
    result = BadgeStatus(status="up", total=0, grace=0, down=0)
    for check in checks:
        result["total"] += 1
        status = schedule.status_at(check, now)
        if status == Status.DOWN:
            result["down"] += 1
            result["status"] = "down"
        elif status == Status.GRACE:
            result["grace"] += 1
            if with_late and result["status"] == "up":
                result["status"] = "late"
    return result


# Approximate advance widths (px) of 11px Verdana, enough to size the badge boxes.
NARROW = set("fijlrtI!.,:;'|()[] ")
WIDE = set("mwMW@%")


def text_width(text: str) -> int:
    width = 0.0
    for char in text:
        if char in NARROW:
            width += 4.2
        elif char in WIDE:
            width += 10.5
        elif char.isupper() or char.isdigit():
            width += 7.6
        else:
            width += 6.8
    return round(width)


def render_svg(label: str, status: str) -> str:
    left = text_width(label) + 10
    right = text_width(status) + 10
    total = left + right
    label, status = escape(label), escape(status)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{total}" height="20" '
        f'role="img" aria-label="{label}: {status}"><title>{label}: {status}</title>'
        f'<rect width="{left}" height="20" fill="#555"/>'
        f'<rect x="{left}" width="{right}" height="20" fill="{COLORS[status]}"/>'
        '<g fill="#fff" text-anchor="middle" '
        'font-family="DejaVu Sans,Verdana,Geneva,sans-serif" font-size="11">'
        f'<text x="{left / 2}" y="14">{label}</text>'
        f'<text x="{left + right / 2}" y="14">{status}</text></g></svg>'
    )


def _cors(response: HttpResponse) -> HttpResponse:
    response["Access-Control-Allow-Origin"] = "*"
    response["Access-Control-Allow-Headers"] = "X-Api-Key"
    response["Access-Control-Allow-Methods"] = "GET, OPTIONS"
    response["Access-Control-Max-Age"] = "600"
    add_never_cache_headers(response)
    return response


def _render(label: str, result: BadgeStatus, fmt: str) -> HttpResponse:
    if fmt == "svg":
        svg = render_svg(label, result["status"])
        return HttpResponse(svg, content_type="image/svg+xml")
    if fmt == "json":
        return JsonResponse(result)
    return JsonResponse(
        Shields(
            schemaVersion=1,
            label=label,
            message=result["status"],
            color=SHIELDS_COLORS[result["status"]],
        )
    )


def _answer(request: HttpRequest, make: Callable[[], HttpResponse]) -> HttpResponse:
    if request.method == "OPTIONS":
        return _cors(HttpResponse(status=204))
    if request.method != "GET":
        return _cors(HttpResponse(status=405))
    return _cors(make())


def _signed(badge_key: str, signature: str, tag: str) -> tuple[bool, bool]:
    """(signature valid, three states wanted)."""
    with_late = True
    if signature.endswith("-2") and len(signature) == 10:
        signature, with_late = signature[:-2], False
    valid = hmac.compare_digest(signature, badge_signature(badge_key, tag))
    return valid, with_late


def project_badge(
    request: HttpRequest, badge_key: str, signature: str, fmt: str, tag: str = "*"
) -> HttpResponse:
    """A project's badge for one tag, or for all its checks."""

    def make() -> HttpResponse:
        valid, with_late = _signed(badge_key, signature, tag)
        if fmt not in FORMATS or not valid:
            return HttpResponse(status=404)
        checks = Check.objects.filter(project__badge_key=badge_key)
        if tag != "*":
            # `contains` narrows in SQL; the exact tag test is below.
            checks = checks.filter(tags__contains=tag)
        tagged = [c for c in checks if tag == "*" or tag in c.tags_list()]
        result = badge_status(tagged, timezone.now(), with_late=with_late)
        label = settings.MASTER_BADGE_LABEL if tag == "*" else tag
        return _render(label, result, fmt)

    return _answer(request, make)


def check_badge(
    request: HttpRequest, states: int, badge_key: UUID, fmt: str
) -> HttpResponse:
    """One check's badge; `states` is 2 or 3."""

    def make() -> HttpResponse:
        check = Check.objects.filter(badge_key=badge_key).first()
        if check is None or fmt not in FORMATS or states not in (2, 3):
            return HttpResponse(status=404)
        result = badge_status([check], timezone.now(), with_late=states == 3)
        return _render(check.name or str(check.code), result, fmt)

    return _answer(request, make)


urlpatterns = [
    re_path(
        r"^badge/(?P<badge_key>[-\w]+)/(?P<signature>[-\w]{8}(?:-2)?)/(?P<tag>.+)\.(?P<fmt>\w+)\Z",
        project_badge,
        name="hc-badge",
    ),
    re_path(
        r"^badge/(?P<badge_key>[-\w]+)/(?P<signature>[-\w]{8}(?:-2)?)\.(?P<fmt>\w+)\Z",
        project_badge,
        name="hc-badge-all",
    ),
    path(
        "b/<int:states>/<uuid:badge_key>.<str:fmt>", check_badge, name="hc-badge-check"
    ),
]
