"""Microsoft 365 Copilot usage report, as exported (FORMATS.md section 5): who holds a licence, last active when.

The report lists only licensed users, so each row is an assigned seat. It is a snapshot, so the period does
not filter its rows, but its refresh date must fall in the period or in the REFRESH_GRACE_DAYS after it (an
export of September taken on 2 October): a snapshot of another time read for a month would show that month's
seats and activity as they were then. It carries no cost: licensed users x the contract price is recorded by the
pipeline.
Reads the admin-center / Graph CSV export (UTF-8 with or without BOM, CRLF or LF) or the Graph JSON form
(`{"value": [...]}`) when the file ends in .json: the file given, else the source's `path` setting ('{period}' is
YYYY-MM), so a scheduled source can read an export dropped in a folder. Columns are found by name, not position,
since Microsoft has changed the column set before; only those this connector uses are required. Empty dates come
as "" in newer exports and null / "null" in older ones.

A user principal name is case-insensitive (Entra ID compares it so): rows whose UPNs differ only in case are one
seat, kept under the first spelling with the latest activity. The report is made on its refresh date, so activity
after it (after today for a report without one) cannot be in a real export and is refused, naming row and column.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any, ClassVar

from django.utils import timezone

from portfolio.costs.connectors.base import (
    SKIPPED_SAME_USER,
    ConnectorBase,
    ConnectorError,
    Period,
    Row,
    SeatRow,
    export_path,
)
from portfolio.costs.connectors.files import HEADER_LIMIT, separator_hint

UPN_COLUMN = "User Principal Name"
LAST_ACTIVITY_COLUMN = "Last Activity Date"
REFRESH_COLUMN = "Report Refresh Date"
REQUIRED_COLUMNS = (UPN_COLUMN, LAST_ACTIVITY_COLUMN)
UPN_FIELD = "userPrincipalName"
LAST_ACTIVITY_FIELD = "lastActivityDate"
REFRESH_FIELD = "reportRefreshDate"
EMPTY_DATES = {"", "null", "none", "n/a"}
REFRESH_GRACE_DAYS = 7  # a month's report may be exported in the first days of the next one
JSON_STARTS = '{["-0123456789tfn'  # what a JSON value can start with (the worker's json.load says "Expecting value")


def report_date(value: Any, *, location: str) -> date | None:
    """A YYYY-MM-DD report date, or None for the report's spellings of "never"."""
    if value is None or str(value).strip().lower() in EMPTY_DATES:
        return None
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise ConnectorError(f"not a date (YYYY-MM-DD): {value!r}", location=location) from None


def activity_date(value: Any, *, refreshed: date | None, location: str, refreshed_in: str) -> date | None:
    """The last-activity date of a row, refused when it is after the report was made (`refreshed`, else today)."""
    activity = report_date(value, location=location)
    latest = refreshed or timezone.localdate()
    if activity is not None and activity > latest:
        made = f"the report's refresh date {latest} ({refreshed_in})" if refreshed else f"today, {latest}"
        raise ConnectorError(f"{activity} is after {made}: a report cannot show activity after it was made",
                             location=location)
    return activity


def check_refresh_date(refreshed: date | None, period: Period, *, location: str) -> None:
    """Refuse a report refreshed outside the period and the days just after it: it is a snapshot of another time."""
    if refreshed is None:
        return
    if not period.start <= refreshed < period.end + timedelta(days=REFRESH_GRACE_DAYS):
        raise ConnectorError(
            f"the report was refreshed on {refreshed}, so it shows the seats of then, not of {period.label}: a "
            f"report is read for the month it was refreshed in (or up to {REFRESH_GRACE_DAYS} days after it)",
            location=location)


def report_columns(header: list[str], filename: str) -> dict[str, int]:
    """Where each column of the report's header row is (by lower-case name), or ConnectorError naming the columns
    this connector needs and the header lacks."""
    if not any(cell.strip() for cell in header):
        raise ConnectorError("the file is empty (no header row)", location=filename)
    columns = {name.strip().lower(): index for index, name in enumerate(header)}
    missing = [name for name in REQUIRED_COLUMNS if name.lower() not in columns]
    if missing:
        raise ConnectorError(
            f"missing column(s) {', '.join(repr(name) for name in missing)}{separator_hint(header)}; "
            f"is this the Microsoft 365 Copilot usage user detail report?",
            location=f"{filename}, header",
        )
    return columns


@contextmanager
def read_errors(path: Path) -> Iterator[None]:
    """A CSV, encoding or file-system error while reading the report, as a ConnectorError naming the file."""
    try:
        yield
    except csv.Error as error:
        raise ConnectorError(f"malformed CSV: {error}", location=path.name) from None
    except UnicodeDecodeError as error:
        raise ConnectorError(f"not UTF-8 text (byte {error.start})", location=path.name) from None
    except OSError as error:
        raise ConnectorError(f"cannot read the file: {error.strerror or error}", location=path.name) from None


