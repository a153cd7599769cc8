"""Forms of the checks pages: validation only; writes go through checks.services."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.core.validators import RegexValidator

from checks import schedule
from checks.dashboard import display
from checks.models import Check, Kind

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


METHOD_CHOICES = [("", "Any method (GET, HEAD, POST, …)"), ("POST", "POST only")]
# Seconds; "" keeps the project's interval (Check.reminder_interval = None), "0"
# turns reminders off for this check whatever the project's interval.
REMINDER_CHOICES = [
    ("", "Project default"),
    ("0", "Off"),
    ("3600", "Every hour"),
    ("21600", "Every 6 hours"),
    ("86400", "Every day"),
    ("604800", "Every week"),
]


def _keywords(label: str) -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=200,
        required=False,
        error_messages={"max_length": "Keywords may be at most 200 characters."},
    )


class PingHandlingForm(forms.Form):
    """Filtering rules, manual resume and the reminder interval of a check."""

    methods = forms.ChoiceField(
        label="Accepted HTTP methods",
        choices=METHOD_CHOICES,
        required=False,
        error_messages={"invalid_choice": "Choose any method or POST only."},
    )
    filter_http_body = forms.BooleanField(
        label="Classify HTTP pings by keywords in the request body", required=False
    )
    filter_subject = forms.BooleanField(
        label="Classify email pings by keywords in the subject", required=False
    )
    filter_body = forms.BooleanField(
        label="Classify email pings by keywords in the message body", required=False
    )
    start_kw = _keywords("Start keywords")
    success_kw = _keywords("Success keywords")
    failure_kw = _keywords("Failure keywords")
    filter_default_fail = forms.BooleanField(
        label="When no keyword matches, treat the ping as a failure (else ignore it)",
        required=False,
    )
    manual_resume = forms.BooleanField(
        label="While paused, ignore pings until I resume the check", required=False
    )
    reminder_interval = forms.ChoiceField(
        label="Repeat the down alert",
        choices=REMINDER_CHOICES,
        required=False,
        error_messages={
            "invalid_choice": "Choose one of the offered reminder intervals."
        },
    )

    def __init__(
        self,
        *args: Any,
        current: timedelta | None = None,
        project_default: timedelta | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        choices = list(REMINDER_CHOICES)
        default = display.format_duration(project_default) if project_default else ""
        choices[0] = (
            "",
            f"Project default ({'every ' + default if default else 'off'})",
        )
        if current and str(int(current.total_seconds())) not in dict(choices):
            # Set elsewhere (admin, older data): offer it so saving keeps it.
            seconds = str(int(current.total_seconds()))
            choices.append((seconds, f"Every {display.format_duration(current)}"))
        field = self.fields["reminder_interval"]
        assert isinstance(field, forms.ChoiceField)  # noqa: S101 - for mypy
        field.choices = choices

    def clean_reminder_interval(self) -> timedelta | None:
        value = self.cleaned_data["reminder_interval"]
        return None if value == "" else timedelta(seconds=int(value))

    @staticmethod
    def initial_for(check: Check) -> dict[str, Any]:
        """The form's initial values from a check."""
        interval = check.reminder_interval
        return {
            **{name: getattr(check, name) for name in PING_HANDLING_FIELDS},
            "reminder_interval": ""
            if interval is None
            else str(int(interval.total_seconds())),
        }


PING_HANDLING_FIELDS = [
    "methods",
    "filter_http_body",
    "filter_subject",
    "filter_body",
    "start_kw",
    "success_kw",
    "failure_kw",
    "filter_default_fail",
    "manual_resume",
]
