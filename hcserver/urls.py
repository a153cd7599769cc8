"""Top-level URLs: pings, the API, badges, the dashboard."""

from django.urls import include, path

from checks.api.urls import schema_urlpatterns

urlpatterns = [
    path("ping/", include("checks.ping")),
    path("integrations/aws/", include("integrations.aws.views")),
    path("api/v3/aws/", include("integrations.aws.api")),
    path("api/v1/", include("checks.api.urls"), {"v": 1}),
    path("api/v2/", include("checks.api.urls"), {"v": 2}),
    path("api/v3/", include("checks.api.urls"), {"v": 3}),
    path("api/v3/", include(schema_urlpatterns)),
    path("", include("checks.badges")),
    path("", include("checks.dashboard.urls")),
    path("", include("integrations.aws.urls_dashboard")),
]
