"""Reads of cost and usage: from the monthly roll-ups, never the raw records (except where a page lists them)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypedDict

from auditlog.models import LogEntry
from celery.schedules import crontab
from django.contrib.contenttypes.models import ContentType
from django.db.models import (
    Case,
    Count,
    DecimalField,
    Exists,
    IntegerField,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone

from portfolio.choices import ACTIVE_STAGES, ENDED_STAGES, CostCategory, RunStatus
from portfolio.costs.calculations import (
    CostDataReading,
    SourceCoverage,
    SourceFreshness,
    TcoFigures,
    TcoMonthData,
    TcoPart,
    add_months,
    cents,
    complete_quarter_by,
    latest_complete_month,
    month_range,
    month_span_words,
    source_freshness,
    tco_month_data,
    unread_months,
)
from portfolio.costs.connectors.base import Period
from portfolio.costs.connectors.registry import connector_class
from portfolio.models import (
    SCHEDULE_PATTERN,
    AIModel,
    AmountsCurrency,
    CostRecord,
    CostSource,
    CurrencyRate,
    GpuCostBasis,
    IngestionRun,
    Initiative,
    InitiativeMonthlyTco,
    LicencePool,
    MonthlyCost,
    MonthlyGpuUsage,
    reporting_currency,
)
from tollgate.formatting import currency_symbol

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


def cost_report(*, period: Period) -> dict[str, Any]:
    """{"currency", "initiatives": {external_id: amount}, "unallocated", "total"} of one month, for reconciliation."""
    rows = (
        MonthlyCost.objects.filter(month=period.start)
        .values("initiative__external_id")
        .annotate(total=Sum("amount"))
        .order_by("initiative__external_id")
    )
    initiatives: dict[str, Decimal] = {}
    unallocated = Decimal("0")
    for row in rows:
        amount = cents(row["total"] or Decimal("0"))
        if row["initiative__external_id"] is None:
            unallocated += amount
        else:
            initiatives[row["initiative__external_id"]] = amount
    total = sum(initiatives.values(), unallocated)
    return {"currency": reporting_currency(), "initiatives": initiatives, "unallocated": cents(unallocated),
            "total": cents(total)}


def unallocated_spend(*, month: date | None = None) -> Decimal:
    """Spend no rule maps to an initiative (a headline figure), in the reporting currency."""
    costs = MonthlyCost.objects.filter(initiative__isnull=True)
    if month is not None:
        costs = costs.filter(month=month.replace(day=1))
    return cents(costs.aggregate(total=Sum("amount"))["total"] or Decimal("0"))


def monthly_costs_by_category(*, initiative_id: int | None, months: list[date] | None = None) -> QuerySet:
    """Roll-up rows of one initiative (None = unallocated) by month and category."""
    costs = MonthlyCost.objects.filter(initiative_id=initiative_id) if initiative_id else MonthlyCost.objects.filter(
        initiative__isnull=True)
    if months:
        costs = costs.filter(month__in=months)
    return costs.order_by("month", "category")


def cost_sources_health() -> QuerySet:
    """Sources with their last successful run's end and last run's start, for the ingestion health page."""
    return CostSource.objects.annotate(
        last_success_at=Max("runs__finished_at", filter=Q(runs__status=RunStatus.SUCCEEDED)),
        last_run_at=Max("runs__created_at"),
    ).order_by("name")


def _source_unallocated_of_month(*, source: Any, period: Any) -> Subquery:
    """The unallocated spend of one source in one month as its records hold it now, after every re-allocation by
    the rules since (the share of `cost_report`'s unallocated figure that source's month holds)."""
    total = (
        CostRecord.objects.filter(source=source, period=period, initiative__isnull=True)
        .values("source").annotate(total=Sum("amount_reporting")).values("total")
    )
    return Subquery(total, output_field=MONEY_FIELD)


def ingestion_runs_with_unallocated_now(runs: QuerySet[IngestionRun]) -> QuerySet[IngestionRun]:
    """`runs` with `unallocated_now`: the unallocated spend of the run's source and month today (a run's own
    `unallocated_amount` is the figure at reading, which rules added or changed since no longer match). One subquery
    in the runs' query, whatever their number; None for a run that did not succeed (it measured nothing)."""
    return runs.annotate(unallocated_now=Case(
        When(status=RunStatus.SUCCEEDED, then=Coalesce(
            _source_unallocated_of_month(source=OuterRef("source_id"), period=OuterRef("period")),
            Value(Decimal("0")), output_field=MONEY_FIELD)),
        default=None, output_field=MONEY_FIELD,
    ))


def ingestion_runs(*, source: CostSource | None = None) -> QuerySet[IngestionRun]:
    """Runs with their source and starter and the unallocated spend of their month today (`unallocated_now`)."""
    runs = IngestionRun.objects.select_related("source", "actor")
    if source is not None:
        runs = runs.filter(source=source)
    return ingestion_runs_with_unallocated_now(runs)


def ingestion_runs_recent(*, source: CostSource | None = None, limit: int = 50) -> QuerySet:
    return ingestion_runs(source=source).order_by("-created_at", "-id")[:limit]


MONEY_FIELD: DecimalField[Decimal, Decimal] = DecimalField(max_digits=20, decimal_places=6)


def _this_and_last_month(today: date) -> tuple[Period, Period]:
    this = Period.month(today.year, today.month)
    last = this.start - timedelta(days=1)
    return this, Period.month(last.year, last.month)


