"""AWS integrations, their check rules, and one record per instance seen."""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.db import models

from checks.models import Check, Kind, Project


class Credentials(models.TextChoices):
    ROLE = "role", "Assume a role (with an external id)"
    DEFAULT = "default", "The server's default AWS credential chain"
    NONE = "none", "No AWS calls (push events only)"


class AwsIntegration(models.Model):
    """One AWS account/queue feeding a project's checks."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    project = models.ForeignKey(
        Project, models.CASCADE, related_name="aws_integrations"
    )
    name = models.CharField(max_length=100, blank=True)
    # Space-separated; the first one is the queue's region.
    regions = models.CharField(max_length=200, default="us-east-1")
    queue_url = models.CharField(max_length=500, blank=True)
    credentials = models.CharField(
        max_length=8, choices=Credentials.choices, default=Credentials.ROLE
    )
    role_arn = models.CharField(max_length=300, blank=True)
    # Not a password, but kept out of logs: it guards the role (confused deputy).
    external_id = models.CharField(max_length=100, blank=True)
    # SNS topics whose signed messages this integration accepts (space-separated).
    sns_topic_arns = models.TextField(blank=True)
    # key_digest() of the EventBridge API destination secret; "" = endpoint off.
    push_secret_hash = models.CharField(max_length=64, blank=True)
    enabled = models.BooleanField(default=True)
    created = models.DateTimeField(auto_now_add=True)
    last_poll_at = models.DateTimeField(null=True, blank=True)
    last_reconcile_at = models.DateTimeField(null=True, blank=True)
    sns_confirmed_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=200, blank=True)

    def __str__(self) -> str:
        return self.name or str(self.code)

    def region_list(self) -> list[str]:
        return self.regions.split()

    def topic_list(self) -> list[str]:
        return self.sns_topic_arns.split()


class ScaleIn(models.TextChoices):
    DELETE = "delete", "Delete the check"
    PAUSE = "pause", "Pause, delete after the retention"
    KEEP = "keep", "Keep the check"


class AwsRule(models.Model):
    """Which instances get a check, and the check's template (first match wins)."""

    integration = models.ForeignKey(
        AwsIntegration, models.CASCADE, related_name="rules"
    )
    position = models.IntegerField(default=0)
    # Auto Scaling group name or glob ("web-*"); "" = any group.
    asg_pattern = models.CharField(max_length=255, blank=True)
    # Instance tag to require; "" = none. An empty tag_value only needs the key.
    tag_key = models.CharField(max_length=128, blank=True)
    tag_value = models.CharField(max_length=256, blank=True)
    name_tpl = models.CharField(max_length=200, default="{asg}/{instance_id}")
    slug_tpl = models.CharField(max_length=200, default="{asg}-{instance_id}")
    tags_tpl = models.CharField(max_length=500, default="aws {asg}")
    desc_tpl = models.TextField(blank=True)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.SIMPLE)
    timeout = models.DurationField(default=timedelta(days=1))
    grace = models.DurationField(default=timedelta(hours=1))
    schedule = models.CharField(max_length=100, default="* * * * *")
    tz = models.CharField(max_length=36, default="UTC")
    # "*" = all the project's channels, "" = none, else comma-separated channel UUIDs.
    channels = models.CharField(max_length=2000, default="*", blank=True)
    on_scale_in = models.CharField(
        max_length=6, choices=ScaleIn.choices, default=ScaleIn.DELETE
    )
    # With on_scale_in=pause: how long the paused check stays before it is deleted.
    retention = models.DurationField(default=timedelta(days=7))
    # A check never pinged this long after launch goes down; None = wait forever.
    boot_deadline = models.DurationField(null=True, blank=True)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        what = self.asg_pattern or f"tag {self.tag_key}={self.tag_value}"
        return f"rule {self.position}: {what}"


class InstanceState(models.TextChoices):
    ACTIVE = "active"
    STOPPED = "stopped"  # back in a warm pool: paused, not scaled in
    GONE = "gone"  # final: instance ids are never reused


class AwsInstance(models.Model):
    """What we know of one instance; the unique key makes events idempotent."""

    integration = models.ForeignKey(
        AwsIntegration, models.CASCADE, related_name="instances"
    )
    # Instance ids are unique across accounts and regions in practice, and moto's
    # events carry no account: keying on the id alone keeps events and reconciles
    # from ever creating two records for one instance.
    instance_id = models.CharField(max_length=32)
    account = models.CharField(max_length=12, blank=True)
    region = models.CharField(max_length=32, blank=True)
    asg = models.CharField(max_length=255, blank=True)
    rule = models.ForeignKey(AwsRule, models.SET_NULL, null=True, blank=True)
    # "target", not "check": a field named check would shadow Model.check().
    target = models.ForeignKey(
        Check, models.SET_NULL, null=True, blank=True, related_name="aws_instances"
    )
    slug = models.CharField(max_length=100, blank=True)
    state = models.CharField(
        max_length=7, choices=InstanceState.choices, default=InstanceState.ACTIVE
    )
    # AWS's clock of the newest event applied: older stop/launch events are stale.
    last_event_time = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    retired_at = models.DateTimeField(null=True, blank=True)
    # With on_scale_in=pause: when the paused check is deleted.
    delete_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["integration", "instance_id"], name="aws_instance_unique"
            )
        ]
        indexes = [
            models.Index(
                fields=["delete_at"],
                name="aws_instance_delete_at",
                condition=models.Q(delete_at__isnull=False),
            )
        ]

    def __str__(self) -> str:
        return f"{self.instance_id} ({self.state})"
