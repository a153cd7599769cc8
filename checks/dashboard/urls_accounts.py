"""Accounts, projects, team and API keys pages."""

urlpatterns: list = []