# Which months each source delivered, which it owes, and the latest month every source delivered ------------------


def source_delivered_months() -> dict[int, set[date]]:
    """The months each source delivered, in one query: periods whose latest successful run wrote rows (a run
    replaces its period, so a later read that found nothing leaves the month empty)."""
    later = IngestionRun.objects.filter(source=OuterRef("source_id"), period=OuterRef("period"),
                                        status=RunStatus.SUCCEEDED, finished_at__gt=OuterRef("finished_at"))
    delivered: dict[int, set[date]] = defaultdict(set)
    rows = (IngestionRun.objects.filter(~Exists(later), status=RunStatus.SUCCEEDED, rows_written__gt=0)
            .order_by().values_list("source_id", "period").distinct())
    for source_id, period in rows:
        delivered[source_id].add(period.replace(day=1))
    return dict(delivered)


def source_coverage(source: CostSource, *, delivered: dict[int, set[date]]) -> SourceCoverage:
    """A source's first month with data (the month it was added, while it has none), the months it delivered and the
    month it was added (from which on it owes the months after its latest: SourceCoverage.owes)."""
    months = delivered.get(source.pk, set())
    added = timezone.localdate(source.created_at).replace(day=1)
    return SourceCoverage(source.name, min(months) if months else added, frozenset(months), added)


def enabled_source_coverage(*, delivered: dict[int, set[date]] | None = None) -> list[SourceCoverage]:
    """The coverage of every enabled source (a disabled source owes nothing), in two queries (one with `delivered`)."""
    delivered = source_delivered_months() if delivered is None else delivered
    return [source_coverage(source, delivered=delivered)
            for source in CostSource.objects.filter(enabled=True).only("pk", "name", "created_at")]


def _connector_reads_files(source: CostSource) -> bool | None:
    """Whether the source's connector reads export files; None when the source has no connector."""
    try:
        return bool(getattr(connector_class(source.type), "reads_files", False))
    except (KeyError, ImportError, AttributeError):
        return None


def source_reads_files(source: CostSource) -> bool:
    """File-based sources (FOCUS, plain CSV, the M365 report) accept an upload; API sources read their provider."""
    return bool(_connector_reads_files(source))


def source_uploaded_by_hand(source: CostSource) -> bool:
    """A file source without a `path` setting: its exports are uploaded by hand ("Run now"), so no schedule reads
    it. A source without a connector counts too: no schedule could read it."""
    reads_files = _connector_reads_files(source)
    if reads_files is None:
        return True
    return reads_files and not (source.settings or {}).get("path")


def cron_due_at(expression: str, *, after: datetime, now: datetime) -> datetime | None:
    """The first time a five-field cron expression falls due after `after` (in the past when a read is overdue);
    None for an expression celery cannot read."""
    try:
        minute, hour, day_of_month, month_of_year, day_of_week = expression.split()
        schedule = crontab(minute=minute, hour=hour, day_of_month=day_of_month, month_of_year=month_of_year,
                           day_of_week=day_of_week, nowfun=lambda: now)
        return now + schedule.remaining_estimate(after)
    except (ValueError, TypeError):
        return None


def source_freshness_of(
    source: CostSource, *, coverage: SourceCoverage, last_success_at: datetime | None, now: datetime,
    grace_days: int,
) -> SourceFreshness:
    """calculations.source_freshness of one source, with what its schedule and connector say about it."""
    now = timezone.localtime(now)
    schedule = (source.schedule or "daily").strip()
    added_at = timezone.localtime(source.created_at)
    last_success_at = timezone.localtime(last_success_at) if last_success_at else None
    due = None
    if SCHEDULE_PATTERN.fullmatch(schedule) and schedule not in ("daily", "monthly"):
        due = cron_due_at(schedule, after=last_success_at or added_at, now=now)
    return source_freshness(
        schedule=schedule, uploaded_by_hand=source_uploaded_by_hand(source), coverage=coverage,
        added_at=added_at, last_success_at=last_success_at, cron_due_at=due, now=now, grace_days=grace_days,
    )


def stale_sources(*, now: datetime, grace_days: int) -> list[tuple[CostSource, SourceFreshness]]:
    """Enabled sources that are late or miss a month, by name, each with its freshness (two queries)."""
    delivered = source_delivered_months()
    found = []
    for source in cost_sources_health().filter(enabled=True):
        freshness = source_freshness_of(source, coverage=source_coverage(source, delivered=delivered),
                                        last_success_at=source.last_success_at, now=now, grace_days=grace_days)
        if freshness.stale:
            found.append((source, freshness))
    return found


INCOMPLETE_MONTHS_SHOWN = 12


