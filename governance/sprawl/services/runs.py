"""Sprawl recompute runs ("recompute now", imports, nightly): queue one at a time, claim, execute, expire."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction

from governance.choices import SprawlRunTrigger
from governance.models import SprawlRun
from governance.sprawl.services.recompute import _recompute_lock, sprawl_recompute
from portfolio.choices import RunStatus
from tollgate import jobs
from tollgate.roles import may

logger = logging.getLogger(__name__)


def sprawl_run_submit(*, actor: Any = None, trigger: str = SprawlRunTrigger.USER) -> SprawlRun:
    """Queue a recomputation (its task is sent when the transaction commits), or return the one already queued or
    running, so repeated clicks and imports do not pile up runs. People need the recompute permission; system
    triggers (an import, the nightly schedule) pass no actor."""
    from governance.sprawl.tasks import sprawl_recompute_task

    if actor is not None and not may(actor, "governance.recompute_sprawl"):
        raise PermissionDenied("Only CoE reviewers and administrators recompute sprawl.")
    with transaction.atomic():
        _recompute_lock()
        run = SprawlRun.objects.filter(status__in=[RunStatus.PENDING, RunStatus.RUNNING]).order_by("-id").first()
        if run is not None:
            return run
        return jobs.run_submit(SprawlRun(actor=actor, trigger=trigger), task=sprawl_recompute_task)


def sprawl_run_execute(*, run: SprawlRun) -> SprawlRun:
    """Execute a pending run (or take over one whose worker was lost) and record the outcome on it; a failure is
    recorded with its message, not raised. A finished run, or one a live worker executes, is returned as it is."""
    sprawl_run_execute_by_id(run_id=run.pk)
    run.refresh_from_db()
    return run


def sprawl_run_execute_by_id(*, run_id: int) -> SprawlRun | None:
    """sprawl_run_execute for a run known by its id (a task's argument); None when there was nothing to do."""
    with jobs.run_claimed(SprawlRun, run_id=run_id) as run:
        if run is None:
            return None
        try:
            summary = sprawl_recompute(actor=run.actor, progress=lambda position: jobs.run_at_step(run, position))
        except Exception as exc:  # recorded on the run for the page; the traceback goes to the worker log
            logger.exception("Sprawl recomputation %s failed", run.pk)
            return jobs.run_finish(run, status=RunStatus.FAILED, error=f"{type(exc).__name__}: {exc}"[:2000])
        return jobs.run_finish(
            run, status=RunStatus.SUCCEEDED, initiatives=summary.initiatives, clusters_found=summary.clusters_found,
            clusters_created=summary.created, clusters_updated=summary.updated,
            clusters_unchanged=summary.unchanged, clusters_closed=summary.closed, pair_model=summary.pair_model,
        )


def sprawl_runs_expire_stale(*, older_than_minutes: int = 60) -> int:
    """Fail runs no worker will finish (a lost message, or a worker lost mid-run), so a new one can be queued."""
    return jobs.runs_expire(SprawlRun, older_than=timedelta(minutes=older_than_minutes))
