"""Checks, integrations, badges and metrics pages."""

from django.urls import path

from checks.dashboard import checks

urlpatterns = [
    path("projects/<uuid:code>/checks/", checks.checks_list, name="checks-list"),
    path(
        "projects/<uuid:code>/checks/status/",
        checks.checks_status,
        name="checks-status",
    ),
    path("projects/<uuid:code>/checks/add/", checks.add_check, name="checks-add"),
    path(
        "checks/schedule_preview/",
        checks.schedule_preview,
        name="checks-schedule-preview",
    ),
    path("checks/<uuid:code>/details/", checks.details, name="check-details"),
    path("checks/<uuid:code>/name/", checks.update_name, name="check-name"),
    path("checks/<uuid:code>/schedule/", checks.update_schedule, name="check-schedule"),
    path("checks/<uuid:code>/pause/", checks.pause, name="check-pause"),
    path("checks/<uuid:code>/resume/", checks.resume, name="check-resume"),
    path("checks/<uuid:code>/delete/", checks.delete, name="check-delete"),
    path("checks/<uuid:code>/channels/", checks.update_channels, name="check-channels"),
    path(
        "checks/<uuid:code>/pings/<int:n>/body/",
        checks.ping_body,
        name="check-ping-body",
    ),
]
