"""Dashboard fixtures: a project with an owner, a member, a reader; a stranger.

Each test also gets its own empty cache (rate-limit counters). Fast password hashing
for every test is in tests/conftest.py.
"""

import uuid
from dataclasses import dataclass

import pytest
from django.contrib.auth.models import User

from checks.models import Member, Project, Role
from tests.factories import ProjectFactory, UserFactory


@dataclass
class Team:
    project: Project
    owner: User
    member: User
    reader: User
    stranger: User


@pytest.fixture(autouse=True)
def _isolated_cache(request, settings):
    # Redis-marked tests use the real configured cache on purpose.
    if request.node.get_closest_marker("redis") is None:
        settings.CACHES = {
            "default": {
                "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                "LOCATION": f"test-{uuid.uuid4()}",
            }
        }


@pytest.fixture
def team(db) -> Team:
    project = ProjectFactory()
    member = UserFactory()
    reader = UserFactory()
    Member.objects.create(user=member, project=project, role=Role.MEMBER)
    Member.objects.create(user=reader, project=project, role=Role.READONLY)
    # The stranger has a project of their own: access is about membership, not login.
    stranger = ProjectFactory().owner
    return Team(project, project.owner, member, reader, stranger)
