"""Microsoft Teams: an Adaptive Card to a Workflows webhook, for down and up."""

import pytest

from checks.models import Status
from integrations.base import DeliveryError
from integrations.msteams import TeamsConfig
from tests.integrations.helpers import send

pytestmark = pytest.mark.django_db


def _card(request):
    body = request.json()
    assert body["type"] == "message"
    [attachment] = body["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    return attachment["content"]


def test_down_posts_an_adaptive_card(receiver, settings):
    notification = send("msteams", {"url": f"{receiver.url}/workflows/abc"})
    [request] = receiver.wait_for(1)
    assert (request.method, request.path) == ("POST", "/workflows/abc")
    card = _card(request)
    assert (card["type"], card["version"]) == ("AdaptiveCard", "1.4")
    heading, reason, facts = card["body"]
    assert heading["text"] == 'The check "backup" is DOWN.'
    assert heading["color"] == "Attention"
    assert reason["text"].startswith("Reason: success signal did not arrive")
    assert {"title": "Project", "value": notification.owner.project.name} in (
        facts["facts"]
    )
    [action] = card["actions"]
    assert action == {
        "type": "Action.OpenUrl",
        "title": f"View in {settings.SITE_NAME}",
        "url": f"{settings.SITE_ROOT}/checks/{notification.owner.code}/details/",
    }


def test_up_card_is_good_and_tells_the_downtime(receiver):
    send("msteams", {"url": receiver.url}, status=Status.UP)
    heading, downtime, _facts = _card(receiver.wait_for(1)[0])["body"]
    assert heading["text"] == 'The check "backup" is UP.'
    assert heading["color"] == "Good"
    assert downtime["text"] == "The downtime lasted 2 hours 30 minutes."


def test_workflow_202_is_success(receiver):
    receiver.status = 202
    send("msteams", {"url": receiver.url})
    assert len(receiver.wait_for(1)) == 1


def test_403_is_permanent(receiver):
    receiver.status = 403
    with pytest.raises(DeliveryError) as e:
        send("msteams", {"url": receiver.url})
    assert e.value.permanent


def test_config_needs_a_url():
    serializer = TeamsConfig(data={"url": "javascript:alert(1)"})
    assert not serializer.is_valid()
    assert "url" in serializer.errors
