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
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.core.handlers.exception import convert_exception_to_response
from django.core.handlers.wsgi import WSGIHandler, get_path_info
from django.http import HttpRequest, HttpResponseBase
from django.urls import ResolverMatch, URLPattern
from django.utils.module_loading import import_string

from checks import ping

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
        return super().__call__(environ, start_response)

    def _get_response(self, request: HttpRequest) -> HttpResponseBase:
        found: ResolverMatch = request.META[ROUTE_KEY]  # META is the WSGI environ
        request.resolver_match = found
        return found.func(request, *found.args, **found.kwargs)
