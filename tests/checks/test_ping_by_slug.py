"""Slug ping URLs and `?create=1` auto-provisioning: spec 2.5 and 9.7."""

from datetime import timedelta

import pytest
from django.db import connection

from checks.models import Check, Kind, Ping, PingKind, RetiredSlug, Status
from tests.factories import (
    ChannelFactory,
    CheckFactory,
    ProfileFactory,
    ProjectFactory,
)

pytestmark = pytest.mark.django_db

RID = "8d6b3c9e-0f5f-4b8e-9c1d-2a7f3e4b5c6d"


def url(project, slug: str, suffix: str = "") -> str:
    return f"/ping/{project.ping_key}/{slug}{suffix}"


def test_slug_ping_answers_ok(client):
    check = CheckFactory(slug="backup")
    response = client.get(url(check.project, "backup"))
    assert (response.status_code, response.content) == (200, b"OK")
    assert response["Access-Control-Allow-Origin"] == "*"
    assert response["Ping-Body-Limit"] == "100000"
    assert "no-store" in response["Cache-Control"]


def test_slug_ping_marks_check_up(client):
    check = CheckFactory(slug="backup")
    client.get(url(check.project, "backup"))
    check.refresh_from_db()
    assert check.status == Status.UP


@pytest.mark.parametrize(
    ("suffix", "kind"),
    [
        ("/start", PingKind.START),
        ("/fail", PingKind.FAIL),
        ("/log", PingKind.LOG),
        ("/0", PingKind.SUCCESS),
        ("/3", PingKind.FAIL),
    ],
)
def test_slug_ping_suffixes(client, suffix, kind):
    check = CheckFactory(slug="backup")
    assert client.get(url(check.project, "backup", suffix)).status_code == 200
    assert Ping.objects.get(owner=check).kind == kind


def test_slug_ping_has_no_trailing_slash_form(client):
    check = CheckFactory(slug="backup")
    assert client.get(url(check.project, "backup", "/")).status_code == 404
    assert not Ping.objects.exists()


def test_slug_ping_with_exit_status_above_255_is_bad_request(client):
    check = CheckFactory(slug="backup", status=Status.UP)
    response = client.get(url(check.project, "backup", "/256"))
    assert (response.status_code, response.content) == (400, b"invalid url format")
    assert not Ping.objects.exists()


def test_unknown_slug_is_not_found(client):
    check = CheckFactory(slug="backup")
    response = client.get(url(check.project, "restore"))
    assert (response.status_code, response.content) == (404, b"not found")


def test_wrong_ping_key_is_not_found(client):
    CheckFactory(slug="backup")
    response = client.get("/ping/abcdefghijklmnopqrstuv/backup")
    assert response.status_code == 404


def test_slug_of_other_project_is_not_found(client):
    CheckFactory(slug="backup")
    other = ProjectFactory()
    assert client.get(url(other, "backup")).status_code == 404


def test_uppercase_slug_is_bad_request(client):
    check = CheckFactory(slug="backup")
    response = client.get(url(check.project, "Backup"))
    assert (response.status_code, response.content) == (400, b"invalid url format")
    assert not Ping.objects.exists()


def test_slug_longer_than_column_is_bad_request(client):
    project = ProjectFactory()
    response = client.get(url(project, "a" * 101) + "?create=1")
    assert response.status_code == 400
    assert not Check.objects.exists()


def test_ambiguous_slug_is_conflict(client):
    check = CheckFactory(slug="backup")
    CheckFactory(slug="backup", project=check.project)
    response = client.get(url(check.project, "backup"))
    assert (response.status_code, response.content) == (409, b"ambiguous slug")
    assert not Ping.objects.exists()


def test_invalid_rid_on_slug_is_bad_request(client):
    check = CheckFactory(slug="backup")
    response = client.get(url(check.project, "backup") + "?rid=nope")
    assert (response.status_code, response.content) == (400, b"invalid uuid format")
    assert not Ping.objects.exists()


def test_invalid_rid_on_unknown_slug_is_not_found(client):
    project = ProjectFactory()
    assert client.get(url(project, "backup") + "?rid=nope").status_code == 404


def test_slug_ping_stays_in_query_budget(client, django_assert_num_queries):
    check = CheckFactory(slug="backup", status=Status.UP)
    # SAVEPOINT, SELECT check JOIN project ... FOR UPDATE, UPDATE, INSERT, RELEASE;
    # on PostgreSQL the UPDATE and INSERT are one statement string.
    with django_assert_num_queries(4 if connection.vendor == "postgresql" else 5):
        client.get(url(check.project, "backup"))


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_ambiguous_slug_in_two_round_trips_changes_nothing(client):
    first = CheckFactory(slug="backup", status=Status.UP)
    CheckFactory(project=first.project, slug="backup", status=Status.UP)
    assert client.get(url(first.project, "backup")).status_code == 409
    assert not Ping.objects.exists()
    # The transaction was ended: the connection answers the next ping.
    assert client.get(url(first.project, "other")).status_code == 404


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_create_after_a_two_round_trip_miss_creates_the_check(client):
    project = CheckFactory(slug="other").project
    response = client.get(url(project, "new-job") + "?create=1")
    assert response.status_code == 201
    assert Check.objects.get(project=project, slug="new-job").n_pings == 1


