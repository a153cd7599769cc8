"""Webhook channel: exact requests for down and up, placeholders, signature."""

import hashlib
import hmac
from datetime import UTC, datetime
from urllib.parse import unquote

import pytest

from checks.models import NotificationKind, Status
from integrations.base import DeliveryError
from integrations.message import build_message
from integrations.webhook import Webhook, WebhookConfig, placeholders, substitute
from tests.factories import (
    ChannelFactory,
    CheckFactory,
    FlipFactory,
    NotificationFactory,
    PingFactory,
)

pytestmark = pytest.mark.django_db
FLIP_TIME = datetime(2026, 11, 27, 12, 30, 15, 123456, tzinfo=UTC)


def _send(config, *, new_status=Status.DOWN, **check):
    check = CheckFactory(**({"name": "backup", "slug": "backup"} | check))
    old = Status.DOWN if new_status == Status.UP else Status.UP
    flip = FlipFactory(
        owner=check, old_status=old, new_status=new_status, created=FLIP_TIME
    )
    channel = ChannelFactory(project=check.project, kind="webhook", config=config)
    notification = NotificationFactory(flip=flip, channel=channel)
    Webhook().send(channel, notification)
    return notification


def test_down_sends_the_down_request(receiver):
    config = {
        "method_down": "POST",
        "url_down": f"{receiver.url}/down/$CODE?status=$STATUS",
        "body_down": '{"name": $NAME_JSON, "at": "$NOW"}',
        "headers_down": {"Content-Type": "application/json", "X-Check": "$NAME"},
        "url_up": f"{receiver.url}/up",
    }
    notification = _send(config)
    [request] = receiver.wait_for(1)
    code = notification.owner.code
    assert request.method == "POST"
    assert request.path == f"/down/{code}?status=down"
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["X-Check"] == "backup"
    assert request.json() == {"name": "backup", "at": "2026-11-27T12:30:15+00:00"}


def test_up_sends_the_up_request(receiver):
    config = {
        "url_down": f"{receiver.url}/down",
        "method_up": "PUT",
        "url_up": f"{receiver.url}/up/$SLUG",
        "body_up": "$STATUS",
        "headers_up": {"X-Up": "1"},
    }
    _send(config, new_status=Status.UP)
    [request] = receiver.wait_for(1)
    assert (request.method, request.path, request.body) == ("PUT", "/up/backup", b"up")
    assert request.headers["X-Up"] == "1"


def test_get_sends_no_body(receiver):
    config = {"method_down": "GET", "url_down": receiver.url, "body_down": "ignored"}
    _send(config)
    [request] = receiver.wait_for(1)
    assert (request.method, request.body) == ("GET", b"")


def test_placeholders_in_url_are_url_encoded(receiver):
    config = {"method_down": "GET", "url_down": f"{receiver.url}/?n=$NAME&t=$TAG1"}
    _send(config, name="a b&c=d", tags="x/y z")
    [request] = receiver.wait_for(1)
    assert request.path == "/?n=a%20b%26c%3Dd&t=x%2Fy"
    assert unquote(request.path.split("n=")[1].split("&")[0]) == "a b&c=d"


def test_body_placeholders_include_last_ping_body_and_exit_status(receiver):
    check = CheckFactory(name="backup", tags="db nightly")
    PingFactory(owner=check, body=b'disk "full"', exitstatus=3)
    flip = FlipFactory(owner=check, created=FLIP_TIME)
    config = {
        "url_down": receiver.url,
        "body_down": "$BODY|$BODY_JSON|$EXITSTATUS|$TAGS|$TAG2|$TAG3",
    }
    channel = ChannelFactory(project=check.project, config=config)
    Webhook().send(channel, NotificationFactory(flip=flip, channel=channel))
    [request] = receiver.wait_for(1)
    assert request.body == b'disk "full"|"disk \\"full\\""|3|db nightly|nightly|$TAG3'


def test_exit_status_defaults_to_minus_one(receiver):
    _send({"url_down": receiver.url, "body_down": "$EXITSTATUS"})
    assert receiver.wait_for(1)[0].body == b"-1"


def test_json_placeholder_is_the_v3_check_representation(receiver):
    notification = _send({"url_down": receiver.url, "body_down": "$JSON"})
    document = receiver.wait_for(1)[0].json()
    check = notification.owner
    assert document["uuid"] == str(check.code)
    assert document["name"] == "backup"
    assert list(document)[:3] == ["name", "slug", "tags"]
    assert document["timeout"] == 86400


