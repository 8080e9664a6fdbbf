"""Pure money arithmetic of the portfolio; no ORM here so it is testable on numbers."""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal
from typing import TypeVar

CENT = Decimal("0.01")


def _d(value: Decimal | int | float | None) -> Decimal:
    return Decimal("0") if value is None else Decimal(str(value))


def kpi_target_error(baseline: Decimal | None, target: Decimal | None, direction: str) -> str | None:
    """Why a KPI's target contradicts its direction, or None: a higher-is-better KPI aims above its baseline, a
    lower-is-better one below it (a target below the baseline of a higher-is-better KPI reads "target met" when it got
    worse). Without a baseline or a target there is nothing to compare."""
    if baseline is None or target is None:
        return None
    increase = direction == "increase"
    if (target > baseline) if increase else (target < baseline):
        return None
    shown = f"{_d(target).normalize():f}", f"{_d(baseline).normalize():f}"
    if target == baseline:
        return (f"The target equals the baseline ({shown[1]}): it asks for no change. Give a target "
                f"{'above' if increase else 'below'} the baseline.")
    return (f"{'Higher' if increase else 'Lower'} is better, so the target must be {'above' if increase else 'below'} "
            f"the baseline ({shown[1]}), not {shown[0]}: correct the target, or the direction.")


# Units that say a KPI is a share in percent: such a KPI's baseline, target and actuals lie between 0 and 100. The
# unit (stripped, lower-cased, spaces collapsed) is one of PERCENT_UNITS, alone or as a share "of" something
# ("% of tickets", "pct of calls", "percentage of invoices"). A unit that only mentions percent is a change, not a
# share, and may be negative or above 100: "% growth", "% change", "percentage points", "pct pts".
PERCENT_UNITS = frozenset({"%", "percent", "per cent", "percentage", "pct"})
PERCENT_RANGE = (Decimal("0"), Decimal("100"))
_PERCENT_SHARE = re.compile(rf"^(?:{'|'.join(map(re.escape, sorted(PERCENT_UNITS)))})(?: of \S.*)?$")


def kpi_in_percent(unit: str | None) -> bool:
    """Whether a KPI with this unit is measured in percent: a percent unit, alone or "of" something (see above)."""
    return _PERCENT_SHARE.match(" ".join((unit or "").lower().split())) is not None


def kpi_percent_error(*, name: str, unit: str | None, what: str, value: Decimal | None) -> str | None:
    """Why `value` (the KPI's `what`: "target", "baseline", "actual") cannot be a percent KPI's, or None: a share is
    between 0 and 100, and 250 or -5 is a typing slip that would make the value report's figures nonsense."""
    low, high = PERCENT_RANGE
    if value is None or not kpi_in_percent(unit) or low <= value <= high:
        return None
    return (f"KPI “{name}” is measured in percent ({(unit or '').strip()}): its {what} is "
            f"{_d(value).normalize():f}, and a percentage is between {low} and {high}.")


def oversight_cost(hours: Decimal | None, loaded_hourly_rate: Decimal | None) -> Decimal:
    """Human oversight is a real cost: hours x fully loaded hourly rate."""
    return (_d(hours) * _d(loaded_hourly_rate)).quantize(CENT, ROUND_HALF_UP)


def tco_monthly(
    *,
    inference: Decimal | None,
    compute: Decimal | None,
    storage: Decimal | None,
    licences: Decimal | None,
    oversight_hours: Decimal | None,
    loaded_hourly_rate: Decimal | None,
    maintenance: Decimal | None,
) -> Decimal:
    """Total cost of ownership per month (PRODUCT.md): run costs + oversight + maintenance."""
    total = _d(inference) + _d(compute) + _d(storage) + _d(licences) + _d(maintenance)
    return (total + oversight_cost(oversight_hours, loaded_hourly_rate)).quantize(CENT, ROUND_HALF_UP)


def cost_per_outcome(total_cost: Decimal | None, outcomes: int | Decimal | None) -> Decimal | None:
    """None when there are no outcomes: a cost per zero outcomes is undefined, not infinite."""
    if not outcomes:
        return None
    return (_d(total_cost) / _d(outcomes)).quantize(Decimal("0.0001"), ROUND_HALF_UP)


def licence_pool_monthly_cost(seats: int | None, price_per_seat_month: Decimal | None) -> Decimal:
    return (_d(seats) * _d(price_per_seat_month)).quantize(CENT, ROUND_HALF_UP)


def value_per_dollar(value: Decimal | None, cost: Decimal | None) -> Decimal | None:
    """None when the value is unknown or there is no cost: an unknown value is not a zero ratio."""
    if value is None or not cost:
        return None
    return (_d(value) / _d(cost)).quantize(Decimal("0.01"), ROUND_HALF_UP)