# --- ?create=1 -----------------------------------------------------------------------


def test_create_makes_check_and_answers_created(client):
    project = ProjectFactory()
    response = client.get(url(project, "db-backup") + "?create=1")
    assert (response.status_code, response.content) == (201, b"Created")
    assert response["Access-Control-Allow-Origin"] == "*"
    assert response["Ping-Body-Limit"] == "100000"
    check = Check.objects.get(project=project)
    assert (check.name, check.slug, check.status) == ("db-backup", "db-backup", "up")
    assert (check.kind, check.timeout, check.grace) == (
        Kind.SIMPLE,
        timedelta(days=1),
        timedelta(hours=1),
    )
    assert check.n_pings == 1


def test_create_assigns_all_project_channels(client):
    project = ProjectFactory()
    channels = {ChannelFactory(project=project).pk for _ in range(2)}
    ChannelFactory()  # another project's
    client.get(url(project, "db-backup") + "?create=1")
    check = Check.objects.get(project=project)
    assert set(check.channels.values_list("pk", flat=True)) == channels


def test_create_records_the_ping_action(client):
    project = ProjectFactory()
    client.get(url(project, "db-backup", "/fail") + "?create=1")
    check = Check.objects.get(project=project)
    assert check.status == Status.DOWN
    assert Ping.objects.get(owner=check).kind == PingKind.FAIL


def test_create_for_existing_slug_answers_ok(client):
    check = CheckFactory(slug="backup")
    response = client.get(url(check.project, "backup") + "?create=1")
    assert (response.status_code, response.content) == (200, b"OK")
    assert Check.objects.count() == 1


def test_create_is_off_without_the_parameter(client):
    project = ProjectFactory()
    assert client.get(url(project, "db-backup")).status_code == 404
    assert client.get(url(project, "db-backup") + "?create=0").status_code == 404
    assert not Check.objects.exists()


def test_create_with_unknown_ping_key_is_not_found(client):
    response = client.get("/ping/abcdefghijklmnopqrstuv/backup?create=1")
    assert response.status_code == 404
    assert not Check.objects.exists()


def test_create_is_refused_at_twice_the_check_limit(client):
    profile = ProfileFactory(check_limit=1)
    project = ProjectFactory(owner=profile.user)
    CheckFactory(project=ProjectFactory(owner=profile.user))
    CheckFactory(project=project)
    response = client.get(url(project, "one-too-many") + "?create=1")
    assert (response.status_code, response.content) == (404, b"not found")
    assert Check.objects.count() == 2


def test_create_is_allowed_below_twice_the_check_limit(client):
    profile = ProfileFactory(check_limit=1)
    project = ProjectFactory(owner=profile.user)
    CheckFactory(project=project)
    assert client.get(url(project, "second") + "?create=1").status_code == 201


def test_create_is_refused_for_retired_slug(client):
    project = ProjectFactory()
    RetiredSlug.objects.create(project=project, slug="i-0abc")
    response = client.get(url(project, "i-0abc") + "?create=1")
    assert response.status_code == 404
    assert not Check.objects.exists()


def test_retired_slug_of_other_project_does_not_block_create(client):
    project = ProjectFactory()
    RetiredSlug.objects.create(project=ProjectFactory(), slug="i-0abc")
    assert client.get(url(project, "i-0abc") + "?create=1").status_code == 201


def test_create_with_invalid_rid_creates_nothing(client):
    project = ProjectFactory()
    response = client.get(url(project, "db-backup") + "?create=1&rid=nope")
    assert (response.status_code, response.content) == (400, b"invalid uuid format")
    assert not Check.objects.exists()


def test_create_with_invalid_rid_when_refused_is_not_found(client):
    project = ProjectFactory()
    RetiredSlug.objects.create(project=project, slug="db-backup")
    response = client.get(url(project, "db-backup") + "?create=1&rid=nope")
    assert response.status_code == 404


def test_create_with_ambiguous_slug_is_conflict(client):
    check = CheckFactory(slug="backup")
    CheckFactory(slug="backup", project=check.project)
    response = client.get(url(check.project, "backup") + "?create=1")
    assert response.status_code == 409
    assert Check.objects.count() == 2


def test_create_with_rid_stores_run(client):
    project = ProjectFactory()
    client.get(url(project, "db-backup", "/start") + f"?create=1&rid={RID}")
    check = Check.objects.get(project=project)
    assert str(check.last_start_rid) == RID
