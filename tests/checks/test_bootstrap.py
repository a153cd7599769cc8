"""`manage.py bootstrap`: first account, project and keys; idempotent; --json."""

import json
from io import StringIO
from urllib.parse import urlsplit

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command

from checks import services
from checks.models import ApiKey, Profile, Project

pytestmark = pytest.mark.django_db

JSON_KEYS = ["email", "project", "api_key", "api_key_readonly", "ping_key", "login_url"]


def bootstrap(*args: str) -> str:
    out = StringIO()
    call_command("bootstrap", *args, stdout=out)
    return out.getvalue()


def bootstrap_json(*args: str) -> dict:
    return json.loads(bootstrap("--json", *args))


def test_json_output_is_exactly_one_object_with_the_documented_keys():
    out = bootstrap("--json")
    assert out.count("\n") == 1
    assert list(json.loads(out)) == JSON_KEYS


def test_first_run_creates_user_project_and_keys():
    result = bootstrap_json("--email", "Ops@Example.org", "--project", "Ops")
    user = User.objects.get()
    assert (user.email, result["email"]) == ("ops@example.org", "ops@example.org")
    project = Project.objects.get(owner=user)
    assert (project.name, result["project"]) == ("Ops", "Ops")
    assert result["ping_key"] == project.ping_key
    assert len(project.ping_key) == 22
    assert Profile.objects.filter(user=user).exists()


def test_created_keys_work_and_have_the_right_access():
    result = bootstrap_json()
    rw = services.find_api_key(result["api_key"])
    ro = services.find_api_key(result["api_key_readonly"])
    assert (rw.read_only, ro.read_only) == (False, True)
    assert rw.project == ro.project == Project.objects.get()


def test_login_url_is_a_one_time_link_under_site_root(settings):
    settings.SITE_ROOT = "https://hc.example.org"
    login_url = bootstrap_json()["login_url"]
    assert login_url.startswith("https://hc.example.org/accounts/check_token/")


def test_login_url_logs_the_user_in_once(client):
    path = urlsplit(bootstrap_json("--email", "ops@example.org")["login_url"]).path
    first = client.post(path)
    client.logout()
    second = client.post(path)
    assert first.status_code == 302
    assert second.status_code == 400


def test_rerun_replaces_the_previous_login_link(client):
    old = urlsplit(bootstrap_json()["login_url"]).path
    bootstrap_json()
    assert client.post(old).status_code == 400


def test_rerun_reuses_everything_and_shows_no_keys():
    first = bootstrap_json()
    second = bootstrap_json()
    assert (second["api_key"], second["api_key_readonly"]) == (None, None)
    assert second["ping_key"] == first["ping_key"]
    assert (User.objects.count(), Project.objects.count(), ApiKey.objects.count()) == (
        1,
        1,
        2,
    )
    assert services.find_api_key(first["api_key"]) is not None


def test_rotate_keys_makes_new_keys_and_revokes_old_ones():
    first = bootstrap_json()
    rotated = bootstrap_json("--rotate-keys")
    assert rotated["api_key"] not in (None, first["api_key"])
    assert rotated["api_key_readonly"] not in (None, first["api_key_readonly"])
    assert services.find_api_key(first["api_key"]) is None
    assert services.find_api_key(first["api_key_readonly"]) is None
    assert services.find_api_key(rotated["api_key"]) is not None
    assert ApiKey.objects.count() == 2


def test_rotate_keys_keeps_the_ping_key():
    first = bootstrap_json()
    assert bootstrap_json("--rotate-keys")["ping_key"] == first["ping_key"]


def test_rotate_keys_leaves_other_keys_alone():
    first = bootstrap_json()
    project = Project.objects.get()
    _, other = services.create_api_key(project=project, name="ci", read_only=False)
    bootstrap_json("--rotate-keys")
    assert services.find_api_key(other) is not None
    assert services.find_api_key(first["api_key"]) is None


def test_other_project_name_makes_a_second_project_for_the_user():
    bootstrap_json()
    result = bootstrap_json("--project", "Second")
    assert result["api_key"] is not None
    assert Project.objects.count() == 2
    assert User.objects.count() == 1


def test_project_without_ping_key_gets_one():
    bootstrap_json()
    Project.objects.update(ping_key=None)
    assert len(bootstrap_json()["ping_key"]) == 22


def test_first_run_prints_password_and_keys_for_people():
    out = bootstrap("--email", "ops@example.org")
    assert "Log in at http://127.0.0.1:8000/accounts/login/ as ops@example.org" in out
    assert "password:" in out
    key = next(line for line in out.splitlines() if "  API key:" in line)
    assert services.find_api_key(key.split()[2]) is not None


def test_password_is_not_printed_again():
    bootstrap()
    out = bootstrap()
    assert "password:" not in out
    assert "already created" in out


def test_printed_password_logs_in(client):
    out = bootstrap("--email", "ops@example.org")
    password = next(line for line in out.splitlines() if "password:" in line).split()[1]
    assert client.login(username="ops@example.org", password=password)


def test_invalid_email_is_refused():
    with pytest.raises(CommandError, match="is not an email address"):
        bootstrap("--email", "not an email")
    assert not User.objects.exists()


def test_empty_project_name_is_refused():
    with pytest.raises(CommandError, match="--project"):
        bootstrap("--project", " ")
