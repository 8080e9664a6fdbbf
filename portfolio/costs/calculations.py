"""Pure arithmetic and matching of cost ingestion: no ORM, so it is testable on plain values."""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
RECORD_PLACES = Decimal("0.000001")  # CostRecord amounts keep 6 decimals (sub-cent provider lines add up)
CURRENCY_CODE = re.compile(r"[A-Z]{3}")
ACTIVE_WINDOW = timedelta(days=30)


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, ROUND_HALF_UP)


def record_amount(value: Decimal) -> Decimal:
    return value.quantize(RECORD_PLACES, ROUND_HALF_UP)


@dataclass(frozen=True)
class Rule:
    """An allocation rule reduced to what matching needs."""

    key: str
    match: str  # exact / prefix / regex
    value: str
    initiative_id: int
    rule_id: int | None = None
    pattern: re.Pattern[str] | None = field(default=None, compare=False)

    @classmethod
    def build(cls, *, key: str, match: str, value: str, initiative_id: int, rule_id: int | None = None) -> Rule:
        return cls(key, match, value, initiative_id, rule_id, re.compile(value) if match == "regex" else None)

    def matches(self, keys: Mapping[str, str]) -> bool:
        candidate = keys.get(self.key)
        if candidate is None:
            return False
        if self.match == "exact":
            return candidate == self.value
        if self.match == "prefix":
            return candidate.startswith(self.value)
        return self.pattern is not None and self.pattern.search(candidate) is not None


def first_match(rules: Sequence[Rule], keys: Mapping[str, str]) -> Rule | None:
    """Rules are ordered; the first that matches decides, so overlapping rules stay predictable."""
    for rule in rules:
        if rule.matches(keys):
            return rule
    return None


class RateTable:
    """Rates of one currency by the day they take effect: the rate of a day is the latest on or before it."""

    def __init__(self, rates: Sequence[tuple[date, Decimal]]) -> None:
        ordered = sorted(rates)
        self.days = [day for day, _ in ordered]
        self.rates = [rate for _, rate in ordered]

    def rate_on(self, day: date) -> Decimal | None:
        index = bisect.bisect_right(self.days, day)
        return self.rates[index - 1] if index else None


def active_window(month_start: date, month_end: date, today: date) -> tuple[date, date]:
    """'Active in the last 30 days' of a month: the 30 days before its end, or before today for the current month."""
    end = min(month_end, today + timedelta(days=1))
    return end - ACTIVE_WINDOW, end


def is_currency_code(code: str) -> bool:
    return bool(CURRENCY_CODE.fullmatch(code or ""))


# Total cost of ownership of one initiative in one month (PRODUCT.md) -------------------------------------------------

RUN_CATEGORIES = ("inference", "compute", "storage", "licences")
OVERSIGHT, MAINTENANCE, OTHER = "oversight", "maintenance", "other"


@dataclass(frozen=True)
class CaseEstimate:
    """What the business case expects per month, or the declared cost when there is no business case."""

    inference: Decimal = Decimal("0")
    compute: Decimal = Decimal("0")
    storage: Decimal = Decimal("0")
    licences: Decimal = Decimal("0")
    oversight_hours: Decimal = Decimal("0")
    loaded_hourly_rate: Decimal = Decimal("0")
    maintenance: Decimal = Decimal("0")
    declared: Decimal = Decimal("0")
    has_case: bool = True

    def run_costs(self) -> dict[str, Decimal]:
        if not self.has_case:
            return {OTHER: self.declared}
        return {"inference": self.inference, "compute": self.compute, "storage": self.storage,
                "licences": self.licences}

    @property
    def oversight(self) -> Decimal:
        return cents(self.oversight_hours * self.loaded_hourly_rate)


@dataclass(frozen=True)
class TcoPart:
    category: str
    amount: Decimal
    actual: bool


