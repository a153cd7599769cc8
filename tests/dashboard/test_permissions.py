"""Every project view, tried by outsiders and by roles below what it needs."""

import pytest

from checks import services
from checks.models import ApiKey, Member, Project, Role
from tests.factories import MemberFactory, ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db

# (method, path under /projects/<code>/, the least role that may use it)
READ, WRITE, MANAGE, OWNER = "read", "write", "manage", "owner"
VIEWS = [
    ("get", "settings/", READ),
    ("post", "settings/name/", WRITE),
    ("get", "settings/delete/", OWNER),
    ("post", "settings/delete/", OWNER),
    ("post", "settings/team/invite/", MANAGE),
    ("post", "settings/team/{member}/remove/", MANAGE),
    ("post", "settings/transfer/", OWNER),
    ("post", "settings/transfer/cancel/", OWNER),
    ("post", "transfer/accept/", READ),
    ("post", "transfer/reject/", READ),
    ("post", "leave/", READ),
    ("get", "settings/keys/", WRITE),
    ("post", "settings/keys/", WRITE),
    ("post", "settings/keys/{key}/revoke/", WRITE),
    ("post", "settings/ping_key/", WRITE),
    ("post", "settings/ping_key/revoke/", WRITE),
]
RANK = {READ: 0, WRITE: 1, MANAGE: 2, OWNER: 3}
ROLE_RANK = {Role.READONLY: 0, Role.MEMBER: 1, Role.MANAGER: 2}
# Each (role, view) where the role is below what the view needs.
TOO_LOW = [
    (role, method, path)
    for role in ROLE_RANK
    for method, path, need in VIEWS
    if ROLE_RANK[role] < RANK[need]
]


@pytest.fixture
def world():
    """A project with a team member and an API key, and its valid form data."""
    project = ProjectFactory(name="Target")
    member = MemberFactory(project=project, user__email="bob@example.org")
    key, _ = services.create_api_key(project=project, name="ci", read_only=False)
    data = {
        "name": "Hijacked",
        "confirm": "Target",
        "email": "eve@example.org",
        "role": Role.MANAGER,
        "member": member.pk,
        "kind": "rw",
    }
    return project, member, key, data


def snapshot(project: Project) -> tuple:
    project = Project.objects.get(pk=project.pk)
    members = sorted(
        Member.objects.filter(project=project).values_list(
            "user_id", "role", "transfer_request_date"
        )
    )
    keys = sorted(ApiKey.objects.filter(project=project).values_list("pk", flat=True))
    return project.name, project.owner_id, project.ping_key, members, keys


def call(client, method, path, world):
    project, member, key, data = world
    url = f"/projects/{project.code}/" + path.format(member=member.pk, key=key.pk)
    if method == "get":
        return client.get(url)
    return client.post(url, data)


@pytest.mark.parametrize(("method", "path", "need"), VIEWS)
def test_outsider_gets_not_found_and_changes_nothing(client, world, method, path, need):
    outsider = ProjectFactory().owner
    client.force_login(outsider)
    before = snapshot(world[0])
    assert call(client, method, path, world).status_code == 404
    assert snapshot(world[0]) == before


@pytest.mark.parametrize(("method", "path", "need"), VIEWS)
def test_anonymous_user_is_sent_to_login(client, world, method, path, need):
    response = call(client, method, path, world)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


@pytest.mark.parametrize(("role", "method", "path"), TOO_LOW)
def test_role_below_need_is_forbidden_and_changes_nothing(
    client, world, role, method, path
):
    actor = MemberFactory(project=world[0], role=role)
    client.force_login(actor.user)
    before = snapshot(world[0])
    assert call(client, method, path, world).status_code == 403
    assert snapshot(world[0]) == before


@pytest.mark.parametrize("path", ["transfer/accept/", "transfer/reject/"])
def test_member_without_transfer_offer_is_forbidden(client, world, path):
    actor = MemberFactory(project=world[0], role=Role.MANAGER)
    client.force_login(actor.user)
    before = snapshot(world[0])
    assert call(client, "post", path, world).status_code == 403
    assert snapshot(world[0]) == before


def test_read_only_member_sees_settings(client, world):
    actor = MemberFactory(project=world[0], role=Role.READONLY)
    client.force_login(actor.user)
    assert call(client, "get", "settings/", world).status_code == 200


def test_unknown_project_is_not_found(client):
    client.force_login(UserFactory())
    url = "/projects/6f1b2d0e-8c1a-4b55-9d4e-0b9e8f0a1c2d/settings/"
    assert client.get(url).status_code == 404
