"""Kill-or-continue rules at, just below and just above their thresholds."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from governance.signals.rules import kill
from governance.signals.rules.facts import OverdueReport, QuarterCost
from tests.governance.signals.rules.facts import initiative, report, reviews

FLOOR = Decimal("1.0")


# value_per_dollar_low -----------------------------------------------------------------------------------------------


def test_value_per_dollar_below_the_floor_for_the_quarters_raises():
    facts = reviews(report("2026-Q3", vpd="0.99"), report("2026-Q2", vpd="0.4"))
    found = kill.value_per_dollar_low(initiative(), facts, floor=FLOOR, quarters=2)
    assert found is not None
    assert (found.type, found.period, found.metric, found.severity) == ("value_per_dollar_low", "2026-Q3",
                                                                        Decimal("0.99"), "medium")
    assert found.subject == "value_per_dollar_low:INV-0007" and found.initiative_ids == (7,)
    assert found.policies == {"kill.value_per_dollar_floor": "1", "kill.value_per_dollar_quarters": "2"}
    labels = {n.label: n for n in found.numbers}
    assert labels["Value per AI dollar, 2026-Q2"].value == "0.40"
    assert labels["Value per AI dollar, 2026-Q2"].unit == "ratio"  # printed "0.40", not "0.4"
    assert labels["Value per AI dollar, 2026-Q2"].url == "/reviews/reports/2026-Q2/"
    assert found.higher_is_worse is False


def test_value_per_dollar_at_the_floor_does_not_raise():
    facts = reviews(report("2026-Q3", vpd="1.0"), report("2026-Q2", vpd="0.4"))
    assert kill.value_per_dollar_low(initiative(), facts, floor=FLOOR, quarters=2) is None


def test_value_per_dollar_needs_every_one_of_the_quarters():
    one_quarter = reviews(report("2026-Q3", vpd="0.2"))
    assert kill.value_per_dollar_low(initiative(), one_quarter, floor=FLOOR, quarters=2) is None
    broken = reviews(report("2026-Q3", vpd="0.2"), report("2026-Q2", vpd=None), report("2026-Q1", vpd="0.1"))
    assert kill.value_per_dollar_low(initiative(), broken, floor=FLOOR, quarters=2) is None
    older_good = reviews(report("2026-Q3", vpd="0.2"), report("2026-Q2", vpd="0.3"), report("2026-Q1", vpd="5"))
    assert kill.value_per_dollar_low(initiative(), older_good, floor=FLOOR, quarters=2) is not None
    assert kill.value_per_dollar_low(initiative(), older_good, floor=FLOOR, quarters=3) is None


def test_value_per_dollar_far_below_the_floor_is_high():
    found = kill.value_per_dollar_low(initiative(), reviews(report("2026-Q3", vpd="0.49")), floor=FLOOR, quarters=1)
    assert found is not None and found.severity == "high"


# kpi_targets_missed -------------------------------------------------------------------------------------------------


def test_half_the_targets_missed_at_two_reviews_raises():
    facts = reviews(report("2026-Q3", met=1, missed=1), report("2026-Q2", met=0, missed=2))
    found = kill.kpi_targets_missed(initiative(), facts, share=Decimal("0.5"), reviews_count=2)
    assert found is not None
    assert found.metric == Decimal("0.75") and found.severity == "medium" and found.period == "2026-Q3"
    assert [n.value for n in found.numbers[1:]] == ["1 of 2", "2 of 2"]


def test_just_under_the_share_at_one_review_does_not_raise():
    facts = reviews(report("2026-Q3", met=3, missed=2), report("2026-Q2", met=0, missed=2))  # 40% in Q3
    assert kill.kpi_targets_missed(initiative(), facts, share=Decimal("0.5"), reviews_count=2) is None
    above = reviews(report("2026-Q3", met=2, missed=3), report("2026-Q2", met=0, missed=2))  # 60% in Q3
    assert kill.kpi_targets_missed(initiative(), above, share=Decimal("0.5"), reviews_count=2) is not None


def test_targets_missed_needs_the_number_of_reviews_and_targets_to_judge():
    assert kill.kpi_targets_missed(initiative(), reviews(report("2026-Q3", met=0, missed=2)),
                                   share=Decimal("0.5"), reviews_count=2) is None
    no_targets = reviews(report("2026-Q3", met=0, missed=0), report("2026-Q2", met=0, missed=2))
    assert kill.kpi_targets_missed(initiative(), no_targets, share=Decimal("0.5"), reviews_count=2) is None


def test_every_target_missed_every_time_is_high():
    facts = reviews(report("2026-Q3", met=0, missed=1), report("2026-Q2", met=0, missed=3))
    found = kill.kpi_targets_missed(initiative(), facts, share=Decimal("0.5"), reviews_count=2)
    assert found is not None and found.severity == "high"


# report_overdue -----------------------------------------------------------------------------------------------------


def _overdue(days: int, quarter: str = "2026-Q2") -> OverdueReport:
    return OverdueReport(quarter=quarter, due_on=date(2026, 8, 1), days_overdue=days, url="/reviews/reports/9/")


def test_a_report_overdue_more_than_the_days_raises_one_signal_per_report():
    found = kill.report_overdue(initiative(), reviews(overdue=(_overdue(31), _overdue(45, "2026-Q1"))), days=30)
    assert [(c.subject, c.metric, c.period) for c in found] == [
        ("report_overdue:INV-0007:2026-Q2", Decimal(31), "2026-Q2"),
        ("report_overdue:INV-0007:2026-Q1", Decimal(45), "2026-Q1"),
    ]
    assert found[0].numbers[1].value == "2026-08-01"


def test_a_report_overdue_by_exactly_the_days_does_not_raise():
    assert kill.report_overdue(initiative(), reviews(overdue=(_overdue(30),)), days=30) == []
    assert kill.report_overdue(initiative(), reviews(overdue=(_overdue(29),)), days=30) == []


def test_a_report_overdue_more_than_twice_the_days_is_high():
    assert kill.report_overdue(initiative(), reviews(overdue=(_overdue(61),)), days=30)[0].severity == "high"
    assert kill.report_overdue(initiative(), reviews(overdue=(_overdue(60),)), days=30)[0].severity == "medium"


# pilot_stale --------------------------------------------------------------------------------------------------------

PILOT = initiative(stage="pilot", pilot_since=date(2026, 1, 15))


def test_a_pilot_older_than_the_months_without_scale_raises():
    found = kill.pilot_stale(PILOT, reviews(), today=date(2026, 10, 16), max_months=9)
    assert found is not None
    assert (found.metric, found.period, found.severity) == (Decimal(9), "2026-10", "medium")
    assert found.numbers[1].value == "2026-01-15"


def test_an_imported_pilot_s_evidence_says_its_start_date_stands_in_for_the_pilot_start():
    """Finding 11 of the first-week walk: a pilot imported as such has no start_pilot transition; the signal stays,
    but its evidence does not state the project's start date as the pilot's start."""
    imported = initiative(stage="pilot", pilot_since=date(2026, 1, 10), pilot_start_recorded=False)
    found = kill.pilot_stale(imported, reviews(), today=date(2026, 12, 7), max_months=9)
    assert found is not None
    assert (found.numbers[1].label, found.numbers[1].value) == (
        "In pilot since (its start date: the pilot's own start is not recorded)", "2026-01-10")
    assert kill.pilot_stale(PILOT, reviews(), today=date(2026, 12, 7), max_months=9).numbers[1].label == \
        "In pilot since"


def test_a_pilot_exactly_the_months_old_is_not_stale():
    assert kill.pilot_stale(PILOT, reviews(), today=date(2026, 10, 15), max_months=9) is None
    assert kill.pilot_stale(PILOT, reviews(), today=date(2026, 10, 14), max_months=9) is None


def test_scale_evidence_or_another_stage_clears_it():
    evidenced = reviews(scale_evidence="Value report 2026-Q2: 9,000 outcomes")
    assert kill.pilot_stale(PILOT, evidenced, today=date(2027, 1, 1), max_months=9) is None
    production = initiative(stage="production", pilot_since=date(2025, 1, 1))
    assert kill.pilot_stale(production, reviews(), today=date(2027, 1, 1), max_months=9) is None


def test_a_pilot_more_than_twice_the_months_old_is_high():
    twice = kill.pilot_stale(PILOT, reviews(), today=date(2027, 7, 16), max_months=9)
    assert twice is not None and twice.metric == Decimal(18) and twice.severity == "medium"
    beyond = kill.pilot_stale(PILOT, reviews(), today=date(2027, 8, 16), max_months=9)
    assert beyond is not None and beyond.metric == Decimal(19) and beyond.severity == "high"


# cost_overrun -------------------------------------------------------------------------------------------------------


def _cost(total: str, has_records: bool = True, partly_estimated: bool = False) -> QuarterCost:
    return QuarterCost(quarter="2026-Q3", total=Decimal(total), has_records=has_records, url="/x#actual-cost",
                       partly_estimated=partly_estimated)


def test_a_quarter_more_than_the_percentage_over_the_business_case_raises():
    found = kill.cost_overrun(initiative(), _cost("3750.01"), overrun_pct=Decimal("25"))  # case 1000 x 3 = 3000
    assert found is not None
    assert (found.period, found.metric, found.severity) == ("2026-Q3", Decimal("25.00"), "medium")
    assert found.monthly_saving == Decimal("250.00")
    assert {n.label: n.value for n in found.numbers}["Expected cost, 2026-Q3 (business case TCO x 3)"] == "3000.00"
    assert found.numbers[1].label == "TCO, 2026-Q3" and found.rule.startswith("The quarter's TCO more than 25%")


def test_a_tco_partly_estimated_from_the_business_case_is_not_called_actual():
    found = kill.cost_overrun(initiative(), _cost("3750.01", partly_estimated=True), overrun_pct=Decimal("25"))
    assert found is not None
    assert (found.numbers[1].label, found.numbers[1].value) == ("TCO, 2026-Q3 (partly estimated)", "3750.01")


def test_a_quarter_exactly_the_percentage_over_does_not_raise():
    assert kill.cost_overrun(initiative(), _cost("3750"), overrun_pct=Decimal("25")) is None
    assert kill.cost_overrun(initiative(), _cost("3749.99"), overrun_pct=Decimal("25")) is None


def test_without_cost_records_an_estimate_cannot_overrun():
    assert kill.cost_overrun(initiative(), _cost("9000", has_records=False), overrun_pct=Decimal("25")) is None
    assert kill.cost_overrun(initiative(), None, overrun_pct=Decimal("25")) is None


def test_without_a_business_case_the_declared_cost_is_the_budget():
    found = kill.cost_overrun(initiative(case_tco_monthly=None), _cost("3100"), overrun_pct=Decimal("25"))
    assert found is not None  # declared 800 x 3 = 2400; 3100 is 29% over
    assert "declared monthly cost x 3" in found.numbers[2].label
    assert kill.cost_overrun(initiative(case_tco_monthly=None, declared_monthly_cost=Decimal(0)), _cost("3100"),
                             overrun_pct=Decimal("25")) is None


def test_more_than_twice_the_percentage_over_is_high():
    found = kill.cost_overrun(initiative(), _cost("4500.01"), overrun_pct=Decimal("25"))
    assert found is not None and found.severity == "high"


# no_active_owner ----------------------------------------------------------------------------------------------------


def test_a_deactivated_owner_without_an_active_delegate_raises():
    found = kill.no_active_owner(initiative(owner_active=False), today=date(2026, 12, 3))
    assert found is not None and found.severity == "high" and found.period == "2026-12"


def test_an_active_owner_or_delegate_is_enough():
    assert kill.no_active_owner(initiative(owner_active=True), today=date(2026, 12, 3)) is None
    assert kill.no_active_owner(initiative(owner_active=False, active_delegates=1), today=date(2026, 12, 3)) is None