def month_tco(
    *, rolled_up: Mapping[str, Decimal], reported_oversight_hours: Decimal | None, case: CaseEstimate | None,
    estimate: bool = True,
) -> list[TcoPart]:
    """The month's TCO by category, each part labelled actual or estimated. With `estimate` False (a month outside
    the initiative's life, before its start or after its end, costed only for a record that fell in it) the month
    is its actuals alone: the case's estimates are of the months it runs.

    Run costs (inference, compute, storage, licences, other) are the allocated roll-ups whenever the initiative has any
    cost record in the month, else the business case's estimate (the declared cost without a case). Human oversight is
    an oversight cost record, else the hours reported in value reports x the case's loaded hourly rate, else the case's
    estimate; maintenance is a maintenance cost record, else the case's estimate. Zero parts are left out.
    """
    parts: list[TcoPart] = []
    estimated = case if estimate else None  # the case's figures for a month it runs; its rate prices hours anyway
    recorded = {c: a for c, a in rolled_up.items() if c not in (OVERSIGHT, MAINTENANCE)}
    if rolled_up:
        parts += [TcoPart(c, cents(a), True) for c, a in sorted(recorded.items())]
    elif estimated is not None:
        parts += [TcoPart(c, cents(a), False) for c, a in estimated.run_costs().items()]
    if OVERSIGHT in rolled_up:
        parts.append(TcoPart(OVERSIGHT, cents(rolled_up[OVERSIGHT]), True))
    elif reported_oversight_hours is not None:
        rate = case.loaded_hourly_rate if case is not None else Decimal("0")
        parts.append(TcoPart(OVERSIGHT, cents(reported_oversight_hours * rate), True))
    elif estimated is not None:
        parts.append(TcoPart(OVERSIGHT, estimated.oversight, False))
    if MAINTENANCE in rolled_up:
        parts.append(TcoPart(MAINTENANCE, cents(rolled_up[MAINTENANCE]), True))
    elif estimated is not None:
        parts.append(TcoPart(MAINTENANCE, cents(estimated.maintenance), False))
    return [p for p in parts if p.amount]


# Reading the TCO: months, periods and how much of a figure is actual -------------------------------------------------

ACTUAL, PARTLY_ESTIMATED, ESTIMATED = "actual", "partly estimated", "estimated"


def add_months(month: date, count: int) -> date:
    """The first day of the month `count` months after (before, when negative) `month`."""
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def month_range(first: date, last: date) -> list[date]:
    """Every month from `first` to `last`, both included (empty when `first` is after `last`)."""
    months, month = [], first.replace(day=1)
    while month <= last:
        months.append(month)
        month = add_months(month, 1)
    return months


def complete_quarter_by(latest: date) -> tuple[str, date, date]:
    """("2026-Q3", first month, last month) of the latest quarter whose three months end by `latest`."""
    quarter = (latest.month - 1) // 3 + 1
    if latest.month != 3 * quarter:  # `latest` is not a quarter's last month: the quarter before is the complete one
        year, quarter = (latest.year, quarter - 1) if quarter > 1 else (latest.year - 1, 4)
    else:
        year = latest.year
    return f"{year}-Q{quarter}", date(year, 3 * quarter - 2, 1), date(year, 3 * quarter, 1)


@dataclass(frozen=True)
class TcoFigures:
    """The TCO of some months: total, its actual and estimated parts, and what kind of figure that makes it."""

    total: Decimal
    actual: Decimal
    estimated: Decimal

    @classmethod
    def of(cls, parts: Sequence[TcoPart]) -> TcoFigures:
        actual = sum((p.amount for p in parts if p.actual), Decimal("0"))
        estimated = sum((p.amount for p in parts if not p.actual), Decimal("0"))
        return cls(cents(actual + estimated), cents(actual), cents(estimated))

    @property
    def basis(self) -> str:
        """"actual" when nothing in it is estimated, "estimated" when nothing is actual, else "partly estimated";
        an empty figure (no cost) is "actual": there is nothing to estimate."""
        if not self.estimated:
            return ACTUAL
        return ESTIMATED if not self.actual else PARTLY_ESTIMATED


def variance_pct(actual: Decimal, planned: Decimal) -> Decimal | None:
    """How far actual is above (positive) or below the plan, in percent of the plan; None without a plan."""
    if planned <= 0:
        return None
    return ((actual - planned) * 100 / planned).quantize(Decimal("0.1"), ROUND_HALF_UP)


# Source freshness: the months a source still owes, whether it is late, which month is complete ---------------------

DAILY, MONTHLY, CRON = "daily", "monthly", "cron"


def schedule_kind(schedule: str, *, uploaded_by_hand: bool) -> str:
    """How a source delivers. `daily` and cron schedules read the current month as it goes; `monthly` reads the
    previous month on the 1st. A source whose exports are uploaded by hand runs on no schedule: its exports arrive
    once a month, after the month ends, so it is held to the monthly rule whatever its schedule field says."""
    schedule = (schedule or DAILY).strip()
    if uploaded_by_hand or schedule == MONTHLY:
        return MONTHLY
    return DAILY if schedule == DAILY else CRON


