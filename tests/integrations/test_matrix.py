"""Matrix: PUT an m.room.message as the bot, for down and up."""

import pytest

from checks.models import Status
from integrations.base import DeliveryError
from integrations.matrix import MatrixConfig
from tests.integrations.helpers import send

pytestmark = pytest.mark.django_db
ROOM = "!abcdef:example.org"


@pytest.fixture
def homeserver(receiver, settings):
    settings.MATRIX_HOMESERVER = receiver.url
    settings.MATRIX_ACCESS_TOKEN = "syt_token"
    return receiver


def test_down_puts_a_room_message(homeserver, settings):
    notification = send("matrix", {"room_id": ROOM})
    [request] = homeserver.wait_for(1)
    txn = notification.code.hex
    assert request.method == "PUT"
    assert request.path == (
        f"/_matrix/client/v3/rooms/%21abcdef%3Aexample.org/send/m.room.message/{txn}"
    )
    assert request.headers["Authorization"] == "Bearer syt_token"
    body = request.json()
    url = f"{settings.SITE_ROOT}/checks/{notification.owner.code}/details/"
    assert body["msgtype"] == "m.text"
    assert body["format"] == "org.matrix.custom.html"
    assert body["body"].startswith('The check "backup" is DOWN. Reason: success')
    assert body["formatted_body"].startswith(
        f'<p><b><a href="{url}">The check &quot;backup&quot; is DOWN.</a></b>'
    )


def test_up_message_tells_the_downtime(homeserver):
    send("matrix", {"room_id": ROOM}, status=Status.UP)
    body = homeserver.wait_for(1)[0].json()
    assert body["body"].startswith(
        'The check "backup" is UP. The downtime lasted 2 hours 30 minutes.'
    )


def test_unconfigured_homeserver_is_a_permanent_error(receiver, settings):
    settings.MATRIX_HOMESERVER = ""
    with pytest.raises(DeliveryError, match="MATRIX_HOMESERVER") as e:
        send("matrix", {"room_id": ROOM})
    assert e.value.permanent


def test_forbidden_403_is_permanent(homeserver):
    homeserver.status = 403
    with pytest.raises(DeliveryError) as e:
        send("matrix", {"room_id": ROOM})
    assert e.value.permanent


@pytest.mark.parametrize("room", ["", "#alias:example.org", "!nocolon", "!a b:c"])
def test_config_needs_a_room_id(room):
    assert not MatrixConfig(data={"room_id": room}).is_valid()
