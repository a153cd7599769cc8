"""Accounts, projects, team and API keys pages."""

from django.urls import path

from checks.dashboard import projects

urlpatterns = [
    path("", projects.index, name="hc-index"),
]
