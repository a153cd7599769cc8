"""Consent in emails: verifying new addresses, and one-click unsubscribe links.

An address added to an email channel that is not the adding user's own account
address must confirm before it gets alerts (`EMAIL_USE_VERIFICATION`): it is
mailed a link, and until the link is used the address has an `EmailVerification`
row, which deliveries skip. The link carries the address, signed with SECRET_KEY
and salted with the channel; it works while the address waits on that channel.

Every alert and report email carries `List-Unsubscribe` (RFC 2369) with a signed
URL and `List-Unsubscribe-Post` (RFC 8058, one click): an alert's link takes the
address off that channel, a report's turns the user's reports off.
"""

from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING
from uuid import UUID

from django.conf import settings
from django.core import signing
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from checks.dashboard import ratelimit
from checks.models import Channel, EmailVerification, Profile, Reports

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

log = logging.getLogger(__name__)

VERIFY_SALT = "hc.email-channel.verify"
UNSUBSCRIBE_SALT = "hc.email-channel.unsubscribe"
REPORTS_SALT = "hc.reports.unsubscribe"
ONE_CLICK = "List-Unsubscribe=One-Click"
NOT_VERIFIED = "Email not verified"
# Verification emails per address, over every channel: adding an address again
# and again (dashboard, API, "resend") cannot flood its mailbox.
VERIFY_LIMIT = 5  # verification emails per address a day


def _salt(base: str, code: UUID) -> str:
    return f"{base}:{code}"


def sign_address(base: str, code: UUID, address: str) -> str:
    """A URL-safe token for (channel, address)."""
    return signing.dumps(address, salt=_salt(base, code), compress=True)


def read_address(base: str, code: UUID, token: str) -> str | None:
    """The address a token was made for on this channel; None if forged or altered."""
    try:
        address = signing.loads(token, salt=_salt(base, code))
    except signing.BadSignature:
        return None
    return address if isinstance(address, str) else None


def verify_url(channel: Channel, address: str) -> str:
    token = sign_address(VERIFY_SALT, channel.code, address)
    return f"{settings.SITE_ROOT}/integrations/{channel.code}/verify/{token}/"


def addresses(config: dict[str, object]) -> list[str]:
    """An email channel config's addresses, in order, without repeats."""
    to = config.get("to")
    if not isinstance(to, list):
        return []
    return list(dict.fromkeys(a for a in to if isinstance(a, str)))


def unverified(channel: Channel) -> list[str]:
    """The channel's addresses still waiting to confirm ([] when that is turned off)."""
    if channel.kind != "email" or not settings.EMAIL_USE_VERIFICATION:
        return []
    return list(
        EmailVerification.objects.filter(channel=channel)
        .order_by("address")
        .values_list("address", flat=True)
    )


def channel_saved(
    channel: Channel,
    *,
    by: AbstractBaseUser | AnonymousUser | None,
    previous: dict[str, object] | None = None,
) -> None:
    """After an email channel is created or edited: who must confirm, and mail them.

    Call inside the saving transaction; the links go out after it commits. Addresses
    that left the channel stop waiting; `by`'s own address never waits.
    """
    if channel.kind != "email":
        return
    current = addresses(channel.config)
    waiting = EmailVerification.objects.filter(channel=channel)
    waiting.exclude(address__in=current).delete()
    own = str(getattr(by, "email", "") or "").lower()
    if own:
        # Logged in with that address: that is the proof a link would give.
        for address in current:
            if address.lower() == own:
                waiting.filter(address=address).delete()
    if not settings.EMAIL_USE_VERIFICATION:
        return
    before = set(addresses(previous or {}))
    new = [a for a in current if a not in before and a.lower() != own]
    if not new:
        return
    EmailVerification.objects.bulk_create(
        [EmailVerification(channel=channel, address=a) for a in new],
        ignore_conflicts=True,
    )
    transaction.on_commit(lambda: send_verifications(channel, new))


@dataclass
class Sent:
    """How mailing one verification link went: error "" = sent."""

    address: str
    error: str = ""


