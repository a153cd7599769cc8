"""Checks views tried by a stranger (404), a reader (403 on writes), anonymously."""

from dataclasses import dataclass

import pytest

from checks.models import Channel, Check, Notification, Ping
from tests.factories import ChannelFactory, CheckFactory

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class View:
    method: str
    url: str  # formatted with project=, check=
    write: bool


VIEWS = [
    View("get", "/projects/{project}/checks/", write=False),
    View("get", "/projects/{project}/checks/status/", write=False),
    View("post", "/projects/{project}/checks/add/", write=True),
    View("get", "/checks/{check}/details/", write=False),
    View("post", "/checks/{check}/name/", write=True),
    View("post", "/checks/{check}/schedule/", write=True),
    View("post", "/checks/{check}/ping_handling/", write=True),
    View("post", "/checks/{check}/pause/", write=True),
    View("post", "/checks/{check}/resume/", write=True),
    View("get", "/checks/{check}/delete/", write=True),
    View("post", "/checks/{check}/delete/", write=True),
    View("post", "/checks/{check}/channels/", write=True),
    View("get", "/checks/{check}/pings/1/body/", write=False),
    View("get", "/projects/{project}/integrations/", write=False),
    View("get", "/projects/{project}/badges/", write=False),
    View("get", "/projects/{project}/integrations/add/webhook/", write=True),
    View("post", "/projects/{project}/integrations/add/webhook/", write=True),
    View("get", "/integrations/{channel}/edit/", write=True),
    View("post", "/integrations/{channel}/edit/", write=True),
    View("post", "/integrations/{channel}/test/", write=True),
    View("get", "/integrations/{channel}/remove/", write=True),
    View("post", "/integrations/{channel}/remove/", write=True),
]
IDS = [f"{v.method} {v.url}" for v in VIEWS]


@pytest.fixture
def check(team):
    check = CheckFactory(project=team.project, name="mine", n_pings=1)
    Ping.objects.create(owner=check, n=1, created=check.created, body=b"log")
    ChannelFactory(project=team.project, name="mine")
    return check


def _call(client, view, team, check):
    channel = Channel.objects.get(project=team.project)
    url = view.url.format(
        project=team.project.code, check=check.code, channel=channel.code
    )
    data = {
        "name": "changed",
        "cfg_url_down": "https://example.org",
        "cfg_method_down": "POST",
        "cfg_method_up": "POST",
        "kind": "simple",
        "timeout_value": "1",
        "timeout_unit": "3600",
        "grace_value": "1",
        "grace_unit": "3600",
    }
    if view.method == "post":
        return client.post(url, data)
    return client.get(url)


def _assert_unchanged(team, check):
    check.refresh_from_db()
    assert check.name == "mine"
    assert Check.objects.filter(project=team.project).count() == 1
    assert [c.name for c in Channel.objects.filter(project=team.project)] == ["mine"]
    assert not Notification.objects.exists()


@pytest.mark.parametrize("view", VIEWS, ids=IDS)
def test_stranger_gets_not_found(client, team, check, view):
    client.force_login(team.stranger)
    assert _call(client, view, team, check).status_code == 404
    _assert_unchanged(team, check)


@pytest.mark.parametrize(
    "view",
    [v for v in VIEWS if v.write],
    ids=[i for v, i in zip(VIEWS, IDS, strict=True) if v.write],
)
def test_read_only_member_cannot_write(client, team, check, view):
    client.force_login(team.reader)
    assert _call(client, view, team, check).status_code == 403
    _assert_unchanged(team, check)


@pytest.mark.parametrize(
    "view",
    [v for v in VIEWS if not v.write],
    ids=[i for v, i in zip(VIEWS, IDS, strict=True) if not v.write],
)
def test_read_only_member_can_read(client, team, check, view):
    client.force_login(team.reader)
    assert _call(client, view, team, check).status_code == 200


@pytest.mark.parametrize("view", VIEWS, ids=IDS)
def test_anonymous_is_sent_to_login(client, team, check, view):
    response = _call(client, view, team, check)
    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/?next=")


@pytest.mark.parametrize(
    "view",
    [v for v in VIEWS if v.method == "post"],
    ids=[i for v, i in zip(VIEWS, IDS, strict=True) if v.method == "post"],
)
def test_writes_need_csrf_token(team, check, view):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(team.owner)
    assert _call(client, view, team, check).status_code == 403
