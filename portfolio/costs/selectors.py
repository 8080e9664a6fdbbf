"""Reads of cost and usage: from the monthly roll-ups, never the raw records (except where a page lists them)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypedDict

from django.db.models import DecimalField, IntegerField, Max, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from portfolio.choices import RunStatus
from portfolio.costs.calculations import cents
from portfolio.costs.connectors.base import Period
from portfolio.models import (
    CostRecord,
    CostSource,
    CurrencyRate,
    IngestionRun,
    Initiative,
    LicencePool,
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
