"""The portfolio's reads of actual cost: the business case's monthly TCO in SQL agrees with the model's, and the
lists' figures agree with the initiative page's."""

from __future__ import annotations

from decimal import Decimal

import pytest

from portfolio import selectors
from portfolio.costs.selectors import CostPeriods, cost_periods
from portfolio.models import Initiative
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
