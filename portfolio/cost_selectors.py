"""Reads of cost and usage: from the monthly roll-ups, never the raw records (except where a page lists them)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Max, Q, QuerySet, Sum

from .choices import RunStatus
from .connectors.base import Period
from .cost_calculations import cents
from .models import CostSource, IngestionRun, MonthlyCost, reporting_currency


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
