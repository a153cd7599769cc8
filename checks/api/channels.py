"""`channels/`: the project's integrations (rw key only).

Kept apart from the check views: the alerting slice extends it (create, update,
delete, test) for v3.
"""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request
from rest_framework.response import Response

from checks.api.base import ApiView
from checks.models import Channel


def channel_dict(channel: Channel) -> dict[str, Any]:
    return {"id": str(channel.code), "name": channel.name, "kind": channel.kind}


class ChannelsView(ApiView):
    methods = ("GET",)

    def get(self, request: Request, v: int) -> Response:
        channels = Channel.objects.filter(project_id=self.key.project_id).order_by("id")
        return Response({"channels": [channel_dict(c) for c in channels]})
