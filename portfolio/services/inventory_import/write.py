"""Inventory import, step two: write validated rows, one initiative at a time, inside the caller's transaction.

Errors that need the database (a cost center of another department, an owner who has left, a plan locked in
review) are collected; the caller rolls everything back when there is any. The rules on who and what an initiative
names are the services' own (portfolio.services.initiatives), so the import refuses what the pages and the API
refuse. An unchanged row writes nothing.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from auditlog.context import auditlog_value, set_extra_data
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

from portfolio.costs.services.rollups import rollups_deferred
from portfolio.costs.services.tco import tco_recompute
from portfolio.models import AIModel, CostCenter, Department, ImportRun, Initiative
from portfolio.services.business_cases import (
    PLAN_INITIATIVE_FIELDS,
    ensure_not_ended,
    ensure_plan_editable,
    plan_changed,
    plan_edit,
    stage_now,
)
from portfolio.services.initiatives import cost_center_check, people_check, start_date_check
from portfolio.services.inventory_import.parse import InventoryRow, RowError
from portfolio.services.licences import licence_pool_save
from portfolio.services.people import person_get_or_create
from portfolio.services.reference import (
    ai_model_get_or_create,
    cost_center_get_or_create,
    department_get_or_create,
    vendor_get_or_create,
)
from tollgate.types import Actor

User = get_user_model()

AUDIT_SOURCE = "inventory_import"
# Model fields an import writes, and the column each comes from (for mapping model validation errors to columns).
FIELD_COLUMNS = {
    "external_id": "external_id", "name": "name", "description": "description", "department": "department",
    "cost_center": "cost_center", "owner": "owner_email", "stage": "stage", "category": "category",
    "start_date": "start_date", "declared_monthly_cost": "monthly_cost_usd", "vendors": "vendors",
    "ai_models": "models", "seats_purchased": "seats_purchased", "price_per_seat_month": "monthly_cost_usd",
    "tool": "name", "vendor": "vendors",
}


@dataclass
class ImportCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


class _Rollback(Exception):
    """Raised inside the write transaction to undo it (errors found, or a dry run)."""


@contextlib.contextmanager
def _import_audit_context(*, actor: Actor | None, run: ImportRun) -> Iterator[None]:
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


# The provider of a model an import names without any vendor on its row.
UNSPECIFIED_PROVIDER = "Unspecified provider"

def _ids(objects: Any) -> set[int]:
    return {o.pk for o in objects}


def _names(objects: Any) -> set[str]:
    return {o.name.lower() for o in objects}


# The cells the licence pool of a row is made of: the pool is compared only when all of them read well.
POOL_COLUMNS = frozenset({"name", "vendors", "monthly_cost_usd", "seats_purchased"})


def _changed_columns(initiative: Initiative, row: InventoryRow) -> set[str]:
    """The columns whose cells differ from what the initiative holds: compared on names, so no reference is looked
    up or created. Empty when writing the row would change nothing."""
    cost_center = initiative.cost_center.code.lower() if initiative.cost_center else ""
    differs = {
        "name": initiative.name != row.name,
        "description": initiative.description != row.description,
        "department": initiative.department.name.lower() != row.department.lower(),
        "cost_center": cost_center != row.cost_center.lower(),
        "owner_email": initiative.owner.email.lower() != row.owner_email,
        "stage": initiative.stage != row.stage,
        "category": initiative.category != row.category,
        "start_date": initiative.start_date != row.start_date,
        "monthly_cost_usd": initiative.declared_monthly_cost != row.monthly_cost,
        "vendors": _names(initiative.vendors.all()) != {v.lower() for v in row.vendors},
        "models": _names(initiative.ai_models.all()) != {m.lower() for m in row.models},
    }
    changed = {column for column, different in differs.items() if different}
    if row.seats is not None and not row.flawed & POOL_COLUMNS:
        pool = initiative.licence_pools.order_by("pk").select_related("vendor").first()
        if not (
            pool is not None
            and pool.tool == row.name
            and pool.vendor.name.lower() == row.vendors[0].lower()
            and pool.seats_purchased == row.seats
            and pool.price_per_seat_month == row.price_per_seat
        ):
            changed.add("seats_purchased")
    return changed


def _validation_errors(row: InventoryRow, exc: ValidationError) -> list[RowError]:
    if not hasattr(exc, "error_dict"):
        return [RowError(row.row, "", m) for m in exc.messages]
    return [
        RowError(row.row, FIELD_COLUMNS.get(field, field), message)
        for field, messages in exc.message_dict.items()
        for message in messages
    ]


def _rule_errors(
    row: InventoryRow, *, initiative: Initiative | None, department: Department | None, cost_center: CostCenter | None,
    owner: Actor | None,
) -> list[RowError]:
    """The rules every door holds an initiative to (portfolio.services.initiatives), applied as initiative_create
    and initiative_update apply them: on creation, and on update to what the row changes. Every rule the row breaks
    is listed, each on its column. A new owner (an e-mail nobody has yet) is created active, so only a known
    person can have left."""
    checks: list[Callable[[], None]] = []
    if department is not None:  # None: the department cell is bad, so the cost center cannot be checked against it
        checks.append(lambda: cost_center_check(department=department, cost_center=cost_center))
    if owner is not None and (initiative is None or initiative.owner_id != owner.pk):
        checks.append(lambda: people_check(owner=owner, delegates=None, owner_named=True))
    if "start_date" not in row.flawed and (initiative is None or initiative.start_date != row.start_date):
        checks.append(lambda: start_date_check(row.start_date))
    found: list[RowError] = []
    for check in checks:
        try:
            check()
        except ValidationError as exc:
            found.extend(_validation_errors(row, exc))
    return found


def _lock_errors(row: InventoryRow, *, initiative: Initiative, changed: set[str]) -> list[RowError]:
    """The locks initiative_update holds a change to: an ended initiative is read-only, the plan of one in review is
    locked. Only for a row with bad cells (which is never written): a good row meets them while it is written."""
    if not changed:
        return []
    stage = stage_now(initiative)
    try:
        ensure_not_ended(initiative, stage)
        for field, what in PLAN_INITIATIVE_FIELDS.items():
            if FIELD_COLUMNS[field] in changed:
                ensure_plan_editable(initiative, stage, what=what, field=field)
    except ValidationError as exc:
        return _validation_errors(row, exc)
    return []


def _flawed_row_errors(row: InventoryRow, *, initiative: Initiative | None) -> list[RowError]:
    """The errors only the database finds in a row whose other cells are bad, as far as its good cells allow: its
    cost center against its department, its owner, its start date, the locks on what it would change. Nothing of it
    is written (the file has errors, so the transaction is rolled back)."""
    def usable(column: str, value: str) -> bool:
        return bool(value) and column not in row.flawed

    department = department_get_or_create(name=row.department) if usable("department", row.department) else None
    cost_center = None
    if usable("cost_center", row.cost_center):
        cost_center = CostCenter.objects.select_related("department").filter(code__iexact=row.cost_center).first()
    owner = None
    if usable("owner_email", row.owner_email):
        owner = User.objects.filter(email__iexact=row.owner_email).first()
    found = _rule_errors(row, initiative=initiative, department=department, cost_center=cost_center, owner=owner)
    if initiative is not None:
        found += _lock_errors(row, initiative=initiative, changed=_changed_columns(initiative, row) - row.flawed)
    return found


def _write_row(row: InventoryRow, errors: list[RowError]) -> str | None:
    """Create or update one initiative (and what it refers to); 'created', 'updated', 'unchanged' or None on error.
    A row with bad cells is only checked."""
    initiative = None
    if "external_id" not in row.flawed:
        initiative = (
            Initiative.objects.select_related("department", "cost_center", "owner").filter(external_id=row.external_id)
            .first()
        )
    if row.flawed:
        errors.extend(_flawed_row_errors(row, initiative=initiative))
        return None
    if initiative is not None and not _changed_columns(initiative, row):
        return "unchanged"

    department = department_get_or_create(name=row.department)
    cost_center = None
    if row.cost_center:
        cost_center = CostCenter.objects.select_related("department").filter(code__iexact=row.cost_center).first()
    known_owner = User.objects.filter(email__iexact=row.owner_email).first()
    found = _rule_errors(row, initiative=initiative, department=department, cost_center=cost_center,
                         owner=known_owner)
    if found:
        errors.extend(found)
        return None
    if row.cost_center:
        cost_center = cost_center or cost_center_get_or_create(code=row.cost_center, department=department)

    owner, _ = person_get_or_create(email=row.owner_email, department=department if known_owner is None else None)
    vendors = [vendor_get_or_create(name=name) for name in row.vendors]
    ai_models: list[AIModel] = []
    for name in row.models:
        model = AIModel.objects.filter(name__iexact=name).order_by("pk").first()
        if model is None:
            # Served by the row's first vendor; an open-source or in-house model (XGBoost, Whisper) named without
            # one goes under a provider an administrator can correct, rather than failing the whole file.
            provider = vendors[0] if vendors else vendor_get_or_create(name=UNSPECIFIED_PROVIDER)
            model = ai_model_get_or_create(name=name, provider=provider)
        ai_models.append(model)

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
            # The same locks as initiative_update: an ended initiative is read-only, the declared cost of one in
            # review is locked (the row is not unchanged, so something would change).
            stage = stage_now(initiative)
            ensure_not_ended(initiative, stage)
            for field, what in PLAN_INITIATIVE_FIELDS.items():
                if field in changed:
                    ensure_plan_editable(initiative, stage, what=what, field=field)
                    plan_changed(initiative)
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
    seats, price = row.seats, row.price_per_seat
    if seats is None or price is None:  # no seats in this row (the parser refuses 0, so a price goes with seats)
        return
    context = auditlog_value.get(None) or {}  # set by _import_audit_context
    licence_pool_save(
        actor=context.get("actor"), pool=initiative.licence_pools.order_by("pk").first(), tool=row.name,
        vendor=vendor, seats_purchased=seats, price_per_seat_month=price, initiative=initiative,
    )


def _write_rows(rows: list[InventoryRow], errors: list[RowError]) -> ImportCounts:
    """Write every row; the licence pools' roll-ups are rebuilt once for the whole file, not once per row."""
    counts = ImportCounts()
    context = auditlog_value.get(None) or {}  # set by _import_audit_context
    with rollups_deferred(), plan_edit(actor=context.get("actor")):  # plans changed after approval get a version
        for row in rows:
            outcome = _write_row(row, errors)
            if outcome is not None:
                setattr(counts, outcome, getattr(counts, outcome) + 1)
    if counts.created or counts.updated:  # stages, start dates and declared costs feed the estimated TCO
        written = Initiative.objects.filter(external_id__in=[row.external_id for row in rows])
        tco_recompute(initiative_ids=written.values_list("pk", flat=True))
    return counts

