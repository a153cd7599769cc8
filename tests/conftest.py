"""Shared fixtures. Postgres/Redis-only tests skip with a reason when not configured."""

import os

import pytest
from django.conf import settings

from tests.factories import CheckFactory, ProjectFactory  # noqa: F401 - re-exported


def pytest_collection_modifyitems(
    config: pytest.Config, items: list[pytest.Item]
) -> None:
    on_postgres = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
    for item in items:
        if "postgres" in item.keywords and not on_postgres:
            item.add_marker(
                pytest.mark.skip(
                    reason="needs PostgreSQL: set DATABASE_URL=postgres://..."
                )
            )
        if "redis" in item.keywords and not os.environ.get("REDIS_URL"):
            item.add_marker(
                pytest.mark.skip(reason="needs Redis: set REDIS_URL=redis://...")
            )
