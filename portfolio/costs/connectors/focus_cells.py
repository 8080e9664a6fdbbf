"""FOCUS cells as Python values: text, numbers, dates, tags, and where a line goes in the TCO split. Row by row
(`text`, `decimal_cell`...) for the reference reader and Parquet values, column-wise (`clean_text_column`) for the
fast reader; both raise ConnectorError naming the file, row and column."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Literal, overload

import pyarrow as pa
import pyarrow.compute as pc

from portfolio.costs.connectors.base import (
    AMOUNT_LIMIT,
    QUANTITY_LIMIT,
    ConnectorError,
    CostCategory,
    utc_date,
    within,
)

NULL_TOKENS = frozenset({"", "NULL", "null"})
# Exactly what str.strip() strips (every character for which str.isspace() is true), for the column-wise clean-up.
WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000"
)

COST_COLUMNS = frozenset({"EffectiveCost", "BilledCost", "ListCost", "ContractedCost"})
INFERENCE_SUBCATEGORIES = frozenset({"generative ai", "natural language processing", "bots", "ai platforms"})
COMPUTE_SUBCATEGORIES = frozenset({"machine learning", "virtual machines", "gpu compute"})


def text(value: Any) -> str | None:
    """A cell as text, or None for FOCUS's literal NULL and blanks."""
    if value is None:
        return None
    if isinstance(value, datetime | date):
        return value.isoformat()
    value = str(value).strip()
    return None if value in NULL_TOKENS else value


def decimal_cell(value: Any, where: str, *, required: bool, limit: Decimal = AMOUNT_LIMIT) -> Decimal | None:
    """A number cell; beyond `limit` (what its column holds) it is "too large"."""
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
    return within(number, limit, raw=raw, location=where)


def date_cell(value: Any, where: str) -> date:
    """The UTC date of a FOCUS DateTime ('2025-06-14T00:00:00Z', or '2024-09-18 22:00:00' as some exports write it).

    FOCUS dates are UTC: a time written with an offset ('2026-11-01T02:00:00+05:00') is converted, so it lands in
    the month it is in UTC. The whole cell must be a date or a time: '2026-10-14garbage' is refused."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).date() if value.tzinfo is not None else value.date()
    if isinstance(value, date):
        return value
    raw = text(value)
    if raw is None:
        raise ConnectorError("the date is blank", location=where)
    try:
        return utc_date(raw)
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


def location(filename: str, number: int, column: str | None = None) -> str:
    return f"{filename} row {number} column {column}" if column else f"{filename} row {number}"


def clean_text_column(column: pa.Array) -> pa.Array:
    """Column-wise text(): stripped strings, with blanks and FOCUS's literal NULL as nulls."""
    trimmed = pc.utf8_trim(column, characters=WHITESPACE)
    nulls = pc.is_in(trimmed, value_set=pa.array(sorted(NULL_TOKENS), type=trimmed.type))
    return pc.if_else(nulls, pa.scalar(None, type=trimmed.type), trimmed)


def is_text_column(column: pa.Array) -> bool:
    return pa.types.is_string(column.type) or pa.types.is_large_string(column.type)


def string_batch(header: list[str], rows: list[list[str]]) -> pa.RecordBatch:
    columns = [pa.array(values, type=pa.string()) for values in zip(*rows, strict=True)]
    return pa.RecordBatch.from_arrays(columns, names=header)


@overload
def number_cell(value: Any, filename: str, number: int, column: str, *, required: Literal[True]) -> Decimal: ...
@overload
def number_cell(value: Any, filename: str, number: int, column: str, *, required: bool) -> Decimal | None: ...
def number_cell(value: Any, filename: str, number: int, column: str, *, required: bool) -> Decimal | None:
    """decimal_cell() for a value already cleaned column-wise (str or None), or a typed Parquet value; the costs are
    held to the amount limit, the quantities to the quantity limit."""
    limit = AMOUNT_LIMIT if column in COST_COLUMNS else QUANTITY_LIMIT
    if type(value) is not str:
        return decimal_cell(value, location(filename, number, column), required=required, limit=limit)
    try:
        result = Decimal(value)
    except InvalidOperation:
        raise ConnectorError(f"{value!r} is not a number", location=location(filename, number, column)) from None
    if not result.is_finite():
        raise ConnectorError(f"{value!r} is not a finite number", location=location(filename, number, column))
    return within(result, limit, raw=value, location=location(filename, number, column))
