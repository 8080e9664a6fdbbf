"""Sprawl in a real browser: possible duplicates while an owner types an intake; a reviewer confirms a cluster; an
executive reads the clusters without being able to decide; a reviewer measures the detector against the company's
own labelled duplicates."""

from __future__ import annotations

import contextlib
import re

import pytest
from playwright.sync_api import Page, expect

from governance.models import SprawlCluster, UseCase
from governance.sprawl import analysis
from governance.sprawl.services.recompute import sprawl_recompute
from portfolio.choices import Stage
from tests.browser.test_journeys import log_in
from tests.factories import CostCenterFactory, DepartmentFactory, InitiativeFactory, VendorFactory
from tests.governance.sprawl.engine.test_scoring import ARCHETYPES

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def image_tools(other_owner):
    """A small catalogue (fast to index) and two departments each paying for campaign images."""
    UseCase.objects.all().delete()
    for a in ARCHETYPES:
        UseCase.objects.create(code=a.code, name=a.name, job=a.job, synonyms=list(a.synonyms),
                               vendor_products=list(a.vendor_products), outputs=list(a.outputs))
    analysis._catalogue_index.cache_clear()
    marketing = DepartmentFactory(name="Marketing", code="mkt")
    comms = DepartmentFactory(name="Communications", code="comms")
    first = InitiativeFactory(owner=other_owner, name="Marketing's Midjourney accounts", department=marketing,
                              description="Midjourney seats for the brand team to generate campaign images and ad "
                              "visuals.",
                              stage=Stage.PRODUCTION, vendors=[VendorFactory(name="Midjourney")])
    second = InitiativeFactory(owner=other_owner, name="Firefly for the creative studio", department=comms,
                               description="Adobe Firefly seats for the creative studio to generate campaign images "
                               "and ad visuals.",
                               stage=Stage.PILOT)
    InitiativeFactory(owner=other_owner, name="AP invoice reader", description="Reads supplier invoices into SAP.",
                      stage=Stage.PILOT)
    yield first, second
    analysis._catalogue_index.cache_clear()


def test_owner_sees_possible_duplicates_while_typing_an_intake(page: Page, owner, image_tools):
    CostCenterFactory(code="CC-7700", name="Employer brand")
    log_in(page, owner)
    page.get_by_role("link", name="Register initiative").first.click()
    panel = page.locator("#draft-duplicates")
    expect(panel).to_contain_text("Type a name and purpose")
    held: list = []  # the lookups, held back until the panel has said it is searching
    lookups = re.compile(r"/governance/possible-duplicates/")
    page.route(lookups, lambda route: held.append(route))
    page.fill("#id_name", "Employer-brand visuals in Canva")
    page.fill("#id_description", "Canva Magic Media to generate images for recruiting campaigns and social posts.")
    expect(panel.locator(".duplicates-searching")).to_have_text("Searching…")
    page.unroute(lookups)
    for route in held:
        with contextlib.suppress(Exception):  # a lookup the page already replaced by a newer one
            route.continue_()
    duplicates = page.locator("#possible-duplicates li")
    expect(duplicates.first).to_contain_text(re.compile("Midjourney|Firefly"))
    expect(page.locator("#possible-duplicates")).to_contain_text("shared use case: Campaign image generation")
    expect(page.locator("#suggested-use-cases")).to_contain_text("Campaign image generation")
    # the panel follows the text: a different job brings a different first candidate
    page.fill("#id_name", "Supplier invoice capture")
    page.fill("#id_description", "Extract amounts and line items from supplier invoices into the ERP.")
    expect(duplicates.first).to_contain_text("AP invoice reader")


def test_reviewer_confirms_a_cluster_and_executive_reads_it(chromium, live_server, reviewer, executive, image_tools):
    sprawl_recompute()
    cluster = SprawlCluster.objects.get()
    assert {m.initiative_id for m in cluster.members.all()} == {i.pk for i in image_tools}
    # Listed under its own confidence only: the default list holds the likely clusters, "possible" the others.
    assert cluster.confidence in ("likely", "possible")
    listed, apart = "/governance/sprawl/", "/governance/sprawl/?confidence=possible"
    if cluster.confidence == "possible":
        listed, apart = apart, listed

    context = chromium.new_context(base_url=live_server.url)
    page = context.new_page()
    log_in(page, reviewer)
    page.goto(apart)
    expect(page.get_by_role("link", name=cluster.title)).to_have_count(0)
    page.goto(listed)
    page.get_by_role("link", name=cluster.title).first.click()
    expect(page.locator("#members-table")).to_contain_text("Firefly for the creative studio")
    expect(page.locator("#saving-basis")).not_to_be_empty()
    # Beside the evidence, how often clusters of this score were right on other companies' labelled inventories.
    expect(page.locator("#cluster-band")).to_contain_text("How often clusters like this were right elsewhere")
    page.fill("#decision-form textarea, #decision-form input[name=reason]", "One image tool for all brand work.")
    page.click("#confirm-cluster")
    expect(page.locator("#cluster-status")).to_have_text("Confirmed")
    expect(page.locator("#decision-text")).to_contain_text("One image tool for all brand work.")
    context.close()
    cluster.refresh_from_db()
    assert cluster.status == "confirmed" and cluster.decided_by == reviewer

    context = chromium.new_context(base_url=live_server.url)
    page = context.new_page()
    log_in(page, executive)
    page.goto(f"/governance/sprawl/{cluster.pk}/")
    expect(page.locator("#cluster-status")).to_have_text("Confirmed")
    expect(page.locator("#decision-form")).to_have_count(0)
    page.goto("/governance/sprawl/?status=confirmed&confidence=")
    expect(page.get_by_role("link", name=cluster.title).first).to_be_visible()
    # The track record counts the decision: every proposed pair confirmed.
    page.click("#track-record summary")
    proposed = len(image_tools) * (len(image_tools) - 1) // 2
    expect(page.locator(f"#track-record-{cluster.confidence}")).to_contain_text(f"{proposed} of {proposed}")
    context.close()


def test_reviewer_measures_the_detector_against_the_companys_labels(page: Page, reviewer, image_tools, tmp_path):
    labels = tmp_path / "our-duplicates.csv"
    labels.write_text("external_id,cluster\n" + "".join(f"{i.external_id},images\n" for i in image_tools),
                      encoding="utf-8")
    log_in(page, reviewer)
    page.goto("/governance/sprawl/")
    page.click("#check-labels")
    page.set_input_files("#id_file", str(labels))
    page.check("#id_possible")  # the image pair is a cluster, likely or possible (above): found either way
    page.click("#check-form button[type=submit]")
    # The page follows the job, then shows the figures: the labelled pair found, and each partner ranked.
    expect(page.locator("h1")).to_have_text("The detector against our-duplicates.csv")
    expect(page.locator("#check-precision")).to_have_text("1.000")
    expect(page.locator("#check-recall")).to_have_text("1.000")
    expect(page.locator("#check-top")).to_have_text("1.000")
    # Every cluster found, by score, beside the same scores elsewhere: a chart drawn in the page and its table.
    expect(page.locator("#check-bands-chart.js-plotly-plot")).to_have_count(1)
    expect(page.locator("#check-bands-table tbody tr").first).to_contain_text("Possible")
    expect(page.locator("#check-kind-missed")).to_have_text("0 labelled together, left apart")
    page.click("#check-kind-missed")
    expect(page.locator("table").last).to_contain_text("the detector agreed with the labels")  # the pairs
    page.get_by_role("link", name="Measure again").click()
    expect(page.locator("#recent-checks")).to_contain_text("our-duplicates.csv")