def months_due(*, start: date, today: date, grace_days: int) -> list[date]:
    """The months from `start` whose data is owed by `today`: a month is due on the 1st of the next (a daily or
    cron read of its last day, or the monthly read of the closed month) and owed `grace_days` after that."""
    owed_by = today - timedelta(days=grace_days)
    return month_range(start, add_months(owed_by.replace(day=1), -1))


@dataclass(frozen=True)
class SourceCoverage:
    """What one enabled source has delivered: `start` is its first month with data (the month it was added, while it
    has none), `delivered` the months whose latest successful read wrote rows, `added` the month it was added (None:
    treated as `start`)."""

    name: str
    start: date
    delivered: frozenset[date]
    added: date | None = None

    def owes(self, month: date) -> bool:
        """Whether the month is expected of this source and not delivered.

        A source owes every month from the month it was added on (or from its first month with data, when that is
        later) that it has not delivered: a hole in its history since then is missing data, and an established
        source that stops delivering owes every month since its last. Months before its addition were complete or
        not without it, so history loaded into a new source (one old month, then last month, backfilled on the day
        it is added) obliges it to nothing before that day, holes included: adding a source never makes a month that
        was complete before incomplete."""
        return month >= max(self.start, self.added or self.start) and month not in self.delivered


@dataclass(frozen=True)
class SourceFreshness:
    """Whether a source keeps up with its schedule: the months it owes and has not delivered, and whether it is late."""

    kind: str  # daily, monthly or cron (schedule_kind)
    missing: tuple[date, ...]  # owed months without data, oldest first
    late: bool
    reason: str  # why it is late, in words; "" when it is not
    late_month: date | None  # the month a late read was for (None when not late)

    @property
    def stale(self) -> bool:
        """Late, or missing a month: flagged on the health page and to administrators."""
        return self.late or bool(self.missing)

    @property
    def alert_months(self) -> tuple[date, ...]:
        """The months administrators are told about, once each: the missing ones and the month a late read is for."""
        months = set(self.missing) | ({self.late_month} if self.late_month else set())
        return tuple(sorted(months))


def source_freshness(
    *,
    schedule: str,
    uploaded_by_hand: bool,
    coverage: SourceCoverage,
    added_at: datetime,
    last_success_at: datetime | None,
    cron_due_at: datetime | None,
    now: datetime,
    grace_days: int,
) -> SourceFreshness:
    """Which months a source owes and whether it is late against its schedule (datetimes in local time).

    Missing: every month whose data is owed (`months_due`) and that the source owes (`SourceCoverage.owes`: from its
    first month with data, but not the gap between history backfilled into it and its addition). Late, by the kind
    of schedule (`schedule_kind`), allowing `grace_days`:
    - daily: no read has succeeded for a day plus the grace, counted from the last success (or from when the source
      was added, when it never succeeded); the late read is the current month's;
    - cron: the expression fell due (`cron_due_at`, its first time after the last success or the addition) more than
      the grace ago and nothing succeeded since; the late read is the current month's;
    - monthly, and uploads by hand: the previous month, due on the 1st, is still not delivered the grace later (it is
      then also missing).
    """
    today = now.date()
    grace = timedelta(days=grace_days)
    kind = schedule_kind(schedule, uploaded_by_hand=uploaded_by_hand)
    missing = tuple(m for m in months_due(start=coverage.start, today=today, grace_days=grace_days)
                    if coverage.owes(m))
    this_month = today.replace(day=1)
    since = last_success_at or added_at
    since_words = (f"no successful read since {since:%Y-%m-%d %H:%M}" if last_success_at
                   else f"never read successfully since it was added on {since:%Y-%m-%d}")
    if kind == DAILY and now - since > timedelta(days=1) + grace:
        return SourceFreshness(kind, missing, True, f"{since_words}; it is read daily", this_month)
    if kind == CRON and cron_due_at is not None and now - cron_due_at > grace:
        return SourceFreshness(kind, missing, True, f"{since_words}; its schedule fell due on "
                                                    f"{cron_due_at:%Y-%m-%d %H:%M}", this_month)
    previous = add_months(this_month, -1)
    if kind == MONTHLY and previous in missing:
        return SourceFreshness(kind, missing, True, f"{previous:%Y-%m} was due by {this_month + grace:%Y-%m-%d} and "
                                                    "is not read yet", previous)
    return SourceFreshness(kind, missing, False, "", None)


