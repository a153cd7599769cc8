"""A project's Prometheus exporter (spec 4.6.17), behind a read-only API key."""

from __future__ import annotations

from collections.abc import Iterator
from uuid import UUID

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from checks import schedule, services
from checks.models import Check, Status

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
KEY_LENGTH = 32

GAUGES = [
    ("hc_check_up", "Whether the check is currently up (1 for yes, 0 for no)."),
    ("hc_check_started", "Whether the check is currently running (1 or 0)."),
    ("hc_check_grace", "Whether the check is late, in its grace time (1 or 0)."),
    ("hc_check_paused", "Whether the check is paused (1 or 0)."),
]


def _label(value: str) -> str:
    """A Prometheus label value: backslash, double quote and newline escaped."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _header(name: str, text: str) -> str:
    return f"# HELP {name} {text}\n# TYPE {name} gauge\n"


def exposition(checks: list[Check]) -> Iterator[str]:
    """The text exposition format of every gauge for these checks."""
    now = timezone.now()
    statuses = [schedule.status_at(c, now) for c in checks]
    values = {
        "hc_check_up": [int(s != Status.DOWN) for s in statuses],
        "hc_check_started": [int(c.last_start is not None) for c in checks],
        "hc_check_grace": [int(s == Status.GRACE) for s in statuses],
        "hc_check_paused": [int(s == Status.PAUSED) for s in statuses],
    }
    labels = [
        f'name="{_label(c.name)}", tags="{_label(c.tags)}", unique_key="{c.unique_key}"'
        for c in checks
    ]
    for name, text in GAUGES:
        yield _header(name, text)
        for label, value in zip(labels, values[name], strict=True):
            yield f"{name}{{{label}}} {value}\n"

    tags_up: dict[str, bool] = {}
    for check, status in zip(checks, statuses, strict=True):
        for tag in check.tags_list():
            tags_up[tag] = tags_up.get(tag, True) and status != Status.DOWN
    yield _header(
        "hc_tag_up", "Whether all checks with this tag are up (1 for yes, 0 for no)."
    )
    for tag, up in sorted(tags_up.items()):
        yield f'hc_tag_up{{tag="{_label(tag)}"}} {int(up)}\n'

    yield _header("hc_checks_total", "The total number of checks.")
    yield f"hc_checks_total {len(checks)}\n"
    yield _header("hc_checks_down_total", "The number of checks currently down.")
    yield f"hc_checks_down_total {statuses.count(Status.DOWN)}\n"


@never_cache
@require_GET
def metrics(request: HttpRequest, code: UUID, key: str | None = None) -> HttpResponse:
    """401 without a key, 400 for a malformed one, 403 unless a read-only key of
    this project; the key travels in the URL or as `Authorization: Bearer`."""
    if key is None:
        auth = request.headers.get("Authorization", "")
        if not auth.startswith("Bearer "):
            return HttpResponse(status=401)
        key = auth.removeprefix("Bearer ")
    if len(key) != KEY_LENGTH:
        return HttpResponse(status=400)
    api_key = services.find_api_key(key)
    if api_key is None or not api_key.read_only or api_key.project.code != code:
        return HttpResponse(status=403)
    services.touch_api_key(key=api_key, now=timezone.now())
    checks = list(Check.objects.filter(project=api_key.project).order_by("id"))
    return HttpResponse("".join(exposition(checks)), content_type=CONTENT_TYPE)
