"""Checks list and check page: server-rendered, with small JSON endpoints for JS."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypedDict
from uuid import UUID
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    JsonResponse,
)
from django.shortcuts import redirect, render
from django.template.defaultfilters import date as date_filter
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from checks import schedule, services
from checks.dashboard import display
from checks.dashboard.access import Access, project_access
from checks.dashboard.forms_checks import (
    NameForm,
    PingHandlingForm,
    ScheduleForm,
    split_period,
)
from checks.models import Channel, Check, Flip, Kind, Ping, Profile, Status
from checks.templatetags.hc_checks import relative

if TYPE_CHECKING:
    from django.db.models import QuerySet

SORTS = {
    "created": "Created",
    "name": "Name A to Z",
    "-name": "Name Z to A",
    "-last_ping": "Last ping, newest first",
    "last_ping": "Last ping, oldest first",
}
FILTER_STATUSES = [
    Status.UP,
    Status.GRACE,
    Status.DOWN,
    Status.NEW,
    Status.PAUSED,
    Status.STARTED,
]
# The check page shows this many recent pings and flips.
LOG_ROWS = 100
FLIP_ROWS = 50
NEXT_RUNS = 5


@dataclass(frozen=True)
class Row:
    """One check as the list shows it at `now`."""

    check: Check
    status: Status
    next_due: datetime | None
    schedule: str

    @property
    def status_label(self) -> str:
        return display.STATUS_LABELS[self.status]


def _rows(checks: list[Check], now: datetime) -> list[Row]:
    return [
        Row(
            check=c,
            status=schedule.status_at(c, now, with_started=True),
            next_due=schedule.grace_start(c),
            schedule=display.schedule_words(c),
        )
        for c in checks
    ]


def _worst(statuses: list[Status]) -> Status:
    return min(statuses, key=lambda s: display.STATUS_RANK[s])


def _tag_statuses(rows: list[Row]) -> dict[str, Status]:
    """Every tag of the project, coloured by the worst status among its checks."""
    by_tag: dict[str, list[Status]] = {}
    for row in rows:
        for tag in row.check.tags_list():
            by_tag.setdefault(tag, []).append(row.status)
    return {tag: _worst(statuses) for tag, statuses in sorted(by_tag.items())}


def _matches(row: Row, tags: list[str], status: str, search: str) -> bool:
    if tags and not set(tags) <= set(row.check.tags_list()):
        return False
    if status and row.status != status:
        return False
    if search:
        needle = search.lower()
        haystack = (row.check.name, row.check.slug, str(row.check.code))
        return any(needle in text.lower() for text in haystack)
    return True


def _sorted(rows: list[Row], sort: str) -> list[Row]:
    never = datetime.min.replace(tzinfo=timezone.get_current_timezone())
    if sort in ("name", "-name"):
        rows = sorted(rows, key=lambda r: (r.check.name or str(r.check.code)).lower())
    elif sort in ("last_ping", "-last_ping"):
        rows = sorted(rows, key=lambda r: r.check.last_ping or never)
    if sort.startswith("-"):
        rows.reverse()
    # Down checks always come first; sorted() keeps the order within each group.
    return sorted(rows, key=lambda r: r.status != Status.DOWN)


def _project_checks(access: Access) -> QuerySet[Check]:
    return Check.objects.filter(project=access.project).order_by("created", "id")


@login_required
@require_GET
def checks_list(request: HttpRequest, code: UUID) -> HttpResponse:
    """The project's checks: status, schedule, last ping; filter, search, sort."""
    access = project_access(request.user, code)
    rows = _rows(list(_project_checks(access)), timezone.now())
    tags = request.GET.getlist("tag")
    status = request.GET.get("status", "")
    search = request.GET.get("search", "").strip()
    sort = request.GET.get("sort", "created")
    if sort not in SORTS:
        sort = "created"
    shown = _sorted([r for r in rows if _matches(r, tags, status, search)], sort)
    context = {
        "project": access.project,
        "access": access,
        "rows": shown,
        "total": len(rows),
        "tag_statuses": _tag_statuses(rows),
        "selected_tags": tags,
        "status": status,
        "statuses": [(s.value, display.STATUS_LABELS[s]) for s in FILTER_STATUSES],
        "search": search,
        "sort": sort,
        "sorts": SORTS,
        "filtered": bool(tags or status or search),
    }
    return render(request, "checks/list.html", context)


class RowJson(TypedDict):
    code: str
    status: str
    status_label: str
    last_ping: str
    next_due: str


@login_required
@require_GET
def checks_status(request: HttpRequest, code: UUID) -> JsonResponse:
    """What the list shows for every check now: the list page polls this."""
    access = project_access(request.user, code)
    rows = _rows(list(_project_checks(access)), timezone.now())
    checks: list[RowJson] = [
        {
            "code": str(r.check.code),
            "status": r.status.value,
            "status_label": r.status_label,
            "last_ping": relative(r.check.last_ping),
            "next_due": relative(r.next_due) if r.next_due else "",
        }
        for r in rows
    ]
    tags = {tag: s.value for tag, s in _tag_statuses(rows).items()}
    return JsonResponse({"checks": checks, "tags": tags})


