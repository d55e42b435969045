"""Headless Chromium for UI tests: Debian's package, never a downloaded browser."""
import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("TAGLOOP_CHROMIUM", shutil.which("chromium") or "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
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
