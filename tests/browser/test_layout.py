"""Every page of the role journeys fits the window: no page scrolls sideways at 1,280 or 1,024 px.

The demo company is built once (a minute) and every role's pages are opened at both widths against it, so a wide
table, an unwrapped header or a fixed width shows up as soon as the demo holds the data that makes it wide. The
failure lists every offending page and width with the widest elements, not only the first.
"""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.urls import reverse
from playwright.sync_api import Browser, Page

from governance.models import Signal, SignalRun, SprawlCluster, SprawlRun, UseCase
from governance.policies import DEFINITIONS
from portfolio.choices import Stage
from portfolio.dashboard.selectors import default_quarter
from portfolio.models import (
    AIModel,
    AllocationRule,
    CostCenter,
    CostSource,
    CurrencyRate,
    Department,
    ImportRun,
    IngestionRun,
    Initiative,
    LicencePool,
    Vendor,
)
from reviews.choices import ReportStatus
from reviews.models import ReviewCycle, ValueReport
from tollgate.demo.data import DEMO_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = (1280, 1024)
ROLES = ("owner", "reviewer", "executive", "admin")  # the demo logins (tollgate/demo/northwind/company.yaml)

# The page's horizontal overflow and, when there is some, the elements reaching furthest right (a table, a chart, a
# long word) named by tag, id and class, so the failure says what to fix.
OVERFLOW_JS = """() => {
  const width = window.innerWidth;
  const scroll = document.documentElement.scrollWidth;
  if (scroll <= width) return {scroll, width, widest: []};
  const name = (e) => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
    + (e.classList.length ? '.' + [...e.classList].join('.') : '');
  const path = (e) => { const parts = []; for (let n = e; n && n !== document.body && parts.length < 4;
    n = n.parentElement) parts.unshift(name(n)); return parts.join(' > '); };
  const right = (e) => e.getBoundingClientRect().right;
  // Inside a box that scrolls or clips, a wide element widens that box's scroll area, not the page.
  const clipped = (e) => { for (let n = e.parentElement; n && n !== document.body; n = n.parentElement) {
    if (getComputedStyle(n).overflowX !== 'visible') return true; } return false; };
  const wide = [...document.body.querySelectorAll('*')]
    .filter((e) => right(e) > width && !clipped(e))
    // the outermost of each overflowing branch: its children overflow because it does
    .filter((e) => !e.parentElement || e.parentElement === document.body || right(e.parentElement) <= width)
    .sort((a, b) => right(b) - right(a)).slice(0, 3)
    .map((e) => `${path(e)} (right edge ${Math.round(right(e))} px)`);
  return {scroll, width, widest: wide};
}"""


# The page is laid out: loaded, no panel still fetching its content, and two frames drawn since.
SETTLED_JS = """() => document.readyState === 'complete' && !document.querySelector('[aria-busy="true"]')
  && new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(() => done(true))))"""