def spend_headline(*, today: date, coverage: Iterable[SourceCoverage] | None = None) -> dict[str, Any]:
    """AI spend of the latest complete month and of the month before, its unallocated spend and the share allocated
    (roll-ups only).

    Complete: a month that has ended, has allocated costs, and that no enabled source owes (latest_complete_month);
    a month some sources have read and others still owe would compare a fraction with a whole month. `month` is None
    before any month is complete; `incomplete` lists the months after it up to last month (the last twelve at most),
    each with the sources that still owe it; `unread` names the ended months nobody delivered and no source owes
    ("2024-10 to 2026-11": unread_months), which keep any earlier month from being complete. `total_previous` is None
    when nothing was read for the month before.
    """
    sources = list(coverage) if coverage is not None else enabled_source_coverage()
    this_month = today.replace(day=1)
    allocated, read = cost_months(today=today)
    complete = latest_complete_month(months_with_costs=allocated, coverage=sources, today=today, months_read=read)
    unread = unread_months(months_with_costs=read, coverage=sources, today=today)
    first_incomplete = add_months(complete, 1) if complete else min((s.start for s in sources), default=this_month)
    first_incomplete = max(first_incomplete, add_months(this_month, -INCOMPLETE_MONTHS_SHOWN))
    incomplete = [
        (Period.month(m.year, m.month), [s.name for s in sources if s.owes(m)])
        for m in month_range(first_incomplete, add_months(this_month, -1))
    ]
    headline: dict[str, Any] = {
        "currency": reporting_currency(), "month": None, "previous_month": None, "total": Decimal("0"),
        "total_previous": Decimal("0"), "unallocated": Decimal("0"), "share_allocated": None,
        "incomplete": [(period, owing) for period, owing in incomplete if owing],
        "unread": month_span_words(unread),
    }
    if complete is None:
        return headline
    month, previous = _this_and_last_month(complete)
    totals = dict(
        MonthlyCost.objects.filter(month__in=[month.start, previous.start]).order_by().values("month")
        .annotate(total=Sum("amount")).values_list("month", "total")
    )
    total = totals.get(month.start) or Decimal("0")
    unallocated = unallocated_spend(month=month.start)
    return headline | {
        "month": month, "previous_month": previous, "total": total,
        "total_previous": _previous_total(totals, previous.start), "unallocated": unallocated,
        "share_allocated": None if not total else (total - unallocated) / total * 100,
    }


def _previous_total(totals: dict[date, Decimal], month: date) -> Decimal | None:
    """The previous month's spend; None (shown "no data") when nothing at all was read for it: $0 would claim no
    spend."""
    if month in totals:
        return totals[month] or Decimal("0")
    return None


class SourceHealth(TypedDict):
    last_success_at: datetime | None
    last_run_at: datetime | None
    last_run_id: int | None
    last_run_status: str | None
    last_run_rows: int | None
    unallocated: Decimal
    freshness: SourceFreshness | None  # not annotated: set by ingestion_health (None for a disabled source)
    reads_files: bool  # not annotated here: the health page sets it per source


def sources_with_last_run(*, month: date) -> QuerySet[WithAnnotations[CostSource, SourceHealth]]:
    """cost_sources_health plus the last run (id, status, rows) and this month's unallocated spend."""
    last_run = IngestionRun.objects.filter(source=OuterRef("pk")).order_by("-created_at", "-id")
    unallocated = _source_unallocated_of_month(source=OuterRef("pk"), period=month)
    return cost_sources_health().annotate(
        last_run_id=Subquery(last_run.values("pk")[:1]),
        last_run_status=Subquery(last_run.values("status")[:1]),
        last_run_rows=Subquery(last_run.values("rows_written")[:1], output_field=IntegerField()),
        unallocated=Coalesce(unallocated, Value(Decimal("0")),
                             output_field=MONEY_FIELD),
    )


@dataclass(frozen=True)
class IngestionHealth:
    """The health page: the headline of the latest complete month, every source with its last run and freshness,
    and the stale ones (late or missing a month) to list first."""

    headline: dict[str, Any]
    sources: list[WithAnnotations[CostSource, SourceHealth]]

    @property
    def stale(self) -> list[WithAnnotations[CostSource, SourceHealth]]:
        return [source for source in self.sources if source.freshness is not None and source.freshness.stale]


def ingestion_health(*, now: datetime, grace_days: int) -> IngestionHealth:
    """Everything the health page shows, in a constant number of queries whatever the number of sources."""
    today = timezone.localdate(now)
    delivered = source_delivered_months()
    headline = spend_headline(today=today, coverage=enabled_source_coverage(delivered=delivered))
    month = headline["month"].start if headline["month"] else today.replace(day=1)
    sources = list(sources_with_last_run(month=month))
    for source in sources:
        source.freshness = None if not source.enabled else source_freshness_of(
            source, coverage=source_coverage(source, delivered=delivered), last_success_at=source.last_success_at,
            now=now, grace_days=grace_days)
    return IngestionHealth(headline, sources)


def currency_rates() -> QuerySet[CurrencyRate]:
    """Rates with `valid_until`: the first day of the currency's next rate (None while a rate is the latest)."""
    following = CurrencyRate.objects.filter(currency=OuterRef("currency"), valid_from__gt=OuterRef("valid_from"))
    return CurrencyRate.objects.annotate(
        valid_until=Subquery(following.order_by("valid_from").values("valid_from")[:1])
    ).order_by("currency", "-valid_from")


# Total cost of ownership (InitiativeMonthlyTco) ----------------------------------------------------------------------


def cost_months(*, today: date) -> tuple[list[date], list[date]]:
    """The months before the current one with allocated cost in the roll-ups (a month of unallocated spend only, an
    old export backfilled before any rule maps it, has no initiative's cost to report, so it is never complete) and
    the months with any cost, unallocated included, the current one too (months somebody read), in one query."""
    this_month = today.replace(day=1)
    rows = list(MonthlyCost.objects.filter(month__lte=this_month).order_by().values("month")
                .annotate(allocated=Count("initiative")).values_list("month", "allocated"))
    read = sorted(month for month, _ in rows)
    return [month for month, allocated in rows if allocated and month < this_month], read


