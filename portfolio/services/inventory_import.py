"""Inventory import: every customer starts from the spreadsheet of AI initiatives they already keep.

The import is all or nothing. A pure step (`inventory_parse`) reads and validates the whole file and returns the
validated rows and every error found; only a file without errors reaches the write step, which runs in one
`transaction.atomic` and may still find errors that need the database (a cost center that belongs to another
department, a new model without a vendor to serve it). Any error rolls the whole transaction back, so a bad file
writes nothing. A dry run goes through the same write step and rolls it back, so its counts are exactly what a real
run would do. Rows are upserted by `external_id`; an unchanged row writes nothing (it is compared before writing),
so re-importing the same file creates no audit entries.

Stage: governed transitions are the only path that moves an initiative's stage, with one documented exception here.
The customer's spreadsheet states where each initiative already is, so an import sets the starting stage on creation
and may set it again on update. Both are recorded in the audit trail as an import (source, run and file name).
"""

from __future__ import annotations

import contextlib
import csv
import io
import logging
import os
import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from auditlog.context import auditlog_value, set_extra_data
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from portfolio.choices import Category, RunStatus, RunTrigger, Stage
from portfolio.models import AIModel, CostCenter, ImportRun, Initiative
from portfolio.services.licences import licence_pool_save
from portfolio.services.people import person_get_or_create
from portfolio.services.reference import (
    ai_model_get_or_create,
    cost_center_get_or_create,
    department_get_or_create,
    vendor_get_or_create,
)
from tollgate.roles import may

logger = logging.getLogger(__name__)
User = get_user_model()

COLUMNS = (
    "external_id", "name", "description", "department", "cost_center", "owner_email", "stage", "category", "vendors",
    "models", "start_date", "monthly_cost_usd", "seats_purchased",
)
HEADER_LINE = ",".join(COLUMNS)
LIST_SEPARATOR = ";"
MAX_FILE_BYTES = 5 * 1024 * 1024
STALE_AFTER = timedelta(hours=1)
AUDIT_SOURCE = "inventory_import"

# Lengths of the model fields the columns land in: checked up front so a long value is a row error, not a crash.
MAX_LENGTHS = {
    "external_id": 64, "name": 200, "department": 120, "cost_center": 40, "owner_email": 150,
    "vendors": 120, "models": 160,
}
MAX_COST = Decimal("1e12")  # MONEY fields: 14 digits, 2 decimals.
MAX_SEATS = 10_000_000
# Model fields an import writes, and the column each comes from (for mapping model validation errors to columns).
FIELD_COLUMNS = {
    "external_id": "external_id", "name": "name", "description": "description", "department": "department",
    "cost_center": "cost_center", "owner": "owner_email", "stage": "stage", "category": "category",
    "start_date": "start_date", "declared_monthly_cost": "monthly_cost_usd", "vendors": "vendors",
    "ai_models": "models", "seats_purchased": "seats_purchased", "price_per_seat_month": "monthly_cost_usd",
    "tool": "name", "vendor": "vendors",
}
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
    """One validated line of the inventory, in Python types, ready to be written."""

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

    @property
    def price_per_seat(self) -> Decimal | None:
        if not self.seats:
            return None
        return (self.monthly_cost / self.seats).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)


@dataclass
class ImportCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


class _Rollback(Exception):
    """Raised inside the write transaction to undo it (errors found, or a dry run)."""


# --- parse and validate (pure: no database) -----------------------------------------------------------------------


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


def _validate_record(line: int, cells: dict[str, str], errors: list[RowError]) -> InventoryRow | None:
    """Check every column of one record, appending every problem found; the row only if it had none."""
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
    if found:
        return None
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
    )


def _decode(content: bytes) -> tuple[str | None, list[RowError]]:
    try:
        return content.decode("utf-8-sig"), []
    except UnicodeDecodeError as exc:
        line = content[: exc.start].count(b"\n") + 1
        message = (
            f"The file is not UTF-8 text (byte 0x{content[exc.start]:02X} on line {line}). "
            "Save it as 'CSV UTF-8' and upload it again."
        )
        return None, [RowError(line, "", message)]


