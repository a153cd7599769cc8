"""The check endpoints of spec 4.6; one class per URL, short methods."""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import BooleanField, ExpressionWrapper, Q
from django.http import HttpResponse
from django.utils import timezone
from rest_framework.request import Request
from rest_framework.response import Response

from checks import badges, services
from checks.api.base import ApiView
from checks.api.errors import ApiError, validation_error
from checks.api.serializers import (
    FINISHES,
    ROW_FIELDS,
    UNSTORABLE,
    CheckRow,
    CheckSpecSerializer,
    check_dict,
    flip_dict,
    ping_dict,
)
from checks.models import Channel, Check, Flip, Ping, PingKind
from checks.services import MAX_DURATION

MAX_PINGS = 1000
# Beyond this many pings whose run start is not in the page, durations are dropped.
MAX_DURATION_LOOKUPS = 10


class SpecMixin:
    """Validate a create/update body; resolve its `channels`."""

    def spec(self, request: Request) -> CheckSpecSerializer:
        serializer = CheckSpecSerializer(data=request.data)
        if not serializer.is_valid():
            raise validation_error(serializer.first_error())
        return serializer

    def channels(self, spec: CheckSpecSerializer, project: Any) -> list[Channel] | None:
        """The channels to assign; None leaves them as they are."""
        if "channels" not in spec.validated_data:
            return None
        try:
            return services.resolve_channels(
                project=project, spec=spec.validated_data["channels"]
            )
        except services.ChannelSpecError as e:
            raise ApiError(400, str(e)) from e


def _apply(
    check: Check, fields: dict[str, Any], channels: list[Channel] | None
) -> None:
    """Save changes to an existing check; 404 (empty) if it was deleted meanwhile."""
    if not services.update_check(check=check, fields=fields):
        raise ApiError(404)
    if "reminder_interval" in fields:
        services.reschedule_reminder(check=check, now=timezone.now())
    if channels is not None:
        services.set_check_channels(check=check, channels=channels)


class ChecksView(SpecMixin, ApiView):
    """`checks/`: list (read key ok) and create / upsert (rw key)."""

    methods = ("GET", "POST")
    read_methods = ("GET",)

    def get(self, request: Request, v: int) -> Response:
        checks = Check.objects.filter(project_id=self.key.project_id).order_by("id")
        tags = request.query_params.getlist("tag")
        slug = request.query_params.get("slug")
        if any(UNSTORABLE.search(t) for t in [*tags, slug or ""]):
            return Response({"checks": []})  # no stored check can match
        for tag in tags:
            checks = checks.filter(tags__contains=tag)
        if slug is not None:
            checks = checks.filter(slug=slug)
        wanted = set(tags)
        rows = (CheckRow(*values) for values in checks.values_list(*ROW_FIELDS))
        selected = [c for c in rows if wanted <= set(c.tags_list())]
        readonly = self.key.read_only
        codes = {} if readonly else services.channel_codes(project=self.project)
        now = timezone.now()
        data = [
            check_dict(c, v=v, readonly=readonly, channels=codes.get(c.id, ""), now=now)
            for c in selected
        ]
        return Response({"checks": data})

    def post(self, request: Request, v: int) -> Response:
        spec = self.spec(request)
        project = self.project
        lookup = spec.unique_lookup()
        with transaction.atomic():
            existing = None
            if lookup is not None:
                existing = services.find_unique_check(project=project, lookup=lookup)
            if existing is not None:
                fields = spec.check_fields(v=v, check=existing)
                _apply(existing, fields, self.channels(spec, project))
                existing.refresh_from_db()
                return self.check_response(existing)
            if services.checks_available(project.owner) <= 0:
                raise ApiError(403)
            channels = self.channels(spec, project)
            fields = spec.check_fields(v=v, check=None)
            check = services.create_check(project=project, **fields)
            if channels:
                services.set_check_channels(check=check, channels=channels)
        return self.check_response(check, status=201)


