"""The outbound HTTP helper: guard, redirects, timeouts, capped bodies, status codes."""

import ipaddress
import socket

import pytest

from integrations import http
from integrations.apps import check_allowed_target_networks
from integrations.base import DeliveryError


@pytest.fixture
def guard_on(settings):
    settings.ALLOW_PRIVATE_TARGETS = False
    settings.ALLOWED_TARGET_NETWORKS = []
    return settings


@pytest.fixture
def allow_loopback(guard_on):
    guard_on.ALLOWED_TARGET_NETWORKS = ["127.0.0.1/32"]
    return guard_on


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",  # noqa: S104 - an address under test, not a bind
        "224.0.0.1",
        "240.0.0.1",
        "255.255.255.255",
        "::1",
        "::",
        "fe80::1",
        "fd00::1",
        "ff02::1",
        "::ffff:127.0.0.1",
        "::ffff:169.254.169.254",
        "2002:7f00:1::",
        "64:ff9b::a00:1",
    ],
)
def test_internal_addresses_are_refused(guard_on, address):
    assert not http.is_allowed(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["93.184.216.34", "2606:4700:4700::1111"])
def test_public_addresses_are_allowed(guard_on, address):
    assert http.is_allowed(ipaddress.ip_address(address))


def test_allow_private_targets_allows_internal_addresses(guard_on):
    guard_on.ALLOW_PRIVATE_TARGETS = True
    assert http.is_allowed(ipaddress.ip_address("10.1.2.3"))


def test_allowed_target_networks_allow_only_listed_networks(guard_on):
    guard_on.ALLOWED_TARGET_NETWORKS = ["10.0.0.0/8", "fd00::/8"]
    assert http.is_allowed(ipaddress.ip_address("10.1.2.3"))
    assert http.is_allowed(ipaddress.ip_address("fd00::1"))
    assert not http.is_allowed(ipaddress.ip_address("192.168.1.1"))


def test_allowed_networks_cover_ipv4_mapped_form(guard_on):
    guard_on.ALLOWED_TARGET_NETWORKS = ["10.0.0.0/8"]
    assert http.is_allowed(ipaddress.ip_address("::ffff:10.1.2.3"))


def test_request_to_loopback_is_refused_permanently(guard_on, http_receiver):
    with pytest.raises(DeliveryError, match="Refused to connect") as e:
        http.request("POST", f"{http_receiver.url}/hook", json={})
    assert e.value.permanent
    assert http_receiver.requests == []


def test_host_name_is_checked_after_resolution(guard_on, http_receiver):
    port = http_receiver.server.server_address[1]
    with pytest.raises(DeliveryError, match=r"localhost \(127\.0\.0\.1"):
        http.request("GET", f"http://localhost:{port}/")
    assert http_receiver.requests == []


def test_connection_goes_to_the_checked_address(
    allow_loopback, http_receiver, monkeypatch
):
    # "hooks.example" does not resolve; if the connection looked it up again
    # (the DNS-rebinding gap) this request could not reach the receiver.
    calls = []

    def fake_getaddrinfo(host, port, *args, **kwargs):
        calls.append(host)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]

    monkeypatch.setattr(http.socket, "getaddrinfo", fake_getaddrinfo)
    port = http_receiver.server.server_address[1]
    http.request("GET", f"http://hooks.example:{port}/x")
    [received] = http_receiver.wait_for(1)
    assert received.headers["Host"] == f"hooks.example:{port}"
    # The name is looked up once; the connection then only "resolves" the literal.
    assert calls == ["hooks.example", "127.0.0.1"]


def test_allowed_network_reaches_loopback_target(allow_loopback, http_receiver):
    response = http.request("POST", f"{http_receiver.url}/hook", json={"a": 1})
    [received] = http_receiver.wait_for(1)
    assert response.status == 200
    assert received.json() == {"a": 1}


def test_redirect_is_followed_with_the_same_check(allow_loopback, http_receiver):
    http_receiver.routes["/a"] = (302, {"Location": "/b"}, b"")
    http.request("GET", f"{http_receiver.url}/a")
    assert [r.path for r in http_receiver.wait_for(2)] == ["/a", "/b"]


def test_redirect_to_internal_address_is_refused(allow_loopback, http_receiver):
    http_receiver.routes["/a"] = (
        307,
        {"Location": "http://169.254.169.254/latest/meta-data/"},
        b"",
    )
    with pytest.raises(DeliveryError, match=r"169\.254\.169\.254") as e:
        http.request("GET", f"{http_receiver.url}/a")
    assert e.value.permanent


def test_redirect_to_other_scheme_is_refused(allow_loopback, http_receiver):
    http_receiver.routes["/a"] = (302, {"Location": "file:///etc/passwd"}, b"")
    with pytest.raises(DeliveryError, match="scheme 'file'"):
        http.request("GET", f"{http_receiver.url}/a")


def test_post_redirected_by_303_becomes_get(allow_loopback, http_receiver):
    http_receiver.routes["/a"] = (303, {"Location": "/b"}, b"")
    http.request("POST", f"{http_receiver.url}/a", data=b"payload")
    second = http_receiver.wait_for(2)[1]
    assert (second.method, second.body) == ("GET", b"")


def test_redirect_307_keeps_method_and_body(allow_loopback, http_receiver):
    http_receiver.routes["/a"] = (307, {"Location": "/b"}, b"")
    http.request("PUT", f"{http_receiver.url}/a", data=b"payload")
    second = http_receiver.wait_for(2)[1]
    assert (second.method, second.body) == ("PUT", b"payload")


