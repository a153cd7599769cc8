"""The harness itself: Chromium loads a live page at both widths."""

import pytest

from tests.factories import ProjectFactory

pytestmark = pytest.mark.browser


def test_logged_in_user_sees_projects_at_desktop_width(page, login_as, screenshot):
    project = ProjectFactory(name="Nightly jobs")
    login_as(page, project.owner)
    page.goto("/")
    assert page.get_by_role("link", name="Nightly jobs").is_visible()
    assert screenshot(page, "projects").exists()


def test_projects_page_fits_phone_width(phone_page, login_as):
    project = ProjectFactory(name="Nightly jobs")
    login_as(phone_page, project.owner)
    phone_page.goto("/")
    width = phone_page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