@login_required
@require_POST
def add_check(request: HttpRequest, code: UUID) -> HttpResponse:
    """Create a check with the defaults and all the project's channels; open it."""
    access = project_access(request.user, code, write=True)
    project = access.project
    if services.checks_available(project.owner) <= 0:
        messages.error(request, "The check limit of this account is reached.")
        return redirect("checks-list", code=project.code)
    check = services.create_check(project=project, name="")
    services.set_check_channels(
        check=check, channels=list(Channel.objects.filter(project=project))
    )
    messages.success(request, "Check created. Give it a name and a schedule.")
    return redirect("check-details", code=check.code)


# --- the check page ------------------------------------------------------------------


def _check_access(
    request: HttpRequest, code: UUID, *, write: bool = False
) -> tuple[Check, Access]:
    check = Check.objects.filter(code=code).first()
    if check is None:
        raise Http404
    access = project_access(request.user, check.project.code, write=write)
    check.project = access.project
    return check, access


def slug_url(check: Check) -> str | None:
    """The /ping/<ping_key>/<slug> form, when the project has a ping key and a slug."""
    if not check.slug or not check.project.ping_key:
        return None
    return f"{settings.PING_ENDPOINT}{check.project.ping_key}/{check.slug}"


def _ping_log_limit(check: Check) -> int:
    profile = Profile.objects.filter(user_id=check.project.owner_id).first()
    limit = profile.ping_log_limit if profile else settings.PING_LOG_LIMIT
    return min(limit, LOG_ROWS)


@dataclass(frozen=True)
class LogRow:
    ping: Ping
    label: str
    run: display.Run | None
    body_preview: str | None
    body_size: int


BODY_PREVIEW = 4000


def _log_rows(check: Check) -> list[LogRow]:
    pings = list(
        Ping.objects.filter(owner=check).order_by("-n")[: _ping_log_limit(check)]
    )
    runs = display.run_durations(pings, services.MAX_DURATION)
    rows = []
    for p in pings:
        body = bytes(p.body) if p.body else b""
        rows.append(
            LogRow(
                ping=p,
                label=display.ping_kind_label(p),
                run=runs.get(p.n),
                body_preview=body[:BODY_PREVIEW].decode(errors="replace")
                if body
                else None,
                body_size=len(body),
            )
        )
    return rows


def _schedule_initial(check: Check) -> dict[str, Any]:
    timeout_value, timeout_unit = split_period(check.timeout)
    grace_value, grace_unit = split_period(check.grace)
    return {
        "kind": check.kind,
        "timeout_value": timeout_value,
        "timeout_unit": timeout_unit,
        "grace_value": grace_value,
        "grace_unit": grace_unit,
        "schedule": check.schedule,
        "tz": check.tz,
    }


def _expected_runs(check: Check, now: datetime) -> list[datetime]:
    if check.kind == Kind.SIMPLE:
        due = schedule.grace_start(check, with_started=False)
        return [due] if due else []
    return schedule.next_runs(check.kind, check.schedule, check.tz, now, NEXT_RUNS)


def _details(
    request: HttpRequest,
    check: Check,
    access: Access,
    *,
    name_form: NameForm | None = None,
    schedule_form: ScheduleForm | None = None,
    ping_handling_form: PingHandlingForm | None = None,
    status: int = 200,
) -> HttpResponse:
    now = timezone.now()
    log = _log_rows(check)
    attached = set(check.channels.values_list("pk", flat=True))
    context = {
        "project": access.project,
        "access": access,
        "check": check,
        "status": schedule.status_at(check, now, with_started=True),
        "next_due": schedule.grace_start(check),
        "schedule_words": display.schedule_words(check),
        "expected": _expected_runs(check, now),
        "uuid_url": check.ping_url(),
        "slug_url": slug_url(check),
        "name_form": name_form
        or NameForm(
            initial={
                "name": check.name,
                "slug": check.slug,
                "tags": check.tags,
                "desc": check.desc,
            }
        ),
        "schedule_form": schedule_form
        or ScheduleForm(initial=_schedule_initial(check)),
        "ping_handling_form": ping_handling_form
        or _ping_handling_form(check, initial=PingHandlingForm.initial_for(check)),
        "channels": [
            (c, c.pk in attached)
            for c in Channel.objects.filter(project=access.project).order_by("created")
        ],
        "log": log,
        "chart": display.duration_chart(r.run for r in log if r.run),
        "flips": Flip.objects.filter(owner=check).order_by("-created")[:FLIP_ROWS],
        "time_zones": sorted(schedule.ALL_TIMEZONES),
    }
    return render(request, "checks/details.html", context, status=status)


@login_required
@require_GET
def details(request: HttpRequest, code: UUID) -> HttpResponse:
    """One check: ping URLs, settings, schedule, channels, log, history."""
    check, access = _check_access(request, code)
    return _details(request, check, access)


@login_required
@require_POST
def update_name(request: HttpRequest, code: UUID) -> HttpResponse:
    check, access = _check_access(request, code, write=True)
    form = NameForm(request.POST)
    if not form.is_valid():
        return _details(request, check, access, name_form=form, status=400)
    services.update_check(check=check, fields=form.cleaned_data)
    messages.success(request, "Saved.")
    return redirect("check-details", code=check.code)