class CheckView(SpecMixin, ApiView):
    """`checks/<uuid>`: get (read key ok), update, delete."""

    methods = ("POST", "DELETE", "GET")
    read_methods = ("GET",)

    def get(self, request: Request, v: int, code: uuid.UUID) -> Response:
        return self.check_response(self.get_check(code))

    def post(self, request: Request, v: int, code: uuid.UUID) -> Response:
        check = self.get_check(code)
        spec = self.spec(request)
        with transaction.atomic():
            channels = self.channels(spec, check.project)
            _apply(check, spec.check_fields(v=v, check=check), channels)
        return self.check_response(check)

    def delete(self, request: Request, v: int, code: uuid.UUID) -> Response:
        check = self.get_check(code)
        services.delete_check(check=check)
        # Upstream answers with the deleted check; its channel links are gone.
        return self.check_response(check, channels="")


class CheckByUniqueKeyView(ApiView):
    """`checks/<unique_key>`: get by the read-only identifier."""

    methods = ("GET",)
    read_methods = ("GET",)

    def get(self, request: Request, v: int, unique_key: str) -> Response:
        return self.check_response(self.get_check_by_unique_key(unique_key))


class PauseView(ApiView):
    """`checks/<uuid>/pause`: already paused is fine (200, nothing changes)."""

    methods = ("POST",)

    def post(self, request: Request, v: int, code: uuid.UUID) -> Response:
        check = self.get_check(code)
        services.pause_check(check=check, now=timezone.now())
        return self.check_response(check)


class ResumeView(ApiView):
    """`checks/<uuid>/resume`: 409 `check is not paused` unless paused."""

    methods = ("POST",)

    def post(
        self, request: Request, v: int, code: uuid.UUID
    ) -> Response | HttpResponse:
        check = self.get_check(code)
        if not services.resume_check(check=check, now=timezone.now()):
            return HttpResponse("check is not paused", status=409)
        return self.check_response(check)


def durations(check: Check, pings: Sequence[Ping]) -> dict[int, timedelta | None]:
    """Run durations of finish pings (newest first), upstream's `prepare_durations`.

    A finish ping's run started at the newest earlier start/finish ping with the same
    rid within 72 h, if that one is a start. Pings whose run began before the page
    are looked up in the database, at most MAX_DURATION_LOOKUPS of them.
    """
    result: dict[int, timedelta | None] = {}
    lookups: list[Ping] = []
    for i, ping in enumerate(pings):
        if ping.kind not in FINISHES or ping.n == 1:
            continue
        earlier = _earlier_in_page(ping, pings[i + 1 :])
        if earlier is _UNKNOWN:
            lookups.append(ping)
        else:
            result[ping.pk] = _duration(ping, earlier)
    if len(lookups) > MAX_DURATION_LOOKUPS:
        return {}
    for ping in lookups:
        earlier = (
            Ping.objects.filter(
                owner=check,
                rid=ping.rid,
                id__lt=pings[-1].pk,
                created__gte=ping.created - MAX_DURATION,
                kind__in=[PingKind.START, *FINISHES],
            )
            .order_by("-id")
            .first()
        )
        result[ping.pk] = _duration(ping, earlier)
    return result


_UNKNOWN = Ping()


def _earlier_in_page(ping: Ping, older: Sequence[Ping]) -> Ping | None:
    for candidate in older:
        if candidate.created < ping.created - MAX_DURATION:
            return None
        if candidate.rid == ping.rid and candidate.kind in (PingKind.START, *FINISHES):
            return candidate
    oldest = older[-1] if older else ping
    return None if oldest.n == 1 else _UNKNOWN


def _duration(ping: Ping, earlier: Ping | None) -> timedelta | None:
    if earlier is None or earlier.kind != PingKind.START:
        return None
    return ping.created - earlier.created


