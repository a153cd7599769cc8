"""`manage.py bootstrap`: make sure a first account, project and keys exist."""

import json
import secrets
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.validators import validate_email
from django.db import transaction

from checks import services
from checks.dashboard.auth import find_user, make_login_link
from checks.models import ApiKey, Profile, Project

KEY_NAME = "bootstrap"


class Command(BaseCommand):
    help = (
        "Create (or reuse) a user, a project, a read-write and a read-only API key and "
        "a ping key, and print them. API keys are shown only when they are created."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--email", default="admin@localhost")
        parser.add_argument("--project", default="My Project")
        parser.add_argument("--json", action="store_true", help="print one JSON object")
        parser.add_argument(
            "--rotate-keys",
            action="store_true",
            help="revoke the bootstrap keys, make new ones",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        email: str = options["email"].strip().lower()
        try:
            validate_email(email)
        except ValidationError as e:
            raise CommandError(f"--email {email!r} is not an email address") from e
        if not options["project"].strip():
            raise CommandError("--project must not be empty")
        with transaction.atomic():
            user, password = self._user(email)
            project = Project.objects.filter(
                owner=user, name=options["project"]
            ).first()
            if project is None:
                project = services.create_project(owner=user, name=options["project"])
            if options["rotate_keys"]:
                ApiKey.objects.filter(project=project, name=KEY_NAME).delete()
            rw = self._key(project, read_only=False)
            ro = self._key(project, read_only=True)
            if not project.ping_key:
                services.rotate_ping_key(project=project)

        result = {
            "email": email,
            "project": project.name,
            "api_key": rw,
            "api_key_readonly": ro,
            "ping_key": project.ping_key,
            # A one-time link (valid 1 h): each run replaces the previous one.
            "login_url": make_login_link(user),
        }
        if options["json"]:
            self.stdout.write(json.dumps(result))
            return
        self._print(result, password)

    def _user(self, email: str) -> tuple[User, str | None]:
        user = find_user(email)
        password = None
        if user is None:
            password = secrets.token_urlsafe(12)
            user = User.objects.create_user(
                username=email, email=email, password=password
            )
        Profile.objects.get_or_create(user=user)
        return user, password

    def _key(self, project: Project, *, read_only: bool) -> str | None:
        existing = ApiKey.objects.filter(
            project=project, name=KEY_NAME, read_only=read_only
        )
        if existing.exists():
            return None
        _, full = services.create_api_key(
            project=project, name=KEY_NAME, read_only=read_only
        )
        return full

    def _print(self, result: dict[str, str | None], password: str | None) -> None:
        out = self.stdout.write
        out(f"Log in at {settings.SITE_ROOT}/accounts/login/ as {result['email']}")
        out(f"  or open this one-time link (valid 1 hour): {result['login_url']}")
        if password:
            out(f"  password: {password}  (shown once; change it in the dashboard)")
        out(f"Project: {result['project']}")
        for label, key in (
            ("API key", "api_key"),
            ("Read-only API key", "api_key_readonly"),
        ):
            if result[key]:
                out(f"  {label}: {result[key]}  (shown once)")
            else:
                out(f"  {label}: already created (use --rotate-keys for a new one)")
        out(f"  Ping key: {result['ping_key']}")
        out(f"  Slug ping URLs: {settings.PING_ENDPOINT}{result['ping_key']}/<slug>")
