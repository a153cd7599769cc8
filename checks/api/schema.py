"""The OpenAPI description of the API (drf-spectacular), per version and response.

Views stay free of documentation: `ApiAutoSchema` looks each operation up in
OPERATIONS by view class and method, and builds version-specific shapes (v1 shows
`status: "started"`; URLs embed the version).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

from drf_spectacular.extensions import (
    OpenApiAuthenticationExtension,
    OpenApiSerializerFieldExtension,
)
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse

from checks.api.serializers import MAX_SECONDS, CheckSpecSerializer, StrictField

JSON = dict[str, Any]

ERROR: JSON = {
    "type": "object",
    "properties": {"error": {"type": "string"}},
    "required": ["error"],
}
STR: JSON = {"type": "string"}
INT: JSON = {"type": "integer"}
BOOL: JSON = {"type": "boolean"}
DATETIME: JSON = {"type": "string", "format": "date-time"}
NULLABLE_DATETIME: JSON = {**DATETIME, "nullable": True}


def check_schema(v: int) -> JSON:
    """A check as the API shows it; rw-key and read-only-key fields are optional."""
    statuses = ["new", "up", "grace", "down", "paused"] + (
        ["started"] if v == 1 else []
    )
    common: JSON = {
        "name": STR,
        "slug": STR,
        "tags": STR,
        "desc": STR,
        "grace": INT,
        "n_pings": INT,
        "status": {"type": "string", "enum": statuses},
        "started": BOOL,
        "last_ping": NULLABLE_DATETIME,
        "next_ping": NULLABLE_DATETIME,
        "manual_resume": BOOL,
        "methods": {"type": "string", "enum": ["", "POST"]},
        "subject": STR,
        "subject_fail": STR,
        "start_kw": STR,
        "success_kw": STR,
        "failure_kw": STR,
        "filter_subject": BOOL,
        "filter_body": BOOL,
        "filter_http_body": BOOL,
        "filter_default_fail": BOOL,
        "badge_url": {"type": "string", "format": "uri"},
    }
    optional: JSON = {
        "last_duration": {**INT, "description": "Seconds; only when known."},
        "uuid": {"type": "string", "format": "uuid", "description": "rw key only"},
        "ping_url": {"type": "string", "format": "uri", "description": "rw key only"},
        "update_url": {"type": "string", "format": "uri", "description": "rw key only"},
        "pause_url": {"type": "string", "format": "uri", "description": "rw key only"},
        "resume_url": {"type": "string", "format": "uri", "description": "rw key only"},
        "channels": {
            "type": "string",
            "description": "rw key only: comma-separated channel UUIDs",
        },
        "unique_key": {
            "type": "string",
            "pattern": "^[0-9a-f]{40}$",
            "description": "read-only key only",
        },
        "timeout": {**INT, "description": "Seconds; simple checks only."},
        "schedule": {**STR, "description": "cron and OnCalendar checks only"},
        "tz": {**STR, "description": "cron and OnCalendar checks only"},
    }
    additions: JSON = {
        "reminder_interval": {
            **INT,
            "nullable": True,
            "description": "hcserver: seconds between reminders while down; "
            "0 = off for this check; null = the project's interval.",
        }
    }
    return {
        "type": "object",
        "properties": {**common, **optional, **additions},
        "required": [*common, *additions],
    }


def wrapped(name: str, item: JSON) -> JSON:
    return {
        "type": "object",
        "properties": {name: {"type": "array", "items": item}},
        "required": [name],
    }


PING: JSON = {
    "type": "object",
    "properties": {
        "type": {"type": "string", "enum": ["success", "start", "fail", "log", "ign"]},
        "date": DATETIME,
        "n": INT,
        "scheme": STR,
        "remote_addr": {"type": "string", "nullable": True},
        "method": STR,
        "ua": STR,
        "rid": {"type": "string", "format": "uuid", "nullable": True},
        "body_url": {"type": "string", "format": "uri", "nullable": True},
        "duration": {"type": "number", "description": "Seconds; only when known."},
    },
    "required": ["type", "date", "n", "scheme", "remote_addr", "method", "ua", "rid"],
}
FLIP: JSON = {
    "type": "object",
    "properties": {"timestamp": DATETIME, "up": {"type": "integer", "enum": [0, 1]}},
    "required": ["timestamp", "up"],
}
CHANNEL: JSON = {
    "type": "object",
    "properties": {
        "id": {"type": "string", "format": "uuid"},
        "name": STR,
        "kind": STR,
    },
    "required": ["id", "name", "kind"],
}
CHANNEL_DETAIL: JSON = {
    "type": "object",
    "properties": {
        **CHANNEL["properties"],
        "config": {"type": "object", "description": "The kind's settings."},
        "disabled": BOOL,
        "last_notify": NULLABLE_DATETIME,
        "last_error": {**STR, "description": "The last delivery problem, or empty."},
        "checks": {"type": "array", "items": {"type": "string", "format": "uuid"}},
        "email_verified": {
            **BOOL,
            "description": "Email channels only: every address has confirmed.",
        },
        "unverified": {
            "type": "array",
            "items": STR,
            "description": "Email channels only: addresses still to confirm "
            "(they were emailed a link and get no alerts until they use it).",
        },
    },
    "required": [*CHANNEL["required"], "config", "disabled", "last_notify"],
}
CHANNEL_SPEC: JSON = {
    "type": "object",
    "properties": {
        "kind": {**STR, "description": "One of the channel kinds (see docs)."},
        "name": {**STR, "maxLength": 100},
        "config": {"type": "object", "description": "Validated by the kind."},
    },
}
TEST_ALERT: JSON = {
    "type": "object",
    "properties": {
        "id": {"type": "string", "format": "uuid"},
        "status": {"type": "string", "enum": ["up", "down"]},
        "state": {"type": "string", "enum": ["sent", "failed", "pending"]},
        "error": STR,
    },
    "required": ["id", "status", "state", "error"],
}
BADGE_FORMATS = ("svg", "svg3", "json", "json3", "shields", "shields3")
BADGES: JSON = {
    "type": "object",
    "properties": {
        "badges": {
            "type": "object",
            "description": "One entry per tag, and `*` for all checks.",
            "additionalProperties": {
                "type": "object",
                "properties": {
                    f: {"type": "string", "format": "uri"} for f in BADGE_FORMATS
                },
                "required": list(BADGE_FORMATS),
            },
        }
    },
    "required": ["badges"],
}


def check_spec_schema() -> JSON:
    """The create/update body; every field optional, strict types, `null` rejected."""
    fields = CheckSpecSerializer().fields.items()
    properties = {name: cast(StrictField, f).schema() for name, f in fields}
    # Any type: upstream reads it with str(), and ignores it when the header is set.
    properties["api_key"] = {"description": "Alternative to the X-Api-Key header."}
    return {"type": "object", "properties": properties}


HTML_404 = OpenApiResponse(STR, description="No check with this UUID (HTML page).")


def no_body(description: str) -> OpenApiResponse:
    return OpenApiResponse(description=description)


def error(description: str) -> OpenApiResponse:
    return OpenApiResponse(ERROR, description=description)


# A status code, or (status code, media type) for an answer that is not JSON.
Responses = dict[int | tuple[int, str], OpenApiResponse | JSON]

AUTH_ERRORS: Responses = {
    401: error("`missing api key` or `wrong api key`"),
    429: error("`rate limit exceeded` (only when API_RATE_LIMIT is set)"),
}
OTHER_PROJECT: Responses = {403: no_body("The check belongs to another project.")}
BAD_BODY: Responses = {400: error("Unparsable body or `json validation error: ...`")}


@dataclass(frozen=True)
class Operation:
    summary: str
    responses: Callable[[int], Responses]  # built per API version
    request: JSON | None = None
    parameters: list[OpenApiParameter] = field(default_factory=list)
    public: bool = False


def _check(v: int) -> JSON:
    return check_schema(v)


UNIQUE_KEY = OpenApiParameter(
    "unique_key",
    str,
    OpenApiParameter.PATH,
    pattern="^[A-z0-9]{40}$",
    description="The check's `unique_key` (as read-only keys see it).",
)
FLIP_PARAMS = [
    OpenApiParameter(
        "start",
        {"type": "integer", "minimum": 0, "maximum": 10_000_000_000},
        description="Flips at or after this UNIX time (0: no filter).",
    ),
    OpenApiParameter(
        "end",
        {"type": "integer", "minimum": 0, "maximum": 10_000_000_000},
        description="Flips before this UNIX time (0: no filter).",
    ),
    OpenApiParameter(
        "seconds",
        {"type": "integer", "minimum": 0, "maximum": MAX_SECONDS},
        description="Flips of the last this many seconds (0: no filter).",
    ),
]
LIST_PARAMS = [
    OpenApiParameter(
        "tag", str, many=True, description="Only checks with all of these tags."
    ),
    OpenApiParameter("slug", str, description="Only checks with this slug."),
]
FLIPS: Responses = {
    200: wrapped("flips", FLIP),
    400: no_body("A bad start, end or seconds value."),
}


def _flips_uuid(v: int) -> Responses:
    return {**FLIPS, **AUTH_ERRORS, **OTHER_PROJECT, (404, "text/html"): HTML_404}


def _channel_responses(v: int, body: JSON) -> dict[Any, Any]:
    if v < 3:
        return {404: no_body("v3 only."), **AUTH_ERRORS}
    return {
        200: body,
        **AUTH_ERRORS,
        403: no_body("The integration belongs to another project."),
        (404, "text/html"): OpenApiResponse(
            STR, description="No integration with this UUID (HTML page)."
        ),
    }


OPERATIONS: dict[tuple[str, str], Operation] = {
    ("ChecksView", "GET"): Operation(
        "List checks",
        lambda v: {200: wrapped("checks", _check(v)), **AUTH_ERRORS},
        parameters=LIST_PARAMS,
    ),
    ("ChecksView", "POST"): Operation(
        "Create a check (or update the one matching `unique`)",
        lambda v: {
            201: OpenApiResponse(_check(v), description="Created."),
            200: OpenApiResponse(_check(v), description="An existing check matched."),
            **BAD_BODY,
            **AUTH_ERRORS,
            403: no_body("The account's check limit is reached."),
        },
        request=check_spec_schema(),
    ),
    ("CheckView", "GET"): Operation(
        "Get a check",
        lambda v: {
            200: _check(v),
            **AUTH_ERRORS,
            **OTHER_PROJECT,
            (404, "text/html"): HTML_404,
        },
    ),
    ("CheckView", "POST"): Operation(
        "Update a check (only the fields sent change)",
        lambda v: {
            200: _check(v),
            **BAD_BODY,
            **AUTH_ERRORS,
            **OTHER_PROJECT,
            (404, "text/html"): HTML_404,
        },
        request=check_spec_schema(),
    ),
    ("CheckView", "DELETE"): Operation(
        "Delete a check",
        lambda v: {
            200: _check(v),
            **AUTH_ERRORS,
            **OTHER_PROJECT,
            (404, "text/html"): HTML_404,
        },
    ),
    ("CheckByUniqueKeyView", "GET"): Operation(
        "Get a check by its unique_key",
        lambda v: {200: _check(v), **AUTH_ERRORS, 404: no_body("No such check.")},
        parameters=[UNIQUE_KEY],
    ),
    ("PauseView", "POST"): Operation(
        "Pause a check",
        lambda v: {
            200: _check(v),
            **BAD_BODY,
            **AUTH_ERRORS,
            **OTHER_PROJECT,
            (404, "text/html"): HTML_404,
        },
    ),
    ("ResumeView", "POST"): Operation(
        "Resume a paused check",
        lambda v: {
            200: _check(v),
            **BAD_BODY,
            **AUTH_ERRORS,
            **OTHER_PROJECT,
            (404, "text/html"): HTML_404,
            (409, "text/html"): OpenApiResponse(STR, description="check is not paused"),
        },
    ),
    ("PingsView", "GET"): Operation(
        "List a check's pings (newest first)",
        lambda v: {
            200: wrapped("pings", PING),
            **AUTH_ERRORS,
            **OTHER_PROJECT,
            (404, "text/html"): HTML_404,
        },
    ),
    ("PingBodyView", "GET"): Operation(
        "Get a ping's body",
        lambda v: {
            (200, "text/plain"): OpenApiResponse(STR, description="The raw body."),
            **AUTH_ERRORS,
            **OTHER_PROJECT,
            404: no_body("No such check, ping, or body."),
        },
    ),
    ("FlipsView", "GET"): Operation(
        "List a check's status changes", _flips_uuid, parameters=FLIP_PARAMS
    ),
    ("FlipsByUniqueKeyView", "GET"): Operation(
        "List a check's status changes, by unique_key",
        lambda v: {**FLIPS, **AUTH_ERRORS, 404: no_body("No such check.")},
        parameters=[UNIQUE_KEY, *FLIP_PARAMS],
    ),
    ("ChannelsView", "GET"): Operation(
        "List integrations",
        lambda v: {200: wrapped("channels", CHANNEL), **AUTH_ERRORS},
    ),
    ("ChannelsView", "POST"): Operation(
        "Create an integration (v3, hcserver addition)",
        lambda v: (
            {
                201: OpenApiResponse(CHANNEL_DETAIL, description="Created."),
                **BAD_BODY,
                **AUTH_ERRORS,
            }
            if v >= 3
            else {405: no_body("v3 only."), **BAD_BODY, **AUTH_ERRORS}
        ),
        request={**CHANNEL_SPEC, "required": ["kind"]},
    ),
    ("ChannelView", "GET"): Operation(
        "Get an integration (v3, hcserver addition)",
        lambda v: _channel_responses(v, CHANNEL_DETAIL),
    ),
    ("ChannelView", "POST"): Operation(
        "Update an integration's name and/or config (v3, hcserver addition)",
        lambda v: {**_channel_responses(v, CHANNEL_DETAIL), **BAD_BODY},
        request=CHANNEL_SPEC,
    ),
    ("ChannelView", "DELETE"): Operation(
        "Delete an integration (v3, hcserver addition)",
        lambda v: _channel_responses(v, CHANNEL_DETAIL),
    ),
    ("ChannelTestView", "POST"): Operation(
        "Send a test alert now; the outcome (v3, hcserver addition)",
        lambda v: {**_channel_responses(v, TEST_ALERT), **BAD_BODY},
    ),
    ("BadgesView", "GET"): Operation(
        "List badge URLs", lambda v: {200: BADGES, **AUTH_ERRORS}
    ),
    ("StatusView", "GET"): Operation(
        "Database health",
        lambda v: {(200, "text/html"): OpenApiResponse(STR, description="`OK`")},
        public=True,
    ),
}


class ApiAutoSchema(AutoSchema):
    def _operation(self) -> Operation | None:
        return OPERATIONS.get((type(self.view).__name__, self.method))

    def _version(self) -> int:
        match = re.match(r"^/api/v(\d)/", self.path)
        return int(match.group(1)) if match else 3

    def get_summary(self) -> str | None:
        op = self._operation()
        return op.summary if op else super().get_summary()

    def get_tags(self) -> list[str]:
        return [f"v{self._version()}"]

    def get_operation_id(self) -> str:
        op = self._operation()
        name = type(self.view).__name__.removesuffix("View")
        return (
            f"v{self._version()}_{name}_{self.method.lower()}"
            if op
            else super().get_operation_id()
        )

    def get_override_parameters(self) -> list[Any]:
        op = self._operation()
        return list(op.parameters) if op else []

    def get_request_serializer(self) -> Any:
        op = self._operation()
        if op and op.request is not None:
            return {"application/json": op.request}
        return None

    def get_response_serializers(self) -> Any:
        op = self._operation()
        if op is None:
            return super().get_response_serializers()
        return op.responses(self._version())

    def get_auth(self) -> list[Any]:
        op = self._operation()
        if op and op.public:
            return []
        return super().get_auth()


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "checks.api.authentication.ApiKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema: AutoSchema) -> JSON:
        return {"type": "apiKey", "in": "header", "name": "X-Api-Key"}


class StrictFieldSchema(OpenApiSerializerFieldExtension):
    target_class = "checks.api.serializers.StrictField"
    match_subclasses = True

    def map_serializer_field(self, auto_schema: AutoSchema, direction: str) -> JSON:
        return self.target.schema()


MANAGEMENT_API = re.compile(r"^/api/v[123]/(checks|channels|badges|status)/")


def only_api_paths(endpoints: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Describe the Management API only (not pings, badges, dashboard, AWS hooks)."""
    return [e for e in endpoints if MANAGEMENT_API.match(e[0])]
