"""`manage.py aws_integration create|edit|list|show|delete` (or the dashboard)."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from checks.models import Project
from integrations.aws import config
from integrations.aws.api import integration_json
from integrations.aws.models import AwsIntegration


def _common(parser: CommandParser) -> None:
    parser.add_argument("--name")
    parser.add_argument("--regions", help="space-separated, the queue's region first")
    parser.add_argument("--queue-url")
    parser.add_argument("--credentials", choices=["role", "default", "none"])
    parser.add_argument("--role-arn")
    parser.add_argument(
        "--sns-topic", action="append", help="allowed SNS topic ARN (repeatable)"
    )
    parser.add_argument(
        "--push-secret",
        action="store_true",
        help="(re)generate the EventBridge API destination secret and print it once",
    )


class Command(BaseCommand):
    help = "Create, edit, list, show or delete AWS integrations."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create")
        create.add_argument("--project", required=True, help="project UUID")
        _common(create)
        edit = sub.add_parser("edit")
        edit.add_argument("code")
        _common(edit)
        edit.add_argument("--enable", dest="enabled", action="store_true", default=None)
        edit.add_argument("--disable", dest="enabled", action="store_false")
        edit.add_argument("--no-push-secret", action="store_true")
        listing = sub.add_parser("list")
        listing.add_argument("--project")
        show = sub.add_parser("show")
        show.add_argument("code")
        delete = sub.add_parser("delete")
        delete.add_argument("code")

    def _get(self, code: str) -> AwsIntegration:
        try:
            return AwsIntegration.objects.get(code=code)
        except (AwsIntegration.DoesNotExist, ValueError) as e:
            raise CommandError(f"no AWS integration {code}") from e

    def _data(self, options: dict[str, Any]) -> dict[str, Any]:
        data = {
            "name": options.get("name"),
            "regions": options.get("regions"),
            "queue_url": options.get("queue_url"),
            "credentials": options.get("credentials"),
            "role_arn": options.get("role_arn"),
            "enabled": options.get("enabled"),
        }
        if options.get("sns_topic") is not None:
            data["sns_topic_arns"] = " ".join(options["sns_topic"])
        return {k: v for k, v in data.items() if v is not None}

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        try:
            if action == "create":
                project = Project.objects.filter(code=options["project"]).first()
                if project is None:
                    raise CommandError(f"no project {options['project']}")
                integration = config.create_integration(
                    project=project, **self._data(options)
                )
                self._print(integration)
                self.stdout.write(f"external id: {integration.external_id}")
            elif action == "edit":
                integration = config.update_integration(
                    integration=self._get(options["code"]), **self._data(options)
                )
                if options.get("no_push_secret"):
                    config.disable_push_secret(integration=integration)
                self._print(integration)
            elif action == "list":
                rows = AwsIntegration.objects.order_by("created")
                if options.get("project"):
                    rows = rows.filter(project__code=options["project"])
                for row in rows:
                    self.stdout.write(f"{row.code}  {row.project.code}  {row.name}")
                return
            elif action == "show":
                self._print(self._get(options["code"]))
                return
            else:
                self._get(options["code"]).delete()
                self.stdout.write("deleted")
                return
        except (config.ConfigError, ValueError) as e:
            raise CommandError(str(e)) from e
        if options.get("push_secret"):
            secret = config.rotate_push_secret(integration=integration)
            # Shown once, here only: the database keeps a digest.
            self.stdout.write(f"push secret (shown once): {secret}")

    def _print(self, integration: AwsIntegration) -> None:
        self.stdout.write(json.dumps(integration_json(integration), indent=2))
