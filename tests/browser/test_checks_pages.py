"""Checks and integrations pages in a real browser: live refresh, phone width,
keyboard use and reading without JavaScript."""

import pytest
import requests
from playwright.sync_api import expect

from checks.models import Status
from tests.browser.conftest import PHONE
from tests.factories import ChannelFactory, CheckFactory, ProjectFactory

pytestmark = pytest.mark.browser


def test_list_refreshes_without_reload(page, live_server, login_as, screenshot):
    check = CheckFactory(name="backup", tags="prod")
    login_as(page, check.project.owner)
    page.goto(f"/projects/{check.project.code}/checks/")
    row = page.locator(f'tr[data-code="{check.code}"]')
    expect(row.locator(".st-icon")).to_have_class("st-icon st-new")
    page.evaluate("window.__marker = 1")  # gone if the page reloads

    assert requests.get(f"{live_server.url}/ping/{check.code}", timeout=10).ok
    # The list polls every few seconds and when the tab becomes visible again.
    page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
    expect(row.locator(".st-icon")).to_have_class("st-icon st-up")
    expect(row.locator(".last-ping")).to_have_text("just now")
    assert page.evaluate("window.__marker") == 1
    screenshot(page, "checks-list")


def test_pages_fit_phone_width(phone_page, login_as, screenshot):
    check = CheckFactory(
        name="a check with a rather long name to wrap",
        tags="prod db nightly",
        slug="nightly-backup",
        status=Status.UP,
    )
    ChannelFactory(project=check.project, name="ops", config={"url_down": "https://x"})
    page = phone_page
    login_as(page, check.project.owner)
    for name, url in [
        ("checks-phone", f"/projects/{check.project.code}/checks/"),
        ("details-phone", f"/checks/{check.code}/details/"),
        ("integrations-phone", f"/projects/{check.project.code}/integrations/"),
    ]:
        page.goto(url)
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        screenshot(page, name)


def test_pause_and_resume_by_keyboard(page, login_as):
    check = CheckFactory(name="kbd", status=Status.UP)
    login_as(page, check.project.owner)
    page.goto(f"/checks/{check.code}/details/")
    page.locator("#pause").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#resume")).to_be_visible()
    check.refresh_from_db()
    assert check.status == Status.PAUSED
    page.locator("#resume").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#pause")).to_be_visible()


def test_schedule_editor_previews_cron(page, login_as, screenshot):
    check = CheckFactory(name="cron job")
    login_as(page, check.project.owner)
    page.goto(f"/checks/{check.code}/details/")
    page.get_by_role("radio", name="Cron").check()
    page.get_by_label("Cron or OnCalendar expression").fill("15 2 * * *")
    preview = page.locator("#schedule-preview")
    expect(preview.locator("li")).to_have_count(5)
    expect(preview.locator("li").first).to_contain_text("02:15")
    screenshot(page, "schedule-preview")
    page.get_by_role("button", name="Save schedule").click()
    expect(page.locator("#schedule-words")).to_contain_text("15 2 * * *")


def test_lists_read_without_javascript(browser, live_server, login_as, screenshot):
    project = ProjectFactory()
    CheckFactory(project=project, name="no-js check")
    ChannelFactory(project=project, name="no-js hook", config={"url_down": "https://x"})
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    page = context.new_page()
    login_as(page, project.owner)
    page.goto(f"/projects/{project.code}/checks/")
    expect(page.get_by_role("link", name="no-js check")).to_be_visible()
    page.get_by_label("Search").fill("nothing like it")
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_text("No checks match these filters.")).to_be_visible()
    page.goto(f"/projects/{project.code}/integrations/")
    expect(page.get_by_role("cell", name="no-js hook")).to_be_visible()
    screenshot(page, "integrations-no-js")
    context.close()