def latest_complete_month_by(*, today: date, coverage: Iterable[SourceCoverage]) -> date | None:
    """latest_complete_month over the roll-ups (one query)."""
    allocated, read = cost_months(today=today)
    return latest_complete_month(months_with_costs=allocated, coverage=coverage, today=today, months_read=read)


def last_complete_month(*, today: date | None = None) -> date | None:
    """The latest month before the current one with allocated cost in the roll-ups that no enabled source owes
    (latest_complete_month, the dashboard's and the ingestion headline's rule): one hand-uploaded row for a month the
    other sources still owe must not make it the month that signals, initiative pages and the API read, nor may one old
    month backfilled into a new source make every later month incomplete (three queries)."""
    today = today or timezone.localdate()
    return latest_complete_month_by(today=today, coverage=enabled_source_coverage())


def cost_data_reading(*, today: date | None = None,
                      coverage: Iterable[SourceCoverage] | None = None) -> CostDataReading:
    """The roll-ups' months and the enabled sources' coverage, read once (three queries; one with `coverage`), for
    the rules of calculations.CostDataReading: the latest complete month, the unread months, each month's state."""
    today = today or timezone.localdate()
    sources = list(coverage) if coverage is not None else enabled_source_coverage()
    allocated, read = cost_months(today=today)
    return CostDataReading(today, tuple(sources), frozenset(allocated), frozenset(read))


def last_complete_quarter(*, today: date | None = None) -> tuple[str, date, date] | None:
    """The latest quarter whose three months have ended and that has cost data; None without cost data."""
    latest = last_complete_month(today=today)
    return None if latest is None else complete_quarter_by(latest)


# Run cost is actual in a month when a run category (not oversight or maintenance) comes from cost records.
RUN_COST_RECORDED = Q(actual=True) & ~Q(category__in=[CostCategory.OVERSIGHT, CostCategory.MAINTENANCE])


@dataclass(frozen=True)
class PeriodTco:
    """An initiative's TCO over whole months: total, the actual and estimated parts, by category."""

    total: Decimal
    actual: Decimal
    estimated: Decimal
    has_records: bool  # its run cost comes from cost records in at least one month of the period
    months: int
    by_category: dict[str, Decimal]


def initiative_tco_by_period(
    *, initiative_ids: Iterable[int] | None = None, start: date, end: date, leaving_out: Collection[date] = ()
) -> dict[int, PeriodTco]:
    """TCO of each initiative over the months from `start` to `end` (both included) but those `leaving_out` (months
    nobody read: tco_months_counted), in one query."""
    rows = InitiativeMonthlyTco.objects.filter(month__gte=start.replace(day=1), month__lte=end.replace(day=1))
    if leaving_out:
        rows = rows.exclude(month__in=list(leaving_out))
    if initiative_ids is not None:
        rows = rows.filter(initiative_id__in=list(initiative_ids))
    grouped = rows.order_by().values("initiative_id", "category", "actual").annotate(
        total=Sum("amount"), months=Count("month", distinct=True))
    recorded = set(rows.filter(RUN_COST_RECORDED).order_by().values_list("initiative_id", flat=True).distinct())
    months = dict(rows.order_by().values("initiative_id").annotate(n=Count("month", distinct=True))
                  .values_list("initiative_id", "n"))
    parts: dict[int, dict[str, Any]] = defaultdict(
        lambda: {"actual": Decimal("0"), "estimated": Decimal("0"), "by_category": defaultdict(Decimal)})
    for row in grouped:
        entry = parts[row["initiative_id"]]
        entry["actual" if row["actual"] else "estimated"] += row["total"]
        entry["by_category"][row["category"]] += row["total"]
    return {
        pk: PeriodTco(total=cents(e["actual"] + e["estimated"]), actual=cents(e["actual"]),
                      estimated=cents(e["estimated"]), has_records=pk in recorded, months=months.get(pk, 0),
                      by_category=dict(e["by_category"]))
        for pk, e in parts.items()
    }


def initiative_tco_months(*, initiative_id: int, start: date | None = None, end: date | None = None) -> QuerySet:
    """The TCO rows of one initiative (month, category, amount, actual), oldest first, for its chart and the API."""
    rows = InitiativeMonthlyTco.objects.filter(initiative_id=initiative_id)
    if start is not None:
        rows = rows.filter(month__gte=start.replace(day=1))
    if end is not None:
        rows = rows.filter(month__lte=end.replace(day=1))
    return rows.order_by("month", "category")


def tco_total_of(month_from: date, month_to: date, *, outer: str = "pk") -> Coalesce:
    """Subquery: TCO of the initiative at OuterRef(`outer`) from `month_from` to `month_to`, for sortable columns."""
    total = (
        InitiativeMonthlyTco.objects.filter(initiative_id=OuterRef(outer), month__gte=month_from, month__lte=month_to)
        .order_by().values("initiative_id").annotate(total=Sum("amount")).values("total")
    )
    return Coalesce(Subquery(total, output_field=MONEY_FIELD), Value(Decimal("0")), output_field=MONEY_FIELD)


