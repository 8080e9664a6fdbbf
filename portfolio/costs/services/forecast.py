"""Storing the spend forecast: computed after every successful ingestion run, nightly and by `forecast`, read by
pages from the stored snapshot (fitting models on a page view would not scale to a large company).

The yearly unit-price decline of the Jevons scenario is the governance policy forecast.price_decline_pct; portfolio
reads no policy, so callers in governance pass it in (governance.services.cost_forecast_refresh).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from auditlog.models import LogEntry
from django.db import transaction
from django.utils import timezone

from portfolio.costs.forecast import DEFAULT_MONTHS, ForecastResult, forecast_build
from portfolio.dashboard.providers import data_changed
from portfolio.models import CostForecast, InitiativeForecast
from tollgate.audit import audit_event
from tollgate.jobs import transaction_lock
from tollgate.types import Actor

BATCH_SIZE = 2000
LOCK = "cost-forecast"


def forecast_compute(
    *, price_decline_pct: Decimal, months: int = DEFAULT_MONTHS, actor: Actor | None = None,
    today: date | None = None,
) -> CostForecast | None:
    """Compute the forecast of the next `months` months and store it as the snapshot of its month (the latest
    complete month, as the cost headline reads: forecast_input), replacing the one stored for that month; None when
    there is no cost data or no month is complete yet, and then no snapshot is kept (one would be as of a month that
    is not complete).

    Idempotent: the same data, horizon and decline give the same result, and then nothing is written (not even the
    time it was generated). Snapshots of later months, whose data no longer exists, are removed. Each change is one
    audit row."""
    if months < 1:
        raise ValueError("A forecast needs at least one month ahead.")
    with transaction.atomic():
        # Built under the lock: two recomputations after two runs must not store the older data's forecast last.
        transaction_lock(LOCK)
        result = forecast_build(price_decline_pct=price_decline_pct, months=months,
                                today=today or timezone.localdate())
        if result is None:
            CostForecast.objects.all().delete()
            return None
        CostForecast.objects.filter(as_of__gt=result.as_of).delete()
        digest = result.digest
        stored = CostForecast.objects.filter(as_of=result.as_of).first()
        if stored is not None and stored.digest == digest:
            return stored
        return _store(result, digest=digest, stored=stored, actor=actor)


def _store(result: ForecastResult, *, digest: str, stored: CostForecast | None, actor: Actor | None) -> CostForecast:
    forecast = stored or CostForecast(as_of=result.as_of)
    forecast.generated_at = timezone.now()
    forecast.currency = result.payload["currency"]
    forecast.months = result.months
    forecast.price_decline_pct = result.price_decline_pct
    mape = result.backtest_mape
    forecast.backtest_mape = None if mape is None else Decimal(str(mape))
    forecast.digest = digest
    forecast.payload = result.payload
    forecast.save()
    if stored is not None:
        forecast.initiative_forecasts.all().delete()
    InitiativeForecast.objects.bulk_create(
        (InitiativeForecast(
            forecast=forecast, initiative_id=line.initiative_id, method=line.method, amounts=line.amounts,
            lower=line.lower, upper=line.upper, jevons=line.jevons, last_month=line.last_month,
            next_quarter=line.next_quarter, next_year=line.next_year, next_year_jevons=line.next_year_jevons,
            backtest_mape=None if line.backtest_mape is None else Decimal(str(line.backtest_mape)),
        ) for line in result.lines),
        batch_size=BATCH_SIZE,
    )
    audit_event(
        forecast, actor=actor, event="cost_forecast_computed",
        action=LogEntry.Action.UPDATE if stored is not None else LogEntry.Action.CREATE,
        as_of=forecast.as_of.isoformat(), months=result.months, price_decline_pct=str(result.price_decline_pct),
        backtest_mape=mape, initiatives=len(result.lines), total_next_months=str(sum(
            (Decimal(str(v)) for v in result.payload["total"]), Decimal("0"))),
    )
    data_changed()
    return forecast
