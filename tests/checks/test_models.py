"""Model helpers that the API and dashboard rely on (pure, no queries)."""

import re
import uuid
from io import StringIO

import pytest
from django.core.management import call_command

from checks.models import ApiKey, Check, Flip, Status, new_ping_key
from tests.factories import CheckFactory


@pytest.mark.django_db
def test_migrations_match_the_models():
    out = StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out)


def test_unique_key_is_stable_and_hides_the_uuid():
    check = Check(code=uuid.UUID("07c2f548-9850-4b27-af5d-6c9dc157ec02"))
    # sha1 of the first 16 hex digits of the code (spec 1.4).
    assert check.unique_key == "f1bc441d0a2c1a3bf7bb4d031fd3ead3ab48ecb0"
    assert check.code.hex not in check.unique_key


def test_tags_list_splits_on_spaces():
    assert Check(tags=" prod  db backup ").tags_list() == ["prod", "db", "backup"]


def test_ping_url_uses_ping_endpoint(settings):
    settings.PING_ENDPOINT = "https://hc.example.org/ping/"
    code = uuid.uuid4()
    assert Check(code=code).ping_url() == f"https://hc.example.org/ping/{code}"


@pytest.mark.parametrize("read_only", [False, True])
def test_generated_api_keys_look_like_healthchecks_keys(read_only):
    key = ApiKey.generate(read_only)
    prefix = "hcr_" if read_only else "hcw_"
    assert re.fullmatch(prefix + "[A-Za-z0-9]{28}", key)


def test_ping_keys_are_22_lowercase_characters():
    assert re.fullmatch("[a-z0-9]{22}", new_ping_key())


@pytest.mark.parametrize(
    ("old", "new", "notifies"),
    [
        (Status.UP, Status.DOWN, True),
        (Status.NEW, Status.DOWN, True),
        (Status.PAUSED, Status.DOWN, True),
        (Status.DOWN, Status.UP, True),
        (Status.NEW, Status.UP, False),
        (Status.PAUSED, Status.UP, False),
        (Status.UP, Status.PAUSED, False),
        (Status.PAUSED, Status.NEW, False),
    ],
)
def test_flips_that_notify(old, new, notifies):
    assert Flip(old_status=old, new_status=new).notifies == notifies


@pytest.mark.django_db
def test_check_defaults_match_the_spec():
    check = CheckFactory()
    assert (check.kind, check.status, check.schedule, check.tz) == (
        "simple",
        "new",
        "* * * * *",
        "UTC",
    )
    assert (check.timeout.total_seconds(), check.grace.total_seconds()) == (86400, 3600)
    assert check.n_pings == 0


def test_slug_limit_matches_the_column():
    from checks.services import SLUG_MAX_LENGTH

    assert Check._meta.get_field("slug").max_length == SLUG_MAX_LENGTH


def _indexed_columns(table: str) -> list[list[str]]:
    from django.db import connection

    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, table)
    return [c["columns"] for c in found.values() if c["index"] or c["unique"]]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("table", "column"), [("checks_ping", "owner_id"), ("checks_check", "project_id")]
)
def test_ping_path_tables_have_no_index_a_wider_one_already_leads_with(table, column):
    # Every ping writes both tables: each index is one more write per ping.
    indexes = _indexed_columns(table)
    assert [column] not in indexes
    assert any(columns[0] == column and len(columns) > 1 for columns in indexes)
