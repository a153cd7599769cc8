"""Request bodies and responses exactly as Healthchecks reads and writes them.

Upstream parses every POST body as JSON whatever its Content-Type (clients often
send `curl -d '{...}'`, i.e. form-encoded) and ignores `Accept`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import IO, Any

from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import BaseParser
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request

from checks.api.errors import ApiError


class AnyJSONParser(BaseParser):
    """Parse the body as a JSON object; 400 with upstream's messages otherwise."""

    media_type = "*/*"

    def parse(
        self,
        stream: IO[bytes],
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        raw = stream.read()
        if not raw:
            return {}
        try:
            data = json.loads(raw.decode())
        except (UnicodeDecodeError, ValueError, RecursionError) as e:
            raise ApiError(400, "could not parse request body") from e
        if not isinstance(data, dict):
            raise ApiError(400, "json validation error: value is not an object")
        return data


class PlainJSONRenderer(JSONRenderer):
    """`json.dumps` defaults, like Django's JsonResponse that upstream uses."""

    ensure_ascii = True
    compact = False


class IgnoreAccept(BaseContentNegotiation):
    """The first parser and renderer, whatever the request's headers say."""

    def select_parser(
        self, request: Request, parsers: Iterable[BaseParser]
    ) -> BaseParser:
        return next(iter(parsers))

    def select_renderer(
        self,
        request: Request,
        renderers: Iterable[BaseRenderer],
        format_suffix: str | None = None,
    ) -> tuple[BaseRenderer, str]:
        renderer = next(iter(renderers))
        return renderer, renderer.media_type
