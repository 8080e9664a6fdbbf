"""Ingestion runs: read one (source, period) through its connector and replace what was read before, atomically.

A run streams the connector's rows, converts each cost to the reporting currency (a missing rate is an error, never
a silent 1.0), allocates it by the source's rules and writes in batches. Deleting the previous records of the
(source, period), writing the new ones, recomputing the month's roll-ups and marking the run succeeded happen in ONE
transaction: a failed read rolls back to exactly the data that was there before, and nothing is counted twice.

Only ConnectorError.transient errors (network, 429, 5xx) are worth retrying; the Celery task retries those and
nothing else. Every other failure is recorded on the run with the file, row and column or HTTP status it names.
"""

from __future__ import annotations

import json
import logging
import os
from collections import defaultdict
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from celery.schedules import crontab
from django.conf import settings as django_settings
from django.contrib.auth.models import AbstractUser
from django.core.files.base import ContentFile, File
from django.db import DEFAULT_DB_ALIAS, connection, connections, models, transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone

from .. import calculations
from ..choices import CostCategory, RunStatus, RunTrigger
from ..connectors.base import ConnectorError, CostRow, Period, SeatRow, UsageRow
from ..connectors.registry import connector_class
from ..cost_calculations import RateTable, active_window, cents, is_currency_code, record_amount
from ..models import (
    CostRecord,
    CostSource,
    CurrencyRate,
    IngestionRun,
    LicencePool,
    LicencePoolActivity,
    MonthlyCost,
    MonthlyTokenUsage,
    SeatActivity,
    UsageRecord,
    reporting_currency,
)
from .allocation import Allocator

logger = logging.getLogger(__name__)

BATCH_SIZE = 5_000
DEFAULT_MAX_FILE_MB = 500
STALE_AFTER = timedelta(hours=2)


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


def ingestion_run_create(
    *,
    source: CostSource,
    period: Period | date | str,
    trigger: str = RunTrigger.USER,
    actor: AbstractUser | None = None,
    filename: str = "",
    content: File | bytes | None = None,
) -> IngestionRun:
    """A pending run of `source` for `period`; an uploaded export is stored with it (size checked when it runs).

    `content` is best an uploaded File: the storage copies it in chunks (or moves Django's temporary file), so an
    export is never held in memory whole. Bytes are accepted for small files made in code.
    """
    run = IngestionRun(source=source, period=period_of(period).start, trigger=trigger, actor=actor,
                       filename=filename)
    if content is not None:
        upload = ContentFile(content) if isinstance(content, bytes) else content
        run.file.save(os.path.basename(filename) or "upload", upload, save=False)
    run.save()
    return run


def ingestion_run_submit(**kwargs: Any) -> IngestionRun:
    """Create a run and queue it once the transaction commits (the worker must see the row)."""
    from ..tasks import ingestion_run_execute_task

    with transaction.atomic():
        run = ingestion_run_create(**kwargs)
        transaction.on_commit(lambda: ingestion_run_execute_task.delay(run.pk))
    return run


def ingestion_run_claim(*, run_id: int) -> IngestionRun | None:
    """Atomically move a pending run to running; None if it is gone or another worker already took it."""
    claimed = IngestionRun.objects.filter(pk=run_id, status=RunStatus.PENDING).update(
        status=RunStatus.RUNNING, started_at=timezone.now()
    )
    return IngestionRun.objects.select_related("source").get(pk=run_id) if claimed else None


def ingestion_runs_expire_stale(*, older_than: timedelta = STALE_AFTER) -> int:
    """Fail runs stuck in 'running' (a lost worker): their transaction rolled back, so the old data stands."""
    cutoff = timezone.now() - older_than
    return IngestionRun.objects.filter(status=RunStatus.RUNNING, started_at__lt=cutoff).update(
        status=RunStatus.FAILED, finished_at=timezone.now(),
        error=f"Stopped: the run did not finish within {older_than}; its worker was probably lost. "
              "The previous data is unchanged; run it again.",
    )


# Executing a run -----------------------------------------------------------------------------------------------------


def _credential(source: CostSource) -> str | None:
    """The secret, read from the environment variable the source names; never stored in the database."""
    if not source.credential_env:
        return None
    value = os.environ.get(source.credential_env)
    if not value:
        raise ConnectorError(
            f"the environment variable {source.credential_env} (credential of source {source.name}) is not set"
        )
    return value


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


