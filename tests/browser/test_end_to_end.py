"""Issue 5's "Done means", in Chromium: from sign-up to a test alert, keys and team."""

import re
from urllib.parse import urlsplit

import pytest
import requests
from playwright.sync_api import expect

from checks.models import ApiKey, Check, Member, Status
from tests.browser.conftest import PHONE

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _link_path(mail) -> str:
    """Path and query of the first dashboard link in an email."""
    url = urlsplit(re.search(r"https?://\S+/accounts/\S+", mail.text())[0])
    return f"{url.path}?{url.query}" if url.query else url.path


def _fits_phone(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_sign_up_to_test_alert_keys_and_team(
    page, live_server, smtp_server, http_receiver, settings, screenshot
):
    settings.PING_ENDPOINT = f"{live_server.url}/ping/"
    settings.ALLOW_PRIVATE_TARGETS = True  # the webhook receiver is on 127.0.0.1

    # Sign up, then log in by the magic link from the real SMTP server.
    page.goto("/accounts/signup/")
    page.get_by_label("Email").fill("erin@example.org")
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    page.goto(_link_path(smtp_server.wait_for(1)[0]))
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="My projects")).to_be_visible()
    screenshot(page, "projects")

    # Create a check and name it.
    page.get_by_role("link", name="My Project").click()
    page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Checks"
    ).click()
    page.get_by_role("button", name="Add check").click()
    page.get_by_role("textbox", name="Name").fill("nightly backup")
    page.get_by_role("textbox", name="Tags").fill("prod db")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_role("heading", name="nightly backup")).to_be_visible()
    check = Check.objects.get(name="nightly backup")

    # Ping it over HTTP with the URL the page shows; it is up.
    ping_url = page.locator("#uuid-url").inner_text().strip()
    assert requests.get(ping_url, timeout=10).text == "OK"
    page.reload()
    expect(page.locator("#status-line")).to_contain_text("Up")
    expect(page.locator("#ping-log")).to_contain_text("Success")
    screenshot(page, "check-details")
    page.get_by_role("link", name="← Checks of My Project").click()
    row = page.locator(f'tr[data-code="{check.code}"]')
    expect(row.locator(".st-icon")).to_have_class("st-icon st-up")
    screenshot(page, "checks-list")

    # Pause and resume.
    row.get_by_role("link", name="nightly backup").click()
    page.get_by_role("button", name="Pause").click()
    expect(page.locator("#status-line")).to_contain_text("Paused")
    check.refresh_from_db()
    assert check.status == Status.PAUSED
    page.get_by_role("button", name="Resume").click()
    expect(page.locator("#status-line")).to_contain_text("New")
    check.refresh_from_db()
    assert check.status == Status.NEW

    # Add a webhook integration and send a test alert to a real HTTP receiver.
    nav = page.get_by_role("navigation", name="Main")
    nav.get_by_role("link", name="Integrations").click()
    page.get_by_role("link", name="Webhook").click()
    page.get_by_label("Name", exact=True).fill("ops hook")
    page.locator("#id_cfg_url_down").fill(f"{http_receiver.url}/alert")
    screenshot(page, "add-webhook")
    page.get_by_role("button", name="Add integration").click()
    expect(page.get_by_role("cell", name="ops hook")).to_be_visible()
    page.locator("tr", has_text="ops hook").get_by_role("button", name="Test").click()
    expect(page.get_by_text("Test notification sent to “ops hook”.")).to_be_visible()
    received = http_receiver.wait_for(1)
    assert received[0].method == "POST"
    assert received[0].path == "/alert"
    screenshot(page, "integrations")

    # Create and revoke an API key.
    nav.get_by_role("link", name="Settings").click()
    page.get_by_role("link", name="Manage API keys and the ping key").click()
    page.get_by_label("Name").fill("ci")
    page.get_by_label("Kind").select_option("ro")
    page.get_by_role("button", name="Create API key").click()
    full_key = page.locator("#full-key").inner_text().strip()
    assert full_key.startswith("hcr_")
    screenshot(page, "api-keys")
    # The new read-only key opens the project's Prometheus endpoint.
    metrics = requests.get(
        f"{live_server.url}/projects/{check.project.code}/metrics/{full_key}",
        timeout=10,
    )
    assert 'hc_check_up{name="nightly backup"' in metrics.text
    page.get_by_role("button", name="Revoke ci").click()
    expect(page.get_by_text("API key “ci” was revoked.")).to_be_visible()
    assert not ApiKey.objects.filter(project=check.project).exists()

    # Invite a member.
    page.get_by_role("link", name="← Project settings").click()
    page.get_by_label("Email").fill("frank@example.org")
    page.get_by_label("Role").select_option(label="Member")
    page.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_text("Invitation sent to frank@example.org.")).to_be_visible()
    assert Member.objects.get(project=check.project).user.email == "frank@example.org"
    screenshot(page, "team")

    # The main pages at phone width.
    page.set_viewport_size(PHONE)
    for name, url in [
        ("checks-phone", f"/projects/{check.project.code}/checks/"),
        ("details-phone", f"/checks/{check.code}/details/"),
        ("integrations-phone", f"/projects/{check.project.code}/integrations/"),
        ("badges-phone", f"/projects/{check.project.code}/badges/"),
    ]:
        page.goto(url)
        assert _fits_phone(page), name
        screenshot(page, name)
