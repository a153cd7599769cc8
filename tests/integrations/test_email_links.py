"""Email channel verification (integrations/email_links.py), with a real SMTP server."""

import re
from datetime import UTC, datetime

import pytest

from checks import alerts, services
from checks.models import Channel, DeliveryState, EmailVerification, Reports
from integrations import email_links
from tests.factories import (
    ChannelFactory,
    FlipFactory,
    NotificationFactory,
    ProfileFactory,
    ProjectFactory,
    UserFactory,
)
from tests.servers import free_port

pytestmark = pytest.mark.django_db

ME = "me@example.org"
BOSS = "boss@example.org"
NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


@pytest.fixture
def me():
    return UserFactory(email=ME)


@pytest.fixture
def create(me, django_capture_on_commit_callbacks):
    """create_channel for an email channel, running what waits for the commit."""

    def create(to, *, by=me, project=None):
        with django_capture_on_commit_callbacks(execute=True):
            return services.create_channel(
                project=project or ProjectFactory(owner=me),
                kind="email",
                name="",
                config={"to": to},
                by=by,
            )

    return create


@pytest.fixture
def update(me, django_capture_on_commit_callbacks):
    def update(channel, to, *, by=me):
        with django_capture_on_commit_callbacks(execute=True):
            services.update_channel(channel=channel, name="", config={"to": to}, by=by)

    return update


def link_in(mail) -> str:
    return re.search(r"http\S+/verify/\S+/", mail.text()).group(0)


# --- who must confirm ---------------------------------------------------------------


def test_address_of_someone_else_is_emailed_a_verification_link(create, smtp_server):
    channel = create([BOSS])
    [mail] = smtp_server.wait_for(1)
    assert mail.rcpt_tos == [BOSS]
    assert mail.subject == f"Confirm alerts from hcserver to {BOSS}"
    assert f"/integrations/{channel.code}/verify/" in link_in(mail)


def test_sending_the_link_records_when(create, smtp_server):
    create([BOSS])
    assert EmailVerification.objects.get().sent is not None


def test_address_of_someone_else_waits_for_confirmation(create, smtp_server):
    channel = create([BOSS])
    assert email_links.unverified(channel) == [BOSS]


def test_own_address_needs_no_confirmation(create, smtp_server):
    channel = create([ME])
    assert email_links.unverified(channel) == []
    assert smtp_server.messages == []


def test_own_address_is_recognised_whatever_its_case(create, smtp_server):
    channel = create(["Me@Example.ORG"])
    assert email_links.unverified(channel) == []


def test_channel_created_without_a_user_confirms_every_address(create, smtp_server):
    channel = create([ME], by=None)
    assert email_links.unverified(channel) == [ME]


def test_only_the_other_addresses_of_a_channel_wait(create, smtp_server):
    channel = create([ME, BOSS])
    assert email_links.unverified(channel) == [BOSS]


def test_verification_turned_off_sends_no_link(create, smtp_server, settings):
    settings.EMAIL_USE_VERIFICATION = False
    channel = create([BOSS])
    assert smtp_server.messages == []
    assert not EmailVerification.objects.filter(channel=channel).exists()


def test_other_kinds_are_not_verified(me, smtp_server):
    channel = services.create_channel(
        project=ProjectFactory(owner=me),
        kind="webhook",
        name="",
        config={"url_down": "https://example.org"},
        by=me,
    )
    assert not EmailVerification.objects.filter(channel=channel).exists()


def test_edit_sends_a_link_to_the_added_address_only(create, update, smtp_server):
    channel = create([ME])
    update(channel, [ME, BOSS])
    assert [m.rcpt_tos for m in smtp_server.wait_for(1)] == [[BOSS]]


def test_edit_keeps_an_address_that_was_confirmed(create, update, smtp_server):
    channel = create([BOSS])
    email_links.verify(channel, BOSS)
    update(channel, [BOSS, ME])
    assert email_links.unverified(channel) == []


def test_edit_removing_an_address_forgets_that_it_waited(create, update, smtp_server):
    channel = create([BOSS, ME])
    update(channel, [ME])
    assert not EmailVerification.objects.exists()


def test_edit_by_the_waiting_address_itself_confirms_it(create, update, smtp_server):
    boss = UserFactory(email=BOSS)
    channel = create([BOSS])
    update(channel, [BOSS], by=boss)
    assert email_links.unverified(channel) == []


# --- links ------------------------------------------------------------------------


def test_link_names_the_address_it_was_made_for(create, smtp_server):
    channel = create([BOSS])
    token = link_in(smtp_server.wait_for(1)[0]).rstrip("/").rsplit("/", 1)[1]
    assert (
        email_links.read_address(email_links.VERIFY_SALT, channel.code, token) == BOSS
    )


def test_link_of_one_channel_does_not_work_for_another(create, smtp_server):
    create([BOSS])
    other = ChannelFactory(kind="email")
    token = link_in(smtp_server.wait_for(1)[0]).rstrip("/").rsplit("/", 1)[1]
    assert email_links.read_address(email_links.VERIFY_SALT, other.code, token) is None


def test_altered_link_does_not_work(create, smtp_server):
    channel = create([BOSS])
    token = link_in(smtp_server.wait_for(1)[0]).rstrip("/").rsplit("/", 1)[1]
    forged = token[:-2] + ("AA" if token[-2:] != "AA" else "BB")
    assert (
        email_links.read_address(email_links.VERIFY_SALT, channel.code, forged) is None
    )


