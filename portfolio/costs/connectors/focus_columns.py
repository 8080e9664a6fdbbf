"""FOCUS AI rows column-wise: one record batch becomes the columns of its cost records without a Python object per row.

The row path (FocusConnector._batch_rows) stays the reference: it checks every value and names the file, row and
column of the first bad one. This path only takes batches it can prove the row path would accept unchanged (plain
decimal numbers, ISO dates, JSON tags that parse, text that needs no trimming to the column widths); anything else
returns None and the batch goes through the row path, so errors and edge cases behave exactly as before.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from portfolio.costs.connectors.base import ConnectorError, CostRow
from portfolio.costs.connectors.focus_cells import clean_text_column, cost_category, is_text_column, tag_keys

# Numbers certainly within the limits (base.AMOUNT_LIMIT: 12 digits before the point, QUANTITY_LIMIT: 18), with a
# digit to spare so that rounding cannot carry them over; anything else takes the row path, which checks exactly.
AMOUNT_PATTERN = r"^[+-]?[0-9]{1,11}(\.[0-9]+)?$"
QUANTITY_PATTERN = r"^[+-]?[0-9]{1,17}(\.[0-9]+)?$"
ZONELESS_TIME = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?Z?)?$"  # UTC or no zone
JSON_UNSAFE = r'["\\\x00-\x1f]'  # a string with none of these is valid JSON between two quotes as it is
KEY_COLUMNS = (("BillingAccountId", "billing_account_id"), ("SubAccountId", "sub_account_id"),
               ("ResourceId", "resource_id"), ("ServiceName", "service_name"))
# The columns read (each once: a name twice in a selection could no longer be found by name).
USED_COLUMNS = tuple(dict.fromkeys((
    "ChargePeriodStart", "EffectiveCost", "BilledCost", "ConsumedQuantity", "PricingQuantity", "ConsumedUnit",
    "PricingUnit", "ServiceName", "ServiceCategory", "ServiceSubcategory", "ServiceProviderName", "ProviderName",
    "ChargeDescription", "BillingCurrency", "Tags", "x_Model", *(column for column, _ in KEY_COLUMNS),
)))
TEXT_LIMITS = {"service_name": 200, "model": 200, "unit": 80}


@dataclass
class CostColumns:
    """The AI cost lines of one batch, column by column (the fields of CostRow, as arrow arrays of one length).

    `amount`, `billed_amount` and `quantity` are decimal text as the file wrote it (the database rounds to 6 places
    as record_amount does); `keys` is each record's keys as JSON text; `key_column(name)` gives one allocation key
    per row. `rows()` gives the same lines as CostRows, through the row path, for a writer that cannot take columns.
    """

    size: int
    charge_date: pa.Array
    amount: pa.Array
    billed_amount: pa.Array
    currency: pa.Array
    category: pa.Array
    keys: pa.Array
    service_name: pa.Array
    model: pa.Array
    description: pa.Array
    quantity: pa.Array
    unit: pa.Array
    key_column: Callable[[str], pa.Array]
    rows: Callable[[], Iterator[CostRow]] = field(repr=False)


def _column(batch: pa.RecordBatch, name: str) -> pa.Array | None:
    index = batch.schema.get_field_index(name)
    return batch.column(index) if index >= 0 else None


def _texts(batch: pa.RecordBatch, name: str) -> pa.Array:
    """text() of a column, column-wise (all null when the file lacks it); raises _Fallback for a typed column."""
    column = _column(batch, name)
    if column is None:
        return pa.nulls(batch.num_rows, pa.string())
    if not is_text_column(column):
        raise _Fallback
    return clean_text_column(column).cast(pa.string())


class _Fallback(Exception):
    """This batch takes the row path."""


def _all_match(column: pa.Array, pattern: str) -> bool:
    valid = column.drop_null()
    return len(valid) == 0 or bool(pc.all(pc.match_substring_regex(valid, pattern)).as_py())


def _json_strings(column: pa.Array) -> pa.Array:
    """Each value as a JSON string literal (null stays null)."""
    if len(column.drop_null()) and pc.any(pc.match_substring_regex(column.drop_null(), JSON_UNSAFE)).as_py():
        return pa.array([None if v is None else json.dumps(v) for v in column.to_pylist()], type=pa.string())
    return pc.binary_join_element_wise('"', column, '"', "")


def map_distinct(columns: Sequence[pa.Array], func: Callable[..., Any], type: pa.DataType) -> pa.Array:
    """func(*values) for every row, called once per distinct combination of the columns' values (nulls included)."""
    size = len(columns[0])
    codes = np.zeros(size, dtype=np.int64)
    stride = 1
    dictionaries: list[tuple[int, list[Any]]] = []
    for column in columns:
        encoded = pc.dictionary_encode(column, null_encoding="encode")
        values = encoded.dictionary.to_pylist()
        codes += encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64) * stride
        dictionaries.append((stride, values))
        stride *= max(len(values), 1)
    distinct, inverse = np.unique(codes, return_inverse=True)
    results = [func(*(values[(int(code) // step) % len(values)] for step, values in dictionaries))
               for code in distinct]
    return pa.array(results, type=type).take(pa.array(inverse.astype(np.int32)))


def cost_columns(
    batch: pa.RecordBatch, indices: pa.Array, filename: str, first: int, rows: Callable[[], Iterator[CostRow]]
) -> CostColumns | None:
    """The rows `indices` of `batch` (its AI rows, all dated in the period) as CostColumns, or None for the row path.

    Only CSV batches (every column text) qualify; Parquet's typed columns take the row path."""
    used = [i for i in map(batch.schema.get_field_index, USED_COLUMNS) if i >= 0]
    try:
        return _cost_columns(batch.select(used).take(indices), filename, first, rows)
    except _Fallback:
        return None


def _cost_columns(
    ai: pa.RecordBatch, filename: str, first: int, rows: Callable[[], Iterator[CostRow]]
) -> CostColumns:
    size = ai.num_rows
    starts = _texts(ai, "ChargePeriodStart")
    if not _all_match(starts, ZONELESS_TIME):
        raise _Fallback  # an offset to convert to UTC, or a cell date_cell would refuse
    try:
        charge_date = pc.utf8_slice_codeunits(starts, 0, 10).cast(pa.date32())
    except pa.ArrowInvalid:
        raise _Fallback from None
    if charge_date.null_count:
        raise _Fallback
    amount, billed = _texts(ai, "EffectiveCost"), _texts(ai, "BilledCost")
    consumed, pricing = _texts(ai, "ConsumedQuantity"), _texts(ai, "PricingQuantity")
    if amount.null_count or billed.null_count:
        raise _Fallback  # "the cost is blank": the row path names the row
    for column, pattern in ((amount, AMOUNT_PATTERN), (billed, AMOUNT_PATTERN), (consumed, QUANTITY_PATTERN),
                            (pricing, QUANTITY_PATTERN)):
        if not _all_match(column, pattern):
            raise _Fallback
    has_consumed = pc.is_valid(consumed)
    quantity = pc.if_else(has_consumed, consumed, pricing)
    unit = pc.if_else(has_consumed, _texts(ai, "ConsumedUnit"), _texts(ai, "PricingUnit"))

    name = _texts(ai, "ServiceName")
    category = map_distinct([_texts(ai, "ServiceCategory"), _texts(ai, "ServiceSubcategory")],
                            lambda c, s: cost_category(c or "", s), pa.string())
    provider = pc.coalesce(_texts(ai, "ServiceProviderName"), _texts(ai, "ProviderName"), pa.scalar(""))
    named = pc.utf8_trim(pc.binary_join_element_wise(provider, pc.fill_null(name, ""), " "), characters=" ")
    description = pc.coalesce(_texts(ai, "ChargeDescription"), named)
    currency = pc.utf8_upper(pc.fill_null(_texts(ai, "BillingCurrency"), ""))

    tags_column = _column(ai, "Tags")
    if tags_column is None:
        tags_column = pa.nulls(size, pa.string())
    elif not is_text_column(tags_column):
        raise _Fallback
    tags_encoded = pc.dictionary_encode(tags_column, null_encoding="encode")
    try:
        parsed = [tag_keys(value, f"{filename} row {first}") for value in tags_encoded.dictionary.to_pylist()]
    except ConnectorError:
        raise _Fallback from None
    tag_indices = tags_encoded.indices
    fragments = pa.array([json.dumps(keys)[1:-1] if keys else None for keys in parsed], type=pa.string())
    key_values = {column: _texts(ai, column) for column, _ in KEY_COLUMNS}
    pieces = [fragments.take(tag_indices)]
    for column, key in KEY_COLUMNS:
        pieces.append(pc.binary_join_element_wise(f'"{key}": ', _json_strings(key_values[column]), ""))
    joined = pc.binary_join_element_wise(*pieces, ", ", null_handling="skip")
    keys = pc.binary_join_element_wise("{", pc.fill_null(joined, ""), "}", "")

    texts = {"service_name": pc.fill_null(name, ""), "model": pc.fill_null(_texts(ai, "x_Model"), ""),
             "unit": pc.fill_null(unit, "")}
    for label, limit in TEXT_LIMITS.items():
        if size and pc.max(pc.utf8_length(texts[label])).as_py() > limit:
            raise _Fallback

    def key_column(key: str) -> pa.Array:
        """One allocation key per row, as the row path's `keys` dict would hold it."""
        for column, name_ in KEY_COLUMNS:
            if key == name_:
                return key_values[column]
        if key.startswith("tag:"):
            return pa.array([keys.get(key) for keys in parsed], type=pa.string()).take(tag_indices)
        return pa.nulls(size, pa.string())

    return CostColumns(
        size=size, charge_date=charge_date, amount=amount, billed_amount=billed, currency=currency,
        category=category, keys=keys, service_name=texts["service_name"], model=texts["model"],
        description=description, quantity=quantity, unit=texts["unit"], key_column=key_column, rows=rows,
    )
