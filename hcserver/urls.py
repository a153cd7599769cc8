"""Top-level URLs: pings, the API, the dashboard."""

from django.urls import include, path

urlpatterns = [
    path("ping/", include("checks.ping")),
    path("", include("checks.dashboard.urls")),
]
