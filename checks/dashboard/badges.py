"""Badges page: status badge URLs per tag, for all checks and per check."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from checks import badges
from checks.dashboard.access import project_access
from checks.models import Check

FORMAT_LABELS = {"svg": "SVG", "json": "JSON", "shields": "Shields.io"}


@dataclass(frozen=True)
class BadgeRow:
    """One badge (a tag, all checks, or one check) in every format and state count."""

    label: str
    preview: str  # the 3-state SVG, shown as an image
    urls: list[tuple[str, str, str]]  # (format label, states, URL)


def _row(label: str, urls: dict[str, str]) -> BadgeRow:
    variants = []
    for fmt, fmt_label in FORMAT_LABELS.items():
        variants.append((fmt_label, "up/down", urls[fmt]))
        variants.append((fmt_label, "up/late/down", urls[f"{fmt}3"]))
    return BadgeRow(label=label, preview=urls["svg3"], urls=variants)


@login_required
@require_GET
def badges_page(request: HttpRequest, code: UUID) -> HttpResponse:
    """Badge URLs: public, but unguessable (signed per tag, random per check)."""
    access = project_access(request.user, code)
    checks = list(Check.objects.filter(project=access.project).order_by("name", "id"))
    tags = {tag for check in checks for tag in check.tags_list()}
    by_tag = badges.project_badges(access.project, tags)
    rows = [_row("All checks", by_tag.pop("*"))]
    rows += [_row(f"Tag “{tag}”", urls) for tag, urls in by_tag.items()]
    check_rows = [
        _row(
            check.name or str(check.code),
            {
                f"{fmt}{suffix}": badges.check_badge_url(check, fmt, states)
                for fmt in FORMAT_LABELS
                for suffix, states in (("", 2), ("3", 3))
            },
        )
        for check in checks
    ]
    context = {
        "project": access.project,
        "access": access,
        "rows": rows,
        "check_rows": check_rows,
        "metrics_url": f"{settings.SITE_ROOT}/projects/{access.project.code}/metrics/",
    }
    return render(request, "checks/badges.html", context)