def send_verifications(
    channel: Channel, to: list[str], *, now: datetime | None = None
) -> list[Sent]:
    """Mail a verification link to each waiting address in `to` (rate-limited)."""
    now = now or timezone.now()
    outcome = []
    for row in EmailVerification.objects.filter(channel=channel, address__in=to):
        if not ratelimit.allow(
            scope="verify-email",
            key=ratelimit.normalize_email(row.address),
            limit=VERIFY_LIMIT,
            window=ratelimit.DAY,
        ):
            log.info("verification email for channel %s: too many", channel.pk)
            outcome.append(Sent(row.address, "too many verification emails lately"))
            continue
        context = {
            "address": row.address,
            "project": channel.project,
            "link": verify_url(channel, row.address),
            "site_name": settings.SITE_NAME,
        }
        try:
            send_mail(
                f"Confirm alerts from {settings.SITE_NAME} to {row.address}",
                render_to_string("integrations/email/verify.txt", context),
                None,
                [row.address],
            )
        except (smtplib.SMTPException, OSError) as e:
            # The channel is saved; the dashboard offers to send the link again.
            log.warning("verification email for channel %s: %r", channel.pk, e)
            outcome.append(Sent(row.address, "the mail server could not be reached"))
            continue
        EmailVerification.objects.filter(pk=row.pk).update(sent=now)
        outcome.append(Sent(row.address))
    return outcome


def resend(channel: Channel) -> list[Sent]:
    """Mail the links again to every address of the channel still waiting."""
    return send_verifications(channel, unverified(channel))


def verify(channel: Channel, address: str) -> bool:
    """The address confirmed by its link; False if it was not waiting (any more)."""
    with transaction.atomic():
        deleted, _ = EmailVerification.objects.filter(
            channel=channel, address=address
        ).delete()
        if deleted:
            # The failures it caused are over.
            Channel.objects.filter(pk=channel.pk, last_error=NOT_VERIFIED).update(
                last_error=""
            )
    return bool(deleted)


# --- unsubscribe ------------------------------------------------------------------


def unsubscribe_url(channel: Channel, address: str) -> str:
    token = sign_address(UNSUBSCRIBE_SALT, channel.code, address)
    return f"{settings.SITE_ROOT}/integrations/{channel.code}/unsubscribe/{token}/"


def unsubscribe_headers(url: str) -> dict[str, str]:
    """The headers that let mail clients offer (one-click) unsubscribe."""
    return {"List-Unsubscribe": f"<{url}>", "List-Unsubscribe-Post": ONE_CLICK}


def unsubscribe(code: UUID, address: str) -> bool:
    """Take the address off the email channel; False if it was not on it (any more).

    The last address takes the channel with it: an email channel must name
    someone, and a disabled one could be switched on again by an edit that sends
    to the address without asking it again, while a new channel asks it first.
    """
    with transaction.atomic():
        channel = (
            Channel.objects.select_for_update().filter(code=code, kind="email").first()
        )
        if channel is None:
            return False
        current = addresses(channel.config)
        if address not in current:
            return False
        EmailVerification.objects.filter(channel=channel, address=address).delete()
        remaining = [a for a in current if a != address]
        if remaining:
            channel.config = {**channel.config, "to": remaining}
            channel.save(update_fields=["config"])
        else:
            channel.delete()
    log.info(
        "an address unsubscribed from channel %s%s",
        code,
        "" if remaining else ", its last one: channel deleted",
    )
    return True


def sign_user(user_id: int) -> str:
    return signing.dumps(user_id, salt=REPORTS_SALT)


def read_user(token: str) -> int | None:
    """The user id a reports-unsubscribe token was made for; None if forged."""
    try:
        user_id = signing.loads(token, salt=REPORTS_SALT)
    except signing.BadSignature:
        return None
    return user_id if isinstance(user_id, int) else None


def reports_unsubscribe_url(user_id: int) -> str:
    return f"{settings.SITE_ROOT}/accounts/unsubscribe_reports/{sign_user(user_id)}/"


def unsubscribe_reports(user_id: int) -> bool:
    """Turn the user's reports off; False if they were off already."""
    changed = (
        Profile.objects.filter(user_id=user_id)
        .exclude(reports=Reports.OFF)
        .update(reports=Reports.OFF, next_report_date=None)
    )
    return bool(changed)
