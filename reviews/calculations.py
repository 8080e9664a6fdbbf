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
from portfolio.choices import KpiKind
from portfolio.costs.calculations import month_range
from reviews.choices import ValueSource
from tollgate.formatting import WIDE

CENT = Decimal("0.01")
# Decimal's default 28 digits are too few for a product of a 16-digit KPI change, a count and a value per unit, to
# the cent: quantize would raise, and one such report would fail every page that sums it (the dashboard, the board
# pack). The services refuse a value Tollgate cannot record; rounding in WIDE keeps any stored before from failing.


def _cent(value: Decimal) -> Decimal:
    return value.quantize(CENT, ROUND_HALF_UP, context=WIDE)


INCREASE, DECREASE = "increase", "decrease"

__all__ = [
    "KpiValue", "ReportValue", "cost_per_outcome", "cycle_for_quarter_after", "cycle_name_for_period",
    "estimated_cost", "improvement", "kpi_value", "monthly_outcomes", "months_in_period", "months_of_period",
    "months_ran", "oversight_hours_by_month", "quarter_bounds", "report_value", "scale_evidence_line", "target_met",
    "value_per_dollar",
]


@overload
def _num(value: None) -> None: ...
@overload
def _num(value: Decimal | int | float) -> Decimal: ...
@overload
def _num(value: Decimal | int | float | None) -> Decimal | None: ...
def _num(value: Decimal | int | float | None) -> Decimal | None:
    return None if value is None else Decimal(str(value))


# Why a KPI contributes no money; a report shows the reason instead of $0.
NO_ACTUAL = "no actual"
NO_BASELINE = "baseline missing"
NO_VALUE_PER_UNIT = "no value per unit given"
NO_VALUE_PER_POINT = "a ratio KPI without a value per point"
NO_OUTCOMES = "no outcomes reported in the period"
NO_STATED_VALUE = "no value stated"
NO_EVIDENCE = "a stated value without its evidence"


@dataclass(frozen=True)
class KpiValue:
    """What one KPI is worth in a period: an amount, or no amount and the reason why (never a silent $0)."""

    amount: Decimal | None
    no_value_reason: str = ""
    improvement: Decimal | None = None  # against the baseline, in the KPI's unit (per outcome for per_outcome)

    def __post_init__(self) -> None:
        if (self.amount is None) == (not self.no_value_reason):
            raise ValueError("A KPI value has either an amount or the reason it has none.")


def _change(baseline: Decimal, actual: Decimal, direction: str) -> Decimal:
    return baseline - actual if direction == DECREASE else actual - baseline


def improvement(baseline: Decimal | None, actual: Decimal | None, direction: str) -> Decimal | None:
    """actual - baseline for an increase KPI, baseline - actual for a decrease KPI; negative when it got worse."""
    baseline, actual = _num(baseline), _num(actual)
    if baseline is None or actual is None:
        return None
    return _change(baseline, actual, direction)


def kpi_value(
    kind: str,
    *,
    baseline: Decimal | None,
    actual: Decimal | None,
    direction: str,
    value_per_unit: Decimal | None,
    outcomes: int | None = None,
    stated_value: Decimal | None = None,
    evidence: str = "",
) -> KpiValue:
    """A KPI's money value in the report's period, by its kind (portfolio.choices.KpiKind):

    - count: improvement x value per unit (5,000 tickets deflected x $4.50);
    - per_outcome: improvement per outcome x outcomes in the period x value per unit (3 minutes saved per e-mail x
      20,000 e-mails x $0.75 a minute);
    - ratio: improvement in points x value per point; a ratio or score has no money value without one;
    - stated: the owner's stated amount, counted only with its evidence.

    A value per unit of 0 means "not valued" (it contributes no money, with the reason), like an empty one.
    """
    baseline, actual, per_unit = _num(baseline), _num(actual), _num(value_per_unit)
    if kind == KpiKind.STATED:
        if stated_value is None:
            return KpiValue(None, NO_STATED_VALUE)
        if not (evidence or "").strip():
            return KpiValue(None, NO_EVIDENCE)
        return KpiValue(_cent(_num(stated_value)),
                        improvement=improvement(baseline, actual, direction))
    if actual is None:
        return KpiValue(None, NO_ACTUAL)
    if baseline is None:
        return KpiValue(None, NO_BASELINE)
    change = _change(baseline, actual, direction)
    if not per_unit:
        return KpiValue(None, NO_VALUE_PER_POINT if kind == KpiKind.RATIO else NO_VALUE_PER_UNIT, change)
    if kind == KpiKind.PER_OUTCOME:
        if not outcomes:
            return KpiValue(None, NO_OUTCOMES, change)
        return KpiValue(_cent(change * Decimal(outcomes) * per_unit), improvement=change)
    return KpiValue(_cent(change * per_unit), improvement=change)


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


