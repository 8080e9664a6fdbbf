"""FinOps FOCUS billing exports (1.0-1.2, and the 1.3 column names) as CSV, gzip CSV or Parquet.

Only AI spend is kept: rows whose ServiceCategory is one of the source's `ai_service_categories` (default
"AI and Machine Learning") or whose ServiceName is one of its `ai_service_names` (GPU VMs and coding assistants are
often classified elsewhere, FORMATS.md). Other rows are counted as skipped. EffectiveCost is the amount (amortised,
what the initiative really consumed); BilledCost is kept for reconciling against invoices.

The file is streamed in record batches (pyarrow's CSV reader in blocks of CSV_BLOCK_BYTES, Parquet by row group),
so memory does not grow with its size. Each batch is checked and filtered column-wise (charge dates in the period,
AI rows picked by the distinct category and service names), and only the AI rows become Python objects.
Every problem raises ConnectorError naming the file, the row (the header is row 1) and the column. When the fast
reader meets a problem in a CSV, the file is read again by the row-by-row reference reader (Python's csv module,
same checks) up to that point, so the error named is exactly the first one in row order, numbered as an editor
numbers the file's records, blank lines included.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import json
import zlib
from collections.abc import Generator, Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, BinaryIO, ClassVar

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from portfolio.costs.connectors.base import ConnectorError, CostCategory, CostRow, Period, Row

AI_CATEGORY = "AI and Machine Learning"
MANDATORY_COLUMNS = ("BilledCost", "EffectiveCost", "ChargePeriodStart", "ServiceCategory", "ServiceName",
                     "BillingCurrency")
PROVIDER_COLUMNS = ("ServiceProviderName", "ProviderName")  # 1.3 name first, then 1.0-1.2
NULL_TOKENS = frozenset({"", "NULL", "null"})
GZIP_MAGIC = b"\x1f\x8b"
PARQUET_MAGIC = b"PAR1"
PARQUET_BATCH_ROWS = 10_000
CSV_BLOCK_BYTES = 1 << 20  # CSV parsed per record batch (~2,500 rows); pyarrow reads up to 32 blocks ahead
REFERENCE_BATCH_ROWS = 10_000  # batch size of the row-by-row reference reader that pins down errors
MEMO_LIMIT = 100_000  # distinct tag sets / timestamps / categories remembered before a memo starts over
# Exactly what str.strip() strips (every character for which str.isspace() is true), for the column-wise clean-up.
WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000"
)

INFERENCE_SUBCATEGORIES = frozenset({"generative ai", "natural language processing", "bots", "ai platforms"})
COMPUTE_SUBCATEGORIES = frozenset({"machine learning", "virtual machines", "gpu compute"})
# The columns a CostRow is made of besides ChargePeriodStart, in the order _batch_rows unpacks them: read as text(),
# then as raw cells (cleaned when they are text) for Tags and the numbers.
TEXT_COLUMNS = (
    "ServiceCategory", "ServiceSubcategory", "ServiceName", "BillingCurrency", "x_Model", "ChargeDescription",
    "ServiceProviderName", "ProviderName", "ConsumedUnit", "PricingUnit", "BillingAccountId", "SubAccountId",
    "ResourceId",
)
RAW_COLUMNS = ("Tags", "EffectiveCost", "BilledCost", "ConsumedQuantity", "PricingQuantity")


def file_kind(path: Path) -> str:
    """'parquet', 'gzip' or 'csv', by suffix or, failing that, by the file's first bytes."""
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return "parquet"
    if suffix == ".gz":
        return "gzip"
    with path.open("rb") as handle:
        head = handle.read(4)
    if head.startswith(GZIP_MAGIC):
        return "gzip"
    if head == PARQUET_MAGIC:
        return "parquet"
    return "csv"


@contextmanager
def open_binary(path: Path) -> Iterator[BinaryIO]:
    """Open an export, gzip-compressed or not, as bytes; a missing or empty file is an error."""
    if not path.exists():
        raise ConnectorError("file not found", location=path.name)
    if path.stat().st_size == 0:
        raise ConnectorError("the file is empty", location=path.name)
    handle: BinaryIO = gzip.open(path, "rb") if file_kind(path) == "gzip" else path.open("rb")  # type: ignore[assignment]
    try:
        yield handle
    finally:
        handle.close()