class _Converter:
    """Billing currency -> reporting currency, with each currency's rates loaded once per run.

    `before_query` runs before a currency's rates are read (the writer lets its batch in flight end first).
    """

    def __init__(self, before_query: Callable[[], None] = lambda: None) -> None:
        self.reporting = reporting_currency()
        self.tables: dict[str, RateTable] = {}
        self.before_query = before_query

    def to_reporting(self, amount: Decimal, currency: str, day: date, location: str) -> Decimal:
        if currency == self.reporting:
            return amount
        if not is_currency_code(currency):
            raise ConnectorError(f"unknown currency {currency!r} (expected an ISO 4217 code like EUR)",
                                 location=location)
        table = self.tables.get(currency)
        if table is None:
            self.before_query()
            rates = CurrencyRate.objects.filter(currency=currency).values_list("valid_from", "rate_to_reporting")
            table = self.tables[currency] = RateTable(list(rates))
        rate = table.rate_on(day)
        if rate is None:
            raise ConnectorError(
                f"no exchange rate {currency}->{self.reporting} valid on {day}: add one to the currency rates",
                location=location,
            )
        return amount * rate


# Columns each record type is written with, in order. A test checks they are exactly the models' concrete columns, so
# a new field cannot be silently left out of the COPY.
COST_COLUMNS = (
    "source_id", "run_id", "period", "charge_date", "amount", "currency", "amount_reporting", "billed_amount",
    "category", "keys", "service_name", "model", "description", "quantity", "unit", "gpu_hours", "initiative_id",
)
USAGE_COLUMNS = (
    "source_id", "run_id", "period", "usage_date", "model", "input_tokens", "output_tokens", "cached_tokens",
    "requests", "keys", "initiative_id",
)
SEAT_COLUMNS = ("source_id", "run_id", "licence_pool_id", "period", "user", "assigned", "last_activity", "keys")
COST_CATEGORIES = frozenset(CostCategory.values)
ALLOCATION_MEMO_LIMIT = 100_000


class _MemoAllocator:
    """An Allocator that decides each distinct combination of the keys its rules look at only once.

    Allocator.allocate reads only the "initiative" key and each rule's key, so records that agree on those get the
    same answer; large exports repeat a few tag values over millions of lines.
    """

    def __init__(self, allocator: Allocator) -> None:
        self.allocator = allocator
        self.relevant = tuple(sorted({rule.key for rule in allocator.rules} | {"initiative"}))
        self.memo: dict[tuple[Any, ...], int | None] = {}

    def allocate(self, keys: dict[str, Any]) -> int | None:
        signature = tuple(map(keys.get, self.relevant))
        try:
            return self.memo[signature]
        except KeyError:
            pass
        if len(self.memo) >= ALLOCATION_MEMO_LIMIT:
            self.memo.clear()
        result = self.memo[signature] = self.allocator.allocate(keys)
        return result


RECORD_TABLES: tuple[tuple[type[models.Model], tuple[str, ...]], ...] = (
    (CostRecord, COST_COLUMNS), (UsageRecord, USAGE_COLUMNS), (SeatActivity, SEAT_COLUMNS))