def report_value(kpi_values: Iterable[KpiValue | Decimal | None], stated_value: Decimal | None) -> ReportValue:
    """Sum of the KPIs' money; an owner-stated report value, when given, replaces the sum (and is flagged as stated).
    KPIs without money (their reason shown beside them) are counted as unvalued, never as $0."""
    values = [v.amount if isinstance(v, KpiValue) else v for v in kpi_values]
    known = [v for v in values if v is not None]
    if stated_value is not None:
        return ReportValue(_cent(_num(stated_value)), ValueSource.STATED, len(known),
                           len(values) - len(known))
    amount = _cent(sum(known, Decimal("0"))) if known else None
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
    return month_range(start, end)


def months_ran(start: date, end: date, *, started: date | None = None, ended: date | None = None) -> list[date]:
    """First days of the months of a period in which the initiative ran: from the month of its start date to the
    month it ended (portfolio's TCO counts the same months), all of them when neither falls inside. A pilot started in
    a quarter's last month reported one month of outcomes and oversight, not three."""
    months = [month for month in months_of_period(start, end)
              if (started is None or started < _next_month(month)) and (ended is None or month <= ended)]
    return months or months_of_period(start, end)


def _next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def oversight_hours_by_month(hours: Decimal, start: date, end: date, *, started: date | None = None,
                             ended: date | None = None) -> dict[date, Decimal]:
    """A report's oversight hours spread evenly over the months of its period that the initiative ran (months_ran),
    so none lands on a month without a TCO."""
    months = months_ran(start, end, started=started, ended=ended)
    return {month: _num(hours) / len(months) for month in months}


def estimated_cost(tco_monthly: Decimal | None, months: int) -> Decimal | None:
    """Cost of a period from the business case's monthly TCO estimate (until actual cost records exist)."""
    if tco_monthly is None:
        return None
    return _cent(_num(tco_monthly) * months)


def monthly_outcomes(outcome_count: int | None, months: int) -> Decimal | None:
    """Outcomes per month over a period, comparable with the minimum viable scale."""
    if outcome_count is None or months <= 0:
        return None
    return _cent(Decimal(outcome_count) / months)


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
        f"Value report {cycle_name}: {outcome_count:,} outcomes in {months} month{'' if months == 1 else 's'} = "
        f"{per_month:,.0f}/month, at or "
        f"above the minimum viable scale of {min_viable_scale:,}/month"
    )


def quarter_bounds(day: date) -> tuple[int, int, date, date]:
    """(year, quarter, first day, last day) of the quarter containing `day`."""
    quarter = (day.month - 1) // 3 + 1
    start = date(day.year, 3 * quarter - 2, 1)
    next_start = date(day.year + 1, 1, 1) if quarter == 4 else date(day.year, 3 * quarter + 1, 1)
    return day.year, quarter, start, next_start - timedelta(days=1)


def cycle_name_for_period(start: date, end: date) -> str | None:
    """The name a review cycle of this period has: "2026-Q3" for a calendar quarter, "2026-H2" for a calendar
    half-year, "2026" for a calendar year; None for any other period (no cycle reviews it)."""
    if start.day != 1 or end.year != start.year or (end + timedelta(days=1)).day != 1:
        return None
    months = months_in_period(start, end)
    if months == 3 and start.month % 3 == 1:
        return f"{start.year}-Q{start.month // 3 + 1}"
    if months == 6 and start.month in (1, 7):
        return f"{start.year}-H{1 if start.month == 1 else 2}"
    if months == 12:
        return f"{start.year}"
    return None


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