def _lines(handle: BinaryIO, name: str) -> Iterator[str]:
    """Strict UTF-8 lines (a BOM is allowed), decoded one by one so an error names its line."""
    number = 0
    try:
        for number, raw in enumerate(handle, start=1):
            if number == 1 and raw.startswith(codecs.BOM_UTF8):
                raw = raw[len(codecs.BOM_UTF8):]
            try:
                yield raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise ConnectorError(
                    f"the file is not UTF-8 text (byte 0x{raw[exc.start]:02x}); export it as UTF-8",
                    location=f"{name} row {number}",
                ) from None
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        raise ConnectorError(
            f"the gzip file is truncated or corrupt ({exc})", location=f"{name} row {number + 1}"
        ) from None


def csv_records(path: Path) -> Generator[tuple[int, list[str]], None, None]:
    """(row number, cells) of a CSV or gzip CSV file, header first as row 1; decoding and gzip errors name the row."""
    with open_binary(path) as handle:
        reader = csv.reader(_lines(handle, path.name))
        number = 0
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                raise ConnectorError(f"malformed CSV: {exc}", location=f"{path.name} row {number + 1}") from None
            number += 1
            yield number, cells
        if number == 0:
            raise ConnectorError("the file is empty", location=path.name)


def text(value: Any) -> str | None:
    """A cell as text, or None for FOCUS's literal NULL and blanks."""
    if value is None:
        return None
    if isinstance(value, datetime | date):
        return value.isoformat()
    value = str(value).strip()
    return None if value in NULL_TOKENS else value


def decimal_cell(value: Any, where: str, *, required: bool) -> Decimal | None:
    raw = text(value)
    if raw is None:
        if required:
            raise ConnectorError("the cost is blank", location=where)
        return None
    try:
        number = Decimal(raw)
    except InvalidOperation:
        raise ConnectorError(f"{raw!r} is not a number", location=where) from None
    if not number.is_finite():
        raise ConnectorError(f"{raw!r} is not a finite number", location=where)
    return number


def date_cell(value: Any, where: str) -> date:
    """The date of a FOCUS DateTime ('2025-06-14T00:00:00Z', or '2024-09-18 22:00:00' as some exports write it)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    raw = text(value)
    if raw is None:
        raise ConnectorError("the date is blank", location=where)
    try:
        return date.fromisoformat(raw[:10])
    except ValueError:
        raise ConnectorError(f"{raw!r} is not an ISO 8601 date", location=where) from None


def tag_keys(value: Any, where: str) -> dict[str, str]:
    """FOCUS Tags (a JSON object of flat values) as allocation keys 'tag:<name>'; a tag without value is 'true'."""
    if value is None:
        return {}
    pairs: Iterable[tuple[Any, Any]]
    if isinstance(value, Mapping):
        pairs = value.items()
    elif isinstance(value, list):  # Parquet map columns come back as [(key, value), ...]
        pairs = value
    else:
        raw = text(value)
        if raw is None:
            return {}
        try:
            parsed = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ConnectorError(f"Tags is not valid JSON ({exc.msg})", location=where) from None
        if not isinstance(parsed, dict):
            raise ConnectorError("Tags must be a JSON object of key-value pairs", location=where)
        pairs = parsed.items()
    keys: dict[str, str] = {}
    for key, tag_value in pairs:
        if tag_value is None or tag_value is True:
            tag_value = "true"
        elif tag_value is False:
            tag_value = "false"
        keys[f"tag:{str(key).strip()}"] = str(tag_value)
    return keys


def cost_category(service_category: str, subcategory: str | None) -> str:
    """Where a FOCUS line goes in the TCO split; subcategory first (1.1+), then the category."""
    sub = (subcategory or "").casefold()
    if sub in INFERENCE_SUBCATEGORIES:
        return CostCategory.INFERENCE
    if sub in COMPUTE_SUBCATEGORIES or "gpu" in sub:
        return CostCategory.COMPUTE
    category = service_category.casefold()
    if category == "compute":
        return CostCategory.COMPUTE
    if category == "storage":
        return CostCategory.STORAGE
    return CostCategory.OTHER


def _location(filename: str, number: int, column: str | None = None) -> str:
    return f"{filename} row {number} column {column}" if column else f"{filename} row {number}"


def _clean(column: pa.Array) -> pa.Array:
    """Column-wise text(): stripped strings, with blanks and FOCUS's literal NULL as nulls."""
    trimmed = pc.utf8_trim(column, characters=WHITESPACE)
    nulls = pc.is_in(trimmed, value_set=pa.array(sorted(NULL_TOKENS), type=trimmed.type))
    return pc.if_else(nulls, pa.scalar(None, type=trimmed.type), trimmed)


def _is_text(column: pa.Array) -> bool:
    return pa.types.is_string(column.type) or pa.types.is_large_string(column.type)


