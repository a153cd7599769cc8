"""Outbound HTTP for channel kinds: timeouts, capped bodies and the address guard.

Every HTTP kind calls `request()`. The guard runs inside the connection itself:
the host is resolved once, each address is checked, and the socket connects to
an address that passed the check, so a DNS answer that changes between check and
connect (DNS rebinding) cannot slip a private target through. Redirects are
followed here, hop by hop, through the same guarded connection.
"""

from __future__ import annotations

import ipaddress
import json as jsonlib
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from http.cookiejar import DefaultCookiePolicy
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

import requests
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import (
    ConnectTimeoutError,
    NameResolutionError,
    NewConnectionError,
)
from urllib3.util import connection as urllib3_connection

from integrations.base import DeliveryError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

REDIRECT_CODES = frozenset({301, 302, 303, 307, 308})
# Carrier-grade NAT: not "private" to Python, but never a public service.
CGNAT = ipaddress.ip_network("100.64.0.0/10")
NAT64 = ipaddress.ip_network("64:ff9b::/96")
USER_AGENT = "hcserver"


class TargetRefused(Exception):
    """The target host resolves only to addresses the outbound guard refuses."""


def is_internal(ip: IPAddress) -> bool:
    """True for loopback, private, link-local, multicast, reserved, CGNAT... addresses.

    IPv6 forms that embed an IPv4 address (mapped, 6to4, NAT64) are judged by the
    embedded address too, so ::ffff:127.0.0.1 is as internal as 127.0.0.1.
    """
    if isinstance(ip, ipaddress.IPv6Address):
        embedded: ipaddress.IPv4Address | None = ip.ipv4_mapped or ip.sixtofour
        if embedded is None and ip in NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None and is_internal(embedded):
            return True
    return (
        not ip.is_global
        or ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or (isinstance(ip, ipaddress.IPv4Address) and ip in CGNAT)
    )


@cache
def _parse_networks(networks: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    try:
        return tuple(ipaddress.ip_network(n.strip(), strict=False) for n in networks)
    except ValueError as e:
        raise ImproperlyConfigured(f"ALLOWED_TARGET_NETWORKS: {e}") from e


def allowed_networks() -> tuple[IPNetwork, ...]:
    """The operator's ALLOWED_TARGET_NETWORKS, parsed."""
    return _parse_networks(tuple(n for n in settings.ALLOWED_TARGET_NETWORKS if n))


def is_allowed(ip: IPAddress) -> bool:
    """May hcserver connect to `ip`? Public addresses always; others when allowed."""
    if settings.ALLOW_PRIVATE_TARGETS or not is_internal(ip):
        return True
    candidates: list[IPAddress] = [ip]
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        candidates.append(ip.ipv4_mapped)
    return any(
        c in net
        for c in candidates
        for net in allowed_networks()
        if c.version == net.version
    )


def resolve(host: str, port: int) -> list[str]:
    """The addresses of `host` that the guard allows; TargetRefused if none are."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    allowed: list[str] = []
    refused: list[str] = []
    for _family, _type, _proto, _name, sockaddr in infos:
        address = str(sockaddr[0]).split("%", 1)[0]  # drop an IPv6 scope id
        target = allowed if is_allowed(ipaddress.ip_address(address)) else refused
        if address not in target:
            target.append(address)
    if not allowed:
        raise TargetRefused(
            f"Refused to connect to {host} ({', '.join(refused)}): internal "
            "address (see ALLOW_PRIVATE_TARGETS / ALLOWED_TARGET_NETWORKS)"
        )
    return allowed


# The mixin is only ever mixed into an HTTPConnection; tell mypy so.
if TYPE_CHECKING:
    _ConnectionBase = HTTPConnection
else:
    _ConnectionBase = object


class _GuardedConnectionMixin(_ConnectionBase):
    """Resolve, check, and connect to the checked address (never resolve twice)."""

    def _new_conn(self) -> socket.socket:
        try:
            addresses = resolve(self._dns_host, self.port)
        except socket.gaierror as e:
            raise NameResolutionError(self.host, self, e) from e
        last_error: OSError | None = None
        for address in addresses:
            try:
                # An IP literal: create_connection does no DNS lookup for it.
                return urllib3_connection.create_connection(
                    (address, self.port),
                    self.timeout,
                    source_address=self.source_address,
                    socket_options=self.socket_options,
                )
            except TimeoutError as e:
                raise ConnectTimeoutError(
                    self, f"Connection to {self.host} timed out"
                ) from e
            except OSError as e:
                last_error = e
        raise NewConnectionError(
            self,
            f"Failed to establish a new connection: {last_error}",
        )


class GuardedHTTPConnection(_GuardedConnectionMixin, HTTPConnection):
    pass


class GuardedHTTPSConnection(_GuardedConnectionMixin, HTTPSConnection):
    pass


class GuardedHTTPConnectionPool(HTTPConnectionPool):
    ConnectionCls = GuardedHTTPConnection


class GuardedHTTPSConnectionPool(HTTPSConnectionPool):
    ConnectionCls = GuardedHTTPSConnection


class GuardedAdapter(HTTPAdapter):
    """A requests adapter whose connections go through the outbound guard."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": GuardedHTTPConnectionPool,
            "https": GuardedHTTPSConnectionPool,
        }


