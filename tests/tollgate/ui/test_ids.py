"""Ids read from a request: a number the 64-bit id columns hold, else treated as an id no record has."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tollgate.ui.ids import ID_MAX, record_id, record_ids


@pytest.mark.parametrize(("value", "expected"), [
    ("7", 7), (" 7 ", 7), (7, 7), (Decimal("7"), 7), (str(ID_MAX), ID_MAX), (ID_MAX, ID_MAX),
    (str(ID_MAX + 1), None), ("99999999999999999999", None), (Decimal("1e30"), None), (ID_MAX + 1, None),
    ("0", None), ("-5", None), (-5, None), ("", None), (None, None), ("abc", None), ("7.5", None),
    (Decimal("7.5"), None), (Decimal("NaN"), None), ("²", None), ("٣", None), ("+7", None), (True, None),
])
def test_a_record_id_is_a_whole_number_from_1_to_the_column_maximum(value, expected):
    assert record_id(value) == expected


def test_record_ids_keep_the_ids_in_order_and_leave_out_the_rest():
    assert record_ids(["3", "x", "99999999999999999999", "1", ""]) == [3, 1]
