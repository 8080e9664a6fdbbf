"""Plain CSV for costs no connector covers: oversight hours, maintenance contracts, a vendor without an API.

Format (UTF-8, comma separated, optionally gzip-compressed; header row required, column order free, extra columns
ignored):

    date,initiative,key,category,amount,currency,quantity,unit
    2025-06-30,INV-0001,,oversight,3900.00,USD,60,hours
    2025-06-30,,tag:project=search-assistant,maintenance,1200.00,EUR,,
    2025-06-15,,namespace=ml-training,compute,812.40,USD,96,GPU-hours

- date: YYYY-MM-DD, inside the month being read.
- initiative: an initiative's external id; the row is allocated to it directly (an id no initiative has fails the
  run: `row 3 column initiative: no initiative NW-9999`).
- key: `<key>=<value>` with a key allocation rules know (`tag:<name>`, `label:<name>`, billing_account_id,
  sub_account_id, resource_id, service_name, project_id, workspace_id, api_key_id, namespace); the source's rules
  map it. Each row gives an initiative, a key, or both (the initiative wins).
- category: inference, compute, storage, licences, oversight, maintenance or other.
- amount: a decimal number (negative for credits).
- currency: ISO 4217 code; blank means the source's `currency` setting (default USD).
- quantity, unit: optional (quantity a decimal number); a unit containing "GPU" and "hour" makes quantity GPU-hours,
  which are never negative (a credit is a negative amount; its hours, if given, positive).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, ClassVar

from portfolio.costs.connectors.base import (
    AMOUNT_LIMIT,
    QUANTITY_LIMIT,
    ConnectorError,
    CostCategory,
    CostRow,
    Period,
    Row,
    export_path,
    within,
)
from portfolio.costs.connectors.files import check_unique_columns, csv_header, csv_records, separator_hint

COLUMNS = ("date", "initiative", "key", "category", "amount", "currency", "quantity", "unit")
REQUIRED_COLUMNS = ("date", "category", "amount")


class PlainCsvConnector:
    """Reads one month of a plain cost CSV (format in the module docstring)."""

    type: ClassVar[str] = "csv"
    reads_files: ClassVar[bool] = True

    def __init__(self, *, settings: Mapping[str, Any], credential: str | None = None) -> None:
        self.default_currency = str(settings.get("currency") or "USD").upper()
        self.default_path = settings.get("path") or ""
        self.rows_read = 0
        self.rows_skipped = 0

    @classmethod
    def check_header(cls, path: Path) -> list[str]:
        """The file's columns (lower case), or ConnectorError naming those missing from its header row. Reads no
        rows: a run reads the header with it, and an upload is checked with it before its run is created."""
        header = [h.strip().lower() for h in csv_header(path)]
        check_unique_columns(header, path.name)
        missing = [c for c in REQUIRED_COLUMNS if c not in header]
        if not ("initiative" in header or "key" in header):
            missing.append("initiative or key")
        if missing:
            raise ConnectorError(f"missing column(s): {', '.join(missing)}{separator_hint(header)}",
                                 location=f"{path.name} row 1")
        return header

    def read(self, period: Period, *, path: Path | None = None) -> Iterator[Row]:
        path = export_path(period, path, configured=self.default_path,
                           missing="a CSV source reads a file: give one (--file PATH or an upload)")
        header = self.check_header(path)
        records = csv_records(path)
        next(records)  # the header, read above
        for number, cells in records:
            if not any(cell.strip() for cell in cells):
                continue
            self.rows_read += 1
            if len(cells) != len(header):
                raise ConnectorError(
                    f"expected {len(header)} columns as in the header, found {len(cells)}",
                    location=f"{path.name} row {number}",
                )
            record = {name: cell.strip() for name, cell in zip(header, cells, strict=True)}
            yield self._row(record, period, f"{path.name} row {number}")

    def _row(self, record: dict[str, str], period: Period, location: str) -> CostRow:
        def where(column: str) -> str:
            return f"{location} column {column}"

        try:
            charge_date = date.fromisoformat(record["date"])
        except ValueError:
            raise ConnectorError(f"{record['date']!r} is not a date (YYYY-MM-DD)", location=where("date")) from None
        if not period.contains(charge_date):
            raise ConnectorError(f"date {charge_date} is outside the period {period.label}", location=where("date"))

        keys: dict[str, str] = {}
        key = record.get("key", "")
        if key:
            name, sep, value = key.partition("=")
            if not sep or not name.strip() or not value.strip():
                raise ConnectorError(f"{key!r} is not <key>=<value>, e.g. tag:project=search", location=where("key"))
            keys[name.strip()] = value.strip()
        if record.get("initiative"):
            keys["initiative"] = record["initiative"]
        if not keys:
            raise ConnectorError("give an initiative or a key", location=where("initiative"))

        category = record["category"].lower()
        if category not in CostCategory.ALL:
            raise ConnectorError(
                f"{record['category']!r} is not a category ({', '.join(CostCategory.ALL)})", location=where("category")
            )
        amount = self._decimal(record["amount"], where("amount"), AMOUNT_LIMIT)
        if amount is None:
            raise ConnectorError("the amount is blank", location=where("amount"))
        quantity = self._decimal(record.get("quantity", ""), where("quantity"), QUANTITY_LIMIT)
        unit = record.get("unit", "")
        gpu = "gpu" in unit.lower() and "hour" in unit.lower()
        if gpu and quantity is not None and quantity < 0:
            raise ConnectorError(
                f"{record['quantity']!r} GPU-hours is negative: a credit or refund is a negative amount with the "
                "hours it refunds as a positive quantity (or none)", location=where("quantity"),
            )
        return CostRow(
            charge_date=charge_date,
            amount=amount,
            billed_amount=amount,
            currency=(record.get("currency") or self.default_currency).upper(),
            currency_column="currency" if record.get("currency") else "",
            category=category,
            keys=keys,
            quantity=quantity,
            unit=unit,
            gpu_hours=quantity if gpu else None,
            description=f"{category} ({location})",
            location=location,
        )

    @staticmethod
    def _decimal(raw: str, where: str, limit: Decimal) -> Decimal | None:
        if not raw:
            return None
        try:
            number = Decimal(raw)
        except InvalidOperation:
            raise ConnectorError(f"{raw!r} is not a number", location=where) from None
        if not number.is_finite():
            raise ConnectorError(f"{raw!r} is not a finite number", location=where)
        return within(number, limit, raw=raw, location=where)
