"""CSV exports that a spreadsheet opens safely.

A cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return is read by Excel, LibreOffice and Google Sheets
as a formula, so a name an owner typed (`=HYPERLINK("https://evil", "Click")`) would run when an executive opens the
export. OWASP's rule: prefix such a cell with an apostrophe, which shows the text as typed. Plain numbers, negative
amounts included, stay numbers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from django_tables2.export.export import TableExport
from tablib import Dataset

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
NUMBER = re.compile(r"[+-]?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?([eE][+-]?\d+)?%?")


def neutralise(value: Any) -> Any:
    """The cell as a spreadsheet must show it: text a spreadsheet would evaluate gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and not NUMBER.fullmatch(value):
        return "'" + value
    return value


def neutralise_row(row: Iterable[Any]) -> list[Any]:
    return [neutralise(value) for value in row]


class SafeTableExport(TableExport):
    """django-tables2's export of a list page, CSV only, every cell neutralised."""

    @classmethod
    def is_valid_format(cls, export_format: str | None) -> bool:
        return export_format == TableExport.CSV

    def table_to_dataset(self, table: Any, exclude_columns: Any, dataset_kwargs: dict | None = None) -> Dataset:
        dataset = super().table_to_dataset(table, exclude_columns, dataset_kwargs)
        safe = Dataset(title=dataset.title)
        safe.headers = neutralise_row(dataset.headers or [])
        for row in dataset:
            safe.append(neutralise_row(row))
        return safe
