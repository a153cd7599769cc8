"""`channels/` and the `channels` field of create/update (spec 4.6.12, 4.7)."""

from __future__ import annotations

import pytest

from checks.models import Check
from tests.factories import ChannelFactory, CheckFactory

pytestmark = pytest.mark.django_db


def assigned(check: Check) -> set[str]:
    return {c.name for c in check.channels.all()}


def test_list_channels(api, project):
    channel = ChannelFactory(project=project, name="ops", kind="email")
    assert api.get("channels/").json() == {
        "channels": [{"id": str(channel.code), "name": "ops", "kind": "email"}]
    }


def test_star_assigns_every_channel(api, project):
    ChannelFactory(project=project, name="a")
    ChannelFactory(project=project, name="b")
    api.post("checks/", {"channels": "*"})
    assert assigned(Check.objects.get()) == {"a", "b"}


def test_channels_by_uuid(api, project):
    channel = ChannelFactory(project=project, name="a")
    ChannelFactory(project=project, name="b")
    api.post("checks/", {"channels": str(channel.code)})
    assert assigned(Check.objects.get()) == {"a"}


def test_channels_by_name(api, project):
    ChannelFactory(project=project, name="a")
    ChannelFactory(project=project, name="b")
    api.post("checks/", {"channels": "a,b"})
    assert assigned(Check.objects.get()) == {"a", "b"}


def test_channel_named_like_a_uuid_is_found_by_name(api, project):
    name = "6f1a2b3c-0000-4000-8000-000000000000"
    ChannelFactory(project=project, name=name)
    api.post("checks/", {"channels": name})
    assert assigned(Check.objects.get()) == {name}


def test_empty_string_unassigns_all(api, project):
    check = CheckFactory(project=project)
    check.channels.add(ChannelFactory(project=project))
    api.post(f"checks/{check.code}", {"channels": ""})
    assert assigned(check) == set()


def test_absent_channels_leave_assignment_alone(api, project):
    check = CheckFactory(project=project)
    check.channels.add(ChannelFactory(project=project, name="kept"))
    api.post(f"checks/{check.code}", {"name": "renamed"})
    assert assigned(check) == {"kept"}


def test_unknown_channel_is_rejected(api, project):
    response = api.post("checks/", {"channels": "nope"})
    assert response.json() == {"error": "invalid channel identifier: nope"}


def test_other_projects_channel_is_unknown(api, project):
    theirs = ChannelFactory()
    response = api.post("checks/", {"channels": str(theirs.code)})
    assert response.json() == {"error": f"invalid channel identifier: {theirs.code}"}


def test_ambiguous_channel_name_is_rejected(api, project):
    ChannelFactory(project=project, name="foo")
    ChannelFactory(project=project, name="foo")
    response = api.post("checks/", {"channels": "foo"})
    assert response.json() == {"error": "non-unique channel identifier: foo"}


@pytest.mark.parametrize("value", [",", "a,,a", "a,"])
def test_empty_item_is_rejected(api, project, value):
    ChannelFactory(project=project, name="a")
    response = api.post("checks/", {"channels": value})
    assert response.json() == {"error": "empty channel identifier"}


def test_bad_channels_on_create_leave_no_check(api, project):
    response = api.post("checks/", {"name": "x", "channels": "nope"})
    assert response.status_code == 400
    assert not Check.objects.exists()


def test_bad_channels_on_update_change_nothing(api, project):
    check = CheckFactory(project=project, name="before")
    api.post(f"checks/{check.code}", {"name": "after", "channels": "nope"})
    check.refresh_from_db()
    assert check.name == "before"


def test_bad_channels_on_upsert_change_nothing(api, project):
    CheckFactory(project=project, name="x", desc="before")
    api.post(
        "checks/",
        {"name": "x", "desc": "after", "channels": "nope", "unique": ["name"]},
    )
    assert Check.objects.get().desc == "before"