def _string_batch(header: list[str], rows: list[list[str]]) -> pa.RecordBatch:
    columns = [pa.array(values, type=pa.string()) for values in zip(*rows, strict=True)]
    return pa.RecordBatch.from_arrays(columns, names=header)


def _number(value: Any, filename: str, number: int, column: str, *, required: bool) -> Decimal | None:
    """decimal_cell() for a value already cleaned column-wise (str or None), or a typed Parquet value."""
    if type(value) is not str:
        return decimal_cell(value, _location(filename, number, column), required=required)
    try:
        result = Decimal(value)
    except InvalidOperation:
        raise ConnectorError(f"{value!r} is not a number", location=_location(filename, number, column)) from None
    if not result.is_finite():
        raise ConnectorError(f"{value!r} is not a finite number", location=_location(filename, number, column))
    return result


class FocusConnector:
    """Reads one month of a FOCUS export file. `rows_read` and `rows_skipped` are filled in as it goes."""

    type: ClassVar[str] = "focus"
    reads_files: ClassVar[bool] = True

    def __init__(self, *, settings: Mapping[str, Any], credential: str | None = None) -> None:
        categories = settings.get("ai_service_categories") or [AI_CATEGORY]
        self.ai_categories = frozenset(str(c).strip().casefold() for c in categories)
        self.ai_names = frozenset(str(n).strip().casefold() for n in settings.get("ai_service_names") or [])
        self.default_path = settings.get("path") or ""
        self.rows_read = 0
        self.rows_skipped = 0
        # Memos of what repeats across millions of rows: parsed tag sets, charge dates, categories.
        self._tags: dict[str, dict[str, str]] = {}
        self._dates: dict[str, date] = {}
        self._categories: dict[tuple[str, str | None], str] = {}

    def resolve_path(self, period: Period, path: Path | None) -> Path:
        """The file given, or the source's `path` setting with '{period}' replaced by YYYY-MM."""
        if path is not None:
            return Path(path)
        if self.default_path:
            return Path(str(self.default_path).replace("{period}", period.label))
        raise ConnectorError("a FOCUS source reads an export file: give one (--file PATH or an upload)")

    def read(self, period: Period, *, path: Path | None = None) -> Iterator[Row]:
        path = self.resolve_path(period, path)
        if not path.exists():
            raise ConnectorError("file not found", location=str(path))
        if file_kind(path) == "parquet":
            for first, batch in self._parquet_batches(path):
                yield from self._batch_rows(period, path.name, first, batch)
            return
        header = self._csv_header(path)
        try:
            for first, batch in self._arrow_csv_batches(path, header):
                yield from self._batch_rows(period, path.name, first, batch)
        except (ConnectorError, pa.ArrowException, OSError, EOFError, zlib.error) as exc:
            exact = self._first_csv_error(period, path, header)
            if exact is not None:
                raise exact from None
            if isinstance(exc, ConnectorError):
                raise
            raise ConnectorError(f"unreadable CSV ({exc})", location=path.name) from None

    # Readers: each yields (row number of the batch's first row, record batch) after checking the header ------------

    def _check_header(self, columns: list[str], filename: str) -> None:
        missing = [c for c in MANDATORY_COLUMNS if c not in columns]
        if not any(c in columns for c in PROVIDER_COLUMNS):
            missing.append("ProviderName (1.0-1.2) or ServiceProviderName (1.3)")
        if missing:
            raise ConnectorError(
                f"missing mandatory FOCUS column(s): {', '.join(missing)}", location=f"{filename} row 1"
            )

    def _csv_header(self, path: Path) -> list[str]:
        records = csv_records(path)
        try:
            _, header = next(records)
        finally:
            records.close()
        header = [h.strip() for h in header]
        self._check_header(header, path.name)
        return header

    def _arrow_csv_batches(self, path: Path, header: list[str]) -> Iterator[tuple[int, pa.RecordBatch]]:
        """The fast reader: pyarrow parses and UTF-8-checks every column in blocks, all as strings."""
        read_options = pa_csv.ReadOptions(column_names=header, skip_rows=1, block_size=CSV_BLOCK_BYTES)
        parse_options = pa_csv.ParseOptions(newlines_in_values=True)
        convert_options = pa_csv.ConvertOptions(
            column_types={name: pa.string() for name in header}, strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        )
        compression = "gzip" if file_kind(path) == "gzip" else None
        with pa.input_stream(str(path), compression=compression) as stream:
            reader = pa_csv.open_csv(stream, read_options=read_options, parse_options=parse_options,
                                     convert_options=convert_options)
            first = 2
            for batch in reader:
                yield first, batch
                first += batch.num_rows

    def _reference_csv_batches(self, path: Path, header: list[str]) -> Iterator[tuple[int, pa.RecordBatch]]:
        """The row-by-row reader (Python's csv module): slower, but it names the exact row of a malformed line.

        A blank line is counted as a row (as an editor counts it) and ends a batch, so row numbers stay exact.
        """
        width = len(header)
        records = csv_records(path)
        next(records)
        pending: list[list[str]] = []
        first = 2
        try:
            for number, cells in records:
                if not cells:
                    if pending:
                        yield first, _string_batch(header, pending)
                        pending = []
                    continue
                if len(cells) != width:
                    raise ConnectorError(
                        f"expected {width} columns as in the header, found {len(cells)}",
                        location=f"{path.name} row {number}",
                    )
                if not pending:
                    first = number
                pending.append(cells)
                if len(pending) == REFERENCE_BATCH_ROWS:
                    yield first, _string_batch(header, pending)
                    pending = []
        except ConnectorError:
            if pending:  # the rows before the broken line come first: an error among them is the first error
                yield first, _string_batch(header, pending)
            raise
        if pending:
            yield first, _string_batch(header, pending)

    def _first_csv_error(self, period: Period, path: Path, header: list[str]) -> ConnectorError | None:
        """The first problem of a CSV in row order, found by the reference reader with the same checks."""
        try:
            for first, batch in self._reference_csv_batches(path, header):
                for _ in self._batch_rows(period, path.name, first, batch):
                    pass
        except ConnectorError as exc:
            return exc
        return None

    def _parquet_batches(self, path: Path) -> Iterator[tuple[int, pa.RecordBatch]]:
        try:
            parquet = pq.ParquetFile(path)
        except (pa.ArrowException, OSError) as exc:
            raise ConnectorError(f"not a readable Parquet file ({exc})", location=path.name) from None
        self._check_header(list(parquet.schema_arrow.names), path.name)
        first = 2  # the schema plays the header's part, so data rows are numbered as in the CSV
        try:
            for batch in parquet.iter_batches(batch_size=PARQUET_BATCH_ROWS):
                yield first, batch
                first += batch.num_rows
        except (pa.ArrowException, OSError) as exc:
            raise ConnectorError(f"the Parquet file is corrupt ({exc})", location=f"{path.name} row {first}") from None

    # Normalisation ---------------------------------------------------------------------------------------------------

    def _batch_rows(self, period: Period, filename: str, first: int, batch: pa.RecordBatch) -> Iterator[CostRow]:
        """The AI rows of one batch as CostRows, in row order; the first bad value raises, naming row and column."""
        size = batch.num_rows
        read_before, skipped_before = self.rows_read, self.rows_skipped
        stop, date_error = self._first_date_error(period, filename, first, batch)
        mask = self._matching(batch, "ServiceCategory", self.ai_categories)
        if self.ai_names:
            mask = pc.or_(mask, self._matching(batch, "ServiceName", self.ai_names))
        indices = pc.indices_nonzero(mask)
        read = map(batch.schema.get_field_index, ("ChargePeriodStart", *TEXT_COLUMNS, *RAW_COLUMNS))
        used = [i for i in read if i >= 0]
        ai = batch.select(used).take(indices)  # only the AI rows of only the columns read
        values = [indices.to_pylist(), self._raw(ai, "ChargePeriodStart", clean=False)]
        values += [self._texts(ai, name) for name in TEXT_COLUMNS]
        values += [self._raw(ai, name) for name in RAW_COLUMNS]
        dates, categories = self._dates, self._categories
        for position, (index, start, category, subcategory, name, currency, model, description, provider,
                       old_provider, consumed_unit, pricing_unit, account, sub_account, resource, tags,
                       effective, billed, consumed, pricing) in enumerate(zip(*values, strict=True)):
            if index >= stop:
                break
            number = first + index
            self.rows_read = read_before + index + 1
            self.rows_skipped = skipped_before + index - position
            keys = self._tag_keys(tags, filename, number)
            if account is not None:
                keys["billing_account_id"] = account
            if sub_account is not None:
                keys["sub_account_id"] = sub_account
            if resource is not None:
                keys["resource_id"] = resource
            if name is not None:
                keys["service_name"] = name
            quantity = _number(consumed, filename, number, "ConsumedQuantity", required=False)
            unit = consumed_unit
            if quantity is None:
                quantity = _number(pricing, filename, number, "PricingQuantity", required=False)
                unit = pricing_unit
            charge_date = dates.get(start) if type(start) is str else None
            if charge_date is None:
                charge_date = date_cell(start, _location(filename, number, "ChargePeriodStart"))
                if type(start) is str:
                    if len(dates) >= MEMO_LIMIT:
                        dates.clear()
                    dates[start] = charge_date
            service_category, service_name = category or "", name or ""
            cost_kind = categories.get((service_category, subcategory))
            if cost_kind is None:
                if len(categories) >= MEMO_LIMIT:
                    categories.clear()
                cost_kind = categories[(service_category, subcategory)] = cost_category(service_category, subcategory)
            provider = provider or old_provider or ""
            yield CostRow(
                charge_date=charge_date,
                amount=_number(effective, filename, number, "EffectiveCost", required=True),  # type: ignore[arg-type]
                billed_amount=_number(billed, filename, number, "BilledCost", required=True),
                currency=(currency or "").upper(),
                category=cost_kind,
                keys=keys,
                service_name=service_name,
                model=model or "",
                description=description or f"{provider} {service_name}".strip(),
                quantity=quantity,
                unit=unit or "",
                location=f"{filename} row {number}",
            )
        if date_error is not None:
            self.rows_read = read_before + stop + 1
            raise date_error
        self.rows_read = read_before + size
        self.rows_skipped = skipped_before + size - len(indices)

    def _first_date_error(
        self, period: Period, filename: str, first: int, batch: pa.RecordBatch
    ) -> tuple[int, ConnectorError | None]:
        """Index and error of the batch's first charge date outside the period (every row, AI or not: a file of
        another month is wrong as a whole), or (batch size, None). A cheap prefix check first, parsing where needed."""
        label = period.label
        starts = batch.column(batch.schema.get_field_index("ChargePeriodStart"))
        if _is_text(starts):
            in_month = pc.fill_null(pc.starts_with(starts, pattern=label), False)
            if pc.all(in_month).as_py():
                return batch.num_rows, None
            candidates: list[int] = pc.indices_nonzero(pc.invert(in_month)).to_pylist()
        else:
            candidates = list(range(batch.num_rows))
        values = starts.take(pa.array(candidates, type=pa.int64())).to_pylist()
        for index, value in zip(candidates, values, strict=True):
            if isinstance(value, str) and value[:7] == label:
                continue
            where = _location(filename, first + index, "ChargePeriodStart")
            try:
                charge_date = date_cell(value, where)
            except ConnectorError as exc:
                return index, exc
            if not period.contains(charge_date):
                return index, ConnectorError(f"charge date {charge_date} is outside the period {label}", location=where)
        return batch.num_rows, None

    @staticmethod
    def _matching(batch: pa.RecordBatch, name: str, accepted: frozenset[str]) -> pa.Array:
        """Rows whose `name` column, as text() and case-folded, is in `accepted`: decided once per distinct value."""
        index = batch.schema.get_field_index(name)
        if index < 0:
            return pa.array([False] * batch.num_rows, type=pa.bool_())
        column = batch.column(index)
        hits = [v for v in pc.unique(column).to_pylist() if (text(v) or "").casefold() in accepted]
        return pc.fill_null(pc.is_in(column, value_set=pa.array(hits, type=column.type)), False)

    @staticmethod
    def _raw(batch: pa.RecordBatch, name: str, *, clean: bool = True) -> list[Any]:
        """A column's values: text columns cleaned (str or None), typed Parquet columns as Python values."""
        index = batch.schema.get_field_index(name)
        if index < 0:
            return [None] * batch.num_rows
        column = batch.column(index)
        return (_clean(column) if clean and _is_text(column) else column).to_pylist()

    @staticmethod
    def _texts(batch: pa.RecordBatch, name: str) -> list[str | None]:
        """A column as text() would read each cell: stripped strings, None for blanks and NULL."""
        index = batch.schema.get_field_index(name)
        if index < 0:
            return [None] * batch.num_rows
        column = batch.column(index)
        if _is_text(column):
            return _clean(column).to_pylist()
        return [text(value) for value in column.to_pylist()]

    def _tag_keys(self, tags: Any, filename: str, number: int) -> dict[str, str]:
        """tag_keys() of a cell, parsed once per distinct JSON text; always a fresh dict the caller may extend."""
        if type(tags) is not str:
            return tag_keys(tags, _location(filename, number, "Tags"))
        parsed = self._tags.get(tags)
        if parsed is None:
            parsed = tag_keys(tags, _location(filename, number, "Tags"))
            if len(self._tags) >= MEMO_LIMIT:
                self._tags.clear()
            self._tags[tags] = parsed
        return dict(parsed)
