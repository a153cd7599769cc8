"""Integrations pages (issue 5 item 6): forms generated from each kind's serializer."""

from datetime import timedelta

import pytest
from django.utils import timezone

from checks import ratelimit
from checks.models import Channel, DeliveryState, Notification
from integrations import registry
from tests.factories import ChannelFactory, CheckFactory

pytestmark = pytest.mark.django_db

WEBHOOK = {"cfg_method_down": "POST", "cfg_method_up": "POST"}


def _add(client, team, kind, data):
    return client.post(f"/projects/{team.project.code}/integrations/add/{kind}/", data)


def test_list_shows_channels_with_last_error_and_last_notify(client, team):
    ChannelFactory(
        project=team.project, name="ops hook", last_error="Received status code 500"
    )
    client.force_login(team.reader)
    body = client.get(f"/projects/{team.project.code}/integrations/").content.decode()
    assert "ops hook" in body
    assert "Received status code 500" in body


def test_list_offers_every_registered_kind(client, team, settings):
    settings.SHELL_ENABLED = True
    client.force_login(team.member)
    body = client.get(f"/projects/{team.project.code}/integrations/").content.decode()
    for kind in registry.KINDS:
        assert f"/integrations/add/{kind}/" in body


def test_list_hides_shell_unless_the_operator_enables_it(client, team, settings):
    settings.SHELL_ENABLED = False
    client.force_login(team.member)
    body = client.get(f"/projects/{team.project.code}/integrations/").content.decode()
    assert "/integrations/add/shell/" not in body
    assert "/integrations/add/webhook/" in body


@pytest.mark.parametrize("kind", list(registry.KINDS))
def test_add_form_renders_every_config_field(client, team, kind):
    client.force_login(team.member)
    response = client.get(f"/projects/{team.project.code}/integrations/add/{kind}/")
    body = response.content.decode()
    assert response.status_code == 200
    for name in registry.get(kind).config().fields:
        assert f'name="cfg_{name}"' in body


def test_add_unknown_kind_is_not_found(client, team):
    client.force_login(team.member)
    response = client.get(
        f"/projects/{team.project.code}/integrations/add/carrier-pigeon/"
    )
    assert response.status_code == 404


def test_add_webhook_saves_config_and_attaches_all_checks(client, team):
    check = CheckFactory(project=team.project)
    client.force_login(team.member)
    response = _add(
        client,
        team,
        "webhook",
        {
            **WEBHOOK,
            "name": "hook",
            "cfg_url_down": "https://example.org/down",
            "cfg_body_down": "$NAME is $STATUS",
            "cfg_headers_down": "X-Token: abc\nContent-Type: text/plain",
        },
    )
    assert response.status_code == 302
    channel = Channel.objects.get(project=team.project)
    assert channel.name == "hook"
    assert channel.config["url_down"] == "https://example.org/down"
    assert channel.config["headers_down"] == {
        "X-Token": "abc",
        "Content-Type": "text/plain",
    }
    assert list(channel.checks.all()) == [check]


def test_add_email_reads_one_address_a_line_and_checkboxes(client, team):
    client.force_login(team.member)
    _add(
        client,
        team,
        "email",
        {"cfg_to": "a@example.org\n\nb@example.org", "cfg_down": "on"},
    )
    config = Channel.objects.get(project=team.project).config
    assert config["to"] == ["a@example.org", "b@example.org"]
    assert (config["up"], config["down"]) == (False, True)


