"""Headless Chromium for UI tests: Debian's package, never a downloaded browser."""

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("TAGLOOP_CHROMIUM", shutil.which("chromium") or "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"Chromium not found at {CHROMIUM}; install Debian's chromium package (see .ci/run)")
    # Playwright's sync API runs an event loop in this thread; the Django ORM calls the
    # tests make between page actions are still synchronous and safe.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def screenshot_path(name: str, *, docs: Path, tmp: Path) -> str:
    """Where a test's screenshot goes: the temporary directory, or docs/ when refreshing them.

    ``TAGLOOP_UPDATE_SCREENSHOTS=1 make test`` rewrites the screenshots in docs/; a plain
    test run leaves the repository as it found it.
    """
    return str((docs if os.environ.get("TAGLOOP_UPDATE_SCREENSHOTS") == "1" else tmp) / name)


def log_in_with_keys(page, base_url, username):
    page.goto(f"{base_url}/accounts/login/")
    page.focus("#id_username")
    page.keyboard.type(username)
    page.keyboard.press("Tab")
    page.keyboard.type("pw-" + username)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base_url}/review/")
    # "Start reviewing" takes the focus by itself (autofocus), so Enter starts the queue.
    page.wait_for_function("document.activeElement && document.activeElement.textContent.includes('Start reviewing')")


def start_reviewing(browser, base_url, user, width):
    """A page ``width`` px wide, logged in by keys, on the first review task once its keys are wired."""
    page = browser.new_page(viewport={"width": width, "height": 900})
    log_in_with_keys(page, base_url, user.username)
    page.keyboard.press("Enter")
    page.wait_for_url("**/review/task/*/")
    wait_until_ready(page)
    return page


def wait_until_ready(page):
    """The key script marks the page ready once the item is on screen and its forms are wired."""
    page.wait_for_function("document.body.dataset.reviewReady === 'true'")


def press_and_wait_for_next(page, key):
    """The next item arrives by an htmx swap, which changes the address but loads no page."""
    wait_until_ready(page)
    before = page.url
    page.keyboard.press(key)
    page.wait_for_function("before => location.href !== before", arg=before)


def log_in(page, base_url, username):
    """Log in through the form (the tests' users have the password ``pw-<username>``)."""
    page.goto(f"{base_url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "pw-" + username)
    page.click("button[type=submit]")
    page.wait_for_load_state()


# The phone and desktop widths the review screen is tried at.
WIDTHS = [1280, 390]
