"""Email pings (spec 2.7): `manage.py smtpd` over a real SMTP conversation."""

import smtplib
from email.message import EmailMessage

import pytest

from checks.management.commands.smtpd import controller, html_to_text
from checks.models import Check, Ping, Status
from tests.factories import CheckFactory
from tests.servers import free_port

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def smtpd(settings):
    settings.PING_EMAIL_DOMAIN = "hc.example.org"
    port = free_port()
    server = controller("127.0.0.1", port)
    server.start()
    yield port
    server.stop()


def send(port: int, to: str, subject: str = "Backup", text: str = "", html: str = ""):
    message = EmailMessage()
    message["From"] = "cron@example.org"
    message["To"] = to
    message["Subject"] = subject
    message.set_content(text or "done")
    if html:
        message.add_alternative(html, subtype="html")
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        return client.send_message(message)


def test_email_to_check_uuid_records_success_ping(smtpd):
    check = CheckFactory()
    send(smtpd, f"{check.code}@hc.example.org")
    ping = Ping.objects.get(owner=check)
    assert (ping.kind, ping.scheme, ping.method) == ("success", "email", "")
    assert ping.ua == "Email from cron@example.org"
    assert Check.objects.get(pk=check.pk).status == Status.UP


def test_email_ping_stores_the_whole_raw_message(smtpd):
    check = CheckFactory()
    send(smtpd, f"{check.code}@hc.example.org", subject="Nightly")
    body = bytes(Ping.objects.get(owner=check).body)
    assert b"Subject: Nightly" in body
    assert b"From: cron@example.org" in body


def test_email_body_is_not_cut_by_ping_body_limit(smtpd, settings):
    settings.PING_BODY_LIMIT = 100
    check = CheckFactory()
    send(smtpd, f"{check.code}@hc.example.org", text="x" * 5000)
    assert len(bytes(Ping.objects.get(owner=check).body)) > 5000


def test_recipient_of_another_domain_is_rejected(smtpd):
    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        send(smtpd, "0b9a3c3e-5b43-4b6b-9d5a-2a4e1c1b2f3a@elsewhere.org")
    ((code, reply),) = refused.value.recipients.values()
    assert (code, reply) == (550, b"5.1.1 Recipient rejected")


def test_recipient_that_is_not_a_uuid_or_slug_mailbox_is_invalid(smtpd):
    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        send(smtpd, "backup@hc.example.org")
    ((code, reply),) = refused.value.recipients.values()
    assert (code, reply) == (550, b"5.1.1 Invalid mailbox")


def test_recipient_with_uuid_other_than_v4_is_invalid(smtpd):
    with pytest.raises(smtplib.SMTPRecipientsRefused):
        send(smtpd, "0b9a3c3e-5b43-1b6b-9d5a-2a4e1c1b2f3a@hc.example.org")


def test_email_to_ping_key_plus_slug_pings_that_check(smtpd):
    check = CheckFactory(slug="nightly-backup")
    send(smtpd, f"{check.project.ping_key}+nightly-backup@hc.example.org")
    assert Ping.objects.filter(owner=check).count() == 1


def test_email_to_unknown_check_is_accepted_and_records_nothing(smtpd):
    refused = send(smtpd, "0b9a3c3e-5b43-4b6b-9d5a-2a4e1c1b2f3a@hc.example.org")
    assert refused == {}
    assert not Ping.objects.exists()


def test_email_to_unknown_slug_is_logged_and_records_nothing(smtpd, caplog):
    check = CheckFactory(slug="known")
    send(smtpd, f"{check.project.ping_key}+unknown@hc.example.org")
    assert not Ping.objects.exists()
    assert "no such check" in caplog.text


def test_email_to_ambiguous_slug_records_nothing(smtpd):
    check = CheckFactory(slug="job")
    CheckFactory(project=check.project, slug="job")
    send(smtpd, f"{check.project.ping_key}+job@hc.example.org")
    assert not Ping.objects.exists()


def test_subject_filter_with_failure_keyword_marks_check_down(smtpd):
    check = CheckFactory(status=Status.UP, filter_subject=True, failure_kw="FAILED")
    send(smtpd, f"{check.code}@hc.example.org", subject="Backup FAILED")
    assert Ping.objects.get(owner=check).kind == "fail"
    assert Check.objects.get(pk=check.pk).status == Status.DOWN


def test_subject_filter_without_matching_keyword_ignores_ping(smtpd):
    check = CheckFactory(filter_subject=True, success_kw="OK")
    send(smtpd, f"{check.code}@hc.example.org", subject="Backup report")
    assert Ping.objects.get(owner=check).kind == "ign"
    assert Check.objects.get(pk=check.pk).status == Status.NEW


def test_mime_encoded_subject_is_decoded_for_filters(smtpd):
    check = CheckFactory(filter_subject=True, success_kw="Sauvegarde réussie")
    send(smtpd, f"{check.code}@hc.example.org", subject="Sauvegarde réussie ✓")
    assert Ping.objects.get(owner=check).kind == "success"


def test_body_filter_reads_text_of_html_part(smtpd):
    check = CheckFactory(filter_body=True, start_kw="started")
    send(
        smtpd,
        f"{check.code}@hc.example.org",
        text="see the html part",
        html="<p>Job <b>started</b></p>",
    )
    assert Ping.objects.get(owner=check).kind == "start"


def test_email_ping_ignores_post_only_methods_setting(smtpd):
    check = CheckFactory(methods="POST")
    send(smtpd, f"{check.code}@hc.example.org")
    assert Ping.objects.get(owner=check).kind == "success"


def test_email_to_two_checks_pings_both(smtpd):
    first, second = CheckFactory(), CheckFactory()
    message = EmailMessage()
    message["From"] = "cron@example.org"
    message["Subject"] = "two"
    message.set_content("x")
    with smtplib.SMTP("127.0.0.1", smtpd, timeout=10) as client:
        client.send_message(
            message,
            to_addrs=[f"{first.code}@hc.example.org", f"{second.code}@hc.example.org"],
        )
    assert Ping.objects.filter(owner__in=[first, second]).count() == 2


def test_html_to_text_drops_tags_scripts_and_styles():
    html = "<style>p{}</style><p>Backup <i>done</i></p><script>x()</script>"
    assert html_to_text(html) == "Backup done"
