"""Webhook: one configurable HTTP request for down, another for up.

Placeholders as in Healthchecks: `$CODE $STATUS $NOW $NAME $NAME_JSON $SLUG $TAGS
$TAG1.. $JSON $BODY $BODY_JSON $EXITSTATUS`, replaced in one pass (a value that
contains `$NAME` stays as it is). hcserver addition: an optional HMAC signature.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from collections.abc import Callable, Container
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from django.utils import timezone
from rest_framework import serializers

from checks.api.serializers import check_dict
from integrations import http
from integrations.base import SECRET, ChannelKind, http_url_field
from integrations.message import Message, build_message

if TYPE_CHECKING:
    from checks.models import Channel, Check, Notification

METHODS = ["GET", "POST", "PUT"]
FIELD_LIMIT = 1000
PLACEHOLDER = re.compile(
    r"\$(TAG\d+|NAME_JSON|BODY_JSON|EXITSTATUS|STATUS|CODE|NOW|NAME|SLUG|TAGS|JSON|BODY)"
)
HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
SIGNATURE_HEADER = "X-Hc-Signature"
TIMESTAMP_HEADER = "X-Hc-Timestamp"


def _validate_headers(value: dict[str, str]) -> None:
    for name, header in value.items():
        if not HEADER_NAME.match(name):
            raise serializers.ValidationError(f"Invalid header name: {name!r}.")
        if "\r" in header or "\n" in header:
            raise serializers.ValidationError(f"Header {name} contains a line break.")


def _body_field() -> serializers.CharField:
    return serializers.CharField(
        max_length=FIELD_LIMIT, allow_blank=True, default="", trim_whitespace=False
    )


def _url_field() -> serializers.CharField:
    return http_url_field(allow_blank=True, default="")


def _headers_field() -> serializers.DictField:
    return serializers.DictField(
        child=serializers.CharField(max_length=FIELD_LIMIT, allow_blank=True),
        default=dict,
        validators=[_validate_headers],
    )


class WebhookConfig(serializers.Serializer):
    method_down = serializers.ChoiceField(METHODS, default="POST")
    url_down = _url_field()
    body_down = _body_field()
    headers_down = _headers_field()
    method_up = serializers.ChoiceField(METHODS, default="POST")
    url_up = _url_field()
    body_up = _body_field()
    headers_up = _headers_field()
    # hcserver addition: sign each request with HMAC-SHA256 under this secret.
    secret = serializers.CharField(
        max_length=200,
        allow_blank=True,
        default="",
        style=SECRET,
        help_text="Optional: sign requests (X-Hc-Signature, HMAC-SHA256).",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs.get("url_down") and not attrs.get("url_up"):
            raise serializers.ValidationError("Set url_down, url_up or both.")
        return attrs


def check_json(check: Check) -> dict[str, Any]:
    """The check as the v3 API shows it to a read-write key ($JSON)."""
    channels = (
        ",".join(sorted(str(c) for c in check.channels.values_list("code", flat=True)))
        if check.pk
        else ""
    )
    return check_dict(check, v=3, readonly=False, channels=channels, now=timezone.now())


def placeholders(
    message: Message, used: Container[str] | None = None
) -> dict[str, str]:
    """Values for URL and headers (the body adds $BODY and $BODY_JSON).

    `used`: the names the templates contain. $JSON (a query for the check's
    channels) and $EXITSTATUS (the last ping) are computed only when used.
    """
    check = message.check
    values = {
        "CODE": str(check.code),
        "STATUS": message.status,
        "NOW": message.changed_at.replace(microsecond=0).isoformat(),
        "NAME": check.name,
        "NAME_JSON": json.dumps(check.name),
        "SLUG": check.slug,
        "TAGS": check.tags,
    }
    if used is None or "JSON" in used:
        values["JSON"] = json.dumps(check_json(check))
    if used is None or "EXITSTATUS" in used:
        values["EXITSTATUS"] = str(message.exitstatus)
    for i, tag in enumerate(check.tags_list(), start=1):
        values[f"TAG{i}"] = tag
    return values


def url_quote(value: str) -> str:
    return quote(value, safe="")


def substitute(
    template: str,
    values: dict[str, str],
    *,
    escape: Callable[[str], str] | None = None,
) -> str:
    """Replace known `$` placeholders in one pass; unknown ones stay literal.

    `escape` transforms each value (URL-encoding in URLs, shell quoting, ...).
    """

    def replace(match: re.Match[str]) -> str:
        value = values.get(match.group(1))
        if value is None:
            return match.group(0)
        return escape(value) if escape else value

    return PLACEHOLDER.sub(replace, template)


def _header_value(value: str) -> str:
    # Header values travel as latin-1: other characters become XML character
    # references (as upstream), line breaks become spaces (no header injection).
    value = value.replace("\r", " ").replace("\n", " ")
    return value.encode("latin-1", "xmlcharrefreplace").decode("latin-1")


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """`sha256=<hex>` of HMAC-SHA256(secret, "<timestamp>." + body)."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


class Webhook(ChannelKind):
    kind = "webhook"
    label = "Webhook"
    config = WebhookConfig

    def is_noop(self, channel: Channel, status: str) -> bool:
        """No URL for this direction: nothing to send."""
        return not channel.config.get(f"url_{status}")

    def send(self, channel: Channel, notification: Notification) -> None:
        """Send the request configured for the notification's status."""
        config = self.load_config(channel)
        message = build_message(notification)
        status = message.status
        url_template = config[f"url_{status}"]
        if not url_template:
            return
        method = config[f"method_{status}"]
        body_template = config[f"body_{status}"] if method in ("POST", "PUT") else ""
        templates = [url_template, body_template, *config[f"headers_{status}"].values()]
        used = set(PLACEHOLDER.findall("\n".join(templates)))
        values = placeholders(message, used)
        url = substitute(url_template, values, escape=url_quote)
        headers = {
            name: _header_value(substitute(value, values))
            for name, value in config[f"headers_{status}"].items()
        }
        body = b""
        if body_template:
            if used & {"BODY", "BODY_JSON"}:
                excerpt = message.body_excerpt()
                values |= {"BODY": excerpt, "BODY_JSON": json.dumps(excerpt)}
            body = substitute(body_template, values).encode()
        if config["secret"]:
            timestamp = str(int(time.time()))
            headers[TIMESTAMP_HEADER] = timestamp
            headers[SIGNATURE_HEADER] = sign(config["secret"], timestamp, body)
        http.request(method, url, headers=headers, data=body or None)
