"""Celery tasks of the cost domain: each loads its run by id and calls one service."""

from __future__ import annotations

from celery import shared_task

from portfolio.costs.connectors.base import ConnectorError
from portfolio.costs.services import runs, schedules

INGESTION_MAX_RETRIES = 4


@shared_task(bind=True, acks_late=True, max_retries=INGESTION_MAX_RETRIES)
def ingestion_run_execute_task(self, run_id: int) -> str | None:
    """Execute one ingestion run. Idempotent under redelivery: a run that is not pending is left alone. Only a
    transient connector error (network, 429, 5xx) is retried, with exponential backoff; malformed data never is."""
    run = runs.ingestion_run_claim(run_id=run_id)
    if run is None:
        return None
    try:
        return runs.ingestion_run_execute(run=run, final_attempt=self.request.retries >= self.max_retries).status
    except ConnectorError as exc:  # the service lets only transient errors out, with the run back to pending
        raise self.retry(exc=exc, countdown=30 * 2**self.request.retries) from exc


@shared_task
def ingestion_sources_run_due() -> int:
    """Beat job (tollgate/celery.py): queue a run for every source whose schedule is due; returns how many."""
    return len(schedules.ingestion_sources_run_due())


@shared_task
def ingestion_runs_expire_stale() -> int:
    """Beat job: fail ingestion runs whose worker was lost mid-run (their data was rolled back)."""
    return runs.ingestion_runs_expire_stale()
