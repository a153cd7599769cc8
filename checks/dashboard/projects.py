"""Projects: the list at `/`, create/rename/delete, settings, team and API keys."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from checks import schedule
from checks.dashboard.access import projects_of
from checks.models import Check, Project, Status

# Worst first: a project shows the most urgent status of its checks.
SEVERITY = [Status.DOWN, Status.GRACE, Status.STARTED, Status.UP, Status.NEW]


@dataclass(frozen=True)
class ProjectSummary:
    project: Project
    status: str
    n_checks: int
    n_down: int


def summarize(projects: list[Project]) -> list[ProjectSummary]:
    """Each project's overall status at now; projects with a down check first."""
    now = timezone.now()
    by_project: dict[int, list[Status]] = {p.id: [] for p in projects}
    for check in Check.objects.filter(project__in=projects):
        by_project[check.project_id].append(schedule.status_at(check, now))
    summaries = []
    for project in projects:
        statuses = by_project[project.id]
        overall = next((s for s in SEVERITY if s in statuses), None)
        if overall is None:
            overall = Status.PAUSED if statuses else Status.NEW
        summaries.append(
            ProjectSummary(
                project, overall.value, len(statuses), statuses.count(Status.DOWN)
            )
        )
    summaries.sort(key=lambda s: (s.n_down == 0, s.project.name.lower()))
    return summaries


@login_required
def index(request: HttpRequest) -> HttpResponse:
    projects = list(projects_of(request.user).order_by("name"))
    return render(request, "projects/index.html", {"summaries": summarize(projects)})
