"""The base of every API view: key auth, upstream's wire format, CORS."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.utils import timezone
from rest_framework.response import Response
from rest_framework.views import APIView

from checks import services
from checks.api.authentication import (
    ApiKeyAuthentication,
    ApiKeyRateThrottle,
    HasApiKey,
)
from checks.api.errors import ApiError, exception_handler
from checks.api.parsing import AnyJSONParser, IgnoreAccept, PlainJSONRenderer
from checks.api.schema import ApiAutoSchema
from checks.api.serializers import check_dict
from checks.models import ApiKey, Check, Project


class ApiView(APIView):
    """Upstream's `@cors(...)` + `@authorize`/`@authorize_read`, on DRF."""

    authentication_classes = [ApiKeyAuthentication]
    permission_classes = [HasApiKey]
    throttle_classes = [ApiKeyRateThrottle]
    parser_classes = [AnyJSONParser]
    renderer_classes = [PlainJSONRenderer]
    content_negotiation_class = IgnoreAccept
    # Methods this URL answers (others: 405, empty body) and read-only keys may use.
    methods: ClassVar[tuple[str, ...]] = ("GET",)
    read_methods: ClassVar[tuple[str, ...]] = ()
    cors = True
    schema = ApiAutoSchema()

    @property
    def allowed_methods(self) -> list[str]:
        return [*self.methods, "OPTIONS"]

    def dispatch(
        self, request: HttpRequest, *args: Any, **kwargs: Any
    ) -> HttpResponseBase:
        # Before DRF: OPTIONS and unknown methods are answered without a key.
        response: HttpResponseBase
        if self.cors and request.method == "OPTIONS":
            response = HttpResponse(status=204)
        elif request.method not in self.methods:
            response = HttpResponse(status=405)
        else:
            response = super().dispatch(request, *args, **kwargs)
        if self.cors:
            response["Access-Control-Allow-Origin"] = "*"
            response["Access-Control-Allow-Headers"] = "X-Api-Key"
            response["Access-Control-Allow-Methods"] = ", ".join(
                (*self.methods, "OPTIONS")
            )
            response["Access-Control-Max-Age"] = "600"
        return response

    def get_exception_handler(
        self,
    ) -> Callable[[Exception, dict[str, Any]], HttpResponse | None]:
        return exception_handler

    @property
    def v(self) -> int:
        return int(self.kwargs["v"])

    @property
    def key(self) -> ApiKey:
        auth = self.request.auth
        assert isinstance(auth, ApiKey)  # noqa: S101 - HasApiKey ran first
        return auth

    @property
    def project(self) -> Project:
        return self.key.project

    def get_check(self, code: Any) -> Check:
        """The check with this UUID: Django's 404 if unknown, empty 403 if not ours."""
        check = Check.objects.filter(code=code).first()
        if check is None:
            raise Http404
        if check.project_id != self.key.project_id:
            raise ApiError(403)
        return check

    def get_check_by_unique_key(self, unique_key: str) -> Check:
        """A check of the key's project by its unique_key; 404 (empty) if none."""
        for check in Check.objects.filter(project_id=self.key.project_id):
            if check.unique_key == unique_key:
                return check
        raise ApiError(404)

    def check_response(
        self, check: Check, *, status: int = 200, channels: str | None = None
    ) -> Response:
        if channels is None and not self.key.read_only:
            codes = services.channel_codes(project=self.project, check=check)
            channels = codes.get(check.pk, "")
        data = check_dict(
            check,
            v=self.v,
            readonly=self.key.read_only,
            channels=channels or "",
            now=timezone.now(),
        )
        return Response(data, status=status)