def month_span_words(months: Iterable[date]) -> str:
    """Months as runs of consecutive ones: "2024-10 to 2026-11, 2027-02"; "" for none."""
    runs: list[list[date]] = []
    for month in sorted(set(months)):
        if runs and add_months(runs[-1][-1], 1) == month:
            runs[-1].append(month)
        else:
            runs.append([month])
    return ", ".join(f"{run[0]:%Y-%m}" + (f" to {run[-1]:%Y-%m}" if len(run) > 1 else "") for run in runs)


def unread_months(
    *, months_with_costs: Iterable[date], coverage: Iterable[SourceCoverage], today: date,
    months_read: Iterable[date] = (),
) -> list[date]:
    """The ended months, from the first with data, that no source delivered and no enabled source owes, oldest
    first: nobody read them, and nothing says they were due (history backfilled into a source added later), so their
    coverage is unknown rather than missing. Last month is left out while nothing of the current month is read
    either: a monthly export arrives after its month, and the data simply stops there. None without enabled
    sources: nothing then says which months anybody was to deliver (roll-ups loaded as they are). `months_read`:
    months with any cost, unallocated included (the current month's too)."""
    sources = list(coverage)
    if not sources:
        return []
    read = ({m.replace(day=1) for m in [*months_with_costs, *months_read]}
            | {m for s in sources for m in s.delivered})
    if not read:
        return []
    this_month = today.replace(day=1)
    last_month = add_months(this_month, -1)
    if this_month not in read:
        last_month = add_months(last_month, -1)
    return [m for m in month_range(min(read), last_month)
            if m not in read and not any(source.owes(m) for source in sources)]


def latest_complete_month(
    *, months_with_costs: Iterable[date], coverage: Iterable[SourceCoverage], today: date,
    months_read: Iterable[date] = (),
) -> date | None:
    """The latest month before the current one that has costs, that no enabled source owes
    (`SourceCoverage.owes`: a month some source still owes is incomplete, however much the others delivered), and
    that no later ended month goes unread (`unread_months`): one old month loaded into a new source, followed by
    months nobody delivered, says nothing of how far the data goes, so no month is complete until those are read
    (`months_read`: months with any cost, unallocated included)."""
    sources = list(coverage)
    costs = {m.replace(day=1) for m in months_with_costs}
    this_month = today.replace(day=1)
    unread = unread_months(months_with_costs=costs, coverage=sources, today=today, months_read=months_read)
    for month in sorted(costs, reverse=True):
        if unread and month < unread[-1]:
            return None
        if month < this_month and not any(source.owes(month) for source in sources):
            return month
    return None



# What the cost data says of each month: a cost-data reading of the roll-ups and the enabled sources ---------------

COMPLETE, PARTLY, NO_DATA = "complete", "partly", "none"
NOT_ENDED = "has not ended yet"
NOT_READ = "not read by any cost source"
NOT_COMPLETE_YET = "not complete yet"


@dataclass(frozen=True)
class MonthCostData:
    """One month's cost data: complete (ended, allocated cost, owed by no enabled source, no later month unread),
    partly (something was read, but it is not complete: `reason` says why) or none (nothing was read)."""

    month: date
    state: str  # COMPLETE, PARTLY or NO_DATA
    reason: str  # why it is not complete, in words ("azure-focus still owes it", NOT_READ, NOT_ENDED); "" if it is


@dataclass(frozen=True)
class PeriodCostData:
    """The cost data of the months of a period, oldest first, and what that makes the whole."""

    months: tuple[MonthCostData, ...]

    @property
    def state(self) -> str:
        """COMPLETE when every month is, NO_DATA when nothing was read for any, else PARTLY."""
        states = {m.state for m in self.months}
        return states.pop() if len(states) == 1 else PARTLY

    @property
    def ended(self) -> bool:
        """Every month of the period has ended (a month in progress says "has not ended yet")."""
        return all(m.reason != NOT_ENDED for m in self.months)


