"""CSRF, headers, cookies: the dashboard's defences."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from checks import services
from tests.dashboard.test_permissions import VIEWS
from tests.factories import MemberFactory, ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db

ACCOUNT_POSTS = [
    "/accounts/profile/",
    "/accounts/profile/password/",
    "/accounts/profile/email/",
    "/accounts/close/",
    "/accounts/logout/",
    "/projects/add/",
]


@pytest.fixture
def csrf_client():
    return Client(enforce_csrf_checks=True)


@pytest.mark.parametrize("path", ["/accounts/login/", "/accounts/signup/"])
def test_anonymous_forms_need_csrf_token(csrf_client, path):
    response = csrf_client.post(path, {"email": "a@example.org", "password": "x"})
    assert response.status_code == 403


@pytest.mark.parametrize("path", ACCOUNT_POSTS)
def test_account_forms_need_csrf_token(csrf_client, path):
    csrf_client.force_login(UserFactory())
    assert csrf_client.post(path, {}).status_code == 403


@pytest.mark.parametrize(
    "path", [path for method, path, _ in VIEWS if method == "post"]
)
def test_project_forms_need_csrf_token(csrf_client, path):
    project = ProjectFactory()
    member = MemberFactory(project=project)
    key, _ = services.create_api_key(project=project, name="k", read_only=False)
    csrf_client.force_login(project.owner)
    url = f"/projects/{project.code}/" + path.format(member=member.pk, key=key.pk)
    assert csrf_client.post(url, {"name": "x"}).status_code == 403


def test_login_link_confirmation_needs_csrf_token(csrf_client):
    response = csrf_client.post("/accounts/check_token/MQ/x:y:z/")
    assert response.status_code == 403


def test_every_post_form_in_templates_carries_csrf_token():
    root = Path(settings.BASE_DIR)
    forms = []
    for template in root.glob("*/templates/**/*.html"):
        text = template.read_text()
        for match in re.finditer(
            r"<form[^>]*method=\"post\"[^>]*>(.*?)</form>", text, re.S
        ):
            forms.append((template.name, "{% csrf_token %}" in match.group(1)))
    assert forms
    assert [name for name, ok in forms if not ok] == []


def test_pages_forbid_framing_and_sniffing(client):
    response = client.get("/accounts/login/")
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


def test_pages_carry_a_content_security_policy(client):
    policy = client.get("/accounts/login/")["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy


def test_pages_have_no_inline_scripts(client):
    body = client.get("/accounts/login/").content.decode()
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", body) == []


def test_session_cookie_is_http_only(client):
    user = UserFactory(email="a@example.org")
    response = client.post(
        "/accounts/login/", {"email": user.email, "password": "password"}
    )
    assert response.cookies[settings.SESSION_COOKIE_NAME]["httponly"]


def _settings_with(site_root: str) -> str:
    env = {**os.environ, "SITE_ROOT": site_root, "SECRET_KEY": "x"}
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE)"
    )
    result = subprocess.run(  # noqa: S603 - our own interpreter, fixed code
        [sys.executable, "-c", code],
        env={**env, "DJANGO_SETTINGS_MODULE": "hcserver.settings"},
        capture_output=True,
        text=True,
        check=True,
        cwd=settings.BASE_DIR,
    )
    return result.stdout.strip()


def test_cookies_are_secure_when_site_is_https():
    assert _settings_with("https://hc.example.org") == "True True"


def test_cookies_are_not_secure_on_plain_http_laptop():
    assert _settings_with("http://127.0.0.1:8000") == "False False"
