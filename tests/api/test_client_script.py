"""A script written for Healthchecks' API runs unchanged against a live hcserver."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from tests.factories import ProjectFactory, api_key_for

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def provision_and_watch(base: str, key: str) -> dict[str, Any]:
    """What a typical provisioning script does, written against Healthchecks' docs."""
    s = requests.Session()
    s.headers["X-Api-Key"] = key
    spec = {
        "name": "nightly-backup",
        "tags": "prod backup",
        "timeout": 3600,
        "grace": 60,
        "unique": ["name"],
    }
    first = s.post(f"{base}/api/v3/checks/", json=spec, timeout=10)
    again = s.post(f"{base}/api/v3/checks/", json=spec, timeout=10)
    check = again.json()
    ping = requests.get(check["ping_url"], timeout=10)
    listed = s.get(f"{base}/api/v3/checks/", params={"tag": "backup"}, timeout=10)
    paused = s.post(check["pause_url"], timeout=10)
    flips = s.get(f"{check['update_url']}/flips/", timeout=10)
    return {
        "created": (first.status_code, first.json()["uuid"]),
        "upserted": (again.status_code, check["uuid"]),
        "ping": (ping.status_code, ping.text),
        "listed": [
            (c["name"], c["status"], c["n_pings"]) for c in listed.json()["checks"]
        ],
        "paused": paused.json()["status"],
        "flips": [f["up"] for f in flips.json()["flips"]],
    }


def test_healthchecks_client_script_gets_healthchecks_results(live_server, settings):
    # The script follows the URLs the API hands out: they must point at this server.
    settings.SITE_ROOT = live_server.url
    settings.PING_ENDPOINT = f"{live_server.url}/ping/"
    key = api_key_for(ProjectFactory())
    result = provision_and_watch(live_server.url, key)
    uuid = result["created"][1]
    assert result == {
        "created": (201, uuid),
        "upserted": (200, uuid),
        "ping": (200, "OK"),
        "listed": [("nightly-backup", "up", 1)],
        "paused": "paused",
        "flips": [0, 1],  # newest first: paused, then up
    }
