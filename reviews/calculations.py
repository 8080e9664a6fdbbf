"""Pure arithmetic of value reports; no ORM here so it is testable on numbers.

Money comes out in cents (ROUND_HALF_UP); cost per outcome and value per dollar reuse portfolio.calculations.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import overload

from portfolio.calculations import cost_per_outcome, value_per_dollar
from reviews.choices import ValueSource

CENT = Decimal("0.01")
INCREASE, DECREASE = "increase", "decrease"

__all__ = [
    "ReportValue", "cost_per_outcome", "cycle_for_quarter_after", "estimated_cost", "kpi_value", "monthly_outcomes",
    "months_in_period", "months_of_period", "oversight_hours_by_month", "quarter_bounds", "report_value",
    "scale_evidence_line", "target_met", "value_per_dollar",
]


@overload
def _num(value: None) -> None: ...
@overload
def _num(value: Decimal | int | float) -> Decimal: ...
@overload
def _num(value: Decimal | int | float | None) -> Decimal | None: ...
def _num(value: Decimal | int | float | None) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def kpi_value(
    baseline: Decimal | None, actual: Decimal | None, direction: str, value_per_unit: Decimal | None
) -> Decimal | None:
    """Improvement against the baseline x value per unit; negative when the KPI got worse.

    For an increase KPI the improvement is actual - baseline, for a decrease KPI baseline - actual.
    None when baseline, actual or value per unit is missing: an unknown value is not a zero value.
    """
    baseline, actual, per_unit = _num(baseline), _num(actual), _num(value_per_unit)
    if baseline is None or actual is None or per_unit is None:
        return None
    improvement = baseline - actual if direction == DECREASE else actual - baseline
    return (improvement * per_unit).quantize(CENT, ROUND_HALF_UP)


@dataclass(frozen=True)
class ReportValue:
    """The quarter's value and where it comes from (a stated value is flagged wherever it is shown)."""

    amount: Decimal | None
    source: str
    kpis_valued: int
    kpis_unvalued: int

    @property
    def is_stated(self) -> bool:
        return self.source == ValueSource.STATED


def report_value(kpi_values: Iterable[Decimal | None], stated_value: Decimal | None) -> ReportValue:
    """Sum of the KPI values; an owner-stated value, when given, replaces the sum (and is flagged as stated)."""
    values = list(kpi_values)
    known = [v for v in values if v is not None]
    if stated_value is not None:
        return ReportValue(_num(stated_value).quantize(CENT, ROUND_HALF_UP), ValueSource.STATED, len(known),
                           len(values) - len(known))
    amount = sum(known, Decimal("0")).quantize(CENT, ROUND_HALF_UP) if known else None
    return ReportValue(amount, ValueSource.KPIS, len(known), len(values) - len(known))


def target_met(actual: Decimal | None, target: Decimal | None, direction: str) -> bool | None:
    """Reached or beaten the target (>= for increase, <= for decrease); None when either is missing."""
    actual, target = _num(actual), _num(target)
    if actual is None or target is None:
        return None
    return actual <= target if direction == DECREASE else actual >= target


def months_in_period(start: date, end: date) -> int:
    """Calendar months a review period touches (a quarter is 3); at least 1."""
    return max(1, (end.year - start.year) * 12 + end.month - start.month + 1)


def months_of_period(start: date, end: date) -> list[date]:
    """First days of the calendar months a period touches, in order."""
    return [date(start.year + (start.month - 1 + i) // 12, (start.month - 1 + i) % 12 + 1, 1)
            for i in range(months_in_period(start, end))]


def oversight_hours_by_month(hours: Decimal, start: date, end: date) -> dict[date, Decimal]:
    """A report's oversight hours spread evenly over the months of its period."""
    months = months_of_period(start, end)
    return {month: _num(hours) / len(months) for month in months}


def estimated_cost(tco_monthly: Decimal | None, months: int) -> Decimal | None:
    """Cost of a period from the business case's monthly TCO estimate (until actual cost records exist)."""
    if tco_monthly is None:
        return None
    return (_num(tco_monthly) * months).quantize(CENT, ROUND_HALF_UP)


def monthly_outcomes(outcome_count: int | None, months: int) -> Decimal | None:
    """Outcomes per month over a period, comparable with the minimum viable scale."""
    if outcome_count is None or months <= 0:
        return None
    return (Decimal(outcome_count) / months).quantize(CENT, ROUND_HALF_UP)


def scale_evidence_line(
    *, cycle_name: str, outcome_count: int | None, months: int, min_viable_scale: int | None
) -> str | None:
    """The line saying a report reached the minimum viable scale (outcomes per month at or above it), or None."""
    if min_viable_scale is None:
        return None
    per_month = monthly_outcomes(outcome_count, months)
    if outcome_count is None or per_month is None or per_month < min_viable_scale:
        return None
    return (
        f"Value report {cycle_name}: {outcome_count:,} outcomes in {months} months = {per_month:,.0f}/month, at or "
        f"above the minimum viable scale of {min_viable_scale:,}/month"
    )


def quarter_bounds(day: date) -> tuple[int, int, date, date]:
    """(year, quarter, first day, last day) of the quarter containing `day`."""
    quarter = (day.month - 1) // 3 + 1
    start = date(day.year, 3 * quarter - 2, 1)
    next_start = date(day.year + 1, 1, 1) if quarter == 4 else date(day.year, 3 * quarter + 1, 1)
    return day.year, quarter, start, next_start - timedelta(days=1)


@dataclass(frozen=True)
class ScheduledCycle:
    name: str
    period_start: date
    period_end: date
    opens_on: date
    due_on: date


def cycle_for_quarter_after(day: date, due_after_days: int = 30) -> ScheduledCycle:
    """The cycle the scheduler opens during the quarter containing `day`.

    A cycle reviews the quarter that has just ENDED (actuals of a quarter can only be reported after it), is named
    after that quarter ("2026-Q3" reviews July-September 2026), opens on the first day of the next quarter and is
    due `due_after_days` later (2026-10-01 -> due 2026-10-31).
    """
    _, _, current_start, _ = quarter_bounds(day)
    year, quarter, start, end = quarter_bounds(current_start - timedelta(days=1))
    return ScheduledCycle(f"{year}-Q{quarter}", start, end, current_start,
                          current_start + timedelta(days=due_after_days))
