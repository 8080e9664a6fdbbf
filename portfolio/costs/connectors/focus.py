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

import glob
import zlib
from collections import Counter
from collections.abc import Iterator, Mapping
from datetime import date
from pathlib import Path
from typing import Any, ClassVar

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from portfolio.costs.connectors.base import (
    SKIPPED_BILLED_ELSEWHERE,
    SKIPPED_NOT_AI,
    ConnectorError,
    CostRow,
    Period,
    Row,
    export_path,
)
from portfolio.costs.connectors.files import (
    check_unique_columns,
    csv_header,
    csv_records,
    file_kind,
    separator_hint,
)
from portfolio.costs.connectors.focus_cells import (
    clean_text_column,
    cost_category,
    date_cell,
    is_text_column,
    location,
    number_cell,
    string_batch,
    tag_keys,
    text,
)
from portfolio.costs.connectors.focus_columns import CostColumns, cost_columns

AI_CATEGORY = "AI and Machine Learning"
MANDATORY_COLUMNS = ("BilledCost", "EffectiveCost", "ChargePeriodStart", "ServiceCategory", "ServiceName",
                     "BillingCurrency")
PROVIDER_COLUMNS = ("ServiceProviderName", "ProviderName")  # 1.3 name first, then 1.0-1.2
PARQUET_BATCH_ROWS = 10_000
CSV_BLOCK_BYTES = 4 << 20  # CSV parsed per record batch (~10,000 rows); pyarrow reads up to 32 blocks ahead
REFERENCE_BATCH_ROWS = 10_000  # batch size of the row-by-row reference reader that pins down errors
MEMO_LIMIT = 100_000  # distinct tag sets / timestamps / categories remembered before a memo starts over
# A FOCUS DateTime certainly in the month {month} (YYYY-MM) as written: UTC ('Z') or without a zone; anything else
# (an offset, a typo) is parsed by date_cell.
UTC_TIME = r"^{month}-(0[1-9]|[12][0-9]|3[01])([T ][0-2][0-9]:[0-5][0-9](:[0-5][0-9](\.[0-9]+)?)?Z?)?$"
# The columns a CostRow is made of besides ChargePeriodStart, in the order _batch_rows unpacks them: read as text(),
# then as raw cells (cleaned when they are text) for Tags and the numbers.
TEXT_COLUMNS = (
    "ServiceCategory", "ServiceSubcategory", "ServiceName", "BillingCurrency", "x_Model", "ChargeDescription",
    "ServiceProviderName", "ProviderName", "ConsumedUnit", "PricingUnit", "BillingAccountId", "SubAccountId",
    "ResourceId",
)
RAW_COLUMNS = ("Tags", "EffectiveCost", "BilledCost", "ConsumedQuantity", "PricingQuantity")


