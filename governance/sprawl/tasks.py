"""Celery tasks of governance: sprawl recomputation. Thin: each claims its run by id and calls one service."""

from __future__ import annotations

from governance.choices import SprawlRunTrigger
from governance.sprawl.services import runs as sprawl_services
from tollgate.jobs import job_task


@job_task()
def sprawl_recompute_task(run_id: int | None = None) -> str | None:
    """Recompute sprawl for a queued run ("recompute now", after an import). Idempotent under redelivery: a run
    that is finished or executing elsewhere is left alone; the recomputation itself writes nothing when nothing
    changed."""
    run = sprawl_services.sprawl_run_execute_by_id(run_id=run_id) if run_id is not None else None
    return run.status if run is not None else None


@job_task()
def sprawl_recompute_nightly() -> str | None:
    """Beat job (tollgate/celery.py): queue a recomputation unless one is already queued or running."""
    return str(sprawl_services.sprawl_run_submit(trigger=SprawlRunTrigger.SCHEDULE).pk)


@job_task()
def sprawl_runs_expire_stale() -> int:
    """Beat job: fail recomputations whose message or worker was lost, so the next one can be queued."""
    return sprawl_services.sprawl_runs_expire_stale()
