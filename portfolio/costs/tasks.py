"""Celery tasks of the cost domain: each loads its run by id and calls one service."""

from __future__ import annotations

from portfolio.costs.services import runs, schedules
from tollgate.jobs import final_attempt, job_task

INGESTION_MAX_RETRIES = 4


@job_task(max_retries=INGESTION_MAX_RETRIES)
def ingestion_run_execute_task(run_id: int) -> str | None:
    """Execute one ingestion run. Idempotent under redelivery: a finished run, or one a live worker executes, is
    left alone; one whose worker was lost is restarted. Only a transient connector error (network, 429, 5xx) is
    retried, with exponential backoff; malformed data never is."""
    run = runs.ingestion_run_execute_by_id(run_id=run_id, final_attempt=final_attempt())
    return run.status if run is not None else None


@job_task()
def ingestion_sources_run_due() -> int:
    """Beat job (tollgate/celery.py): queue a run for every source whose schedule is due; returns how many."""
    return len(schedules.ingestion_sources_run_due())


@job_task()
def ingestion_runs_expire_stale() -> int:
    """Beat job: fail ingestion runs whose message or worker was lost (their data was rolled back)."""
    return runs.ingestion_runs_expire_stale()
