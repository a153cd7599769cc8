"""Connections kept open for a delivery batch (integrations/http.py keep_alive)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.utils import timezone

from checks import alerts
from checks.models import DeliveryState, Notification
from integrations import http
from integrations.base import DeliveryError
from tests.factories import ChannelFactory, CheckFactory, FlipFactory

pytestmark = pytest.mark.django_db


class KeepAliveServer:
    """HTTP/1.1 with keep-alive; records (client port, Cookie header) per request."""

    def __init__(self) -> None:
        self.seen: list[tuple[int, str | None]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                server.seen.append((self.client_address[1], self.headers["Cookie"]))
                self.send_response(200)
                self.send_header("Set-Cookie", "session=from-the-target; Path=/")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, args=(0.02,)).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server(settings) -> Iterator[KeepAliveServer]:
    settings.ALLOW_PRIVATE_TARGETS = True
    running = KeepAliveServer()
    yield running
    running.close()


def test_requests_inside_keep_alive_share_one_connection(server):
    with http.keep_alive():
        for _ in range(3):
            http.request("POST", f"{server.url}/x", data=b"a")
    assert len({port for port, _ in server.seen}) == 1


def test_requests_outside_keep_alive_each_open_a_connection(server):
    for _ in range(3):
        http.request("POST", f"{server.url}/x", data=b"a")
    assert len({port for port, _ in server.seen}) == 3


def test_kept_session_never_sends_back_a_cookie(server):
    with http.keep_alive():
        http.request("POST", f"{server.url}/x", data=b"a")
        http.request("POST", f"{server.url}/x", data=b"a")
    assert [cookie for _, cookie in server.seen] == [None, None]


def test_keep_alive_still_refuses_internal_targets(server, settings):
    settings.ALLOW_PRIVATE_TARGETS = False
    settings.ALLOWED_TARGET_NETWORKS = []
    with http.keep_alive(), pytest.raises(DeliveryError) as e:
        http.request("POST", f"{server.url}/x", data=b"a")
    assert e.value.permanent
    assert server.seen == []


def test_batch_of_webhook_deliveries_uses_one_connection(server):
    check = CheckFactory()
    channel = ChannelFactory(
        project=check.project, kind="webhook", config={"url_down": f"{server.url}/d"}
    )
    ids = [
        Notification.objects.create(
            flip=FlipFactory(owner=check),
            owner=check,
            channel=channel,
            check_status="down",
            next_attempt=timezone.now(),
        ).pk
        for _ in range(3)
    ]
    alerts.deliver_all(ids)
    states = set(Notification.objects.values_list("state", flat=True))
    assert states == {DeliveryState.SENT}
    assert len({port for port, _ in server.seen}) == 1
