"""Scale candidates at, just below and just above the minimum."""

from __future__ import annotations

from decimal import Decimal

from governance.signals.rules.scale import scale_candidate
from tests.governance.signals.rules.facts import initiative, report, reviews

MINIMUM = Decimal("3")


def test_above_the_minimum_with_every_target_met_raises():
    found = scale_candidate(initiative(), reviews(report("2026-Q3", vpd="3.01", met=2)), minimum=MINIMUM)
    assert found is not None
    assert (found.type, found.severity, found.metric, found.period) == ("scale_candidate", "low", Decimal("3.01"),
                                                                        "2026-Q3")


def test_at_or_below_the_minimum_does_not():
    assert scale_candidate(initiative(), reviews(report("2026-Q3", vpd="3", met=2)), minimum=MINIMUM) is None
    assert scale_candidate(initiative(), reviews(report("2026-Q3", vpd="2.99", met=2)), minimum=MINIMUM) is None


def test_a_missed_target_or_none_to_meet_does_not():
    assert scale_candidate(initiative(), reviews(report("2026-Q3", vpd="8", met=2, missed=1)), minimum=MINIMUM) is None
    assert scale_candidate(initiative(), reviews(report("2026-Q3", vpd="8", met=0)), minimum=MINIMUM) is None
    assert scale_candidate(initiative(), reviews(), minimum=MINIMUM) is None


def test_only_the_last_review_counts():
    facts = reviews(report("2026-Q3", vpd="1", met=1), report("2026-Q2", vpd="9", met=1))
    assert scale_candidate(initiative(), facts, minimum=MINIMUM) is None


def test_the_value_per_dollar_reads_with_two_decimals_as_on_the_report():
    from tollgate.formatting import format_evidence_value

    found = scale_candidate(initiative(), reviews(report("2026-Q3", vpd="9.5", met=1)), minimum=MINIMUM)
    assert found is not None
    number = found.numbers[1]
    assert (number.label, number.value, number.unit) == ("Value per AI dollar, 2026-Q3", "9.50", "ratio")
    assert format_evidence_value(number.value, number.unit) == "9.50"  # was "9.5" on the signal page
