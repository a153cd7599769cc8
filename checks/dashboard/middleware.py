"""Dashboard middleware: headers settings alone do not give, the user's time zone."""

from __future__ import annotations

from collections.abc import Callable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from checks.models import Profile

# Scripts only from our own static files (no inline <script>, no CDN); inline style
# attributes stay allowed. frame-ancestors backs up X-Frame-Options: DENY.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


class SecurityHeadersMiddleware:
    """Add a Content-Security-Policy to HTML pages (the dashboard)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.get("Content-Type", "").startswith("text/html"):
            response.headers.setdefault(
                "Content-Security-Policy", CONTENT_SECURITY_POLICY
            )
        return response


class UserTimezoneMiddleware:
    """Show dashboard times in the signed-in user's time zone (Profile.tz)."""

    # Pings, the API and badges never show local times: no query for them.
    SKIP = ("/ping/", "/api/", "/badge/", "/b/", "/static/")

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info.startswith(self.SKIP) or (
            settings.SESSION_COOKIE_NAME not in request.COOKIES
        ):
            return self.get_response(request)
        tz = None
        if request.user.is_authenticated:
            tz = (
                Profile.objects.filter(user_id=request.user.pk)
                .values_list("tz", flat=True)
                .first()
            )
        try:
            zone = ZoneInfo(tz) if tz else None
        except (ZoneInfoNotFoundError, ValueError):
            zone = None
        if zone is None:
            return self.get_response(request)
        with timezone.override(zone):
            return self.get_response(request)