@dataclass(frozen=True)
class CostDataReading:
    """What the monthly roll-ups and the enabled sources say of the months up to `today`, read once (costs.selectors
    .cost_data_reading) and asked many ways: the latest complete month (`latest_complete_month`), the ended months
    nobody read and no source owes (`unread_months`), which months a source still owes (`SourceCoverage.owes`), and
    each month's state. The dashboard, the ingestion headline and the review cycle form read the same rules."""

    today: date
    coverage: tuple[SourceCoverage, ...]
    allocated: frozenset[date]  # months before the current one with allocated cost
    read: frozenset[date]  # months with any cost, unallocated included, the current one too

    @property
    def latest_complete(self) -> date | None:
        return latest_complete_month(months_with_costs=self.allocated, coverage=self.coverage, today=self.today,
                                     months_read=self.read)

    @property
    def unread(self) -> list[date]:
        return unread_months(months_with_costs=self.allocated, coverage=self.coverage, today=self.today,
                             months_read=self.read)

    def owing(self, month: date) -> list[str]:
        """The enabled sources that still owe `month`."""
        return [source.name for source in self.coverage if source.owes(month)]

    def owed(self, months: Iterable[date]) -> list[date]:
        """Those of `months` some enabled source owes."""
        return [m for m in months if self.owing(m)]

    def month(self, month: date, *, latest_complete: date | None, unread: Sequence[date]) -> MonthCostData:
        """The state of one month (`latest_complete` and `unread` as computed once for all the months asked)."""
        month = month.replace(day=1)
        owing = self.owing(month)
        owes = f"{', '.join(owing)} still owe{'s' if len(owing) == 1 else ''} it"
        if month >= self.today.replace(day=1):
            return MonthCostData(month, PARTLY if month in self.read else NO_DATA, NOT_ENDED)
        if month not in self.read:
            return MonthCostData(month, NO_DATA, owes if owing else NOT_READ)
        if owing:
            return MonthCostData(month, PARTLY, owes)
        if month not in self.allocated:
            return MonthCostData(month, PARTLY, "only unallocated spend: no allocation rule maps it to an initiative")
        if latest_complete is None or month > latest_complete:
            later = [m for m in unread if m > month]
            return MonthCostData(month, PARTLY, f"no cost source read {month_span_words(later)}, so how far the data "
                                                "goes is unknown" if later else NOT_COMPLETE_YET)
        return MonthCostData(month, COMPLETE, "")

    def period(self, start: date, end: date) -> PeriodCostData:
        """The state of every month from `start` to `end`."""
        latest, unread = self.latest_complete, self.unread
        return PeriodCostData(tuple(self.month(m, latest_complete=latest, unread=unread)
                                    for m in month_range(start.replace(day=1), end)))

    def unread_note(self) -> str:
        """What a page of figures says while an ended month went unread by every source (`unread`), "" otherwise:
        the months, and where the figures stop (the latest month read before the last run of unread months), or,
        when a later month is complete again, that the figures hold nothing for them."""
        unread = self.unread
        if not unread:
            return ""
        one = len(unread) == 1
        said = f"{month_span_words(unread)} {'was' if one else 'were'} {NOT_READ}"
        latest = self.latest_complete
        if latest is not None:  # later than every unread month (latest_complete_month)
            return (f"{said}: the figures hold no cost for {'it' if one else 'those months'}; the latest complete "
                    f"month is {latest:%Y-%m}.")
        gap_start = unread[-1]
        while add_months(gap_start, -1) in unread:
            gap_start = add_months(gap_start, -1)
        stop = max(m for m in self.read | {m for s in self.coverage for m in s.delivered} if m < gap_start)
        return f"{said}: the figures stop at {stop:%Y-%m}."


# What one month of an initiative's TCO is worth to a reader (its page and /api/initiatives/<id>/costs/) ------------

TCO_COMPLETE, TCO_PARTIAL, TCO_UNREAD, TCO_NOT_STARTED = "complete", "partial", "unread", "not_started"
TCO_MONTH_DATA = (TCO_COMPLETE, TCO_PARTIAL, TCO_UNREAD, TCO_NOT_STARTED)


@dataclass(frozen=True)
class TcoMonthData:
    """What a month of an initiative's TCO stands for: `data` is TCO_COMPLETE (final), TCO_PARTIAL (in progress,
    owed by a source, or read but not complete yet: more cost may come), TCO_UNREAD (nothing was read, so the cost is
    unknown, not zero) or TCO_NOT_STARTED (before the initiative's start date, without cost: zero is right); `note`
    says why in a sentence."""

    data: str
    note: str

    @property
    def has_figures(self) -> bool:
        """Whether the month's figures mean something: an unread month's zero would read as no spend."""
        return self.data != TCO_UNREAD


