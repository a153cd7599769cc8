"""API keys page: named keys (shown once), revoking, the ping key."""

import re

import pytest

from checks import services
from checks.models import ApiKey, Role
from tests.factories import MemberFactory, ProjectFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def project(client):
    project = ProjectFactory()
    client.force_login(project.owner)
    return project


def keys_url(project) -> str:
    return f"/projects/{project.code}/settings/keys/"


def test_keys_page_lists_prefix_and_never_the_full_key(client, project):
    key, full = services.create_api_key(project=project, name="deploy", read_only=True)
    body = client.get(keys_url(project)).content.decode()
    assert "deploy" in body
    assert key.display_prefix in body
    assert full not in body
    assert "never" in body


def test_keys_page_is_not_cached(client, project):
    response = client.get(keys_url(project))
    assert "no-store" in response["Cache-Control"]


@pytest.mark.parametrize(("kind", "prefix"), [("rw", "hcw_"), ("ro", "hcr_")])
def test_creating_a_key_shows_the_full_key_once(client, project, kind, prefix):
    response = client.post(keys_url(project), {"name": "ci", "kind": kind})
    assert response.status_code == 200
    full = re.search(r'id="full-key">([^<]+)<', response.content.decode())[1]
    assert full.startswith(prefix)
    assert services.find_api_key(full).project == project
    assert full not in client.get(keys_url(project)).content.decode()


def test_created_key_is_stored_with_name_and_access(client, project):
    client.post(keys_url(project), {"name": "readers", "kind": "ro"})
    key = ApiKey.objects.get(project=project)
    assert (key.name, key.read_only) == ("readers", True)


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"name": "", "kind": "rw"}, "This field is required."),
        ({"name": "x" * 101, "kind": "rw"}, "at most 100 characters"),
        ({"name": "ci", "kind": "admin"}, "Select a valid choice."),
    ],
)
def test_creating_a_key_with_bad_input_shows_error(client, project, data, error):
    response = client.post(keys_url(project), data)
    assert response.status_code == 400
    assert error in response.content.decode()
    assert not ApiKey.objects.exists()


def test_revoking_a_key_deletes_it(client, project):
    key, full = services.create_api_key(project=project, name="ci", read_only=False)
    response = client.post(f"{keys_url(project)}{key.pk}/revoke/")
    assert response["Location"] == keys_url(project)
    assert services.find_api_key(full) is None


def test_revoking_a_key_of_another_project_is_not_found(client, project):
    other, _ = services.create_api_key(
        project=ProjectFactory(), name="theirs", read_only=False
    )
    assert client.post(f"{keys_url(project)}{other.pk}/revoke/").status_code == 404
    assert ApiKey.objects.filter(pk=other.pk).exists()


def test_creating_a_ping_key_replaces_the_old_one(client, project):
    old = project.ping_key
    client.post(f"/projects/{project.code}/settings/ping_key/")
    project.refresh_from_db()
    assert project.ping_key
    assert project.ping_key != old


def test_revoking_the_ping_key_disables_slug_urls(client, project):
    client.post(f"/projects/{project.code}/settings/ping_key/revoke/")
    project.refresh_from_db()
    assert project.ping_key is None
    assert "Create a ping key" in client.get(keys_url(project)).content.decode()


def test_member_manages_keys(client):
    member = MemberFactory(role=Role.MEMBER)
    client.force_login(member.user)
    response = client.post(keys_url(member.project), {"name": "ci", "kind": "rw"})
    assert response.status_code == 200


def test_revoking_a_key_with_out_of_range_id_is_not_found(client, project):
    assert client.post(f"{keys_url(project)}{'9' * 30}/revoke/").status_code == 404
