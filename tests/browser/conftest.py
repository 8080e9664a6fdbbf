"""Real Chromium (Debian's package) driven by Playwright against a live test server."""

from __future__ import annotations

import os

import pytest

# Playwright's sync API runs an event loop in the test thread; the test's own ORM calls are still synchronous.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

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
def chromium():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def page(chromium, live_server):
    context = chromium.new_context(base_url=live_server.url, viewport={"width": 1366, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    page.wait_for_load_state("networkidle")
    context.close()


@pytest.fixture(scope="session", autouse=True)
def _catalogue_vectors_in_memory():
    """Embed the shipped catalogue's phrases once per session. Each browser test starts from an emptied database, so
    without this the first page that asks for possible duplicates would embed them again (seconds), while the next
    test already writes to the same SQLite database."""
    from governance.sprawl import analysis
    from governance.sprawl.engine.catalogue import CATALOGUE_PATH

    analysis.warm_catalogue_memo(analysis.archetypes_from_file(CATALOGUE_PATH))


@pytest.fixture(autouse=True)
def _requests_finish_before_the_flush(chromium, transactional_db):
    """Let every page's late requests (panels that load after the page) finish, then close the contexts, before the
    database is emptied for the next test: SQLite cannot empty a table a server thread is still reading."""
    yield
    for context in list(chromium.contexts):
        for open_page in context.pages:
            open_page.wait_for_load_state("networkidle")
        context.close()