class PingsView(ApiView):
    """`checks/<uuid>/pings/`: the newest pings (rw key only)."""

    methods = ("GET",)

    def get(self, request: Request, v: int, code: uuid.UUID) -> Response:
        check = self.get_check(code)
        limit = min(services.ping_log_limit(check.project.owner_id), MAX_PINGS)
        # Bodies can be large: fetch only whether there is one.
        has_body = ExpressionWrapper(Q(body__isnull=False), output_field=BooleanField())
        pings = list(
            Ping.objects.filter(owner=check, n__gt=check.n_pings - limit)
            .defer("body")
            .annotate(has_body=has_body)
            .order_by("-id")[:limit]
        )
        found = durations(check, pings)
        code_str = str(check.code)
        data = [
            ping_dict(ping, v=v, code=code_str, duration=found.get(ping.pk))
            for ping in pings
        ]
        return Response({"pings": data})


class PingBodyView(ApiView):
    """`checks/<uuid>/pings/<n>/body`: the stored body, as text/plain (rw key only)."""

    methods = ("GET",)

    def get(self, request: Request, v: int, code: uuid.UUID, n: int) -> HttpResponse:
        check = self.get_check(code)
        if n <= check.n_pings - services.ping_log_limit(check.project.owner_id):
            raise ApiError(404)
        ping = Ping.objects.filter(owner=check, n=n).first()
        if ping is None or not ping.body:
            raise ApiError(404)
        return HttpResponse(bytes(ping.body), content_type="text/plain")


FLIP_LIMITS = {"start": 10_000_000_000, "end": 10_000_000_000, "seconds": 31_536_000}
INTEGER = re.compile(r"^-?\d+\Z")


def flip_filters(params: Any, now: datetime) -> Q:
    """`start`/`end` (UNIX time) and `seconds`; 400 (empty) on a bad value."""
    values = {}
    for name, maximum in FLIP_LIMITS.items():
        raw = params.get(name)
        if raw is None or raw == "":
            continue
        if not INTEGER.match(raw) or not 0 <= int(raw) <= maximum:
            raise ApiError(400)
        values[name] = int(raw)
    query = Q()
    if values.get("start"):
        query &= Q(created__gte=datetime.fromtimestamp(values["start"], tz=UTC))
    if values.get("end"):
        query &= Q(created__lt=datetime.fromtimestamp(values["end"], tz=UTC))
    if values.get("seconds"):
        query &= Q(created__gte=now - timedelta(seconds=values["seconds"]))
    return query


class FlipsMixin(ApiView):
    methods = ("GET",)
    read_methods = ("GET",)

    def flips(self, check: Check) -> Response:
        query = flip_filters(self.request.query_params, timezone.now())
        flips = Flip.objects.filter(query, owner=check).order_by("-created", "-id")
        return Response({"flips": [flip_dict(f) for f in flips]})


class FlipsView(FlipsMixin):
    """`checks/<uuid>/flips/` (read key ok)."""

    def get(self, request: Request, v: int, code: uuid.UUID) -> Response:
        return self.flips(self.get_check(code))


class FlipsByUniqueKeyView(FlipsMixin):
    """`checks/<unique_key>/flips/` (read key ok)."""

    def get(self, request: Request, v: int, unique_key: str) -> Response:
        return self.flips(self.get_check_by_unique_key(unique_key))


class BadgesView(ApiView):
    """`badges/`: badge URLs for every tag of the project and `*` (read key ok)."""

    methods = ("GET",)
    read_methods = ("GET",)

    def get(self, request: Request, v: int) -> Response:
        tags: set[str] = set()
        for value in Check.objects.filter(project=self.project).values_list(
            "tags", flat=True
        ):
            tags.update(t for t in value.split(" ") if t)
        return Response({"badges": badges.project_badges(self.project, tags)})


class StatusView(ApiView):
    """`status/`: is the database answering? (no key, no CORS, like upstream)."""

    authentication_classes = []
    permission_classes = []
    throttle_classes = []
    cors = False

    def get(self, request: Request, v: int) -> HttpResponse:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return HttpResponse("OK")
