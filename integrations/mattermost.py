"""Mattermost: a Slack-compatible incoming webhook."""

from __future__ import annotations

from integrations.slack import Slack


class Mattermost(Slack):
    kind = "mattermost"
    label = "Mattermost"
