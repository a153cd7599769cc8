"""Badges: `badges/` URLs and the public badge images (spec 4.6.13)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from checks import badges
from checks.models import Status
from tests.factories import CheckFactory

pytestmark = pytest.mark.django_db


def local(url: str) -> str:
    return url.split("://", 1)[1].split("/", 1)[1].join(["/", ""])


def late(project, tags=""):
    last = timezone.now() - timedelta(days=1, minutes=5)
    return CheckFactory(project=project, status=Status.UP, last_ping=last, tags=tags)


def test_badges_lists_every_tag_and_star(api, project):
    CheckFactory(project=project, tags="db prod")
    CheckFactory(project=project, tags="prod")
    data = api.get("badges/").json()["badges"]
    assert list(data) == ["db", "prod", "*"]
    assert list(data["db"]) == ["svg", "svg3", "json", "json3", "shields", "shields3"]


def test_badge_urls_are_signed_per_tag(project):
    sig = badges.badge_signature(project.badge_key, "prod")
    assert badges.badge_url(project.badge_key, "prod", "json").endswith(
        f"/badge/{project.badge_key}/{sig}-2/prod.json"
    )


def test_three_state_url_has_no_suffix(project):
    sig = badges.badge_signature(project.badge_key, "*")
    assert badges.badge_url(project.badge_key, "*", "svg", with_late=True).endswith(
        f"/badge/{project.badge_key}/{sig}.svg"
    )


def test_tag_badge_json_counts_checks(client: Client, project):
    CheckFactory(project=project, tags="prod", status=Status.DOWN)
    CheckFactory(project=project, tags="prod")
    CheckFactory(project=project, tags="other", status=Status.DOWN)
    url = local(badges.badge_url(project.badge_key, "prod", "json"))
    assert client.get(url).json() == {
        "status": "down",
        "total": 2,
        "grace": 0,
        "down": 1,
    }


def test_two_state_badge_shows_late_as_up(client, project):
    late(project)
    url = local(badges.badge_url(project.badge_key, "*", "json"))
    assert client.get(url).json()["status"] == "up"


def test_three_state_badge_shows_late(client, project):
    late(project)
    url = local(badges.badge_url(project.badge_key, "*", "json", with_late=True))
    assert client.get(url).json() == {
        "status": "late",
        "total": 1,
        "grace": 1,
        "down": 0,
    }


def test_shields_badge(client, project, settings):
    settings.MASTER_BADGE_LABEL = "Acme"
    CheckFactory(project=project, status=Status.DOWN)
    url = local(badges.badge_url(project.badge_key, "*", "shields"))
    assert client.get(url).json() == {
        "schemaVersion": 1, "label": "Acme", "message": "down", "color": "critical",
    }  # fmt: skip


def test_svg_badge(client, project):
    CheckFactory(project=project, tags="prod")
    response = client.get(local(badges.badge_url(project.badge_key, "prod")))
    assert response["Content-Type"] == "image/svg+xml"
    assert b">prod</text>" in response.content
    assert b">up</text>" in response.content


def test_badge_tag_with_odd_characters_round_trips(client, project):
    CheckFactory(project=project, tags="a/b<c>", status=Status.DOWN)
    response = client.get(local(badges.badge_url(project.badge_key, "a/b<c>", "svg")))
    assert b"a/b&lt;c&gt;" in response.content


def test_badge_with_wrong_signature_is_404(client, project):
    assert (
        client.get(f"/badge/{project.badge_key}/AAAAAAAA/prod.svg").status_code == 404
    )


def test_badge_signature_of_another_tag_is_404(client, project):
    sig = badges.badge_signature(project.badge_key, "other")
    assert client.get(f"/badge/{project.badge_key}/{sig}/prod.svg").status_code == 404


def test_badge_with_unknown_format_is_404(client, project):
    sig = badges.badge_signature(project.badge_key, "prod")
    assert client.get(f"/badge/{project.badge_key}/{sig}/prod.png").status_code == 404


def test_badges_are_not_cached_and_allow_cors(client, project):
    response = client.get(local(badges.badge_url(project.badge_key, "*")))
    assert "no-cache" in response["Cache-Control"]
    assert response["Access-Control-Allow-Origin"] == "*"


def test_badge_options_is_204(client, project):
    url = local(badges.badge_url(project.badge_key, "*"))
    assert client.options(url).status_code == 204


def test_check_badge_labelled_by_name(client, project):
    check = CheckFactory(project=project, name="backup", status=Status.DOWN)
    data = client.get(f"/b/2/{check.badge_key}.shields").json()
    assert (data["label"], data["message"]) == ("backup", "down")


def test_check_badge_json_total_is_one(client, project):
    check = late(project)
    data = client.get(f"/b/3/{check.badge_key}.json").json()
    assert data == {"status": "late", "total": 1, "grace": 1, "down": 0}


def test_check_badge_unknown_key_is_404(client):
    assert (
        client.get("/b/2/07c2f548-9850-4b27-af5d-6c9dc157ec02.svg").status_code == 404
    )


def test_check_badge_url_helper_matches_api_badge_url(api, project):
    check = CheckFactory(project=project)
    assert api.get(f"checks/{check.code}").json()[
        "badge_url"
    ] == badges.check_badge_url(check)