@login_required
@require_POST
def update_schedule(request: HttpRequest, code: UUID) -> HttpResponse:
    check, access = _check_access(request, code, write=True)
    form = ScheduleForm(request.POST)
    if not form.is_valid():
        return _details(request, check, access, schedule_form=form, status=400)
    services.change_schedule(
        check=check, fields=form.fields_to_save(), now=timezone.now()
    )
    messages.success(request, "Schedule saved.")
    return redirect("check-details", code=check.code)


def _ping_handling_form(check: Check, **kwargs: Any) -> PingHandlingForm:
    return PingHandlingForm(
        current=check.reminder_interval,
        project_default=check.project.reminder_interval,
        **kwargs,
    )


@login_required
@require_POST
def update_ping_handling(request: HttpRequest, code: UUID) -> HttpResponse:
    """Filtering rules, manual resume and the reminder interval."""
    check, access = _check_access(request, code, write=True)
    form = _ping_handling_form(check, data=request.POST)
    if not form.is_valid():
        return _details(request, check, access, ping_handling_form=form, status=400)
    services.update_ping_handling(
        check=check, fields=form.cleaned_data, now=timezone.now()
    )
    messages.success(request, "Ping handling saved.")
    return redirect("check-details", code=check.code)


class PreviewJson(TypedDict):
    kind: str
    description: str
    next: list[str]
    next_text: list[str]


@login_required
@require_GET
def schedule_preview(request: HttpRequest) -> JsonResponse:
    """A cron/OnCalendar expression in words and its next few times, in `tz`."""
    expression = request.GET.get("schedule", "").strip()
    tz = request.GET.get("tz", "UTC") or "UTC"
    if not expression or len(expression) > 100:
        return JsonResponse(
            {
                "error": "Enter a cron or OnCalendar expression "
                "of at most 100 characters."
            },
            status=400,
        )
    try:
        tz = schedule.canonical_tz(tz)
        kind = schedule.validate_schedule(expression)
    except schedule.ScheduleError as e:
        return JsonResponse({"error": str(e)}, status=400)
    runs = schedule.next_runs(kind, expression, tz, timezone.now(), NEXT_RUNS)
    zone = ZoneInfo(tz)
    preview = Check(kind=kind, schedule=expression, tz=tz)
    data: PreviewJson = {
        "kind": kind.value,
        "description": display.schedule_words(preview),
        "next": [r.isoformat() for r in runs],
        "next_text": [date_filter(r.astimezone(zone), "D, j M Y H:i T") for r in runs],
    }
    return JsonResponse(data)


@login_required
@require_POST
def pause(request: HttpRequest, code: UUID) -> HttpResponse:
    check, _access = _check_access(request, code, write=True)
    if services.pause_check(check=check, now=timezone.now()):
        messages.success(request, "Paused: no alerts until the next ping or resume.")
    return redirect("check-details", code=check.code)


@login_required
@require_POST
def resume(request: HttpRequest, code: UUID) -> HttpResponse:
    check, _access = _check_access(request, code, write=True)
    if services.resume_check(check=check, now=timezone.now()):
        messages.success(request, "Resumed: waiting for the first ping.")
    return redirect("check-details", code=check.code)


@login_required
def delete(request: HttpRequest, code: UUID) -> HttpResponse:
    """GET asks for confirmation; POST deletes the check."""
    if request.method not in ("GET", "POST"):
        return HttpResponse(status=405)
    check, access = _check_access(request, code, write=True)
    if request.method == "GET":
        return render(
            request,
            "checks/delete.html",
            {"project": access.project, "access": access, "check": check},
        )
    project_code = access.project.code
    services.delete_check(check=check)
    messages.success(request, f"Check “{check}” deleted.")
    return redirect("checks-list", code=project_code)


@login_required
@require_POST
def update_channels(request: HttpRequest, code: UUID) -> HttpResponse:
    """Attach exactly the ticked channels of the project."""
    check, access = _check_access(request, code, write=True)
    wanted = request.POST.getlist("channel")
    try:
        codes = {UUID(c) for c in wanted}
    except ValueError:
        return HttpResponseBadRequest("invalid channel")
    channels = list(Channel.objects.filter(project=access.project, code__in=codes))
    if len(channels) != len(codes):
        return HttpResponseBadRequest("invalid channel")
    services.set_check_channels(check=check, channels=channels)
    messages.success(request, "Integrations saved.")
    return redirect("check-details", code=check.code)


@login_required
@require_GET
def ping_body(request: HttpRequest, code: UUID, n: int) -> HttpResponse:
    """The raw body of one logged ping, as plain text (never rendered as HTML)."""
    check, _access = _check_access(request, code)
    ping = Ping.objects.filter(owner=check, n=n).first()
    if ping is None or not ping.body:
        raise Http404
    response = HttpResponse(bytes(ping.body), content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="ping-{n}.txt"'
    response["X-Content-Type-Options"] = "nosniff"
    return response
