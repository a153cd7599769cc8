"""Projects list, create/rename/delete: test-client tests."""

import pytest

from checks.models import Check, Member, Project, Role, Status
from tests.factories import CheckFactory, MemberFactory, ProjectFactory, UserFactory

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


def test_add_project_creates_owned_project_with_ping_key(client):
    user = UserFactory()
    client.force_login(user)
    response = client.post("/projects/add/", {"name": "  Backups "})
    project = Project.objects.get(owner=user)
    assert response["Location"] == f"/projects/{project.code}/checks/"
    assert project.name == "Backups"
    assert project.ping_key


@pytest.mark.parametrize(
    ("name", "error"),
    [("", "This field is required."), ("x" * 61, "at most 60 characters")],
)
def test_add_project_rejects_bad_name(client, name, error):
    client.force_login(UserFactory())
    response = client.post("/projects/add/", {"name": name})
    assert response.status_code == 400
    assert error in response.content.decode()
    assert not Project.objects.exists()


def test_settings_page_shows_team_and_keys_link_to_owner(client):
    member = MemberFactory(user__email="bob@example.org")
    client.force_login(member.project.owner)
    body = client.get(f"/projects/{member.project.code}/settings/").content.decode()
    assert "bob@example.org" in body
    assert "/settings/keys/" in body
    assert "Send invitation" in body


def test_settings_page_hides_forms_from_read_only_member(client):
    member = MemberFactory(role=Role.READONLY)
    client.force_login(member.user)
    body = client.get(f"/projects/{member.project.code}/settings/").content.decode()
    assert "Rename project" not in body
    assert "/settings/keys/" not in body
    assert "Send invitation" not in body


def test_member_can_rename_project(client):
    member = MemberFactory(role=Role.MEMBER)
    client.force_login(member.user)
    url = f"/projects/{member.project.code}/settings/name/"
    assert client.post(url, {"name": "Renamed"}).status_code == 302
    member.project.refresh_from_db()
    assert member.project.name == "Renamed"


def test_rename_with_blank_name_is_refused(client):
    project = ProjectFactory(name="Old")
    client.force_login(project.owner)
    response = client.post(f"/projects/{project.code}/settings/name/", {"name": " "})
    assert response.status_code == 400
    project.refresh_from_db()
    assert project.name == "Old"


def test_delete_project_asks_for_the_name_first(client):
    project = ProjectFactory(name="Backups")
    client.force_login(project.owner)
    url = f"/projects/{project.code}/settings/delete/"
    assert client.get(url).status_code == 200
    response = client.post(url, {"confirm": "Backup"})
    assert response.status_code == 400
    assert "does not match" in response.content.decode()
    assert Project.objects.filter(pk=project.pk).exists()


def test_delete_project_with_confirmation_deletes_it_and_its_checks(client):
    project = ProjectFactory(name="Backups")
    CheckFactory(project=project)
    client.force_login(project.owner)
    url = f"/projects/{project.code}/settings/delete/"
    assert client.post(url, {"confirm": "Backups"})["Location"] == "/"
    assert not Project.objects.filter(pk=project.pk).exists()
    assert not Check.objects.exists()