def _session() -> requests.Session:
    session = requests.Session()
    # Environment proxies would connect for us and bypass the guard; .netrc
    # credentials must never leak to a user-supplied URL.
    session.trust_env = False
    # Nothing a target answers is sent anywhere again, cookies included.
    session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
    session.verify = settings.OUTBOUND_CA_BUNDLE or True
    session.mount("http://", GuardedAdapter(max_retries=0))
    session.mount("https://", GuardedAdapter(max_retries=0))
    return session


_shared = threading.local()


@contextmanager
def keep_alive() -> Iterator[None]:
    """Requests made inside share one session: its connections are kept open.

    A delivery batch sends to one channel, so one TCP (and TLS) connection serves
    the batch instead of one per alert. The connections were opened through the
    guard, to an address it allowed; the pool keys them by scheme, host and port.
    """
    if getattr(_shared, "session", None) is not None:
        yield  # already inside one
        return
    _shared.session = _session()
    try:
        yield
    finally:
        session, _shared.session = _shared.session, None
        session.close()


@contextmanager
def _session_for_request() -> Iterator[requests.Session]:
    shared = getattr(_shared, "session", None)
    if shared is not None:
        yield shared
    else:
        with _session() as session:
            yield session


@dataclass
class Response:
    """A completed 2xx response; `body` holds at most OUTBOUND_MAX_RESPONSE_BYTES."""

    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)

    def json(self) -> Any:
        return jsonlib.loads(self.body)


def _read_capped(response: requests.Response) -> bytes:
    cap = settings.OUTBOUND_MAX_RESPONSE_BYTES
    # A target that drips bytes would otherwise hold a worker far beyond the
    # read timeout, which applies to each read, not to the whole body.
    deadline = time.monotonic() + settings.OUTBOUND_READ_TIMEOUT
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_content(chunk_size=8192):
        chunks.append(chunk)
        size += len(chunk)
        if size >= cap or time.monotonic() > deadline:
            break
    response.close()
    return b"".join(chunks)[:cap]


def _check_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise DeliveryError(
            f"Refused URL scheme {parts.scheme or '(none)'!r}: only http and https",
            permanent=True,
        )
    if not parts.hostname:
        raise DeliveryError("Refused URL without a host", permanent=True)


DETAIL_KEYS = ("description", "message", "error", "msg", "detail")
DETAIL_LIMIT = 100


