"""Celery tasks of the cost domain: each loads its run by id and calls one service."""

from __future__ import annotations

import resource

from portfolio.costs.services import parts, runs, schedules
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
def ingestion_run_part_task(run_id: int, number: int) -> dict[str, object] | None:
    """Read one file of a month read in parts into the run's staging table. Idempotent: a redelivered part replaces
    its own staged rows. Never raises for bad data: the failure is recorded on the run (the merge then cleans up).
    Returns what the part did, with the worker's peak memory (for the scale-out benchmark)."""
    part = parts.ingestion_run_part_execute(run_id=run_id, number=number)
    if part is None:
        return None
    return {"number": part.number, "worker": part.worker, "rows_written": part.rows_written,
            "error": part.error, "max_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}


@job_task()
def ingestion_run_merge_task(run_id: int) -> str | None:
    """After the last part (a chord's callback): swap the month in, in one transaction, or clean up a failed run."""
    run = parts.ingestion_run_merge(run_id=run_id)
    return run.status if run is not None else None


@job_task()
def ingestion_sources_run_due() -> int:
    """Beat job (tollgate/celery.py): queue a run for every source whose schedule is due; returns how many."""
    return len(schedules.ingestion_sources_run_due())


@job_task()
def ingestion_runs_expire_stale() -> int:
    """Beat job: fail ingestion runs whose message or worker was lost (their data was rolled back)."""
    return runs.ingestion_runs_expire_stale()
