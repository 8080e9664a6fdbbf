"""The value model worked on numbers: each KPI kind turns its improvement into money its own way, a KPI without money
says why, and value per AI dollar divides the value by the period's TCO (reviews.calculations)."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from reviews import calculations as calc


def value(kind: str, *, baseline=None, actual=None, direction="increase", per_unit=None, outcomes=None,
          stated=None, evidence="") -> calc.KpiValue:
    return calc.kpi_value(kind, baseline=baseline, actual=actual, direction=direction, value_per_unit=per_unit,
                          outcomes=outcomes, stated_value=stated, evidence=evidence)


# The product brief and the examples --------------------------------------------------------------------------


def test_the_product_briefs_two_tenths_of_a_cent_per_interaction_is_144000_a_year_at_72_million():
    # Cost per interaction $0.0050 before, $0.0030 with the AI: $0.002 saved on each of 72 million interactions a
    # year, each dollar of unit cost worth a dollar (value per unit 1).
    worth = value("per_outcome", baseline=D("0.0050"), actual=D("0.0030"), direction="decrease", per_unit=D("1"),
                  outcomes=72_000_000)
    assert worth == calc.KpiValue(D("144000.00"), improvement=D("0.0020"))


def test_handle_time_13_to_10_minutes_on_20000_emails_at_75_cents_a_minute():
    # Handle time fell 23% (13 -> 10 minutes per e-mail) on 20,000 e-mails in the quarter; a minute is worth $0.75.
    worth = value("per_outcome", baseline=D("13"), actual=D("10"), direction="decrease", per_unit=D("0.75"),
                  outcomes=20_000)
    assert worth.amount == D("45000.00") and worth.improvement / D("13") > D("0.23")
    # The quarter's actual TCO is $11,200: $0.56 per e-mail against a $3.20 baseline, about 4x value per AI dollar.
    report = calc.report_value([worth], None)
    assert calc.cost_per_outcome(D("11200.00"), 20_000) == D("0.5600")
    assert calc.value_per_dollar(report.amount, D("11200.00")) == D("4.02")
    # Valued as if it were a count (3 minutes x $0.75), the same quarter would have shown almost nothing.
    as_count = value("count", baseline=D("13"), actual=D("10"), direction="decrease", per_unit=D("0.75"))
    assert calc.value_per_dollar(as_count.amount, D("11200.00")) == D("0.00")


# Each kind -----------------------------------------------------------------------------------------------------------


def test_a_count_kpi_is_improvement_times_value_per_unit():
    # 1,200 -> 4,700 tickets deflected in the quarter, each worth a human-handled ticket at $4.50.
    assert value("count", baseline=D("1200"), actual=D("4700"), per_unit=D("4.50")).amount == D("15750.00")
    # The outcomes of the period play no part in a count.
    assert value("count", baseline=D("1200"), actual=D("4700"), per_unit=D("4.50"), outcomes=99).amount == D(
        "15750.00")


def test_a_ratio_kpi_is_valued_only_with_a_value_per_point():
    csat = {"baseline": D("72"), "actual": D("78")}
    assert value("ratio", **csat, per_unit=D("1500")) == calc.KpiValue(D("9000.00"), improvement=D("6"))
    assert value("ratio", **csat) == calc.KpiValue(None, "a ratio KPI without a value per point", D("6"))
    assert value("ratio", **csat, per_unit=D("0")).no_value_reason == "a ratio KPI without a value per point"


def test_a_stated_kpi_is_the_owners_amount_with_its_evidence():
    evidence = "Finance reconciled 312 recovered overcharges against the supplier ledger."
    assert value("stated", stated=D("18250.5"), evidence=evidence).amount == D("18250.50")
    # An actual, when given, still tells the improvement; the value stays the stated amount.
    worth = value("stated", baseline=D("10"), actual=D("4"), direction="decrease", stated=D("900"), evidence=evidence)
    assert (worth.amount, worth.improvement) == (D("900.00"), D("6"))
    assert value("stated", stated=D("18250"), evidence="  ") == calc.KpiValue(
        None, "a stated value without its evidence")
    assert value("stated", evidence=evidence) == calc.KpiValue(None, "no value stated")
    # A value per unit plays no part in a stated KPI.
    assert value("stated", per_unit=D("5"), baseline=D("1"), actual=D("9")).amount is None


@pytest.mark.parametrize("kind", ["count", "per_outcome", "ratio"])
def test_direction_decides_the_sign_of_the_improvement(kind):
    lower = value(kind, baseline=D("8"), actual=D("6"), direction="decrease", per_unit=D("10"), outcomes=100)
    higher = value(kind, baseline=D("8"), actual=D("6"), direction="increase", per_unit=D("10"), outcomes=100)
    assert lower.amount == -higher.amount and lower.amount > 0
    assert (lower.improvement, higher.improvement) == (D("2"), D("-2"))


def test_a_per_outcome_kpi_that_got_worse_costs_money():
    worth = value("per_outcome", baseline=D("13"), actual=D("14"), direction="decrease", per_unit=D("0.75"),
                  outcomes=20_000)
    assert worth.amount == D("-15000.00")


# Missing pieces give the reason, never $0 ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "inputs", "reason"),
    [
        ("count", {"baseline": D("5"), "per_unit": D("1")}, "no actual"),
        ("per_outcome", {"actual": D("5"), "per_unit": D("1"), "outcomes": 10}, "baseline missing"),
        ("count", {"baseline": D("5"), "actual": D("7")}, "no value per unit given"),
        ("count", {"baseline": D("5"), "actual": D("7"), "per_unit": D("0")}, "no value per unit given"),
        ("per_outcome", {"baseline": D("5"), "actual": D("3"), "direction": "decrease"}, "no value per unit given"),
        ("per_outcome", {"baseline": D("5"), "actual": D("3"), "per_unit": D("1")},
         "no outcomes reported in the period"),
        ("per_outcome", {"baseline": D("5"), "actual": D("3"), "per_unit": D("1"), "outcomes": 0},
         "no outcomes reported in the period"),
        ("ratio", {"baseline": D("40"), "actual": D("55")}, "a ratio KPI without a value per point"),
        ("stated", {"baseline": D("1"), "actual": D("2"), "per_unit": D("3")}, "no value stated"),
    ],
)
def test_a_kpi_without_money_says_why(kind, inputs, reason):
    worth = value(kind, **inputs)
    assert worth.amount is None and worth.no_value_reason == reason


def test_a_kpi_value_is_either_an_amount_or_a_reason():
    with pytest.raises(ValueError):
        calc.KpiValue(None)
    with pytest.raises(ValueError):
        calc.KpiValue(D("1"), "no actual")


# The report ----------------------------------------------------------------------------------------------------------


def test_the_report_sums_the_money_and_counts_the_kpis_without_any():
    rows = [
        value("per_outcome", baseline=D("13"), actual=D("10"), direction="decrease", per_unit=D("0.75"),
              outcomes=20_000),
        value("count", baseline=D("0"), actual=D("1000"), per_unit=D("4.50")),
        value("ratio", baseline=D("72"), actual=D("78")),
        value("stated", stated=D("2500"), evidence="Audit sample of 40 files."),
    ]
    report = calc.report_value(rows, None)
    assert (report.amount, report.kpis_valued, report.kpis_unvalued, report.is_stated) == (
        D("52000.00"), 3, 1, False)


def test_a_report_whose_kpis_carry_no_money_has_no_value_not_zero():
    report = calc.report_value([value("ratio", baseline=D("1"), actual=D("2")), value("count")], None)
    assert report.amount is None and report.kpis_unvalued == 2


def test_an_owner_stated_report_value_still_replaces_the_sum_and_is_flagged():
    rows = [value("count", baseline=D("0"), actual=D("1000"), per_unit=D("4.50"))]
    report = calc.report_value(rows, D("40000"))
    assert (report.amount, report.is_stated, report.kpis_valued) == (D("40000.00"), True, 1)
