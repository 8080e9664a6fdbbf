"""Celery tasks of governance: sprawl recomputation and label checks. Thin: each claims its run by id and calls
one service."""

from __future__ import annotations

from governance.choices import SprawlRunTrigger
from governance.sprawl.services import label_checks
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
    """Beat job: fail recomputations (and label checks) whose message or worker was lost, so the next one can be
    queued and no page waits for them."""
    return sprawl_services.sprawl_runs_expire_stale() + label_checks.sprawl_label_checks_expire_stale()


@job_task()
def sprawl_label_check_task(run_id: int | None = None) -> str | None:
    """Measure the detector against an uploaded labels file. Idempotent under redelivery: a finished check, or one
    executing elsewhere, is left alone; the measurement writes nothing but the check's own result."""
    run = label_checks.sprawl_label_check_execute_by_id(run_id=run_id) if run_id is not None else None
    return run.status if run is not None else None
