"""`channels/`: the project's integrations (rw key only).

`GET channels/` is Healthchecks' (all versions). The rest is an hcserver addition,
v3 only: create (`POST channels/`), read, update and delete (`channels/<uuid>`) and
send a test alert (`POST channels/<uuid>/test`). A channel's `config` is validated
by its kind's serializer, the same one the dashboard's forms use.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.http import Http404
from rest_framework.request import Request
from rest_framework.response import Response

from checks import alerts, services
from checks.api.base import ApiView
from checks.api.errors import ApiError, validation_error
from checks.models import Channel
from integrations import email_links, registry
from integrations.base import first_error

NAME_LIMIT = 100


def channel_dict(channel: Channel) -> dict[str, Any]:
    return {"id": str(channel.code), "name": channel.name, "kind": channel.kind}


def channel_detail(channel: Channel) -> dict[str, Any]:
    """The v3 representation of one channel (hcserver addition)."""
    last_notify = channel.last_notify
    verification: dict[str, Any] = {}
    if channel.kind == "email":
        waiting = email_links.unverified(channel)
        verification = {"email_verified": not waiting, "unverified": waiting}
    return {
        **channel_dict(channel),
        **verification,
        "config": channel.config,
        "disabled": channel.disabled,
        "last_notify": last_notify.replace(microsecond=0).isoformat()
        if last_notify
        else None,
        "last_error": channel.last_error,
        "checks": sorted(
            str(code) for code in channel.checks.values_list("code", flat=True)
        ),
    }


def _body(request: Request) -> dict[str, Any]:
    data = request.data
    if not isinstance(data, dict):
        raise validation_error("json must be an object")
    return data


def _name(data: dict[str, Any], default: str) -> str:
    name = data.get("name", default)
    if not isinstance(name, str):
        raise validation_error("name is not a string")
    if len(name) > NAME_LIMIT:
        raise validation_error(f"name is too long (at most {NAME_LIMIT} characters)")
    return name


def _config(kind: str, data: dict[str, Any]) -> dict[str, Any]:
    """The kind's validated config from the body; 400 with the first problem."""
    config = data.get("config", {})
    if not isinstance(config, dict):
        raise validation_error("config is not an object")
    serializer = registry.get(kind).config(data=config)
    if not serializer.is_valid():
        raise validation_error(f"config: {first_error(serializer.errors)}")
    return dict(serializer.validated_data)


class ChannelsView(ApiView):
    """`channels/`: list (upstream), and create in v3 (attached to every check)."""

    methods = ("GET", "POST")

    def get(self, request: Request, v: int) -> Response:
        channels = Channel.objects.filter(project_id=self.key.project_id).order_by("id")
        return Response({"channels": [channel_dict(c) for c in channels]})

    def post(self, request: Request, v: int) -> Response:
        if self.v < 3:
            raise ApiError(405)
        data = _body(request)
        kind = data.get("kind")
        offered = sorted(k for k, _ in registry.choices())  # not those turned off
        if kind not in offered:
            raise validation_error(f"kind must be one of: {', '.join(offered)}")
        name = _name(data, "")
        config = _config(kind, data)
        channel = services.create_channel(
            project=self.project, kind=kind, name=name, config=config
        )
        return Response(channel_detail(channel), status=201)


class ChannelMixin:
    kwargs: dict[str, Any]
    v: int
    key: Any

    def get_channel(self, code: uuid.UUID) -> Channel:
        """v3 only; Django's 404 if unknown, empty 403 if of another project."""
        if self.v < 3:
            raise ApiError(404)
        channel = Channel.objects.filter(code=code).first()
        if channel is None:
            raise Http404
        if channel.project_id != self.key.project_id:
            raise ApiError(403)
        return channel


class ChannelView(ChannelMixin, ApiView):
    """`channels/<uuid>`: read, update (name and/or config), delete."""

    methods = ("GET", "POST", "DELETE")

    def get(self, request: Request, v: int, code: uuid.UUID) -> Response:
        return Response(channel_detail(self.get_channel(code)))

    def post(self, request: Request, v: int, code: uuid.UUID) -> Response:
        channel = self.get_channel(code)
        data = _body(request)
        if "kind" in data and data["kind"] != channel.kind:
            raise validation_error("kind cannot be changed")
        name = _name(data, channel.name)
        config = _config(channel.kind, data) if "config" in data else channel.config
        services.update_channel(channel=channel, name=name, config=config)
        return Response(channel_detail(channel))

    def delete(self, request: Request, v: int, code: uuid.UUID) -> Response:
        channel = self.get_channel(code)
        detail = channel_detail(channel)
        channel.delete()
        return Response(detail)


class ChannelTestView(ChannelMixin, ApiView):
    """`channels/<uuid>/test`: send a test alert now; the outcome, not a status code."""

    methods = ("POST",)

    def post(self, request: Request, v: int, code: uuid.UUID) -> Response:
        channel = self.get_channel(code)
        notification = alerts.send_test_notification(channel=channel)
        return Response(
            {
                "id": str(notification.code),
                "status": notification.check_status,
                "state": notification.state,
                "error": notification.error,
            }
        )
