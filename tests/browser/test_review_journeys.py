"""Issue 4's journeys in a real browser: intake to approval, and a value report to a verdict."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from governance.models import RubricCriterion
from portfolio.choices import Stage
from reviews.choices import Decision, ReportStatus
from reviews.models import ValueReport
from tests.browser.test_journeys import log_in
from tests.factories import (
    BusinessCaseFactory,
    InitiativeFactory,
    KPIFactory,
    ReviewCycleFactory,
    RubricCriterionFactory,
    UserFactory,
    ValueReportFactory,
)
from tollgate.roles import Role

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def session_as(chromium: Browser, live_server, user) -> Page:
    """A separate browser context per person, as if each sat at their own desk."""
    context = chromium.new_context(base_url=live_server.url, viewport={"width": 1366, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    log_in(page, user)
    return page


@pytest.fixture
def rubric():
    # Transactional tests flush the rubric the data migration seeded; put a small one back.
    if not RubricCriterion.objects.filter(active=True).exists():
        RubricCriterionFactory(name="Strategic fit", weight=60)
        RubricCriterionFactory(name="Cost realism", weight=40)
    return list(RubricCriterion.objects.filter(active=True))


def score_intake(page: Page, initiative, rubric, score: int) -> None:
    page.goto("/governance/queue/")
    page.get_by_role("link", name=initiative.name).first.click()  # the queue leads straight to the scoring page
    expect(page.locator("h1")).to_contain_text(f"Score {initiative.name}")
    for criterion in rubric:
        page.check(f"input[name=score_{criterion.pk}][value='{score}']")
        page.fill(f"[name=comment_{criterion.pk}]", f"{criterion.name}: solid.")
    page.get_by_role("button", name="Save scores").click()
    expect(page.locator(".messages")).to_contain_text(re.compile("saved|recorded", re.I))


def test_intake_is_submitted_scored_by_two_reviewers_and_approved(chromium, live_server, owner, reviewer, rubric):
    second_reviewer = UserFactory(username="rui.reviewer@example.com", role=Role.REVIEWER)
    initiative = InitiativeFactory(owner=owner, name="Broker e-mail triage", stage=Stage.PROPOSED)
    BusinessCaseFactory(initiative=initiative)
    KPIFactory(initiative=initiative)

    page = session_as(chromium, live_server, owner)
    page.goto(f"/portfolio/initiatives/{initiative.pk}/")
    page.locator("#transition-buttons").get_by_role("link", name="Submit for review").click()
    page.locator("#transition-form button[type=submit]").click()
    expect(page.locator("h1 .stage")).to_have_text("In review")

    first = session_as(chromium, live_server, reviewer)
    score_intake(first, initiative, rubric, 4)
    # One reviewer is not a quorum: the Approve button is disabled, with the reason beside it.
    first.goto(f"/governance/initiatives/{initiative.pk}/transition/approve/")
    expect(first.locator("#transition-form button[type=submit]")).to_be_disabled()
    expect(first.locator("#transition-blocked")).to_contain_text(re.compile("quorum|reviewers", re.I))
    initiative.refresh_from_db()
    assert initiative.stage == Stage.IN_REVIEW

    second = session_as(chromium, live_server, second_reviewer)
    score_intake(second, initiative, rubric, 5)
    second.goto(f"/portfolio/initiatives/{initiative.pk}/")
    second.locator("#transition-buttons").get_by_role("link", name="Approve").click()
    second.fill("[name=reason]", "Strong case; reuse the shared e-mail classifier.")
    second.locator("#transition-form button[type=submit]").click()
    expect(second.locator("h1 .stage")).to_have_text("Approved")
    initiative.refresh_from_db()
    assert initiative.stage == Stage.APPROVED


def test_owner_submits_a_value_report_and_a_reviewer_gives_a_verdict(chromium, live_server, owner, reviewer):
    initiative = InitiativeFactory(owner=owner, name="Claims document extraction", stage=Stage.PILOT)
    BusinessCaseFactory(initiative=initiative)
    kpi = KPIFactory(initiative=initiative, name="Documents auto-extracted", baseline=0, target=4000,
                     direction="increase", value_per_unit=3)
    stated = KPIFactory(initiative=initiative, name="Overpayments avoided", kind="stated", baseline=None,
                        target=None, value_per_unit=None)
    ratio = KPIFactory(initiative=initiative, name="Fields keyed correctly", unit="%", kind="ratio", baseline=92,
                       target=98, direction="increase", value_per_unit=None)
    today = timezone.localdate()
    cycle = ReviewCycleFactory(name="2026-Q3", opens_on=today - timedelta(days=5), due_on=today + timedelta(days=20))
    report = ValueReportFactory(cycle=cycle, initiative=initiative)

    page = session_as(chromium, live_server, owner)
    page.goto("/reviews/mine/")
    page.get_by_role("link", name="Fill in").first.click()
    # The wrong file first: saved with the draft, then taken off and replaced by the right one.
    page.set_input_files("#id_attachment", files=[
        {"name": "old-survey.csv", "mimeType": "text/csv", "buffer": b"kpi,actual\nextracted,3900\n"}])
    page.click("#save-draft")
    expect(page.locator(".messages")).to_contain_text("Draft saved.")
    page.locator("#attachment-list li", has_text="old-survey.csv").get_by_label("Remove").check()
    page.set_input_files("#id_attachment", files=[
        {"name": "audit-sample.csv", "mimeType": "text/csv", "buffer": b"claim,overpayment\nC-1,120.00\n"}])
    page.fill(f"#id_kpi_{kpi.pk}", "4200")
    page.fill(f"#id_kpi_{ratio.pk}", "97")
    page.fill(f"#id_kpi_stated_{stated.pk}", "5300")
    page.fill(f"#id_kpi_evidence_{stated.pk}", "Overpayments recovered by audit, Q3 sample of 200 claims.")
    page.fill("#id_outcome_count", "12600")
    page.fill("#id_active_users", "35")
    page.fill("#id_narrative", "Extraction went live for motor claims in August.")
    page.click("#submit-report")
    expect(page.get_by_text(re.compile("submitted", re.I)).first).to_be_visible()
    report.refresh_from_db()
    assert report.status == ReportStatus.SUBMITTED
    assert [a.original_name for a in report.attachments.all()] == ["audit-sample.csv"]
    expect(page.locator("#attachments")).to_contain_text("audit-sample.csv")
    expect(page.locator(f"#kpi-value-{kpi.pk}")).to_have_text("$12,600.00")
    expect(page.locator(f"#kpi-value-{stated.pk}")).to_contain_text("$5,300.00")
    expect(page.locator(f"#kpi-value-{ratio.pk}")).to_have_text(
        "no money value: a ratio KPI without a value per point")
    expect(page.locator("#report-value")).to_have_text("$17,900.00")

    reviewer_page = session_as(chromium, live_server, reviewer)
    reviewer_page.goto("/reviews/queue/")
    reviewer_page.get_by_role("link", name=re.compile("Claims document extraction")).first.click()
    reviewer_page.check(f"input[name=decision][value='{Decision.SCALE}']")
    reviewer_page.fill("[name=rationale]", "Beats its target; extend to property claims.")
    reviewer_page.click("#give-verdict")
    expect(reviewer_page.locator("#verdict-decision")).to_have_text("Scale")
    assert ValueReport.objects.get(pk=report.pk).verdict.decision == Decision.SCALE
