"""Celery tasks of governance's own domain (sprawl's are in governance/sprawl/tasks.py); each calls one service."""

from __future__ import annotations

from governance import services
from tollgate.jobs import job_task


@job_task()
def cost_forecast_refresh_task() -> str | None:
    """Recompute the stored spend forecast: after ingestion runs, a change of the price-decline policy, and nightly
    (tollgate/celery.py). Idempotent: on unchanged data it writes nothing. Returns the month it is as of."""
    forecast = services.cost_forecast_refresh()
    return None if forecast is None else f"{forecast.as_of:%Y-%m}"


@job_task()
def api_tokens_expiring_notify_task() -> int:
    """Daily (tollgate/celery.py): tell people about their named API tokens that expire within a week, once per
    token. Returns how many tokens were reported."""
    return services.api_tokens_expiring_notify()


@job_task()
def stale_sources_notify_task() -> int:
    """Nightly (tollgate/celery.py): tell administrators about cost sources behind their schedule, once per source
    and month owed. Returns how many sources were reported."""
    return services.stale_sources_notify()
