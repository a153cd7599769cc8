"""The one idempotent handler every intake path feeds: a Signal -> checks.

Each signal is applied in one transaction holding the instance's record locked.
Duplicates find nothing to do; a stale stop/launch (older AWS time than the last
applied event) is ignored; `gone` is final because instance ids are never reused,
and a terminate seen first leaves a tombstone so a late launch cannot resurrect it.
"""

from __future__ import annotations

import fnmatch
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction

from checks import services
from checks.models import Channel, Check, RetiredSlug
from integrations.aws import templates
from integrations.aws.events import Signal, SignalKind
from integrations.aws.models import (
    AwsInstance,
    AwsIntegration,
    AwsRule,
    InstanceState,
    ScaleIn,
)
from integrations.aws.templates import InstanceFacts

log = logging.getLogger(__name__)

# (region, instance id) -> the instance's facts, None if EC2 does not know it (yet).
Lookup = Callable[[str, str], InstanceFacts | None]
GONE_STATES = ("shutting-down", "terminated")


class RetryLater(Exception):
    """A transient problem: leave the message for redelivery."""


@dataclass(frozen=True)
class Outcome:
    action: str  # created adopted resumed paused retired tombstone ignored unmatched
    check_id: int | None = None


def rule_matches(rule: AwsRule, facts: InstanceFacts) -> bool:
    """Group glob and/or tag condition; a rule with neither matches nothing."""
    if not rule.asg_pattern and not rule.tag_key:
        return False
    if rule.asg_pattern and not (
        facts.asg and fnmatch.fnmatchcase(facts.asg, rule.asg_pattern)
    ):
        return False
    if rule.tag_key:
        if rule.tag_key not in facts.tags:
            return False
        if rule.tag_value and facts.tags[rule.tag_key] != rule.tag_value:
            return False
    return True


def match_rule(integration: AwsIntegration, facts: InstanceFacts) -> AwsRule | None:
    for rule in integration.rules.all():
        if rule_matches(rule, facts):
            return rule
    return None


def _newer(when: datetime | None, last: datetime | None) -> bool:
    return when is None or last is None or when >= last


def _latest(a: datetime | None, b: datetime | None) -> datetime | None:
    if a is None or b is None:
        return a or b
    return max(a, b)


def apply(
    *,
    integration: AwsIntegration,
    signal: Signal,
    now: datetime,
    lookup: Lookup | None = None,
) -> Outcome:
    """Apply one signal; safe to call any number of times in any order."""
    if signal.kind == SignalKind.LAUNCH:
        return _launch(integration, signal, now, lookup)
    if signal.kind == SignalKind.STOP:
        return _stop(integration, signal, now)
    if signal.kind == SignalKind.TERMINATE:
        return _terminate(integration, signal, now)
    return Outcome("ignored")


def _facts(
    integration: AwsIntegration, signal: Signal, lookup: Lookup | None
) -> InstanceFacts:
    region = signal.region or integration.region_list()[0]
    if signal.tags is not None or lookup is None:
        return InstanceFacts(
            instance_id=signal.instance_id,
            region=region,
            account=signal.account,
            asg=signal.asg,
            az=signal.az,
            tags=dict(signal.tags or {}),
        )
    found = lookup(region, signal.instance_id)
    if found is None:
        if not signal.asg:
            # EC2 is eventually consistent: a new instance may not be listed yet.
            raise RetryLater(f"{signal.instance_id} not found in {region} yet")
        return InstanceFacts(
            instance_id=signal.instance_id,
            region=region,
            account=signal.account,
            asg=signal.asg,
            az=signal.az,
        )
    return InstanceFacts(
        instance_id=signal.instance_id,
        region=region,
        account=signal.account or found.account,
        asg=signal.asg or found.asg,
        az=signal.az or found.az,
        state=found.state,
        tags=found.tags,
    )


def _locked(integration: AwsIntegration, instance_id: str) -> AwsInstance | None:
    return (
        AwsInstance.objects.select_for_update()
        .filter(integration=integration, instance_id=instance_id)
        .first()
    )


def _insert(row: AwsInstance) -> None:
    try:
        with transaction.atomic():
            row.save()
    except IntegrityError as e:
        # Another worker recorded this instance at the same moment: redo from scratch.
        raise RetryLater(f"{row.instance_id} recorded concurrently") from e


def _launch(
    integration: AwsIntegration, signal: Signal, now: datetime, lookup: Lookup | None
) -> Outcome:
    known = AwsInstance.objects.filter(
        integration=integration, instance_id=signal.instance_id
    ).first()
    facts = None
    if known is None:
        # Look up outside the transaction: an AWS call must not hold a row lock.
        facts = _facts(integration, signal, lookup)
        if facts.state in GONE_STATES:
            return _terminate(integration, signal, now)
    with transaction.atomic():
        row = _locked(integration, signal.instance_id)
        if row is not None:
            return _relaunch(row, signal, now)
        if facts is None:  # the record vanished meanwhile (integration edited)
            facts = _facts(integration, signal, lookup)
        rule = match_rule(integration, facts)
        if rule is None:
            return Outcome("unmatched")
        slug = templates.render_slug(rule.slug_tpl, facts)
        adoptable = _adoptable(integration, slug)
        if (
            adoptable is None
            and services.checks_available(integration.project.owner) <= 0
        ):
            return _limit_reached(integration, facts)
        row = AwsInstance(
            integration=integration,
            instance_id=facts.instance_id,
            account=facts.account,
            region=facts.region,
            asg=facts.asg,
            rule=rule,
            slug=slug,
            last_event_time=signal.when,
        )
        _insert(row)
        fields = _check_fields(rule, facts)
        if adoptable is not None:
            services.update_check(check=adoptable, fields=fields)
            check, action = adoptable, "adopted"
        else:
            deadline = now + rule.boot_deadline if rule.boot_deadline else None
            check = services.create_check(
                project=integration.project, slug=slug, new_deadline=deadline, **fields
            )
            check.channels.set(_channels(rule))
            action = "created"
        row.target = check
        row.save(update_fields=["target"])
    log.info("aws: %s check %s for %s", action, check.pk, facts.instance_id)
    return Outcome(action, check.pk)


