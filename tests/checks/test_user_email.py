"""One account per email address (migration checks 0005's unique index)."""

import importlib
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.contrib.auth.models import User
from django.db import IntegrityError, connection, transaction

pytestmark = pytest.mark.django_db

migration = importlib.import_module("checks.migrations.0005_unique_user_email")


def _refuse_duplicates():
    migration.refuse_duplicates(apps, SimpleNamespace(connection=connection))


def test_two_accounts_cannot_share_an_address_in_any_case():
    User.objects.create_user("a", "ann@example.org")
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create_user("b", "Ann@Example.org")


def test_accounts_without_an_address_may_coexist():
    User.objects.create_user("a", "")
    User.objects.create_user("b", "")
    assert User.objects.count() == 2


def test_migration_names_the_addresses_accounts_share():
    with connection.cursor() as cursor:
        cursor.execute(f"DROP INDEX {migration.INDEX}")  # rolled back after the test
    User.objects.create_user("a", "ann@example.org")
    User.objects.create_user("b", "ANN@example.org")
    User.objects.create_user("c", "bob@example.org")
    shared = r"these email addresses .*: ann@example\.org\."
    with pytest.raises(RuntimeError, match=shared):
        _refuse_duplicates()


def test_migration_passes_accounts_with_their_own_addresses():
    User.objects.create_user("a", "ann@example.org")
    User.objects.create_user("b", "bob@example.org")
    User.objects.create_user("c", "")
    User.objects.create_user("d", "")
    _refuse_duplicates()
