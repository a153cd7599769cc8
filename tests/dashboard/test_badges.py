"""Badges page (issue 5 item 7)."""

import pytest

from checks import badges
from tests.factories import CheckFactory

pytestmark = pytest.mark.django_db


def _page(client, team):
    client.force_login(team.reader)
    return client.get(f"/projects/{team.project.code}/badges/")


def test_badges_page_lists_every_format_for_project_and_each_tag(client, team):
    CheckFactory(project=team.project, tags="prod db")
    body = _page(client, team).content.decode()
    for tag in ("*", "prod", "db"):
        for url in badges.badge_urls(team.project.badge_key, tag).values():
            assert url in body


def test_badges_page_lists_single_check_badges(client, team):
    check = CheckFactory(project=team.project, name="solo")
    body = _page(client, team).content.decode()
    assert badges.check_badge_url(check, "json", 3) in body
    assert badges.check_badge_url(check, "shields", 2) in body


def test_badges_page_shows_prometheus_endpoint(client, team):
    body = _page(client, team).content.decode()
    assert f"/projects/{team.project.code}/metrics/" in body


def test_listed_badge_url_serves_the_badge(client, team):
    CheckFactory(project=team.project, tags="prod")
    url = badges.badge_urls(team.project.badge_key, "prod")["json3"]
    path = url.split("://", 1)[1].split("/", 1)[1]
    response = client.get(f"/{path}")
    assert response.status_code == 200
    assert response.json()["total"] == 1


def test_badges_page_of_other_project_is_not_found(client, team):
    client.force_login(team.stranger)
    assert client.get(f"/projects/{team.project.code}/badges/").status_code == 404
