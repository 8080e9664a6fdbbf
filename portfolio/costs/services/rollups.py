"""Monthly roll-ups (cost, tokens, seat activity): rebuilt from the records of all sources for the months a run
touched, in the run's transaction. Pages and signals read these, never the raw rows.

Runs of different sources for the same month execute at once, so each month's rebuild holds that month's lock until
its transaction ends: the second waits, then totals what the first committed plus its own records. A write that
touches many pools at once (an import) defers the rebuilds with `rollups_deferred()` and rebuilds each month once.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import DataError, OperationalError, transaction
from django.db.models import Case, Count, FloatField, Q, Sum, When
from django.db.models.functions import Cast, Lower
from django.utils import timezone

from portfolio import calculations
from portfolio.choices import CostCategory
from portfolio.costs.calculations import active_window, cents
from portfolio.costs.connectors.base import AMOUNT_LIMIT as MONEY_LIMIT
from portfolio.costs.connectors.base import COUNT_LIMIT, Period
from portfolio.costs.services.tco import tco_recompute
from portfolio.models import (
    CostRecord,
    GpuCostBasis,
    Initiative,
    LicencePoolActivity,
    LicencePoolTerms,
    MonthlyCost,
    MonthlyGpuUsage,
    MonthlyTokenUsage,
    SeatActivity,
    UsageRecord,
    reporting_currency,
)
from tollgate.jobs import transaction_lock

logger = logging.getLogger(__name__)

_deferred: ContextVar[set[date] | None] = ContextVar("rollups_deferred", default=None)


@dataclass(frozen=True)
class PoolTerms:
    """The terms a pool is charged with in a month: the row in effect then (see _pool_terms_in)."""

    pool_id: int
    initiative_id: int | None
    seats_purchased: int
    price_per_seat_month: Decimal


def _pool_terms_in(month: date) -> dict[int, PoolTerms]:
    """Each pool the roll-up of `month` counts, with the terms in effect that month (its latest row from `month` or
    before), in one query whatever the number of pools. A pool counts from the month of its first terms row, and in
    any month with its seat data (before its first row, on the first row's terms)."""
    with_activity = SeatActivity.objects.filter(period=month).values("licence_pool_id")
    rows = LicencePoolTerms.objects.filter(
        Q(pool_id__in=LicencePoolTerms.objects.filter(effective_from__lte=month).values("pool_id"))
        | Q(pool_id__in=with_activity)
    ).order_by("pool_id", "effective_from").values_list(
        "pool_id", "effective_from", "initiative_id", "seats_purchased", "price_per_seat_month"
    )
    terms: dict[int, PoolTerms] = {}
    for pool_id, effective_from, initiative_id, seats, price in rows:
        if pool_id not in terms or effective_from <= month:  # the first row, then each later one still in effect
            terms[pool_id] = PoolTerms(pool_id, initiative_id, seats, price)
    return terms


@contextmanager
def rollups_deferred() -> Iterator[None]:
    """Collect the months that rollups_recompute is asked for inside, and rebuild each once at the end (inside the
    caller's transaction, so the roll-ups commit with the writes)."""
    if _deferred.get() is not None:  # already deferred by an outer caller: it rebuilds
        yield
        return
    pending: set[date] = set()
    token = _deferred.set(pending)
    try:
        yield
    finally:
        _deferred.reset(token)
    if pending:
        rollups_recompute(months=pending)


@transaction.atomic
def rollups_recompute(*, months: Iterable[date]) -> None:
    """Rebuild the monthly roll-ups (cost, tokens, seat activity) of `months` from the records of all sources."""
    firsts = sorted({month.replace(day=1) for month in months})
    pending = _deferred.get()
    if pending is not None:
        pending.update(firsts)
        return
    for month in firsts:  # in order, so two writers of overlapping months never wait on each other in a cycle
        transaction_lock(f"rollups:{month:%Y-%m}")
    today = timezone.now().date()
    for month in firsts:
        period = Period.month(month.year, month.month)
        terms = _pool_terms_in(period.start)  # read once: the licence costs and the seats purchased both need them
        _rollup_costs(period, terms)
        _rollup_tokens(period)
        _rollup_gpu(period)
        _rollup_pool_activity(period, today, terms)
    tco_recompute(months=firsts)


def _rollup_costs(period: Period, pool_terms: Mapping[int, PoolTerms]) -> None:
    """The month's cost per initiative and category: its cost records', and its licence pools' seats at the terms
    in effect (`pool_terms`, _pool_terms_in of the month)."""
    totals: dict[tuple[int | None, str], Decimal] = defaultdict(Decimal)
    rows = CostRecord.objects.filter(period=period.start).values("initiative_id", "category").annotate(
        total=Sum("amount_reporting")
    )
    for row in rows:
        totals[(row["initiative_id"], row["category"])] += row["total"] or Decimal("0")
    for terms in pool_terms.values():
        if terms.initiative_id is None:  # a pool serving no initiative is nobody's licence cost
            continue
        totals[(terms.initiative_id, CostCategory.LICENCES)] += calculations.licence_pool_monthly_cost(
            terms.seats_purchased, terms.price_per_seat_month
        )
    _check_totals(period, totals)
    MonthlyCost.objects.filter(month=period.start).delete()
    MonthlyCost.objects.bulk_create(
        MonthlyCost(initiative_id=initiative_id, month=period.start, category=category, amount=cents(amount))
        for (initiative_id, category), amount in totals.items()
    )


def _check_totals(period: Period, totals: Mapping[tuple[int | None, str], Decimal]) -> None:
    """Refuse (ValidationError naming it) a monthly total beyond what its money column holds: stored, it could never
    be read back (SQLite keeps it regardless; PostgreSQL would fail with an unexpected error)."""
    for (initiative_id, category), amount in totals.items():
        if abs(amount) > MONEY_LIMIT:
            who = (Initiative.objects.filter(pk=initiative_id).values_list("external_id", flat=True).first()
                   if initiative_id is not None else None) or "unallocated spend"
            raise ValidationError(
                f"The {period.label} {category} cost of {who} would total {amount:,.2f} {reporting_currency()}, more "
                f"than a monthly total holds ({MONEY_LIMIT:,}); nothing was changed."
            )


TOKEN_SUMS = {"input": "input_tokens", "output": "output_tokens", "cached": "cached_tokens", "calls": "requests"}


def _rollup_tokens(period: Period) -> None:
    rows = _token_totals(period)
    MonthlyTokenUsage.objects.filter(month=period.start).delete()
    MonthlyTokenUsage.objects.bulk_create(
        MonthlyTokenUsage(
            initiative_id=row["initiative_id"], month=period.start, model=row["model"], input_tokens=row["input"] or 0,
            output_tokens=row["output"] or 0, cached_tokens=row["cached"] or 0, requests=row["calls"] or 0,
        )
        for row in rows
    )


def _token_totals(period: Period) -> list[dict[str, Any]]:
    """The month's token counts per initiative and model, each checked against what a count holds (2^63 - 1).

    Counts each within the limit can add up beyond it: SQLite's SUM then fails with "integer overflow" and
    PostgreSQL's total could not be stored, an unexpected error either way. Summed again as floating point, which
    cannot overflow, the first such total is named instead (_check_totals does the same for money)."""
    records = UsageRecord.objects.filter(period=period.start).values("initiative_id", "model")
    try:
        with transaction.atomic():  # a savepoint: the failed SUM must not spoil the run's transaction
            rows = list(records.annotate(**{name: Sum(field) for name, field in TOKEN_SUMS.items()}))
    except (OperationalError, DataError):
        rows = list(records.annotate(**{name: Sum(Cast(field, FloatField())) for name, field in TOKEN_SUMS.items()}))
    for row in rows:
        for name, field in TOKEN_SUMS.items():
            if (row[name] or 0) > COUNT_LIMIT:
                who = (Initiative.objects.filter(pk=row["initiative_id"]).values_list("external_id", flat=True)
                       .first() if row["initiative_id"] is not None else None) or "unallocated usage"
                raise ValidationError(
                    f"The {period.label} {field.replace('_', ' ')} of {who} on {row['model'] or 'no model'} would "
                    f"total {row[name]:,.0f}, more than a count holds ({COUNT_LIMIT:,}); nothing was changed."
                )
    return rows


def _rollup_gpu(period: Period) -> None:
    """GPU-hours per initiative of the month, and what they cost (their effective price per GPU-hour): each record's
    GPU cost where its source gives it apart (OpenCost's gpuCost, leaving out the allocation's CPU and memory), else
    its whole cost (a plain CSV GPU line); `cost_basis` says which of the two the month's records gave. A credit or
    refund (negative amount) lowers the cost by its whole amount but adds no hours: its hours name what it refunds,
    which its charge already counted (its GPU cost, never negative, would raise the cost instead). Records without
    hours (CPU-only namespaces, credits without hours) stay out."""
    charge = Q(amount_reporting__gte=0)
    separated = charge & Q(gpu_cost_reporting__isnull=False)
    rows = CostRecord.objects.filter(period=period.start, gpu_hours__gt=0).order_by().values(
        "initiative_id").annotate(hours=Sum("gpu_hours", filter=charge),
                                  cost=Sum(Case(When(separated, then="gpu_cost_reporting"),
                                                default="amount_reporting")),
                                  records=Count("pk"), separated=Count("pk", filter=separated))
    MonthlyGpuUsage.objects.filter(month=period.start).delete()
    MonthlyGpuUsage.objects.bulk_create(
        MonthlyGpuUsage(initiative_id=row["initiative_id"], month=period.start, gpu_hours=row["hours"] or 0,
                        cost=cents(row["cost"] or Decimal("0")),
                        cost_basis=GpuCostBasis.of(records=row["records"], separated=row["separated"]))
        for row in rows
    )


def _rollup_pool_activity(period: Period, today: date, terms: Mapping[int, PoolTerms]) -> None:
    """Seats assigned and active per licence pool: distinct holders, so a user two sources of the pool both report
    (a second report of the same tenant, a source replacing another) is one seat. Logins and user principal names
    are case-insensitive, as the connectors already treat them within one report. Seats purchased are those of the
    terms in effect that month (`terms`, _pool_terms_in of the month, read once for both roll-ups)."""
    start, end = active_window(period.start, period.end, today)
    holder = Lower("user")
    rows = SeatActivity.objects.filter(period=period.start, licence_pool__isnull=False).values(
        "licence_pool_id", "licence_pool__seats_purchased"
    ).annotate(
        assigned_count=Count(holder, distinct=True, filter=Q(assigned=True)),
        active_count=Count(holder, distinct=True,
                           filter=Q(assigned=True, last_activity__gte=start, last_activity__lt=end)),
    )
    LicencePoolActivity.objects.filter(month=period.start).delete()
    LicencePoolActivity.objects.bulk_create(
        LicencePoolActivity(
            licence_pool_id=row["licence_pool_id"], month=period.start,
            purchased=terms[row["licence_pool_id"]].seats_purchased if row["licence_pool_id"] in terms
            else row["licence_pool__seats_purchased"],
            assigned=row["assigned_count"], active_30d=row["active_count"],
        )
        for row in rows
    )