def journey_pages() -> list[tuple[str, str]]:
    """(what, url) of every page the role journeys open, on the demo company. Each role opens all of them; the pages
    it may not see answer 403 (or 404 for an object it may not see) and are skipped."""

    def first(queryset: Any) -> Any:
        found = queryset.order_by("pk").first()
        assert found is not None, f"the demo company has no {queryset.model.__name__} for the layout test"
        return found

    def url(name: str, *args: Any) -> str:
        return reverse(name, args=args)

    in_review = first(Initiative.objects.filter(stage=Stage.IN_REVIEW))
    own = first(Initiative.objects.filter(owner__username="owner"))
    reported = first(Initiative.objects.filter(stage=Stage.PRODUCTION, value_reports__isnull=False).distinct())
    submitted = first(ValueReport.objects.filter(status=ReportStatus.SUBMITTED, verdict__isnull=True))
    pages = [
        ("dashboard", url("portfolio:dashboard")),
        ("board pack", url("portfolio:board_pack", default_quarter())),
        ("portfolio", url("portfolio:initiative_list")),
        ("new intake", url("portfolio:initiative_create")),
        ("initiative in review", url("portfolio:initiative_detail", in_review.pk)),
        ("initiative in production", url("portfolio:initiative_detail", reported.pk)),
        ("own initiative", url("portfolio:initiative_detail", own.pk)),
        ("edit own initiative", url("portfolio:initiative_edit", own.pk)),
        ("change start date", url("portfolio:initiative_start_date", reported.pk)),
        ("departments", url("portfolio:department_list")),
        ("department", url("portfolio:department_detail", first(Department.objects).pk)),
        ("cost centers", url("portfolio:costcenter_list")),
        ("cost center", url("portfolio:costcenter_detail", first(CostCenter.objects).pk)),
        ("new department", url("portfolio:department_create")),
        ("edit department", url("portfolio:department_edit", first(Department.objects).pk)),
        ("new cost center", url("portfolio:costcenter_create")),
        ("edit cost center", url("portfolio:costcenter_edit", first(CostCenter.objects).pk)),
        ("vendors", url("portfolio:vendor_list")),
        ("new vendor", url("portfolio:vendor_create")),
        ("edit vendor", url("portfolio:vendor_edit", first(Vendor.objects).pk)),
        ("models", url("portfolio:aimodel_list")),
        ("new model", url("portfolio:aimodel_create")),
        ("edit model", url("portfolio:aimodel_edit", first(AIModel.objects).pk)),
        ("licences", url("portfolio:licencepool_list")),
        ("new licence pool", url("portfolio:licencepool_create")),
        ("edit licence pool", url("portfolio:licencepool_edit", first(LicencePool.objects).pk)),
        ("delete licence pool", url("portfolio:licencepool_delete", first(LicencePool.objects).pk)),
        ("imports", url("portfolio:import_list")),
        ("people", url("portfolio:person_list")),
        ("edit person", url("portfolio:person_edit", own.owner_id)),
        ("add person", url("portfolio:person_create")),
        ("add integration account", url("portfolio:integration_account_create")),
        ("API tokens", url("portfolio:apitoken_list")),
        ("your account", url("account")),
        ("your password", url("password_change")),
        ("forgot password", url("password_reset")),
        ("new import", url("portfolio:import_create")),
        ("cost ingestion", url("portfolio:ingestion_health")),
        ("cost sources", url("portfolio:costsource_list")),
        ("cost source", url("portfolio:costsource_detail", first(CostSource.objects).pk)),
        ("ingestion runs", url("portfolio:ingestionrun_list")),
        ("ingestion run", url("portfolio:ingestionrun_detail", first(IngestionRun.objects).pk)),
        ("allocation rules", url("portfolio:allocationrule_list")),
        ("new allocation rule", url("portfolio:allocationrule_create")),
        ("edit allocation rule", url("portfolio:allocationrule_edit", first(AllocationRule.objects).pk)),
        ("currency rates", url("portfolio:currencyrate_list")),
        ("new currency rate", url("portfolio:currencyrate_create")),
        ("forecast", url("portfolio:cost_forecast")),
        ("review queue", url("governance:queue")),
        ("scoring", url("governance:score", in_review.pk)),
        ("approve", url("governance:transition_approve", in_review.pk)),
        ("audit trail", url("governance:audit")),
        ("policies", url("governance:policy_list")),
        ("edit policy", url("governance:policy_edit", DEFINITIONS[0].key)),
        ("rubric", url("governance:rubric")),
        ("sprawl", url("governance:sprawl_list")),
        ("sprawl cluster", url("governance:sprawl_detail", first(SprawlCluster.objects).pk)),
        ("use cases", url("governance:usecase_list")),
        ("use case", url("governance:usecase_detail", first(UseCase.objects.filter(clusters__isnull=False)).code)),
        ("signals", url("governance:signal_list")),
        ("signal", url("governance:signal_detail", first(Signal.objects).pk)),
        ("my reports", url("reviews:mine")),
        ("value report queue", url("reviews:queue")),
        ("submitted value report", url("reviews:report_detail", submitted.pk)),
        ("verdict", url("reviews:report_verdict", submitted.pk)),
        ("review cycles", url("reviews:cycle_list")),
        ("new review cycle", url("reviews:cycle_create")),
        ("review cycle", url("reviews:cycle_detail", first(ReviewCycle.objects.order_by("-period_start")).pk)),
        ("notifications", url("reviews:notification_list")),
    ]
    # Pages of objects the demo holds or not, depending on how it computed them.
    optional = [
        ("edit value report", "reviews:report_edit",
         ValueReport.objects.filter(status=ReportStatus.DRAFT, initiative__owner__username="owner")),
        ("edit currency rate", "portfolio:currencyrate_edit", CurrencyRate.objects),
        ("import", "portfolio:import_detail", ImportRun.objects),
        ("sprawl run", "governance:sprawl_run_detail", SprawlRun.objects),
        ("signal run", "governance:signal_run_detail", SignalRun.objects),
    ]
    for what, name, queryset in optional:
        pages += [(what, url(name, found.pk)) for found in queryset.order_by("-pk")[:1]]
    return pages


