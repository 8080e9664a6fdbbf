"""Reading the monthly TCO: months and quarters, what is actual, an initiative's history and headline."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from portfolio.costs.calculations import (
    TcoFigures,
    TcoPart,
    add_months,
    complete_quarter_by,
    month_range,
    variance_pct,
)
from portfolio.costs.selectors import (
    CostPeriods,
    cost_periods,
    initiative_tco_headline,
    initiative_tco_history,
    last_complete_quarter,
    tco_history_figure,
)
from portfolio.costs.services.tco import tco_recompute
from portfolio.models import MonthlyCost
from tests.portfolio.tco_example import AUGUST, JULY, OCTOBER, SEPTEMBER, build_example

D = Decimal


# The arithmetic ------------------------------------------------------------------------------------------------------


def test_months_step_across_years():
    assert add_months(date(2026, 11, 1), 3) == date(2027, 2, 1)
    assert add_months(date(2026, 1, 15), -1) == date(2025, 12, 1)
    assert month_range(date(2025, 11, 20), date(2026, 2, 1)) == [
        date(2025, 11, 1), date(2025, 12, 1), date(2026, 1, 1), date(2026, 2, 1)]
    assert month_range(date(2026, 3, 1), date(2026, 2, 1)) == []


@pytest.mark.parametrize("latest, quarter", [
    (date(2026, 9, 1), ("2026-Q3", date(2026, 7, 1), date(2026, 9, 1))),
    (date(2026, 10, 1), ("2026-Q3", date(2026, 7, 1), date(2026, 9, 1))),
    (date(2026, 8, 1), ("2026-Q2", date(2026, 4, 1), date(2026, 6, 1))),
    (date(2026, 2, 1), ("2025-Q4", date(2025, 10, 1), date(2025, 12, 1))),
    (date(2026, 3, 1), ("2026-Q1", date(2026, 1, 1), date(2026, 3, 1))),
])
def test_the_complete_quarter_is_the_latest_whose_last_month_has_passed(latest, quarter):
    assert complete_quarter_by(latest) == quarter


def test_a_figure_is_actual_partly_estimated_or_estimated():
    actual, estimated = TcoPart("inference", D("1000"), True), TcoPart("oversight", D("1300"), False)
    assert TcoFigures.of([actual, estimated]) == TcoFigures(D("2300.00"), D("1000.00"), D("1300.00"))
    assert TcoFigures.of([actual, estimated]).basis == "partly estimated"
    assert TcoFigures.of([actual]).basis == "actual"
    assert TcoFigures.of([estimated]).basis == "estimated"
    assert TcoFigures.of([]) == TcoFigures(D("0.00"), D("0.00"), D("0.00"))


def test_variance_is_in_percent_of_the_plan_and_none_without_one():
    assert variance_pct(D("8000"), D("7350")) == D("8.8")
    assert variance_pct(D("6000"), D("8000")) == D("-25.0")
    assert variance_pct(D("10"), D("0")) is None


# Reads ---------------------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_periods_are_read_once_and_agree_with_last_complete_quarter(django_assert_num_queries):
    build_example()
    with django_assert_num_queries(3):  # the months with cost, what each source delivered, the enabled sources
        periods = cost_periods()
    assert periods == CostPeriods(OCTOBER, ("2026-Q3", JULY, SEPTEMBER))
    assert (periods.month_label, periods.quarter_label) == ("2026-10", "2026-Q3")
    assert periods.quarter == last_complete_quarter()


@pytest.mark.django_db
def test_without_cost_data_there_are_no_periods():
    periods = cost_periods()
    assert periods == CostPeriods(None, None) and periods.month_label == "" and periods.quarter_label == ""


@pytest.mark.django_db
def test_history_defaults_to_the_months_with_data_and_lists_every_asked_month(django_assert_num_queries):
    example = build_example()
    with django_assert_num_queries(2):
        history = initiative_tco_history(initiative_id=example.recorded.pk)
    assert (history.start, history.end) == (JULY, OCTOBER)  # less than twelve months of data: from the first
    assert [m.month for m in history.months] == [JULY, AUGUST, SEPTEMBER, OCTOBER]
    assert [m.figures.total for m in history.months] == [D("2600.00"), D("2600.00"), D("2800.00"), D("2600.00")]
    assert history.categories == ["inference", "licences", "oversight", "maintenance"]
    assert history.figures == TcoFigures(D("10600.00"), D("4200.00"), D("6400.00"))

    asked = initiative_tco_history(initiative_id=example.recorded.pk, start=date(2026, 6, 1), end=AUGUST)
    assert [(m.month, m.figures.total) for m in asked.months] == [
        (date(2026, 6, 1), D("0.00")), (JULY, D("2600.00")), (AUGUST, D("2600.00"))]
    one_bound = initiative_tco_history(initiative_id=example.recorded.pk, end=OCTOBER)
    assert (one_bound.start, len(one_bound.months)) == (date(2025, 11, 1), 12)
    assert initiative_tco_history(initiative_id=example.idea.pk).months == []


@pytest.mark.django_db
def test_history_keeps_a_long_series_to_its_last_twelve_months():
    example = build_example()
    for month in month_range(date(2025, 1, 1), date(2026, 6, 1)):
        MonthlyCost.objects.create(initiative=example.recorded, month=month, category="compute", amount=D("10"))
    tco_recompute()
    history = initiative_tco_history(initiative_id=example.recorded.pk)
    assert (history.start, history.end, len(history.months)) == (date(2025, 11, 1), OCTOBER, 12)


@pytest.mark.django_db
def test_headline_of_last_month_and_quarter(django_assert_num_queries):
    example = build_example()
    periods = cost_periods()
    with django_assert_num_queries(1):
        headline = initiative_tco_headline(initiative_id=example.recorded.pk, periods=periods)
    assert headline.month == TcoFigures(D("2600.00"), D("1000.00"), D("1600.00"))
    assert headline.quarter == TcoFigures(D("8000.00"), D("3200.00"), D("4800.00"))
    assert headline.quarter_months == 3
    declared = initiative_tco_headline(initiative_id=example.declared.pk, periods=periods)
    assert (declared.quarter.total, declared.quarter.basis, declared.quarter_months) == (D("1000.00"), "estimated", 2)
    assert initiative_tco_headline(initiative_id=example.idea.pk, periods=CostPeriods(None, None)).month is None


@pytest.mark.django_db
def test_chart_draws_actual_and_estimated_parts_apart_with_the_plan_lines():
    example = build_example()
    history = initiative_tco_history(initiative_id=example.recorded.pk)
    figure = tco_history_figure(history, business_case_monthly=D("2450.00"), declared_monthly=D("1200.00"))
    bars = {trace["name"]: trace for trace in figure["data"] if trace["type"] == "bar"}
    assert list(bars) == ["Inference / API (actual)", "Licences (actual)", "Oversight (estimated)",
                          "Maintenance (estimated)"]
    assert bars["Licences (actual)"]["y"] == [0.0, 0.0, 200.0, 0.0]
    assert "pattern" in bars["Oversight (estimated)"]["marker"]
    assert "pattern" not in bars["Inference / API (actual)"]["marker"]
    lines = {trace["name"]: trace["y"] for trace in figure["data"] if trace["type"] == "scatter"}
    assert lines == {"Business case": [2450.0] * 4, "Declared": [1200.0] * 4}
    assert figure["layout"]["barmode"] == "stack"
    without_case = tco_history_figure(history, business_case_monthly=None, declared_monthly=D("0"))
    assert [t["name"] for t in without_case["data"] if t["type"] == "scatter"] == ["Declared"]
