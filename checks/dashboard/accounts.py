"""Account pages: sign up, log in (password or emailed link), log out, profile."""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate, login, logout, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from checks.dashboard import auth, ratelimit
from checks.dashboard.access import projects_of
from checks.dashboard.forms import (
    ChangeEmailForm,
    CloseAccountForm,
    LinkLoginForm,
    PasswordLoginForm,
    ProfileSettingsForm,
    SetPasswordForm,
    SignupForm,
)
from checks.models import Profile

# Attempts per window; per address so one mailbox is not flooded, per IP so one
# client cannot try many addresses.
PASSWORD_PER_EMAIL = 10
PASSWORD_PER_IP = 30
LINKS_PER_EMAIL = 5
LINKS_PER_IP = 20
# After a login by link the user may change password/email or close the account
# without typing the current password for this long ("sudo mode").
SUDO_SECONDS = 30 * 60
BACKEND = "django.contrib.auth.backends.ModelBackend"


def _in_sudo(request: HttpRequest) -> bool:
    return float(request.session.get("sudo_until", 0)) > time.time()


def _ip_allowed(request: HttpRequest, scope: str, limit: int) -> bool:
    ip = ratelimit.client_ip(request)
    return ratelimit.allow(scope=scope, key=ip, limit=limit, window=ratelimit.HOUR)


def _email_allowed(scope: str, email: str, limit: int) -> bool:
    key = ratelimit.normalize_email(email)
    return ratelimit.allow(scope=scope, key=key, limit=limit, window=ratelimit.HOUR)


def _too_many(request: HttpRequest, template: str, context: dict) -> HttpResponse:
    context["too_many"] = True
    return render(request, template, context, status=429)


def _request_link(request: HttpRequest, email: str, next_url: str) -> HttpResponse:
    """Send a login link if the address has an account; the answer is the same."""
    if not _ip_allowed(request, "link-ip", LINKS_PER_IP):
        form = LinkLoginForm(initial={"identity": email})
        return _too_many(request, "accounts/login.html", _login_context(form=form))
    user = auth.find_user(email)
    # Per-address limit exceeded: say nothing, like for unknown addresses.
    if user is not None and _email_allowed("link-email", email, LINKS_PER_EMAIL):
        auth.send_login_link(user, next_url=next_url)
    return redirect("/accounts/login_link_sent/")


def _login_context(**kwargs: object) -> dict:
    context: dict = {
        "password_form": PasswordLoginForm(),
        "link_form": LinkLoginForm(),
        "registration_open": settings.REGISTRATION_OPEN,
        "next": "",
    }
    context.update(kwargs)
    return context


@never_cache
def login_view(request: HttpRequest) -> HttpResponse:
    next_url = auth.safe_next(
        request, request.GET.get("next") or request.POST.get("next"), ""
    )
    if request.user.is_authenticated and request.method == "GET":
        return redirect(next_url or "/")
    if request.method != "POST":
        return render(request, "accounts/login.html", _login_context(next=next_url))

    if request.POST.get("action") == "link":
        link_form = LinkLoginForm(request.POST)
        if not link_form.is_valid():
            context = _login_context(link_form=link_form, next=next_url)
            return render(request, "accounts/login.html", context, status=400)
        return _request_link(request, link_form.cleaned_data["identity"], next_url)

    form = PasswordLoginForm(request.POST)
    context = _login_context(password_form=form, next=next_url)
    if not form.is_valid():
        return render(request, "accounts/login.html", context, status=400)
    email = form.cleaned_data["email"]
    if not _ip_allowed(request, "password-ip", PASSWORD_PER_IP) or not _email_allowed(
        "password-email", email, PASSWORD_PER_EMAIL
    ):
        return _too_many(request, "accounts/login.html", context)
    found = auth.find_user(email)
    user = None
    if found is not None:
        user = authenticate(
            request, username=found.username, password=form.cleaned_data["password"]
        )
    else:
        # Hash anyway: an early answer would tell which addresses have accounts.
        User().set_password(form.cleaned_data["password"])
    if user is None:
        form.add_error(None, "Incorrect email or password.")
        return render(request, "accounts/login.html", context, status=400)
    login(request, user, backend=BACKEND)
    return redirect(next_url or "/")


