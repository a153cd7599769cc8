"""Accounts: sign up, log in by password and by link, log out."""

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import time_machine
from django.contrib.auth.models import User
from django.utils import timezone

from checks.dashboard import accounts, auth
from checks.models import Profile, Project
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LINK_RE = re.compile(r"https?://[^/\s]+(/accounts/check_token/[^\s]+)")


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def link_path(mail) -> str:
    """The path (and query) of the login link in a received email."""
    return LINK_RE.search(mail.text()).group(1)


def test_signup_creates_user_profile_and_project_with_ping_key(client, smtp_server):
    response = client.post(
        "/accounts/signup/", {"identity": "New@Example.org", "tz": "Europe/Riga"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login_link_sent/"
    user = User.objects.get(email="new@example.org")
    assert not user.has_usable_password()
    assert Profile.objects.get(user=user).tz == "Europe/Riga"
    project = Project.objects.get(owner=user)
    assert project.ping_key


def test_signup_emails_a_login_link(client, smtp_server):
    client.post("/accounts/signup/", {"identity": "new@example.org"})
    [mail] = smtp_server.wait_for(1)
    assert mail.rcpt_tos == ["new@example.org"]
    assert "/accounts/check_token/" in link_path(mail)


def test_signup_with_unknown_time_zone_stores_utc(client, smtp_server):
    client.post("/accounts/signup/", {"identity": "new@example.org", "tz": "Mars/Base"})
    assert Profile.objects.get(user__email="new@example.org").tz == "UTC"


def test_signup_is_refused_when_registration_is_closed(client, settings):
    settings.REGISTRATION_OPEN = False
    response = client.post("/accounts/signup/", {"identity": "new@example.org"})
    assert response.status_code == 403
    assert not User.objects.exists()


def test_signup_with_invalid_address_shows_error(client):
    response = client.post("/accounts/signup/", {"identity": "not-an-address"})
    assert response.status_code == 400
    assert "Enter a valid email address." in response.content.decode()
    assert not User.objects.exists()


def test_signup_with_existing_address_sends_login_link_and_creates_nothing(
    client, smtp_server
):
    user = UserFactory(email="old@example.org")
    response = client.post("/accounts/signup/", {"identity": "old@example.org"})
    assert response["Location"] == "/accounts/login_link_sent/"
    assert User.objects.count() == 1
    assert not Project.objects.filter(owner=user).exists()
    assert smtp_server.wait_for(1)[0].rcpt_tos == ["old@example.org"]


def test_signup_losing_the_race_for_its_address_sends_login_link(
    client, smtp_server, lookup_misses_once
):
    # The other sign-up commits between this one's lookup and its insert.
    UserFactory(email="race@example.org")
    response = client.post("/accounts/signup/", {"identity": "Race@example.org"})
    assert len(lookup_misses_once) == 2
    assert response["Location"] == "/accounts/login_link_sent/"
    assert User.objects.count() == 1
    assert smtp_server.wait_for(1)[0].rcpt_tos == ["race@example.org"]


def test_login_page_offers_both_ways_to_log_in(client):
    body = client.get("/accounts/login/").content.decode()
    assert "Send login link" in body
    assert 'name="password"' in body


def test_password_login_logs_in_and_follows_safe_next(client):
    user = UserFactory(email="a@example.org")
    response = client.post(
        "/accounts/login/?next=/accounts/profile/",
        {"email": "A@example.org", "password": "password"},
    )
    assert response["Location"] == "/accounts/profile/"
    assert client.session["_auth_user_id"] == str(user.pk)


@pytest.mark.parametrize(
    "next_url", ["https://evil.example/", "//evil.example/", "javascript:alert(1)"]
)
def test_password_login_ignores_offsite_next(client, next_url):
    UserFactory(email="a@example.org")
    response = client.post(
        "/accounts/login/",
        {"email": "a@example.org", "password": "password", "next": next_url},
    )
    assert response["Location"] == "/"


def test_password_login_with_wrong_password_is_refused(client):
    UserFactory(email="a@example.org")
    response = client.post(
        "/accounts/login/", {"email": "a@example.org", "password": "nope"}
    )
    assert response.status_code == 400
    assert "Incorrect email or password." in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_password_login_with_unknown_address_gives_same_error(client):
    response = client.post(
        "/accounts/login/", {"email": "who@example.org", "password": "password"}
    )
    assert response.status_code == 400
    assert "Incorrect email or password." in response.content.decode()


def test_password_login_with_empty_fields_shows_required_errors(client):
    response = client.post("/accounts/login/", {"email": "", "password": ""})
    assert response.status_code == 400
    assert response.content.decode().count("This field is required.") == 2


def test_password_login_is_rate_limited_per_address(client):
    UserFactory(email="a@example.org")
    for _ in range(accounts.PASSWORD_PER_EMAIL):
        client.post("/accounts/login/", {"email": "a@example.org", "password": "x"})
    response = client.post(
        "/accounts/login/", {"email": "a+alias@example.org", "password": "password"}
    )
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_password_login_is_rate_limited_per_ip(client):
    for n in range(accounts.PASSWORD_PER_IP):
        client.post("/accounts/login/", {"email": f"u{n}@example.org", "password": "x"})
    UserFactory(email="a@example.org")
    response = client.post(
        "/accounts/login/", {"email": "a@example.org", "password": "password"}
    )
    assert response.status_code == 429


def test_link_request_for_known_address_sends_link(client, smtp_server):
    UserFactory(email="a@example.org")
    response = client.post(
        "/accounts/login/", {"action": "link", "identity": "a@example.org"}
    )
    assert response["Location"] == "/accounts/login_link_sent/"
    [mail] = smtp_server.wait_for(1)
    assert mail.rcpt_tos == ["a@example.org"]


def test_link_request_for_unknown_address_answers_the_same_and_sends_nothing(
    client, mailoutbox
):
    response = client.post(
        "/accounts/login/", {"action": "link", "identity": "who@example.org"}
    )
    assert response["Location"] == "/accounts/login_link_sent/"
    assert mailoutbox == []


def test_link_request_with_invalid_address_shows_error(client):
    response = client.post("/accounts/login/", {"action": "link", "identity": "x"})
    assert response.status_code == 400
    assert "Enter a valid email address." in response.content.decode()


def test_link_requests_per_address_stop_sending_silently(client, mailoutbox):
    UserFactory(email="a@example.org")
    for _ in range(accounts.LINKS_PER_EMAIL + 2):
        response = client.post(
            "/accounts/login/", {"action": "link", "identity": "a@example.org"}
        )
        assert response["Location"] == "/accounts/login_link_sent/"
    assert len(mailoutbox) == accounts.LINKS_PER_EMAIL


def test_link_requests_are_rate_limited_per_ip(client):
    for n in range(accounts.LINKS_PER_IP):
        client.post("/accounts/login/", {"action": "link", "identity": f"{n}@x.org"})
    response = client.post(
        "/accounts/login/", {"action": "link", "identity": "a@x.org"}
    )
    assert response.status_code == 429


def test_login_link_get_asks_for_a_click_and_does_not_spend_the_link(client):
    user = UserFactory()
    path = path_of(auth.make_login_link(user))
    response = client.get(path)
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    assert client.post(path).status_code == 302


def test_login_link_post_logs_in_and_follows_next(client):
    user = UserFactory()
    link = auth.make_login_link(user, next_url="/accounts/profile/")
    response = client.post(path_of(link))
    assert response["Location"] == "/accounts/profile/"
    assert client.session["_auth_user_id"] == str(user.pk)


def test_login_link_ignores_offsite_next(client):
    link = auth.make_login_link(UserFactory(), next_url="https://evil.example/")
    assert client.post(path_of(link))["Location"] == "/"


def test_login_link_works_only_once(client):
    path = path_of(auth.make_login_link(UserFactory()))
    client.post(path)
    client.logout()
    response = client.post(path)
    assert response.status_code == 400
    assert "_auth_user_id" not in client.session


def test_login_link_expires_after_an_hour(client):
    path = path_of(auth.make_login_link(UserFactory()))
    with time_machine.travel(timezone.now() + timedelta(minutes=61)):
        response = client.post(path)
    assert response.status_code == 400


def test_newer_login_link_replaces_the_older_one(client):
    user = UserFactory()
    old = path_of(auth.make_login_link(user))
    auth.make_login_link(user)
    assert client.post(old).status_code == 400


def test_tampered_login_link_is_refused(client):
    path = path_of(auth.make_login_link(UserFactory()))
    assert client.post(path[:-3] + "xx/").status_code == 400


def test_login_link_of_inactive_user_is_refused(client):
    user = UserFactory(is_active=False)
    path = path_of(auth.make_login_link(user))
    assert client.post(path).status_code == 400


def test_emailed_login_link_logs_in(client, smtp_server):
    UserFactory(email="a@example.org")
    client.post("/accounts/login/", {"action": "link", "identity": "a@example.org"})
    path = link_path(smtp_server.wait_for(1)[0])
    assert client.post(path).status_code == 302
    assert "_auth_user_id" in client.session


def test_logout_needs_post(client):
    client.force_login(UserFactory())
    assert client.get("/accounts/logout/").status_code == 405
    assert "_auth_user_id" in client.session


def test_logout_logs_out(client):
    client.force_login(UserFactory())
    response = client.post("/accounts/logout/")
    assert response["Location"] == "/accounts/login/"
    assert "_auth_user_id" not in client.session


def test_logged_in_user_visiting_login_page_goes_home(client):
    client.force_login(UserFactory())
    assert client.get("/accounts/login/")["Location"] == "/"
