"""CSV exports that a spreadsheet opens safely: django-tables2's list exports through tollgate.spreadsheet's rule."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from typing import Any

from django.http import HttpResponse
from django_tables2.export.export import TableExport
from tablib import Dataset

from tollgate.spreadsheet import neutralise, neutralise_row

__all__ = ["SafeTableExport", "csv_download", "neutralise", "neutralise_row"]


def csv_download(filename: str, header: Sequence[str], rows: Iterable[Iterable[Any]], *,
                 bom: bool = False) -> HttpResponse:
    """A CSV file to download that is not a list page's table (a dashboard table, a file to fill in), every cell
    neutralised as the list exports are. `bom`: start with the byte-order mark Excel needs to read UTF-8 as UTF-8."""
    response = HttpResponse(content_type="text/csv; charset=utf-8" if bom else "text/csv")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    if bom:
        response.write("\ufeff")
    writer = csv.writer(response)
    writer.writerow(neutralise_row(header))
    writer.writerows(neutralise_row(row) for row in rows)
    return response


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