def tco_period_annotations(*, initiative: str, start: str, end: str,
                           leaving_out: Collection[date] = ()) -> dict[str, Any]:
    """Annotations for rows that point at an initiative and a period (e.g. a value report and its cycle's dates):
    `tco_total`, `tco_estimated` and `tco_has_records`, so a list of such rows costs one query. The months
    `leaving_out` (nobody read them: tco_months_left_out) count in none."""
    rows = InitiativeMonthlyTco.objects.filter(
        initiative_id=OuterRef(initiative), month__gte=OuterRef(start), month__lte=OuterRef(end)
    ).order_by().values("initiative_id")
    if leaving_out:
        rows = rows.exclude(month__in=list(leaving_out))

    def total(of: QuerySet) -> Subquery:
        return Subquery(of.annotate(total=Sum("amount")).values("total"), output_field=MONEY_FIELD)

    return {
        "tco_total": total(rows),
        "tco_estimated": total(rows.filter(actual=False)),
        "tco_has_records": Exists(rows.filter(RUN_COST_RECORDED)),
    }


def tco_months_of(month_from: date, month_to: date, *, outer: str = "pk") -> Coalesce:
    """Subquery: how many months from `month_from` to `month_to` the initiative at OuterRef(`outer`) has a TCO in (it
    ran or had cost records) from the month of its start date on: the months its business case is compared with (no
    plan applies before it started, whatever cost records were mapped to it)."""
    started = Q(initiative__start_date__isnull=True) | Q(month__gte=TruncMonth("initiative__start_date"))
    months = (
        InitiativeMonthlyTco.objects.filter(started, initiative_id=OuterRef(outer), month__gte=month_from,
                                            month__lte=month_to)
        .order_by().values("initiative_id").annotate(n=Count("month", distinct=True)).values("n")
    )
    return Coalesce(Subquery(months, output_field=IntegerField()), Value(0), output_field=IntegerField())


# The periods every cost figure of the pages and the API reads ---------------------------------------------------------


@dataclass(frozen=True)
class CostPeriods:
    """The last complete month and the last complete quarter with cost data; both None before any cost data."""

    month: date | None
    quarter: tuple[str, date, date] | None  # ("2026-Q3", first month, last month)

    @property
    def month_label(self) -> str:
        return f"{self.month:%Y-%m}" if self.month else ""

    @property
    def quarter_label(self) -> str:
        return self.quarter[0] if self.quarter else ""


def cost_periods(*, today: date | None = None, reading: CostDataReading | None = None) -> CostPeriods:
    """Both periods in one query (a page reads them once and hands them to its selectors and table); none from a
    `reading` the page also reads the months' states from."""
    latest = reading.latest_complete if reading is not None else last_complete_month(today=today)
    return CostPeriods(latest, complete_quarter_by(latest) if latest else None)


# One initiative's TCO month by month (its page and /api/initiatives/<id>/costs/) --------------------------------------

HISTORY_MONTHS = 12  # the default window: the last twelve months with data
MAX_HISTORY_MONTHS = 120  # a longer range is refused rather than answered with years of empty months


@dataclass(frozen=True)
class MonthTco:
    month: date
    parts: tuple[TcoPart, ...]  # in category order; none in a month without cost

    @property
    def figures(self) -> TcoFigures:
        return TcoFigures.of(self.parts)

    def amount_of(self, category: str) -> TcoPart | None:
        return next((p for p in self.parts if p.category == category), None)


@dataclass(frozen=True)
class TcoHistory:
    start: date | None  # None: the initiative has no TCO yet and no range was asked for
    end: date | None
    months: list[MonthTco]

    @property
    def figures(self) -> TcoFigures:
        return TcoFigures.of([p for m in self.months for p in m.parts])

    @property
    def categories(self) -> list[str]:
        """The categories that occur, in the order of CostCategory."""
        present = {p.category for m in self.months for p in m.parts}
        return [c for c in CostCategory.values if c in present]


def _parts(rows: Iterable[InitiativeMonthlyTco]) -> dict[date, list[TcoPart]]:
    order = {c: i for i, c in enumerate(CostCategory.values)}
    by_month: dict[date, list[TcoPart]] = defaultdict(list)
    for row in rows:
        by_month[row.month].append(TcoPart(row.category, row.amount, row.actual))
    return {m: sorted(parts, key=lambda p: order.get(p.category, len(order))) for m, parts in by_month.items()}


def initiative_tco_history(*, initiative_id: int, start: date | None = None, end: date | None = None,
                           until: date | None = None) -> TcoHistory:
    """Every month from `start` to `end` with the initiative's TCO parts, in two queries.

    A missing bound is twelve months from the other; without either, the last twelve months with data up to `until`
    (not before the initiative's first month with data)."""
    rows = InitiativeMonthlyTco.objects.filter(initiative_id=initiative_id)
    if start is None and end is None:
        bounded = rows if until is None else rows.filter(month__lte=until.replace(day=1))
        bounds = bounded.aggregate(first=Min("month"), last=Max("month"))
        if bounds["last"] is None:
            return TcoHistory(None, None, [])
        end = bounds["last"]
        start = max(bounds["first"], add_months(end, 1 - HISTORY_MONTHS))
    elif start is None:
        assert end is not None
        start = add_months(end.replace(day=1), 1 - HISTORY_MONTHS)
    elif end is None:
        end = add_months(start.replace(day=1), HISTORY_MONTHS - 1)
    months = month_range(start, end)
    by_month = _parts(initiative_tco_months(initiative_id=initiative_id, start=start, end=end))
    return TcoHistory(months[0] if months else start, end.replace(day=1),
                      [MonthTco(m, tuple(by_month.get(m, ()))) for m in months])


