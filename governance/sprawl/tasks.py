"""Celery tasks of governance: sprawl recomputation. Thin: each claims its run by id and calls one service."""

from __future__ import annotations

from celery import shared_task

from governance.choices import SprawlRunTrigger
from governance.sprawl.services import runs as sprawl_services


@shared_task(acks_late=True)
def sprawl_recompute_task(run_id: int | None = None) -> str | None:
    """Recompute sprawl for a queued run ("recompute now", after an import). Idempotent under redelivery: a run
    that is no longer pending is left alone; the recomputation itself writes nothing when nothing changed."""
    run = sprawl_services.sprawl_run_claim(run_id=run_id) if run_id is not None else None
    if run is None:
        return None
    return sprawl_services.sprawl_run_execute(run=run).status


@shared_task(acks_late=True)
def sprawl_recompute_nightly() -> str | None:
    """Beat job (tollgate/celery.py): queue a recomputation unless one is already queued or running."""
    return str(sprawl_services.sprawl_run_submit(trigger=SprawlRunTrigger.SCHEDULE).pk)


@shared_task
def sprawl_runs_expire_stale() -> int:
    """Beat job: fail recomputations whose worker was lost, so the next one can be queued."""
    return sprawl_services.sprawl_runs_expire_stale()