class M365CopilotConnector(ConnectorBase):
    """Licensed Microsoft 365 Copilot users and their last activity, one SeatRow each."""

    type: ClassVar[str] = "m365_copilot"
    reads_files: ClassVar[bool] = True

    @classmethod
    def check_header(cls, path: Path) -> None:
        """ConnectorError, as a run of the file would raise it, when its start shows it is not the report: a CSV
        header row without the columns needed, or a .json file that is no JSON object or list. Reads no rows: an
        upload is checked with it before its run is created."""
        with read_errors(path), path.open(encoding="utf-8-sig", newline="") as handle:
            if path.suffix.lower() != ".json":
                report_columns(next(csv.reader([handle.readline(HEADER_LIMIT)]), []), path.name)
                return
            head = handle.read(HEADER_LIMIT)
        value = head.lstrip(" \t\r\n")
        if value[:1] in ("{", "["):
            return
        if value[:1] and value[0] in JSON_STARTS:  # a number, string, true, false or null: JSON, but not a report
            raise ConnectorError('expected {"value": [...]} as Graph returns it', location=path.name)
        line = head[:len(head) - len(value)].count("\n") + 1
        raise ConnectorError("not valid JSON: Expecting value", location=f"{path.name}, line {line}")

    def read(self, period: Period, *, path: Path | None = None) -> Iterator[Row]:
        path = export_path(period, path, configured=self.settings.get("path"),
                           missing="the Microsoft 365 Copilot usage report is read from a file; none was given "
                                   "(--file PATH, an upload, or the source's path setting)")
        with read_errors(path):
            yield from self._one_seat_per_user(self._read_json(path, period) if path.suffix.lower() == ".json"
                                               else self._read_csv(path, period))

    def _one_seat_per_user(self, seats: Iterator[SeatRow]) -> Iterator[SeatRow]:
        """One seat per user whatever the case of the UPN, with the latest activity (rows merged count as skipped).
        The report has a row per licensed user, so holding it whole costs little."""
        merged: dict[str, SeatRow] = {}
        for seat in seats:
            first = merged.setdefault(seat.user.lower(), seat)
            if first is not seat:
                self.skip(SKIPPED_SAME_USER)
                if seat.last_activity is not None and (first.last_activity is None
                                                       or seat.last_activity > first.last_activity):
                    first.last_activity = seat.last_activity
        yield from merged.values()

    def _read_csv(self, path: Path, period: Period) -> Iterator[SeatRow]:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(handle)
            header = next(reader, [])
            columns = report_columns(header, path.name)
            upn_at, activity_at = columns[UPN_COLUMN.lower()], columns[LAST_ACTIVITY_COLUMN.lower()]
            refresh_at = columns.get(REFRESH_COLUMN.lower())
            for cells in reader:
                if not any(cell.strip() for cell in cells):
                    continue
                row = f"{path.name}, row {reader.line_num}"
                if len(cells) <= max(upn_at, activity_at):
                    raise ConnectorError(f"{len(cells)} fields where the header has {len(header)}", location=row)
                self.rows_read += 1
                user = cells[upn_at].strip()
                if not user:
                    raise ConnectorError("empty user", location=f"{row}, column {UPN_COLUMN!r}")
                refreshed = None
                if refresh_at is not None and refresh_at < len(cells):
                    refreshed = report_date(cells[refresh_at], location=f"{row}, column {REFRESH_COLUMN!r}")
                    check_refresh_date(refreshed, period, location=f"{row}, column {REFRESH_COLUMN!r}")
                yield SeatRow(
                    user=user,
                    last_activity=activity_date(cells[activity_at], refreshed=refreshed,
                                                location=f"{row}, column {LAST_ACTIVITY_COLUMN!r}",
                                                refreshed_in=f"column {REFRESH_COLUMN!r}"),
                    location=row,
                )

    def _read_json(self, path: Path, period: Period) -> Iterator[SeatRow]:
        with path.open(encoding="utf-8-sig") as handle:
            try:
                payload = json.load(handle)
            except json.JSONDecodeError as error:
                raise ConnectorError(
                    f"not valid JSON: {error.msg}", location=f"{path.name}, line {error.lineno}"
                ) from None
        users = payload.get("value") if isinstance(payload, dict) else payload
        if not isinstance(users, list):
            raise ConnectorError('expected {"value": [...]} as Graph returns it', location=path.name)
        for index, user in enumerate(users):
            entry = f"{path.name}, value[{index}]"
            self.rows_read += 1
            if not isinstance(user, dict):
                raise ConnectorError("each user must be an object", location=entry)
            upn = str(user.get(UPN_FIELD) or "").strip()
            if not upn:
                raise ConnectorError(f"missing {UPN_FIELD}", location=entry)
            refreshed = report_date(user.get(REFRESH_FIELD), location=f"{entry}.{REFRESH_FIELD}")
            check_refresh_date(refreshed, period, location=f"{entry}.{REFRESH_FIELD}")
            yield SeatRow(
                user=upn,
                last_activity=activity_date(user.get(LAST_ACTIVITY_FIELD), refreshed=refreshed,
                                            location=f"{entry}.{LAST_ACTIVITY_FIELD}", refreshed_in=REFRESH_FIELD),
                location=entry,
            )