def initiative_tco_month_data(history: TcoHistory, *, start_date: date | None,
                              reading: CostDataReading | None = None) -> list[TcoMonthData]:
    """What each month of `history` stands for (calculations.tco_month_data), by the rules the dashboard applies
    (cost_data_reading: complete, partly read, read by nobody): a month nobody read is not a month of $0. Three
    queries, none with `reading`."""
    if not history.months:
        return []
    return tco_months_data(history.months[0].month, history.months[-1].month,
                           start_date=start_date, reading=reading,
                           months_with_cost={month.month for month in history.months if month.parts})


def tco_months_data(start: date, end: date, *, start_date: date | None = None,
                    months_with_cost: Collection[date] | None = None,
                    reading: CostDataReading | None = None) -> list[TcoMonthData]:
    """What each month from `start` to `end` stands for (calculations.tco_month_data on the cost data's state of the
    month): the one rule of the costs API, the initiative page, the value reports and the dashboard. Without
    `months_with_cost` every month is taken to have cost: what a month is worth to any initiative (a month nobody
    read is unread whoever asks). Three queries, none with `reading`."""
    reading = reading or cost_data_reading()
    period = reading.period(start, end)
    return [tco_month_data(state, start_date=start_date,
                           has_cost=months_with_cost is None or state.month in months_with_cost)
            for state in period.months]


@dataclass(frozen=True)
class CountedMonths:
    """Which months of a period a TCO figure of the period counts (tco_months_counted)."""

    months: tuple[date, ...]  # the period's months
    unread: tuple[date, ...]  # those nobody read, left out of the figure (none when nothing of the period was read)
    none_read: bool = False  # nothing of the period was read: the figure is the TCO's estimates of every month

    @property
    def read(self) -> tuple[date, ...]:
        return tuple(m for m in self.months if m not in self.unread)

    @property
    def note(self) -> str:
        """"2 of 3 months read (2026-08 unread)"; "" when every month was read or none was."""
        if not self.unread:
            return ""
        unread = month_span_words(self.unread)
        return (f"{len(self.read)} of {len(self.months)} month{'s' if len(self.months) > 1 else ''} read "
                f"({unread} unread: no cost source read {'it' if len(self.unread) == 1 else 'them'}, so "
                f"{'its' if len(self.unread) == 1 else 'their'} cost is unknown and left out)")


def tco_months_counted(start: date, end: date, *, reading: CostDataReading | None = None) -> CountedMonths:
    """The months from `start` to `end` whose TCO a figure of the period counts (a value report's cost, the
    dashboard's quarter of an initiative), as the costs API counts them (tco_months_data): the months with figures,
    a month nobody read left out, not counted at its estimates nor as $0. When none of them was read (a new install
    before any cost source), every month counts: the figure is then the TCO's estimates, and says so. Three queries,
    none with `reading`."""
    data = tco_months_data(start, end, reading=reading)
    months = tuple(month_range(start.replace(day=1), end))
    unread = tuple(m for m, state in zip(months, data, strict=True) if not state.has_figures)
    if len(unread) == len(months):
        return CountedMonths(months, (), none_read=True)
    return CountedMonths(months, unread)


def tco_months_left_out(periods: Iterable[tuple[date, date]], *,
                        reading: CostDataReading | None = None) -> list[date]:
    """The months of `periods` whose TCO their figures leave out (tco_months_counted), oldest first, for the
    queries that sum many periods at once (tco_period_annotations). Three queries, none with `reading`."""
    wanted = list(periods)
    if not wanted:
        return []
    reading = reading or cost_data_reading()
    return sorted({m for start, end in wanted for m in tco_months_counted(start, end, reading=reading).unread})


# GPU-hours (MonthlyGpuUsage): what the GPU clusters report, per initiative and month ------------------------------


def initiative_gpu_months(*, initiative_id: int, months: list[date]) -> dict[date, MonthlyGpuUsage]:
    """The initiative's GPU roll-up rows of `months` by month (one query; a month without GPU records is absent)."""
    if not months:
        return {}
    rows = MonthlyGpuUsage.objects.filter(initiative_id=initiative_id, month__gte=min(months), month__lte=max(months))
    return {row.month: row for row in rows}


def gpu_usage_of_month(*, month: date) -> list[MonthlyGpuUsage]:
    """Every initiative's GPU-hours in `month` (unallocated last), most hours first, with their initiative."""
    rows = MonthlyGpuUsage.objects.filter(month=month.replace(day=1)).select_related("initiative")
    return sorted(rows, key=lambda row: (row.initiative_id is None, -row.gpu_hours))


@dataclass(frozen=True)
class ObservedGpuHourPrice:
    """The price per GPU-hour the company's own clusters show in a month, and what its cost is (GpuCostBasis)."""

    price: Decimal
    gpu_hours: Decimal
    basis: GpuCostBasis


