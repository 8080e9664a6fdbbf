"""FinOps FOCUS billing exports (1.0-1.2, and the 1.3 column names) as CSV, gzip CSV or Parquet.

Only AI spend is kept: rows whose ServiceCategory is one of the source's `ai_service_categories` (default
"AI and Machine Learning") or whose ServiceName is one of its `ai_service_names` (GPU VMs and coding assistants are
often classified elsewhere, FORMATS.md). Other rows are counted as skipped. EffectiveCost is the amount (amortised,
what the initiative really consumed); BilledCost is kept for reconciling against invoices.

The file is streamed: CSV line by line, Parquet record batch by record batch, so memory does not grow with its size.
Every problem raises ConnectorError naming the file, the row (the header is row 1) and the column.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import json
import zlib
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, BinaryIO, ClassVar

from .base import ConnectorError, CostCategory, CostRow, Period, Row

AI_CATEGORY = "AI and Machine Learning"
MANDATORY_COLUMNS = ("BilledCost", "EffectiveCost", "ChargePeriodStart", "ServiceCategory", "ServiceName",
                     "BillingCurrency")
PROVIDER_COLUMNS = ("ServiceProviderName", "ProviderName")  # 1.3 name first, then 1.0-1.2
NULL_TOKENS = frozenset({"", "NULL", "null"})
GZIP_MAGIC = b"\x1f\x8b"
PARQUET_MAGIC = b"PAR1"
PARQUET_BATCH_ROWS = 10_000

INFERENCE_SUBCATEGORIES = frozenset({"generative ai", "natural language processing", "bots", "ai platforms"})
COMPUTE_SUBCATEGORIES = frozenset({"machine learning", "virtual machines", "gpu compute"})
KEY_COLUMNS = {
    "BillingAccountId": "billing_account_id",
    "SubAccountId": "sub_account_id",
    "ResourceId": "resource_id",
    "ServiceName": "service_name",
}


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


def csv_records(path: Path) -> Iterator[tuple[int, list[str]]]:
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
            yield from self._rows(period, path.name, self._parquet_records(path))
        else:
            yield from self._rows(period, path.name, self._csv_dicts(path))

    # Readers: both yield (row number, {column: value}) after checking the header ----------------------------------

    def _check_header(self, columns: list[str], filename: str) -> None:
        missing = [c for c in MANDATORY_COLUMNS if c not in columns]
        if not any(c in columns for c in PROVIDER_COLUMNS):
            missing.append("ProviderName (1.0-1.2) or ServiceProviderName (1.3)")
        if missing:
            raise ConnectorError(
                f"missing mandatory FOCUS column(s): {', '.join(missing)}", location=f"{filename} row 1"
            )

    def _csv_dicts(self, path: Path) -> Iterator[tuple[int, dict[str, str]]]:
        records = csv_records(path)
        _, header = next(records)
        header = [h.strip() for h in header]
        self._check_header(header, path.name)
        width = len(header)
        for number, cells in records:
            if not cells:
                continue  # a trailing blank line
            if len(cells) != width:
                raise ConnectorError(
                    f"expected {width} columns as in the header, found {len(cells)}",
                    location=f"{path.name} row {number}",
                )
            yield number, dict(zip(header, cells, strict=True))

    def _parquet_records(self, path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:
            parquet = pq.ParquetFile(path)
        except (pa.ArrowException, OSError) as exc:
            raise ConnectorError(f"not a readable Parquet file ({exc})", location=path.name) from None
        self._check_header(list(parquet.schema_arrow.names), path.name)
        number = 1  # the schema plays the header's part, so data rows are numbered as in the CSV
        try:
            for batch in parquet.iter_batches(batch_size=PARQUET_BATCH_ROWS):
                for record in batch.to_pylist():
                    number += 1
                    yield number, record
        except (pa.ArrowException, OSError) as exc:
            raise ConnectorError(f"the Parquet file is corrupt ({exc})", location=f"{path.name} row {number}") from None

    # Normalisation ---------------------------------------------------------------------------------------------------

    def _rows(
        self, period: Period, filename: str, records: Iterator[tuple[int, dict[str, Any]]]
    ) -> Iterator[CostRow]:
        label = period.label
        for number, record in records:
            self.rows_read += 1
            where: Callable[[str], str] = lambda column, n=number: f"{filename} row {n} column {column}"  # noqa: E731
            start = record.get("ChargePeriodStart")
            # Cheap check on every row (a file of another month is wrong as a whole), full parse where needed.
            if not (isinstance(start, str) and start[:7] == label):
                charge_date = date_cell(start, where("ChargePeriodStart"))
                if not period.contains(charge_date):
                    raise ConnectorError(
                        f"charge date {charge_date} is outside the period {label}", location=where("ChargePeriodStart")
                    )
            service_category = text(record.get("ServiceCategory")) or ""
            service_name = text(record.get("ServiceName")) or ""
            if (service_category.casefold() not in self.ai_categories
                    and service_name.casefold() not in self.ai_names):
                self.rows_skipped += 1
                continue
            yield self._cost_row(record, number, filename, service_category, service_name, where)

    def _cost_row(
        self, record: dict[str, Any], number: int, filename: str, service_category: str, service_name: str,
        where: Callable[[str], str],
    ) -> CostRow:
        keys = tag_keys(record.get("Tags"), where("Tags"))
        for column, key in KEY_COLUMNS.items():
            value = text(record.get(column))
            if value is not None:
                keys[key] = value
        quantity = decimal_cell(record.get("ConsumedQuantity"), where("ConsumedQuantity"), required=False)
        unit = text(record.get("ConsumedUnit"))
        if quantity is None:
            quantity = decimal_cell(record.get("PricingQuantity"), where("PricingQuantity"), required=False)
            unit = text(record.get("PricingUnit"))
        provider = text(record.get("ServiceProviderName")) or text(record.get("ProviderName")) or ""
        return CostRow(
            charge_date=date_cell(record.get("ChargePeriodStart"), where("ChargePeriodStart")),
            amount=decimal_cell(record.get("EffectiveCost"), where("EffectiveCost"), required=True),
            billed_amount=decimal_cell(record.get("BilledCost"), where("BilledCost"), required=True),
            currency=(text(record.get("BillingCurrency")) or "").upper(),
            category=cost_category(service_category, text(record.get("ServiceSubcategory"))),
            keys=keys,
            service_name=service_name,
            model=text(record.get("x_Model")) or "",
            description=text(record.get("ChargeDescription")) or f"{provider} {service_name}".strip(),
            quantity=quantity,
            unit=unit or "",
            location=f"{filename} row {number}",
        )
