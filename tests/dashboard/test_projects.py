"""Projects list, create/rename/delete: test-client tests."""

import pytest

from checks.models import Member, Role, Status
from tests.factories import CheckFactory, ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_index_redirects_anonymous_user_to_login(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/"


def test_index_lists_owned_and_shared_projects_only(client):
    mine = ProjectFactory(name="Mine")
    shared = ProjectFactory(name="Shared")
    ProjectFactory(name="Foreign")
    Member.objects.create(user=mine.owner, project=shared, role=Role.READONLY)
    client.force_login(mine.owner)
    body = client.get("/").content.decode()
    assert "Mine" in body
    assert "Shared" in body
    assert "Foreign" not in body


def test_index_shows_project_with_down_check_first_and_down(client):
    calm = ProjectFactory(name="A calm")
    user = calm.owner
    broken = ProjectFactory(name="Z broken", owner=user)
    CheckFactory(project=calm, status=Status.NEW)
    CheckFactory(project=broken, status=Status.DOWN)
    client.force_login(user)
    summaries = client.get("/").context["summaries"]
    assert [(s.project.name, s.status) for s in summaries] == [
        ("Z broken", "down"),
        ("A calm", "new"),
    ]


def test_index_of_user_without_projects_says_so(client):
    client.force_login(UserFactory())
    assert b"You have no projects yet" in client.get("/").content
