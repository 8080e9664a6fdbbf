"""Inventory import runs: record a run with its file, hand it to a worker, process it (parse, then write in one
transaction that a bad file or a dry run rolls back), and fail runs whose worker was lost."""

from __future__ import annotations

import logging
import os
from datetime import timedelta

from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.db import transaction

from portfolio.choices import RunStatus, RunTrigger
from portfolio.models import ImportRun
from portfolio.services.inventory_import.parse import RowError, inventory_parse
from portfolio.services.inventory_import.write import ImportCounts, _import_audit_context, _Rollback, _write_rows
from portfolio.signals import inventory_changed
from tollgate import jobs
from tollgate.roles import may
from tollgate.storage import field_file_save
from tollgate.types import Actor

logger = logging.getLogger(__name__)

STALE_AFTER = timedelta(hours=1)


def _finish(run: ImportRun, *, status: str, errors: list[RowError], counts: ImportCounts | None = None) -> ImportRun:
    counts = counts or ImportCounts()
    return jobs.run_finish(
        run, status=status, errors=[e.as_dict() for e in errors], rows_created=counts.created,
        rows_updated=counts.updated, rows_unchanged=counts.unchanged, new_references=counts.new_references,
    )


def inventory_import_run(
    *, run: ImportRun, content: bytes | None = None, actor: Actor | None = None
) -> ImportRun:
    """Process a run: validate the whole file, then write it in one transaction (rolled back on error or dry run).

    `content` defaults to the run's stored file and `actor` to the run's actor. The run records the outcome; this
    function does not raise for a bad file (that is a failed run, with its errors). A run that is finished, or that
    a live worker executes, is left alone and returned as it is.
    """
    import_run_execute_by_id(run_id=run.pk, content=content, actor=actor)
    run.refresh_from_db()
    return run


def import_run_execute_by_id(
    *, run_id: int, content: bytes | None = None, actor: Actor | None = None
) -> ImportRun | None:
    """inventory_import_run for a run known by its id (a task's argument); None when there was nothing to do."""
    with jobs.run_claimed(ImportRun, run_id=run_id) as run:
        if run is None:
            return None
        return _import(run, content=content, actor=actor if actor is not None else run.actor)


def _import(run: ImportRun, *, content: bytes | None, actor: Actor | None) -> ImportRun:
    try:
        if content is None:
            with run.file.open("rb") as handle:
                content = handle.read()
        rows, errors = inventory_parse(content)
        # Records read: those that could be read plus those that could not (the header, row 1, is not a record).
        run.rows_total = len({row.row for row in rows} | {e.row for e in errors if e.row and e.row > 1})
        header_broken = any(e.row in (None, 1) for e in errors)
        counts = ImportCounts()
        if rows and not header_broken:
            # The rows that read well are written even when others did not, and always rolled back then; the rows
            # with bad cells are only checked: the errors only the database finds (a cost center of another
            # department, a plan locked in review) are listed with the rest, so one correction round fixes the file.
            try:
                with transaction.atomic(), _import_audit_context(actor=actor, run=run):
                    counts = _write_rows(rows, errors, progress=lambda done: jobs.run_progress(run, done))
                    if errors or run.dry_run:
                        raise _Rollback
            except _Rollback:
                pass
        if errors:
            errors.sort(key=lambda e: e.row or 0)  # stable: a row's errors keep their order
            return _finish(run, status=RunStatus.FAILED, errors=errors)
        if not run.dry_run and (counts.created or counts.updated):
            inventory_changed.send(sender=ImportRun, run=run)
        return _finish(run, status=RunStatus.SUCCEEDED, errors=[], counts=counts)
    except Exception as exc:  # any failure must end the run as failed, with the reason shown
        logger.exception("Import run %s failed", run.pk)
        return _finish(run, status=RunStatus.FAILED, errors=[RowError(None, "", f"The import failed: {exc}")])


def import_run_create(
    *,
    actor: Actor | None,
    filename: str,
    content: bytes,
    trigger: str = RunTrigger.USER,
    dry_run: bool = False,
) -> ImportRun:
    """Record a pending run with its file stored, so a worker can load it by id (the bytes do not travel by broker)."""
    if actor is not None and not may(actor, "portfolio.import_initiatives"):
        raise PermissionDenied("Only administrators import the inventory.")
    filename = os.path.basename(filename.replace("\\", "/")) or "inventory.csv"
    run = ImportRun(filename=filename[:255], actor=actor, trigger=trigger, dry_run=dry_run)
    field_file_save(run.file, filename, ContentFile(content))
    try:
        run.save()
    except BaseException:
        run.file.storage.delete(run.file.name)  # no row, no stored file
        raise
    return run


def import_run_submit(
    *, actor: Actor | None, filename: str, content: bytes, dry_run: bool = False,
    trigger: str = RunTrigger.USER,
) -> ImportRun:
    """Create a run and hand it to Celery once the run is committed (eager locally: done before this returns)."""
    from portfolio.tasks import import_run_execute  # tasks import this module

    run: ImportRun | None = None
    try:
        with transaction.atomic():
            run = import_run_create(actor=actor, filename=filename, content=content, trigger=trigger,
                                    dry_run=dry_run)
            return jobs.run_submit(run, task=import_run_execute)
    except BaseException:
        if run is not None and run.file:  # the row was rolled back (the database failed): so goes its file
            run.file.storage.delete(run.file.name)
        raise


def import_runs_expire_stale(*, older_than: timedelta = STALE_AFTER) -> int:
    """Fail runs no worker will finish (a lost message, or a worker that died mid-run): the data was rolled back,
    the user should retry."""
    return jobs.runs_expire(ImportRun, older_than=older_than)
