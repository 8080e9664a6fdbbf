"""Inventory import, step one: read and validate the whole file. Pure: no database, so every error in the file is
found before anything is written."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import asdict, dataclass, replace
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from portfolio.choices import Category, Stage

COLUMNS = (
    "external_id", "name", "description", "department", "cost_center", "owner_email", "stage", "category", "vendors",
    "models", "start_date", "monthly_cost_usd", "seats_purchased",
)
HEADER_LINE = ",".join(COLUMNS)
LIST_SEPARATOR = ";"
MAX_FILE_BYTES = 5 * 1024 * 1024

# Lengths of the model fields the columns land in: checked up front so a long value is a row error, not a crash.
MAX_LENGTHS = {
    "external_id": 64, "name": 200, "department": 120, "cost_center": 40, "owner_email": 150,
    "vendors": 120, "models": 160,
}
MAX_COST = Decimal("1e12")  # MONEY fields: 14 digits, 2 decimals.
MAX_SEATS = 10_000_000
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
WHOLE_NUMBER = re.compile(r"[+-]?\d+")


@dataclass(frozen=True)
class RowError:
    """One problem in the file. `row` is the line number where the record starts (the header is row 1)."""

    row: int | None
    column: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class InventoryRow:
    """One line of the inventory, in Python types: ready to be written when `flawed` is empty. Otherwise `flawed`
    names the columns whose cells were bad (their values here are blanks); the row is never written, but the checks
    only the database can make still run on its other cells, so every error of the file comes in one round."""

    row: int
    external_id: str
    name: str
    description: str
    department: str
    cost_center: str
    owner_email: str
    stage: str
    category: str
    vendors: tuple[str, ...]
    models: tuple[str, ...]
    start_date: date | None
    monthly_cost: Decimal
    seats: int | None
    flawed: frozenset[str] = frozenset()

    @property
    def price_per_seat(self) -> Decimal | None:
        if not self.seats:
            return None
        return (self.monthly_cost / self.seats).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)


def external_id_key(external_id: str) -> str:
    """How external ids are compared: ignoring letter case, as every other name the import reads (spreadsheets and
    other tools change case, and a key differing only in case must not become a second initiative)."""
    return external_id.lower()


def _choice(value: str, choices: type[Stage] | type[Category]) -> str | None:
    """Accept the stored value or the label, in any case ('In review', 'in_review', 'IN REVIEW')."""
    key = value.strip().lower().replace(" ", "_").replace("-", "_")
    for choice_value, label in choices.choices:
        if key in (choice_value, label.lower().replace(" ", "_")):
            return choice_value
    return None


def _split_list(value: str) -> tuple[str, ...]:
    """Split 'OpenAI; Anthropic' into names, dropping blanks and case-insensitive repeats, keeping order."""
    seen: set[str] = set()
    names: list[str] = []
    for part in value.split(LIST_SEPARATOR):
        name = " ".join(part.split())
        if name and name.lower() not in seen:
            seen.add(name.lower())
            names.append(name)
    return tuple(names)


def _validate_record(line: int, cells: dict[str, str], errors: list[RowError]) -> InventoryRow:
    """Check every column of one record, appending every problem found; the row, its bad columns marked `flawed`."""
    found: list[RowError] = []

    def error(column: str, message: str) -> None:
        found.append(RowError(line, column, message))

    values = {column: cells[column].strip() for column in COLUMNS}
    for column in ("external_id", "name", "department", "owner_email", "stage", "category"):
        if not values[column]:
            error(column, "Required: this cell is empty.")
    for column, limit in MAX_LENGTHS.items():
        if column in ("vendors", "models"):
            for item in _split_list(values[column]):
                if len(item) > limit:
                    error(column, f"'{item[:40]}…' is longer than {limit} characters.")
        elif len(values[column]) > limit:
            error(column, f"Longer than {limit} characters.")

    email = values["owner_email"].lower()
    if email:
        try:
            validate_email(email)
        except ValidationError:
            error("owner_email", f"'{values['owner_email']}' is not a valid e-mail address.")

    stage = _choice(values["stage"], Stage) if values["stage"] else None
    if values["stage"] and stage is None:
        error("stage", f"Unknown stage '{values['stage']}'; use one of: {', '.join(Stage.values)}.")
    category = _choice(values["category"], Category) if values["category"] else None
    if values["category"] and category is None:
        error("category", f"Unknown category '{values['category']}'; use one of: {', '.join(Category.values)}.")

    start_date = None
    if values["start_date"]:
        try:
            if not ISO_DATE.fullmatch(values["start_date"]):
                raise ValueError
            start_date = date.fromisoformat(values["start_date"])
        except ValueError:
            error("start_date", f"'{values['start_date']}' is not a date in the form YYYY-MM-DD.")

    monthly_cost = Decimal("0")
    if values["monthly_cost_usd"]:
        try:
            monthly_cost = Decimal(values["monthly_cost_usd"])
            if not monthly_cost.is_finite():
                raise InvalidOperation
        except InvalidOperation:
            error("monthly_cost_usd", f"'{values['monthly_cost_usd']}' is not a number (write 1234.50, no currency).")
        else:
            if monthly_cost < 0:
                error("monthly_cost_usd", "Must not be negative.")
            elif int(monthly_cost.as_tuple().exponent) < -2:
                error("monthly_cost_usd", "At most 2 decimal places.")
            elif monthly_cost >= MAX_COST:
                error("monthly_cost_usd", "Too large.")

    seats = None
    vendors = _split_list(values["vendors"])
    if values["seats_purchased"]:
        if not WHOLE_NUMBER.fullmatch(values["seats_purchased"]):
            error("seats_purchased", f"'{values['seats_purchased']}' is not a whole number of seats.")
        else:
            seats = int(values["seats_purchased"])
            if seats < 0:
                error("seats_purchased", "Must not be negative.")
            elif seats == 0:
                error("seats_purchased", "Must be at least 1 (leave the cell empty when there is no licence pool).")
            elif seats > MAX_SEATS:
                error("seats_purchased", f"More than {MAX_SEATS:,} seats.")
            elif not vendors:
                error("vendors", "A licence pool (seats_purchased) needs a vendor: the first vendor sells the seats.")

    errors.extend(found)
    return InventoryRow(
        row=line,
        external_id=values["external_id"],
        name=" ".join(values["name"].split()),
        # Spreadsheets export line breaks inside a cell as CRLF or LF; store one form so re-imports compare equal.
        description=cells["description"].replace("\r\n", "\n").replace("\r", "\n").strip(),
        department=" ".join(values["department"].split()),
        cost_center=values["cost_center"],
        owner_email=email,
        stage=stage or "",
        category=category or "",
        vendors=vendors,
        models=_split_list(values["models"]),
        start_date=start_date,
        monthly_cost=monthly_cost,
        seats=seats,
        flawed=frozenset(e.column for e in found),
    )


def _decode(content: bytes) -> tuple[str | None, list[RowError]]:
    nul = content.find(b"\x00")
    if nul >= 0:  # UTF-16 saved by mistake, or a binary file; the database would refuse it in any text anyway
        line = content[:nul].count(b"\n") + 1
        return None, [RowError(line, "", f"The file contains a NUL byte (0x00) on line {line}: it is not a CSV text "
                                         "file. Save it as 'CSV UTF-8' and upload it again.")]
    try:
        return content.decode("utf-8-sig"), []
    except UnicodeDecodeError as exc:
        line = content[: exc.start].count(b"\n") + 1
        message = (
            f"The file is not UTF-8 text (byte 0x{content[exc.start]:02X} on line {line}). "
            "Save it as 'CSV UTF-8' and upload it again."
        )
        return None, [RowError(line, "", message)]


# Separators a spreadsheet may have saved the file with instead of commas, and how the message names them: Excel's
# "CSV" uses the list separator of the computer's region, a semicolon in most of Europe.
OTHER_SEPARATORS = {";": "semicolons", "\t": "tabs"}


def _separator_error(header: list[str]) -> RowError | None:
    """One message for a header whose column names are separated by something other than commas, rather than a
    "Missing column" for each column and one "Unknown column" for the whole line."""
    line = ",".join(header)
    for separator, name in OTHER_SEPARATORS.items():
        names = {part.strip().strip('"').lower() for part in line.split(separator)}
        if len(names & set(COLUMNS)) >= 2:
            return RowError(1, "", f"The file is separated by {name}, not commas. Save it as 'CSV UTF-8' "
                                   "(comma-separated) and upload it again.")
    return None


def _check_header(header: list[str]) -> list[RowError]:
    separated = _separator_error(header)
    if separated is not None:
        return [separated]
    names = [h.strip().lower() for h in header]
    errors = [RowError(1, name, "Missing column.") for name in COLUMNS if name not in names]
    errors += [RowError(1, name or "(blank)", "Unknown column.") for name in names if name not in COLUMNS]
    repeated = sorted({name for name in names if names.count(name) > 1})
    errors += [RowError(1, name, "Column appears more than once.") for name in repeated]
    return errors


def inventory_parse(content: bytes) -> tuple[list[InventoryRow], list[RowError]]:
    """Read and validate a whole inventory file without touching the database.

    Returns every record that could be read (those with bad cells marked `flawed`) and every error found. The caller
    writes nothing unless the error list is empty.
    """
    text, errors = _decode(content)
    if text is None:
        return [], errors
    if not text.strip():
        return [], [RowError(1, "", "The file is empty; the first line must be the header: " + HEADER_LINE)]

    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    rows: list[InventoryRow] = []
    seen_ids: dict[str, int] = {}
    columns: list[str] | None = None
    record_start = 1
    try:
        for cells in reader:
            line, record_start = record_start, reader.line_num + 1
            if not cells or not any(c.strip() for c in cells):
                continue  # blank lines, e.g. at the end of a spreadsheet export
            if columns is None:
                header_errors = _check_header(cells)
                if header_errors:
                    return [], header_errors
                columns = [c.strip().lower() for c in cells]
                continue
            if len(cells) != len(columns):
                errors.append(RowError(line, "", f"Expected {len(columns)} values, found {len(cells)}."))
                continue
            record = dict(zip(columns, cells, strict=True))
            row = _validate_record(line, record, errors)
            external_id = record["external_id"].strip()
            if external_id:  # compared in any case: QA-0001 and qa-0001 are one initiative (external_id_key)
                key = external_id_key(external_id)
                if key in seen_ids:
                    message = f"Duplicate external_id '{external_id}' (first on row {seen_ids[key]})."
                    errors.append(RowError(line, "external_id", message))
                    row = replace(row, flawed=row.flawed | {"external_id"})
                else:
                    seen_ids[key] = line
            rows.append(row)
    except csv.Error as exc:
        errors.append(RowError(record_start, "", f"The file is not valid CSV here: {exc}."))
    if columns is None:
        errors.append(RowError(1, "", "The file has no header line: " + HEADER_LINE))
    elif not rows and not errors:
        errors.append(RowError(1, "", "The file has a header but no rows below it."))
    return rows, errors