def _relaunch(row: AwsInstance, signal: Signal, now: datetime) -> Outcome:
    if row.state == InstanceState.STOPPED and _newer(signal.when, row.last_event_time):
        row.state = InstanceState.ACTIVE
        row.last_event_time = _latest(signal.when, row.last_event_time)
        row.save(update_fields=["state", "last_event_time"])
        if row.target is not None:
            services.resume_check(check=row.target, now=now)
        return Outcome("resumed", row.target_id)
    if row.state == InstanceState.ACTIVE:
        row.last_event_time = _latest(signal.when, row.last_event_time)
        row.asg = row.asg or signal.asg
        row.save(update_fields=["last_event_time", "asg"])
    return Outcome("ignored", row.target_id)


def _check_fields(rule: AwsRule, facts: InstanceFacts) -> dict[str, Any]:
    return {
        "name": templates.render_name(rule.name_tpl, facts),
        "tags": templates.render_tags(rule.tags_tpl, facts),
        "desc": templates.render_desc(rule.desc_tpl, facts),
        "kind": rule.kind,
        "timeout": rule.timeout,
        "grace": rule.grace,
        "schedule": rule.schedule,
        "tz": rule.tz,
    }


def _channels(rule: AwsRule) -> list[Channel]:
    project_channels = Channel.objects.filter(project_id=rule.integration.project_id)
    if rule.channels.strip() == "*":
        return list(project_channels)
    codes = [c.strip() for c in rule.channels.split(",") if c.strip()]
    return list(project_channels.filter(code__in=codes)) if codes else []


def _adoptable(integration: AwsIntegration, slug: str) -> Check | None:
    # The instance pinged `?create=1` before its launch event arrived: adopt that
    # check (and its pings) instead of making a second one with the same slug.
    return (
        Check.objects.filter(project_id=integration.project_id, slug=slug)
        .exclude(aws_instances__isnull=False)
        .first()
    )


def _limit_reached(integration: AwsIntegration, facts: InstanceFacts) -> Outcome:
    AwsIntegration.objects.filter(pk=integration.pk).update(
        last_error="check limit reached: no check created for new instances"
    )
    log.warning("aws: check limit reached, no check for %s", facts.instance_id)
    return Outcome("limit")


def _stop(integration: AwsIntegration, signal: Signal, now: datetime) -> Outcome:
    with transaction.atomic():
        row = _locked(integration, signal.instance_id)
        if row is None or row.state != InstanceState.ACTIVE:
            return Outcome("ignored", row.target_id if row else None)
        if not _newer(signal.when, row.last_event_time):
            return Outcome("ignored", row.target_id)
        row.state = InstanceState.STOPPED
        row.last_event_time = _latest(signal.when, row.last_event_time)
        row.save(update_fields=["state", "last_event_time"])
        if row.target is not None:
            services.pause_check(check=row.target, now=now)
    return Outcome("paused", row.target_id)


def _terminate(integration: AwsIntegration, signal: Signal, now: datetime) -> Outcome:
    with transaction.atomic():
        row = _locked(integration, signal.instance_id)
        if row is None:
            # Terminated before we saw it launch: remember, so a late launch is void.
            _insert(
                AwsInstance(
                    integration=integration,
                    instance_id=signal.instance_id,
                    account=signal.account,
                    region=signal.region,
                    asg=signal.asg,
                    state=InstanceState.GONE,
                    last_event_time=signal.when,
                    retired_at=now,
                )
            )
            return Outcome("tombstone")
        if row.state == InstanceState.GONE:
            return Outcome("ignored", row.target_id)
        check_id = row.target_id
        scale_in(row=row, now=now)
    log.info("aws: retired %s (check %s)", signal.instance_id, check_id)
    return Outcome("retired", check_id)


def scale_in(*, row: AwsInstance, now: datetime) -> None:
    """Apply the rule's scale-in policy to a locked, live instance record."""
    project_id = row.integration.project_id
    if row.slug:
        # A last ping with ?create=1 from the dying instance must not recreate it.
        RetiredSlug.objects.get_or_create(project_id=project_id, slug=row.slug)
    policy = row.rule.on_scale_in if row.rule is not None else ScaleIn.DELETE
    check = row.target
    if check is not None and policy == ScaleIn.DELETE:
        services.delete_check(check=check)
        row.target = None
    elif check is not None and policy == ScaleIn.PAUSE:
        # manual_resume: a late ping must not un-pause it and start a countdown.
        services.update_check(check=check, fields={"manual_resume": True})
        services.pause_check(check=check, now=now)
        assert row.rule is not None  # noqa: S101 - policy came from the rule
        row.delete_at = now + row.rule.retention
    row.state = InstanceState.GONE
    row.retired_at = now
    row.save(update_fields=["target", "state", "retired_at", "delete_at"])


def purge_retired(*, integration: AwsIntegration, now: datetime) -> int:
    """Delete paused checks of scaled-in instances whose retention is over."""
    purged = 0
    due = AwsInstance.objects.filter(
        integration=integration, delete_at__lte=now, state=InstanceState.GONE
    )
    for row in due.select_related("target"):
        with transaction.atomic():
            if row.target is not None:
                services.delete_check(check=row.target)
                purged += 1
            AwsInstance.objects.filter(pk=row.pk).update(target=None, delete_at=None)
    return purged