@pytest.mark.parametrize(
    ("kind", "data", "message"),
    [
        ("webhook", {**WEBHOOK, "cfg_url_down": "ftp://x"}, "http:// or https://"),
        ("webhook", WEBHOOK, "Set url_down, url_up or both"),
        (
            "webhook",
            {**WEBHOOK, "cfg_url_up": "https://x.org", "cfg_headers_up": "no colon"},
            "Name: value",
        ),
        (
            "webhook",
            {**WEBHOOK, "cfg_url_up": "https://x.org", "cfg_method_up": "DELETE"},
            "not a valid choice",
        ),
        (
            "webhook",
            {**WEBHOOK, "cfg_url_up": "https://x.org", "name": "n" * 101},
            "at most 100",
        ),
        ("email", {"cfg_to": "not-an-address"}, "valid email"),
        ("email", {"cfg_to": ""}, "required"),
    ],
)
def test_add_rejects_invalid_config(client, team, kind, data, message):
    client.force_login(team.member)
    response = _add(client, team, kind, data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Channel.objects.exists()


def test_invalid_form_keeps_what_was_typed(client, team):
    client.force_login(team.member)
    response = _add(client, team, "webhook", {**WEBHOOK, "cfg_url_down": "ftp://typed"})
    assert 'value="ftp://typed"' in response.content.decode()


def test_edit_form_shows_stored_config(client, team):
    channel = ChannelFactory(
        project=team.project,
        config={"url_down": "https://example.org/d", "headers_down": {"A": "1"}},
    )
    client.force_login(team.member)
    body = client.get(f"/integrations/{channel.code}/edit/").content.decode()
    assert 'value="https://example.org/d"' in body
    assert "A: 1</textarea>" in body


def test_edit_saves_config_and_clears_last_error(client, team):
    channel = ChannelFactory(
        project=team.project, config={"url_down": "https://a.org"}, last_error="boom"
    )
    client.force_login(team.member)
    response = client.post(
        f"/integrations/{channel.code}/edit/",
        {**WEBHOOK, "name": "renamed", "cfg_url_down": "https://b.org"},
    )
    assert response.status_code == 302
    channel.refresh_from_db()
    assert channel.name == "renamed"
    assert channel.config["url_down"] == "https://b.org"
    assert channel.last_error == ""


def test_edit_rejects_invalid_config_and_keeps_the_old(client, team):
    channel = ChannelFactory(project=team.project, config={"url_down": "https://a.org"})
    client.force_login(team.member)
    response = client.post(f"/integrations/{channel.code}/edit/", WEBHOOK)
    assert response.status_code == 400
    channel.refresh_from_db()
    assert channel.config == {"url_down": "https://a.org"}


def test_test_button_delivers_to_webhook(client, team, http_receiver, settings):
    settings.ALLOW_PRIVATE_TARGETS = True
    channel = ChannelFactory(
        project=team.project, config={"url_down": f"{http_receiver.url}/hook"}
    )
    client.force_login(team.member)
    response = client.post(f"/integrations/{channel.code}/test/", follow=True)
    assert http_receiver.wait_for(1)[0].path == "/hook"
    assert "Test notification sent" in response.content.decode()


def test_test_button_reports_failure(client, team, http_receiver, settings):
    settings.ALLOW_PRIVATE_TARGETS = True
    http_receiver.status = 500
    channel = ChannelFactory(
        project=team.project, config={"url_down": f"{http_receiver.url}/hook"}
    )
    client.force_login(team.member)
    response = client.post(f"/integrations/{channel.code}/test/", follow=True)
    body = response.content.decode()
    assert "failed" in body
    assert Notification.objects.get(channel=channel).error


def test_test_button_over_the_rate_limit_says_when_it_goes(client, team, settings):
    settings.TELEGRAM_TOKEN = "123:ABC"
    channel = ChannelFactory(project=team.project, kind="telegram", config={"id": 7})
    kind = registry.get("telegram")
    key = ratelimit.bucket_key("telegram", kind.rate_key(channel))
    # Spend the tokens of an hour ahead: the test's own clock cannot catch up.
    for _ in range(6):
        ratelimit.reserve(key, kind.rate_limit, now=timezone.now() + timedelta(hours=1))
    client.force_login(team.member)
    response = client.post(f"/integrations/{channel.code}/test/", follow=True)
    assert "Deferred by the rate limit" in response.content.decode()
    assert Notification.objects.get(channel=channel).state == DeliveryState.PENDING


def test_remove_asks_for_confirmation_then_deletes(client, team):
    channel = ChannelFactory(project=team.project)
    client.force_login(team.member)
    assert client.get(f"/integrations/{channel.code}/remove/").status_code == 200
    assert Channel.objects.filter(pk=channel.pk).exists()
    response = client.post(f"/integrations/{channel.code}/remove/")
    assert response.status_code == 302
    assert not Channel.objects.filter(pk=channel.pk).exists()


def test_list_hides_write_buttons_from_reader(client, team):
    ChannelFactory(project=team.project)
    client.force_login(team.reader)
    body = client.get(f"/projects/{team.project.code}/integrations/").content.decode()
    assert "test-channel" not in body
    assert "add-kind" not in body
