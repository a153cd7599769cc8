"""Ping endpoints: the hot path. Plain Django views, no DRF, one transaction each.

Answers are byte-compatible with Healthchecks: `OK`, `Created`, `not found`,
`invalid url format`, `invalid uuid format`, `ambiguous slug`.
"""

from __future__ import annotations

import functools
import ipaddress
import re
import uuid

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import path, register_converter
from django.utils import timezone
from django.utils.http import http_date
from django.views.decorators.csrf import csrf_exempt

from checks import services
from checks.models import Check, PingKind
from checks.services import PingData

RID_RE = re.compile(
    r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I
)
ACTIONS = {"start": PingKind.START, "fail": PingKind.FAIL, "log": PingKind.LOG}


class ActionConverter:
    regex = "start|fail|log"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(ActionConverter, "action")


class BadRequest(Exception):
    """A malformed ping; reported only once the check is known to exist."""


def _remote_addr(request: HttpRequest) -> str | None:
    value = request.META.get("REMOTE_ADDR", "")
    if settings.TRUST_X_FORWARDED_FOR:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            value = forwarded.split(",")[0].strip()
    return _normalise_addr(value)


@functools.lru_cache(maxsize=4096)
def _normalise_addr(value: str) -> str | None:
    """An address as stored, or None; cached: the same clients ping again and again."""
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        pass
    # "a.b.c.d:port" from some proxies: drop the port.
    host = value.rsplit(":", 1)[0]
    try:
        return str(ipaddress.IPv4Address(host))
    except ValueError:
        return None


def _scheme(request: HttpRequest) -> str:
    if settings.TRUST_X_FORWARDED_FOR:
        proto = request.META.get("HTTP_X_FORWARDED_PROTO", "")
        if proto in ("http", "https"):
            return proto
    return request.scheme or "http"


def _read_body(request: HttpRequest) -> bytes:
    # Read the stream ourselves: request.body would refuse bodies over
    # DATA_UPLOAD_MAX_MEMORY_SIZE with a 400; we keep the first bytes and cut the rest.
    limit = settings.PING_BODY_LIMIT
    if request.method in ("GET", "HEAD") and not request.META.get("CONTENT_LENGTH"):
        return b""
    return request.read() if limit is None else request.read(limit)


def ping_data(
    request: HttpRequest, action: str | None, exitstatus: int | None
) -> PingData:
    """What the request asks for; BadRequest for a bad exit status or run id."""
    if exitstatus is not None and exitstatus > 255:
        raise BadRequest("invalid url format")
    rid = None
    rid_param = request.GET.get("rid")
    if rid_param is not None:
        if not RID_RE.match(rid_param):
            raise BadRequest("invalid uuid format")
        rid = uuid.UUID(rid_param)
    kind = ACTIONS[action] if action else PingKind.SUCCESS
    return PingData(
        action=kind,
        exitstatus=exitstatus,
        rid=rid,
        scheme=_scheme(request),
        remote_addr=_remote_addr(request),
        # Any method is logged under its name; the column holds 10 characters.
        method=(request.method or "")[:10],
        ua=request.META.get("HTTP_USER_AGENT", "").replace("\x00", "")[:200],
        body=_read_body(request),
    )


# What django.utils.cache.add_never_cache_headers() sets, without parsing and
# re-joining Cache-Control on every ping.
NEVER_CACHE = "max-age=0, no-cache, no-store, must-revalidate, private"


def answer(text: str, status: int = 200) -> HttpResponse:
    response = HttpResponse(text, status=status)
    response["Access-Control-Allow-Origin"] = "*"
    if settings.PING_BODY_LIMIT is not None:
        response["Ping-Body-Limit"] = str(settings.PING_BODY_LIMIT)
    response["Expires"] = http_date()
    response["Cache-Control"] = NEVER_CACHE
    return response


def _not_found() -> HttpResponse:
    return HttpResponse("not found", status=404)


def _bad_request(message: str) -> HttpResponse:
    return HttpResponse(message, status=400)


@csrf_exempt
def ping(
    request: HttpRequest,
    code: uuid.UUID,
    action: str | None = None,
    exitstatus: int | None = None,
) -> HttpResponse:
    """`/ping/<uuid>[/start|/fail|/log|/<exit-status>]`."""
    try:
        data = ping_data(request, action, exitstatus)
    except BadRequest as e:
        # Unknown checks are 404 whatever else is wrong with the request.
        if not Check.objects.filter(code=code).exists():
            return _not_found()
        return _bad_request(str(e))
    if services.ping_by_code(code=code, ping=data, now=timezone.now()) is None:
        return _not_found()
    return answer("OK")


@csrf_exempt
def ping_by_slug(
    request: HttpRequest,
    ping_key: str,
    slug: str,
    action: str | None = None,
    exitstatus: int | None = None,
) -> HttpResponse:
    """`/ping/<ping_key>/<slug>[/start|/fail|/log|/<exit-status>][?create=1]`."""
    if slug != slug.lower() or len(slug) > services.SLUG_MAX_LENGTH:
        return _bad_request("invalid url format")
    create = request.GET.get("create") == "1"
    try:
        data = ping_data(request, action, exitstatus)
    except BadRequest as e:
        # Bad input changes nothing: not even a `?create=1` check is made. The
        # answer is what the ping would get if it were well-formed: 404 or 400.
        exists = Check.objects.filter(project__ping_key=ping_key, slug=slug).exists()
        if exists or (
            create and services.may_auto_provision(ping_key=ping_key, slug=slug)
        ):
            return _bad_request(str(e))
        return _not_found()
    try:
        saved, created = services.ping_by_slug(
            ping_key=ping_key, slug=slug, ping=data, now=timezone.now(), create=create
        )
    except services.AmbiguousSlug:
        return HttpResponse("ambiguous slug", status=409)
    if saved is None:
        return _not_found()
    return answer("Created", status=201) if created else answer("OK")


urlpatterns = [
    path("<uuid:code>", ping),
    path("<uuid:code>/", ping),
    path("<uuid:code>/<action:action>", ping),
    path("<uuid:code>/<int:exitstatus>", ping),
    path("<slug:ping_key>/<slug:slug>", ping_by_slug),
    path("<slug:ping_key>/<slug:slug>/<action:action>", ping_by_slug),
    path("<slug:ping_key>/<slug:slug>/<int:exitstatus>", ping_by_slug),
]