class _Writer:
    """Turns connector rows into record rows (tuples of COST/USAGE/SEAT_COLUMNS) and writes them in batches inside
    the run's transaction: no model instance per record, which is what dominated large reads."""

    def __init__(self, run: IngestionRun, period: Period) -> None:
        self.run = run
        self.source = run.source
        self.period = period
        self.source_id, self.run_id, self.month = self.source.pk, run.pk, period.start  # looked up once, not per row
        self.allocator = _MemoAllocator(Allocator.for_source(self.source))
        self.inserter = _Inserter()
        # A query while a batch is in flight waits for it anyway (psycopg's connection lock); waiting first means a
        # failed batch reports its own error rather than "current transaction is aborted".
        self.converter = _Converter(before_query=self.inserter.wait)
        self.rows: dict[type[models.Model], list[tuple[Any, ...]]] = {model: [] for model, _ in RECORD_TABLES}
        self.buffered = 0
        self.pool: LicencePool | None = None
        self.yielded = 0
        self.written = 0
        self.unallocated = Decimal("0")
        self.progress = _Progress(run)

    def add(self, row: Any) -> None:
        self.yielded += 1
        if isinstance(row, CostRow):
            self.rows[CostRecord].append(self._cost(row))
        elif isinstance(row, UsageRow):
            self.rows[UsageRecord].append(self._usage(row))
        elif isinstance(row, SeatRow):
            self.rows[SeatActivity].append(self._seat(row))
        else:
            raise ConnectorError(f"the connector produced an unknown row type {type(row).__name__}")
        self.buffered += 1
        if self.buffered >= BATCH_SIZE:
            self.flush()

    def flush(self) -> None:
        for model, columns in RECORD_TABLES:
            rows = self.rows[model]
            if rows:
                self.rows[model] = []  # the inserter may still be writing the old list
                self.inserter.insert(model, columns, rows)
                self.written += len(rows)
        self.buffered = 0
        self.progress.report(self.yielded)

    def finish(self) -> None:
        """Write what is buffered and wait until every batch is in the database (raising a failed batch's error)."""
        self.flush()
        self.inserter.finish()

    def close(self) -> None:
        self.inserter.close()
        self.progress.close()

    def _check_date(self, day: date, location: str) -> None:
        if not self.period.contains(day):
            raise ConnectorError(f"date {day} is outside the period {self.period.label}", location=location)

    def _cost(self, row: CostRow) -> tuple[Any, ...]:
        self._check_date(row.charge_date, row.location)
        currency = (row.currency or "").strip().upper()
        amount = record_amount(row.amount)
        converted = self.converter.to_reporting(row.amount, currency, row.charge_date, row.location)
        reporting = amount if converted is row.amount else record_amount(converted)
        initiative_id = self.allocator.allocate(row.keys)
        if initiative_id is None:
            self.unallocated += reporting
        return (
            self.source_id, self.run_id, self.month, row.charge_date, amount, currency,
            reporting, None if row.billed_amount is None else record_amount(row.billed_amount),
            row.category if row.category in COST_CATEGORIES else CostCategory.OTHER, row.keys,
            row.service_name[:200], row.model[:200], row.description, row.quantity, row.unit[:80], row.gpu_hours,
            initiative_id,
        )

    def _usage(self, row: UsageRow) -> tuple[Any, ...]:
        self._check_date(row.usage_date, row.location)
        return (
            self.source_id, self.run_id, self.month, row.usage_date, row.model[:200], row.input_tokens,
            row.output_tokens, row.cached_tokens, row.requests, row.keys, self.allocator.allocate(row.keys),
        )

    def _seat(self, row: SeatRow) -> tuple[Any, ...]:
        if self.pool is None:
            self.inserter.wait()
            self.pool = _licence_pool(self.source)
        return (
            self.source_id, self.run_id, self.pool.pk, self.month, row.user[:255], row.assigned,
            row.last_activity, row.keys,
        )


