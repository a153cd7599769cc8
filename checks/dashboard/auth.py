"""Login links, email-change links and the small account services behind the views."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.models import User
from django.core import signing
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models.functions import Lower
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils.encoding import force_bytes, force_str
from django.utils.http import (
    url_has_allowed_host_and_scheme,
    urlsafe_base64_decode,
    urlsafe_base64_encode,
)

from checks import services
from checks.models import Profile, Project

LINK_MAX_AGE = 3600  # seconds a login or email-change link stays valid
LOGIN_SALT = "hc.login-link"
EMAIL_SALT = "hc.change-email"
FIRST_PROJECT_NAME = "My Project"


class AuthedRequest(HttpRequest):
    """The request of a @login_required view: its user is signed in, never anonymous."""

    user: User


def profile_of(user: User) -> Profile:
    """The user's profile, created on first use (bootstrap and tests may skip it)."""
    profile, _ = Profile.objects.get_or_create(user=user)
    return profile


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def make_login_link(user: User, *, next_url: str = "") -> str:
    """An absolute one-time login link for `user`; it replaces any earlier link."""
    raw = secrets.token_urlsafe(24)
    profile = profile_of(user)
    Profile.objects.filter(pk=profile.pk).update(token=_digest(raw))
    token = signing.TimestampSigner(salt=LOGIN_SALT).sign(raw)
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    link = f"{settings.SITE_ROOT}/accounts/check_token/{uid}/{token}/"
    if next_url:
        link += "?" + urlencode({"next": next_url})
    return link


def use_login_token(*, uid: str, token: str) -> User | None:
    """The user a login link belongs to, if valid; the link is spent either way."""
    try:
        raw = signing.TimestampSigner(salt=LOGIN_SALT).unsign(
            token, max_age=LINK_MAX_AGE
        )
        pk = int(force_str(urlsafe_base64_decode(uid)))
    except (signing.BadSignature, ValueError):
        return None
    user = User.objects.filter(pk=pk, is_active=True).first()
    if user is None:
        return None
    # Single use even under a double click: only one UPDATE can clear the hash.
    spent = Profile.objects.filter(user=user, token=_digest(raw)).update(token="")
    return user if spent else None


def send_login_link(user: User, *, next_url: str = "", reason: str = "login") -> None:
    """Email a login link; `reason` picks the wording (login, signup, invite)."""
    context = {
        "link": make_login_link(user, next_url=next_url),
        "site_name": settings.SITE_NAME,
        "reason": reason,
    }
    send_mail(
        render_to_string("emails/login_subject.txt", context).strip(),
        render_to_string("emails/login.txt", context),
        None,
        [user.email],
    )


def find_user(email: str) -> User | None:
    """The account with this address, compared without case.

    Addresses are stored lowered by Python (every form's EmailField, bootstrap),
    which folds all letters; the database's lower() folds ASCII letters on SQLite
    and, on PostgreSQL, is the expression of the unique index (migration checks
    0005, whose `email <> ''` predicate the exclude() repeats so that it applies).
    """
    return (
        User.objects.alias(email_lower=Lower("email"))
        .filter(email_lower=email.strip().lower())
        .exclude(email="")
        .first()
    )


def new_username() -> str:
    # Users log in by email; the username is only a stable, private identifier.
    return uuid.uuid4().hex[:30]


class EmailTaken(Exception):
    """Another account has this address (compared without case)."""


def create_account(*, email: str, tz: str = "UTC") -> User:
    """A new user (login by link until a password is set), profile and first project.

    Raises EmailTaken if another account has the address: one created since the
    caller looked (the unique index of migration checks 0005 decides)."""
    try:
        with transaction.atomic():
            user = User.objects.create_user(
                username=new_username(), email=email.strip().lower()
            )
            Profile.objects.create(user=user, tz=tz)
            services.create_project(owner=user, name=FIRST_PROJECT_NAME)
    except IntegrityError as e:
        raise EmailTaken(email) from e
    return user


def make_email_link(user: User, *, new_email: str) -> str:
    """A link moving the account to `new_email`; valid while the old one is current."""
    payload = {"u": user.pk, "old": user.email, "new": new_email}
    token = signing.dumps(payload, salt=EMAIL_SALT)
    return f"{settings.SITE_ROOT}/accounts/change_email/{token}/"


def send_email_change_link(user: User, *, new_email: str) -> None:
    context = {
        "link": make_email_link(user, new_email=new_email),
        "site_name": settings.SITE_NAME,
        "new_email": new_email,
    }
    send_mail(
        f"Confirm your new {settings.SITE_NAME} email address",
        render_to_string("emails/change_email.txt", context),
        None,
        [new_email],
    )


class EmailChangeError(Exception):
    """The link is invalid, expired, used, or the address was taken meanwhile."""


def change_email(*, token: str) -> User:
    """Apply an email-change link; raise EmailChangeError if it cannot be applied."""
    try:
        payload = signing.loads(token, salt=EMAIL_SALT, max_age=LINK_MAX_AGE)
    except signing.BadSignature as e:
        raise EmailChangeError("This link is invalid or has expired.") from e
    with transaction.atomic():
        user = User.objects.select_for_update().filter(pk=payload["u"]).first()
        # The old address in the payload makes the link single use.
        if user is None or user.email != payload["old"]:
            raise EmailChangeError("This link was already used or is out of date.")
        user.email = payload["new"]
        try:
            # The unique index on the address (compared without case) decides.
            with transaction.atomic():
                user.save(update_fields=["email"])
        except IntegrityError as e:
            raise EmailChangeError("Another account uses this address already.") from e
    # Tell the old address: if someone else changed it, the owner learns of it.
    send_mail(
        f"Your {settings.SITE_NAME} email address was changed",
        render_to_string(
            "emails/email_changed.txt",
            {"site_name": settings.SITE_NAME, "new_email": user.email},
        ),
        None,
        [payload["old"]],
    )
    return user


def delete_account(*, user: User) -> None:
    """Delete the user, their projects (with checks) and their memberships."""
    with transaction.atomic():
        Project.objects.filter(owner=user).delete()
        user.delete()


def safe_next(request: HttpRequest, url: str | None, default: str = "/") -> str:
    """`url` if it stays on this site, else `default`: no open redirects."""
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return default
