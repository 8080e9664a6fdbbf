"""Inventory import runs: record a run with its file, hand it to a worker, process it (parse, then write in one
transaction that a bad file or a dry run rolls back), and fail runs whose worker was lost."""

from __future__ import annotations

import logging
import os
from datetime import timedelta

from django.contrib.auth.models import AbstractUser
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from portfolio.choices import RunStatus, RunTrigger
from portfolio.models import ImportRun
from portfolio.services.inventory_import.parse import RowError, inventory_parse
from portfolio.services.inventory_import.write import ImportCounts, _import_audit_context, _Rollback, _write_rows
from portfolio.signals import inventory_changed

logger = logging.getLogger(__name__)

STALE_AFTER = timedelta(hours=1)


def _finish(run: ImportRun, *, status: str, errors: list[RowError], counts: ImportCounts | None = None) -> ImportRun:
    counts = counts or ImportCounts()
    run.status = status
    run.errors = [e.as_dict() for e in errors]
    run.rows_created, run.rows_updated, run.rows_unchanged = counts.created, counts.updated, counts.unchanged
    run.finished_at = timezone.now()
    run.save()
    return run


def inventory_import_run(
    *, run: ImportRun, content: bytes | None = None, actor: AbstractUser | None = None
) -> ImportRun:
    """Process a run: validate the whole file, then write it in one transaction (rolled back on error or dry run).

    `content` defaults to the run's stored file and `actor` to the run's actor. The run records the outcome; this
    function does not raise for a bad file (that is a failed run, with its errors).
    """
    actor = actor if actor is not None else run.actor
    run.status = RunStatus.RUNNING
    run.started_at = run.started_at or timezone.now()
    run.save(update_fields=["status", "started_at"])
    try:
        if content is None:
            with run.file.open("rb") as handle:
                content = handle.read()
        rows, errors = inventory_parse(content)
        # Records read: the valid ones plus those with errors (the header, row 1, is not a record).
        run.rows_total = len(rows) + len({e.row for e in errors if e.row and e.row > 1})
        if errors:
            return _finish(run, status=RunStatus.FAILED, errors=errors)
        counts = ImportCounts()
        try:
            with transaction.atomic(), _import_audit_context(actor=actor, run=run):
                counts = _write_rows(rows, errors)
                if errors or run.dry_run:
                    raise _Rollback
        except _Rollback:
            pass
        if errors:
            return _finish(run, status=RunStatus.FAILED, errors=errors)
        if not run.dry_run and (counts.created or counts.updated):
            inventory_changed.send(sender=ImportRun, run=run)
        return _finish(run, status=RunStatus.SUCCEEDED, errors=[], counts=counts)
    except Exception as exc:  # any failure must end the run as failed, with the reason shown
        logger.exception("Import run %s failed", run.pk)
        return _finish(run, status=RunStatus.FAILED, errors=[RowError(None, "", f"The import failed: {exc}")])


def import_run_create(
    *,
    actor: AbstractUser | None,
    filename: str,
    content: bytes,
    trigger: str = RunTrigger.USER,
    dry_run: bool = False,
) -> ImportRun:
    """Record a pending run with its file stored, so a worker can load it by id (the bytes do not travel by broker)."""
    if actor is not None and not actor.has_perm("portfolio.import_initiatives"):
        raise PermissionError("Only administrators import the inventory.")
    filename = os.path.basename(filename.replace("\\", "/")) or "inventory.csv"
    run = ImportRun(filename=filename[:255], actor=actor, trigger=trigger, dry_run=dry_run)
    run.file.save(filename, ContentFile(content), save=False)
    run.save()
    return run


def import_run_submit(
    *, actor: AbstractUser | None, filename: str, content: bytes, dry_run: bool = False,
    trigger: str = RunTrigger.USER,
) -> ImportRun:
    """Create a run and hand it to Celery once the run is committed (eager locally: done before this returns)."""
    from portfolio.tasks import import_run_execute  # tasks import this module

    run = import_run_create(actor=actor, filename=filename, content=content, trigger=trigger, dry_run=dry_run)
    transaction.on_commit(lambda: import_run_execute.delay(run.pk))
    return run


def import_run_claim(*, run_id: int) -> ImportRun | None:
    """Atomically move a pending run to running; None if it is gone or another worker already took it."""
    claimed = ImportRun.objects.filter(pk=run_id, status=RunStatus.PENDING).update(
        status=RunStatus.RUNNING, started_at=timezone.now()
    )
    return ImportRun.objects.get(pk=run_id) if claimed else None


def import_runs_expire_stale(*, older_than: timedelta = STALE_AFTER) -> int:
    """Fail runs stuck in 'running' (a worker died mid-run): the data was rolled back, the user should retry."""
    cutoff = timezone.now() - older_than
    message = (
        f"Stopped: the run did not finish within {older_than}; its worker was probably lost. Nothing was written; "
        "upload the file again."
    )
    return ImportRun.objects.filter(status=RunStatus.RUNNING).filter(
        Q(started_at__lt=cutoff) | Q(started_at__isnull=True, created_at__lt=cutoff)
    ).update(
        status=RunStatus.FAILED,
        finished_at=timezone.now(),
        errors=[RowError(None, "", message).as_dict()],
    )
