"""Healthchecks' error shapes: `{"error": "..."}`, or an empty body for 403/404/405."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpResponse
from rest_framework import exceptions, status
from rest_framework.response import Response


class ApiError(exceptions.APIException):
    """An error answered as `{"error": message}`, or an empty body without one."""

    def __init__(self, status_code: int, message: str = "") -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message


def validation_error(message: str) -> ApiError:
    return ApiError(400, f"json validation error: {message}")


def empty(status_code: int) -> HttpResponse:
    return HttpResponse(status=status_code)


# DRF exceptions that Healthchecks answers with an empty body.
EMPTY_BODY = (
    exceptions.PermissionDenied,
    exceptions.NotFound,
    exceptions.MethodNotAllowed,
)


def exception_handler(exc: Exception, context: dict[str, Any]) -> HttpResponse | None:
    """The EXCEPTION_HANDLER of the API views: upstream's bodies and status codes."""
    if isinstance(exc, Http404):
        # Upstream answers an unknown check UUID with Django's own 404 page.
        return None
    if isinstance(exc, ApiError):
        if not exc.message:
            return empty(exc.status_code)
        return Response({"error": exc.message}, status=exc.status_code)
    if isinstance(exc, EMPTY_BODY):
        return empty(exc.status_code)
    if isinstance(exc, exceptions.Throttled):
        wait = getattr(exc, "wait", None)
        headers = {"Retry-After": str(int(wait))} if wait else {}
        return Response(
            {"error": "rate limit exceeded"},
            status=status.HTTP_429_TOO_MANY_REQUESTS,
            headers=headers,
        )
    if isinstance(exc, exceptions.APIException):
        detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        response = Response({"error": detail}, status=exc.status_code)
        auth_header = getattr(exc, "auth_header", None)
        if auth_header:
            response["WWW-Authenticate"] = auth_header
        return response
    return None