def test_verify_confirms_a_waiting_address(create, smtp_server):
    channel = create([BOSS])
    assert email_links.verify(channel, BOSS)
    assert email_links.unverified(channel) == []


def test_verify_of_an_address_not_waiting_changes_nothing(create, smtp_server):
    channel = create([ME])
    assert not email_links.verify(channel, BOSS)


def test_verify_clears_the_not_verified_problem(create, smtp_server):
    channel = create([BOSS])
    channel.last_error = email_links.NOT_VERIFIED
    channel.save()
    email_links.verify(channel, BOSS)
    channel.refresh_from_db()
    assert channel.last_error == ""


def test_verification_emails_to_one_address_are_limited(create, smtp_server):
    channel = create([BOSS])  # the first of five a day
    outcome = [email_links.resend(channel)[0].error for _ in range(5)]
    assert outcome == [""] * 4 + ["too many verification emails lately"]
    assert len(smtp_server.wait_for(5)) == 5


def test_mail_server_down_keeps_the_channel_and_says_so(me, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()
    settings.EMAIL_USE_TLS = False
    channel = ChannelFactory(kind="email", config={"to": [BOSS]})
    EmailVerification.objects.create(channel=channel, address=BOSS)
    [sent] = email_links.resend(channel)
    assert sent.error == "the mail server could not be reached"


# --- delivery ---------------------------------------------------------------------


def _alert(channel):
    flip = FlipFactory(owner__project=channel.project)
    return NotificationFactory(flip=flip, channel=channel, next_attempt=NOW)


def test_alert_skips_the_address_still_waiting(create, smtp_server):
    channel = create([ME, BOSS])
    smtp_server.messages.clear()  # the verification email
    alerts.deliver(_alert(channel).pk, now=NOW)
    assert [m.rcpt_tos for m in smtp_server.wait_for(1)] == [[ME]]


def test_alert_to_a_channel_with_nobody_confirmed_fails_for_good(create, smtp_server):
    channel = create([BOSS])
    notification = _alert(channel)
    assert alerts.deliver(notification.pk, now=NOW) == DeliveryState.FAILED
    notification.refresh_from_db()
    assert notification.error == "Email not verified"


def test_not_verified_shows_as_the_channels_problem(create, smtp_server):
    channel = create([BOSS])
    alerts.deliver(_alert(channel).pk, now=NOW)
    channel.refresh_from_db()
    assert channel.last_error == "Email not verified"


def test_alert_reaches_the_address_once_confirmed(create, smtp_server):
    channel = create([BOSS])
    email_links.verify(channel, BOSS)
    alerts.deliver(_alert(channel).pk, now=NOW)
    assert smtp_server.wait_for(2)[1].rcpt_tos == [BOSS]


def test_verification_turned_off_later_delivers_to_waiting_addresses(
    create, smtp_server, settings
):
    channel = create([BOSS])
    settings.EMAIL_USE_VERIFICATION = False
    assert alerts.deliver(_alert(channel).pk, now=NOW) == DeliveryState.SENT


# --- unsubscribe ------------------------------------------------------------------


def test_unsubscribe_takes_the_address_off_the_channel():
    channel = ChannelFactory(kind="email", config={"to": [ME, BOSS], "up": False})
    assert email_links.unsubscribe(channel.code, BOSS)
    channel.refresh_from_db()
    assert channel.config == {"to": [ME], "up": False}


def test_unsubscribe_of_the_last_address_deletes_the_channel():
    channel = ChannelFactory(kind="email", config={"to": [BOSS]})
    email_links.unsubscribe(channel.code, BOSS)
    assert not Channel.objects.filter(pk=channel.pk).exists()


def test_unsubscribe_forgets_that_the_address_waited():
    channel = ChannelFactory(kind="email", config={"to": [ME, BOSS]})
    EmailVerification.objects.create(channel=channel, address=BOSS)
    email_links.unsubscribe(channel.code, BOSS)
    assert not EmailVerification.objects.exists()


def test_unsubscribe_of_an_address_not_on_the_channel_changes_nothing():
    channel = ChannelFactory(kind="email", config={"to": [ME]})
    assert not email_links.unsubscribe(channel.code, BOSS)
    channel.refresh_from_db()
    assert channel.config == {"to": [ME]}


def test_unsubscribe_link_is_not_a_verification_link():
    channel = ChannelFactory(kind="email", config={"to": [BOSS]})
    token = email_links.unsubscribe_url(channel, BOSS).rstrip("/").rsplit("/", 1)[1]
    assert (
        email_links.read_address(email_links.VERIFY_SALT, channel.code, token) is None
    )


def test_unsubscribe_reports_turns_them_off():
    profile = ProfileFactory(reports=Reports.WEEKLY, next_report_date=NOW)
    assert email_links.unsubscribe_reports(profile.user_id)
    profile.refresh_from_db()
    assert (profile.reports, profile.next_report_date) == (Reports.OFF, None)


def test_reports_token_names_its_user():
    token = email_links.sign_user(42)
    assert email_links.read_user(token) == 42
    assert email_links.read_user(token + "x") is None
