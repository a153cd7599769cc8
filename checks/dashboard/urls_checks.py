"""Checks, integrations, badges and metrics pages."""

urlpatterns: list = []
