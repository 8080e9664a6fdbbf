"""Review selectors: scale evidence for governance, report figures, progress per department, who acts for whom."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal as D

import pytest

from portfolio.choices import KpiDirection, Stage
from reviews import selectors
from reviews.choices import ReportStatus
from tests.factories import (
    BusinessCaseFactory,
    DepartmentFactory,
    InitiativeFactory,
    KPIFactory,
    ReviewCycleFactory,
    UserFactory,
    ValueReportFactory,
)
from tollgate.roles import Role

pytestmark = pytest.mark.django_db


def test_scale_evidence_is_the_latest_submitted_report_at_or_above_min_viable_scale(initiative):
    BusinessCaseFactory(initiative=initiative, min_viable_scale=5000)
    q2 = ReviewCycleFactory(name="2026-Q2", period_start=date(2026, 4, 1), period_end=date(2026, 6, 30))
    q3 = ReviewCycleFactory(name="2026-Q3")
    assert selectors.scale_evidence(initiative=initiative) is None
    ValueReportFactory(initiative=initiative, cycle=q2, status=ReportStatus.SUBMITTED, outcome_count=15000)
    ValueReportFactory(initiative=initiative, cycle=q3, status=ReportStatus.SUBMITTED, outcome_count=14999)
    evidence = selectors.scale_evidence(initiative=initiative)
    assert evidence.startswith("Value report 2026-Q2: 15,000 outcomes in 3 months = 5,000/month")


def test_drafts_and_missing_thresholds_are_no_evidence(initiative, other_initiative):
    BusinessCaseFactory(initiative=initiative, min_viable_scale=10)
    ValueReportFactory(initiative=initiative, outcome_count=1_000_000)  # a draft
    assert selectors.scale_evidence(initiative=initiative) is None
    BusinessCaseFactory(initiative=other_initiative, min_viable_scale=None)
    ValueReportFactory(initiative=other_initiative, status=ReportStatus.SUBMITTED, outcome_count=1_000_000)
    assert selectors.scale_evidence(initiative=other_initiative) is None
    assert selectors.scale_evidence(initiative=InitiativeFactory()) is None  # no business case


def test_report_figures_value_cost_and_targets(initiative):
    BusinessCaseFactory(initiative=initiative)  # TCO 2,450.00 / month, baseline $4.50 per outcome
    deflected = KPIFactory(initiative=initiative, baseline=D("0"), target=D("4000"), direction=KpiDirection.INCREASE,
                           value_per_unit=D("4.50"))
    handle = KPIFactory(initiative=initiative, baseline=D("6.0"), target=D("4.0"), direction=KpiDirection.DECREASE,
                        value_per_unit=D("15000"))
    report = ValueReportFactory(initiative=initiative, outcome_count=15000)
    report.actuals.create(kpi=deflected, actual=D("5000"))
    report.actuals.create(kpi=handle, actual=D("4.5"))
    figures = selectors.report_figures(report)
    assert [row.value for row in figures.rows] == [D("22500.00"), D("22500.00")]
    assert [row.target_met for row in figures.rows] == [True, False]
    assert figures.value.amount == D("45000.00") and not figures.value.is_stated
    assert (figures.cost.amount, figures.cost.estimated, figures.cost.label) == (
        D("7350.00"), True, "estimated from the business case")
    assert figures.cost_per_outcome == D("0.4900") and figures.baseline_cost_per_outcome == D("4.5000")
    assert figures.value_per_dollar == D("6.12")


def test_progress_by_department_splits_due_and_overdue_by_the_due_date():
    cycle = ReviewCycleFactory(due_on=date(2026, 10, 31))
    sales = DepartmentFactory(name="Sales")
    ValueReportFactory(cycle=cycle, status=ReportStatus.SUBMITTED, initiative=InitiativeFactory(department=sales))
    ValueReportFactory(cycle=cycle, initiative=InitiativeFactory(department=sales))
    before = selectors.cycle_progress_by_department(cycle, today=date(2026, 10, 31))
    after = selectors.cycle_progress_by_department(cycle, today=date(2026, 11, 1))
    assert [(r.department, r.submitted, r.due, r.overdue) for r in before] == [("Sales", 1, 1, 0)]
    assert [(r.department, r.submitted, r.due, r.overdue) for r in after] == [("Sales", 1, 0, 1)]


def test_report_owners_include_named_and_profile_delegates(owner, initiative):
    named = UserFactory(role=Role.OWNER)
    assistant = UserFactory(role=Role.OWNER)
    initiative.delegates.add(named)
    owner.profile.delegates.add(assistant)
    UserFactory(role=Role.OWNER)  # somebody else
    report = ValueReportFactory(initiative=initiative)
    assert {p.pk for p in selectors.report_owners(report)} == {owner.pk, named.pk, assistant.pk}
    assert set(selectors.initiatives_of(assistant)) == {initiative}


def test_current_cycle_prefers_the_latest_open_one():
    today = date(2026, 11, 23)
    ReviewCycleFactory(name="old", period_start=date(2026, 4, 1), opens_on=date(2026, 7, 1))
    current = ReviewCycleFactory(name="now", period_start=date(2026, 7, 1), opens_on=date(2026, 10, 1))
    ReviewCycleFactory(name="future", period_start=date(2026, 10, 1), opens_on=today + timedelta(days=40))
    assert selectors.current_cycle(today) == current


def test_review_queue_excludes_what_the_reviewer_acts_for(reviewer):
    cycle = ReviewCycleFactory()
    own = ValueReportFactory(cycle=cycle, status=ReportStatus.SUBMITTED,
                             initiative=InitiativeFactory(stage=Stage.PILOT, delegates=[reviewer]))
    other = ValueReportFactory(cycle=cycle, status=ReportStatus.SUBMITTED)
    assert list(selectors.review_queue(user=reviewer)) == [other]
    assert own not in selectors.review_queue(user=reviewer)
    assert not selectors.review_queue(user=UserFactory(role=Role.OWNER)).exists()
