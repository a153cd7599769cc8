"""Dashboard fixtures: a project with an owner, a member, a reader; a stranger.

Fast password hashing and an isolated cache for every test are in tests/conftest.py.
"""

from dataclasses import dataclass

import pytest
from django.contrib.auth.models import User

from checks.dashboard import auth
from checks.models import Member, Project, Role
from tests.factories import ProjectFactory, UserFactory


@dataclass
class Team:
    project: Project
    owner: User
    member: User
    reader: User
    stranger: User


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


@pytest.fixture
def lookup_misses_once(monkeypatch) -> list[str]:
    """auth.find_user misses on its first call only, as if the address were taken
    just after the lookup; returns the addresses looked up, to show the race ran."""
    real = auth.find_user
    looked_up: list[str] = []

    def find_user(email: str):
        looked_up.append(email)
        return None if len(looked_up) == 1 else real(email)

    monkeypatch.setattr(auth, "find_user", find_user)
    return looked_up