def login_link_sent(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/login_link_sent.html")


@never_cache
def check_token(request: HttpRequest, uid: str, token: str) -> HttpResponse:
    """GET asks for a click (mail scanners follow links); POST spends the link."""
    next_url = auth.safe_next(request, request.GET.get("next"))
    if request.method != "POST":
        return render(request, "accounts/check_token.html")
    user = auth.use_login_token(uid=uid, token=token)
    if user is None:
        return render(request, "accounts/link_invalid.html", status=400)
    login(request, user, backend=BACKEND)
    request.session["sudo_until"] = time.time() + SUDO_SECONDS
    return redirect(next_url)


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect("/accounts/login/")


@never_cache
def signup(request: HttpRequest) -> HttpResponse:
    if not settings.REGISTRATION_OPEN:
        return render(request, "accounts/signup_closed.html", status=403)
    if request.method != "POST":
        return render(request, "accounts/signup.html", {"form": SignupForm()})
    form = SignupForm(request.POST)
    if not form.is_valid():
        return render(request, "accounts/signup.html", {"form": form}, status=400)
    if not _ip_allowed(request, "link-ip", LINKS_PER_IP):
        return _too_many(request, "accounts/signup.html", {"form": form})
    email = form.cleaned_data["identity"]
    user = auth.find_user(email)
    if user is None:
        try:
            user = auth.create_account(email=email, tz=form.cleaned_data["tz"])
        except auth.EmailTaken:
            # Another sign-up (or invitation) with this address came first.
            user = auth.find_user(email)
        else:
            auth.send_login_link(user, reason="signup")
            return redirect("/accounts/login_link_sent/")
    if user is not None and _email_allowed("link-email", email, LINKS_PER_EMAIL):
        # An existing address gets a plain login link: signup reveals nothing.
        auth.send_login_link(user)
    return redirect("/accounts/login_link_sent/")


def _profile_context(request: auth.AuthedRequest, **forms: object) -> dict:
    user = request.user
    profile = auth.profile_of(user)
    sudo = _in_sudo(request)
    initial = {
        "tz": profile.tz,
        "reports": profile.reports,
        "nag_period": str(int(profile.nag_period.total_seconds())),
    }
    context: dict = {
        "profile": profile,
        "settings_form": ProfileSettingsForm(initial=initial),
        "password_form": SetPasswordForm(user=user, sudo=sudo),
        "email_form": ChangeEmailForm(user=user, sudo=sudo),
        "sudo": sudo,
        "projects": projects_of(user).order_by("name"),
    }
    context.update(forms)
    return context


@login_required
@never_cache
def profile(request: auth.AuthedRequest) -> HttpResponse:
    """Account page; its POST saves time zone, reports and reminders."""
    if request.method != "POST":
        return render(request, "accounts/profile.html", _profile_context(request))
    form = ProfileSettingsForm(request.POST)
    if not form.is_valid():
        context = _profile_context(request, settings_form=form)
        return render(request, "accounts/profile.html", context, status=400)
    Profile.objects.filter(pk=auth.profile_of(request.user).pk).update(
        tz=form.cleaned_data["tz"],
        reports=form.cleaned_data["reports"],
        nag_period=form.cleaned_data["nag_period"],
    )
    messages.success(request, "Your settings were saved.")
    return redirect("/accounts/profile/")


@login_required
@require_POST
def set_password(request: auth.AuthedRequest) -> HttpResponse:
    user = request.user
    form = SetPasswordForm(request.POST, user=user, sudo=_in_sudo(request))
    if not form.is_valid():
        context = _profile_context(request, password_form=form)
        return render(request, "accounts/profile.html", context, status=400)
    user.set_password(form.cleaned_data["password1"])
    user.save(update_fields=["password"])
    # Other sessions end; this one stays logged in.
    update_session_auth_hash(request, user)
    messages.success(request, "Your password was set.")
    return redirect("/accounts/profile/")


@login_required
@require_POST
def request_email_change(request: auth.AuthedRequest) -> HttpResponse:
    user = request.user
    form = ChangeEmailForm(request.POST, user=user, sudo=_in_sudo(request))
    if not form.is_valid():
        context = _profile_context(request, email_form=form)
        return render(request, "accounts/profile.html", context, status=400)
    if not _email_allowed("link-email", form.cleaned_data["email"], LINKS_PER_EMAIL):
        return _too_many(request, "accounts/profile.html", _profile_context(request))
    auth.send_email_change_link(user, new_email=form.cleaned_data["email"])
    messages.success(
        request,
        f"We sent a confirmation link to {form.cleaned_data['email']}. "
        "Your address changes when you open it.",
    )
    return redirect("/accounts/profile/")


@never_cache
def change_email(request: HttpRequest, token: str) -> HttpResponse:
    """GET asks for a click; POST moves the account to the new address."""
    if request.method != "POST":
        return render(request, "accounts/change_email.html")
    try:
        auth.change_email(token=token)
    except auth.EmailChangeError as e:
        return render(
            request, "accounts/link_invalid.html", {"reason": str(e)}, status=400
        )
    messages.success(request, "Your email address was changed.")
    return redirect(
        "/accounts/profile/" if request.user.is_authenticated else "/accounts/login/"
    )


@login_required
@never_cache
def close_account(request: auth.AuthedRequest) -> HttpResponse:
    user = request.user
    sudo = _in_sudo(request)
    owned = user.projects.all()
    if request.method != "POST":
        form = CloseAccountForm(user=user, sudo=sudo)
        return render(request, "accounts/close.html", {"form": form, "owned": owned})
    form = CloseAccountForm(request.POST, user=user, sudo=sudo)
    if not form.is_valid():
        context = {"form": form, "owned": owned}
        return render(request, "accounts/close.html", context, status=400)
    logout(request)
    auth.delete_account(user=user)
    messages.success(request, "Your account was deleted.")
    return redirect("/accounts/login/")
