"""AWS fixtures: moto in server mode as a separate process, reset for every test."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
import requests

from integrations.aws import clients
from tests.dashboard.conftest import team  # noqa: F401 - shared with the dashboard
from tests.servers import free_port

MOTO_SERVER = Path(sys.executable).parent / "moto_server"


@pytest.fixture(scope="session")
def moto_process() -> Iterator[str]:
    """`moto_server` on an ephemeral port of 127.0.0.1; yields its URL."""
    port = free_port()
    proc = subprocess.Popen(  # noqa: S603 - our own interpreter's moto
        [str(MOTO_SERVER), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        # Thousands of stock AMIs make every reset slow; tests register their own.
        env={**os.environ, "MOTO_EC2_LOAD_DEFAULT_AMIS": "false"},
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            requests.get(f"{url}/moto-api/", timeout=1)
            break
        except requests.ConnectionError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                raise RuntimeError("moto_server did not start") from None
            time.sleep(0.1)
    yield url
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture
def moto(moto_process: str, settings, monkeypatch) -> str:
    """A clean moto for this test; hcserver's and the test's boto3 point at it."""
    requests.post(f"{moto_process}/moto-api/reset", timeout=10)
    clients._sessions.clear()
    clients._default_session.clear()
    settings.AWS_ENDPOINT_URL = moto_process
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_process)
    return moto_process


@pytest.fixture
def aws(moto: str):
    """A boto3 client factory for the test's own calls (region us-east-1)."""

    def make(service: str):  # type: ignore[no-untyped-def]
        return boto3.client(service, region_name="us-east-1", endpoint_url=moto)

    return make
