"""Telegram: sendMessage through the Bot API, for down and up."""

import pytest

from checks.models import Status
from integrations.base import DeliveryError
from integrations.telegram import TelegramConfig
from tests.integrations.helpers import send

pytestmark = pytest.mark.django_db


@pytest.fixture
def bot(receiver, settings):
    settings.TELEGRAM_API_URL = receiver.url
    settings.TELEGRAM_TOKEN = "123:ABC"
    return receiver


def test_down_sends_an_html_message_to_the_chat(bot, settings):
    notification = send("telegram", {"id": -1001234, "name": "ops"})
    [request] = bot.wait_for(1)
    assert (request.method, request.path) == ("POST", "/bot123:ABC/sendMessage")
    body = request.json()
    assert body["chat_id"] == -1001234
    assert body["parse_mode"] == "HTML"
    assert "message_thread_id" not in body
    text = body["text"]
    assert text.startswith("<b>The check &quot;backup&quot; is DOWN.</b>\n")
    assert "<b>Tags:</b> db, nightly" in text
    url = f"{settings.SITE_ROOT}/checks/{notification.owner.code}/details/"
    assert f'<a href="{url}">' in text


def test_up_message_tells_the_downtime(bot):
    send("telegram", {"id": 42}, status=Status.UP)
    text = bot.wait_for(1)[0].json()["text"]
    assert text.startswith("<b>The check &quot;backup&quot; is UP.</b>\n")
    assert "The downtime lasted 2 hours 30 minutes." in text


def test_topic_goes_to_message_thread_id(bot):
    send("telegram", {"id": -100, "thread_id": 7})
    assert bot.wait_for(1)[0].json()["message_thread_id"] == 7


def test_check_name_is_escaped(bot):
    send("telegram", {"id": 42}, name="<script>")
    assert "&lt;script&gt;" in bot.wait_for(1)[0].json()["text"]


def test_missing_bot_token_is_a_permanent_error(receiver, settings):
    settings.TELEGRAM_API_URL = receiver.url
    settings.TELEGRAM_TOKEN = ""
    with pytest.raises(DeliveryError, match="TELEGRAM_TOKEN") as e:
        send("telegram", {"id": 42})
    assert e.value.permanent
    assert receiver.requests == []


def test_blocked_bot_403_is_permanent_and_hides_the_token(bot):
    bot.status = 403
    with pytest.raises(DeliveryError) as e:
        send("telegram", {"id": 42})
    assert e.value.permanent
    assert "123:ABC" not in str(e.value)


def test_429_is_transient(bot):
    bot.status = 429
    with pytest.raises(DeliveryError) as e:
        send("telegram", {"id": 42})
    assert not e.value.permanent


@pytest.mark.parametrize("config", [{}, {"id": "abc"}, {"id": 1, "thread_id": "x"}])
def test_config_needs_a_numeric_chat_id(config):
    assert not TelegramConfig(data=config).is_valid()
