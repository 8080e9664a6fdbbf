"""Cells a spreadsheet must not run as formulas (no Django here: the label reader uses it too).

A cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return is read by Excel, LibreOffice and Google Sheets
as a formula, so a name an owner typed (`=HYPERLINK("https://evil", "Click")`) would run when an executive opens the
export. OWASP's rule: prefix such a cell with an apostrophe, which shows the text as typed. Plain numbers, negative
amounts included, stay numbers. A file Tollgate wrote and reads back (a labels file to fill in) is read with
`restore`, so the apostrophe never becomes part of an id.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
NUMBER = re.compile(r"[+-]?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?([eE][+-]?\d+)?%?")


def neutralise(value: Any) -> Any:
    """The cell as a spreadsheet must show it: text a spreadsheet would evaluate gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and not NUMBER.fullmatch(value):
        return "'" + value
    return value


def neutralise_row(row: Iterable[Any]) -> list[Any]:
    return [neutralise(value) for value in row]


def restore(value: str) -> str:
    """The text `neutralise` was given, for a cell it wrote: only an apostrophe it added is taken off."""
    if value.startswith("'") and neutralise(value[1:]) == value:
        return value[1:]
    return value
