"""Account page: settings, password, email change, deleting the account."""

import re
import time
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import time_machine
from django.contrib.auth.models import User
from django.utils import timezone

from checks.dashboard import auth
from checks.models import Member, Profile, Project
from tests.factories import MemberFactory, ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def user(client):
    user = UserFactory(email="me@example.org")
    client.force_login(user)
    return user


def enter_sudo(client) -> None:
    session = client.session
    session["sudo_until"] = time.time() + 600
    session.save()


def test_profile_needs_login(client):
    assert client.get("/accounts/profile/")["Location"].startswith("/accounts/login/")


def test_profile_shows_address_and_projects(client, user):
    ProjectFactory(owner=user, name="Backups")
    body = client.get("/accounts/profile/").content.decode()
    assert "me@example.org" in body
    assert "Backups" in body


def test_profile_saves_time_zone_reports_and_reminders(client, user):
    response = client.post(
        "/accounts/profile/",
        {"tz": "Europe/Riga", "reports": "weekly", "nag_period": "3600"},
    )
    assert response.status_code == 302
    profile = Profile.objects.get(user=user)
    assert (profile.tz, profile.reports, profile.nag_period) == (
        "Europe/Riga",
        "weekly",
        timedelta(hours=1),
    )


@pytest.mark.parametrize(
    ("field", "value"),
    [("tz", "Mars/Base"), ("reports", "hourly"), ("nag_period", "60")],
)
def test_profile_settings_reject_unknown_choices(client, user, field, value):
    data = {"tz": "UTC", "reports": "off", "nag_period": "0", field: value}
    response = client.post("/accounts/profile/", data)
    assert response.status_code == 400
    assert "Select a valid choice." in response.content.decode()
    assert Profile.objects.get(user=user).reports == "off"


