"""Project membership: every dashboard view asks here before showing anything."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404

from checks.models import Member, Project, Role


@dataclass(frozen=True)
class Access:
    project: Project
    role: str  # "owner" or a Role value

    @property
    def can_write(self) -> bool:
        return self.role in ("owner", Role.MEMBER, Role.MANAGER)

    @property
    def can_manage(self) -> bool:
        """Team and key management: the owner and managers."""
        return self.role in ("owner", Role.MANAGER)


def projects_of(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Project]:
    """Projects the user owns or is a member of."""
    mine = Q(owner_id=user.pk) | Q(members__user_id=user.pk)
    return Project.objects.filter(mine).distinct()


def project_access(
    user: AbstractBaseUser | AnonymousUser, code: UUID, *, write: bool = False
) -> Access:
    """The user's access to a project: 404 if none, 403 if `write` and read-only."""
    project = Project.objects.filter(code=code).first()
    if project is None or not user.is_authenticated:
        raise Http404
    if project.owner_id == user.pk:
        access = Access(project, "owner")
    else:
        member = Member.objects.filter(project=project, user_id=user.pk).first()
        if member is None:
            raise Http404
        access = Access(project, member.role)
    if write and not access.can_write:
        raise PermissionDenied
    return access
