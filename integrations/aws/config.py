"""Create and edit integrations and rules, validated (commands and dashboard)."""

from __future__ import annotations

import re
import secrets
import uuid
from datetime import timedelta
from typing import Any

from django.db import transaction

from checks import schedule
from checks.models import Channel, Kind, Project, key_digest
from integrations.aws.models import AwsIntegration, AwsRule, Credentials, ScaleIn
from integrations.aws.templates import unknown_placeholders

REGION_RE = re.compile(r"^[a-z]{2}(-gov)?-[a-z]+-\d$")
ROLE_ARN_RE = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$")
TOPIC_ARN_RE = re.compile(r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[\w-]{1,256}$")
QUEUE_URL_RE = re.compile(r"^https?://[^\s/]+/\d{12}/[\w-]{1,80}$")
MAX_PERIOD = timedelta(days=365)
INTEGRATION_FIELDS = (
    "name",
    "regions",
    "queue_url",
    "credentials",
    "role_arn",
    "sns_topic_arns",
    "enabled",
)


class ConfigError(ValueError):
    """Input that cannot be saved; the message says why."""


def _check_regions(value: str) -> str:
    regions = value.split()
    if not regions or any(not REGION_RE.match(r) for r in regions):
        raise ConfigError(f"invalid regions: {value!r} (e.g. 'us-east-1 eu-west-1')")
    return " ".join(regions)


def _validate_integration(data: dict[str, Any]) -> dict[str, Any]:
    if "regions" in data:
        data["regions"] = _check_regions(data["regions"])
    if data.get("queue_url") and not QUEUE_URL_RE.match(data["queue_url"]):
        raise ConfigError(
            "invalid queue URL (https://sqs.<region>.amazonaws.com/<account>/<name>)"
        )
    if "credentials" in data and data["credentials"] not in Credentials.values:
        raise ConfigError(f"credentials must be one of {', '.join(Credentials.values)}")
    if data.get("role_arn") and not ROLE_ARN_RE.match(data["role_arn"]):
        raise ConfigError("invalid role ARN")
    if "sns_topic_arns" in data:
        topics = data["sns_topic_arns"].split()
        if any(not TOPIC_ARN_RE.match(t) for t in topics):
            raise ConfigError("invalid SNS topic ARN")
        data["sns_topic_arns"] = " ".join(topics)
    if "name" in data and len(data["name"]) > 100:
        raise ConfigError("name is longer than 100 characters")
    return data


def _consistent(integration: AwsIntegration) -> None:
    if integration.credentials == Credentials.ROLE and not integration.role_arn:
        raise ConfigError("credentials=role needs a role ARN")


def create_integration(*, project: Project, **data: Any) -> AwsIntegration:
    """A new integration with a fresh external id."""
    data = _validate_integration(
        {k: v for k, v in data.items() if k in INTEGRATION_FIELDS}
    )
    integration = AwsIntegration(
        project=project, external_id=secrets.token_hex(16), **data
    )
    _consistent(integration)
    integration.save()
    return integration


def update_integration(*, integration: AwsIntegration, **data: Any) -> AwsIntegration:
    data = _validate_integration(
        {k: v for k, v in data.items() if k in INTEGRATION_FIELDS}
    )
    for name, value in data.items():
        setattr(integration, name, value)
    _consistent(integration)
    integration.save()
    return integration


def rotate_push_secret(*, integration: AwsIntegration) -> str:
    """A new API-destination secret; only its digest is stored, shown once."""
    secret = "hcaws_" + secrets.token_urlsafe(32)
    integration.push_secret_hash = key_digest(secret)
    integration.save(update_fields=["push_secret_hash"])
    return secret


def disable_push_secret(*, integration: AwsIntegration) -> None:
    integration.push_secret_hash = ""
    integration.save(update_fields=["push_secret_hash"])


RULE_FIELDS = (
    "position",
    "asg_pattern",
    "tag_key",
    "tag_value",
    "name_tpl",
    "slug_tpl",
    "tags_tpl",
    "desc_tpl",
    "timeout",
    "grace",
    "schedule",
    "tz",
    "channels",
    "on_scale_in",
    "retention",
    "boot_deadline",
)


def _validate_rule(rule: AwsRule, project_id: int) -> None:
    if not rule.asg_pattern and not rule.tag_key:
        raise ConfigError("a rule needs an Auto Scaling group (name or glob) or a tag")
    for label, tpl, limit in (
        ("name template", rule.name_tpl, 200),
        ("slug template", rule.slug_tpl, 200),
        ("tags template", rule.tags_tpl, 500),
    ):
        if len(tpl) > limit:
            raise ConfigError(f"{label} is longer than {limit} characters")
        unknown = unknown_placeholders(tpl)
        if unknown:
            raise ConfigError(f"{label}: unknown placeholder {{{unknown[0]}}}")
    if "{instance_id}" not in rule.slug_tpl:
        raise ConfigError("the slug template must contain {instance_id}")
    for label, value in (("timeout", rule.timeout), ("grace", rule.grace)):
        if not timedelta(minutes=1) <= value <= MAX_PERIOD:
            raise ConfigError(f"{label} must be between 60 seconds and 365 days")
    if rule.kind != Kind.SIMPLE:
        try:
            rule.kind = schedule.validate_schedule(rule.schedule)
            rule.tz = schedule.canonical_tz(rule.tz)
        except schedule.ScheduleError as e:
            raise ConfigError(str(e)) from e
    if rule.on_scale_in not in ScaleIn.values:
        raise ConfigError(f"on_scale_in must be one of {', '.join(ScaleIn.values)}")
    if rule.boot_deadline is not None and not (
        timedelta(minutes=1) <= rule.boot_deadline <= MAX_PERIOD
    ):
        raise ConfigError("boot deadline must be between 60 seconds and 365 days")
    if rule.retention < timedelta(0):
        raise ConfigError("retention must not be negative")
    channels = rule.channels.strip()
    if channels not in ("", "*"):
        codes = [c.strip() for c in channels.split(",") if c.strip()]
        try:
            parsed = {uuid.UUID(c) for c in codes}
        except ValueError as e:
            raise ConfigError(
                "channels: '*', '' or channel UUIDs, comma-separated"
            ) from e
        found = Channel.objects.filter(project_id=project_id, code__in=parsed).count()
        if found != len(parsed):
            raise ConfigError("channels: not a channel of this project")
        rule.channels = ",".join(sorted(str(c) for c in parsed))


def save_rule(*, rule: AwsRule, kind: str | None = None, **data: Any) -> AwsRule:
    """Validate and save a new or edited rule (a `schedule` makes it a cron rule)."""
    for name, value in data.items():
        if name in RULE_FIELDS and value is not None:
            setattr(rule, name, value)
    if kind is not None:
        # The dashboard says which kind; validation refines cron vs OnCalendar.
        rule.kind = Kind.SIMPLE if kind == Kind.SIMPLE else Kind.CRON
    elif data.get("schedule"):
        rule.kind = Kind.CRON
    _validate_rule(rule, rule.integration.project_id)
    with transaction.atomic():
        rule.save()
    return rule


def move_rule(*, rule: AwsRule, offset: int) -> None:
    """Move a rule up (-1) or down (+1) among its integration's rules."""
    with transaction.atomic():
        # Lock the siblings: two reorders at once must not interleave their renumbering.
        rules = list(
            AwsRule.objects.select_for_update()
            .filter(integration_id=rule.integration_id)
            .order_by("position", "id")
        )
        index = next(i for i, r in enumerate(rules) if r.pk == rule.pk)
        target = index + offset
        if not 0 <= target < len(rules):
            return
        rules[index], rules[target] = rules[target], rules[index]
        # Renumber all: positions may have ties (every rule defaults to 0).
        for position, row in enumerate(rules):
            row.position = position
        AwsRule.objects.bulk_update(rules, ["position"])


def next_position(*, integration: AwsIntegration) -> int:
    """The position that puts a new rule after all the existing ones."""
    last = integration.rules.order_by("-position").values_list("position", flat=True)
    return (last.first() or 0) + 1 if last.exists() else 0
