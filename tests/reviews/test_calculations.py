"""Value of a quarter, worked on numbers (PRODUCT.md: improvement against baseline x value per unit)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest

from reviews import calculations as calc


def count(baseline, actual, direction, per_unit) -> calc.KpiValue:
    return calc.kpi_value("count", baseline=baseline, actual=actual, direction=direction, value_per_unit=per_unit)


def test_tickets_deflected_increase_kpi():
    # 0 -> 5,000 tickets deflected in the quarter, each worth a human-handled ticket at $4.50.
    assert count(D("0"), D("5000"), "increase", D("4.50")) == calc.KpiValue(D("22500.00"), improvement=D("5000"))


def test_a_kpi_that_got_worse_has_negative_value():
    assert count(D("600"), D("650"), "decrease", D("150")).amount == D("-7500.00")
    assert count(D("100"), D("90"), "increase", D("2")).amount == D("-20.00")


@pytest.mark.parametrize(
    ("baseline", "actual", "per_unit", "reason"),
    [(None, D(1), D(1), "baseline missing"), (D(1), None, D(1), "no actual"),
     (D(1), D(2), None, "no value per unit given")],
)
def test_missing_inputs_give_no_value_and_say_why(baseline, actual, per_unit, reason):
    assert count(baseline, actual, "increase", per_unit) == calc.KpiValue(
        None, reason, None if baseline is None or actual is None else D(1))


def test_report_value_sums_kpis_and_counts_the_unvalued():
    value = calc.report_value([D("22500.00"), D("-7500.00"), None], None)
    assert value.amount == D("15000.00")
    assert (value.source, value.is_stated, value.kpis_valued, value.kpis_unvalued) == ("kpis", False, 2, 1)


def test_stated_value_replaces_the_sum_and_is_flagged():
    value = calc.report_value([D("22500.00")], D("40000"))
    assert value.amount == D("40000.00") and value.is_stated


def test_no_kpi_value_and_no_stated_value_is_unknown():
    assert calc.report_value([None], None).amount is None
    assert calc.report_value([], None).amount is None


@pytest.mark.parametrize(
    ("actual", "target", "direction", "met"),
    [(D("4.0"), D("4.0"), "decrease", True), (D("4.5"), D("4.0"), "decrease", False),
     (D("5000"), D("4000"), "increase", True), (D("3999"), D("4000"), "increase", False),
     (None, D("1"), "increase", None), (D("1"), None, "increase", None)],
)
def test_target_met(actual, target, direction, met):
    assert calc.target_met(actual, target, direction) is met


def test_cost_per_outcome_and_value_per_dollar_of_a_quarter():
    # Business case TCO $2,450/month -> $7,350 for a quarter (estimated); 15,000 outcomes.
    cost = calc.estimated_cost(D("2450.00"), calc.months_in_period(date(2026, 7, 1), date(2026, 9, 30)))
    assert cost == D("7350.00")
    assert calc.cost_per_outcome(cost, 15000) == D("0.4900")
    assert calc.value_per_dollar(D("22500.00"), cost) == D("3.06")
    assert calc.cost_per_outcome(cost, 0) is None
    assert calc.estimated_cost(None, 3) is None


def test_months_and_monthly_outcomes():
    assert calc.months_in_period(date(2026, 1, 1), date(2026, 3, 31)) == 3
    assert calc.months_in_period(date(2025, 11, 15), date(2026, 1, 10)) == 3
    assert calc.months_in_period(date(2026, 5, 1), date(2026, 4, 1)) == 1
    assert calc.monthly_outcomes(15000, 3) == D("5000.00")
    assert calc.monthly_outcomes(None, 3) is None


@pytest.mark.parametrize(
    ("today", "name", "start", "end", "opens", "due"),
    [
        (date(2026, 10, 1), "2026-Q3", date(2026, 7, 1), date(2026, 9, 30), date(2026, 10, 1), date(2026, 10, 31)),
        (date(2026, 11, 23), "2026-Q3", date(2026, 7, 1), date(2026, 9, 30), date(2026, 10, 1), date(2026, 10, 31)),
        (date(2027, 1, 1), "2026-Q4", date(2026, 10, 1), date(2026, 12, 31), date(2027, 1, 1), date(2027, 1, 31)),
        (date(2026, 3, 31), "2025-Q4", date(2025, 10, 1), date(2025, 12, 31), date(2026, 1, 1), date(2026, 1, 31)),
    ],
)
def test_the_scheduled_cycle_reviews_the_quarter_just_ended(today, name, start, end, opens, due):
    planned = calc.cycle_for_quarter_after(today)
    assert (planned.name, planned.period_start, planned.period_end, planned.opens_on, planned.due_on) == (
        name, start, end, opens, due)


@pytest.mark.parametrize(
    ("start", "end", "name"),
    [
        (date(2026, 1, 1), date(2026, 3, 31), "2026-Q1"),
        (date(2026, 10, 1), date(2026, 12, 31), "2026-Q4"),
        (date(2025, 7, 1), date(2025, 12, 31), "2025-H2"),
        (date(2026, 1, 1), date(2026, 6, 30), "2026-H1"),
        (date(2026, 1, 1), date(2026, 12, 31), "2026"),
        (date(2026, 2, 1), date(2026, 4, 30), None),  # three months, not a calendar quarter
        (date(2026, 7, 1), date(2026, 9, 29), None),  # ends before the quarter does
        (date(2026, 7, 2), date(2026, 9, 30), None),
        (date(2026, 4, 1), date(2026, 9, 30), None),  # six months, not a calendar half
        (date(2026, 7, 1), date(2027, 6, 30), None),  # a year, not a calendar one
        (date(2026, 7, 1), date(2026, 7, 31), None),
    ],
)
def test_a_cycle_is_named_after_its_calendar_period(start, end, name):
    assert calc.cycle_name_for_period(start, end) == name


def test_a_value_past_decimals_default_precision_is_rounded_not_raised():
    # 10^16 outcomes x a change of about 10^11 x $10^8: 35 digits to the cent, more than Decimal's default 28.
    worth = calc.kpi_value("per_outcome", baseline=D("99999999999.9999"), actual=D("0"), direction="decrease",
                           value_per_unit=D("99999999.9999"), outcomes=10**16)
    assert worth.amount is not None and worth.amount > D("1e34")
    assert calc.report_value([worth, worth], None).amount == 2 * worth.amount
    from tollgate.formatting import format_money, format_number

    assert format_money(worth.amount).startswith("$99,999,999,999,")
    assert format_number(worth.amount).startswith("99,999,999,999,")
