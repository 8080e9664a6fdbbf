"""What every rule returns, and the arithmetic the rules share: periods, ratios, "materially worse"."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

# The signal types; governance.choices.SignalType declares the same values for the database and the pages.
VALUE_PER_DOLLAR_LOW = "value_per_dollar_low"
KPI_TARGETS_MISSED = "kpi_targets_missed"
REPORT_OVERDUE = "report_overdue"
PILOT_STALE = "pilot_stale"
COST_OVERRUN = "cost_overrun"
LICENCE_WASTE = "licence_waste"
NO_ACTIVE_OWNER = "no_active_owner"
SCALE_CANDIDATE = "scale_candidate"
RIGHT_SIZE = "right_size"
SELF_HOST = "self_host"
SPRAWL = "sprawl"
SIGNAL_TYPES = (
    VALUE_PER_DOLLAR_LOW, KPI_TARGETS_MISSED, REPORT_OVERDUE, PILOT_STALE, COST_OVERRUN, LICENCE_WASTE,
    NO_ACTIVE_OWNER, SCALE_CANDIDATE, RIGHT_SIZE, SELF_HOST, SPRAWL,
)

LOW, MEDIUM, HIGH = "low", "medium", "high"

CENT = Decimal("0.01")
HUNDRED = Decimal("100")


MONEY = "money"  # the unit of an evidence figure that is an amount in the reporting currency
RATIO = "ratio"  # a value per dollar: printed with two decimals ("9.50"), as the reports and the dashboard print it


@dataclass(frozen=True)
class Number:
    """One figure of the evidence, and the page with the records behind it. The value stays a plain number (the API
    and the stored evidence compare it); `unit` tells the page to print it as money."""

    label: str
    value: str
    url: str = ""
    unit: str = ""

    def as_dict(self) -> dict[str, str]:
        return {"label": self.label, "value": self.value, "url": self.url, "unit": self.unit}


@dataclass(frozen=True)
class Candidate:
    """A signal a rule found: what it is about (`subject`, stable across computations), when, how bad, and why.

    `metric` is the figure the rule measures; `higher_is_worse` says which way "materially worse" goes when a
    dismissed signal's figure moves.
    """

    type: str
    subject: str
    initiative_ids: tuple[int, ...]
    period: str
    severity: str
    metric: Decimal
    higher_is_worse: bool
    rule: str
    policies: dict[str, str] = field(default_factory=dict)
    numbers: tuple[Number, ...] = ()
    monthly_saving: Decimal | None = None

    def evidence(self) -> dict[str, Any]:
        return {"rule": self.rule, "policies": dict(self.policies), "numbers": [n.as_dict() for n in self.numbers]}


def plain(value: Decimal | int | float, places: int | None = None) -> str:
    """A number as text without exponent or thousands separators; `places` fixes the decimals."""
    number = Decimal(str(value))
    if places is not None:
        number = number.quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP)
    text = format(number, "f")
    if places is None and "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


def money(value: Decimal) -> str:
    return plain(value, 2)


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, ROUND_HALF_UP)


def subject_key(signal_type: str, *parts: str) -> str:
    """The stable identity of what a signal is about: its type and the sorted external ids (or cluster, pool...)."""
    return ":".join([signal_type, *parts])


def quarter_of(day: date) -> str:
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def month_of(day: date) -> str:
    return f"{day:%Y-%m}"


def add_months(day: date, months: int) -> date:
    """The same day `months` later (the month's last day when it has no such day)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    next_month = date(year + (month == 12), month % 12 + 1, 1)
    return min(day.replace(year=year, month=month, day=1) + timedelta(days=day.day - 1),
               next_month - timedelta(days=1))


def whole_months_between(start: date, end: date) -> int:
    """Completed months from `start` to `end` (9 on the day nine months later, 8 the day before)."""
    months = (end.year - start.year) * 12 + end.month - start.month
    return months if add_months(start, months) <= end else months - 1


def materially_worse(previous: Decimal, current: Decimal, *, margin_pct: Decimal, higher_is_worse: bool) -> bool:
    """Whether `current` is worse than `previous` by more than `margin_pct` percent of it (of its size, so a
    negative or zero figure works too: from 0 any step in the bad direction is material)."""
    step = abs(previous) * margin_pct / HUNDRED
    return current > previous + step if higher_is_worse else current < previous - step


def opportunity_severity(saving: Decimal, base: Decimal) -> str:
    """Savings: medium when they are at least half of what is spent now, low otherwise."""
    return MEDIUM if base > 0 and saving * 2 >= base else LOW

