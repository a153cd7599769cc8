"""Channels through the API (hcserver addition, v3): CRUD and test alerts."""

from __future__ import annotations

import pytest

from checks.models import Channel, DeliveryState
from integrations import email_links
from tests.factories import ChannelFactory, CheckFactory, ProjectFactory

pytestmark = pytest.mark.django_db

WEBHOOK = {"url_down": "https://example.org/down", "body_down": "$NAME"}


@pytest.fixture
def webhook(project) -> Channel:
    return ChannelFactory(project=project, name="hook", kind="webhook", config=WEBHOOK)


def test_create_channel_answers_201_with_the_channel(api):
    response = api.post(
        "channels/", {"kind": "webhook", "name": "ops", "config": WEBHOOK}
    )
    assert response.status_code == 201
    channel = Channel.objects.get()
    assert response.json()["id"] == str(channel.code)
    assert (channel.kind, channel.name) == ("webhook", "ops")


def test_created_channel_config_is_the_validated_one(api):
    api.post("channels/", {"kind": "webhook", "config": WEBHOOK})
    config = Channel.objects.get().config
    assert config["url_down"] == WEBHOOK["url_down"]
    assert config["method_down"] == "POST"  # the serializer's default


def test_created_channel_is_attached_to_every_check(api, project):
    check = CheckFactory(project=project)
    response = api.post("channels/", {"kind": "webhook", "config": WEBHOOK})
    assert response.json()["checks"] == [str(check.code)]


def test_create_with_invalid_config_is_400_and_creates_nothing(api):
    response = api.post(
        "channels/", {"kind": "webhook", "config": {"url_down": "ftp://x"}}
    )
    assert response.status_code == 400
    assert response.json()["error"].startswith("json validation error: config: ")
    assert not Channel.objects.exists()


def test_create_with_unknown_kind_is_400(api):
    response = api.post("channels/", {"kind": "carrier-pigeon", "config": {}})
    assert response.status_code == 400
    assert "kind must be one of" in response.json()["error"]


def test_create_of_a_kind_the_operator_turned_off_is_400(api, settings):
    settings.SHELL_ENABLED = False
    response = api.post("channels/", {"kind": "shell", "config": {"cmd_down": "x"}})
    assert response.status_code == 400
    assert "shell" not in response.json()["error"]


@pytest.mark.parametrize("body", [[], "x", {"kind": "webhook", "config": []}])
def test_create_with_malformed_body_is_400(api, body):
    assert api.post("channels/", body).status_code == 400


def test_create_with_too_long_name_is_400(api):
    body = {"kind": "webhook", "name": "n" * 101, "config": WEBHOOK}
    assert api.post("channels/", body).status_code == 400


def test_create_is_v3_only(api):
    body = {"kind": "webhook", "config": WEBHOOK}
    assert api.post("channels/", body, v=2).status_code == 405


def test_read_only_key_cannot_create(ro_api):
    body = {"kind": "webhook", "config": WEBHOOK}
    assert ro_api.post("channels/", body).status_code == 401


def test_get_channel(api, webhook):
    data = api.get(f"channels/{webhook.code}").json()
    assert data["name"] == "hook"
    assert data["config"] == WEBHOOK
    assert data["last_error"] == ""


def test_channel_of_another_project_is_403(api):
    other = ChannelFactory(project=ProjectFactory())
    assert api.get(f"channels/{other.code}").status_code == 403


def test_unknown_channel_is_404(api):
    response = api.get("channels/8a9ec9f6-3c5b-4d0e-9f7c-0e1d2a3b4c5d")
    assert response.status_code == 404


def test_channel_urls_are_v3_only(api, webhook):
    assert api.get(f"channels/{webhook.code}", v=2).status_code == 404


def test_update_renames_and_keeps_config(api, webhook):
    api.post(f"channels/{webhook.code}", {"name": "renamed"})
    webhook.refresh_from_db()
    assert (webhook.name, webhook.config) == ("renamed", WEBHOOK)


def test_update_with_invalid_config_changes_nothing(api, webhook):
    response = api.post(f"channels/{webhook.code}", {"config": {"url_down": "nope"}})
    assert response.status_code == 400
    webhook.refresh_from_db()
    assert webhook.config == WEBHOOK


def test_update_cannot_change_kind(api, webhook):
    response = api.post(f"channels/{webhook.code}", {"kind": "email"})
    assert response.status_code == 400


def test_update_clears_the_channel_problem(api, webhook):
    Channel.objects.filter(pk=webhook.pk).update(last_error="Received status 500")
    api.post(f"channels/{webhook.code}", {"config": WEBHOOK})
    webhook.refresh_from_db()
    assert webhook.last_error == ""


def test_delete_channel(api, webhook, project):
    check = CheckFactory(project=project)
    check.channels.add(webhook)
    response = api.delete(f"channels/{webhook.code}")
    assert response.json()["id"] == str(webhook.code)
    assert not Channel.objects.exists()
    assert check.channels.count() == 0


def test_test_alert_is_delivered(api, project, http_receiver, settings):
    settings.ALLOW_PRIVATE_TARGETS = True
    channel = ChannelFactory(
        project=project, kind="webhook", config={"url_down": http_receiver.url}
    )
    data = api.post(f"channels/{channel.code}/test").json()
    assert (data["state"], data["status"]) == (DeliveryState.SENT, "down")
    assert len(http_receiver.wait_for(1)) == 1


def test_failed_test_alert_reports_the_error(api, project, http_receiver, settings):
    settings.ALLOW_PRIVATE_TARGETS = True
    http_receiver.status = 500
    channel = ChannelFactory(
        project=project, kind="webhook", config={"url_down": http_receiver.url}
    )
    data = api.post(f"channels/{channel.code}/test").json()
    assert data["state"] == DeliveryState.FAILED
    assert data["error"]


# --- email channels: verification -------------------------------------------------

EMAIL = {"to": ["ops@example.org"]}


def test_created_email_channel_is_unverified(api, smtp_server):
    response = api.post("channels/", {"kind": "email", "config": EMAIL})
    body = response.json()
    assert (body["email_verified"], body["unverified"]) == (False, ["ops@example.org"])


def test_created_email_channel_sends_the_verification_link(
    api, smtp_server, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post("channels/", {"kind": "email", "config": EMAIL})
    [mail] = smtp_server.wait_for(1)
    assert mail.rcpt_tos == ["ops@example.org"]
    assert f"/integrations/{response.json()['id']}/verify/" in mail.text()


def test_email_channel_shows_verified_once_the_link_was_used(api, smtp_server):
    code = api.post("channels/", {"kind": "email", "config": EMAIL}).json()["id"]
    email_links.verify(Channel.objects.get(code=code), "ops@example.org")
    body = api.get(f"channels/{code}").json()
    assert (body["email_verified"], body["unverified"]) == (True, [])


def test_other_kinds_have_no_email_verified(api, webhook):
    assert "email_verified" not in api.get(f"channels/{webhook.code}").json()
