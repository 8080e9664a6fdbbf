"""Ingestion runs: read one (source, period) through its connector and replace what was read before, atomically.

A run streams the connector's rows, converts each cost to the reporting currency (a missing rate is an error, never
a silent 1.0), allocates it by the source's rules and writes in batches. Deleting the previous records of the
(source, period), writing the new ones, recomputing the month's roll-ups and marking the run succeeded happen in ONE
transaction: a failed read rolls back to exactly the data that was there before, and nothing is counted twice.

Only ConnectorError.transient errors (network, 429, 5xx) are worth retrying; the Celery task retries those and
nothing else. Every other failure is recorded on the run with the file, row and column or HTTP status it names.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from auditlog.models import LogEntry
from django.conf import settings as django_settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile, File
from django.db import connection, transaction
from django.utils import timezone

from portfolio.choices import RunStatus, RunTrigger
from portfolio.costs.connectors.base import ConnectorError, Period, skipped_reasons
from portfolio.costs.connectors.registry import connector_class
from portfolio.costs.models import (
    export_path_error,
    server_variable,
    server_variable_refusal,
    within_exports_dirs,
)
from portfolio.costs.services import parts
from portfolio.costs.services.rollups import rollups_recompute
from portfolio.costs.services.writer import RunWriter, run_total
from portfolio.models import (
    CostRecord,
    CostSource,
    IngestionRun,
    SeatActivity,
    UsageRecord,
)
from portfolio.services.initiatives import EARLIEST_START
from portfolio.signals import costs_ingested
from tollgate import jobs
from tollgate.audit import audit_event
from tollgate.audit_events import AuditEvent
from tollgate.database import connection_lost
from tollgate.storage import field_file_save
from tollgate.types import Actor

logger = logging.getLogger(__name__)

DEFAULT_MAX_FILE_MB = 500
STALE_AFTER = timedelta(hours=2)
PARTS_POLL_SECONDS = 0.5

def max_file_bytes() -> int:
    """settings.INGESTION_MAX_FILE_MB (default 500) in bytes; pages check uploads against the same figure."""
    return int(getattr(django_settings, "INGESTION_MAX_FILE_MB", DEFAULT_MAX_FILE_MB)) * 1024 * 1024


def period_of(value: Period | date | str) -> Period:
    if isinstance(value, Period):
        return value
    if isinstance(value, str):
        return Period.parse(value)
    return Period.month(value.year, value.month)


# Creating and claiming runs ------------------------------------------------------------------------------------------


EARLIEST_PERIOD = EARLIEST_START  # no initiative starts earlier, so no cost of one can be dated earlier


def period_check(period: Period) -> None:
    """A month that can hold costs: from 1990-01 (no initiative starts earlier) to the current month (a later one
    has no costs yet: 2999-01 is a typing slip). ValidationError naming the period otherwise."""
    current = timezone.localdate().replace(day=1)
    if period.start < EARLIEST_PERIOD:
        raise ValidationError({"period": f"The period {period.label} is before {EARLIEST_PERIOD:%Y-%m}: no initiative "
                                         f"starts before {EARLIEST_PERIOD.year}."})
    if period.start > current:
        raise ValidationError({"period": f"The period {period.label} is in the future: the latest month that can be "
                                         f"read is {current:%Y-%m}."})


def ingestion_run_create(
    *,
    source: CostSource,
    period: Period | date | str,
    trigger: str = RunTrigger.USER,
    actor: Actor | None = None,
    filename: str = "",
    content: File | bytes | None = None,
    replace_with_nothing: bool = False,
) -> IngestionRun:
    """A pending run of `source` for `period`; an uploaded export is stored with it (size checked when it runs).

    `replace_with_nothing` is the starter's confirmation that a read finding no records may empty a month that held
    records of the source (without it such a read fails and the month is kept). A run a person starts is audited.

    `content` is best an uploaded File: the storage copies it in chunks (or moves Django's temporary file), so an
    export is never held in memory whole. Bytes are accepted for small files made in code.
    """
    month = period_of(period)
    period_check(month)
    run = IngestionRun(source=source, period=month.start, trigger=trigger, actor=actor, filename=filename,
                       replace_with_nothing=replace_with_nothing)
    if content is not None:
        upload = ContentFile(content) if isinstance(content, bytes) else content
        field_file_save(run.file, os.path.basename(filename) or "upload", upload)
    with _file_removed_on_error(run):
        with transaction.atomic():
            run.save()
            if actor is not None:
                audit_event(run, actor=actor, event="ingestion_run_started", action=LogEntry.Action.CREATE,
                            changes={"source": [None, source.name], "period": [None, month.label],
                                     "file": [None, os.path.basename(filename)],
                                     "replace_with_nothing": [None, replace_with_nothing]},
                            source=source.name, period=month.label, filename=os.path.basename(filename),
                            trigger=trigger)
    return run


@contextmanager
def _file_removed_on_error(run: IngestionRun) -> Iterator[None]:
    """A run that could not be recorded (the database failed: dropped connection, restart) leaves no stored export
    behind: the file is only worth keeping with its row."""
    try:
        yield
    except BaseException:
        if run.file:
            run.file.storage.delete(run.file.name)
        raise


def ingestion_run_submit(**kwargs: Any) -> IngestionRun:
    """Create a run and queue it once the transaction commits (the worker must see the row)."""
    from portfolio.costs.tasks import ingestion_run_execute_task

    run: IngestionRun | None = None
    try:
        with transaction.atomic():
            run = ingestion_run_create(**kwargs)
            return jobs.run_submit(run, task=ingestion_run_execute_task)
    except BaseException:
        if run is not None and run.file:  # the row was rolled back: so goes its file
            run.file.storage.delete(run.file.name)
        raise


def ingestion_runs_expire_stale(*, older_than: timedelta = STALE_AFTER) -> int:
    """Fail runs no worker will finish -- a lost message (pending) or a lost worker (running) -- so the source's
    schedule goes on; their transaction rolled back, so the old data stands."""
    active = dict(IngestionRun.objects.filter(status__in=jobs.ACTIVE_STATUSES).values_list("pk", "status"))
    expired = jobs.runs_expire(IngestionRun, older_than=older_than)
    if expired:
        audited = set(LogEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(IngestionRun), object_id__in=list(active),
            additional_data__event=AuditEvent.INGESTION_RUN_FAILED).values_list("object_id", flat=True))
        for run in IngestionRun.objects.filter(pk__in=set(active) - audited, status=RunStatus.FAILED).select_related(
                "source", "actor"):
            run_failed_audit(run, before=active[run.pk])
    parts.staging_tables_drop_orphans()
    return expired


def period_lock_name(run: IngestionRun) -> str:
    """The section at most one run may execute at a time: one source's period (see ingestion_run_execute)."""
    return f"ingestion:{run.source_id}:{run.period:%Y-%m}"


# Executing a run -----------------------------------------------------------------------------------------------------


def _credential(source: CostSource) -> str | None:
    """The secret, read from the environment variable the source names; never stored in the database."""
    if not source.credential_env:
        return None
    if server_variable(source.credential_env):  # a source saved before the rule: its run is refused, not sent
        raise ConnectorError(server_variable_refusal(source.credential_env), location="credential_env")
    value = os.environ.get(source.credential_env)
    if not value:
        raise ConnectorError(
            f"the environment variable {source.credential_env} (credential of source {source.name}) is not set"
        )
    return value


def _configured_files_check(source: CostSource, period: Period, input_path: Path | None, files: list[Path]) -> None:
    """ConnectorError, before anything is read, for a configured path (not a file given or uploaded) leading outside
    INGESTION_EXPORTS_DIRS: one saved before the setting, or a link inside the folder pointing out of it."""
    configured = (source.settings or {}).get("path")
    if input_path is not None or not configured:
        return
    error = export_path_error(str(configured))
    targets = files or [Path(str(configured).replace("{period}", period.label))]
    outside = next((target for target in targets if not within_exports_dirs(target)), None)
    if error or outside is not None:
        raise ConnectorError(error or f"{outside} leads outside INGESTION_EXPORTS_DIRS (a symbolic link?)",
                             location="settings.path")


def _input_path(run: IngestionRun, path: Path | str | None) -> Path | None:
    if path is not None:
        return Path(path)
    if run.file:
        return Path(run.file.path)
    return None


def _check_size(path: Path) -> None:
    if not path.exists():
        raise ConnectorError("file not found", location=str(path))
    size, limit = path.stat().st_size, max_file_bytes()
    if size > limit:
        raise ConnectorError(
            f"the file is {size / 1024 / 1024:.1f} MB, over the {limit // 1024 // 1024} MB limit "
            "(INGESTION_MAX_FILE_MB)",
            location=path.name,
        )


def read_rows(connector: Any, period: Period, path: Path | None) -> Iterator[Any]:
    """The connector's rows, column-wise batches included when it can read them (the writer takes both)."""
    if getattr(connector, "reads_columns", False):
        return iter(connector.read(period, path=path, columnar=True))
    return iter(connector.read(period, path=path))


def connector_for(source: CostSource) -> Any:
    """The source's connector, with its settings and the credential its environment variable holds."""
    try:
        connector_type = connector_class(source.type)
    except (ImportError, KeyError, AttributeError) as exc:
        raise ConnectorError(f"no connector for source type {source.type!r} ({exc})") from None
    return connector_type(settings=source.settings or {}, credential=_credential(source))


def _replace_period(run: IngestionRun, period: Period, path: Path | None, connector: Any) -> RunWriter:
    source = run.source
    if path is not None:
        _check_size(path)
    writer = RunWriter(run, period)
    try:
        with transaction.atomic():
            try:
                replaced = sum(model.objects.filter(source=source, period=period.start).delete()[0]
                               for model in (CostRecord, UsageRecord, SeatActivity))
                for row in read_rows(connector, period, path):
                    writer.add(row)
                writer.finish()
            finally:
                writer.close()  # no batch may still be in flight when the transaction commits or rolls back
            unallocated = run_total(writer.unallocated, "The run's unallocated spend")
            rows_read = getattr(connector, "rows_read", 0) or writer.yielded
            rows_skipped = getattr(connector, "rows_skipped", 0)
            skipped_by_reason = skipped_reasons(connector)
            warning = empty_read_warning(run, replaced=replaced, written=writer.written, rows_read=rows_read,
                                         rows_skipped=rows_skipped)
            warning = " ".join(filter(None, [warning, *getattr(connector, "notes", ())]))
            rollups_recompute_checked(months={period.start})
            jobs.run_finish(
                run, status=RunStatus.SUCCEEDED, rows_read=rows_read, rows_skipped=rows_skipped,
                skipped_by_reason=skipped_by_reason, rows_written=writer.written, progress=rows_read,
                unallocated_amount=unallocated, warning=warning,
            )
            month_replaced_audit(run, replaced=replaced, written=writer.written)
            costs_ingested.send(sender=IngestionRun, run=run)
    finally:
        writer.close()
    return writer


def empty_read_warning(run: IngestionRun, *, replaced: int, written: int, rows_read: int, rows_skipped: int) -> str:
    """The warning of a run that wrote no records ("" when it wrote some). Such a read replacing a month that held
    records of the source is refused (ConnectorError: the month is kept) unless its starter confirmed it."""
    if written:
        return ""
    label = f"{run.period:%Y-%m}"
    read = f"{rows_read:,} rows read, {rows_skipped:,} of them skipped"
    if replaced and not run.replace_with_nothing:
        raise ConnectorError(
            f"No records read for {label} ({read}), and {run.source.name} held {replaced:,} records for it: they are "
            "kept. To replace them with nothing, run it again with \"Replace with nothing\" ticked (API: "
            "\"replace_with_nothing\": true)."
        )
    if replaced:
        return f"No records read for {label} ({read}): the {replaced:,} records read before were replaced with " \
               "nothing, as confirmed."
    return f"No records read for {label} ({read}): check the file and the period."


def month_replaced_audit(run: IngestionRun, *, replaced: int, written: int) -> None:
    """One audit row for a run that changed its month's records: how many it replaced and wrote, and who started it
    (none for the schedule). A run that found nothing where nothing was changes nothing and writes no row."""
    if not replaced and not written:
        return
    audit_event(run, actor=run.actor, event="ingestion_run_replaced_month", action=LogEntry.Action.UPDATE,
                changes={"records": [replaced, written]}, source=run.source.name, period=f"{run.period:%Y-%m}",
                filename=run.filename, records_replaced=replaced, records_written=written)


def run_failed_audit(run: IngestionRun, *, before: str) -> None:
    """One audit row for a run that failed, whatever failed it (its read, a part, the merge, the expiry of a lost
    one): who started it (none for the schedule), the status it left and the failure's message, whole, as its
    reason. A run that succeeded is audited by month_replaced_audit."""
    audit_event(run, actor=run.actor, event=AuditEvent.INGESTION_RUN_FAILED, action=LogEntry.Action.UPDATE,
                changes={"status": [before, RunStatus.FAILED]}, source=run.source.name, period=f"{run.period:%Y-%m}",
                filename=run.filename, reason=run.error)


def rollups_recompute_checked(*, months: set[date]) -> None:
    """rollups_recompute for a run: a monthly total its records would push beyond what a total holds fails the run,
    naming that total (the roll-ups refuse it as bad input), instead of an unexpected error."""
    try:
        rollups_recompute(months=months)
    except ValidationError as exc:
        raise ConnectorError(" ".join(exc.messages)) from None


def ingestion_run_execute(
    *, run: IngestionRun, path: Path | str | None = None, final_attempt: bool = True
) -> IngestionRun:
    """Execute a pending run (or take over one whose worker was lost) and record the outcome on it.

    At most one run of a (source, period) executes at a time, whoever started it (a page's "Run now", the API, the
    `ingest` command, the schedule, a Celery worker): a second run of the same source and period WAITS for the
    first one to end and then does its own full replace, so the period holds what the last run read, never the sum
    of both. A run another live worker is executing, or one already finished, is left alone and returned as it is.

    A transient ConnectorError (network, 429, 5xx) on a non-final attempt puts the run back to pending and is raised
    so the Celery task can retry; every other failure is recorded as failed and the previous data stays as it was.
    A month read in parts by Celery workers is waited for (the `ingest` command reports its outcome).
    """
    ingestion_run_execute_by_id(run_id=run.pk, path=path, final_attempt=final_attempt)
    run.refresh_from_db()
    while run.parts and run.in_progress:  # read in parts by the workers (tasks not eager): wait for its end
        time.sleep(PARTS_POLL_SECONDS)
        run.refresh_from_db()
    return run


def ingestion_run_execute_by_id(
    *, run_id: int, path: Path | str | None = None, final_attempt: bool = True
) -> IngestionRun | None:
    """ingestion_run_execute for a run known by its id (a task's argument); None when there was nothing to do.

    A month of several files is read in parts on PostgreSQL (portfolio.costs.services.parts): this claims the run,
    prepares the parts and, once the claim has ended, queues their tasks; the run ends when the last part is merged.
    """
    split = False
    with jobs.run_claimed(IngestionRun, run_id=run_id, exclusive=period_lock_name) as run:
        if run is None:
            return None
        period = period_of(run.period)
        input_path = _input_path(run, path)
        if input_path is not None and not run.filename:
            run.filename = input_path.name
        try:
            connector = connector_for(run.source)
            files = connector.resolve_paths(period, input_path) if hasattr(connector, "resolve_paths") else []
            _configured_files_check(run.source, period, input_path, files)
            if parts.splits(input_path, files):
                parts.ingestion_run_split(run=run, files=files)
                split = True
            else:
                _replace_period(run, period, input_path, connector)
        except ConnectorError as exc:
            if exc.transient and not final_attempt:
                _record(run, status=RunStatus.PENDING, error=f"Will retry: {exc}")
                raise
            message = _as_uploaded(run, input_path, str(exc))
            if exc.transient:  # the provider may answer later; the run is not retried any more
                message = f"{message.rstrip('.')}. {run.lost_hint}"
            _record(run, status=RunStatus.FAILED, error=message)
        except Exception as exc:
            if connection_lost(exc):
                # The run's connection died (PostgreSQL restarted or failed over, the backend was terminated) and
                # its transaction with it: nothing was written. Recorded on a new connection; the task retries it.
                message = database_lost_message(exc)
                connection.close()
                if not final_attempt:
                    _record(run, status=RunStatus.PENDING, error=f"Will retry: {message}")
                    raise jobs.TransientError(message) from exc
                _record(run, status=RunStatus.FAILED, error=f"{message} Run it again.")
                return run
            logger.exception("Ingestion run %s failed unexpectedly", run.pk)
            _record(run, status=RunStatus.FAILED, error=f"Unexpected error ({type(exc).__name__}): {exc}")
    if split:  # after the claim: an eager chord merges in this process, and the merge takes the period's lock
        parts.ingestion_run_parts_send(run_id=run.pk)
    return run


def _as_uploaded(run: IngestionRun, input_path: Path | None, message: str) -> str:
    """The message naming the file as it was uploaded: the storage may have stored it under another name (a suffix
    where the name was taken), which the person never saw."""
    if run.file and input_path is not None and run.filename and input_path.name != run.filename:
        return message.replace(input_path.name, os.path.basename(run.filename))
    return message


def database_lost_message(exc: BaseException) -> str:
    reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return (f"The database connection was lost mid-run ({reason}); nothing was written and the previous data of "
            "the period stands.")


def _record(run: IngestionRun, *, status: str, error: str) -> None:
    """Record a failure (or a retry) outside the rolled-back transaction: nothing was written. A failure is audited
    with it."""
    before = run.status
    run.status = status
    run.error = error
    run.rows_written = 0
    run.unallocated_amount = Decimal("0")
    run.warning = ""
    run.finished_at = timezone.now() if status == RunStatus.FAILED else None
    with transaction.atomic():
        run.save()
        if status == RunStatus.FAILED:
            run_failed_audit(run, before=before)


