"""Checks, integrations, badges and metrics pages."""

from django.urls import path

from checks.dashboard import badges, checks, integrations, links, metrics

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
    path(
        "checks/<uuid:code>/ping_handling/",
        checks.update_ping_handling,
        name="check-ping-handling",
    ),
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

urlpatterns += [
    path(
        "projects/<uuid:code>/integrations/",
        integrations.integrations_list,
        name="integrations-list",
    ),
    path(
        "projects/<uuid:code>/integrations/add/<slug:kind>/",
        integrations.add_channel,
        name="integrations-add",
    ),
    path(
        "integrations/<uuid:code>/edit/",
        integrations.edit_channel,
        name="integrations-edit",
    ),
    path(
        "integrations/<uuid:code>/test/",
        integrations.test_channel,
        name="integrations-test",
    ),
    path(
        "integrations/<uuid:code>/remove/",
        integrations.remove_channel,
        name="integrations-remove",
    ),
    path(
        "integrations/<uuid:code>/verify/resend/",
        integrations.resend_verification,
        name="integrations-resend-verification",
    ),
    # Opened from emails, without logging in: the signed token is the permission.
    path(
        "integrations/<uuid:code>/verify/<str:token>/",
        links.verify_email,
        name="integrations-verify",
    ),
    path(
        "integrations/<uuid:code>/unsubscribe/<str:token>/",
        links.unsubscribe_alerts,
        name="integrations-unsubscribe",
    ),
]

urlpatterns += [
    path("projects/<uuid:code>/metrics/", metrics.metrics, name="project-metrics"),
    path("projects/<uuid:code>/metrics/<str:key>", metrics.metrics),
    path("projects/<uuid:code>/checks/metrics/<str:key>", metrics.metrics),
]

urlpatterns += [
    path("projects/<uuid:code>/badges/", badges.badges_page, name="badges"),
]
