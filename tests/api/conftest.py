"""API test helpers: a project with keys, and a client speaking the API's dialect."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from checks.models import Project
from tests.factories import ProjectFactory, api_key_for


class Api:
    """Calls /api/v<N>/... with an X-Api-Key header (or none)."""

    def __init__(self, client: Client, key: str | None, v: int = 3) -> None:
        self.client = client
        self.key = key
        self.v = v

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        key: str | None = "",
        v: int | None = None,
        raw: bytes | str | None = None,
        content_type: str = "application/json",
        headers: dict[str, str] | None = None,
    ) -> Any:
        all_headers = dict(headers or {})
        key = self.key if key == "" else key
        if key is not None:
            all_headers["X-Api-Key"] = key
        data: bytes | str = b""
        if raw is not None:
            data = raw
        elif body is not None:
            data = json.dumps(body)
        url = f"/api/v{v or self.v}/{path}"
        return self.client.generic(
            method, url, data, content_type=content_type, headers=all_headers
        )

    def get(self, path: str, **kw: Any) -> Any:
        return self.call("GET", path, **kw)

    def post(self, path: str, body: Any = None, **kw: Any) -> Any:
        return self.call("POST", path, body, **kw)

    def delete(self, path: str, **kw: Any) -> Any:
        return self.call("DELETE", path, **kw)


@pytest.fixture(autouse=True)
def fast_password_hashing(settings) -> None:
    # UserFactory hashes a password per project; PBKDF2 would cost ~0.7 s a test.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def project(db) -> Project:
    return ProjectFactory()


@pytest.fixture
def rw_key(project: Project) -> str:
    return api_key_for(project)


@pytest.fixture
def ro_key(project: Project) -> str:
    return api_key_for(project, read_only=True)


@pytest.fixture
def api(client: Client, rw_key: str) -> Api:
    """The project's read-write key, API v3."""
    return Api(client, rw_key)


@pytest.fixture
def ro_api(client: Client, ro_key: str) -> Api:
    return Api(client, ro_key)