def tco_month_data(cost_data: MonthCostData, *, start_date: date | None, has_cost: bool) -> TcoMonthData:
    """The data state of one month of an initiative from the state of the cost data (CostDataReading.month), the
    initiative's start date and whether it has any TCO that month. A month before its start month without cost stays
    a month of $0 whatever the sources read: it had not started, so there was nothing to read."""
    if start_date is not None and cost_data.month < start_date.replace(day=1) and not has_cost:
        return TcoMonthData(TCO_NOT_STARTED, f"Before the initiative's start date ({start_date:%Y-%m-%d}): no cost.")
    if cost_data.state == COMPLETE:
        return TcoMonthData(TCO_COMPLETE, "Complete: the month has ended and every cost source has delivered it.")
    if cost_data.state == PARTLY:
        if cost_data.reason == NOT_ENDED:
            return TcoMonthData(TCO_PARTIAL, "In progress: the month has not ended yet, so more cost may come.")
        if cost_data.reason == NOT_COMPLETE_YET:
            return TcoMonthData(TCO_PARTIAL, "Not complete yet, so more cost may come.")
        return TcoMonthData(TCO_PARTIAL, f"Not complete ({cost_data.reason}), so more cost may come.")
    reason = cost_data.reason
    if reason == NOT_ENDED:
        reason = "it has not ended yet and no cost source has read any of it"
    return TcoMonthData(TCO_UNREAD, f"No data: {reason}, so its cost is unknown, not zero.")


def tco_range_data(states: Sequence[str]) -> str | None:
    """What a range of months adds up to: TCO_COMPLETE when every month is final (complete, or before the start
    date), TCO_UNREAD when nobody read any, else TCO_PARTIAL; None without months."""
    if not states:
        return None
    if all(s in (TCO_COMPLETE, TCO_NOT_STARTED) for s in states):
        return TCO_COMPLETE
    return TCO_UNREAD if all(s == TCO_UNREAD for s in states) else TCO_PARTIAL


# The key an unallocated record is listed under --------------------------------------------------------------------

# A record carries several keys (a FOCUS row: its resource, its account, its tags); listed under each, the same money
# showed up several times and the "biggest unallocated keys" added up to more than the unallocated total. Each record
# is listed once, under the key a rule for it would most likely use: the provider's own workload ids, then a project
# tag or label, then other tags and labels, then where it was billed, and an environment tag last (a rule on env=prod
# maps nothing to one initiative).
WORKLOAD_KEYS = ("project_id", "workspace_id", "namespace", "api_key_id")
PROJECT_TAGS = ("project", "app", "application", "workload", "initiative")
BILLING_KEYS = ("resource_id", "sub_account_id", "billing_account_id", "service_name")
ENVIRONMENT_TAGS = frozenset({"env", "environment", "stage", "tier"})


def _key_rank(key: str) -> tuple[int, int, str]:
    if key in WORKLOAD_KEYS:
        return 0, WORKLOAD_KEYS.index(key), key
    prefix, _, name = key.partition(":")
    if prefix in ("tag", "label") and name:
        lowered = name.lower()
        if lowered in PROJECT_TAGS:
            return 1, PROJECT_TAGS.index(lowered), key
        return (4, 0, key) if lowered in ENVIRONMENT_TAGS else (2, 0, key)
    if key in BILLING_KEYS:
        return 3, BILLING_KEYS.index(key), key
    return 5, 0, key


def unallocated_key_of(keys: Mapping[str, object]) -> tuple[str, str] | None:
    """The (key, value) a record's unallocated amount is listed under, by the order above (ties by key name); None
    for a record without keys (it counts in the unallocated total under no key)."""
    present = [key for key, value in keys.items() if value not in (None, "")]
    if not present:
        return None
    key = min(present, key=_key_rank)
    return key, str(keys[key])


def skipped_rows_labels(*, total: int, by_reason: Mapping[str, int]) -> list[str]:
    """What a run's page says of the rows it left out, each reason once: "990 rows skipped (not AI spend)", "1 row
    skipped (billed in another period)". A run from before the reasons were kept says its total alone."""
    if not by_reason:
        return [f"{total:,} {'row' if total == 1 else 'rows'} skipped"] if total else []
    return [f"{count:,} {'row' if count == 1 else 'rows'} skipped ({reason})" for reason, count in by_reason.items()]
