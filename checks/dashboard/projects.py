"""Projects: the list at `/`, create/rename/delete, settings, team and API keys."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from checks import schedule, services
from checks.dashboard import ratelimit, team
from checks.dashboard.access import Access, project_access, projects_of
from checks.dashboard.auth import AuthedRequest
from checks.dashboard.forms import (
    ConfirmNameForm,
    InviteForm,
    ProjectNameForm,
    RoleForm,
    TransferForm,
)
from checks.models import Check, Member, Project, Role, Status

INVITES_PER_DAY = 20  # per inviting user, as upstream
# Worst first: a project shows the most urgent status of its checks.
SEVERITY = [Status.DOWN, Status.GRACE, Status.STARTED, Status.UP, Status.NEW]


@dataclass(frozen=True)
class ProjectSummary:
    project: Project
    status: str
    n_checks: int
    n_down: int


def summarize(projects: list[Project]) -> list[ProjectSummary]:
    """Each project's overall status at now; projects with a down check first."""
    now = timezone.now()
    by_project: dict[int, list[Status]] = {p.id: [] for p in projects}
    for check in Check.objects.filter(project__in=projects):
        by_project[check.project_id].append(schedule.status_at(check, now))
    summaries = []
    for project in projects:
        statuses = by_project[project.id]
        overall = next((s for s in SEVERITY if s in statuses), None)
        if overall is None:
            overall = Status.PAUSED if statuses else Status.NEW
        summaries.append(
            ProjectSummary(
                project, overall.value, len(statuses), statuses.count(Status.DOWN)
            )
        )
    summaries.sort(key=lambda s: (s.n_down == 0, s.project.name.lower()))
    return summaries


@login_required
def index(request: HttpRequest) -> HttpResponse:
    projects = list(projects_of(request.user).order_by("name"))
    return render(request, "projects/index.html", {"summaries": summarize(projects)})


def access_for(request: HttpRequest, code: UUID, need: str = "read") -> Access:
    """Project access for this request: 404 for outsiders, 403 if `need` is not met.

    `need`: "read", "write" (owner, members, managers), "manage" (owner, managers),
    or "owner".
    """
    access = project_access(request.user, code, write=need != "read")
    if need == "manage" and not access.can_manage:
        raise PermissionDenied
    if need == "owner" and access.role != "owner":
        raise PermissionDenied
    return access


@login_required
def add_project(request: AuthedRequest) -> HttpResponse:
    if request.method != "POST":
        return render(request, "projects/add.html", {"form": ProjectNameForm()})
    form = ProjectNameForm(request.POST)
    if not form.is_valid():
        return render(request, "projects/add.html", {"form": form}, status=400)
    project = services.create_project(
        owner=request.user,
        name=form.cleaned_data["name"],
    )
    messages.success(request, f"Project “{project.name}” was created.")
    return redirect(f"/projects/{project.code}/checks/")


def _settings_context(request: HttpRequest, access: Access, **forms: object) -> dict:
    project = access.project
    members = list(project.members.select_related("user").order_by("created"))
    mine = next((m for m in members if m.user_id == request.user.pk), None)
    context: dict = {
        "access": access,
        "project": project,
        "members": members,
        "my_membership": mine,
        "pending_transfer": next((m for m in members if m.transfer_request_date), None),
        "name_form": ProjectNameForm(initial={"name": project.name}),
        "invite_form": InviteForm(),
        "roles": Role.choices,
    }
    context.update(forms)
    return context


@login_required
def project_settings(request: HttpRequest, code: UUID) -> HttpResponse:
    access = access_for(request, code)
    return render(request, "projects/settings.html", _settings_context(request, access))


@login_required
@require_POST
def rename_project(request: HttpRequest, code: UUID) -> HttpResponse:
    access = access_for(request, code, "write")
    form = ProjectNameForm(request.POST)
    if not form.is_valid():
        context = _settings_context(request, access, name_form=form)
        return render(request, "projects/settings.html", context, status=400)
    Project.objects.filter(pk=access.project.pk).update(name=form.cleaned_data["name"])
    messages.success(request, "The project was renamed.")
    return redirect(f"/projects/{code}/settings/")


@login_required
def delete_project(request: HttpRequest, code: UUID) -> HttpResponse:
    access = access_for(request, code, "owner")
    project = access.project
    expected = project.name or str(project.code)
    form = ConfirmNameForm(request.POST or None, expected=expected)
    context = {"project": project, "form": form, "access": access}
    if request.method != "POST":
        return render(request, "projects/delete.html", context)
    if not form.is_valid():
        return render(request, "projects/delete.html", context, status=400)
    project.delete()
    messages.success(request, f"Project “{expected}” was deleted.")
    return redirect("/")


