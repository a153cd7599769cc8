"""Listing checks costs the same number of queries for 1 or 1,000 checks."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from checks.models import Channel, Check
from tests.factories import ChannelFactory

pytestmark = pytest.mark.django_db


def make_checks(project, count: int, channels: list[Channel]) -> None:
    Check.objects.bulk_create(
        Check(project=project, name=f"c{i}", tags="prod") for i in range(count)
    )
    through = Channel.checks.through
    through.objects.bulk_create(
        through(check_id=check_id, channel_id=channel.pk)
        for check_id in Check.objects.filter(project=project).values_list(
            "id", flat=True
        )
        for channel in channels
    )


def list_queries(api, path: str = "checks/") -> int:
    api.get(path)  # warm-up: records last_used once
    with CaptureQueriesContext(connection) as ctx:
        response = api.get(path)
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("count", [1, 1000])
def test_listing_checks_with_channels_costs_four_queries(api, project, count):
    make_checks(project, count, [ChannelFactory(project=project) for _ in range(2)])
    # API key, checks, the project's channels, channel links
    assert list_queries(api) == 4


@pytest.mark.parametrize("count", [1, 1000])
def test_listing_checks_by_tag_costs_four_queries(api, project, count):
    make_checks(project, count, [ChannelFactory(project=project)])
    assert list_queries(api, "checks/?tag=prod&tag=x") == 4


@pytest.mark.parametrize("count", [1, 1000])
def test_listing_with_read_only_key_costs_two_queries(ro_api, project, count):
    make_checks(project, count, [ChannelFactory(project=project)])
    # API key, checks: read-only keys do not see channels
    assert list_queries(ro_api) == 2


def test_list_of_1000_checks_shows_every_channel(api, project):
    channels = [ChannelFactory(project=project) for _ in range(2)]
    make_checks(project, 1000, channels)
    listed = api.get("checks/").json()["checks"]
    expected = ",".join(sorted(str(c.code) for c in channels))
    assert len(listed) == 1000
    assert {c["channels"] for c in listed} == {expected}
