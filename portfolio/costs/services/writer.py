"""The writer of an ingestion run: converts each row to the reporting currency, allocates it and COPYs it in
batches from a helper thread on the run's own connection, reporting progress through the run lifecycle.

Column-wise batches (CostColumns, from a connector that reads columns) are allocated once per distinct key
combination and COPYed as CSV written by pyarrow, with no Python object per record. Rows go to the record tables, or,
for one part of a month read in parallel, to the run's staging table (`Staging`), which only cost lines may use.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import date
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
from django.db import connection, models

from portfolio.choices import CostCategory
from portfolio.costs.calculations import RateTable, cents, is_currency_code, record_amount
from portfolio.costs.connectors.base import AMOUNT_LIMIT, ConnectorError, CostRow, Period, SeatRow, UsageRow, within
from portfolio.costs.connectors.focus_columns import CostColumns, map_distinct
from portfolio.costs.selectors import LicencePoolKeyError, licence_pool_by_key
from portfolio.costs.services.allocation import Allocator
from portfolio.costs.services.references import cost_references_lock
from portfolio.models import (
    CostRecord,
    CostSource,
    CurrencyRate,
    IngestionRun,
    LicencePool,
    SeatActivity,
    UsageRecord,
    reporting_currency,
)
from tollgate import jobs

logger = logging.getLogger(__name__)

BATCH_SIZE = 5_000
CSV_FLUSH_BYTES = 4 << 20  # column-wise batches are sent to COPY in chunks of about this size


def run_total(total: Decimal, what: str) -> Decimal:
    """`total` to the cent, as a run records it; ConnectorError naming it when a money column cannot hold it (lines
    each within the limit can still add up beyond it), so no run is stored that could not be read back."""
    if abs(total) > AMOUNT_LIMIT:  # compared before rounding: a sum of many lines may be too long to round
        raise ConnectorError(f"{what} totals {total:,.2f} {reporting_currency()}, more than a total holds "
                             f"({AMOUNT_LIMIT:,}): check the amounts read")
    return cents(total)


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
        if not currency:
            raise ConnectorError("the currency is blank (expected an ISO 4217 code like EUR)", location=location)
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
    "category", "keys", "service_name", "model", "description", "quantity", "unit", "gpu_hours", "gpu_cost",
    "gpu_cost_reporting", "initiative_id",
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


class Staging:
    """Where one part of a run read in parallel writes its cost lines: the run's staging table, tagged with the part
    (portfolio.costs.services.parts creates it, moves its rows into the records and drops it)."""

    def __init__(self, table: str, part: int) -> None:
        self.table, self.part = table, part


class RunWriter:
    """Turns connector rows into record rows (tuples of COST/USAGE/SEAT_COLUMNS) and writes them in batches inside
    the run's transaction: no model instance per record, which is what dominated large reads."""

    def __init__(self, run: IngestionRun, period: Period, *, staging: Staging | None = None) -> None:
        self.run = run
        self.staging = staging
        self.source = run.source
        self.period = period
        self.source_id, self.run_id, self.month = self.source.pk, run.pk, period.start  # looked up once, not per row
        self.allocator = _MemoAllocator(Allocator.for_source(self.source))
        self.inserter = _Inserter(staging)
        # A query while a batch is in flight waits for it anyway (psycopg's connection lock); waiting first means a
        # failed batch reports its own error rather than "current transaction is aborted".
        self.converter = _Converter(before_query=self.inserter.wait)
        self.rows: dict[type[models.Model], list[tuple[Any, ...]]] = {model: [] for model, _ in RECORD_TABLES}
        self.buffered = 0
        self.pool: LicencePool | None = None
        self.yielded = 0
        self.written = 0
        self.unallocated = Decimal("0")
        self.columnar = False  # whether column-wise batches were written (their unallocated sum is the database's)
        self.csv: list[bytes] = []
        self.csv_bytes = 0
        self.initiatives: set[int] = set()  # the initiatives its cost records name (checked once, at the end)

    def add(self, row: Any) -> None:
        if isinstance(row, CostColumns):
            self.add_columns(row)
            return
        self.yielded += 1
        if isinstance(row, CostRow):
            self.rows[CostRecord].append(self._cost(row))
        elif self.staging is not None:
            raise ConnectorError(f"a month read in parts takes cost lines only, not {type(row).__name__}")
        elif isinstance(row, UsageRow):
            self.rows[UsageRecord].append(self._usage(row))
        elif isinstance(row, SeatRow):
            self.rows[SeatActivity].append(self._seat(row))
        else:
            raise ConnectorError(f"the connector produced an unknown row type {type(row).__name__}")
        self.buffered += 1
        if self.buffered >= BATCH_SIZE:
            self.flush()

    def add_columns(self, batch: CostColumns) -> None:
        """A column-wise batch: allocated per distinct key combination, COPYed as CSV (PostgreSQL, every line in the
        reporting currency); otherwise its lines go through the row path one by one."""
        if not batch.size:
            return
        reporting = self.converter.reporting
        if not self.inserter.postgres or not pc.all(pc.equal(batch.currency, reporting)).as_py():
            for row in batch.rows():
                self.add(row)
            return
        self.yielded += batch.size
        relevant = self.allocator.relevant
        allocate = self.allocator.allocate
        initiative = map_distinct([batch.key_column(key) for key in relevant],
                                  lambda *values: allocate(dict(zip(relevant, values, strict=True))), pa.int64())
        self.initiatives.update(pc.unique(initiative.drop_null()).to_pylist())
        size = batch.size
        columns: dict[str, pa.Array] = {
            "source_id": pa.array([self.source_id] * size, pa.int64()),
            "run_id": pa.array([self.run_id] * size, pa.int64()),
            "period": pa.array([self.month] * size, pa.date32()),
            "charge_date": batch.charge_date, "amount": batch.amount, "currency": batch.currency,
            "amount_reporting": batch.amount, "billed_amount": batch.billed_amount, "category": batch.category,
            "keys": batch.keys, "service_name": batch.service_name, "model": batch.model,
            "description": batch.description, "quantity": batch.quantity, "unit": batch.unit,
            "gpu_hours": pa.nulls(size, pa.string()), "gpu_cost": pa.nulls(size, pa.string()),
            "gpu_cost_reporting": pa.nulls(size, pa.string()), "initiative_id": initiative,
        }
        if self.staging is not None:
            columns["part"] = pa.array([self.staging.part] * size, pa.int32())
        sink = pa.BufferOutputStream()
        pa_csv.write_csv(pa.table(columns), sink, write_options=pa_csv.WriteOptions(include_header=False))
        data = sink.getvalue().to_pybytes()
        self.csv.append(data)
        self.csv_bytes += len(data)
        self.written += size
        self.columnar = True
        if self.csv_bytes >= CSV_FLUSH_BYTES:
            self.flush()

    def flush(self) -> None:
        if self.csv:
            self.inserter.insert_csv(CostRecord, COST_COLUMNS, b"".join(self.csv))
            self.csv, self.csv_bytes = [], 0
        for model, columns in RECORD_TABLES:
            rows = self.rows[model]
            if rows:
                self.rows[model] = []  # the inserter may still be writing the old list
                self.inserter.insert(model, columns, rows)
                self.written += len(rows)
        self.buffered = 0
        jobs.run_progress(self.run, self.yielded)

    def finish(self) -> None:
        """Write what is buffered and wait until every batch is in the database (raising a failed batch's error)."""
        self.flush()
        self.inserter.finish()
        if self.columnar:  # the database rounded the column-wise amounts: it sums them too
            self.unallocated = self.inserter.unallocated(self.run_id)
        if self.staging is None and self.written:  # a part's records are checked where they are merged
            cost_references_lock(source_id=self.source_id, run_id=self.run_id, initiative_ids=self.initiatives)

    def close(self) -> None:
        self.inserter.close()

    def _check_date(self, day: date, location: str) -> None:
        if not self.period.contains(day):
            raise ConnectorError(f"date {day} is outside the period {self.period.label}", location=location)

    def _cost(self, row: CostRow) -> tuple[Any, ...]:
        values = self._cost_values(row)
        return values if self.staging is None else (*values, self.staging.part)

    def _cost_values(self, row: CostRow) -> tuple[Any, ...]:
        if not (row.billed_in_period and row.charge_date < self.period.end):  # a correction of an earlier month
            self._check_date(row.charge_date, row.location)
        currency = (row.currency or "").strip().upper()
        amount = record_amount(row.amount)
        where = f"{row.location} column {row.currency_column}" if row.currency_column else row.location
        converted = self.converter.to_reporting(row.amount, currency, row.charge_date, where)
        if converted is not row.amount:  # the connector checked the amount as read; its conversion may outgrow it
            within(converted, AMOUNT_LIMIT, raw=f"{converted:,.2f} {self.converter.reporting}",
                   location=f"{row.location} (the amount in the reporting currency)")
        reporting = amount if converted is row.amount else record_amount(converted)
        gpu_cost = gpu_cost_reporting = None
        if row.gpu_cost is not None:  # converted as the amount is (its rate is cached by now)
            gpu_cost = record_amount(row.gpu_cost)
            converted = self.converter.to_reporting(row.gpu_cost, currency, row.charge_date, where)
            if converted is not row.gpu_cost:
                within(converted, AMOUNT_LIMIT, raw=f"{converted:,.2f} {self.converter.reporting}",
                       location=f"{row.location} (the GPU cost in the reporting currency)")
            gpu_cost_reporting = gpu_cost if converted is row.gpu_cost else record_amount(converted)
        self._check_named_initiative(row)
        initiative_id = self.allocator.allocate(row.keys)
        if initiative_id is None:
            self.unallocated += reporting
        else:
            self.initiatives.add(initiative_id)
        return (
            self.source_id, self.run_id, self.month, row.charge_date, amount, currency,
            reporting, None if row.billed_amount is None else record_amount(row.billed_amount),
            row.category if row.category in COST_CATEGORIES else CostCategory.OTHER, row.keys,
            row.service_name[:200], row.model[:200], row.description, row.quantity, row.unit[:80], row.gpu_hours,
            gpu_cost, gpu_cost_reporting, initiative_id,
        )

    def _check_named_initiative(self, row: CostRow | UsageRow) -> None:
        """A row that names an initiative itself (the plain CSV's `initiative` column) must name one that exists: a
        typo would otherwise leave its spend unallocated without a word."""
        named = row.keys.get("initiative")
        if named is not None and str(named) not in self.allocator.allocator.initiative_ids:
            raise ConnectorError(f"no initiative {named}", location=f"{row.location} column initiative")

    def _usage(self, row: UsageRow) -> tuple[Any, ...]:
        self._check_date(row.usage_date, row.location)
        self._check_named_initiative(row)
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
    """Writes batches of record rows: on PostgreSQL a COPY, elsewhere (SQLite) one INSERT run over the whole batch
    (executemany): the same columns either way, without a model instance or a per-value field conversion, which made
    bulk_create the larger part of a run on SQLite.

    On PostgreSQL each COPY runs in a helper thread, on the run's own connection and so inside its transaction, while
    the main thread reads and converts the next batch: the server's share (parsing, indexes, foreign-key checks)
    overlaps the reading instead of following it. One batch is in flight at a time, and psycopg's connection lock
    makes any query of the main thread meanwhile (a currency's rates, the licence pool) wait for it. The usage and
    seat records' foreign keys are checked per batch (SET CONSTRAINTS ... IMMEDIATE for this transaction) rather than
    all at the commit, so that work overlaps too; they are set back to deferred, Django's default, once the batches
    are in. Cost records have no such constraints: their references are checked once (cost_references_lock).
    """

    def __init__(self, staging: Staging | None = None) -> None:
        self.staging = staging
        self.postgres = connection.vendor == "postgresql"
        self.executor: ThreadPoolExecutor | None = None
        self.pending: Future[None] | None = None
        self.raw: Any = None
        self.constraints = ""

    def insert(self, model: type[models.Model], columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
        if not self.postgres:
            _insert_rows(model, columns, rows)
            return
        statement, json_at = _copy_statement(model, columns, self.staging)
        self._submit(_copy_rows, statement, json_at, rows)

    def insert_csv(self, model: type[models.Model], columns: tuple[str, ...], data: bytes) -> None:
        """COPY CSV text of `columns` (plus the part, into a staging table) in the helper thread."""
        statement, _ = _copy_statement(model, columns, self.staging)
        self._submit(_copy_csv, f"{statement} (FORMAT csv)", data)

    def _submit(self, func: Callable[..., None], *args: Any) -> None:
        if self.executor is None:
            self._start()
        else:
            self.wait()
        assert self.executor is not None
        self.pending = self.executor.submit(func, self.raw, *args)

    def unallocated(self, run_id: int) -> Decimal:
        """The run's unallocated spend as written (PostgreSQL only; after finish())."""
        table = connection.ops.quote_name(CostRecord._meta.db_table)
        where, params = "run_id = %s", [run_id]
        if self.staging is not None:
            table = connection.ops.quote_name(self.staging.table)
            where, params = where + " AND part = %s", [run_id, self.staging.part]
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT COALESCE(SUM(amount_reporting), 0) FROM {table} "
                           f"WHERE {where} AND initiative_id IS NULL", params)
            return Decimal(cursor.fetchone()[0])

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


