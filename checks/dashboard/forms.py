"""Forms of the accounts, projects, team and API keys pages."""

from __future__ import annotations

import zoneinfo
from datetime import timedelta
from functools import cache
from typing import Any, cast

from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.models import User

from checks.models import Reports, Role

PROJECT_NAME_MAX = 60  # as upstream's ProjectNameForm
NAG_CHOICES = [
    ("0", "Off"),
    ("3600", "Hourly"),
    ("86400", "Daily"),
]


@cache
def time_zones() -> list[str]:
    return sorted(zoneinfo.available_timezones())


def clean_tz(value: str) -> str:
    """A valid IANA zone, or UTC for the browser's empty/unknown answer."""
    return value if value in time_zones() else "UTC"


class EmailField(forms.EmailField):
    def clean(self, value: Any) -> str:
        return str(super().clean(value)).strip().lower()


class SignupForm(forms.Form):
    identity = EmailField(label="Email", max_length=254)
    tz = forms.CharField(required=False, widget=forms.HiddenInput)

    def clean_tz(self) -> str:
        return clean_tz(self.cleaned_data.get("tz") or "")


class PasswordLoginForm(forms.Form):
    email = EmailField(max_length=254)
    password = forms.CharField(widget=forms.PasswordInput, max_length=4096)


class LinkLoginForm(forms.Form):
    identity = EmailField(label="Email", max_length=254)


class ReauthForm(forms.Form):
    """Sensitive changes need the current password, or a fresh login by link."""

    current_password = forms.CharField(
        widget=forms.PasswordInput, required=False, max_length=4096
    )

    def __init__(self, *args: Any, user: User, sudo: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.sudo = sudo
        if sudo or not user.has_usable_password():
            del self.fields["current_password"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.sudo:
            return cleaned
        if not self.user.has_usable_password():
            raise forms.ValidationError(
                "For your safety, log in again with a login link first; "
                "then you have 30 minutes to make this change."
            )
        if not self.user.check_password(cleaned.get("current_password") or ""):
            self.add_error("current_password", "This is not your current password.")
        return cleaned


class SetPasswordForm(ReauthForm):
    password1 = forms.CharField(
        label="New password", widget=forms.PasswordInput, max_length=4096
    )
    password2 = forms.CharField(
        label="New password again", widget=forms.PasswordInput, max_length=4096
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        p1, p2 = cleaned.get("password1"), cleaned.get("password2")
        if p1 and p2:
            if p1 != p2:
                self.add_error("password2", "The two passwords do not match.")
            else:
                try:
                    password_validation.validate_password(p1, self.user)
                except forms.ValidationError as e:
                    self.add_error("password1", e)
        return cleaned


class ChangeEmailForm(ReauthForm):
    email = EmailField(label="New email address", max_length=254)

    def clean_email(self) -> str:
        email = self.cleaned_data["email"]
        if email == self.user.email.lower():
            raise forms.ValidationError("This is your current address.")
        return email


class CloseAccountForm(ReauthForm):
    confirm = forms.CharField(label="Type your email address to confirm")

    def clean_confirm(self) -> str:
        value = self.cleaned_data["confirm"].strip().lower()
        if value != self.user.email.lower():
            raise forms.ValidationError("This does not match your email address.")
        return value


class ProfileSettingsForm(forms.Form):
    tz = forms.ChoiceField(label="Time zone")
    reports = forms.ChoiceField(label="Status reports", choices=Reports.choices)
    nag_period = forms.ChoiceField(
        label="Reminders while a check is down", choices=NAG_CHOICES
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Declared above as a ChoiceField; `fields` is typed as plain Field values.
        tz_field = cast(forms.ChoiceField, self.fields["tz"])
        tz_field.choices = [(z, z) for z in time_zones()]

    def clean_nag_period(self) -> timedelta:
        return timedelta(seconds=int(self.cleaned_data["nag_period"]))


class ProjectNameForm(forms.Form):
    name = forms.CharField(max_length=PROJECT_NAME_MAX)


class InviteForm(forms.Form):
    email = EmailField(max_length=254)
    role = forms.ChoiceField(choices=Role.choices, initial=Role.MEMBER)


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)


class TransferForm(forms.Form):
    member = forms.IntegerField()


class ApiKeyForm(forms.Form):
    name = forms.CharField(max_length=100)
    kind = forms.ChoiceField(
        choices=[("rw", "Read-write"), ("ro", "Read-only")], initial="rw"
    )


class ConfirmNameForm(forms.Form):
    """Type the project's name to delete it."""

    confirm = forms.CharField(label="Type the project's name to confirm")

    def __init__(self, *args: Any, expected: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.expected = expected

    def clean_confirm(self) -> str:
        value = self.cleaned_data["confirm"].strip()
        if value != self.expected:
            raise forms.ValidationError("This does not match the project's name.")
        return value