def test_password_change_with_current_password(client, user):
    response = client.post(
        "/accounts/profile/password/",
        {
            "current_password": "password",
            "password1": "a-new-secret-9",
            "password2": "a-new-secret-9",
        },
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("a-new-secret-9")
    # The session survives its own password change.
    assert client.get("/accounts/profile/").status_code == 200


def test_password_change_with_wrong_current_password_is_refused(client, user):
    response = client.post(
        "/accounts/profile/password/",
        {
            "current_password": "nope",
            "password1": "a-new-secret-9",
            "password2": "a-new-secret-9",
        },
    )
    assert response.status_code == 400
    assert "This is not your current password." in response.content.decode()
    user.refresh_from_db()
    assert user.check_password("password")


def test_password_change_with_mismatched_passwords_is_refused(client, user):
    response = client.post(
        "/accounts/profile/password/",
        {
            "current_password": "password",
            "password1": "a-new-secret-9",
            "password2": "other-secret-9",
        },
    )
    assert response.status_code == 400
    assert "The two passwords do not match." in response.content.decode()


def test_password_change_rejects_weak_password(client, user):
    response = client.post(
        "/accounts/profile/password/",
        {"current_password": "password", "password1": "short", "password2": "short"},
    )
    assert response.status_code == 400
    assert "too short" in response.content.decode()


def test_password_can_be_set_without_current_one_after_link_login(client):
    user = User.objects.create_user(username="u", email="u@example.org")
    client.force_login(user)
    enter_sudo(client)
    response = client.post(
        "/accounts/profile/password/",
        {"password1": "a-new-secret-9", "password2": "a-new-secret-9"},
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("a-new-secret-9")


def test_link_login_starts_sudo_mode(client):
    user = User.objects.create_user(username="u", email="u@example.org")
    path = urlsplit(auth.make_login_link(user)).path
    client.post(path)
    response = client.post(
        "/accounts/profile/password/",
        {"password1": "a-new-secret-9", "password2": "a-new-secret-9"},
    )
    assert response.status_code == 302


def test_password_set_without_password_or_recent_link_login_is_refused(client):
    user = User.objects.create_user(username="u", email="u@example.org")
    client.force_login(user)
    response = client.post(
        "/accounts/profile/password/",
        {"password1": "a-new-secret-9", "password2": "a-new-secret-9"},
    )
    assert response.status_code == 400
    assert "log in again with a login link first" in response.content.decode()


def test_sudo_mode_ends_after_thirty_minutes(client):
    user = User.objects.create_user(username="u", email="u@example.org")
    client.post(urlsplit(auth.make_login_link(user)).path)
    with time_machine.travel(timezone.now() + timedelta(minutes=31)):
        response = client.post(
            "/accounts/profile/password/",
            {"password1": "a-new-secret-9", "password2": "a-new-secret-9"},
        )
    assert response.status_code == 400


def email_link_path(mail) -> str:
    return re.search(r"https?://[^/\s]+(/accounts/change_email/\S+)", mail.text())[1]


def test_email_change_sends_confirmation_to_new_address(client, user, smtp_server):
    response = client.post(
        "/accounts/profile/email/",
        {"current_password": "password", "email": "New@Example.org"},
    )
    assert response.status_code == 302
    [mail] = smtp_server.wait_for(1)
    assert mail.rcpt_tos == ["new@example.org"]
    user.refresh_from_db()
    assert user.email == "me@example.org"


def test_email_change_link_get_does_not_change_address(client, user):
    token = auth.make_email_link(user, new_email="new@example.org")
    assert client.get(urlsplit(token).path).status_code == 200
    user.refresh_from_db()
    assert user.email == "me@example.org"


def test_email_change_link_post_changes_address(client, user, smtp_server):
    client.post(
        "/accounts/profile/email/",
        {"current_password": "password", "email": "new@example.org"},
    )
    path = email_link_path(smtp_server.wait_for(1)[0])
    assert client.post(path).status_code == 302
    user.refresh_from_db()
    assert user.email == "new@example.org"


def test_email_change_link_works_once(client, user):
    path = urlsplit(auth.make_email_link(user, new_email="new@example.org")).path
    client.post(path)
    response = client.post(path)
    assert response.status_code == 400
    assert "already used" in response.content.decode()


def test_email_change_link_expires_after_an_hour(client, user):
    path = urlsplit(auth.make_email_link(user, new_email="new@example.org")).path
    with time_machine.travel(timezone.now() + timedelta(minutes=61)):
        assert client.post(path).status_code == 400
    user.refresh_from_db()
    assert user.email == "me@example.org"


def test_email_change_to_address_taken_meanwhile_is_refused(client, user):
    path = urlsplit(auth.make_email_link(user, new_email="taken@example.org")).path
    UserFactory(email="taken@example.org")
    response = client.post(path)
    assert response.status_code == 400
    assert "Another account uses this address" in response.content.decode()


def test_email_change_to_address_taken_in_other_case_is_refused(client, user):
    path = urlsplit(auth.make_email_link(user, new_email="Taken@Example.org")).path
    UserFactory(email="taken@example.org")
    assert client.post(path).status_code == 400
    user.refresh_from_db()
    assert user.email == "me@example.org"


def test_email_change_to_current_address_is_refused(client, user):
    response = client.post(
        "/accounts/profile/email/",
        {"current_password": "password", "email": "ME@example.org"},
    )
    assert response.status_code == 400
    assert "This is your current address." in response.content.decode()


def test_email_change_with_invalid_address_is_refused(client, user, mailoutbox):
    response = client.post(
        "/accounts/profile/email/", {"current_password": "password", "email": "x@"}
    )
    assert response.status_code == 400
    assert mailoutbox == []


def test_email_change_needs_current_password(client, user, mailoutbox):
    response = client.post("/accounts/profile/email/", {"email": "new@example.org"})
    assert response.status_code == 400
    assert mailoutbox == []


def test_close_account_page_asks_for_confirmation(client, user):
    response = client.get("/accounts/close/")
    assert response.status_code == 200
    assert User.objects.filter(pk=user.pk).exists()


def test_close_account_with_wrong_confirmation_is_refused(client, user):
    response = client.post(
        "/accounts/close/", {"current_password": "password", "confirm": "other@x.org"}
    )
    assert response.status_code == 400
    assert "This does not match your email address." in response.content.decode()
    assert User.objects.filter(pk=user.pk).exists()


def test_close_account_with_wrong_password_is_refused(client, user):
    response = client.post(
        "/accounts/close/", {"current_password": "nope", "confirm": "me@example.org"}
    )
    assert response.status_code == 400
    assert User.objects.filter(pk=user.pk).exists()


def test_close_account_deletes_user_and_owned_projects_only(client, user):
    mine = ProjectFactory(owner=user)
    shared = MemberFactory(user=user).project
    response = client.post(
        "/accounts/close/",
        {"current_password": "password", "confirm": "me@example.org"},
    )
    assert response["Location"] == "/accounts/login/"
    assert not User.objects.filter(pk=user.pk).exists()
    assert not Project.objects.filter(pk=mine.pk).exists()
    assert Project.objects.filter(pk=shared.pk).exists()
    assert not Member.objects.filter(project=shared).exists()
    assert "_auth_user_id" not in client.session


def test_email_change_tells_the_old_address(client, user, mailoutbox):
    path = urlsplit(auth.make_email_link(user, new_email="new@example.org")).path
    client.post(path)
    [notice] = mailoutbox
    assert notice.to == ["me@example.org"]
    assert "changed to new@example.org" in notice.body
