"""The batch's short cuts past the ORM give what the ORM would give.

services.ping_many builds a locked Check without Model.__init__ and takes the values
of its writes straight from the attributes (checks/services.py). These tests pin
that both match the ORM: the check's fields and state, and the SQL literals that
get_db_prep_save() values would put in the statements.
"""

import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.db.models.signals import post_init, pre_init
from django.utils import timezone

from checks import services
from checks.models import Check, Ping, PingKind, Status
from checks.services import PingData
from tests.factories import CheckFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

EVERY_FIELD = PingData(
    action=PingKind.START,
    exitstatus=0,
    rid=uuid.uuid4(),
    scheme="https",
    remote_addr="2001:db8::1",
    method="POST",
    ua="curl/8.5",
    body=b"ran for 3 s\xff",
)


def literals(values: list) -> list[str]:
    """How each value would be written into a statement."""
    with connection.cursor() as cursor:
        return [cursor.mogrify("%s", [value]).decode() for value in values]


def locked_row(check: Check) -> tuple:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {services._columns(Check)} FROM checks_check WHERE id = %s",  # noqa: S608
            [check.id],
        )
        return cursor.fetchone()


def test_check_from_row_has_the_fields_the_orm_loads():
    check = CheckFactory(
        last_start=timezone.now(), last_start_rid=uuid.uuid4(), tags="a b"
    )
    built = services._check_from_row(locked_row(check))
    loaded = Check.objects.get(id=check.id)
    assert {f.attname: getattr(built, f.attname) for f in Check._meta.fields} == {
        f.attname: getattr(loaded, f.attname) for f in Check._meta.fields
    }


def test_check_from_row_is_a_saved_instance_of_the_default_database():
    built = services._check_from_row(locked_row(CheckFactory()))
    assert (built._state.adding, built._state.db) == (False, "default")


def test_check_from_row_saves_like_a_loaded_check():
    check = CheckFactory(name="before")
    built = services._check_from_row(locked_row(check))
    built.name = "after"
    built.save(update_fields=["name"])
    check.refresh_from_db()
    assert check.name == "after"


def test_update_values_are_what_the_orm_would_write():
    check = CheckFactory(status=Status.UP, last_ping=timezone.now())
    now = timezone.now()
    # A start, then a success of the same run: every update field gets a value.
    services._apply_ping(check, PingKind.START, EVERY_FIELD, now)
    services._apply_ping(
        check, PingKind.SUCCESS, EVERY_FIELD, now + timedelta(seconds=3)
    )
    services._apply_ping(check, PingKind.START, EVERY_FIELD, now + timedelta(seconds=4))
    assert check.last_duration is not None
    assert check.last_start_rid is not None
    fields = services._PING_UPDATE
    assert literals(list(services._update_values(check))) == literals(
        services._values(check, fields)
    )


@pytest.mark.parametrize(
    "ping",
    [EVERY_FIELD, PingData()],
    ids=["every field set", "defaults"],
)
def test_ping_row_values_are_what_the_orm_would_write(ping):
    check = CheckFactory(n_pings=41)
    now = timezone.now()
    # The one-ping path: the check applied in memory and its Ping instance.
    _, saved = services._prepare(check, ping, now)
    row = services._ping_row(check, PingKind(saved.kind), ping, now, connection)
    assert literals(row) == literals(
        services._values(saved, services._PING_INSERT_FIELDS)
    )


def test_ping_row_names_every_column_of_a_ping():
    row = services._ping_row(
        CheckFactory(), PingKind.SUCCESS, PingData(), timezone.now(), connection
    )
    assert len(row) == len([f for f in Ping._meta.concrete_fields if not f.primary_key])


def test_nothing_listens_to_check_init_signals():
    # _check_from_row skips Model.__init__ and with it pre_init and post_init: a
    # receiver added for Check (a field tracker, say) would miss the ping path.
    assert not pre_init.has_listeners(Check)
    assert not post_init.has_listeners(Check)
