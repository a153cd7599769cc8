"""Top-level URLs: pings, the API, the dashboard."""

from django.urls import include, path

urlpatterns = [
    path("ping/", include("checks.ping")),
    path("integrations/aws/", include("integrations.aws.views")),
    path("api/v3/aws/", include("integrations.aws.api")),
    path("", include("checks.dashboard.urls")),
]
