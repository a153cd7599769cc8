"""Pages opened from email links (checks/dashboard/links.py) and unverified channels
on the integrations page."""

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from checks import alerts
from checks.models import EmailVerification, Reports
from integrations import email_links
from tests.factories import (
    ChannelFactory,
    FlipFactory,
    NotificationFactory,
    ProfileFactory,
)

pytestmark = pytest.mark.django_db

BOSS = "boss@example.org"


@pytest.fixture
def waiting(team):
    """An email channel of the team's project whose address has not confirmed."""
    channel = ChannelFactory(project=team.project, kind="email", config={"to": [BOSS]})
    EmailVerification.objects.create(channel=channel, address=BOSS)
    return channel


def _path(url: str) -> str:
    return "/" + url.split("://", 1)[1].split("/", 1)[1]


def _verify_path(channel, address=BOSS) -> str:
    return _path(email_links.verify_url(channel, address))


def test_verify_link_asks_before_confirming(client, waiting):
    response = client.get(_verify_path(waiting))
    assert response.status_code == 200
    assert f"Get alerts at {BOSS}?" in response.content.decode()
    assert email_links.unverified(waiting) == [BOSS]


def test_verify_link_post_confirms_the_address(client, waiting):
    response = client.post(_verify_path(waiting))
    assert response.status_code == 200
    assert f"{BOSS} now gets the alerts" in response.content.decode()
    assert email_links.unverified(waiting) == []


def test_verify_link_used_twice_says_nothing_to_confirm(client, waiting):
    client.post(_verify_path(waiting))
    response = client.post(_verify_path(waiting))
    assert "Nothing to confirm" in response.content.decode()


def test_verify_post_without_csrf_token_is_refused(waiting):
    response = Client(enforce_csrf_checks=True).post(_verify_path(waiting))
    assert response.status_code == 403
    assert email_links.unverified(waiting) == [BOSS]


def test_verify_link_with_an_altered_token_is_400(client, waiting):
    path = _verify_path(waiting)
    response = client.get(path[:-3] + "xx/")
    assert response.status_code == 400


def test_verify_link_made_for_another_channel_is_400(client, waiting, team):
    other = ChannelFactory(project=team.project, kind="email", config={"to": [BOSS]})
    token = _verify_path(other).rstrip("/").rsplit("/", 1)[1]
    response = client.post(f"/integrations/{waiting.code}/verify/{token}/")
    assert response.status_code == 400
    assert email_links.unverified(waiting) == [BOSS]


def test_list_shows_the_channel_unverified_with_its_address(client, team, waiting):
    client.force_login(team.reader)
    body = client.get(f"/projects/{team.project.code}/integrations/").content.decode()
    assert "unverified" in body
    assert f"{BOSS} (no link sent yet)" in body


def test_list_says_when_the_link_was_sent(client, team, waiting):
    EmailVerification.objects.update(sent=timezone.now() - timedelta(minutes=5))
    client.force_login(team.reader)
    body = client.get(f"/projects/{team.project.code}/integrations/").content.decode()
    assert "link sent" in body
    assert "5 minutes ago" in body


def test_list_offers_to_resend_the_verification(client, team, waiting):
    client.force_login(team.member)
    body = client.get(f"/projects/{team.project.code}/integrations/").content.decode()
    assert f"/integrations/{waiting.code}/verify/resend/" in body


def test_list_shows_no_unverified_when_verification_is_off(
    client, team, waiting, settings
):
    settings.EMAIL_USE_VERIFICATION = False
    client.force_login(team.reader)
    body = client.get(f"/projects/{team.project.code}/integrations/").content.decode()
    assert "Waiting to confirm" not in body


def test_resend_emails_the_link_again(client, team, waiting, smtp_server):
    client.force_login(team.member)
    response = client.post(f"/integrations/{waiting.code}/verify/resend/", follow=True)
    assert f"Verification email sent to {BOSS}." in response.content.decode()
    [mail] = smtp_server.wait_for(1)
    token = re.search(r"/verify/(\S+)/", mail.text())[1]
    assert (
        email_links.read_address(email_links.VERIFY_SALT, waiting.code, token) == BOSS
    )


def test_resend_is_not_for_readers(client, team, waiting, smtp_server):
    client.force_login(team.reader)
    response = client.post(f"/integrations/{waiting.code}/verify/resend/")
    assert response.status_code == 403
    assert smtp_server.messages == []


def test_add_email_for_someone_else_says_it_waits_for_them(client, team, smtp_server):
    client.force_login(team.member)
    response = client.post(
        f"/projects/{team.project.code}/integrations/add/email/",
        {"cfg_to": BOSS, "cfg_up": "on", "cfg_down": "on"},
        follow=True,
    )
    assert f"Waiting for {BOSS} to confirm" in response.content.decode()


def test_add_email_for_own_address_is_verified_at_once(client, team, smtp_server):
    client.force_login(team.member)
    client.post(
        f"/projects/{team.project.code}/integrations/add/email/",
        {"cfg_to": team.member.email, "cfg_down": "on"},
    )
    assert not EmailVerification.objects.exists()
    assert smtp_server.messages == []


