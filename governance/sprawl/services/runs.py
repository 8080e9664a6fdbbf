"""Sprawl recompute runs ("recompute now", imports, nightly): queue one at a time, claim, execute, expire."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from governance.choices import SprawlRunTrigger
from governance.models import SprawlRun
from governance.sprawl.services.recompute import _recompute_lock, sprawl_recompute
from portfolio.choices import RunStatus

logger = logging.getLogger(__name__)


def sprawl_run_submit(*, actor: Any = None, trigger: str = SprawlRunTrigger.USER) -> SprawlRun:
    """Queue a recomputation (its task is sent when the transaction commits), or return the one already queued or
    running, so repeated clicks and imports do not pile up runs. People need the recompute permission; system
    triggers (an import, the nightly schedule) pass no actor."""
    if actor is not None and not actor.has_perm("governance.recompute_sprawl"):
        raise PermissionDenied("Only CoE reviewers and administrators recompute sprawl.")
    with transaction.atomic():
        _recompute_lock()
        run = SprawlRun.objects.filter(status__in=[RunStatus.PENDING, RunStatus.RUNNING]).order_by("-id").first()
        if run is not None:
            return run
        run = SprawlRun.objects.create(actor=actor, trigger=trigger)

    def _send() -> None:
        from governance.sprawl.tasks import sprawl_recompute_task

        sprawl_recompute_task.delay(run.pk)

    transaction.on_commit(_send)
    return run


def sprawl_run_claim(*, run_id: int) -> SprawlRun | None:
    """Pending -> running, atomically; None when the run is gone or already taken (a redelivered task)."""
    with transaction.atomic():
        run = SprawlRun.objects.select_for_update().filter(pk=run_id).first()
        if run is None or run.status != RunStatus.PENDING:
            return None
        run.status, run.started_at = RunStatus.RUNNING, timezone.now()
        run.save(update_fields=["status", "started_at"])
    return run


def sprawl_run_execute(*, run: SprawlRun) -> SprawlRun:
    """Recompute and record the outcome on the run; a failure is recorded with its message, not raised."""
    try:
        summary = sprawl_recompute(actor=run.actor)
    except Exception as exc:  # recorded on the run for the page; the traceback goes to the worker log
        logger.exception("Sprawl recomputation %s failed", run.pk)
        run.status, run.error = RunStatus.FAILED, f"{type(exc).__name__}: {exc}"[:2000]
    else:
        run.status = RunStatus.SUCCEEDED
        run.initiatives, run.clusters_found = summary.initiatives, summary.clusters_found
        run.clusters_created, run.clusters_updated, run.clusters_closed = summary.created, summary.updated, \
            summary.closed
    run.finished_at = timezone.now()
    run.save()
    return run


def sprawl_runs_expire_stale(*, older_than_minutes: int = 60) -> int:
    """Fail runs stuck in pending or running (their worker was lost), so a new one can be queued."""
    limit = timezone.now() - timedelta(minutes=older_than_minutes)
    return SprawlRun.objects.filter(status__in=[RunStatus.PENDING, RunStatus.RUNNING], created_at__lt=limit).update(
        status=RunStatus.FAILED, finished_at=timezone.now(), error="No worker finished this run within an hour.")