def _copy_statement(
    model: type[models.Model], columns: tuple[str, ...], staging: Staging | None = None
) -> tuple[str, list[int]]:
    """COPY ... FROM STDIN for `columns` (attribute names) of `model`, and the positions of its JSON columns; into
    the staging table (same column names, plus the part) when one is given."""
    fields = {f.attname: f for f in model._meta.concrete_fields}
    names = [connection.ops.quote_name(fields[c].column) for c in columns]
    json_at = [i for i, c in enumerate(columns) if isinstance(fields[c], models.JSONField)]
    table = model._meta.db_table
    if staging is not None:
        table = staging.table
        names.append("part")
    return f"COPY {connection.ops.quote_name(table)} ({', '.join(names)}) FROM STDIN", json_at


def _insert_rows(model: type[models.Model], columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
    """One INSERT executed for every row of the batch; JSON columns go as JSON text, as the ORM writes them (the
    driver adapts decimals, dates and booleans as it does for the ORM)."""
    fields = {f.attname: f for f in model._meta.concrete_fields}
    names = ", ".join(connection.ops.quote_name(fields[c].column) for c in columns)
    json_at = [i for i, c in enumerate(columns) if isinstance(fields[c], models.JSONField)]
    statement = (f"INSERT INTO {connection.ops.quote_name(model._meta.db_table)} ({names}) "
                 f"VALUES ({', '.join(['%s'] * len(columns))})")
    dumps = json.dumps

    def values(row: tuple[Any, ...]) -> list[Any]:
        converted = list(row)
        for i in json_at:
            converted[i] = dumps(converted[i])
        return converted

    with connection.cursor() as cursor:
        cursor.executemany(statement, [values(row) for row in rows])


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


def _copy_csv(raw: Any, statement: str, data: bytes) -> None:
    """In the helper thread: one COPY of CSV text on the psycopg connection `raw`."""
    with raw.cursor() as cursor, cursor.copy(statement) as copy:
        copy.write(data)


def _licence_pool(source: CostSource) -> LicencePool:
    """The pool a seat source's settings name by its stable key (portfolio.costs.selectors.licence_pool_by_key)."""
    key = (source.settings or {}).get("licence_pool")
    if key is None or key == "":
        raise ConnectorError(f"source {source.name} reports seats but its settings name no licence_pool (the "
                             "external id of the initiative whose pool it is, e.g. INV-0009)")
    try:
        return licence_pool_by_key(key)
    except LicencePoolKeyError as exc:
        raise ConnectorError(f"source {source.name}, settings.licence_pool: {exc}") from None