@dataclass(frozen=True, order=True)
class Quarter:
    """A calendar quarter, named as review cycles are ("2026-Q3")."""

    year: int
    number: int

    @classmethod
    def parse(cls, text: str) -> Quarter:
        match = re.fullmatch(r"(\d{4})-Q([1-4])", (text or "").strip().upper())
        if not match or not int(match.group(1)):  # year 0000 has no calendar dates (every page of it failed)
            raise ValueError(f"Quarter must be YYYY-Qn (e.g. 2026-Q3), got {text!r}")
        return cls(int(match.group(1)), int(match.group(2)))

    @classmethod
    def of(cls, day: date) -> Quarter:
        return cls(day.year, (day.month - 1) // 3 + 1)

    @property
    def name(self) -> str:
        return f"{self.year}-Q{self.number}"

    @property
    def months(self) -> list[date]:
        """First days of its three months."""
        return [date(self.year, 3 * self.number - 2 + i, 1) for i in range(3)]

    @property
    def first_day(self) -> date:
        return self.months[0]

    @property
    def last_day(self) -> date:
        last = self.months[-1]
        return date(last.year + last.month // 12, last.month % 12 + 1, 1) - timedelta(days=1)

    def previous(self) -> Quarter:
        return Quarter(self.year - 1, 4) if self.number == 1 else Quarter(self.year, self.number - 1)

    def next(self) -> Quarter:
        return Quarter(self.year + 1, 1) if self.number == 4 else Quarter(self.year, self.number + 1)

    def __str__(self) -> str:
        return self.name


def _month_names(months: tuple[date, ...]) -> str:
    names = [f"{m:%B}" for m in months]
    if len(names) < 2:
        return "".join(names)
    return f"{', '.join(names[:-1])} and {names[-1]}"


@dataclass(frozen=True)
class QuarterReading:
    """Which months of a quarter its cost figures cover, and which months of the previous quarter they are compared
    with, so that a quarter only partly read is compared like for like.

    `months_read` are the quarter's complete months, by the rule of the ingestion health page (costs.selectors
    .last_complete_month, SourceCoverage.owes): ended, no later than the latest complete month (ended, with allocated
    cost, owed by no enabled source), and owed by no enabled source (`owed`: a month with a hole, a source's failed
    read followed by a successful one, is not complete however much the other sources delivered). A quarter whose
    three months are complete, or any quarter before any month is complete (nothing says how far the data goes), is
    whole: its three months against the previous quarter's three, as always. A quarter only partly read (October of
    Q4) is compared with the same months of the previous quarter (July); what was read of its other months is left out
    until they are complete, so a month owed between complete ones leaves a gap (November of Q4 against August while
    a source owes October). A quarter none of whose months is complete yet keeps what was read so far and is compared
    with nothing (its -90% against a whole quarter would say nothing true)."""

    quarter: Quarter
    months_read: tuple[date, ...]
    owed: tuple[date, ...] = ()  # months before the latest complete one that a source owes: holes, not complete
    ended: bool = False  # all its months have ended (known when `of` is given today): not "to date"
    # Months before the latest complete one that no cost source read (and none owes): holes too, their cost unknown,
    # not $0 (the costs API's "unread").
    unread: tuple[date, ...] = ()

    @classmethod
    def of(cls, quarter: Quarter, *, latest_complete: date | None, owed: Iterable[date] = (),
           today: date | None = None, unread: Iterable[date] = ()) -> QuarterReading:
        """`owed`: months some enabled source owes (SourceCoverage.owes); those outside the quarter are ignored, and
        those after the latest complete month are not complete anyway. `unread`: months nobody read (costs.selectors
        .tco_months_counted), left out like the owed ones. `today` tells a quarter that has ended from one in
        progress: before any month is complete, the quarter in progress is compared with nothing (not with a whole
        quarter), and one that has ended is no longer "to date"."""
        ended = today is not None and quarter.months[-1] < today.replace(day=1)
        owing, nobody = set(owed), set(unread)
        if latest_complete is None:
            if today is not None and not ended:
                return cls(quarter, ())
            # No later month is complete (one after the last month read went unread): a month nobody read is still
            # left out and named, not counted as $0 in a quarter shown whole.
            return cls(quarter, tuple(m for m in quarter.months if m not in nobody), ended=ended,
                       unread=tuple(m for m in quarter.months if m in nobody))
        return cls(quarter,
                   tuple(m for m in quarter.months if m <= latest_complete and m not in owing and m not in nobody),
                   tuple(m for m in quarter.months if m in owing and m < latest_complete), ended,
                   tuple(m for m in quarter.months if m in nobody and m not in owing and m < latest_complete))

    @property
    def whole(self) -> bool:
        return len(self.months_read) == 3

    @property
    def months(self) -> tuple[date, ...]:
        """The months the quarter's cost figures add up: its months read, or all three before any is complete."""
        return self.months_read or tuple(self.quarter.months)

    @property
    def compared_months(self) -> tuple[date, ...]:
        """The same months of the previous quarter (July for October, August for November); none when nothing of the
        quarter is complete."""
        positions = [self.quarter.months.index(m) for m in self.months_read]
        return tuple(self.quarter.previous().months[i] for i in positions)

    @property
    def period(self) -> str:
        """"2026-Q4", "2026-Q4 to date (October)", "2026-Q4 (November only)" when an earlier month is not complete,
        "2026-Q4 to date (no month complete yet)", or "2026-Q3 (no month complete)" for a quarter that has ended."""
        if self.whole:
            return self.quarter.name
        if (self.months_read and self.months_read != tuple(self.quarter.months[:len(self.months_read)])) or (
                self.ended and self.months_read):
            return f"{self.quarter.name} ({_month_names(self.months_read)} only)"
        if self.ended:
            return f"{self.quarter.name} (no month complete)"
        return f"{self.quarter.name} to date ({_month_names(self.months_read) or 'no month complete yet'})"

    @property
    def compared_with(self) -> str | None:
        """"2026-Q3", "July" (the same months of the previous quarter), or None: compared with nothing."""
        if self.whole:
            return self.quarter.previous().name
        return _month_names(self.compared_months) or None

    @property
    def note(self) -> str:
        """What a quarter only partly read is compared with, in words; "" for a whole quarter."""
        if self.whole:
            return ""
        owed = ""
        if self.owed:
            owed = (f" {_month_names(self.owed)} {'is' if len(self.owed) == 1 else 'are'} not complete: an enabled "
                    f"source still owes {'it' if len(self.owed) == 1 else 'them'} (see the ingestion health page).")
        if self.unread:
            one = len(self.unread) == 1
            owed += (f" {_month_names(self.unread)} {'was' if one else 'were'} not read by any cost source: "
                     f"{'its' if one else 'their'} cost is unknown, not $0, so {'it is' if one else 'they are'} left "
                     "out.")
        left = _month_names(tuple(m for m in self.quarter.months if m not in self.months_read
                                  and m not in self.unread))
        if not self.months_read:
            return (f"No month of {self.quarter.name} is complete yet: its cost figures are what was read so far, "
                    f"compared with nothing.{owed}")
        one = len(self.months_read) == 1
        later = f"; what was read of {left} counts once complete" if left else ""
        return (f"Only {_month_names(self.months_read)} of {self.quarter.name} {'is' if one else 'are'} complete: its "
                f"cost figures cover {'that month' if one else 'those months'} and are compared with the same "
                f"{'month' if one else 'months'} of {self.quarter.previous().name} ({self.compared_with}){later}."
                f"{owed} Value figures come from the quarter's value reports, as for a whole quarter.")


@dataclass(frozen=True)
class ValueReading:
    """How many of a quarter's value reports are in, so that value, a sum over reports, is compared like for like.

    While reports of the quarter's cycle are still owed (`outstanding`), its value is that of the reports in so far
    and is compared with what the same initiatives reported for the previous quarter, not with the whole of it: 37
    reports against a finished cycle's 73 would read as a fall of half while nothing fell. Value per AI dollar and
    cost per outcome are ratios over each report, like for like already.
    """

    quarter: Quarter
    submitted: int
    outstanding: int
    due_on: date | None
    today: date

    @property
    def complete(self) -> bool:
        return not self.outstanding

    @property
    def expected(self) -> int:
        return self.submitted + self.outstanding

    @property
    def note(self) -> str:
        """"37 of 73 value reports for 2026-Q3 are in; the cycle is due 14 Dec 2026. ..."; "" when all are in."""
        if self.complete:
            return ""
        due = ""
        if self.due_on is not None:
            due = (f"; the cycle is due {self.due_on.day} {self.due_on:%b %Y}" if self.due_on >= self.today
                   else f"; the cycle was due {self.due_on.day} {self.due_on:%b %Y}")
        return (f"{self.submitted:,} of {self.expected:,} value reports for {self.quarter.name} are in{due}. Its value "
                f"is of the reports in so far, compared with what the same initiatives reported for "
                f"{self.quarter.previous().name}.")


def change(current: Decimal | None, previous: Decimal | None) -> Decimal | None:
    """Relative change in percent against the previous figure; None when it cannot be said (no previous, zero)."""
    if current is None or not previous:
        return None
    return ((_d(current) - _d(previous)) / _d(previous) * 100).quantize(Decimal("0.1"), ROUND_HALF_UP)


def change_in_points(current: Decimal | None, previous: Decimal | None) -> Decimal | None:
    """The change of a share (both in percent) in percentage points: 9.6% -> 9.7% is +0.1 pt, where the relative
    change (+1.0%) reads as a point to anyone comparing shares; None without both."""
    if current is None or previous is None:
        return None
    return (_d(current) - _d(previous)).quantize(Decimal("0.1"), ROUND_HALF_UP)


def apportion_cents(amounts: Sequence[Decimal], total: Decimal) -> list[Decimal]:
    """The amounts in cents adding up exactly to `total` (in cents), by largest remainder: each is rounded down to the
    cent and the cents left over go to those that lost most in the rounding (taken back from those that lost least
    when `total` is below the rounded-down sum). Rounding each row on its own left a table of rows a cent or two off
    the total printed above it, which is itself the sum of the monthly roll-ups, each rounded to the cent."""
    if not amounts:
        return []
    floors = [_d(a).quantize(CENT, ROUND_FLOOR) for a in amounts]
    left = int(((_d(total) - sum(floors, Decimal("0"))) / CENT).to_integral_value(ROUND_HALF_UP))
    order = sorted(range(len(amounts)), key=lambda i: (_d(amounts[i]) - floors[i], -i), reverse=left > 0)
    step = CENT if left > 0 else -CENT
    for turn in range(abs(left)):
        floors[order[turn % len(order)]] += step
    return floors


def months_label(months: Sequence[str]) -> str:
    """A run of months ("2026-10", ...) named as the board pack names a quarter of the forecast: "2026-Q4 (2026-10 –
    2026-12)" when they are one calendar quarter's three months, else their span ("2026-11 – 2027-01"). "Next quarter"
    named the quarter already in progress: the forecast starts after the latest complete month."""
    if not months:
        return ""
    span = f"{months[0]} – {months[-1]}" if len(months) > 1 else months[0]
    quarter = Quarter.of(date.fromisoformat(f"{months[0]}-01"))
    return f"{quarter.name} ({span})" if [f"{m:%Y-%m}" for m in quarter.months] == list(months) else span


Item = TypeVar("Item")


def each_kind_first(items: Sequence[Item], limit: int, kind: Callable[[Item], Hashable]) -> list[Item]:
    """The first `limit` of `items` (in the order given, best first), with the best of each kind among them whenever
    `limit` has room for all kinds (else the best kinds' best): the best of each kind is taken first, the rest
    filled in order. A board reading the top 12 of 53 kill candidates sees an orphan and a licence waste, not only
    the dozen signals of the commonest rule that tie on severity."""
    seen: set[Hashable] = set()
    chosen: set[int] = set()
    for index, item in enumerate(items):
        if len(chosen) >= limit:
            break
        if kind(item) not in seen:
            seen.add(kind(item))
            chosen.add(index)
    for index in range(len(items)):
        if len(chosen) >= limit:
            break
        chosen.add(index)
    return [item for index, item in enumerate(items) if index in chosen]


def weighted_mean(pairs: list[tuple[Decimal, Decimal]]) -> Decimal | None:
    """Mean of values weighted by weights [(value, weight), ...]; None without weight."""
    total = sum((w for _, w in pairs), Decimal("0"))
    if not total:
        return None
    return (sum((v * w for v, w in pairs), Decimal("0")) / total).quantize(Decimal("0.0001"), ROUND_HALF_UP)


# Text models from the largest tier down; embedding and "other" models (images, speech) have no place in the order.
TEXT_MODEL_TIERS = ("frontier", "mid", "small")


def tier_rank(tier: str) -> int | None:
    """3 for a frontier model, 2 for mid, 1 for small; None for tiers that are not compared (embedding, other)."""
    return len(TEXT_MODEL_TIERS) - TEXT_MODEL_TIERS.index(tier) if tier in TEXT_MODEL_TIERS else None


def substitute_problem(*, tier: str, substitute_tier: str, same_model: bool) -> str | None:
    """Why a model cannot stand in for another as its cheaper substitute, or None when it can: it must be another
    text model of a lower tier."""
    if same_model:
        return "A model cannot be its own substitute."
    rank, substitute_rank = tier_rank(tier), tier_rank(substitute_tier)
    if rank is None:
        return f"Only frontier, mid and small models can have a substitute; this one is {tier}."
    if substitute_rank is None or substitute_rank >= rank:
        return f"The substitute must be a text model of a lower tier than {tier} (mid or small for frontier, small " \
               "for mid)."
    return None