def test_substitution_is_single_pass():
    values = {"NAME": "$CODE", "CODE": "abc"}
    assert substitute("$NAME/$CODE", values) == "$CODE/abc"


def test_longest_placeholder_wins():
    values = {"NAME": "n", "NAME_JSON": '"n"', "TAG1": "a", "TAGS": "a b"}
    assert substitute("$NAME_JSON $NAME $TAGS $TAG1", values) == '"n" n a b a'


def test_non_latin1_header_values_become_character_references(receiver):
    config = {"url_down": receiver.url, "headers_down": {"X-Name": "$NAME"}}
    _send(config, name="snow ☃")
    [request] = receiver.wait_for(1)
    assert request.headers["X-Name"] == "snow &#9731;"


def test_signature_header_signs_timestamp_and_body(receiver):
    config = {"url_down": receiver.url, "body_down": "payload", "secret": "s3cret"}
    _send(config)
    [request] = receiver.wait_for(1)
    timestamp = request.headers["X-Hc-Timestamp"]
    expected = hmac.new(
        b"s3cret", timestamp.encode() + b".payload", hashlib.sha256
    ).hexdigest()
    assert request.headers["X-Hc-Signature"] == f"sha256={expected}"


def test_no_signature_without_secret(receiver):
    _send({"url_down": receiver.url})
    assert "X-Hc-Signature" not in receiver.wait_for(1)[0].headers


def test_empty_url_for_a_direction_is_a_no_op():
    channel = ChannelFactory(config={"url_down": "http://example.org/"})
    assert Webhook().is_noop(channel, "up")
    assert not Webhook().is_noop(channel, "down")


def test_4xx_response_is_a_permanent_error(receiver):
    receiver.status = 404
    with pytest.raises(DeliveryError, match="Received status code 404") as e:
        _send({"url_down": receiver.url})
    assert e.value.permanent


def test_5xx_response_is_a_transient_error(receiver):
    receiver.status = 503
    with pytest.raises(DeliveryError, match="Received status code 503") as e:
        _send({"url_down": receiver.url})
    assert not e.value.permanent


def test_private_target_is_refused_when_not_allowed(http_receiver, settings):
    settings.ALLOW_PRIVATE_TARGETS = False
    with pytest.raises(DeliveryError, match="Refused") as e:
        _send({"url_down": http_receiver.url})
    assert e.value.permanent
    assert http_receiver.requests == []


def test_placeholders_cover_the_spec_names():
    check = CheckFactory(tags="a b")
    message_values = placeholders(build_message(NotificationFactory(flip__owner=check)))
    assert set(message_values) == {
        "CODE", "STATUS", "NOW", "NAME", "NAME_JSON", "SLUG", "TAGS", "JSON",
        "EXITSTATUS", "TAG1", "TAG2",
    }  # fmt: skip


URL = "http://example.org/"


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({}, "non_field_errors"),
        ({"url_down": "ftp://example.org/"}, "url_down"),
        ({"url_down": "not a url"}, "url_down"),
        ({"url_down": URL, "method_down": "DELETE"}, "method_down"),
        ({"url_down": URL + "x" * 1000}, "url_down"),
        ({"url_down": URL, "body_down": "x" * 1001}, "body_down"),
        ({"url_up": URL, "headers_up": {"Bad Name": "x"}}, "headers_up"),
        ({"url_up": URL, "headers_up": {"X": "a\r\nB: c"}}, "headers_up"),
        ({"url_up": URL, "headers_up": ["X"]}, "headers_up"),
    ],
)  # fmt: skip
def test_config_errors_name_the_field(config, field):
    serializer = WebhookConfig(data=config)
    assert not serializer.is_valid()
    assert field in serializer.errors


def test_config_defaults_to_post_and_empty_headers():
    serializer = WebhookConfig(data={"url_down": "https://example.org/$CODE"})
    assert serializer.is_valid(), serializer.errors
    data = serializer.validated_data
    assert (data["method_down"], data["headers_down"], data["body_down"]) == (
        "POST",
        {},
        "",
    )


def test_test_notification_fills_placeholders_from_the_stand_in_check(receiver):
    channel = ChannelFactory(
        kind="webhook",
        config={"url_down": f"{receiver.url}/$NAME", "body_down": "$JSON"},
    )
    notification = NotificationFactory(
        flip=None, owner=None, channel=channel, kind=NotificationKind.TEST
    )
    Webhook().send(channel, notification)
    [request] = receiver.wait_for(1)
    assert request.path == "/TEST"
    assert request.json()["name"] == "TEST"
    assert request.json()["channels"] == ""
