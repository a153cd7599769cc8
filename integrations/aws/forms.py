"""Dashboard forms for AWS integrations and rules: input shape only.

The rules (regions, ARNs, templates, schedules, channels) live in `config`; the views
show its ConfigError beside the form.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, cast

from django import forms

from checks.models import Channel, Kind
from integrations.aws.models import AwsIntegration, AwsRule, Credentials, ScaleIn

MINUTE = timedelta(minutes=1)
CHANNEL_MODES = [
    ("all", "All the project's integrations"),
    ("none", "None"),
    ("some", "These:"),
]


class IntegrationForm(forms.Form):
    name = forms.CharField(max_length=100, required=False)
    regions = forms.CharField(
        max_length=200, help_text="Space-separated; the queue's region first."
    )
    queue_url = forms.CharField(max_length=500, required=False, label="SQS queue URL")
    credentials = forms.ChoiceField(choices=Credentials.choices)
    role_arn = forms.CharField(max_length=300, required=False, label="Role ARN")
    sns_topic_arns = forms.CharField(
        required=False,
        label="Allowed SNS topic ARNs",
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Space- or newline-separated.",
    )
    enabled = forms.BooleanField(required=False, initial=True)
    push_secret = forms.ChoiceField(
        label="EventBridge API destination secret",
        choices=[
            ("keep", "Keep as it is"),
            ("new", "Generate a new secret (shown once)"),
            ("off", "Turn the endpoint off"),
        ],
        initial="keep",
        widget=forms.RadioSelect,
    )

    @classmethod
    def for_integration(cls, integration: AwsIntegration) -> IntegrationForm:
        return cls(
            initial={
                "name": integration.name,
                "regions": integration.regions,
                "queue_url": integration.queue_url,
                "credentials": integration.credentials,
                "role_arn": integration.role_arn,
                "sns_topic_arns": integration.sns_topic_arns,
                "enabled": integration.enabled,
                "push_secret": "keep",
            }
        )

    def settings(self) -> dict[str, Any]:
        """The cleaned data as `config.create_integration` keywords."""
        data = dict(self.cleaned_data)
        data.pop("push_secret")
        return data


def _minutes(value: int | None) -> timedelta | None:
    return None if value is None else value * MINUTE


class RuleForm(forms.Form):
    asg_pattern = forms.CharField(
        max_length=255,
        required=False,
        label="Auto Scaling group",
        help_text="A name or a glob such as web-*; empty matches any group.",
    )
    tag_key = forms.CharField(max_length=128, required=False, label="Tag key")
    tag_value = forms.CharField(
        max_length=256,
        required=False,
        label="Tag value",
        help_text="Empty: the tag key alone is enough.",
    )
    name_tpl = forms.CharField(max_length=200, label="Check name")
    slug_tpl = forms.CharField(max_length=200, label="Check slug")
    tags_tpl = forms.CharField(max_length=500, required=False, label="Check tags")
    desc_tpl = forms.CharField(
        required=False, label="Description", widget=forms.Textarea(attrs={"rows": 2})
    )
    kind = forms.ChoiceField(
        choices=[(Kind.SIMPLE, "Period and grace"), (Kind.CRON, "Cron / OnCalendar")]
    )
    timeout = forms.IntegerField(min_value=1, label="Period (minutes)")
    grace = forms.IntegerField(min_value=1, label="Grace (minutes)")
    schedule = forms.CharField(max_length=100, required=False)
    tz = forms.CharField(max_length=36, label="Time zone")
    channel_mode = forms.ChoiceField(
        choices=CHANNEL_MODES, label="Alert through", widget=forms.RadioSelect
    )
    channels = forms.MultipleChoiceField(
        required=False, widget=forms.CheckboxSelectMultiple, label="Integrations"
    )
    on_scale_in = forms.ChoiceField(choices=ScaleIn.choices, label="On scale-in")
    retention = forms.IntegerField(
        min_value=0,
        label="Retention (minutes)",
        help_text="With pause: how long the paused check stays before it is deleted.",
    )
    boot_deadline = forms.IntegerField(
        min_value=1,
        required=False,
        label="Boot deadline (minutes)",
        help_text="A check never pinged this long after launch goes down; "
        "empty waits forever.",
    )

    def __init__(self, *args: Any, channels: list[Channel], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Declared above as a MultipleChoiceField; `fields` is typed as plain Field.
        channel_field = cast(forms.MultipleChoiceField, self.fields["channels"])
        channel_field.choices = [(str(c.code), c.name or str(c.code)) for c in channels]

    @staticmethod
    def initial_for(rule: AwsRule) -> dict[str, Any]:
        mode = {"*": "all", "": "none"}.get(rule.channels.strip(), "some")
        boot = rule.boot_deadline
        return {
            "asg_pattern": rule.asg_pattern,
            "tag_key": rule.tag_key,
            "tag_value": rule.tag_value,
            "name_tpl": rule.name_tpl,
            "slug_tpl": rule.slug_tpl,
            "tags_tpl": rule.tags_tpl,
            "desc_tpl": rule.desc_tpl,
            "kind": Kind.SIMPLE if rule.kind == Kind.SIMPLE else Kind.CRON,
            "timeout": rule.timeout // MINUTE,
            "grace": rule.grace // MINUTE,
            "schedule": rule.schedule,
            "tz": rule.tz,
            "channel_mode": mode,
            "channels": rule.channels.split(",") if mode == "some" else [],
            "on_scale_in": rule.on_scale_in,
            "retention": rule.retention // MINUTE,
            "boot_deadline": None if boot is None else boot // MINUTE,
        }

    def clean(self) -> dict[str, Any] | None:
        data = super().clean()
        if data is None:
            return None
        if data.get("kind") == Kind.CRON and not data.get("schedule"):
            self.add_error("schedule", "Enter a cron or OnCalendar schedule.")
        if data.get("channel_mode") == "some" and not data.get("channels"):
            self.add_error("channels", "Choose at least one integration.")
        return data

    def settings(self) -> dict[str, Any]:
        """The cleaned data as `config.save_rule` keywords."""
        data = dict(self.cleaned_data)
        mode = data.pop("channel_mode")
        chosen = data.pop("channels")
        data["channels"] = {"all": "*", "none": ""}.get(mode, ",".join(chosen))
        for name in ("timeout", "grace", "retention"):
            data[name] = _minutes(data[name])
        data["boot_deadline"] = _minutes(data["boot_deadline"])
        if data["kind"] == Kind.SIMPLE:
            data.pop("schedule")  # keep the stored one; only cron rules use it
        return data
