"""API-key authentication for /api/v3/aws/: kept in one place to switch to the API's.

Same header and messages as the Management API (X-Api-Key; "missing api key",
"wrong api key"); read-only keys may read.
"""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.utils import timezone

from checks import services
from checks.models import Project


class ApiAuthError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.response = JsonResponse({"error": message}, status=401)


def api_project(request: HttpRequest) -> Project:
    """The project of the request's API key; ApiAuthError (401) otherwise."""
    key = request.headers.get("X-Api-Key", "")
    if not key:
        raise ApiAuthError("missing api key")
    found = services.find_api_key(key)
    if found is None:
        raise ApiAuthError("wrong api key")
    services.touch_api_key(key=found, now=timezone.now())
    return found.project
