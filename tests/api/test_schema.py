"""The OpenAPI schema and its browsable page."""

from __future__ import annotations

import re

import pytest
from drf_spectacular.generators import SchemaGenerator

pytestmark = pytest.mark.django_db


def test_schema_is_served_as_json(client):
    response = client.get("/api/v3/schema/?format=json")
    assert response.status_code == 200
    assert response.json()["openapi"].startswith("3.")


def test_served_schema_is_the_one_fuzzed(client):
    served = client.get("/api/v3/schema/?format=json").json()
    generated = SchemaGenerator().get_schema(request=None, public=True)
    assert served["paths"].keys() == generated["paths"].keys()


def test_schema_describes_all_three_versions(client):
    paths = client.get("/api/v3/schema/?format=json").json()["paths"]
    assert {"/api/v1/checks/", "/api/v2/checks/", "/api/v3/checks/"} <= set(paths)


def test_schema_shows_started_status_only_in_v1(client):
    paths = client.get("/api/v3/schema/?format=json").json()["paths"]

    def statuses(v: int) -> list[str]:
        response = paths[f"/api/v{v}/checks/{{code}}"]["get"]["responses"]["200"]
        schema = response["content"]["application/json"]["schema"]
        return schema["properties"]["status"]["enum"]

    assert "started" in statuses(1)
    assert "started" not in statuses(3)


def test_schema_documents_the_api_key_header(client):
    schemes = client.get("/api/v3/schema/?format=json").json()["components"]
    assert schemes["securitySchemes"]["ApiKey"] == {
        "type": "apiKey", "in": "header", "name": "X-Api-Key",
    }  # fmt: skip


def test_docs_page_uses_local_static_files(client):
    html = client.get("/api/v3/docs/").content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in html
    # Every script, style and image comes from this server (no CDN); a substring
    # test would trip over the page's random CSRF token.
    assert not re.findall(r"""(?:src|href)=["'](?:https?:)?//""", html)
