"""The ping URLs: spec section 2."""

import pytest

from checks.models import Flip, Ping, Status
from tests.factories import CheckFactory

pytestmark = pytest.mark.django_db


def test_ping_marks_new_check_up(client):
    check = CheckFactory()
    response = client.get(f"/ping/{check.code}")
    assert response.status_code == 200
    assert response.content == b"OK"
    check.refresh_from_db()
    assert check.status == Status.UP


def test_ping_to_unknown_uuid_is_not_found(client):
    response = client.get("/ping/07c2f548-9850-4b27-af5d-6c9dc157ec02")
    assert response.status_code == 404
    assert response.content == b"not found"


def test_ping_to_up_check_stays_in_query_budget(client, django_assert_num_queries):
    check = CheckFactory(status=Status.UP)
    # SAVEPOINT, SELECT ... FOR UPDATE, UPDATE check, INSERT ping, RELEASE SAVEPOINT
    with django_assert_num_queries(5):
        client.get(f"/ping/{check.code}")


def test_fail_ping_records_flip(client):
    check = CheckFactory(status=Status.UP)
    client.get(f"/ping/{check.code}/fail")
    flip = Flip.objects.get(owner=check)
    assert (flip.old_status, flip.new_status, flip.reason) == ("up", "down", "fail")
    assert Ping.objects.get(owner=check).kind == "fail"
