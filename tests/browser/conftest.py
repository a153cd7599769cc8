"""Browser tests: Playwright drives Debian's Chromium against the live server.

Every test module here sets `pytestmark = pytest.mark.browser`. Fixtures:
`page` (desktop width) and `phone_page` (390 px) open on the live server's base URL;
`login_as(page, user)` logs a page in without the login form; `screenshot(page, name)`
writes a PNG to $SCREENSHOT_DIR (default artifacts/screenshots/, git-ignored).
Chromium comes from the OS (`apt-get install chromium`), never `playwright install`.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.test import Client
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Page,
    Playwright,
    sync_playwright,
)

# Playwright's sync API runs an event loop in this thread; Django would then refuse
# ORM calls from the test body ("async unsafe"), although they are synchronous here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
# Fail fast in tests instead of Playwright's 30 s default.
TIMEOUT_MS = 10_000
SCREENSHOT_DIR = Path(
    os.environ.get("SCREENSHOT_DIR", settings.BASE_DIR / "artifacts" / "screenshots")
)


@pytest.fixture(autouse=True)
def _isolated_cache(settings):
    # Rate-limit counters of one test must not throttle the next.
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": f"browser-{uuid.uuid4()}",
        }
    }


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"needs Chromium at {CHROMIUM}: apt-get install -y chromium")
    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
    )
    yield browser
    browser.close()


def _context(browser: Browser, live_server, viewport: dict[str, int]) -> BrowserContext:
    context = browser.new_context(
        base_url=live_server.url,
        viewport=viewport,  # type: ignore[arg-type]
        is_mobile=viewport["width"] < 600,
        has_touch=viewport["width"] < 600,
    )
    context.set_default_timeout(TIMEOUT_MS)
    return context


@pytest.fixture
def page(browser: Browser, live_server, transactional_db) -> Iterator[Page]:
    """A desktop-width page; relative URLs in goto() resolve to the live server."""
    context = _context(browser, live_server, DESKTOP)
    yield context.new_page()
    context.close()


@pytest.fixture
def phone_page(browser: Browser, live_server, transactional_db) -> Iterator[Page]:
    """A phone-width (390 px) touch page on the live server."""
    context = _context(browser, live_server, PHONE)
    yield context.new_page()
    context.close()


@pytest.fixture
def login_as(live_server) -> Callable[[Page, AbstractBaseUser], None]:
    """Log a page's browser context in as `user` by copying a test-client session."""

    def login(page: Page, user: AbstractBaseUser) -> None:
        client = Client()
        client.force_login(user)
        cookie = client.cookies[settings.SESSION_COOKIE_NAME]
        page.context.add_cookies(
            [
                {
                    "name": settings.SESSION_COOKIE_NAME,
                    "value": cookie.value,
                    "url": live_server.url,
                }
            ]
        )

    return login


@pytest.fixture
def screenshot(request: pytest.FixtureRequest) -> Callable[[Page, str], Path]:
    """Save a full-page PNG named <test>-<name>.png under $SCREENSHOT_DIR."""

    def take(page: Page, name: str) -> Path:
        SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
        test = re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.name)
        path = SCREENSHOT_DIR / f"{test}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
