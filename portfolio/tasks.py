"""Celery tasks of the portfolio app: each loads its rows by id and calls one service."""

from __future__ import annotations

from celery import shared_task

from .connectors.base import ConnectorError
from .services import ingestion
from .services.inventory_import import import_run_claim, inventory_import_run
from .services.inventory_import import import_runs_expire_stale as _expire_stale


@shared_task(acks_late=True)
def import_run_execute(run_id: int) -> str | None:
    """Process one import run. Idempotent: a run that is no longer pending (done, or taken by a redelivered copy of
    this task) is left alone, so acks_late redelivery never imports a file twice."""
    run = import_run_claim(run_id=run_id)
    if run is None:
        return None
    return inventory_import_run(run=run).status


@shared_task
def import_runs_expire_stale() -> int:
    """Beat job (tollgate/celery.py): fail runs stuck in 'running' for over an hour; returns how many."""
    return _expire_stale()


# Cost and usage ingestion (issue 5) ----------------------------------------------------------------------------------

INGESTION_MAX_RETRIES = 4


@shared_task(bind=True, acks_late=True, max_retries=INGESTION_MAX_RETRIES)
def ingestion_run_execute_task(self, run_id: int) -> str | None:
    """Execute one ingestion run. Idempotent under redelivery: a run that is not pending is left alone. Only a
    transient connector error (network, 429, 5xx) is retried, with exponential backoff; malformed data never is."""
    run = ingestion.ingestion_run_claim(run_id=run_id)
    if run is None:
        return None
    try:
        return ingestion.ingestion_run_execute(run=run, final_attempt=self.request.retries >= self.max_retries).status
    except ConnectorError as exc:  # the service lets only transient errors out, with the run back to pending
        raise self.retry(exc=exc, countdown=30 * 2**self.request.retries) from exc


@shared_task
def ingestion_sources_run_due() -> int:
    """Beat job (tollgate/celery.py): queue a run for every source whose schedule is due; returns how many."""
    return len(ingestion.ingestion_sources_run_due())


@shared_task
def ingestion_runs_expire_stale() -> int:
    """Beat job: fail ingestion runs whose worker was lost mid-run (their data was rolled back)."""
    return ingestion.ingestion_runs_expire_stale()
