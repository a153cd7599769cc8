"""Team services: invitations, removal, leaving and ownership transfer."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import User
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone

from checks.dashboard import auth
from checks.models import Member, Project, Role


class AlreadyMember(Exception):
    """The invited address already owns or belongs to the project."""


def invite_member(*, project: Project, email: str, role: str, inviter: User) -> Member:
    """Add `email` to the project (creating an account if needed) and email a link."""
    with transaction.atomic():
        user = auth.find_user(email) or _invited_account(email)
        if project.owner_id == user.pk or project.members.filter(user=user).exists():
            raise AlreadyMember(email)
        member = Member.objects.create(project=project, user=user, role=role)
    context = {
        "inviter": inviter.email,
        "project": project,
        "role": Role(role).label,
        "site_name": settings.SITE_NAME,
        "link": auth.make_login_link(
            user, next_url=f"/projects/{project.code}/checks/"
        ),
    }
    send_mail(
        f"You are invited to {project} on {settings.SITE_NAME}",
        render_to_string("emails/invite.txt", context),
        None,
        [user.email],
    )
    return member


def _invited_account(email: str) -> User:
    # No first project: the invitee joins the inviter's project instead.
    try:
        with transaction.atomic():
            user = User.objects.create_user(username=auth.new_username(), email=email)
    except IntegrityError:
        # The address signed up (or was invited elsewhere) since find_user looked.
        found = auth.find_user(email)
        if found is None:
            raise
        return found
    auth.profile_of(user)
    return user


def change_role(*, member: Member, role: str) -> bool:
    """Give `member` another role; False if it was theirs already (or they left)."""
    changed = Member.objects.filter(pk=member.pk).exclude(role=role).update(role=role)
    return bool(changed)


def remove_member(*, member: Member) -> None:
    Member.objects.filter(pk=member.pk).delete()


def request_transfer(*, project: Project, member: Member) -> None:
    """Offer ownership to `member` (one offer at a time) and tell them by email."""
    now = timezone.now()
    with transaction.atomic():
        project.members.update(transfer_request_date=None)
        Member.objects.filter(pk=member.pk).update(transfer_request_date=now)
    context = {
        "owner": project.owner.email,
        "project": project,
        "site_name": settings.SITE_NAME,
        "link": f"{settings.SITE_ROOT}/projects/{project.code}/settings/",
    }
    send_mail(
        f"Transfer of {project} on {settings.SITE_NAME}",
        render_to_string("emails/transfer.txt", context),
        None,
        [member.user.email],
    )


def cancel_transfer(*, project: Project) -> None:
    project.members.update(transfer_request_date=None)


def accept_transfer(*, project: Project, member: Member) -> bool:
    """Make `member` the owner; the old owner stays on as a manager."""
    with transaction.atomic():
        locked = Project.objects.select_for_update().get(pk=project.pk)
        pending = Member.objects.filter(
            pk=member.pk, project=locked, transfer_request_date__isnull=False
        )
        if not pending.exists():
            return False
        old_owner_id = locked.owner_id
        pending.delete()
        Project.objects.filter(pk=locked.pk).update(owner_id=member.user_id)
        Member.objects.create(project=locked, user_id=old_owner_id, role=Role.MANAGER)
    project.refresh_from_db()
    return True


def reject_transfer(*, member: Member) -> None:
    Member.objects.filter(pk=member.pk).update(transfer_request_date=None)
