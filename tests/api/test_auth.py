"""Every endpoint, every version, and rw, read-only, missing, wrong, other keys."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.utils import timezone

from checks.models import ApiKey, Check, Ping, Status
from tests.api.conftest import Api
from tests.factories import ChannelFactory, CheckFactory, ProjectFactory, api_key_for

pytestmark = pytest.mark.django_db

VERSIONS = [1, 2, 3]
WELL_FORMED_UNKNOWN_KEY = "hcw_" + "A" * 28


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str  # {code} and {unique_key} are filled in with the test check's
    ok: int
    read: bool  # read-only keys allowed
    per_check: bool = True

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


ENDPOINTS = [
    Endpoint("GET", "checks/", 200, read=True, per_check=False),
    Endpoint("POST", "checks/", 201, read=False, per_check=False),
    Endpoint("GET", "checks/{code}", 200, read=True),
    Endpoint("GET", "checks/{unique_key}", 200, read=True),
    Endpoint("POST", "checks/{code}", 200, read=False),
    Endpoint("DELETE", "checks/{code}", 200, read=False),
    Endpoint("POST", "checks/{code}/pause", 200, read=False),
    Endpoint("POST", "checks/{code}/resume", 200, read=False),
    Endpoint("GET", "checks/{code}/pings/", 200, read=False),
    Endpoint("GET", "checks/{code}/pings/1/body", 200, read=False),
    Endpoint("GET", "checks/{code}/flips/", 200, read=True),
    Endpoint("GET", "checks/{unique_key}/flips/", 200, read=True),
    Endpoint("GET", "channels/", 200, read=False, per_check=False),
    Endpoint("GET", "badges/", 200, read=True, per_check=False),
]
READ = [e for e in ENDPOINTS if e.read]
WRITE = [e for e in ENDPOINTS if not e.read]
BY_UUID = [e for e in ENDPOINTS if e.per_check and "{code}" in e.path]
BY_UNIQUE_KEY = [e for e in ENDPOINTS if "{unique_key}" in e.path]


@pytest.fixture
def check(project) -> Check:
    check = CheckFactory(project=project, tags="prod", status=Status.PAUSED, n_pings=1)
    Ping.objects.create(owner=check, n=1, created=timezone.now(), body=b"hello")
    ChannelFactory(project=project)
    return check


def call(api: Api, endpoint: Endpoint, check: Check, v: int, **kw):
    path = endpoint.path.format(code=check.code, unique_key=check.unique_key)
    body = {"name": "x"} if endpoint.method == "POST" else None
    return api.call(endpoint.method, path, body, v=v, **kw)


@pytest.mark.parametrize("v", VERSIONS)
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=str)
def test_rw_key_is_accepted(api, check, endpoint, v):
    assert call(api, endpoint, check, v).status_code == endpoint.ok


@pytest.mark.parametrize("v", VERSIONS)
@pytest.mark.parametrize("endpoint", READ, ids=str)
def test_read_only_key_may_read(ro_api, check, endpoint, v):
    assert call(ro_api, endpoint, check, v).status_code == 200


@pytest.mark.parametrize("v", VERSIONS)
@pytest.mark.parametrize("endpoint", WRITE, ids=str)
def test_read_only_key_is_a_wrong_key_where_writing(ro_api, check, endpoint, v):
    response = call(ro_api, endpoint, check, v)
    assert response.status_code == 401
    assert response.json() == {"error": "wrong api key"}


@pytest.mark.parametrize("v", VERSIONS)
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=str)
def test_missing_key_is_401(api, check, endpoint, v):
    response = call(api, endpoint, check, v, key=None)
    assert response.status_code == 401
    assert response.json() == {"error": "missing api key"}


@pytest.mark.parametrize("v", VERSIONS)
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=str)
def test_unknown_key_is_401(api, check, endpoint, v):
    response = call(api, endpoint, check, v, key=WELL_FORMED_UNKNOWN_KEY)
    assert response.status_code == 401
    assert response.json() == {"error": "wrong api key"}


@pytest.mark.parametrize("v", VERSIONS)
@pytest.mark.parametrize("endpoint", BY_UUID, ids=str)
def test_other_projects_key_gets_empty_403_for_a_check(client, check, endpoint, v):
    other = Api(client, api_key_for(ProjectFactory()))
    response = call(other, endpoint, check, v)
    assert response.status_code == 403
    assert response.content == b""


@pytest.mark.parametrize("v", VERSIONS)
@pytest.mark.parametrize("endpoint", BY_UNIQUE_KEY, ids=str)
def test_other_projects_key_does_not_find_a_unique_key(client, check, endpoint, v):
    other = Api(client, api_key_for(ProjectFactory(), read_only=True))
    response = call(other, endpoint, check, v)
    assert response.status_code == 404
    assert response.content == b""


@pytest.mark.parametrize("v", VERSIONS)
def test_other_projects_key_lists_only_its_own_checks(client, check, v):
    other_project = ProjectFactory()
    CheckFactory(project=other_project, name="theirs")
    other = Api(client, api_key_for(other_project))
    names = [c["name"] for c in other.get("checks/", v=v).json()["checks"]]
    assert names == ["theirs"]


def test_other_projects_key_lists_only_its_own_channels(client, check):
    other = Api(client, api_key_for(ProjectFactory()))
    assert other.get("channels/").json() == {"channels": []}


def test_other_projects_key_lists_only_its_own_badges(client, check):
    other = Api(client, api_key_for(ProjectFactory()))
    assert list(other.get("badges/").json()["badges"]) == ["*"]


def test_other_projects_key_cannot_change_a_check(client, check):
    other = Api(client, api_key_for(ProjectFactory()))
    other.post(f"checks/{check.code}", {"name": "stolen"})
    check.refresh_from_db()
    assert check.name != "stolen"


def test_key_in_json_body_is_accepted_on_post(api, rw_key):
    response = api.post("checks/", {"api_key": rw_key, "name": "x"}, key=None)
    assert response.status_code == 201


def test_key_in_json_body_is_ignored_on_get(api, rw_key):
    response = api.get("checks/", key=None, raw=f'{{"api_key": "{rw_key}"}}')
    assert response.status_code == 401


def test_key_in_json_body_is_ignored_on_delete(api, rw_key, check):
    response = api.delete(f"checks/{check.code}", key=None, body={"api_key": rw_key})
    assert response.json() == {"error": "missing api key"}


def test_read_only_key_in_body_of_create_is_401(api, ro_key):
    response = api.post("checks/", {"api_key": ro_key}, key=None)
    assert response.status_code == 401
    assert response.json() == {"error": "wrong api key"}


def test_non_string_key_in_body_is_missing(api):
    response = api.post("checks/", {"api_key": 12345}, key=None)
    assert response.json() == {"error": "missing api key"}


def test_empty_post_without_key_is_401(api):
    response = api.post("checks/", key=None)
    assert response.status_code == 401
    assert response.json() == {"error": "missing api key"}


def test_bad_json_is_reported_before_a_missing_key(api):
    response = api.post("checks/", key=None, raw="this is not json")
    assert response.status_code == 400
    assert response.json() == {"error": "could not parse request body"}


def test_bad_json_is_400_even_with_a_key_in_the_header(api, project):
    check = CheckFactory(project=project)
    response = api.post(f"checks/{check.code}/pause", raw="[1, 2")
    assert response.status_code == 400
    assert response.json() == {"error": "could not parse request body"}


def test_key_of_wrong_length_is_missing(api):
    response = api.get("checks/", key="hcw_short")
    assert response.json() == {"error": "missing api key"}


def test_key_with_odd_characters_is_wrong_without_a_lookup(
    api, django_assert_num_queries
):
    with django_assert_num_queries(0):
        response = api.get("checks/", key="hcw_" + "\u00e9" * 28)
    assert response.json() == {"error": "wrong api key"}


def test_401_keeps_its_status_and_names_the_header(api):
    response = api.get("checks/", key=None)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "X-Api-Key"


def test_using_a_key_records_last_used(api, project):
    api.get("checks/")
    assert ApiKey.objects.get(project=project, read_only=False).last_used is not None


def test_last_used_is_not_rewritten_on_every_request(
    api, project, django_assert_num_queries
):
    api.get("checks/")
    # key lookup, checks, channels: no UPDATE of last_used the second time
    with django_assert_num_queries(3):
        api.get("checks/")


def test_last_used_is_refreshed_after_a_while(api, project):
    key = ApiKey.objects.get(project=project, read_only=False)
    ApiKey.objects.filter(pk=key.pk).update(
        last_used=timezone.now() - timedelta(hours=1)
    )
    api.get("checks/")
    key.refresh_from_db()
    assert timezone.now() - key.last_used < timedelta(minutes=1)
