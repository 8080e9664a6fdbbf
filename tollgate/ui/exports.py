"""CSV exports that a spreadsheet opens safely: django-tables2's list exports through tollgate.spreadsheet's rule."""

from __future__ import annotations

from typing import Any

from django_tables2.export.export import TableExport
from tablib import Dataset

from tollgate.spreadsheet import neutralise, neutralise_row

__all__ = ["SafeTableExport", "neutralise", "neutralise_row"]


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