class _Inserter:
    """Writes batches of record rows: bulk_create, or on PostgreSQL a COPY of the same columns.

    On PostgreSQL each COPY runs in a helper thread, on the run's own connection and so inside its transaction, while
    the main thread reads and converts the next batch: the server's share (parsing, six indexes, foreign-key checks)
    overlaps the reading instead of following it. One batch is in flight at a time, and psycopg's connection lock
    makes any query of the main thread meanwhile (a currency's rates, the licence pool) wait for it. The records'
    foreign keys are checked per batch (SET CONSTRAINTS ... IMMEDIATE for this transaction) rather than all at the
    commit, so that work overlaps too; they are set back to deferred, Django's default, once the batches are in.
    """

    def __init__(self) -> None:
        self.postgres = connection.vendor == "postgresql"
        self.executor: ThreadPoolExecutor | None = None
        self.pending: Future[None] | None = None
        self.raw: Any = None
        self.constraints = ""

    def insert(self, model: type[models.Model], columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
        if not self.postgres:
            model.objects.bulk_create([model(**dict(zip(columns, row, strict=True))) for row in rows],
                                      batch_size=BATCH_SIZE)
            return
        statement, json_at = _copy_statement(model, columns)
        if self.executor is None:
            self._start()
        else:
            self.wait()
        assert self.executor is not None
        self.pending = self.executor.submit(_copy_rows, self.raw, statement, json_at, rows)

    def wait(self) -> None:
        pending, self.pending = self.pending, None
        if pending is not None:
            pending.result()

    def finish(self) -> None:
        self.wait()
        if self.constraints:
            with connection.cursor() as cursor:
                cursor.execute(f"SET CONSTRAINTS {self.constraints} DEFERRED")
            self.constraints = ""

    def close(self) -> None:
        """After a failure elsewhere: let a batch in flight end before the transaction rolls back; its own error
        would only repeat the failure, so it is logged, not raised."""
        try:
            self.wait()
        except Exception:
            logger.info("A batch in flight failed while the ingestion run was failing", exc_info=True)
        if self.executor is not None:
            self.executor.shutdown(wait=True)
            self.executor = None

    def _start(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT DISTINCT conname FROM pg_constraint WHERE contype = 'f' AND condeferrable AND condeferred"
                " AND conrelid = ANY(%s::regclass[]) ORDER BY conname",
                [[model._meta.db_table for model, _ in RECORD_TABLES]],
            )
            names = [connection.ops.quote_name(name) for (name,) in cursor.fetchall()]
            if names:
                self.constraints = ", ".join(names)
                cursor.execute(f"SET CONSTRAINTS {self.constraints} IMMEDIATE")
        self.raw = connection.connection
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingestion-copy")


def _copy_statement(model: type[models.Model], columns: tuple[str, ...]) -> tuple[str, list[int]]:
    """COPY ... FROM STDIN for `columns` (attribute names) of `model`, and the positions of its JSON columns."""
    fields = {f.attname: f for f in model._meta.concrete_fields}
    names = ", ".join(connection.ops.quote_name(fields[c].column) for c in columns)
    json_at = [i for i, c in enumerate(columns) if isinstance(fields[c], models.JSONField)]
    return f"COPY {connection.ops.quote_name(model._meta.db_table)} ({names}) FROM STDIN", json_at


def _copy_rows(raw: Any, statement: str, json_at: list[int], rows: list[tuple[Any, ...]]) -> None:
    """In the helper thread: one COPY of `rows` on the psycopg connection `raw`; JSON columns go as JSON text."""
    dumps = json.dumps
    with raw.cursor() as cursor, cursor.copy(statement) as copy:
        write_row = copy.write_row
        for row in rows:
            values = list(row)
            for i in json_at:
                values[i] = dumps(values[i])
            write_row(values)


def _licence_pool(source: CostSource) -> LicencePool:
    pool_id = (source.settings or {}).get("licence_pool")
    if not pool_id:
        raise ConnectorError(f"source {source.name} reports seats but its settings name no licence_pool (an id)")
    try:
        return LicencePool.objects.get(pk=pool_id)
    except (LicencePool.DoesNotExist, ValueError, TypeError):
        raise ConnectorError(f"licence pool {pool_id!r} of source {source.name} does not exist") from None


class _Progress:
    """Rows read so far, visible to the page while the run's transaction is still open.

    On PostgreSQL the count goes through a second connection in autocommit (the run's own transaction commits only at
    the end). It only updates a non-key column, which the run's inserts (FOR KEY SHARE on the run row) never block.
    Elsewhere (SQLite) it is written at the end. Best effort: a failure here never fails the run.
    """

    def __init__(self, run: IngestionRun) -> None:
        self.run = run
        self.side = None

    def report(self, rows: int) -> None:
        self.run.progress = rows
        if connection.vendor != "postgresql":
            return
        try:
            if self.side is None:
                main = connections[DEFAULT_DB_ALIAS]  # the wrapper itself, not the thread-local proxy
                side = main.__class__(dict(main.settings_dict), main.alias)
                with side.cursor() as cursor:
                    cursor.execute("SET lock_timeout = '2s'")
                self.side = side
            with self.side.cursor() as cursor:
                cursor.execute(f"UPDATE {IngestionRun._meta.db_table} SET progress = %s WHERE id = %s",
                               [rows, self.run.pk])
        except Exception:  # progress is cosmetic; the run's data must not depend on it
            logger.warning("Could not report the progress of ingestion run %s", self.run.pk, exc_info=True)

    def close(self) -> None:
        if self.side is not None:
            try:
                self.side.close()
            except Exception:
                logger.warning("Could not close the progress connection of run %s", self.run.pk, exc_info=True)
            self.side = None


def _replace_period(run: IngestionRun, period: Period, path: Path | None) -> _Writer:
    source = run.source
    try:
        connector_type = connector_class(source.type)
    except (ImportError, KeyError, AttributeError) as exc:
        raise ConnectorError(f"no connector for source type {source.type!r} ({exc})") from None
    connector = connector_type(settings=source.settings or {}, credential=_credential(source))
    if path is not None:
        _check_size(path)
    writer = _Writer(run, period)
    try:
        with transaction.atomic():
            try:
                for model in (CostRecord, UsageRecord, SeatActivity):
                    model.objects.filter(source=source, period=period.start).delete()
                for row in connector.read(period, path=path):
                    writer.add(row)
                writer.finish()
            finally:
                writer.close()  # no batch may still be in flight when the transaction commits or rolls back
            rollups_recompute(months={period.start})
            run.status = RunStatus.SUCCEEDED
            run.finished_at = timezone.now()
            run.rows_read = getattr(connector, "rows_read", 0) or writer.yielded
            run.rows_skipped = getattr(connector, "rows_skipped", 0)
            run.rows_written = writer.written
            run.progress = run.rows_read
            run.unallocated_amount = cents(writer.unallocated)
            run.error = ""
            run.save()
    finally:
        writer.close()
    return writer


def ingestion_run_execute(
    *, run: IngestionRun, path: Path | str | None = None, final_attempt: bool = True
) -> IngestionRun:
    """Run a pending or claimed run to its end and record the outcome on it.

    A transient ConnectorError (network, 429, 5xx) on a non-final attempt puts the run back to pending and is raised
    so the Celery task can retry; every other failure is recorded as failed and the previous data stays as it was.
    """
    if run.status == RunStatus.PENDING:
        claimed = ingestion_run_claim(run_id=run.pk)
        if claimed is None:
            return run
        run = claimed
    elif run.status != RunStatus.RUNNING:
        return run
    if run.started_at is None:
        run.started_at = timezone.now()
    period = period_of(run.period)
    input_path = _input_path(run, path)
    if input_path is not None and not run.filename:
        run.filename = input_path.name
    try:
        _replace_period(run, period, input_path)
    except ConnectorError as exc:
        if exc.transient and not final_attempt:
            _record(run, status=RunStatus.PENDING, error=f"Will retry: {exc}")
            raise
        _record(run, status=RunStatus.FAILED, error=str(exc))
    except Exception as exc:
        logger.exception("Ingestion run %s failed unexpectedly", run.pk)
        _record(run, status=RunStatus.FAILED, error=f"Unexpected error ({type(exc).__name__}): {exc}")
    return run


def _record(run: IngestionRun, *, status: str, error: str) -> None:
    """Record a failure (or a retry) outside the rolled-back transaction: nothing was written."""
    run.status = status
    run.error = error
    run.rows_written = 0
    run.unallocated_amount = Decimal("0")
    run.finished_at = timezone.now() if status == RunStatus.FAILED else None
    run.save()


# Roll-ups ------------------------------------------------------------------------------------------------------------


def _pools_charged_in(month: date, month_end: date) -> list[LicencePool]:
    """Pools linked to an initiative that existed in `month`: created by its end, or with seat data for it."""
    with_activity = SeatActivity.objects.filter(period=month).values("licence_pool_id")
    return list(
        LicencePool.objects.filter(initiative__isnull=False).filter(
            Q(created_at__date__lt=month_end) | Q(pk__in=with_activity)
        )
    )


@transaction.atomic
def rollups_recompute(*, months: Iterable[date]) -> None:
    """Rebuild the monthly roll-ups (cost, tokens, seat activity) of `months` from the records of all sources."""
    today = timezone.now().date()
    for month in sorted(set(months)):
        month = month.replace(day=1)
        period = Period.month(month.year, month.month)
        _rollup_costs(period)
        _rollup_tokens(period)
        _rollup_pool_activity(period, today)


def _rollup_costs(period: Period) -> None:
    totals: dict[tuple[int | None, str], Decimal] = defaultdict(Decimal)
    rows = CostRecord.objects.filter(period=period.start).values("initiative_id", "category").annotate(
        total=Sum("amount_reporting")
    )
    for row in rows:
        totals[(row["initiative_id"], row["category"])] += row["total"] or Decimal("0")
    for pool in _pools_charged_in(period.start, period.end):
        totals[(pool.initiative_id, CostCategory.LICENCES)] += calculations.licence_pool_monthly_cost(
            pool.seats_purchased, pool.price_per_seat_month
        )
    MonthlyCost.objects.filter(month=period.start).delete()
    MonthlyCost.objects.bulk_create(
        MonthlyCost(initiative_id=initiative_id, month=period.start, category=category, amount=cents(amount))
        for (initiative_id, category), amount in totals.items()
    )


def _rollup_tokens(period: Period) -> None:
    rows = UsageRecord.objects.filter(period=period.start).values("initiative_id", "model").annotate(
        input=Sum("input_tokens"), output=Sum("output_tokens"), cached=Sum("cached_tokens"), calls=Sum("requests")
    )
    MonthlyTokenUsage.objects.filter(month=period.start).delete()
    MonthlyTokenUsage.objects.bulk_create(
        MonthlyTokenUsage(
            initiative_id=row["initiative_id"], month=period.start, model=row["model"], input_tokens=row["input"] or 0,
            output_tokens=row["output"] or 0, cached_tokens=row["cached"] or 0, requests=row["calls"] or 0,
        )
        for row in rows
    )


def _rollup_pool_activity(period: Period, today: date) -> None:
    start, end = active_window(period.start, period.end, today)
    rows = SeatActivity.objects.filter(period=period.start, licence_pool__isnull=False).values(
        "licence_pool_id", "licence_pool__seats_purchased"
    ).annotate(
        assigned_count=Count("pk", filter=Q(assigned=True)),
        active_count=Count("pk", filter=Q(assigned=True, last_activity__gte=start, last_activity__lt=end)),
    )
    LicencePoolActivity.objects.filter(month=period.start).delete()
    LicencePoolActivity.objects.bulk_create(
        LicencePoolActivity(
            licence_pool_id=row["licence_pool_id"], month=period.start, purchased=row["licence_pool__seats_purchased"],
            assigned=row["assigned_count"], active_30d=row["active_count"],
        )
        for row in rows
    )


# Schedules -----------------------------------------------------------------------------------------------------------


def _previous_month(day: date) -> Period:
    last = day.replace(day=1) - timedelta(days=1)
    return Period.month(last.year, last.month)


def _cron(expression: str, now: datetime) -> crontab:
    minute, hour, day_of_month, month_of_year, day_of_week = expression.split()
    return crontab(minute=minute, hour=hour, day_of_month=day_of_month, month_of_year=month_of_year,
                   day_of_week=day_of_week, nowfun=lambda: now)


def due_periods(source: CostSource, *, now: datetime, last_scheduled_at: datetime | None) -> list[Period]:
    """Which periods a source's schedule wants read now.

    daily: the current month once a day (month to date), plus the previous month on the 1st (late charges);
    monthly: the previous month, once; cron: the current month whenever the expression fell due since the last run.
    """
    today = timezone.localdate(now)
    current = Period.month(today.year, today.month)
    schedule = (source.schedule or "daily").strip()
    if schedule == "daily":
        if last_scheduled_at is not None and timezone.localdate(last_scheduled_at) == today:
            return []
        return [_previous_month(today), current] if today.day == 1 else [current]
    if schedule == "monthly":
        previous = _previous_month(today)
        already = source.runs.filter(trigger=RunTrigger.SCHEDULE, period=previous.start).exists()
        return [] if already else [previous]
    reference = last_scheduled_at or source.created_at
    try:
        due = _cron(schedule, now).remaining_estimate(reference) <= timedelta(0)
    except (ValueError, TypeError):
        logger.warning("Source %s has an invalid schedule %r", source.name, schedule)
        return []
    return [current] if due else []


def _needs_upload(source: CostSource) -> bool:
    try:
        reads_files = getattr(connector_class(source.type), "reads_files", False)
    except (ImportError, KeyError, AttributeError):
        return True  # no connector: nothing a schedule could run
    return reads_files and not (source.settings or {}).get("path")


def ingestion_sources_run_due(*, now: datetime | None = None) -> list[IngestionRun]:
    """Beat job: queue a run for each enabled source whose schedule is due (file sources need a `path` setting)."""
    now = now or timezone.now()
    runs: list[IngestionRun] = []
    for source in CostSource.objects.filter(enabled=True):
        if _needs_upload(source):
            continue  # an export uploaded by hand has no schedule
        if source.runs.filter(status__in=[RunStatus.PENDING, RunStatus.RUNNING]).exists():
            continue
        last = source.runs.filter(trigger=RunTrigger.SCHEDULE).order_by("-created_at").first()
        for period in due_periods(source, now=now, last_scheduled_at=last.created_at if last else None):
            runs.append(ingestion_run_submit(source=source, period=period, trigger=RunTrigger.SCHEDULE))
    return runs
