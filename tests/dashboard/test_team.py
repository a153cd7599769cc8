"""Team: invitations, roles, removal, leaving and ownership transfer."""

import re

import pytest
from django.contrib.auth.models import User

from checks.dashboard import projects
from checks.models import Member, Profile, Project, Role
from tests.factories import MemberFactory, ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def project(client):
    project = ProjectFactory(owner__email="owner@example.org", name="Backups")
    client.force_login(project.owner)
    return project


def invite_url(project) -> str:
    return f"/projects/{project.code}/settings/team/invite/"


def test_invite_adds_existing_user_with_role(client, project, smtp_server):
    bob = UserFactory(email="bob@example.org")
    response = client.post(
        invite_url(project), {"email": "Bob@Example.org", "role": Role.READONLY}
    )
    assert response.status_code == 302
    assert Member.objects.get(project=project, user=bob).role == Role.READONLY


def test_invite_emails_a_login_link_to_the_project(client, project, smtp_server):
    client.post(invite_url(project), {"email": "bob@example.org", "role": "w"})
    [mail] = smtp_server.wait_for(1)
    assert mail.rcpt_tos == ["bob@example.org"]
    assert "owner@example.org invited you" in mail.text()
    link = re.search(r"http\S+/accounts/check_token/\S+", mail.text())[0]
    assert f"next=%2Fprojects%2F{project.code}%2Fchecks%2F" in link


def test_invite_of_unknown_address_creates_account_without_project(
    client, project, mailoutbox
):
    client.post(invite_url(project), {"email": "new@example.org", "role": "m"})
    user = User.objects.get(email="new@example.org")
    assert Profile.objects.filter(user=user).exists()
    assert not Project.objects.filter(owner=user).exists()
    assert Member.objects.get(user=user).role == Role.MANAGER


def test_invite_losing_the_race_for_an_address_adds_that_account(
    client, project, mailoutbox, lookup_misses_once
):
    # The address signs up between the invitation's lookup and its insert.
    bob = UserFactory(email="bob@example.org")
    client.post(invite_url(project), {"email": "bob@example.org", "role": "m"})
    assert len(lookup_misses_once) == 2
    assert User.objects.filter(email__iexact="bob@example.org").count() == 1
    assert Member.objects.get(project=project).user == bob


def test_invite_of_existing_member_is_refused(client, project, mailoutbox):
    MemberFactory(project=project, user__email="bob@example.org")
    response = client.post(
        invite_url(project), {"email": "bob@example.org", "role": "w"}
    )
    assert response.status_code == 400
    assert "already in the team" in response.content.decode()
    assert mailoutbox == []


def test_invite_of_owner_is_refused(client, project):
    response = client.post(
        invite_url(project), {"email": "owner@example.org", "role": "w"}
    )
    assert response.status_code == 400
    assert not Member.objects.exists()


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"email": "nope", "role": "w"}, "Enter a valid email address."),
        ({"email": "bob@example.org", "role": "owner"}, "Select a valid choice."),
        ({"role": "w"}, "This field is required."),
    ],
)
def test_invite_with_bad_input_shows_error(client, project, data, error):
    response = client.post(invite_url(project), data)
    assert response.status_code == 400
    assert error in response.content.decode()
    assert not Member.objects.exists()


def test_invites_are_limited_per_day(client, project, mailoutbox):
    for n in range(projects.INVITES_PER_DAY):
        client.post(invite_url(project), {"email": f"u{n}@example.org", "role": "w"})
    response = client.post(
        invite_url(project), {"email": "late@example.org", "role": "w"}
    )
    assert response.status_code == 429
    assert not User.objects.filter(email="late@example.org").exists()


def test_manager_can_invite(client, mailoutbox):
    manager = MemberFactory(role=Role.MANAGER)
    client.force_login(manager.user)
    response = client.post(
        invite_url(manager.project), {"email": "bob@example.org", "role": "w"}
    )
    assert response.status_code == 302


def test_member_cannot_invite(client):
    member = MemberFactory(role=Role.MEMBER)
    client.force_login(member.user)
    response = client.post(
        invite_url(member.project), {"email": "bob@example.org", "role": "w"}
    )
    assert response.status_code == 403


def test_owner_removes_member(client, project):
    member = MemberFactory(project=project)
    url = f"/projects/{project.code}/settings/team/{member.pk}/remove/"
    assert client.post(url).status_code == 302
    assert not Member.objects.filter(pk=member.pk).exists()


def role_url(member) -> str:
    return f"/projects/{member.project.code}/settings/team/{member.pk}/role/"


def test_owner_changes_a_members_role(client, project):
    member = MemberFactory(project=project, role=Role.MEMBER)
    response = client.post(role_url(member), {"role": "r"}, follow=True)
    member.refresh_from_db()
    assert member.role == Role.READONLY
    assert f"{member.user.email} is now read-only." in response.content.decode()


def test_manager_changes_another_members_role(client):
    manager = MemberFactory(role=Role.MANAGER)
    other = MemberFactory(project=manager.project, role=Role.READONLY)
    client.force_login(manager.user)
    assert client.post(role_url(other), {"role": "m"}).status_code == 302
    other.refresh_from_db()
    assert other.role == Role.MANAGER


def test_manager_cannot_change_their_own_role(client):
    manager = MemberFactory(role=Role.MANAGER)
    client.force_login(manager.user)
    response = client.post(role_url(manager), {"role": "r"})
    assert response.status_code == 400
    assert "You cannot change your own role." in response.content.decode()
    manager.refresh_from_db()
    assert manager.role == Role.MANAGER