def observed_gpu_hour_price(*, month: date) -> ObservedGpuHourPrice | None:
    """The price per GPU-hour the company's own clusters show in `month`, all initiatives and unallocated together;
    None without GPU-hours that month."""
    rows = list(MonthlyGpuUsage.objects.filter(month=month.replace(day=1)).values_list("gpu_hours", "cost",
                                                                                      "cost_basis"))
    hours = sum((row[0] for row in rows), Decimal("0"))
    basis = GpuCostBasis.combined(row[2] for row in rows)
    if hours <= 0 or basis is None:
        return None
    return ObservedGpuHourPrice(cents(sum((row[1] for row in rows), Decimal("0")) / hours), hours, basis)


def gpu_cost_label(bases: Iterable[str]) -> str:
    """What a table's GPU cost column holds, for its heading: "GPU cost" when every row's source gave the GPU cost
    apart, "Cost of records with GPU-hours" when none did, else "Cost" (each row then says which)."""
    basis = GpuCostBasis.combined(bases)
    return "Cost" if basis is None or basis == GpuCostBasis.MIXED else str(basis.label)


@dataclass(frozen=True)
class TcoHeadline:
    """An initiative's TCO in the last complete month and quarter (None where there is no cost data at all)."""

    periods: CostPeriods
    month: TcoFigures | None
    quarter: TcoFigures | None
    quarter_months: int  # months of the quarter with a TCO from its start on: what its business case is compared with


def initiative_tco_headline(*, initiative_id: int, periods: CostPeriods,
                            start_date: date | None = None) -> TcoHeadline:
    """The headline figures of an initiative's page, in one query. `start_date`: months before its month have no
    business case to compare with (tco_months_of)."""
    if periods.month is None or periods.quarter is None:
        return TcoHeadline(periods, None, None, 0)
    _, first, last = periods.quarter
    rows = InitiativeMonthlyTco.objects.filter(
        Q(month__gte=first, month__lte=last) | Q(month=periods.month), initiative_id=initiative_id)
    by_month = _parts(rows)
    in_quarter = [m for m in by_month if first <= m <= last]
    return TcoHeadline(
        periods,
        TcoFigures.of(by_month.get(periods.month, [])),
        TcoFigures.of([p for m in in_quarter for p in by_month[m]]),
        len([m for m in in_quarter if start_date is None or m >= start_date.replace(day=1)]),
    )


# Colours of the TCO chart, one per category (estimated parts: the same colour, lighter and hatched).
CATEGORY_COLOURS = {
    "inference": "#2b4c7e", "compute": "#5b8c5a", "storage": "#8e6c8a", "licences": "#c77d2e",
    "oversight": "#3f8f9f", "maintenance": "#6b6b6b", "other": "#a34a4a",
}


def tco_history_figure(
    history: TcoHistory, *, business_case_monthly: Decimal | None, declared_monthly: Decimal
) -> dict[str, Any]:
    """Plotly figure (JSON-ready) of the monthly TCO stacked by category, actual parts solid and estimated parts
    lighter and hatched, with the business case's monthly TCO and the declared monthly cost as lines."""
    x = [f"{m.month:%Y-%m}" for m in history.months]
    currency, symbol = reporting_currency(), currency_symbol()
    data: list[dict[str, Any]] = []
    for category in history.categories:
        label, colour = CostCategory(category).label, CATEGORY_COLOURS.get(category, "#999999")
        for actual in (True, False):
            y = []
            for month in history.months:
                part = month.amount_of(category)
                y.append(float(part.amount) if part is not None and part.actual is actual else 0.0)
            if not any(y):
                continue
            kind = "actual" if actual else "estimated"
            marker: dict[str, Any] = {"color": colour}
            if not actual:
                marker |= {"opacity": 0.45, "pattern": {"shape": "/", "fgcolor": colour, "solidity": 0.3}}
            data.append({
                "type": "bar", "name": f"{label} ({kind})", "x": x, "y": y, "marker": marker,
                "legendgroup": category,
                "hovertemplate": f"{label}, {kind}: {symbol}%{{y:,.2f}}<extra>%{{x}}</extra>",
            })
    lines = [("Business case", business_case_monthly, "dash", "#1b1b1b"),
             ("Declared", declared_monthly, "dot", "#b3261e")]
    for name, amount, dash, colour in lines:
        if amount is None:
            continue
        data.append({
            "type": "scatter", "mode": "lines", "name": name, "x": x, "y": [float(amount)] * len(x),
            "line": {"dash": dash, "color": colour, "width": 2},
            "hovertemplate": f"{name}: {symbol}%{{y:,.2f}}/month<extra></extra>",
        })
    return {
        "data": data,
        "layout": {
            "barmode": "stack",
            "title": {"text": "Total cost of ownership per month"},
            "height": 340,
            "margin": {"l": 70, "r": 20, "t": 40, "b": 40},
            "yaxis": {"title": {"text": f"{currency} / month"}, "tickformat": ",.0f", "rangemode": "tozero"},
            "xaxis": {"type": "category"},
            "legend": {"orientation": "h", "y": -0.15},
            "paper_bgcolor": "rgba(0,0,0,0)",
            "plot_bgcolor": "rgba(0,0,0,0)",
        },
    }
# Licence pools named by stable keys ---------------------------------------------------------------------------------


class LicencePoolKeyError(ValueError):
    """A licence pool key that names no pool, or more than one; the message says which and how to fix it."""