def test_redirect_loop_stops_after_the_limit(allow_loopback, http_receiver):
    allow_loopback.OUTBOUND_MAX_REDIRECTS = 2
    http_receiver.routes["/a"] = (302, {"Location": "/a"}, b"")
    with pytest.raises(DeliveryError, match="Too many redirects") as e:
        http.request("GET", f"{http_receiver.url}/a")
    assert e.value.permanent
    assert len(http_receiver.requests) == 3


@pytest.mark.parametrize("url", ["ftp://example.org/x", "file:///etc/passwd"])
def test_non_http_schemes_are_refused(guard_on, url):
    with pytest.raises(DeliveryError, match="only http and https") as e:
        http.request("GET", url)
    assert e.value.permanent


def test_response_body_is_read_up_to_the_cap(allow_loopback, http_receiver):
    allow_loopback.OUTBOUND_MAX_RESPONSE_BYTES = 1000
    http_receiver.response_body = b"x" * 100_000
    response = http.request("GET", f"{http_receiver.url}/big")
    assert response.body == b"x" * 1000


@pytest.mark.parametrize("status", [200, 201, 202, 204])
def test_2xx_is_success(allow_loopback, http_receiver, status):
    http_receiver.status = status
    http_receiver.response_body = b""
    assert http.request("GET", http_receiver.url).status == status


@pytest.mark.parametrize("status", [400, 401, 403, 404, 410, 422])
def test_4xx_is_a_permanent_error(allow_loopback, http_receiver, status):
    http_receiver.status = status
    with pytest.raises(DeliveryError, match=f"Received status code {status}") as e:
        http.request("GET", http_receiver.url)
    assert e.value.permanent


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503])
def test_408_429_and_5xx_are_transient_errors(allow_loopback, http_receiver, status):
    http_receiver.status = status
    with pytest.raises(DeliveryError, match=f"Received status code {status}") as e:
        http.request("GET", http_receiver.url)
    assert not e.value.permanent


def test_read_timeout_is_a_transient_error(allow_loopback):
    allow_loopback.OUTBOUND_READ_TIMEOUT = 0.3
    # Accepts connections (backlog) but never answers.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        port = silent.getsockname()[1]
        with pytest.raises(DeliveryError, match="timed out") as e:
            http.request("GET", f"http://127.0.0.1:{port}/")
    assert not e.value.permanent


def test_connection_refused_is_a_transient_error(allow_loopback):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    with pytest.raises(DeliveryError, match="Connection failed") as e:
        http.request("GET", f"http://127.0.0.1:{port}/")
    assert not e.value.permanent


def test_unresolvable_host_is_a_transient_error(guard_on):
    with pytest.raises(DeliveryError, match="Could not resolve") as e:
        http.request("GET", "http://does-not-exist.invalid/")
    assert not e.value.permanent


def test_requests_carry_timeouts(allow_loopback, http_receiver, monkeypatch):
    seen = []
    original = http.requests.Session.request

    def spy(self, *args, **kwargs):
        seen.append(kwargs["timeout"])
        return original(self, *args, **kwargs)

    monkeypatch.setattr(http.requests.Session, "request", spy)
    http.request("GET", http_receiver.url)
    assert seen == [
        (
            allow_loopback.OUTBOUND_CONNECT_TIMEOUT,
            allow_loopback.OUTBOUND_READ_TIMEOUT,
        )
    ]


def test_authorization_is_dropped_on_redirect_to_another_host(guard_on, http_receiver):
    guard_on.ALLOW_PRIVATE_TARGETS = True
    port = http_receiver.server.server_address[1]
    http_receiver.routes["/a"] = (302, {"Location": f"http://localhost:{port}/b"}, b"")
    http.request("GET", f"{http_receiver.url}/a", headers={"Authorization": "secret"})
    first, second = http_receiver.wait_for(2)
    assert first.headers["Authorization"] == "secret"
    assert "Authorization" not in second.headers


def test_4xx_error_includes_the_services_json_message(allow_loopback, http_receiver):
    http_receiver.status = 400
    http_receiver.response_headers = {"Content-Type": "application/json"}
    http_receiver.response_body = b'{"ok": false, "description": "chat not found"}'
    with pytest.raises(DeliveryError) as e:
        http.request("POST", http_receiver.url, json={})
    assert e.value.message == "Received status code 400: chat not found"


def test_4xx_error_includes_short_plain_text(allow_loopback, http_receiver):
    http_receiver.status = 404
    http_receiver.response_headers = {"Content-Type": "text/plain; charset=utf-8"}
    http_receiver.response_body = b"no_service"
    with pytest.raises(DeliveryError) as e:
        http.request("POST", http_receiver.url, json={})
    assert e.value.message == "Received status code 404: no_service"


def test_html_error_pages_are_not_shown(allow_loopback, http_receiver):
    http_receiver.status = 502
    http_receiver.response_headers = {"Content-Type": "text/html"}
    http_receiver.response_body = b"<html><h1>Bad Gateway</h1></html>"
    with pytest.raises(DeliveryError) as e:
        http.request("GET", http_receiver.url)
    assert e.value.message == "Received status code 502"


def test_long_error_detail_is_cut():
    detail = http.error_detail(b"x" * 500, "text/plain")
    assert len(detail) == http.DETAIL_LIMIT
    assert detail.endswith("…")


def test_invalid_allowed_networks_fail_the_system_check(settings):
    settings.ALLOWED_TARGET_NETWORKS = ["10.0.0.0/8", "not-a-network"]
    [error] = check_allowed_target_networks()
    assert error.id == "integrations.E001"
    assert "not-a-network" in error.msg


def test_valid_allowed_networks_pass_the_system_check(settings):
    settings.ALLOWED_TARGET_NETWORKS = ["10.0.0.0/8", "fd00::/8"]
    assert check_allowed_target_networks() == []