def log_in(page: Page, username: str, password: str) -> None:
    page.goto(reverse("login"))
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


def overflows_of(chromium: Browser, base_url: str, username: str, password: str, width: int,
                 pages: list[tuple[str, str]]) -> tuple[list[str], int]:
    """The pages of one login that scroll sideways at `width`, and how many pages it could open."""
    context = chromium.new_context(base_url=base_url, viewport={"width": width, "height": 900})
    context.set_default_timeout(30_000)
    page = context.new_page()
    log_in(page, username, password)
    found, opened = [], 0
    for what, url in pages:
        response = page.goto(url)
        assert response is not None
        if response.status in (403, 404):  # not this role's page (404: an object this role may not see)
            continue
        assert response.status == 200, f"{username} opening {what} ({url}) got {response.status}"
        opened += 1
        # Charts are drawn at DOMContentLoaded and goto() waits for the load event; a panel that fetches after the
        # page says so with aria-busy until it is filled. Waiting for that (and two frames, for the layout) instead of
        # half a second of network silence per page keeps 400-odd page loads to a minute.
        page.wait_for_function(SETTLED_JS)
        result = page.evaluate(OVERFLOW_JS)
        if result["scroll"] > result["width"]:
            widest = "; ".join(result["widest"]) or "no element found"
            found.append(f"{username} · {what} ({url}) at {width} px: {result['scroll']} px wide; widest: {widest}")
    context.close()
    return found, opened


def test_every_page_of_every_role_fits_1280_and_1024_pixels(chromium: Browser, live_server):
    # An earlier transactional test's flush removed the rubric its data migration seeded; seed it again as it did.
    import importlib

    from django.apps import apps

    importlib.import_module("governance.migrations.0002_default_rubric").seed(apps, None)
    call_command("load_demo", stdout=StringIO())
    pages = journey_pages()
    failures: list[str] = []
    for username in ROLES:
        for width in WIDTHS:
            found, opened = overflows_of(chromium, live_server.url, username, DEMO_PASSWORD, width, pages)
            assert opened >= 10, f"{username} could open only {opened} of the journey pages"
            failures += found
    assert not failures, "Pages wider than the window:\n" + "\n".join(failures)


def test_the_overflow_check_names_what_widens_the_page(page: Page):
    """The check above would pass on any page if it measured the wrong thing: a page made too wide on purpose fails
    it, naming the element, and a table too wide for its card scrolls inside its wrapper instead."""
    page.set_viewport_size({"width": 1024, "height": 700})
    page.goto(reverse("login"))
    assert page.evaluate(OVERFLOW_JS)["widest"] == []
    page.evaluate("""() => { const wide = document.createElement('div'); wide.id = 'too-wide';
      wide.style.width = '1500px'; wide.style.height = '2rem'; document.querySelector('main').appendChild(wide); }""")
    result = page.evaluate(OVERFLOW_JS)
    assert result["scroll"] > result["width"] == 1024
    assert "div#too-wide" in result["widest"][0]
    page.evaluate("""() => { const wide = document.getElementById('too-wide');
      const scroll = document.createElement('div'); scroll.className = 'table-scroll';
      wide.replaceWith(scroll); scroll.appendChild(wide); }""")
    assert page.evaluate(OVERFLOW_JS)["scroll"] <= 1024
