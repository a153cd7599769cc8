"""`manage.py smtpd`: email pings (spec 2.7). Mail to <uuid>@PING_EMAIL_DOMAIN or
<ping-key>+<slug>@PING_EMAIL_DOMAIN pings that check."""

from __future__ import annotations

import asyncio
import email
import email.policy
import logging
import re
import signal
import threading
import uuid
from email.message import EmailMessage
from html.parser import HTMLParser
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections
from django.utils import timezone

from checks import services
from checks.models import PingKind
from checks.services import PingData

log = logging.getLogger(__name__)

UUID4_RE = re.compile(
    r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"
)
SLUG_MAILBOX_RE = re.compile(r"^(?P<ping_key>[a-z0-9]{22})\+(?P<slug>[a-z0-9_-]+)$")


class _TextOfHtml(HTMLParser):
    """Visible text of an HTML part for keyword filters; scripts and styles dropped."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in ("script", "style"):
            self._skip += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    parser = _TextOfHtml()
    parser.feed(html)
    parser.close()
    return " ".join(" ".join(parser.parts).split())


def message_text(message: EmailMessage) -> str:
    """The text/plain part plus the text of the text/html part."""
    texts = []
    for preference in ("plain", "html"):
        part = message.get_body(preferencelist=(preference,))
        if part is None or part.get_content_subtype() != preference:
            continue
        try:
            content = part.get_content()
        except (LookupError, UnicodeError):
            continue  # an unknown charset: the subject may still classify the ping
        texts.append(html_to_text(content) if preference == "html" else content)
    return "\n".join(texts)


def mailbox_error(address: str) -> str | None:
    """The SMTP reply refusing this recipient, or None if it may be a check."""
    local, _, domain = address.rpartition("@")
    if domain.lower() != settings.PING_EMAIL_DOMAIN.lower():
        return "550 5.1.1 Recipient rejected"
    local = local.lower()
    if not (UUID4_RE.match(local) or SLUG_MAILBOX_RE.match(local)):
        return "550 5.1.1 Invalid mailbox"
    return None


def process_message(
    *, remote_addr: str | None, mail_from: str, recipients: list[str], data: bytes
) -> None:
    """Record one ping per recipient; unknown checks and ambiguous slugs are logged."""
    message = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(message, EmailMessage)  # noqa: S101 - policy.default's class
    ping = PingData(
        action=PingKind.SUCCESS,
        scheme="email",
        remote_addr=remote_addr,
        method="",
        ua=f"Email from {mail_from}"[:200],
        # The whole message, not cut by PING_BODY_LIMIT (spec 2.7).
        body=data,
        email_subject=str(message["Subject"] or ""),
        email_text=message_text(message),
    )
    for recipient in recipients:
        local = recipient.rpartition("@")[0].lower()
        now = timezone.now()
        try:
            if UUID4_RE.match(local):
                found = services.ping_by_code(code=uuid.UUID(local), ping=ping, now=now)
            else:
                match = SLUG_MAILBOX_RE.match(local)
                assert match is not None  # noqa: S101 - checked at RCPT time
                found, _ = services.ping_by_slug(
                    ping_key=match["ping_key"], slug=match["slug"], ping=ping, now=now
                )
        except services.AmbiguousSlug:
            log.info("email ping to %s: ambiguous slug", recipient)
            continue
        if found is None:
            log.info("email ping to %s: no such check", recipient)


class PingHandler:
    """aiosmtpd handler: validates recipients, records pings after DATA."""

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        error = mailbox_error(address)
        if error:
            return error
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        peer = session.peer[0] if isinstance(session.peer, tuple) else None
        # The ORM is synchronous: run it off the event loop.
        await asyncio.to_thread(
            _process_in_thread,
            remote_addr=peer,
            mail_from=envelope.mail_from or "",
            recipients=list(envelope.rcpt_tos),
            data=envelope.original_content or b"",
        )
        return "250 OK"


def _process_in_thread(**kwargs: Any) -> None:
    # Threads of the pool keep their connections: drop broken or expired ones.
    close_old_connections()
    try:
        process_message(**kwargs)
    finally:
        close_old_connections()


def controller(host: str, port: int) -> Controller:
    return Controller(PingHandler(), hostname=host, port=port)


class Command(BaseCommand):
    help = "Receive email pings over SMTP (<uuid>@PING_EMAIL_DOMAIN)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=25)

    def handle(self, *args: Any, **options: Any) -> None:
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        server = controller(options["host"], options["port"])
        server.start()
        self.stdout.write(
            f"Accepting email pings for @{settings.PING_EMAIL_DOMAIN} on "
            f"{options['host']}:{options['port']}"
        )
        stop.wait()
        server.stop()
