"""Accounts in a real browser: sign up, link login, API keys, team and roles."""

import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from checks import services
from checks.models import ApiKey, Member, Project, Role
from tests.browser.conftest import PHONE
from tests.factories import ProjectFactory

pytestmark = pytest.mark.browser


def link_in(mail) -> str:
    """The path and query of the first dashboard link in an email."""
    url = urlsplit(re.search(r"https?://\S+/accounts/\S+", mail.text())[0])
    return f"{url.path}?{url.query}" if url.query else url.path


def test_sign_up_log_in_by_link_manage_keys_and_invite(page, smtp_server, screenshot):
    page.goto("/accounts/signup/")
    page.get_by_label("Email").fill("alice@example.org")
    screenshot(page, "signup")
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()

    page.goto(link_in(smtp_server.wait_for(1)[0]))
    screenshot(page, "confirm-login")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="My projects")).to_be_visible()
    expect(page.get_by_role("link", name="My Project")).to_be_visible()
    screenshot(page, "projects")
    project = Project.objects.get(owner__email="alice@example.org")
    assert project.owner.profile.tz == "UTC"  # Chromium headless reports UTC

    page.goto("/accounts/profile/")
    screenshot(page, "account")
    page.get_by_role("link", name="My Project").click()
    expect(page.get_by_role("heading", name="Project settings")).to_be_visible()
    page.get_by_role("link", name="Manage API keys and the ping key").click()
    page.get_by_label("Name").fill("deploy")
    page.get_by_label("Kind").select_option("rw")
    page.get_by_role("button", name="Create API key").click()
    full = page.locator("#full-key").inner_text().strip()
    assert services.find_api_key(full).project == project
    screenshot(page, "api-key-created")

    page.get_by_role("button", name="Revoke deploy").click()
    expect(page.get_by_text("API key “deploy” was revoked.")).to_be_visible()
    assert not ApiKey.objects.filter(project=project).exists()

    page.get_by_role("link", name="← Project settings").click()
    page.get_by_label("Email").fill("bob@example.org")
    page.get_by_label("Role").select_option(label="Read-only")
    page.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_text("Invitation sent to bob@example.org.")).to_be_visible()
    screenshot(page, "team")
    assert Member.objects.get(project=project).role == Role.READONLY
    invite = smtp_server.wait_for(2)[1]
    assert invite.rcpt_tos == ["bob@example.org"]

    page.get_by_label("Role of bob@example.org", exact=True).select_option(
        label="Manager"
    )
    page.get_by_role("button", name="Change the role of bob@example.org").click()
    expect(page.get_by_text("bob@example.org is now manager.")).to_be_visible()
    assert Member.objects.get(project=project).role == Role.MANAGER


def test_password_login_by_keyboard_at_phone_width(phone_page, screenshot):
    project = ProjectFactory(owner__email="kim@example.org", name="Phones")
    page = phone_page
    page.goto("/accounts/login/")
    page.locator("#id_email").focus()
    page.keyboard.type("kim@example.org")
    page.keyboard.press("Tab")
    page.keyboard.type("password")
    page.keyboard.press("Enter")
    expect(page.get_by_role("link", name="Phones")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, "projects-phone")
    page.goto(f"/projects/{project.code}/settings/")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, "settings-phone")


def test_keys_list_is_readable_without_javascript(
    browser, live_server, login_as, screenshot
):
    project = ProjectFactory()
    key, _ = services.create_api_key(project=project, name="ci", read_only=True)
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    page = context.new_page()
    login_as(page, project.owner)
    page.goto(f"/projects/{project.code}/settings/keys/")
    expect(page.get_by_role("cell", name=key.display_prefix + "…")).to_be_visible()
    screenshot(page, "keys-no-js")
    context.close()