def test_member_cannot_change_roles(client):
    member = MemberFactory(role=Role.MEMBER)
    other = MemberFactory(project=member.project, role=Role.READONLY)
    client.force_login(member.user)
    assert client.post(role_url(other), {"role": "m"}).status_code == 403
    other.refresh_from_db()
    assert other.role == Role.READONLY


@pytest.mark.parametrize("role", ["", "owner", "x"])
def test_unknown_role_is_refused_and_changes_nothing(client, project, role):
    member = MemberFactory(project=project, role=Role.MEMBER)
    response = client.post(role_url(member), {"role": role})
    assert response.status_code == 400
    assert (
        "Choose one of the roles: Read-only, Member, Manager."
        in response.content.decode()
    )
    member.refresh_from_db()
    assert member.role == Role.MEMBER


def test_changing_role_of_member_of_another_project_is_not_found(client, project):
    other = MemberFactory()
    url = f"/projects/{project.code}/settings/team/{other.pk}/role/"
    assert client.post(url, {"role": "m"}).status_code == 404
    other.refresh_from_db()
    assert other.role != Role.MANAGER


def test_role_change_needs_a_post(client, project):
    member = MemberFactory(project=project)
    assert client.get(role_url(member)).status_code == 405


def test_settings_page_offers_role_change_to_managers_only(client, project):
    member = MemberFactory(project=project, user__email="bob@example.org")
    page = client.get(f"/projects/{project.code}/settings/").content.decode()
    assert f'action="{role_url(member)}"' in page
    client.force_login(member.user)
    page = client.get(f"/projects/{project.code}/settings/").content.decode()
    assert "/role/" not in page


def test_removing_member_of_another_project_is_not_found(client, project):
    other = MemberFactory()
    url = f"/projects/{project.code}/settings/team/{other.pk}/remove/"
    assert client.post(url).status_code == 404
    assert Member.objects.filter(pk=other.pk).exists()


def test_member_leaves_project(client):
    member = MemberFactory()
    client.force_login(member.user)
    response = client.post(f"/projects/{member.project.code}/leave/")
    assert response["Location"] == "/"
    assert not Member.objects.filter(pk=member.pk).exists()


def test_owner_cannot_leave_project(client, project):
    response = client.post(f"/projects/{project.code}/leave/")
    assert response.status_code == 400
    assert "cannot leave" in response.content.decode()


def test_transfer_request_marks_member_and_emails_them(client, project, smtp_server):
    member = MemberFactory(project=project, user__email="bob@example.org")
    url = f"/projects/{project.code}/settings/transfer/"
    assert client.post(url, {"member": member.pk}).status_code == 302
    member.refresh_from_db()
    assert member.transfer_request_date is not None
    assert smtp_server.wait_for(1)[0].rcpt_tos == ["bob@example.org"]


@pytest.mark.parametrize("value", ["", "abc"])
def test_transfer_request_without_valid_member_is_refused(client, project, value):
    url = f"/projects/{project.code}/settings/transfer/"
    assert client.post(url, {"member": value}).status_code == 400


def test_transfer_to_member_of_another_project_is_not_found(client, project):
    other = MemberFactory()
    url = f"/projects/{project.code}/settings/transfer/"
    assert client.post(url, {"member": other.pk}).status_code == 404


def test_accepting_transfer_swaps_owner_and_keeps_old_owner_as_manager(
    client, project, mailoutbox
):
    member = MemberFactory(project=project)
    client.post(f"/projects/{project.code}/settings/transfer/", {"member": member.pk})
    client.force_login(member.user)
    response = client.post(f"/projects/{project.code}/transfer/accept/")
    assert response.status_code == 302
    old_owner = project.owner
    project.refresh_from_db()
    assert project.owner == member.user
    assert Member.objects.get(project=project).user == old_owner
    assert Member.objects.get(project=project).role == Role.MANAGER


def test_member_without_offer_cannot_accept(client, project):
    member = MemberFactory(project=project)
    client.force_login(member.user)
    assert client.post(f"/projects/{project.code}/transfer/accept/").status_code == 403
    project.refresh_from_db()
    assert project.owner != member.user


def test_rejecting_transfer_clears_the_offer(client, project, mailoutbox):
    member = MemberFactory(project=project)
    client.post(f"/projects/{project.code}/settings/transfer/", {"member": member.pk})
    client.force_login(member.user)
    client.post(f"/projects/{project.code}/transfer/reject/")
    member.refresh_from_db()
    assert member.transfer_request_date is None


def test_owner_cancels_transfer(client, project, mailoutbox):
    member = MemberFactory(project=project)
    client.post(f"/projects/{project.code}/settings/transfer/", {"member": member.pk})
    client.post(f"/projects/{project.code}/settings/transfer/cancel/")
    member.refresh_from_db()
    assert member.transfer_request_date is None


def test_new_transfer_offer_replaces_the_old_one(client, project, mailoutbox):
    first = MemberFactory(project=project)
    second = MemberFactory(project=project)
    url = f"/projects/{project.code}/settings/transfer/"
    client.post(url, {"member": first.pk})
    client.post(url, {"member": second.pk})
    first.refresh_from_db()
    assert first.transfer_request_date is None


def test_removing_member_with_out_of_range_id_is_not_found(client, project):
    url = f"/projects/{project.code}/settings/team/{'9' * 30}/remove/"
    assert client.post(url).status_code == 404


def test_transfer_to_out_of_range_member_id_is_not_found(client, project):
    url = f"/projects/{project.code}/settings/transfer/"
    assert client.post(url, {"member": "9" * 30}).status_code == 404
