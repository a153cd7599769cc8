"""The ping URLs' own WSGI handler: Django's, with a shorter road to the view.

Pings are the hot path (docs/performance.md). For a request whose path is one of the
ping URLs, `hcserver.wsgi.application` uses this handler instead of Django's: the same
WSGIHandler (request and response objects, signals, exception-to-response, logging),
but the route is matched against the ping URL patterns only, and the middleware chain
leaves out what cannot change a ping's answer: sessions, CSRF (the views are exempt),
authentication, messages, static files, `/health/` and the dashboard's time zone.
Every other middleware in settings.MIDDLEWARE runs, in the same order, so the
security headers, host validation, Content-Length and request logging are Django's
own. Any other path goes to the full Django handler. tests/checks/test_ping_handler.py
shows that both handlers give the same answers.

On PostgreSQL (settings.PING_GROUP_COMMIT), a well-formed ping is recorded through the
process's group commit (checks/group_commit.py) and its `OK` is written here, with the
headers the middleware chain gives that answer (captured from the chain itself, once
per process and scheme). Whatever else can happen to a ping (a bad request, an unknown
check, `?create=1` for a new slug, an ambiguous slug, a failed batch, a host not in
ALLOWED_HOSTS, an HTTPS redirect) takes the Django road above, and nothing has been
written for it before it does.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.core.handlers.base import BaseHandler
from django.core.handlers.exception import convert_exception_to_response
from django.core.handlers.wsgi import WSGIHandler, WSGIRequest, get_path_info
from django.db import connection
from django.http import HttpRequest, HttpResponseBase
from django.urls import ResolverMatch, URLPattern
from django.utils import timezone
from django.utils.http import http_date
from django.utils.module_loading import import_string

from checks import ping, services
from checks.group_commit import GroupCommit
from checks.models import PingKind

PREFIX = "/ping/"
ROUTE_KEY = "hcserver.ping_route"

# Middleware that never changes the answer to a ping URL (see the module docstring).
NOT_FOR_PINGS = frozenset(
    {
        "hcserver.health.HealthMiddleware",
        "whitenoise.middleware.WhiteNoiseMiddleware",
        "django.contrib.sessions.middleware.SessionMiddleware",
        "django.middleware.csrf.CsrfViewMiddleware",
        "django.contrib.auth.middleware.AuthenticationMiddleware",
        "django.contrib.messages.middleware.MessageMiddleware",
        "checks.dashboard.middleware.UserTimezoneMiddleware",
    }
)

# Middleware whose whole effect on a ping's `OK` is headers that depend only on the
# settings and the request's scheme, once the host is valid and no HTTPS redirect is
# due: with any other middleware in the chain, every ping takes the Django road.
FIXED_HEADERS_ONLY = frozenset(
    {
        "django.middleware.security.SecurityMiddleware",
        "django.middleware.common.CommonMiddleware",
        "django.middleware.clickjacking.XFrameOptionsMiddleware",
        "checks.dashboard.middleware.SecurityHeadersMiddleware",
    }
)

OK = b"OK"


@dataclass(frozen=True)
class Together:
    """A ping to record through the group commit, and the request it came in."""

    request: WSGIRequest
    target: services.PingTarget
    data: services.PingData


StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


def ping_middleware() -> list[str]:
    """settings.MIDDLEWARE without the entries that do nothing for pings."""
    return [name for name in settings.MIDDLEWARE if name not in NOT_FOR_PINGS]


def match_ping_url(path_info: str) -> ResolverMatch | None:
    """The ping view and arguments for a path, as Django's resolver would find them."""
    if not path_info.startswith(PREFIX):
        return None
    rest = path_info[len(PREFIX) :]
    for pattern in ping.urlpatterns:
        assert isinstance(pattern, URLPattern)  # noqa: S101 - no includes in ping.py
        found = pattern.resolve(rest)
        if found is not None:
            return found
    return None