def _check_header(header: list[str]) -> list[RowError]:
    names = [h.strip().lower() for h in header]
    errors = [RowError(1, name, "Missing column.") for name in COLUMNS if name not in names]
    errors += [RowError(1, name or "(blank)", "Unknown column.") for name in names if name not in COLUMNS]
    repeated = sorted({name for name in names if names.count(name) > 1})
    errors += [RowError(1, name, "Column appears more than once.") for name in repeated]
    return errors


def inventory_parse(content: bytes) -> tuple[list[InventoryRow], list[RowError]]:
    """Read and validate a whole inventory file without touching the database.

    Returns the validated rows and every error found. The caller writes nothing unless the error list is empty.
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
            if external_id:
                if external_id in seen_ids:
                    message = f"Duplicate external_id '{external_id}' (first on row {seen_ids[external_id]})."
                    errors.append(RowError(line, "external_id", message))
                    row = None
                else:
                    seen_ids[external_id] = line
            if row is not None:
                rows.append(row)
    except csv.Error as exc:
        errors.append(RowError(record_start, "", f"The file is not valid CSV here: {exc}."))
    if columns is None:
        errors.append(RowError(1, "", "The file has no header line: " + HEADER_LINE))
    elif not rows and not errors:
        errors.append(RowError(1, "", "The file has a header but no rows below it."))
    return rows, errors


# --- write -------------------------------------------------------------------------------------------------------


@contextlib.contextmanager
def _import_audit_context(*, actor: AbstractUser | None, run: ImportRun) -> Iterator[None]:
    """Mark every LogEntry written inside as coming from this import run.

    django-auditlog 3.4.1 keeps ONE context (a ContextVar): nested set_actor()/set_extra_data() calls replace it
    rather than merge, and only keys that are LogEntry fields are copied onto the entry. So the actor and
    `additional_data` go in a single set_extra_data(), and the caller's context (e.g. the request's, set by
    AuditlogMiddleware when the task runs eagerly) is put back afterwards.
    """
    previous = auditlog_value.get(None)
    context = {
        "actor": actor,
        "additional_data": {"source": AUDIT_SOURCE, "import_run": run.pk, "filename": run.filename},
    }
    try:
        with set_extra_data(context_data=context):
            yield
    finally:
        if previous is not None:
            auditlog_value.set(previous)


def _ids(objects: Any) -> set[int]:
    return {o.pk for o in objects}


def _names(objects: Any) -> set[str]:
    return {o.name.lower() for o in objects}


def _is_unchanged(initiative: Initiative, row: InventoryRow) -> bool:
    """True when writing the row would change nothing: compared on names, so no reference is looked up or created."""
    cost_center = initiative.cost_center.code.lower() if initiative.cost_center else ""
    if (
        initiative.name != row.name
        or initiative.description != row.description
        or initiative.department.name.lower() != row.department.lower()
        or cost_center != row.cost_center.lower()
        or initiative.owner.email.lower() != row.owner_email
        or initiative.stage != row.stage
        or initiative.category != row.category
        or initiative.start_date != row.start_date
        or initiative.declared_monthly_cost != row.monthly_cost
        or _names(initiative.vendors.all()) != {v.lower() for v in row.vendors}
        or _names(initiative.ai_models.all()) != {m.lower() for m in row.models}
    ):
        return False
    if row.seats is None:
        return True
    pool = initiative.licence_pools.order_by("pk").select_related("vendor").first()
    return (
        pool is not None
        and pool.tool == row.name
        and pool.vendor.name.lower() == row.vendors[0].lower()
        and pool.seats_purchased == row.seats
        and pool.price_per_seat_month == row.price_per_seat
    )


def _validation_errors(row: InventoryRow, exc: ValidationError) -> list[RowError]:
    if not hasattr(exc, "error_dict"):
        return [RowError(row.row, "", m) for m in exc.messages]
    return [
        RowError(row.row, FIELD_COLUMNS.get(field, field), message)
        for field, messages in exc.message_dict.items()
        for message in messages
    ]


def _write_row(row: InventoryRow, errors: list[RowError]) -> str | None:
    """Create or update one initiative (and what it refers to); 'created', 'updated', 'unchanged' or None on error."""
    initiative = (
        Initiative.objects.select_related("department", "cost_center", "owner").filter(external_id=row.external_id)
        .first()
    )
    if initiative is not None and _is_unchanged(initiative, row):
        return "unchanged"

    department = department_get_or_create(name=row.department)
    cost_center = None
    if row.cost_center:
        cost_center = CostCenter.objects.select_related("department").filter(code__iexact=row.cost_center).first()
        if cost_center is not None and cost_center.department_id != department.pk:
            message = (
                f"Cost center {cost_center.code} belongs to department '{cost_center.department.name}', "
                f"not '{department.name}'."
            )
            errors.append(RowError(row.row, "cost_center", message))
            return None
        cost_center = cost_center or cost_center_get_or_create(code=row.cost_center, department=department)

    owner_is_new = not User.objects.filter(email__iexact=row.owner_email).exists()
    owner, _ = person_get_or_create(email=row.owner_email, department=department if owner_is_new else None)
    vendors = [vendor_get_or_create(name=name) for name in row.vendors]
    ai_models: list[AIModel] = []
    for name in row.models:
        model = AIModel.objects.filter(name__iexact=name).order_by("pk").first()
        if model is None and not vendors:
            errors.append(RowError(row.row, "models", f"'{name}' is not in the model catalogue yet; name a vendor in "
                                                      "'vendors' so it can be added (the first vendor serves it)."))
            return None
        ai_models.append(model or ai_model_get_or_create(name=name, provider=vendors[0]))

    values = {
        "name": row.name, "description": row.description, "department": department, "cost_center": cost_center,
        "owner": owner, "stage": row.stage, "category": row.category, "start_date": row.start_date,
        "declared_monthly_cost": row.monthly_cost,
    }
    outcome = "updated"
    try:
        if initiative is None:
            initiative = Initiative(external_id=row.external_id, **values)
            initiative.full_clean()
            initiative.save()
            outcome = "created"
        else:
            changed = [field for field, value in values.items() if getattr(initiative, field) != value]
            for field in changed:
                setattr(initiative, field, values[field])
            if changed:
                initiative.full_clean()
                initiative.save()
        if _ids(initiative.vendors.all()) != _ids(vendors):
            initiative.vendors.set(vendors)
        if _ids(initiative.ai_models.all()) != _ids(ai_models):
            initiative.ai_models.set(ai_models)
        if row.seats is not None:
            _licence_pool_upsert(initiative, row, vendor=vendors[0])
    except ValidationError as exc:
        errors.extend(_validation_errors(row, exc))
        return None
    return outcome


def _licence_pool_upsert(initiative: Initiative, row: InventoryRow, *, vendor: Any) -> None:
    """Seats in the inventory become the initiative's licence pool (its first pool is updated if it has one), through
    licence_pool_save like any other write: roll-ups recomputed, one audit row (marked as this import's by the
    import's audit context, which also names the actor)."""
    context = auditlog_value.get(None) or {}  # set by _import_audit_context
    licence_pool_save(
        actor=context.get("actor"), pool=initiative.licence_pools.order_by("pk").first(), tool=row.name,
        vendor=vendor, seats_purchased=row.seats, price_per_seat_month=row.price_per_seat, initiative=initiative,
    )


def _write_rows(rows: list[InventoryRow], errors: list[RowError]) -> ImportCounts:
    counts = ImportCounts()
    for row in rows:
        outcome = _write_row(row, errors)
        if outcome is not None:
            setattr(counts, outcome, getattr(counts, outcome) + 1)
    return counts


def _finish(run: ImportRun, *, status: str, errors: list[RowError], counts: ImportCounts | None = None) -> ImportRun:
    counts = counts or ImportCounts()
    run.status = status
    run.errors = [e.as_dict() for e in errors]
    run.rows_created, run.rows_updated, run.rows_unchanged = counts.created, counts.updated, counts.unchanged
    run.finished_at = timezone.now()
    run.save()
    return run


def inventory_import_run(
    *, run: ImportRun, content: bytes | None = None, actor: AbstractUser | None = None
) -> ImportRun:
    """Process a run: validate the whole file, then write it in one transaction (rolled back on error or dry run).

    `content` defaults to the run's stored file and `actor` to the run's actor. The run records the outcome; this
    function does not raise for a bad file (that is a failed run, with its errors).
    """
    actor = actor if actor is not None else run.actor
    run.status = RunStatus.RUNNING
    run.started_at = run.started_at or timezone.now()
    run.save(update_fields=["status", "started_at"])
    try:
        if content is None:
            with run.file.open("rb") as handle:
                content = handle.read()
        rows, errors = inventory_parse(content)
        # Records read: the valid ones plus those with errors (the header, row 1, is not a record).
        run.rows_total = len(rows) + len({e.row for e in errors if e.row and e.row > 1})
        if errors:
            return _finish(run, status=RunStatus.FAILED, errors=errors)
        counts = ImportCounts()
        try:
            with transaction.atomic(), _import_audit_context(actor=actor, run=run):
                counts = _write_rows(rows, errors)
                if errors or run.dry_run:
                    raise _Rollback
        except _Rollback:
            pass
        if errors:
            return _finish(run, status=RunStatus.FAILED, errors=errors)
        if not run.dry_run and (counts.created or counts.updated):
            _sprawl_recompute_queue()
        return _finish(run, status=RunStatus.SUCCEEDED, errors=[], counts=counts)
    except Exception as exc:  # any failure must end the run as failed, with the reason shown
        logger.exception("Import run %s failed", run.pk)
        return _finish(run, status=RunStatus.FAILED, errors=[RowError(None, "", f"The import failed: {exc}")])


def _sprawl_recompute_queue() -> None:
    """New or changed initiatives: queue a sprawl recomputation (sent on commit; one at a time)."""
    from governance.choices import SprawlRunTrigger
    from governance.sprawl.services import sprawl_run_submit

    sprawl_run_submit(actor=None, trigger=SprawlRunTrigger.IMPORT)


def import_run_create(
    *,
    actor: AbstractUser | None,
    filename: str,
    content: bytes,
    trigger: str = RunTrigger.USER,
    dry_run: bool = False,
) -> ImportRun:
    """Record a pending run with its file stored, so a worker can load it by id (the bytes do not travel by broker)."""
    if actor is not None and not may(actor, "portfolio.import_initiatives"):
        raise PermissionDenied("Only administrators import the inventory.")
    filename = os.path.basename(filename.replace("\\", "/")) or "inventory.csv"
    run = ImportRun(filename=filename[:255], actor=actor, trigger=trigger, dry_run=dry_run)
    run.file.save(filename, ContentFile(content), save=False)
    run.save()
    return run


def import_run_submit(
    *, actor: AbstractUser | None, filename: str, content: bytes, dry_run: bool = False,
    trigger: str = RunTrigger.USER,
) -> ImportRun:
    """Create a run and hand it to Celery once the run is committed (eager locally: done before this returns)."""
    from portfolio.tasks import import_run_execute  # tasks import this module

    run = import_run_create(actor=actor, filename=filename, content=content, trigger=trigger, dry_run=dry_run)
    transaction.on_commit(lambda: import_run_execute.delay(run.pk))
    return run


def import_run_claim(*, run_id: int) -> ImportRun | None:
    """Atomically move a pending run to running; None if it is gone or another worker already took it."""
    claimed = ImportRun.objects.filter(pk=run_id, status=RunStatus.PENDING).update(
        status=RunStatus.RUNNING, started_at=timezone.now()
    )
    return ImportRun.objects.get(pk=run_id) if claimed else None


def import_runs_expire_stale(*, older_than: timedelta = STALE_AFTER) -> int:
    """Fail runs stuck in 'running' (a worker died mid-run): the data was rolled back, the user should retry."""
    cutoff = timezone.now() - older_than
    message = (
        f"Stopped: the run did not finish within {older_than}; its worker was probably lost. Nothing was written; "
        "upload the file again."
    )
    return ImportRun.objects.filter(status=RunStatus.RUNNING).filter(
        Q(started_at__lt=cutoff) | Q(started_at__isnull=True, created_at__lt=cutoff)
    ).update(
        status=RunStatus.FAILED,
        finished_at=timezone.now(),
        errors=[RowError(None, "", message).as_dict()],
    )
