"""Record ids read from a request (a query string, a form): a number the id columns can hold, or None.

An id is compared with a 64-bit column (BigAutoField: PostgreSQL bigint, SQLite INTEGER). A larger number cannot even
be sent to SQLite (OverflowError, a 500), so ids beyond the column, like non-numbers and ids below 1, are treated as
an id no record has: the lookup finds nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

ID_MAX = 2**63 - 1


def record_id(value: str | int | Decimal | None) -> int | None:
    """`value` as an id a record could have (1 to 2^63 - 1), or None: blank, not a whole number, or out of range."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, Decimal):
        if not value.is_finite() or value != value.to_integral_value():
            return None
        number = int(value)
    elif isinstance(value, int):
        number = value
    else:
        text = value.strip()
        if not (text.isascii() and text.isdigit()):  # "²".isdigit() is true, and int() refuses it
            return None
        number = int(text)
    return number if 1 <= number <= ID_MAX else None


def record_ids(values: Iterable[str]) -> list[int]:
    """The values that are ids (as `record_id`), in order; the others are left out as ids no record has."""
    return [number for number in (record_id(value) for value in values) if number is not None]
