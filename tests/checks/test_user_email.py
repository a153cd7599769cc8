"""One account per email address (migration checks 0005's unique index)."""

import importlib
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.contrib.auth.models import User
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from checks.dashboard import auth

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


def test_find_user_matches_an_address_stored_in_another_case():
    user = User.objects.create_user("a", "Ann@Example.org")
    assert auth.find_user(" ann@example.ORG ") == user


def test_find_user_matches_letters_beyond_ascii_in_any_case():
    # Stored as the forms store it: lowered by Python, which folds every letter.
    user = User.objects.create_user("a", "jörg@example.org")
    assert auth.find_user("JÖRG@example.org") == user


def test_find_user_never_matches_accounts_without_an_address():
    User.objects.create_user("a", "")
    assert auth.find_user("") is None


@pytest.mark.postgres
def test_find_user_can_use_the_unique_index():
    with CaptureQueriesContext(connection) as queries:
        auth.find_user("ann@example.org")
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # as on a large table
        cursor.execute("EXPLAIN " + queries[0]["sql"])
        plan = " ".join(row[0] for row in cursor.fetchall())
    assert migration.INDEX in plan