@login_required
@require_POST
def invite(request: AuthedRequest, code: UUID) -> HttpResponse:
    access = access_for(request, code, "manage")
    form = InviteForm(request.POST)
    status = 400
    if form.is_valid():
        allowed = ratelimit.allow(
            scope="invite",
            key=str(request.user.pk),
            limit=INVITES_PER_DAY,
            window=ratelimit.DAY,
        )
        email = form.cleaned_data["email"]
        if not allowed:
            form.add_error(None, "Too many invitations today; try again tomorrow.")
            status = 429
        else:
            try:
                team.invite_member(
                    project=access.project,
                    email=email,
                    role=form.cleaned_data["role"],
                    inviter=request.user,
                )
            except team.AlreadyMember:
                form.add_error("email", "This address is already in the team.")
            else:
                messages.success(request, f"Invitation sent to {email}.")
                return redirect(f"/projects/{code}/settings/")
    context = _settings_context(request, access, invite_form=form)
    return render(request, "projects/settings.html", context, status=status)


def _member(access: Access, member_id: int) -> Member:
    member = access.project.members.select_related("user").filter(pk=member_id).first()
    if member is None:
        raise Http404
    return member


@login_required
@require_POST
def remove_member(request: HttpRequest, code: UUID, member_id: int) -> HttpResponse:
    access = access_for(request, code, "manage")
    member = _member(access, member_id)
    team.remove_member(member=member)
    messages.success(request, f"{member.user.email} was removed from the team.")
    return redirect(f"/projects/{code}/settings/")


@login_required
@require_POST
def change_role(request: HttpRequest, code: UUID, member_id: int) -> HttpResponse:
    access = access_for(request, code, "manage")
    member = _member(access, member_id)
    form = RoleForm(request.POST)
    error = ""
    if member.user_id == request.user.pk:
        # A manager demoting themselves would lose the page they are on.
        error = "You cannot change your own role."
    elif not form.is_valid():
        labels = ", ".join(label for _, label in Role.choices)
        error = f"Choose one of the roles: {labels}."
    if error:
        messages.error(request, error)
        context = _settings_context(request, access)
        return render(request, "projects/settings.html", context, status=400)
    role = Role(form.cleaned_data["role"])
    if team.change_role(member=member, role=role):
        messages.success(request, f"{member.user.email} is now {role.label.lower()}.")
    return redirect(f"/projects/{code}/settings/")


@login_required
@require_POST
def leave_project(request: AuthedRequest, code: UUID) -> HttpResponse:
    access = access_for(request, code)
    if access.role == "owner":
        messages.error(
            request, "The owner cannot leave a project: transfer or delete it."
        )
        context = _settings_context(request, access)
        return render(request, "projects/settings.html", context, status=400)
    Member.objects.filter(project=access.project, user_id=request.user.pk).delete()
    messages.success(request, f"You left “{access.project}”.")
    return redirect("/")


@login_required
@require_POST
def transfer(request: HttpRequest, code: UUID) -> HttpResponse:
    access = access_for(request, code, "owner")
    form = TransferForm(request.POST)
    if not form.is_valid():
        context = _settings_context(request, access, transfer_form=form)
        return render(request, "projects/settings.html", context, status=400)
    member = _member(access, form.cleaned_data["member"])
    team.request_transfer(project=access.project, member=member)
    messages.success(request, f"{member.user.email} was asked to accept the ownership.")
    return redirect(f"/projects/{code}/settings/")


@login_required
@require_POST
def cancel_transfer(request: HttpRequest, code: UUID) -> HttpResponse:
    access = access_for(request, code, "owner")
    team.cancel_transfer(project=access.project)
    messages.success(request, "The transfer request was cancelled.")
    return redirect(f"/projects/{code}/settings/")


def _my_pending_membership(request: AuthedRequest, access: Access) -> Member:
    member = access.project.members.filter(
        user_id=request.user.pk, transfer_request_date__isnull=False
    ).first()
    if member is None:
        # A member without an offer, or the owner: nothing to accept or reject.
        raise PermissionDenied
    return member


@login_required
@require_POST
def accept_transfer(request: AuthedRequest, code: UUID) -> HttpResponse:
    access = access_for(request, code)
    member = _my_pending_membership(request, access)
    if not team.accept_transfer(project=access.project, member=member):
        raise PermissionDenied
    messages.success(request, f"You are now the owner of “{access.project}”.")
    return redirect(f"/projects/{code}/settings/")


@login_required
@require_POST
def reject_transfer(request: AuthedRequest, code: UUID) -> HttpResponse:
    access = access_for(request, code)
    team.reject_transfer(member=_my_pending_membership(request, access))
    messages.success(request, "You declined the ownership.")
    return redirect(f"/projects/{code}/settings/")