class PingHandler(WSGIHandler):
    """Answer ping URLs with the ping middleware chain; hand the rest to `fallback`."""

    def __init__(self, fallback: WSGIApp) -> None:
        self.fallback = fallback
        super().__init__()
        self.group = GroupCommit()
        self.group_commit_chain = set(ping_middleware()) <= FIXED_HEADERS_ONLY
        self.vendor = connection.vendor
        # Headers of an `OK` and where Expires is in them, by request.is_secure().
        self._ok: dict[bool, tuple[list[tuple[str, str]], int]] = {}

    def load_middleware(self, is_async: bool = False) -> None:
        # BaseHandler.load_middleware, over ping_middleware() instead of MIDDLEWARE.
        # The ping views are plain functions: no view, template-response or
        # exception middleware hooks are used by the middleware that remains.
        self._view_middleware: list[Any] = []
        self._template_response_middleware: list[Any] = []
        self._exception_middleware: list[Any] = []
        handler = convert_exception_to_response(self._get_response)
        for name in reversed(ping_middleware()):
            instance = import_string(name)(handler)
            handler = convert_exception_to_response(instance)
        self._middleware_chain = handler

    def __call__(  # type: ignore[override]
        self, environ: dict[str, Any], start_response: StartResponse
    ) -> Iterable[bytes]:
        found = match_ping_url(get_path_info(environ))
        if found is None:
            return self.fallback(environ, start_response)
        environ[ROUTE_KEY] = found
        together = None if connection.in_atomic_block else self.prepare(environ, found)
        if together is not None and self.record(together):
            status, headers = self.ok_answer(together)
            start_response(status, headers)
            return [OK]
        return self.django_road(environ, start_response)

    def django_road(
        self, environ: dict[str, Any], start_response: StartResponse
    ) -> Iterable[bytes]:
        """Answer a ping URL (ROUTE_KEY set) through Django's handler and the view."""
        return super().__call__(environ, start_response)

    def group_commit_on(self) -> bool:
        # The vendor is read once: `connection` is a thread-local proxy, and on an
        # event loop every request's task gets a connection object of its own.
        return (
            self.group_commit_chain
            and self.vendor == "postgresql"
            and settings.PING_GROUP_COMMIT
            and not settings.DEBUG
            and not settings.DISALLOWED_USER_AGENTS
            and not settings.PREPEND_WWW
        )

    def prepare(self, environ: dict[str, Any], found: Any) -> Together | None:
        """A well-formed ping to record through the group commit; None (nothing
        read from the body) for a request that takes the Django road.

        The caller makes sure it is not inside a transaction of its own (the group
        commit records on another connection): __call__ below; hcserver/asgi.py's
        event loop never opens one.
        """
        if not self.group_commit_on():
            return None
        request = WSGIRequest(environ)
        try:
            request.get_host()
        except DisallowedHost:
            return None
        if settings.SECURE_SSL_REDIRECT and not request.is_secure():
            return None
        kwargs = found.kwargs
        if "code" in kwargs:
            target = services.PingTarget(code=kwargs["code"])
        else:
            slug = kwargs["slug"]
            if slug != slug.lower() or len(slug) > services.SLUG_MAX_LENGTH:
                return None
            target = services.PingTarget(ping_key=kwargs["ping_key"], slug=slug)
        try:
            data = ping.ping_data(
                request, kwargs.get("action"), kwargs.get("exitstatus")
            )
        except ping.BadRequest:
            return None  # raised before the body is read
        # Should the ping take the Django road after all, that reads the body again:
        # what was read, the same way.
        environ["wsgi.input"] = io.BytesIO(data.body)
        return Together(request, target, data)

    def record(self, together: Together) -> bool:
        """Record the ping (blocking); False, with nothing written, if it is to be
        answered on the Django road (an unknown check, say, or a failed batch)."""
        result = self.group.record(together.target, together.data, timezone.now())
        return isinstance(result, PingKind)

    def ok_answer(
        self, together: Together, epoch: float | None = None
    ) -> tuple[str, list[tuple[str, str]]]:
        """The status line and headers of the `OK` the view and middleware give
        (Expires: now, or `epoch` seconds)."""
        request = together.request
        secure = request.is_secure()
        if secure not in self._ok:
            # The ping middleware chain around a view that answers `OK`.
            answer = _OkThroughMiddleware()._middleware_chain(request)
            assert isinstance(answer, HttpResponseBase)  # noqa: S101 - a sync chain
            headers = list(answer.items())
            expires = next(i for i, (k, _) in enumerate(headers) if k == "Expires")
            self._ok[secure] = headers, expires
        headers, expires = self._ok[secure]
        headers = headers.copy()
        headers[expires] = ("Expires", http_date(epoch))
        return "200 OK", headers

    def _get_response(self, request: HttpRequest) -> HttpResponseBase:
        found: ResolverMatch = request.META[ROUTE_KEY]  # META is the WSGI environ
        request.resolver_match = found
        return found.func(request, *found.args, **found.kwargs)


class _OkThroughMiddleware(BaseHandler):
    """The ping middleware chain around a view that answers `OK`, for its headers."""

    def __init__(self) -> None:
        super().__init__()
        handler = convert_exception_to_response(self._get_response)
        for name in reversed(ping_middleware()):
            handler = convert_exception_to_response(import_string(name)(handler))
        self._middleware_chain = handler

    def _get_response(self, request: HttpRequest) -> HttpResponseBase:
        return ping.answer("OK")
