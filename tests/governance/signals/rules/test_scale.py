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
