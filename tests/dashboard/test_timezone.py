"""Dashboard times are shown in the signed-in user's time zone."""

from datetime import UTC, datetime

from checks.models import Flip, Profile, Status
from tests.factories import CheckFactory

FLIP_AT = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)


def _details(client, team, tz: str | None) -> str:
    if tz is not None:
        Profile.objects.update_or_create(user=team.owner, defaults={"tz": tz})
    check = CheckFactory(project=team.project, status=Status.UP)
    Flip.objects.create(owner=check, created=FLIP_AT, old_status="new", new_status="up")
    client.force_login(team.owner)
    return client.get(f"/checks/{check.code}/details/").content.decode()


def test_check_page_shows_times_in_the_profile_time_zone(client, team):
    body = _details(client, team, "Europe/Riga")
    assert "2026-01-15 14:00:00 EET" in body


def test_check_page_shows_utc_without_a_profile_time_zone(client, team):
    body = _details(client, team, None)
    assert "2026-01-15 12:00:00 UTC" in body
