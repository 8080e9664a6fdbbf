"""Shared arithmetic of the rules: periods, months, "materially worse", the signal types."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from governance.choices import SignalType
from governance.signals.rules import base


def test_the_rule_types_are_the_database_types():
    assert base.SIGNAL_TYPES == tuple(SignalType.values)
    assert len(base.SIGNAL_TYPES) == 11


@pytest.mark.parametrize(("day", "months", "expected"), [
    (date(2026, 1, 31), 1, date(2026, 2, 28)),
    (date(2024, 1, 31), 1, date(2024, 2, 29)),
    (date(2026, 3, 15), 9, date(2026, 12, 15)),
    (date(2026, 11, 30), 3, date(2027, 2, 28)),
])
def test_add_months_keeps_the_day_or_takes_the_month_end(day, months, expected):
    assert base.add_months(day, months) == expected


def test_whole_months_count_completed_months_only():
    assert base.whole_months_between(date(2026, 1, 15), date(2026, 10, 14)) == 8
    assert base.whole_months_between(date(2026, 1, 15), date(2026, 10, 15)) == 9
    assert base.whole_months_between(date(2026, 1, 15), date(2026, 10, 16)) == 9


def test_periods():
    assert base.quarter_of(date(2026, 9, 30)) == "2026-Q3"
    assert base.quarter_of(date(2026, 10, 1)) == "2026-Q4"
    assert base.month_of(date(2026, 11, 3)) == "2026-11"


@pytest.mark.parametrize(("previous", "current", "higher_is_worse", "worse"), [
    ("100", "120", True, False),  # exactly the 20% margin: not beyond it
    ("100", "120.01", True, True),
    ("100", "119.99", True, False),
    ("0.8", "0.64", False, False),  # lower is worse: 20% below 0.8 is 0.64
    ("0.8", "0.6399", False, True),
    ("0", "-0.01", False, True),  # from zero, any step the bad way is material
    ("-1", "-1.2", False, False),
    ("-1", "-1.21", False, True),
])
def test_materially_worse_is_beyond_the_margin_in_the_bad_direction(previous, current, higher_is_worse, worse):
    assert base.materially_worse(Decimal(previous), Decimal(current), margin_pct=Decimal("20"),
                                 higher_is_worse=higher_is_worse) is worse


def test_plain_numbers_have_no_exponent():
    assert base.plain(Decimal("1E+3")) == "1000"
    assert base.plain(Decimal("2.50")) == "2.5"
    assert base.plain(Decimal("2.5"), 2) == "2.50"
    assert base.money(Decimal("1234.5")) == "1234.50"


def test_opportunity_severity_is_medium_from_half_of_the_spend():
    assert base.opportunity_severity(Decimal("50"), Decimal("100")) == base.MEDIUM
    assert base.opportunity_severity(Decimal("49.99"), Decimal("100")) == base.LOW
    assert base.opportunity_severity(Decimal("10"), Decimal("0")) == base.LOW
