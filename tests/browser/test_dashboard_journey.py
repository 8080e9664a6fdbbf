"""The executive's journey in a real browser: the dashboard, a department, an initiative, the board pack."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.factories import PASSWORD
from tests.portfolio.dashboard.test_selectors import portfolio  # noqa: F401 - the hand-built portfolio fixture

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_executive_lands_on_the_dashboard_drills_down_and_downloads_the_board_pack(
    page: Page, executive, portfolio  # noqa: F811
):
    refused: list[str] = []  # the Content-Security-Policy refuses nothing the pages need
    page.on("console", lambda message: refused.append(message.text) if "Content Security Policy" in message.text
            else None)
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    page.fill("#id_username", executive.username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(re.compile(r"/portfolio/dashboard/"))
    page.fill("#id_quarter", "2026-Q3")
    page.click("#dashboard-filters button[type=submit]")
    expect(page.locator("#figure-spend .n")).to_have_text("$4,350.55")
    expect(page.locator("#chart-spend .main-svg").first).to_be_visible()
    assert refused == []

    page.select_option("#id_department", str(portfolio["claims"].pk))
    page.click("#dashboard-filters button[type=submit]")
    expect(page.locator("h1")).to_have_text("Portfolio 2026-Q3 · Claims")
    expect(page).to_have_url(re.compile(r"quarter=2026-Q3"))

    page.locator("#top-initiatives").get_by_role("link", name="Claims triage").click()
    expect(page).to_have_url(re.compile(rf"/portfolio/initiatives/{portfolio['triage'].pk}/\?quarter=2026-Q3"))
    expect(page.locator("h1")).to_contain_text("Claims triage")
    expect(page.locator("#dashboard-quarter")).to_contain_text("2026-Q3")
    page.go_back()

    with page.expect_download() as download:
        page.click("#board-pack")
    assert download.value.suggested_filename == "tollgate-board-pack-2026-Q3.pdf"
    with open(download.value.path(), "rb") as pdf:
        assert pdf.read(5) == b"%PDF-"
