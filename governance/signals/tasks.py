"""Celery tasks of the signals. Thin: each claims its run by id and calls one service."""

from __future__ import annotations

from governance.choices import SignalRunTrigger
from governance.signals import services
from tollgate.jobs import job_task


@job_task()
def signal_compute_task(run_id: int | None = None) -> str | None:
    """Compute the signals for a queued run (recompute now, after an ingestion or a value report). Idempotent under
    redelivery: a run that is finished or executing elsewhere is left alone, and the computation writes nothing when
    nothing changed."""
    run = services.signal_run_execute_by_id(run_id=run_id) if run_id is not None else None
    return run.status if run is not None else None


@job_task()
def signals_compute_nightly() -> str:
    """Beat job (tollgate/celery.py): queue the nightly computation unless one is already waiting."""
    return str(services.signal_run_submit(trigger=SignalRunTrigger.SCHEDULE).pk)


@job_task()
def signal_runs_expire_stale() -> int:
    """Beat job: fail computations whose message or worker was lost, so the next one can be queued."""
    return services.signal_runs_expire_stale()
