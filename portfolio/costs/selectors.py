"""Reads of cost and usage: from the monthly roll-ups, never the raw records (except where a page lists them)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypedDict

from django.db.models import Count, DecimalField, Exists, IntegerField, Max, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from portfolio.choices import CostCategory, RunStatus
from portfolio.costs.calculations import cents
from portfolio.costs.connectors.base import Period
from portfolio.models import (
    CostRecord,
    CostSource,
    CurrencyRate,
    IngestionRun,
    InitiativeMonthlyTco,
    MonthlyCost,
    reporting_currency,
)

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


def ingestion_runs_recent(*, source: CostSource | None = None, limit: int = 50) -> QuerySet:
    runs = IngestionRun.objects.select_related("source", "actor")
    if source is not None:
        runs = runs.filter(source=source)
    return runs.order_by("-created_at", "-id")[:limit]


MONEY_FIELD: DecimalField[Decimal, Decimal] = DecimalField(max_digits=20, decimal_places=6)


def _this_and_last_month(today: date) -> tuple[Period, Period]:
    this = Period.month(today.year, today.month)
    last = this.start - timedelta(days=1)
    return this, Period.month(last.year, last.month)


def spend_headline(*, today: date) -> dict[str, Any]:
    """Total AI spend of a month and the one before, its unallocated spend and the share allocated (roll-ups only).

    The month is the current one, or when nothing is read for it yet (monthly exports arrive after the month ends),
    the latest month before it that has costs; `is_current` says which.
    """
    this, last = _this_and_last_month(today)
    latest = MonthlyCost.objects.filter(month__lte=this.start).aggregate(latest=Max("month"))["latest"]
    if latest is not None and latest < this.start:
        this, last = _this_and_last_month(latest)
    totals = dict(
        MonthlyCost.objects.filter(month__in=[this.start, last.start]).order_by().values("month")
        .annotate(total=Sum("amount")).values_list("month", "total")
    )
    total = totals.get(this.start) or Decimal("0")
    unallocated = unallocated_spend(month=this.start)
    share = None if not total else (total - unallocated) / total * 100
    return {
        "currency": reporting_currency(),
        "this_month": this,
        "is_current": this.contains(today),
        "last_month": last,
        "total_this_month": total,
        "total_last_month": totals.get(last.start) or Decimal("0"),
        "unallocated": unallocated,
        "share_allocated": share,
    }


class SourceHealth(TypedDict):
    last_run_id: int | None
    last_run_status: str | None
    last_run_rows: int | None
    unallocated: Decimal
    reads_files: bool  # not annotated here: the health page sets it per source


def sources_with_last_run(*, month: date) -> QuerySet[WithAnnotations[CostSource, SourceHealth]]:
    """cost_sources_health plus the last run (id, status, rows) and this month's unallocated spend."""
    last_run = IngestionRun.objects.filter(source=OuterRef("pk")).order_by("-created_at", "-id")
    unallocated = (
        CostRecord.objects.filter(source=OuterRef("pk"), period=month, initiative__isnull=True)
        .values("source").annotate(total=Sum("amount_reporting")).values("total")
    )
    return cost_sources_health().annotate(
        last_run_id=Subquery(last_run.values("pk")[:1]),
        last_run_status=Subquery(last_run.values("status")[:1]),
        last_run_rows=Subquery(last_run.values("rows_written")[:1], output_field=IntegerField()),
        unallocated=Coalesce(Subquery(unallocated, output_field=MONEY_FIELD), Value(Decimal("0")),
                             output_field=MONEY_FIELD),
    )


def currency_rates() -> QuerySet[CurrencyRate]:
    """Rates with `valid_until`: the first day of the currency's next rate (None while a rate is the latest)."""
    following = CurrencyRate.objects.filter(currency=OuterRef("currency"), valid_from__gt=OuterRef("valid_from"))
    return CurrencyRate.objects.annotate(
        valid_until=Subquery(following.order_by("valid_from").values("valid_from")[:1])
    ).order_by("currency", "-valid_from")


# Total cost of ownership (InitiativeMonthlyTco) ----------------------------------------------------------------------


def last_complete_month(*, today: date | None = None) -> date | None:
    """The latest month before the current one with allocated cost in the roll-ups (the current month is partial)."""
    today = today or timezone.localdate()
    return MonthlyCost.objects.filter(
        month__lt=today.replace(day=1), initiative__isnull=False
    ).aggregate(latest=Max("month"))["latest"]


def quarter_of(month: date) -> tuple[str, date, date]:
    """("2026-Q3", first month, last month) of the quarter containing `month`."""
    quarter = (month.month - 1) // 3 + 1
    return f"{month.year}-Q{quarter}", date(month.year, 3 * quarter - 2, 1), date(month.year, 3 * quarter, 1)


def last_complete_quarter(*, today: date | None = None) -> tuple[str, date, date] | None:
    """The latest quarter whose three months have ended and that has cost data; None without cost data."""
    today = today or timezone.localdate()
    latest = last_complete_month(today=today)
    if latest is None:
        return None
    name, first, last = quarter_of(latest)
    if last != latest:  # the latest month with data is not a quarter's last: take the quarter before
        name, first, last = quarter_of(first - timedelta(days=1))
    return name, first, last


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
    *, initiative_ids: Iterable[int] | None = None, start: date, end: date
) -> dict[int, PeriodTco]:
    """TCO of each initiative over the months from `start` to `end` (both included), in one query."""
    rows = InitiativeMonthlyTco.objects.filter(month__gte=start.replace(day=1), month__lte=end.replace(day=1))
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


def tco_period_annotations(*, initiative: str, start: str, end: str) -> dict[str, Any]:
    """Annotations for rows that point at an initiative and a period (e.g. a value report and its cycle's dates):
    `tco_total`, `tco_estimated` and `tco_has_records`, so a list of such rows costs one query."""
    rows = InitiativeMonthlyTco.objects.filter(
        initiative_id=OuterRef(initiative), month__gte=OuterRef(start), month__lte=OuterRef(end)
    ).order_by().values("initiative_id")

    def total(of: QuerySet) -> Subquery:
        return Subquery(of.annotate(total=Sum("amount")).values("total"), output_field=MONEY_FIELD)

    return {
        "tco_total": total(rows),
        "tco_estimated": total(rows.filter(actual=False)),
        "tco_has_records": Exists(rows.filter(RUN_COST_RECORDED)),
    }
