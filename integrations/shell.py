"""Shell command: run a command on the worker host. Off unless SHELL_ENABLED."""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
from typing import TYPE_CHECKING, Any

from django.conf import settings
from rest_framework import serializers

from integrations.base import ChannelKind, DeliveryError
from integrations.message import build_message
from integrations.webhook import substitute

if TYPE_CHECKING:
    from checks.models import Channel, Notification

NOT_ENABLED = "Shell commands are not enabled on this server (SHELL_ENABLED)."
# Commands get a small environment: the worker's own (DATABASE_URL, SECRET_KEY,
# ...) is not theirs to read.
ENV_PASSED = ("PATH", "HOME", "LANG", "LC_ALL", "TZ")


class ShellConfig(serializers.Serializer):
    cmd_down = serializers.CharField(
        max_length=1000,
        allow_blank=True,
        default="",
        label="Command for down",
        help_text="Runs on the server; $NAME, $CODE, $STATUS, $NOW, $TAGS are "
        "shell-quoted. Empty = nothing.",
    )
    cmd_up = serializers.CharField(
        max_length=1000,
        allow_blank=True,
        default="",
        label="Command for up",
        help_text="Empty = nothing.",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not settings.SHELL_ENABLED:
            raise serializers.ValidationError(NOT_ENABLED)
        if not attrs.get("cmd_down") and not attrs.get("cmd_up"):
            raise serializers.ValidationError("Set cmd_down, cmd_up or both.")
        return attrs


def command_values(notification: Notification) -> dict[str, str]:
    """$CODE $STATUS $NOW $NAME $TAGS $TAG1..: each is shell-quoted when used."""
    message = build_message(notification)
    check = message.check
    values = {
        "CODE": str(check.code),
        "STATUS": message.status,
        "NOW": message.changed_at.replace(microsecond=0).isoformat(),
        "NAME": check.name,
        "TAGS": check.tags,
    }
    for i, tag in enumerate(check.tags_list(), start=1):
        values[f"TAG{i}"] = tag
    return values


class Shell(ChannelKind):
    kind = "shell"
    label = "Shell Command"
    config = ShellConfig

    def is_noop(self, channel: Channel, status: str) -> bool:
        """No command for this direction: nothing to run."""
        return not channel.config.get(f"cmd_{status}")

    @property
    def enabled(self) -> bool:
        return bool(settings.SHELL_ENABLED)

    def send(self, channel: Channel, notification: Notification) -> None:
        """Run the command for the status; non-zero exit or timeout is an error."""
        if not settings.SHELL_ENABLED:
            raise DeliveryError(NOT_ENABLED, permanent=True)
        config = self.load_config(channel)
        template = config[f"cmd_{notification.check_status}"]
        if not template:
            return
        command = substitute(template, command_values(notification), escape=shlex.quote)
        env = {k: os.environ[k] for k in ENV_PASSED if k in os.environ}
        # Own process group, so a timeout kills the command's children too.
        process = subprocess.Popen(  # noqa: S602 - the operator enabled shell commands
            command,
            shell=True,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            code = process.wait(timeout=settings.SHELL_TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            raise DeliveryError(
                f"Command timed out after {settings.SHELL_TIMEOUT:g} s"
            ) from None
        if code != 0:
            raise DeliveryError(f"Command returned exit code {code}")
