"""CSV exports that a spreadsheet opens safely: django-tables2's list exports through tollgate.spreadsheet's rule."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from django.http import HttpResponse
from django.utils import timezone
from django_tables2.export.export import TableExport
from tablib import Dataset

from tollgate.formatting import EMPTY
from tollgate.spreadsheet import neutralise, neutralise_row

__all__ = ["CSV_CONTENT_TYPE", "SafeTableExport", "csv_download", "neutralise", "neutralise_row"]

# What every CSV download is served as: django-tables2's list exports declare it so, and so does csv_download.
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"


def csv_download(filename: str, header: Sequence[str], rows: Iterable[Iterable[Any]], *,
                 bom: bool = False) -> HttpResponse:
    """A CSV file to download that is not a list page's table (a dashboard table, a file to fill in), every cell
    neutralised and the file declared UTF-8 as the list exports are (CSV_CONTENT_TYPE), without a byte-order mark as
    they are. `bom`: start with the mark, which Excel needs to read UTF-8 as UTF-8, for a file people fill in there."""
    response = HttpResponse(content_type=CSV_CONTENT_TYPE)
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
            safe.append(neutralise_row([_as_shown(cell) for cell in row]))
        return safe


# What django-tables2's date and time columns export for a moment: its ISO form, microseconds and offset included.
ISO_MOMENT = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?([+-]\d{2}:\d{2}|Z)?")


def _as_shown(cell: Any) -> Any:
    """A moment as the pages print it (YYYY-MM-DD HH:MM, in the reader's time zone), not the ISO form with its
    microseconds and offset that django-tables2 exports for a date or time column. An absent value is an empty cell
    in every CSV, as django-tables2 exports it for most columns: the pages' "—" (which date and time columns
    exported) would be text in a column of dates or numbers."""
    if cell == EMPTY:
        return ""
    if isinstance(cell, str) and ISO_MOMENT.fullmatch(cell):
        cell = datetime.fromisoformat(cell)
    if isinstance(cell, datetime):
        return (timezone.localtime(cell) if timezone.is_aware(cell) else cell).strftime("%Y-%m-%d %H:%M")
    return cell
