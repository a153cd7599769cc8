"""Email: one message per address, plain text and HTML, through Django's mail."""

from __future__ import annotations

import contextlib
import smtplib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from django.core.mail import EmailMultiAlternatives, get_connection
from django.template.loader import render_to_string
from rest_framework import serializers

from integrations import email_links
from integrations.base import DeliveryError, UpDownConfig, UpDownKind
from integrations.message import build_message

if TYPE_CHECKING:
    from checks.models import Channel, Notification

MAX_RECIPIENTS = 20
# Messages a kept connection carries at most: mail servers may cap them per
# connection, so a long batch moves to a new one before reaching a common cap.
MESSAGES_PER_CONNECTION = 100

_shared = threading.local()


@contextmanager
def keep_alive() -> Iterator[None]:
    """Alerts emailed inside share one connection to the mail server.

    A delivery batch sends to one channel: one connection (one TLS handshake and
    login) serves the batch instead of one per alert. It is opened by the first
    alert, checked with NOOP before each later one (a server that dropped it
    meanwhile gets a new one, before any message is handed over), replaced before
    an alert that would take it past MESSAGES_PER_CONNECTION, and dropped after any
    failed alert, so one bad conversation never spoils the next.
    """
    if getattr(_shared, "held", None) is not None:
        yield  # already inside one
        return
    _shared.held = []
    try:
        yield
    finally:
        held, _shared.held = _shared.held, None
        for connection in held:
            _close(connection)


def _close(connection: Any) -> None:
    # A connection whose QUIT fails is gone anyway; the alerts were sent.
    with contextlib.suppress(smtplib.SMTPException, OSError):
        connection.close()


def _alive(connection: Any) -> bool:
    """Whether a kept connection still answers (SMTP backends; others have none)."""
    smtp = getattr(connection, "connection", None)
    if smtp is None:
        return True
    try:
        return bool(smtp.noop()[0] == 250)
    except (smtplib.SMTPException, OSError):
        return False


@contextmanager
def _connection(messages: int) -> Iterator[Any]:
    """A mail connection for one alert of `messages` messages: the kept one inside
    keep_alive(), else new."""
    held = getattr(_shared, "held", None)
    if held is None:
        with get_connection() as connection:
            yield connection
        return
    if held and (
        _shared.carried + messages > MESSAGES_PER_CONNECTION or not _alive(held[0])
    ):
        _close(held.pop())
    if not held:
        connection = get_connection()
        connection.open()
        held.append(connection)
        _shared.carried = 0
    _shared.carried += messages
    try:
        yield held[0]
    except BaseException:
        _close(held.pop())
        raise


class EmailConfig(UpDownConfig):
    to = serializers.ListField(
        child=serializers.EmailField(max_length=254),
        min_length=1,
        max_length=MAX_RECIPIENTS,
        help_text=f"Up to {MAX_RECIPIENTS} addresses; each gets its own message.",
    )


class Email(UpDownKind):
    kind = "email"
    label = "Email"
    config = EmailConfig

    def send(self, channel: Channel, notification: Notification) -> None:
        """Send the alert to each address as its own message over one connection
        (the batch's, inside keep_alive()).

        Each message has the address's one-click unsubscribe link (List-Unsubscribe).

        Addresses still waiting to confirm (integrations/email_links.py) are skipped;
        with none confirmed the delivery fails for good: "Email not verified".
        """
        config = self.load_config(channel)
        waiting = set(email_links.unverified(channel))
        recipients = [a for a in dict.fromkeys(config["to"]) if a not in waiting]
        if not recipients:
            raise DeliveryError(email_links.NOT_VERIFIED, permanent=True)
        message = build_message(notification)
        subject = message.title
        try:
            with _connection(len(recipients)) as connection:
                for address in recipients:
                    # Each address's own unsubscribe link, in the headers and body.
                    url = email_links.unsubscribe_url(channel, address)
                    context = {"m": message, "unsubscribe_url": url}
                    mail = EmailMultiAlternatives(
                        subject,
                        render_to_string("integrations/email/alert.txt", context),
                        to=[address],
                        connection=connection,
                        headers=email_links.unsubscribe_headers(url),
                    )
                    html = render_to_string("integrations/email/alert.html", context)
                    mail.attach_alternative(html, "text/html")
                    mail.send()
        except smtplib.SMTPRecipientsRefused as e:
            refused = ", ".join(e.recipients)
            raise DeliveryError(
                f"The mail server refused {refused}", permanent=True
            ) from e
        except (smtplib.SMTPException, OSError) as e:
            raise DeliveryError(f"Could not send email: {type(e).__name__}") from e