class FocusConnector:
    """Reads one month of a FOCUS export file. `rows_read` and `rows_skipped` are filled in as it goes."""

    type: ClassVar[str] = "focus"
    reads_files: ClassVar[bool] = True
    reads_columns: ClassVar[bool] = True  # read(columnar=True) may yield CostColumns

    def __init__(self, *, settings: Mapping[str, Any], credential: str | None = None) -> None:
        categories = settings.get("ai_service_categories") or [AI_CATEGORY]
        self.ai_categories = frozenset(str(c).strip().casefold() for c in categories)
        self.ai_names = frozenset(str(n).strip().casefold() for n in settings.get("ai_service_names") or [])
        self.default_path = settings.get("path") or ""
        self.rows_read = 0
        self.rows_skipped = 0
        self._billed_elsewhere: Counter[str] = Counter()  # months of the rows billed in another period, skipped
        self._billed_here = 0  # rows of the file being read billed in the run's month
        self._first_elsewhere: int | None = None  # the file's first row billed in another period
        # Memos of what repeats across millions of rows: parsed tag sets, charge dates, categories.
        self._tags: dict[str, dict[str, str]] = {}
        self._dates: dict[str, date] = {}
        self._categories: dict[tuple[str, str | None], str] = {}

    def resolve_path(self, period: Period, path: Path | None) -> Path:
        """The file given, or the source's `path` setting with '{period}' replaced by YYYY-MM."""
        return export_path(period, path, configured=self.default_path,
                           missing="a FOCUS source reads an export file: give one (--file PATH or an upload)")

    def resolve_paths(self, period: Period, path: Path | None) -> list[Path]:
        """The files of the period: the file given; else the `path` setting, which may be a glob pattern
        ('/exports/{period}/part-*.csv.gz') or a folder (every file in it) for an export split in many files, read
        in name order. A pattern that matches nothing is an error, as a missing file is."""
        resolved = self.resolve_path(period, path)
        if path is not None:
            return [resolved]
        if resolved.is_dir():
            files = sorted(p for p in resolved.iterdir() if p.is_file() and not p.name.startswith("."))
        elif glob.has_magic(str(resolved)):
            files = sorted(Path(p) for p in glob.glob(str(resolved)) if Path(p).is_file())
        else:
            return [resolved]
        if not files:
            raise ConnectorError("no export file matches", location=str(resolved))
        return files

    @classmethod
    def check_header(cls, path: Path) -> None:
        """ConnectorError, as a run of the file would raise it, when its header shows it is no FOCUS export: a CSV's
        header row or a Parquet file's schema (its footer) lacks mandatory columns, or the file cannot be read as
        either. Reads no rows: an upload is checked with it before its run is created."""
        if not path.exists():
            raise ConnectorError("file not found", location=str(path))
        if file_kind(path) == "parquet":
            cls._parquet_file(path).close()
        else:
            cls._csv_header(path)

    def read(self, period: Period, *, path: Path | None = None, columnar: bool = False) -> Iterator[Row | CostColumns]:
        """The period's AI cost lines, file after file. With `columnar`, batches that allow it come as CostColumns
        (every other one as CostRows), for a writer that copies columns into the database without row objects."""
        for file in self.resolve_paths(period, path):
            yield from self._read_file(period, file, columnar)

    def _read_file(self, period: Period, path: Path, columnar: bool) -> Iterator[Row | CostColumns]:
        self._billed_here, self._first_elsewhere = 0, None
        yield from self._read_rows(period, path, columnar)
        if not self._billed_here and self._first_elsewhere is not None:
            months = ", ".join(sorted(self._billed_elsewhere))
            raise ConnectorError(
                f"no row is billed in {period.label}: this is the export of billing period {months}; read it for "
                "that month", location=location(path.name, self._first_elsewhere, "BillingPeriodStart"))

    def _read_rows(self, period: Period, path: Path, columnar: bool) -> Iterator[Row | CostColumns]:
        if not path.exists():
            raise ConnectorError("file not found", location=str(path))
        if file_kind(path) == "parquet":
            for first, batch in self._parquet_batches(path):
                yield from self._batch_items(period, path.name, first, batch, columnar)
            return
        header = self._csv_header(path)
        try:
            for first, batch in self._arrow_csv_batches(path, header):
                yield from self._batch_items(period, path.name, first, batch, columnar)
        except (ConnectorError, pa.ArrowException, OSError, EOFError, zlib.error) as exc:
            exact = self._first_csv_error(period, path, header)
            if exact is not None:
                raise exact from None
            if isinstance(exc, ConnectorError):
                raise
            raise ConnectorError(f"unreadable CSV ({exc})", location=path.name) from None

    # Readers: each yields (row number of the batch's first row, record batch) after checking the header ------------

    @staticmethod
    def _check_columns(columns: list[str], filename: str) -> None:
        check_unique_columns(columns, filename)
        missing = [c for c in MANDATORY_COLUMNS if c not in columns]
        if not any(c in columns for c in PROVIDER_COLUMNS):
            missing.append("ProviderName (1.0-1.2) or ServiceProviderName (1.3)")
        if missing:
            raise ConnectorError(
                f"missing mandatory FOCUS column(s): {', '.join(missing)}{separator_hint(columns)}",
                location=f"{filename} row 1",
            )

    @classmethod
    def _csv_header(cls, path: Path) -> list[str]:
        header = [h.strip() for h in csv_header(path)]
        cls._check_columns(header, path.name)
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
                        yield first, string_batch(header, pending)
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
                    yield first, string_batch(header, pending)
                    pending = []
        except ConnectorError:
            if pending:  # the rows before the broken line come first: an error among them is the first error
                yield first, string_batch(header, pending)
            raise
        if pending:
            yield first, string_batch(header, pending)

    def _first_csv_error(self, period: Period, path: Path, header: list[str]) -> ConnectorError | None:
        """The first problem of a CSV in row order, found by the reference reader with the same checks."""
        try:
            for first, batch in self._reference_csv_batches(path, header):
                for _ in self._batch_rows(period, path.name, first, batch):
                    pass
        except ConnectorError as exc:
            return exc
        return None

    @classmethod
    def _parquet_file(cls, path: Path) -> pq.ParquetFile:
        """The Parquet file opened, its schema checked: only its footer is read."""
        try:
            parquet = pq.ParquetFile(path)
        except (pa.ArrowException, OSError) as exc:
            raise ConnectorError(f"not a readable Parquet file ({exc})", location=path.name) from None
        try:
            cls._check_columns(list(parquet.schema_arrow.names), path.name)
        except ConnectorError:
            parquet.close()
            raise
        return parquet

    def _parquet_batches(self, path: Path) -> Iterator[tuple[int, pa.RecordBatch]]:
        parquet = self._parquet_file(path)
        first = 2  # the schema plays the header's part, so data rows are numbered as in the CSV
        try:
            for batch in parquet.iter_batches(batch_size=PARQUET_BATCH_ROWS):
                yield first, batch
                first += batch.num_rows
        except (pa.ArrowException, OSError) as exc:
            raise ConnectorError(f"the Parquet file is corrupt ({exc})", location=f"{path.name} row {first}") from None
        finally:  # a run stopped part-way (an error in a row, a cancelled run) must not keep the file open
            parquet.close()

    # Normalisation ---------------------------------------------------------------------------------------------------

    def _batch_items(
        self, period: Period, filename: str, first: int, batch: pa.RecordBatch, columnar: bool
    ) -> Iterator[CostRow | CostColumns]:
        """The batch's AI rows as one CostColumns when asked and the batch allows it, else as CostRows."""
        checked = self._period_rows(period, filename, first, batch)
        self._count_billing(batch, first, *checked)
        stop, date_error, in_billing = checked
        if columnar and date_error is None:
            indices = pc.indices_nonzero(self._kept(batch, in_billing))
            read_before, skipped_before = self.rows_read, self.rows_skipped

            def rows() -> Iterator[CostRow]:
                self.rows_read, self.rows_skipped = read_before, skipped_before
                return self._batch_rows(period, filename, first, batch, checked)

            columns = cost_columns(batch, indices, filename, first, rows)
            if columns is not None:
                self.rows_read = read_before + batch.num_rows
                self.rows_skipped = skipped_before + batch.num_rows - len(indices)
                yield columns
                return
        yield from self._batch_rows(period, filename, first, batch, checked)

    def _kept(self, batch: pa.RecordBatch, billed: pa.Array | None) -> pa.Array:
        """The rows read into the month: AI rows, and of those only the ones billed in it when the file says."""
        mask = self._ai_mask(batch)
        return mask if billed is None else pc.and_(mask, billed)

    def _ai_mask(self, batch: pa.RecordBatch) -> pa.Array:
        mask = self._matching(batch, "ServiceCategory", self.ai_categories)
        if self.ai_names:
            mask = pc.or_(mask, self._matching(batch, "ServiceName", self.ai_names))
        return mask

    def _batch_rows(
        self, period: Period, filename: str, first: int, batch: pa.RecordBatch,
        checked: tuple[int, ConnectorError | None, pa.Array | None] | None = None,
    ) -> Iterator[CostRow]:
        """The AI rows of one batch as CostRows, in row order; the first bad value raises, naming row and column.
        `checked` is what _period_rows found of the batch, when the caller asked it already."""
        size = batch.num_rows
        read_before, skipped_before = self.rows_read, self.rows_skipped
        stop, date_error, in_billing = checked or self._period_rows(period, filename, first, batch)
        indices = pc.indices_nonzero(self._kept(batch, in_billing))
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
            quantity = number_cell(consumed, filename, number, "ConsumedQuantity", required=False)
            unit = consumed_unit
            if quantity is None:
                quantity = number_cell(pricing, filename, number, "PricingQuantity", required=False)
                unit = pricing_unit
            charge_date = dates.get(start) if type(start) is str else None
            if charge_date is None:
                charge_date = date_cell(start, location(filename, number, "ChargePeriodStart"))
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
                amount=number_cell(effective, filename, number, "EffectiveCost", required=True),
                billed_amount=number_cell(billed, filename, number, "BilledCost", required=True),
                currency=(currency or "").upper(),
                category=cost_kind,
                keys=keys,
                service_name=service_name,
                model=model or "",
                description=description or f"{provider} {service_name}".strip(),
                quantity=quantity,
                unit=unit or "",
                location=f"{filename} row {number}",
                billed_in_period=in_billing is not None,
                currency_column="BillingCurrency",
            )
        if date_error is not None:
            self.rows_read = read_before + stop + 1
            raise date_error
        self.rows_read = read_before + size
        self.rows_skipped = skipped_before + size - len(indices)

    def _period_rows(
        self, period: Period, filename: str, first: int, batch: pa.RecordBatch
    ) -> tuple[int, ConnectorError | None, pa.Array | None]:
        """Which rows of the batch belong to the run's month: (index of the first row wrong about it or the batch size,
        its error, the mask of the rows billed in the month, or None for a file without BillingPeriodStart).

        A FOCUS export is cut by billing period (BillingPeriodStart is mandatory): a row billed in the month belongs to
        it whatever its charge period, since corrections (ChargeClass `Correction`) and late charges of an earlier
        charge period are billed, and invoiced, in a later month. A row billed in another period belongs to that
        month's export and is skipped; a charge after the period it is billed in cannot be, and fails. A file without
        BillingPeriodStart (hand-made) holds one month by its charge dates: any outside the period fails the file."""
        billing = batch.schema.get_field_index("BillingPeriodStart")
        if billing < 0:
            stop, error = self._first_charge_error(period, filename, first, batch, None)
            return stop, error, None
        in_month, stop, error = self._months_match(period, filename, first, batch, "BillingPeriodStart")
        charge_stop, charge_error = self._first_charge_error(period, filename, first, batch, in_month)
        if charge_error is not None and charge_stop < stop:
            return charge_stop, charge_error, in_month
        return stop, error, in_month

    def _first_charge_error(
        self, period: Period, filename: str, first: int, batch: pa.RecordBatch, billed: pa.Array | None
    ) -> tuple[int, ConnectorError | None]:
        """Index and error of the batch's first unreadable ChargePeriodStart, or of one outside the period: with the
        billing period known (`billed`), only a charge after the period billed in it is wrong."""
        in_month, stop, error = self._months_match(period, filename, first, batch, "ChargePeriodStart")
        if billed is None:
            outside = pc.indices_nonzero(pc.invert(in_month)).to_pylist()
        else:
            outside = pc.indices_nonzero(pc.and_(billed, pc.invert(in_month))).to_pylist()
        starts = batch.column(batch.schema.get_field_index("ChargePeriodStart"))
        for index in outside:
            if index >= stop:
                break
            where = location(filename, first + index, "ChargePeriodStart")
            charge_date = date_cell(starts[index].as_py(), where)
            if billed is None or charge_date >= period.end:
                return index, ConnectorError(f"charge date {charge_date} is outside the period {period.label}",
                                             location=where)
        return stop, error

    def _months_match(
        self, period: Period, filename: str, first: int, batch: pa.RecordBatch, column: str
    ) -> tuple[pa.Array, int, ConnectorError | None]:
        """Whether each row's `column` (a FOCUS DateTime) is in the period, up to its first unreadable cell: (mask,
        index of that cell or the batch size, its error). A cheap pattern check first (a UTC or zoneless time in the
        month), parsing only the rest."""
        values = batch.column(batch.schema.get_field_index(column))
        if is_text_column(values):
            fast = pc.fill_null(pc.match_substring_regex(values, pattern=UTC_TIME.format(month=period.label)), False)
            if pc.all(fast).as_py():
                return fast, batch.num_rows, None
            candidates: list[int] = pc.indices_nonzero(pc.invert(fast)).to_pylist()
            matches = fast.to_pylist()
        else:
            candidates, matches = list(range(batch.num_rows)), [False] * batch.num_rows
        for index in candidates:
            where = location(filename, first + index, column)
            try:
                day = date_cell(values[index].as_py(), where)
            except ConnectorError as exc:
                return pa.array(matches, type=pa.bool_()), index, exc
            matches[index] = period.contains(day)
        return pa.array(matches, type=pa.bool_()), batch.num_rows, None

    def _count_billing(self, batch: pa.RecordBatch, first: int, stop: int, error: ConnectorError | None,
                       in_billing: pa.Array | None) -> None:
        """Counts, once per batch, its rows billed in the month and the months of those billed in another."""
        if in_billing is None:
            return
        starts = batch.column(batch.schema.get_field_index("BillingPeriodStart"))
        for index in pc.indices_nonzero(pc.invert(in_billing)).to_pylist():
            if index >= stop:
                break
            self._billed_elsewhere[f"{date_cell(starts[index].as_py(), ''):%Y-%m}"] += 1
            if self._first_elsewhere is None:
                self._first_elsewhere = first + index
        self._billed_here += int(pc.sum(pc.cast(in_billing, pa.int64())).as_py() or 0)

    @property
    def skipped_by_reason(self) -> dict[str, int]:
        """The rows left out by why: billed in another period (counted whatever their service), the rest not AI."""
        elsewhere = sum(self._billed_elsewhere.values())
        reasons = {SKIPPED_NOT_AI: self.rows_skipped - elsewhere, SKIPPED_BILLED_ELSEWHERE: elsewhere}
        return {reason: count for reason, count in reasons.items() if count > 0}

    @property
    def notes(self) -> list[str]:
        """What the run should say besides its figures: rows of the file billed in other months, left to theirs."""
        if not self._billed_elsewhere:
            return []
        count = sum(self._billed_elsewhere.values())
        months = ", ".join(sorted(self._billed_elsewhere))
        rows, belong = ("1 row", "it belongs") if count == 1 else (f"{count:,} rows", "they belong")
        return [f"{rows} billed in another period ({months}) skipped: {belong} to that month's export."]

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
        return (clean_text_column(column) if clean and is_text_column(column) else column).to_pylist()

    @staticmethod
    def _texts(batch: pa.RecordBatch, name: str) -> list[str | None]:
        """A column as text() would read each cell: stripped strings, None for blanks and NULL."""
        index = batch.schema.get_field_index(name)
        if index < 0:
            return [None] * batch.num_rows
        column = batch.column(index)
        if is_text_column(column):
            return clean_text_column(column).to_pylist()
        return [text(value) for value in column.to_pylist()]

    def _tag_keys(self, tags: Any, filename: str, number: int) -> dict[str, str]:
        """tag_keys() of a cell, parsed once per distinct JSON text; always a fresh dict the caller may extend."""
        if type(tags) is not str:
            return tag_keys(tags, location(filename, number, "Tags"))
        parsed = self._tags.get(tags)
        if parsed is None:
            parsed = tag_keys(tags, location(filename, number, "Tags"))
            if len(self._tags) >= MEMO_LIMIT:
                self._tags.clear()
            self._tags[tags] = parsed
        return dict(parsed)