def licence_pool_key(pool: LicencePool) -> str:
    """The stable key of a pool, as configuration names it: its initiative's external id, followed by /<tool> when
    that initiative has several pools. A pool without an initiative has none (its seats are charged to nothing)."""
    if pool.initiative is None:
        raise LicencePoolKeyError(f"licence pool {pool.tool} belongs to no initiative, so nothing can name it")
    external_id = pool.initiative.external_id
    if LicencePool.objects.filter(initiative=pool.initiative).count() == 1:
        return external_id
    return f"{external_id}/{pool.tool}"


def licence_pool_by_key(key: Any) -> LicencePool:
    """The licence pool a key names: `INV-0009` (the pool of initiative INV-0009, when it has one) or
    `INV-0009/<tool>` (that initiative's pool of that tool). Never a database id, which differs between
    installations and changes when data is reloaded."""
    example = "e.g. INV-0009, or INV-0009/<tool> when the initiative has several pools"
    if isinstance(key, bool) or isinstance(key, int) or (isinstance(key, str) and key.strip().isdigit()):
        raise LicencePoolKeyError(
            f"{key!r} looks like a database id: name the licence pool by its initiative's external id ({example})")
    if not isinstance(key, str) or not key.strip():
        raise LicencePoolKeyError(f"the licence pool is named by its initiative's external id ({example}), "
                                  f"not {key!r}")
    key = key.strip()
    initiative = Initiative.objects.filter(external_id=key).first()
    tool = None
    if initiative is None and "/" in key:
        external_id, tool = (part.strip() for part in key.split("/", 1))
        initiative = Initiative.objects.filter(external_id=external_id).first()
    if initiative is None:
        raise LicencePoolKeyError(f"no initiative {key.split('/', 1)[0].strip()!r} (licence pool key {key!r})")
    pools = list(LicencePool.objects.filter(initiative=initiative).order_by("tool", "pk"))
    tools = ", ".join(pool.tool for pool in pools)
    if tool is not None:
        named = [pool for pool in pools if pool.tool.casefold() == tool.casefold()]
        if not named:
            raise LicencePoolKeyError(f"initiative {initiative.external_id} has no licence pool named {tool!r} "
                                      f"(licence pool key {key!r}; its pools: {tools or 'none'})")
        if len(named) > 1:
            raise LicencePoolKeyError(f"initiative {initiative.external_id} has {len(named)} licence pools named "
                                      f"{tool!r}: rename one so that {key!r} names a single pool")
        return named[0]
    if not pools:
        raise LicencePoolKeyError(f"initiative {initiative.external_id} has no licence pool (licence pool key {key!r})")
    if len(pools) > 1:
        raise LicencePoolKeyError(
            f"{key!r} is ambiguous: initiative {initiative.external_id} has {len(pools)} licence pools ({tools}); "
            f"name one as {initiative.external_id}/<tool>, e.g. {initiative.external_id}/{pools[0].tool}")
    return pools[0]


# The tables whose rows are amounts in the reporting currency (or, for rates, relative to it), each asked "is there
# one?": value reports and business cases hang off initiatives, roll-ups and forecasts follow cost records.
def amounts_exist() -> bool:
    """Whether the database holds any amount: an initiative (its declared cost), a priced model, a licence pool, a
    cost record, a roll-up or a currency rate."""
    priced = AIModel.objects.filter(Q(input_price_per_mtok__isnull=False) | Q(output_price_per_mtok__isnull=False))
    return any(queryset.exists() for queryset in (
        Initiative.objects.all(), priced, LicencePool.objects.all(), CostRecord.objects.all(),
        MonthlyCost.objects.all(), CurrencyRate.objects.all()))


def amounts_currency_recorded() -> str | None:
    """The currency the database's amounts are in, as migrate recorded it (None before it has)."""
    return AmountsCurrency.objects.filter(pk=1).values_list("code", flat=True).first()


def amounts_currency_mismatch() -> tuple[str, str] | None:
    """(the amounts' currency, settings.REPORTING_CURRENCY) when they differ on a database that holds amounts: the
    amounts would be shown in the setting's currency without being converted. None when they agree, when nothing was
    recorded yet, or when there is no amount to mislabel."""
    recorded, setting = amounts_currency_recorded(), reporting_currency()
    if recorded is None or recorded == setting or not amounts_exist():
        return None
    return recorded, setting


def ended_on(initiative_ids: set[int] | None = None) -> dict[int, date]:
    """The day each ended initiative stopped running: the latest audit row that moved its stage from approved, pilot
    or production to the end it is in (its kill or retire transition, or an inventory import's change); one query.

    The TCO of the months it ran is history (reported on, compared with value): ending it stops only the estimates
    of the months after. One that never ran (rejected at intake, imported already ended) has no day here."""
    ended = Initiative.objects.filter(stage__in=ENDED_STAGES)
    if initiative_ids is not None:
        ended = ended.filter(pk__in=initiative_ids)
    stages = dict(ended.values_list("pk", "stage"))
    if not stages:
        return {}
    days: dict[int, date] = {}
    rows = LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Initiative), object_id__in=list(stages),
        changes__has_key="stage").order_by("timestamp").values_list("object_id", "timestamp", "changes")
    for pk, at, changes in rows:
        move = (changes or {}).get("stage")
        if isinstance(move, list) and len(move) == 2 and move[0] in ACTIVE_STAGES and move[1] == stages[pk]:
            days[int(pk)] = timezone.localdate(at)  # ordered by time: the latest wins
    return days
