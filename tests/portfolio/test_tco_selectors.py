"""The portfolio's reads of actual cost: the business case's monthly TCO in SQL agrees with the model's, and the
lists' figures agree with the initiative page's."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from portfolio import selectors
from portfolio.costs.selectors import CostPeriods, cost_periods, initiative_tco_headline
from portfolio.models import Department, Initiative, InitiativeMonthlyTco
from tests.factories import BusinessCaseFactory, InitiativeFactory
from tests.portfolio.tco_example import build_example

pytestmark = pytest.mark.django_db
D = Decimal


def test_planned_monthly_tco_in_sql_is_the_business_cases_or_the_declared_cost():
    odd = BusinessCaseFactory(oversight_hours_per_month=D("12.5"), loaded_hourly_rate=D("71.33"),
                              tco_compute=D("0.07"), tco_licences=D("19.99")).initiative
    plain = BusinessCaseFactory().initiative
    declared = InitiativeFactory(declared_monthly_cost=D("1234.56"))
    planned = dict(Initiative.objects.annotate(planned=selectors.planned_monthly_tco()).values_list("pk", "planned"))
    assert D(planned[odd.pk]).quantize(D("0.01")) == odd.business_case.tco_monthly == D("2061.69")
    assert D(planned[plain.pk]) == plain.business_case.tco_monthly == D("2450.00")
    assert D(planned[declared.pk]) == D("1234.56")


def test_the_list_and_the_initiative_page_agree():
    example = build_example()
    periods = cost_periods()
    listed = {i.pk: i for i in Initiative.objects.annotate(**selectors.initiative_cost_annotations(periods))}
    for initiative in (example.recorded, example.declared, example.idea):
        panel = selectors.initiative_tco_panel(Initiative.objects.select_related("business_case").get(
            pk=initiative.pk))
        row = listed[initiative.pk]
        assert D(row.cost_last_month) == panel.headline.month.total
        assert D(row.cost_last_quarter) == panel.headline.quarter.total
        assert D(row.plan_last_quarter) == panel.plan_last_quarter
        expected = panel.variance_last_quarter
        assert (row.cost_variance_pct is None) == (expected is None)
        if expected is not None:
            assert D(str(round(row.cost_variance_pct, 1))) == expected


def test_without_cost_data_the_figures_are_empty_not_zero():
    InitiativeFactory()
    row = Initiative.objects.annotate(**selectors.initiative_cost_annotations(CostPeriods(None, None))).get()
    assert (row.cost_last_month, row.cost_last_quarter, row.cost_variance_pct) == (None, None, None)


def test_no_plan_applies_to_the_months_before_an_initiative_started():
    """Finding 12 of the first-week walk: cost records of 2024-09 mapped to an initiative that started on 2025-01-15
    are its cost, but no declared cost or business case applies before its start: the plan for 2024-Q3 is $0 and the
    variance "—" (not -100.0% of a $2,700 plan), on its page, in the lists and in its department's row."""
    started = InitiativeFactory(declared_monthly_cost=D("900"), start_date=date(2025, 1, 15))
    InitiativeMonthlyTco.objects.create(initiative=started, month=date(2024, 9, 1), category="other",
                                        amount=D("-0.15"), actual=True)
    InitiativeMonthlyTco.objects.create(initiative=started, month=date(2025, 1, 1), category="other",
                                        amount=D("950"), actual=True)
    before = CostPeriods(date(2024, 9, 1), ("2024-Q3", date(2024, 7, 1), date(2024, 9, 1)))
    row = Initiative.objects.annotate(**selectors.initiative_cost_annotations(before)).get(pk=started.pk)
    assert (D(row.cost_last_quarter), D(row.plan_last_quarter), row.cost_variance_pct) == (D("-0.15"), 0, None)
    assert initiative_tco_headline(initiative_id=started.pk, periods=before,
                                   start_date=started.start_date).quarter_months == 0
    department = Department.objects.annotate(**selectors._group_cost_annotations("department", before)).get(
        pk=started.department_id)
    assert (D(department.plan_last_quarter), department.cost_variance_pct) == (0, None)
    # The month it started in is compared with its plan, as before.
    january = CostPeriods(date(2025, 1, 1), ("2025-Q1", date(2025, 1, 1), date(2025, 3, 1)))
    row = Initiative.objects.annotate(**selectors.initiative_cost_annotations(january)).get(pk=started.pk)
    assert (D(row.plan_last_quarter), D(str(round(row.cost_variance_pct, 1)))) == (D("900"), D("5.6"))
    assert initiative_tco_headline(initiative_id=started.pk, periods=january,
                                   start_date=started.start_date).quarter_months == 1


def test_the_months_a_period_s_tco_counts_leave_out_those_nobody_read(monkeypatch):
    """costs.selectors.tco_months_counted, by the costs API's rule: 2026-Q3 of tco_example.build_august_unread counts
    July and September and leaves August out; 2026-Q4 counts all three (December is in progress, read so far); a
    quarter nothing of which was read (2026-Q1) keeps every month: its figure is the TCO's estimates, as a new
    install's value reports are."""
    from portfolio.costs.selectors import tco_months_counted, tco_months_left_out
    from tests.portfolio.tco_example import build_august_unread

    build_august_unread(monkeypatch)
    q3 = tco_months_counted(date(2026, 7, 1), date(2026, 9, 30))
    assert (q3.read, q3.unread, q3.none_read) == ((date(2026, 7, 1), date(2026, 9, 1)), (date(2026, 8, 1),), False)
    assert q3.note == "2 of 3 months read (2026-08 unread: no cost source read it, so its cost is unknown and left out)"
    q4 = tco_months_counted(date(2026, 10, 1), date(2026, 12, 31))
    assert (q4.unread, q4.note) == ((), "")
    q1 = tco_months_counted(date(2026, 1, 1), date(2026, 3, 31))
    assert (q1.read, q1.unread, q1.none_read) == (tuple(date(2026, m, 1) for m in (1, 2, 3)), (), True)
    periods = [(date(2026, 1, 1), date(2026, 3, 31)), (date(2026, 7, 1), date(2026, 9, 30))]
    assert tco_months_left_out(periods) == [date(2026, 8, 1)]
