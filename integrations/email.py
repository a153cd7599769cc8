"""Email: one message per address, plain text and HTML, through Django's mail."""

from __future__ import annotations

import smtplib
from typing import TYPE_CHECKING

from django.core.mail import EmailMultiAlternatives, get_connection
from django.template.loader import render_to_string
from rest_framework import serializers

from integrations import email_links
from integrations.base import DeliveryError, UpDownConfig, UpDownKind
from integrations.message import build_message

if TYPE_CHECKING:
    from checks.models import Channel, Notification

MAX_RECIPIENTS = 20


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
        """Send the alert to each address as its own message over one connection.

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
            with get_connection() as connection:
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
