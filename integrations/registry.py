"""kind -> ChannelKind class, loaded lazily by import_string()."""

from __future__ import annotations

from functools import cache

from django.utils.module_loading import import_string

from integrations.base import ChannelKind

# Every channel kind hcserver can deliver to. One module per kind.
KINDS: dict[str, str] = {
    "email": "integrations.email.Email",
    "webhook": "integrations.webhook.Webhook",
    "slack": "integrations.slack.Slack",
    "mattermost": "integrations.mattermost.Mattermost",
    "discord": "integrations.discord.Discord",
    "msteams": "integrations.msteams.MsTeams",
    "telegram": "integrations.telegram.Telegram",
    "pagerduty": "integrations.pagerduty.PagerDuty",
    "opsgenie": "integrations.opsgenie.Opsgenie",
    "ntfy": "integrations.ntfy.Ntfy",
    "gotify": "integrations.gotify.Gotify",
    "pushover": "integrations.pushover.Pushover",
    "matrix": "integrations.matrix.Matrix",
    "zulip": "integrations.zulip.Zulip",
    "shell": "integrations.shell.Shell",
}


@cache
def get(kind: str) -> ChannelKind:
    """The ChannelKind instance for `kind`; KeyError if unknown."""
    return import_string(KINDS[kind])()


def choices() -> list[tuple[str, str]]:
    """(kind, label) of every kind the operator has not turned off."""
    return [(kind, get(kind).label) for kind in KINDS if get(kind).enabled]
