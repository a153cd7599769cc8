"""Forms of the checks pages: validation only; writes go through checks.services."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.core.validators import RegexValidator

from checks import schedule
from checks.models import Kind

MIN_PERIOD = timedelta(minutes=1)
MAX_PERIOD = timedelta(days=365)
UNIT_CHOICES = [
    ("60", "minutes"),
    ("3600", "hours"),
    ("86400", "days"),
    ("604800", "weeks"),
]
SLUG_RE = r"^[a-z0-9-_]*$"


class NameForm(forms.Form):
    """Name, slug, tags and description of a check."""

    name = forms.CharField(max_length=100, required=False)
    slug = forms.CharField(
        max_length=100,
        required=False,
        validators=[
            RegexValidator(
                SLUG_RE,
                "Use only lowercase letters, digits, hyphens and underscores.",
            )
        ],
    )
    tags = forms.CharField(required=False)
    desc = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def clean_tags(self) -> str:
        # Tags are space-separated: collapse any run of whitespace to one space.
        tags = " ".join(self.cleaned_data["tags"].split())
        if len(tags) > 500:
            raise forms.ValidationError("Tags may be at most 500 characters in all.")
        return tags


def _period(value: int | None, unit: str | None, label: str) -> timedelta:
    if value is None or unit is None:
        raise forms.ValidationError(f"Enter the {label}.")
    period = timedelta(seconds=value * int(unit))
    if not MIN_PERIOD <= period <= MAX_PERIOD:
        raise forms.ValidationError(
            f"The {label} must be between 1 minute and 365 days."
        )
    return period


class ScheduleForm(forms.Form):
    """Period + grace (simple) or a cron/OnCalendar expression + time zone + grace."""

    kind = forms.ChoiceField(choices=Kind.choices, initial=Kind.SIMPLE)
    timeout_value = forms.IntegerField(min_value=1, max_value=525600, required=False)
    timeout_unit = forms.ChoiceField(choices=UNIT_CHOICES, required=False)
    grace_value = forms.IntegerField(min_value=1, max_value=525600)
    grace_unit = forms.ChoiceField(choices=UNIT_CHOICES)
    schedule = forms.CharField(
        max_length=100, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    tz = forms.CharField(
        max_length=36,
        required=False,
        initial="UTC",
        widget=forms.TextInput(attrs={"list": "time-zones", "autocomplete": "off"}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:
            return data
        try:
            data["grace"] = _period(data["grace_value"], data["grace_unit"], "grace")
        except forms.ValidationError as e:
            self.add_error("grace_value", e)
        if data["kind"] == Kind.SIMPLE:
            try:
                data["timeout"] = _period(
                    data.get("timeout_value"), data.get("timeout_unit"), "period"
                )
            except forms.ValidationError as e:
                self.add_error("timeout_value", e)
            return data
        expression = data.get("schedule", "").strip()
        if not expression:
            self.add_error("schedule", "Enter a cron or OnCalendar expression.")
            return data
        try:
            data["tz"] = schedule.canonical_tz(data.get("tz") or "UTC")
        except schedule.ScheduleError as e:
            self.add_error("tz", str(e))
        try:
            data["kind"] = schedule.validate_schedule(expression)
        except schedule.ScheduleError as e:
            self.add_error("schedule", str(e))
        data["schedule"] = expression
        return data

    def fields_to_save(self) -> dict[str, Any]:
        """The Check fields this form sets."""
        data = self.cleaned_data
        if data["kind"] == Kind.SIMPLE:
            return {
                "kind": Kind.SIMPLE,
                "timeout": data["timeout"],
                "grace": data["grace"],
            }
        return {
            "kind": data["kind"],
            "schedule": data["schedule"],
            "tz": data["tz"],
            "grace": data["grace"],
        }


def split_period(period: timedelta) -> tuple[int, str]:
    """(value, unit) for the editor: the largest unit that divides the period."""
    seconds = int(period.total_seconds())
    for unit, _label in reversed(UNIT_CHOICES):
        if seconds % int(unit) == 0:
            return seconds // int(unit), unit
    return max(1, seconds // 60), "60"


class AddCheckForm(forms.Form):
    name = forms.CharField(max_length=100, required=False)
