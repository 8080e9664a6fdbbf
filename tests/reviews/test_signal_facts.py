"""What the reviews app tells governance's signals: every initiative's latest report figures (as the report page
computes them), its overdue drafts and its scale evidence, in a few queries for any number of initiatives."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from governance import evidence
from portfolio.choices import KpiDirection
from reviews import selectors
from reviews.choices import ReportStatus
from tests.factories import BusinessCaseFactory, InitiativeFactory, KPIFactory, ReviewCycleFactory, ValueReportFactory

pytestmark = pytest.mark.django_db

TODAY = date(2026, 12, 3)


@pytest.fixture
def cycles():
    return {
        "q1": ReviewCycleFactory(name="2026-Q1", period_start=date(2026, 1, 1), period_end=date(2026, 3, 31),
                                 opens_on=date(2026, 4, 1), due_on=date(2026, 4, 30)),
        "q2": ReviewCycleFactory(name="2026-Q2", period_start=date(2026, 4, 1), period_end=date(2026, 6, 30),
                                 opens_on=date(2026, 7, 1), due_on=date(2026, 7, 31)),
        "q3": ReviewCycleFactory(name="2026-Q3"),
    }


def reported(initiative, cycle, *, actuals: dict, outcomes: int = 3000):
    report = ValueReportFactory(initiative=initiative, cycle=cycle, status=ReportStatus.SUBMITTED,
                                outcome_count=outcomes, submitted_at=timezone.now())
    for kpi, actual in actuals.items():
        report.actuals.create(kpi=kpi, actual=D(actual))
    return report


def test_the_latest_reports_figures_targets_and_scale_evidence(initiative, cycles):
    BusinessCaseFactory(initiative=initiative, min_viable_scale=5000)
    kpi = KPIFactory(initiative=initiative, baseline=D("6"), target=D("4"), direction=KpiDirection.DECREASE)
    other = KPIFactory(initiative=initiative, baseline=D("0"), target=D("100"), direction=KpiDirection.INCREASE)
    old = reported(initiative, cycles["q1"], actuals={kpi: "3.9", other: "120"}, outcomes=15000)
    q2 = reported(initiative, cycles["q2"], actuals={kpi: "5", other: "50"})
    q3 = reported(initiative, cycles["q3"], actuals={kpi: "4", other: "99"})
    facts = evidence.review_facts(initiative_ids=None, reports=2, today=TODAY)[initiative.pk]
    assert [r.quarter for r in facts.reports] == ["2026-Q3", "2026-Q2"]
    assert [(r.targets_met, r.targets_missed) for r in facts.reports] == [(1, 1), (0, 2)]
    for found, report in zip(facts.reports, (q3, q2), strict=True):
        figures = selectors.report_figures(report)
        assert (found.value, found.cost, found.value_per_dollar) == (
            figures.value.amount, figures.cost.amount, figures.value_per_dollar)
        assert found.url == report.get_absolute_url()
    assert facts.scale_evidence == selectors.scale_evidence(initiative=initiative)
    assert facts.scale_evidence.startswith("Value report 2026-Q1")
    assert old.get_absolute_url() not in [r.url for r in facts.reports]
    assert facts.overdue == ()


def test_overdue_drafts_of_open_cycles(initiative, cycles):
    ValueReportFactory(initiative=initiative, cycle=cycles["q2"])  # due 2026-07-31, a draft
    ValueReportFactory(initiative=initiative, cycle=cycles["q3"])  # due 2026-10-31, a draft
    closed = ValueReportFactory(initiative=initiative, cycle=cycles["q1"])
    closed.cycle.closed_at = timezone.now()
    closed.cycle.save(update_fields=["closed_at"])
    facts = evidence.review_facts(initiative_ids=[initiative.pk], reports=2, today=TODAY)[initiative.pk]
    assert [(r.quarter, r.days_overdue) for r in facts.overdue] == [("2026-Q2", 125), ("2026-Q3", 33)]
    assert facts.reports == ()
    assert evidence.review_facts(initiative_ids=[initiative.pk], reports=2, today=date(2026, 7, 31)) == {}


def test_a_constant_number_of_queries_for_any_number_of_initiatives(cycles):
    def portfolio(count: int) -> None:
        for _ in range(count):
            initiative = InitiativeFactory()
            BusinessCaseFactory(initiative=initiative)
            kpi = KPIFactory(initiative=initiative)
            for cycle in cycles.values():
                reported(initiative, cycle, actuals={kpi: "4.5"})

    portfolio(2)
    with CaptureQueriesContext(connection) as few:
        evidence.review_facts(initiative_ids=None, reports=2, today=TODAY)
    portfolio(5)
    with CaptureQueriesContext(connection) as many:
        facts = evidence.review_facts(initiative_ids=None, reports=2, today=TODAY)
    assert len(facts) == 7 and all(len(f.reports) == 2 for f in facts.values())
    # Headlines, initiatives + KPIs + approved versions, reports + actuals, overdue; and the months no cost source
    # read, which their costs leave out (the enabled sources, the months they delivered, the roll-ups' months).
    assert len(many) == len(few) <= 10