def test_emailed_link_starts_the_alerts(
    client, team, smtp_server, django_capture_on_commit_callbacks
):
    client.force_login(team.member)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            f"/projects/{team.project.code}/integrations/add/email/",
            {"cfg_to": BOSS, "cfg_down": "on"},
        )
    client.logout()
    link = re.search(r"http\S+/verify/\S+/", smtp_server.wait_for(1)[0].text())[0]
    path = _path(link)
    client.get(path)
    client.post(path)
    assert not EmailVerification.objects.exists()


# --- unsubscribe ------------------------------------------------------------------

ONE_CLICK = {"List-Unsubscribe": "One-Click"}


@pytest.fixture
def subscribed(team):
    """An email channel with two addresses (both confirmed)."""
    return ChannelFactory(
        project=team.project, kind="email", config={"to": [BOSS, "ops@example.org"]}
    )


def _unsubscribe_path(channel, address=BOSS) -> str:
    return _path(email_links.unsubscribe_url(channel, address))


def _addresses(channel) -> list[str]:
    channel.refresh_from_db()
    return channel.config["to"]


def test_unsubscribe_link_asks_before_unsubscribing(client, subscribed):
    response = client.get(_unsubscribe_path(subscribed))
    assert f"Stop alerts to {BOSS}?" in response.content.decode()
    assert BOSS in _addresses(subscribed)


def test_unsubscribe_confirmed_on_the_page_takes_the_address_off(subscribed):
    client = Client(enforce_csrf_checks=True)
    page = client.get(_unsubscribe_path(subscribed))
    token = page.context["csrf_token"]
    response = client.post(
        _unsubscribe_path(subscribed), {"csrfmiddlewaretoken": str(token)}
    )
    assert "Unsubscribed" in response.content.decode()
    assert _addresses(subscribed) == ["ops@example.org"]


def test_unsubscribe_post_without_csrf_token_is_refused(subscribed):
    response = Client(enforce_csrf_checks=True).post(_unsubscribe_path(subscribed))
    assert response.status_code == 403
    assert BOSS in _addresses(subscribed)


def test_one_click_unsubscribe_needs_no_csrf_token(subscribed):
    response = Client(enforce_csrf_checks=True).post(
        _unsubscribe_path(subscribed), ONE_CLICK
    )
    assert response.status_code == 200
    assert _addresses(subscribed) == ["ops@example.org"]


def test_one_click_unsubscribe_with_an_altered_token_is_400(subscribed):
    path = _unsubscribe_path(subscribed)
    response = Client(enforce_csrf_checks=True).post(path[:-3] + "xx/", ONE_CLICK)
    assert response.status_code == 400
    assert BOSS in _addresses(subscribed)


def test_verification_link_cannot_unsubscribe(client, subscribed):
    token = _verify_path(subscribed).rstrip("/").rsplit("/", 1)[1]
    path = f"/integrations/{subscribed.code}/unsubscribe/{token}/"
    assert client.post(path, ONE_CLICK).status_code == 400


def test_one_click_unsubscribe_twice_answers_200(client, subscribed):
    client.post(_unsubscribe_path(subscribed), ONE_CLICK)
    assert client.post(_unsubscribe_path(subscribed), ONE_CLICK).status_code == 200


def test_unsubscribe_page_after_the_channel_is_gone_says_not_subscribed(client, team):
    channel = ChannelFactory(project=team.project, kind="email", config={"to": [BOSS]})
    path = _unsubscribe_path(channel)
    client.post(path, ONE_CLICK)
    assert "Not subscribed" in client.get(path).content.decode()


def test_alert_emails_unsubscribe_header_works_in_one_click(
    client, subscribed, smtp_server
):
    flip = FlipFactory(owner__project=subscribed.project)
    notification = NotificationFactory(
        flip=flip, channel=subscribed, next_attempt=timezone.now()
    )
    alerts.deliver(notification.pk)
    mail = next(m for m in smtp_server.wait_for(2) if m.rcpt_tos == [BOSS])
    url = str(mail.message["List-Unsubscribe"]).strip().strip("<>")
    assert client.post(_path(url), ONE_CLICK).status_code == 200
    assert _addresses(subscribed) == ["ops@example.org"]


# --- reports ----------------------------------------------------------------------


@pytest.fixture
def weekly(team):
    return ProfileFactory(user=team.member, reports=Reports.WEEKLY)


def _reports_path(profile) -> str:
    return _path(email_links.reports_unsubscribe_url(profile.user_id))


def _reports(profile) -> str:
    profile.refresh_from_db()
    return profile.reports


def test_reports_unsubscribe_link_asks_first(client, weekly):
    response = client.get(_reports_path(weekly))
    assert "Stop your weekly reports?" in response.content.decode()
    assert _reports(weekly) == Reports.WEEKLY


def test_reports_one_click_unsubscribe_turns_them_off(weekly):
    response = Client(enforce_csrf_checks=True).post(_reports_path(weekly), ONE_CLICK)
    assert response.status_code == 200
    assert _reports(weekly) == Reports.OFF


def test_reports_unsubscribe_post_without_csrf_token_is_refused(weekly):
    response = Client(enforce_csrf_checks=True).post(_reports_path(weekly))
    assert response.status_code == 403
    assert _reports(weekly) == Reports.WEEKLY


def test_reports_unsubscribe_with_a_forged_token_is_400(client, weekly):
    response = client.post(
        f"/accounts/unsubscribe_reports/{weekly.user_id}/", ONE_CLICK
    )
    assert response.status_code == 400
    assert _reports(weekly) == Reports.WEEKLY
