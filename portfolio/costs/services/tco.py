"""Rebuild InitiativeMonthlyTco, the monthly total cost of ownership of every initiative, from its inputs.

Called after the cost roll-ups of a month change (rollups_recompute), when a business case, an initiative's stage or
start date changes, and when a value report with oversight hours is submitted or reopened. A rebuild is idempotent:
the same inputs give the same rows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date
from decimal import Decimal

from django.db import transaction
from django.db.models import Max, Min, Q

from portfolio import evidence
from portfolio.choices import ACTIVE_STAGES
from portfolio.costs.calculations import CaseEstimate, month_range, month_tco
from portfolio.costs.connectors.base import Period
from portfolio.costs.selectors import ended_on
from portfolio.dashboard.providers import data_changed
from portfolio.models import BusinessCase, Initiative, InitiativeMonthlyTco, MonthlyCost


def tco_months() -> list[date]:
    """Every month from the first to the last with cost roll-ups: the span the TCO covers."""
    bounds = MonthlyCost.objects.aggregate(first=Min("month"), last=Max("month"))
    return [] if bounds["first"] is None else month_range(bounds["first"], bounds["last"])


def _case_estimates(initiative_ids: set[int]) -> dict[int, CaseEstimate]:
    estimates: dict[int, CaseEstimate] = {}
    declared = dict(Initiative.objects.filter(pk__in=initiative_ids).values_list("pk", "declared_monthly_cost"))
    for case in BusinessCase.objects.filter(initiative_id__in=initiative_ids):
        estimates[case.initiative_id] = CaseEstimate(
            inference=case.tco_inference, compute=case.tco_compute, storage=case.tco_storage,
            licences=case.tco_licences, oversight_hours=case.oversight_hours_per_month,
            loaded_hourly_rate=case.loaded_hourly_rate, maintenance=case.tco_maintenance,
        )
    for pk, amount in declared.items():
        estimates.setdefault(pk, CaseEstimate(declared=amount, has_case=False))
    return estimates


# Inside tco_recompute_deferred: whether a rebuild was asked for (None outside).
_deferred: ContextVar[list[bool] | None] = ContextVar("tco_recompute_deferred", default=None)


@contextmanager
def tco_recompute_deferred() -> Iterator[None]:
    """Within, tco_recompute only notes that a rebuild is due; one rebuild of every month and initiative follows at the
    end (not after an error). For a bulk write whose steps read no TCO: the demo's year of cost runs would otherwise
    rebuild the whole portfolio's month after each of its 70 runs, and each step of its history after each write."""
    if _deferred.get() is not None:  # nested: the outermost one rebuilds
        yield
        return
    asked = [False]
    token = _deferred.set(asked)
    try:
        yield
    finally:
        _deferred.reset(token)
    if asked[0]:
        tco_recompute()


def _in_life(month: date, start: date | None, end: date | None) -> bool:
    """Whether `month` (its first day) is in an initiative's life: started by the month's end (or no start date), and
    not ended before the month began (`end`, ended_on's day; None while it runs or when it never ran)."""
    return (start is None or start < Period.month(month.year, month.month).end) and (end is None or month <= end)


@transaction.atomic
def tco_recompute(*, months: Iterable[date] | None = None, initiative_ids: Iterable[int] | None = None) -> int:
    """Rebuild the TCO rows of `months` (default: every month with cost data) for `initiative_ids` (default: all).

    An initiative has rows in a month when it has cost records in it, or when it is running (approved, pilot or
    production), or ran until it was killed or retired in or after that month (ended_on), and started by the month's
    end: its costs are then estimated from the business case. Returns the
    number of rows written (0 inside tco_recompute_deferred, which rebuilds at its end)."""
    asked = _deferred.get()
    if asked is not None:
        asked[0] = True
        return 0
    span = set(tco_months())
    wanted = sorted({m.replace(day=1) for m in months} & span) if months is not None else sorted(span)
    ids = None if initiative_ids is None else set(initiative_ids)
    stale = InitiativeMonthlyTco.objects.all()
    if ids is not None:
        stale = stale.filter(initiative_id__in=ids)
    if months is not None:
        stale = stale.filter(month__in={m.replace(day=1) for m in months})
    stale.delete()
    if not wanted or ids == set():
        return 0

    rolled: dict[tuple[int, date], dict[str, Decimal]] = defaultdict(dict)
    costs = MonthlyCost.objects.filter(month__in=wanted, initiative__isnull=False)
    if ids is not None:
        costs = costs.filter(initiative_id__in=ids)
    for initiative_id, month, category, amount in costs.values_list("initiative_id", "month", "category", "amount"):
        rolled[(initiative_id, month)][category] = amount

    ended = ended_on(ids)
    running = Initiative.objects.filter(Q(stage__in=ACTIVE_STAGES) | Q(pk__in=list(ended)))
    if ids is not None:
        running = running.filter(pk__in=ids)
    last_end = Period.month(wanted[-1].year, wanted[-1].month).end
    started = list(running.filter(Q(start_date__isnull=True) | Q(start_date__lt=last_end))
                   .values_list("pk", "start_date"))
    keys = set(rolled)
    for pk, start in started:
        for month in wanted:
            if _in_life(month, start, ended.get(pk)):
                keys.add((pk, month))

    involved = {pk for pk, _ in keys}
    # A month outside the initiative's life (a record before its start date, a trailing invoice after its end) is
    # costed for that record alone: the case's estimates (oversight, maintenance, run costs) are of the months it runs.
    starts = dict(Initiative.objects.filter(pk__in=involved).values_list("pk", "start_date"))
    estimates = _case_estimates(involved)
    hours = evidence.reported_oversight(initiative_ids=involved, months=wanted)
    rows = [
        InitiativeMonthlyTco(initiative_id=pk, month=month, category=part.category, amount=part.amount,
                             actual=part.actual)
        for pk, month in sorted(keys)
        for part in month_tco(rolled_up=rolled.get((pk, month), {}), reported_oversight_hours=hours.get((pk, month)),
                              case=estimates.get(pk), estimate=_in_life(month, starts.get(pk), ended.get(pk)))
    ]
    InitiativeMonthlyTco.objects.bulk_create(rows, batch_size=5000)
    data_changed()
    return len(rows)
