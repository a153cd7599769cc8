"""Dashboard URLs: accounts/projects/team/keys, and checks/integrations/badges."""

from django.urls import include, path

urlpatterns = [
    path("", include("checks.dashboard.urls_accounts")),
    path("", include("checks.dashboard.urls_checks")),
]
