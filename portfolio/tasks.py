"""Celery tasks of the portfolio app: each loads its rows by id and calls one service."""

from __future__ import annotations

from celery import shared_task

from portfolio.services.inventory_import import import_run_claim, inventory_import_run
from portfolio.services.inventory_import import import_runs_expire_stale as _expire_stale


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