def error_detail(body: bytes, content_type: str) -> str:
    """A short reason from an error response: a JSON message field or short text.

    Services explain a 4xx ("chat not found", "invalid_token"); the user needs that
    to fix the channel. HTML pages and long bodies are not worth showing.
    """
    text = ""
    if "json" in content_type:
        try:
            document = jsonlib.loads(body)
        except ValueError:
            return ""
        if isinstance(document, dict):
            values = (document.get(key) for key in DETAIL_KEYS)
            text = next((v for v in values if isinstance(v, str) and v), "")
    elif content_type.startswith("text/plain"):
        text = body.decode("utf-8", errors="replace")
    text = " ".join(text.split())
    if not text.isprintable():
        return ""
    return text if len(text) <= DETAIL_LIMIT else text[: DETAIL_LIMIT - 1] + "…"


def _error_for_status(status: int, body: bytes, content_type: str) -> DeliveryError:
    # 408/429 and 5xx may pass; any other 4xx (or a 3xx we cannot follow) means
    # the request itself is wrong.
    permanent = 300 <= status < 500 and status not in (408, 429)
    message = f"Received status code {status}"
    detail = error_detail(body, content_type)
    if detail:
        message = f"{message}: {detail}"
    return DeliveryError(message, permanent=permanent)


def _connection_error(e: requests.ConnectionError) -> DeliveryError:
    reason = getattr(e.args[0], "reason", None) if e.args else None
    if isinstance(reason, NameResolutionError):
        return DeliveryError("Could not resolve the host name")
    return DeliveryError("Connection failed")


def request(
    method: str,
    url: str,
    *,
    headers: dict[str, str] | None = None,
    json: Any = None,
    data: bytes | str | dict[str, Any] | None = None,
    auth: tuple[str, str] | None = None,
) -> Response:
    """Send one guarded request; return a 2xx Response or raise DeliveryError."""
    method = method.upper()
    all_headers = {"User-Agent": USER_AGENT, **(headers or {})}
    if json is not None:
        data = jsonlib.dumps(json)
        all_headers.setdefault("Content-Type", "application/json")
    timeout = (settings.OUTBOUND_CONNECT_TIMEOUT, settings.OUTBOUND_READ_TIMEOUT)
    for _hop in range(settings.OUTBOUND_MAX_REDIRECTS + 1):
        _check_url(url)
        try:
            with _session_for_request() as session:
                response = session.request(
                    method,
                    url,
                    headers=all_headers,
                    data=data,
                    auth=auth,
                    timeout=timeout,
                    allow_redirects=False,
                    stream=True,
                )
                body = _read_capped(response)
        except TargetRefused as e:
            raise DeliveryError(str(e), permanent=True) from e
        except requests.Timeout as e:
            raise DeliveryError("Connection timed out") from e
        except requests.exceptions.SSLError as e:
            # Often fixed on the other side (an expired certificate renewed).
            raise DeliveryError("TLS handshake or certificate check failed") from e
        except requests.ConnectionError as e:
            raise _connection_error(e) from e
        except (requests.exceptions.InvalidURL, requests.exceptions.InvalidHeader) as e:
            # Not the exception text: it may quote a URL or header with a token.
            raise DeliveryError(
                f"Invalid request ({type(e).__name__})", permanent=True
            ) from e
        except requests.RequestException as e:
            raise DeliveryError(f"Request failed: {type(e).__name__}") from e

        location = response.headers.get("Location")
        if response.status_code in REDIRECT_CODES and location:
            next_url = urljoin(url, location)
            if urlsplit(next_url).hostname != urlsplit(url).hostname:
                # Credentials meant for one host are not forwarded to another.
                auth = None
                all_headers.pop("Authorization", None)
            if response.status_code == 303 or (
                response.status_code in (301, 302) and method == "POST"
            ):
                method, data = "GET", None
                all_headers.pop("Content-Type", None)
            url = next_url
            continue
        if 200 <= response.status_code < 300:
            return Response(response.status_code, body, dict(response.headers))
        raise _error_for_status(
            response.status_code, body, response.headers.get("Content-Type", "")
        )
    raise DeliveryError(
        f"Too many redirects (more than {settings.OUTBOUND_MAX_REDIRECTS})",
        permanent=True,
    )
