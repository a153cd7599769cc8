"""`manage.py aws_rule add|edit|list|delete`: map groups/tags to check templates."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from integrations.aws import config
from integrations.aws.api import rule_json
from integrations.aws.models import AwsIntegration, AwsRule


def _seconds(value: str) -> timedelta:
    return timedelta(seconds=int(value))


def _common(parser: CommandParser) -> None:
    parser.add_argument("--position", type=int)
    parser.add_argument("--asg", dest="asg_pattern", help="group name or glob")
    parser.add_argument("--tag", help="KEY or KEY=VALUE an instance must carry")
    parser.add_argument("--name-template", dest="name_tpl")
    parser.add_argument("--slug-template", dest="slug_tpl")
    parser.add_argument("--tags", dest="tags_tpl")
    parser.add_argument("--desc", dest="desc_tpl")
    parser.add_argument("--timeout", type=_seconds, help="seconds")
    parser.add_argument("--grace", type=_seconds, help="seconds")
    parser.add_argument("--schedule", help="cron expression (makes a cron check)")
    parser.add_argument("--tz")
    parser.add_argument("--channels", help="'*' (all), '' (none) or channel UUIDs")
    parser.add_argument("--on-scale-in", choices=["delete", "pause", "keep"])
    parser.add_argument("--retention", type=_seconds, help="seconds (with pause)")
    parser.add_argument("--boot-deadline", type=_seconds, help="seconds")


class Command(BaseCommand):
    help = "Add, edit, list or delete the check rules of an AWS integration."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        add = sub.add_parser("add")
        add.add_argument("integration", help="integration UUID")
        _common(add)
        edit = sub.add_parser("edit")
        edit.add_argument("rule", type=int, help="rule id")
        _common(edit)
        edit.add_argument("--no-boot-deadline", action="store_true")
        listing = sub.add_parser("list")
        listing.add_argument("integration")
        delete = sub.add_parser("delete")
        delete.add_argument("rule", type=int)

    def _data(self, options: dict[str, Any]) -> dict[str, Any]:
        data = {name: options.get(name) for name in config.RULE_FIELDS}
        if options.get("tag") is not None:
            key, _, value = options["tag"].partition("=")
            data["tag_key"], data["tag_value"] = key, value
        return data

    def _integration(self, code: str) -> AwsIntegration:
        try:
            return AwsIntegration.objects.get(code=code)
        except (AwsIntegration.DoesNotExist, ValueError) as e:
            raise CommandError(f"no AWS integration {code}") from e

    def _rule(self, pk: int) -> AwsRule:
        rule = AwsRule.objects.filter(pk=pk).select_related("integration").first()
        if rule is None:
            raise CommandError(f"no rule {pk}")
        return rule

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "list":
            for rule in self._integration(options["integration"]).rules.all():
                self.stdout.write(json.dumps(rule_json(rule)))
            return
        if action == "delete":
            self._rule(options["rule"]).delete()
            self.stdout.write("deleted")
            return
        if action == "add":
            rule = AwsRule(integration=self._integration(options["integration"]))
        else:
            rule = self._rule(options["rule"])
            if options.get("no_boot_deadline"):
                rule.boot_deadline = None
        try:
            rule = config.save_rule(rule=rule, **self._data(options))
        except config.ConfigError as e:
            raise CommandError(str(e)) from e
        self.stdout.write(json.dumps(rule_json(rule), indent=2))
