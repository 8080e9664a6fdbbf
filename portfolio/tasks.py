"""Celery tasks of the portfolio app: each loads its rows by id and calls one service."""

from __future__ import annotations

from portfolio.services.inventory_import import import_run_execute_by_id
from portfolio.services.inventory_import import import_runs_expire_stale as _expire_stale
from portfolio.services.tokens import api_tokens_expired_remove as _tokens_expired_remove
from tollgate.jobs import job_task


@job_task()
def import_run_execute(run_id: int) -> str | None:
    """Process one import run. Idempotent: a run that is done, or taken by a live redelivered copy of this task, is
    left alone, so acks_late redelivery never imports a file twice."""
    run = import_run_execute_by_id(run_id=run_id)
    return run.status if run is not None else None


@job_task()
def import_runs_expire_stale() -> int:
    """Beat job (tollgate/celery.py): fail runs whose message or worker was lost; returns how many."""
    return _expire_stale()


@job_task()
def api_tokens_expired_remove() -> int:
    """Beat job (tollgate/celery.py, daily): remove the API tokens whose lifetime has ended, each in the audit trail;
    returns how many. Idempotent."""
    return _tokens_expired_remove()
