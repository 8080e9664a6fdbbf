"""A month exported as many files, read in parallel: one Celery task per file, then one that swaps the month in.

A large company's FOCUS export arrives as many files a month (tens of GB). On PostgreSQL, a run whose source lists
several files for the month (a glob pattern or a folder in its `path` setting) is split: each file is a part, read by
its own task (any worker) into the run's staging table, an UNLOGGED table of the run's own; when every part is read,
the last task (the chord's callback) deletes the month's old records of the source, moves the staged rows in, recomputes
the roll-ups and marks the run succeeded, in ONE transaction. Adding workers adds throughput, and the month still
changes atomically: a failed part fails the run at once, the other parts stop, and the month keeps its old data.

The run stays the one thing users see (its progress is the sum of its parts'). A part read again (a redelivered task
after its worker died) first deletes its own staged rows, so nothing is counted twice. The staging table is dropped
in every outcome; the expiry drops the tables of runs that ended without their last task (a lost message).
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

from celery import chord
from django.db import connection, transaction
from django.utils import timezone

from portfolio.choices import RunStatus
from portfolio.costs.connectors.base import ConnectorError, skipped_reasons
from portfolio.costs.services.references import cost_references_lock
from portfolio.costs.services.writer import COST_COLUMNS, RunWriter, Staging, run_total
from portfolio.models import CostRecord, CostSource, IngestionRun, IngestionRunPart, SeatActivity, UsageRecord
from portfolio.signals import costs_ingested
from tollgate import jobs
from tollgate.text import possessive

logger = logging.getLogger(__name__)

STAGING_PREFIX = "ingestion_staging_"


def staging_table(run_id: int) -> str:
    return f"{STAGING_PREFIX}{int(run_id)}"


def splits(path: Path | None, files: list[Path]) -> bool:
    """Whether a run is read in parts: on PostgreSQL, when its source lists several files for the month (a file
    given explicitly, an upload, is one part; SQLite reads the files one after the other in one task)."""
    return path is None and len(files) > 1 and connection.vendor == "postgresql"


def ingestion_run_split(*, run: IngestionRun, files: list[Path]) -> None:
    """Prepare a claimed run to be read in parts: its staging table and one part per file, committed before any
    part task can look for them. The caller sends the tasks (ingestion_run_parts_send) once its claim has ended."""
    table = connection.ops.quote_name(staging_table(run.pk))
    columns = ", ".join(connection.ops.quote_name(_column(name)) for name in COST_COLUMNS)
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {table}")
            cursor.execute(f"CREATE UNLOGGED TABLE {table} AS SELECT {columns}, 0::integer AS part "
                           f"FROM {connection.ops.quote_name(CostRecord._meta.db_table)} WITH NO DATA")
        IngestionRunPart.objects.filter(run=run).delete()
        IngestionRunPart.objects.bulk_create(
            IngestionRunPart(run=run, number=number, path=str(path)) for number, path in enumerate(files, start=1)
        )
        run.parts = len(files)
        run.filename = f"{len(files)} files, {files[0].name} to {files[-1].name}"[:255]
        run.heartbeat_at = timezone.now()
        run.save(update_fields=["parts", "heartbeat_at", "filename"])


def ingestion_run_parts_send(*, run_id: int) -> None:
    """Queue one task per part and, after the last of them, the merge (a Celery chord; run in-process when tasks
    run eagerly). A broker that refuses the tasks fails the run at once."""
    from portfolio.costs.tasks import ingestion_run_merge_task, ingestion_run_part_task

    numbers = list(IngestionRunPart.objects.filter(run_id=run_id).values_list("number", flat=True))
    try:
        chord([ingestion_run_part_task.si(run_id, number) for number in numbers])(
            ingestion_run_merge_task.si(run_id))
    except Exception as exc:
        logger.exception("Could not queue the parts of ingestion run %s", run_id)
        _fail(run_id, f"Could not queue the parts of the run ({type(exc).__name__}: {exc}); nothing was changed.")
        _drop_staging(run_id)


def _column(attname: str) -> str:
    return next(f.column for f in CostRecord._meta.concrete_fields if f.attname == attname)


# One part ------------------------------------------------------------------------------------------------------------


def ingestion_run_part_execute(*, run_id: int, number: int) -> IngestionRunPart | None:
    """Read part `number` of a run into the run's staging table, replacing what an earlier attempt of it staged.

    Does nothing when the run no longer runs (another part failed, or the expiry ended it). A failure fails the run
    with the file, row and column named; the month is untouched (the merge only cleans up)."""
    from portfolio.costs.services.runs import _check_size, connector_for, period_of, read_rows

    run = IngestionRun.objects.select_related("source").filter(pk=run_id, status=RunStatus.RUNNING).first()
    if run is None:
        return None
    part = IngestionRunPart.objects.get(run=run, number=number)
    period = period_of(run.period)
    path = Path(part.path)
    try:
        with jobs.run_part(run):
            connector = connector_for(run.source)
            _check_size(path)
            writer = RunWriter(run, period, staging=Staging(staging_table(run.pk), number))
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute(f"DELETE FROM {connection.ops.quote_name(staging_table(run.pk))} "
                                   "WHERE part = %s", [number])
                try:
                    for row in read_rows(connector, period, path):
                        writer.add(row)
                    writer.finish()
                finally:
                    writer.close()
                rows_read = getattr(connector, "rows_read", 0) or writer.yielded
                IngestionRunPart.objects.filter(pk=part.pk).update(
                    done=True, worker=jobs.worker_name(), rows_read=rows_read,
                    rows_skipped=getattr(connector, "rows_skipped", 0), skipped_by_reason=skipped_reasons(connector),
                    rows_written=writer.written,
                    unallocated_amount=run_total(writer.unallocated,
                                                 f"{possessive(f'Part {number}')} unallocated spend"), error="",
                    notes=" ".join(getattr(connector, "notes", ())), finished_at=timezone.now(),
                )
    except Exception as exc:
        if not isinstance(exc, ConnectorError):
            logger.exception("Part %s of ingestion run %s failed unexpectedly", number, run_id)
        message = str(exc) if isinstance(exc, ConnectorError) else f"Unexpected error ({type(exc).__name__}): {exc}"
        IngestionRunPart.objects.filter(pk=part.pk).update(
            done=False, worker=jobs.worker_name(), error=jobs.printable(message), finished_at=timezone.now())
        _fail(run_id, message)
    part.refresh_from_db()
    return part


# The merge -----------------------------------------------------------------------------------------------------------


def ingestion_run_merge(*, run_id: int) -> IngestionRun | None:
    """After the last part: swap the month in (delete the source's old records of the period, move the staged rows
    in, recompute the roll-ups, mark the run succeeded) in one transaction, or, when a part failed, only clean up."""
    from portfolio.costs.services.runs import (
        empty_read_warning,
        month_replaced_audit,
        period_lock_name,
        rollups_recompute_checked,
    )

    try:
        run = IngestionRun.objects.select_related("source").filter(pk=run_id).first()
        if run is None or run.status != RunStatus.RUNNING:
            return run
        parts = list(IngestionRunPart.objects.filter(run=run).order_by("number"))
        unread = [part for part in parts if not part.done]
        if unread:
            _fail(run_id, f"part {unread[0].number} ({Path(unread[0].path).name}) was not read; nothing was changed")
            return run
        try:
            with jobs.exclusive_section(run, period_lock_name(run)), transaction.atomic():
                run = IngestionRun.objects.select_for_update().select_related("source").get(pk=run_id)
                if run.status != RunStatus.RUNNING:
                    return run
                swapped, replaced = _swap(run, run.source)
                unallocated = run_total(swapped, "The run's unallocated spend")
                rows_read = sum(part.rows_read for part in parts)
                rows_skipped = sum(part.rows_skipped for part in parts)
                skipped_by_reason: Counter[str] = Counter()
                for part in parts:
                    skipped_by_reason.update(part.skipped_by_reason or {})
                written = sum(part.rows_written for part in parts)
                warning = empty_read_warning(run, replaced=replaced, written=written, rows_read=rows_read,
                                             rows_skipped=rows_skipped)
                # Each file's notes (as a run of one file says them), named by its file.
                warning = " ".join(filter(None, [warning, *(f"{Path(part.path).name}: {part.notes}"
                                                            for part in parts if part.notes)]))
                rollups_recompute_checked(months={run.period})
                jobs.run_finish(
                    run, status=RunStatus.SUCCEEDED, rows_read=rows_read, rows_skipped=rows_skipped,
                    skipped_by_reason=dict(skipped_by_reason), rows_written=written, progress=rows_read,
                    unallocated_amount=unallocated, warning=warning,
                )
                month_replaced_audit(run, replaced=replaced, written=written)
                costs_ingested.send(sender=IngestionRun, run=run)
        except ConnectorError as exc:  # a total beyond what the money columns hold, or an empty read
            _fail(run_id, str(exc))
        except Exception as exc:
            logger.exception("Merging the parts of ingestion run %s failed", run_id)
            _fail(run_id, f"Unexpected error ({type(exc).__name__}): {exc}")
        run.refresh_from_db()
        return run
    finally:
        _drop_staging(run_id)


def _swap(run: IngestionRun, source: CostSource) -> tuple[Decimal, int]:
    """Replace the source's records of the period by the staged ones; returns their unallocated spend (summed
    before rounding, as a single-task run sums it) and how many records were replaced."""
    period = run.period
    replaced = sum(model.objects.filter(source=source, period=period).delete()[0]
                   for model in (CostRecord, UsageRecord, SeatActivity))
    columns = ", ".join(connection.ops.quote_name(_column(name)) for name in COST_COLUMNS)
    staging = connection.ops.quote_name(staging_table(run.pk))
    with connection.cursor() as cursor:
        # One pass over the staged rows gives both the initiatives they name and the unallocated spend.
        cursor.execute(f"SELECT initiative_id, SUM(amount_reporting) FROM {staging} GROUP BY initiative_id")
        totals = dict(cursor.fetchall())
        unallocated = Decimal(totals.pop(None, None) or 0)
        cost_references_lock(source_id=source.pk, run_id=run.pk, initiative_ids=list(totals))
        cursor.execute(
            f"INSERT INTO {connection.ops.quote_name(CostRecord._meta.db_table)} ({columns}) "
            f"SELECT {columns} FROM {staging}"
        )
    return unallocated, replaced


def _fail(run_id: int, message: str) -> int:
    """Fail a running run, keeping the first failure's message (a part's, naming its file, row and column), and
    audit it once (only the first failure changes the run)."""
    from portfolio.costs.services.runs import run_failed_audit

    with transaction.atomic():
        failed = IngestionRun.objects.filter(pk=run_id, status=RunStatus.RUNNING).update(
            status=RunStatus.FAILED, error=jobs.printable(message), finished_at=timezone.now(), rows_written=0,
            unallocated_amount=Decimal("0"),
        )
        if failed:
            run_failed_audit(IngestionRun.objects.select_related("source", "actor").get(pk=run_id),
                             before=RunStatus.RUNNING)
    return failed


def _drop_staging(run_id: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {connection.ops.quote_name(staging_table(run_id))}")


def staging_tables_drop_orphans() -> int:
    """Drop the staging tables of runs that no longer run (their merge never came: a lost message, a lost worker);
    returns how many. PostgreSQL only."""
    if connection.vendor != "postgresql":
        return 0
    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename LIKE %s",
                       [STAGING_PREFIX + "%"])
        names: list[Any] = [name for (name,) in cursor.fetchall()]
    run_ids = {int(match.group(1)) for name in names if (match := re.fullmatch(STAGING_PREFIX + r"(\d+)", name))}
    active = set(IngestionRun.objects.filter(pk__in=run_ids, status__in=jobs.ACTIVE_STATUSES)
                 .values_list("pk", flat=True))
    for run_id in sorted(run_ids - active):
        _drop_staging(run_id)
    return len(run_ids - active)
