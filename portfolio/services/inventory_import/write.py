"""Inventory import, step two: write validated rows, one initiative at a time, inside the caller's transaction.

Errors that need the database (a cost center of another department, an owner who has left, a plan locked in
review) are collected; the caller rolls everything back when there is any. The rules on who and what an initiative
names are the services' own (portfolio.services.initiatives), so the import refuses what the pages and the API
refuse. An unchanged row writes nothing.
"""

from __future__ import annotations

import contextlib
import difflib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from auditlog.context import auditlog_value, set_extra_data
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Prefetch, Q
from django.db.models.functions import Lower

from portfolio.choices import ACTIVE_STAGES, INTAKE_STAGES, Stage
from portfolio.costs.services.rollups import rollups_deferred
from portfolio.costs.services.tco import tco_recompute
from portfolio.models import AIModel, CostCenter, Department, ImportRun, Initiative, LicencePool, Vendor
from portfolio.selectors import integration_account_ids
from portfolio.services.business_cases import (
    PLAN_INITIATIVE_FIELDS,
    ensure_not_ended,
    ensure_plan_editable,
    plan_changed,
    plan_edit,
    stage_now,
)
from portfolio.services.initiatives import (
    cost_center_check,
    people_check,
    start_date_bounds_check,
    start_date_check,
)
from portfolio.services.inventory_import.parse import InventoryRow, RowError, external_id_key
from portfolio.services.licences import licence_pool_save
from portfolio.services.people import person_get_or_create, person_new_check, person_set_role
from portfolio.services.reference import (
    ai_model_get_or_create,
    cost_center_get_or_create,
    department_get_or_create,
    vendor_get_or_create,
)
from tollgate.roles import Role, has_any_role
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


# The reference data an import creates as rows name it, in the order the run page, the command and the run's
# `new_references` list it: key, label.
NEW_REFERENCE_KINDS = (
    ("departments", "Departments"), ("cost_centers", "Cost centers"), ("vendors", "Vendors"), ("models", "Models"),
    ("people", "People"),
)
# Names kept per kind (with the total): enough to spot a typo, not a copy of a 29,000-row file's new owners.
NEW_REFERENCES_KEPT = 200
# How alike a new name and an existing one must be to ask "did you mean" (difflib's ratio; Claimz/Claims is 0.83).
SIMILAR = 0.8


@dataclass
class ImportCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    # kind -> {"total": n, "names": [{"name": ..., "did_you_mean": an existing name or None}, ...]}
    new_references: dict[str, dict[str, Any]] = field(default_factory=dict)


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


# Foreign keys whose records the import has just read or created in its own transaction: full_clean's check that
# they exist would cost a query each per row and tell nothing.
READ_HERE = ["department", "cost_center", "owner"]

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
        pool = min(initiative.licence_pools.all(), key=lambda p: p.pk, default=None)  # prefetched (_References)
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


def _new_owner_check(email: str) -> None:
    """person_new_check, on the owner's column."""
    try:
        person_new_check(email=email)
    except ValidationError as exc:
        raise ValidationError({"owner": exc.messages}) from exc


def _rule_errors(
    row: InventoryRow, *, initiative: Initiative | None, department: Department | None, cost_center: CostCenter | None,
    owner: Actor | None, new_owner: str | None = None, owner_is_integration_account: bool | None = None,
) -> list[RowError]:
    """The rules every door holds an initiative to (portfolio.services.initiatives), applied as initiative_create
    and initiative_update apply them: on creation, and on update to what the row changes. Every rule the row breaks
    is listed, each on its column. A new owner (an e-mail nobody has yet) is created active, so only a known person
    can have left; but their address may already be another account's username (`new_owner`, person_new_check)."""
    checks: list[Callable[[], None]] = []
    if department is not None:  # None: the department cell is bad, so the cost center cannot be checked against it
        checks.append(lambda: cost_center_check(department=department, cost_center=cost_center))
    if owner is not None and (initiative is None or initiative.owner_id != owner.pk):
        checks.append(lambda: people_check(owner=owner, delegates=None, owner_named=True,
                                           owner_is_integration_account=owner_is_integration_account))
    if owner is None and new_owner:
        checks.append(lambda: _new_owner_check(new_owner))
    if "start_date" not in row.flawed and (initiative is None or initiative.start_date != row.start_date):
        checks.append(lambda: start_date_check(row.start_date))
        if initiative is not None and initiative.stage in ACTIVE_STAGES:
            checks.append(lambda: start_date_bounds_check(initiative=initiative, start_date=row.start_date))
    found: list[RowError] = []
    for check in checks:
        try:
            check()
        except ValidationError as exc:
            found.extend(_validation_errors(row, exc))
    return found


# Keys per statement when reading in bulk: well under SQLite's limit of variables in one statement.
CHUNK = 500


def _chunks(keys: Iterable[str]) -> Iterator[list[str]]:
    ordered = sorted(set(keys))
    for start in range(0, len(ordered), CHUNK):
        yield ordered[start:start + CHUNK]


class _References:
    """What the file names, looked up once per import rather than once per row (a 5,000-row file made ~30 queries a
    row): the initiatives by external_id, with their vendors, models and licence pools, and the people by e-mail are
    read in bulk up front; departments, cost centers, vendors and models are found or created through their services
    the first time a row names them, and remembered by name in any case, as the services find them. It lives for one
    import's transaction, so nothing in it goes stale."""

    def __init__(self, rows: list[InventoryRow]) -> None:
        # By external_id_key: a row's qa-0002 updates QA-0002, which keeps its spelling. Should two stored ids differ
        # only in case (created before ids were compared so), the one spelt as the row is updated.
        self._initiatives: dict[str, list[Initiative]] = {}
        pools = Prefetch("licence_pools", queryset=LicencePool.objects.select_related("vendor"))
        readable = [row for row in rows if "external_id" not in row.flawed]
        ids = sorted({row.external_id for row in readable if row.external_id})
        for start in range(0, len(ids), CHUNK // 2):  # two keys an id: the same bound of variables a statement
            chunk = ids[start:start + CHUNK // 2]
            # The exact spelling too: SQLite's LOWER() folds ASCII letters only, Python's lower() every letter.
            same = Q(id_key__in={external_id_key(i) for i in chunk}) | Q(external_id__in=chunk)
            for initiative in (
                Initiative.objects.select_related("department", "cost_center", "owner")
                .prefetch_related("vendors", "ai_models", pools).annotate(id_key=Lower("external_id"))
                .filter(same).order_by("pk")
            ):
                self._initiatives.setdefault(external_id_key(initiative.external_id), []).append(initiative)
        self._people: dict[str, Actor | None] = {}  # e-mail in lower case -> the first person with it, or None
        for chunk in _chunks(row.owner_email for row in rows if row.owner_email and "owner_email" not in row.flawed):
            for person in User.objects.annotate(email_key=Lower("email")).filter(email_key__in=chunk).order_by("pk"):
                self._people.setdefault(person.email_key, person)
        # Which of them are integration accounts (never an owner, people_check), read with them, not once a row.
        self._read_people = {person.pk for person in self._people.values() if person is not None}
        self._integration_accounts: set[int] = set()
        read = sorted(self._read_people)
        for start in range(0, len(read), CHUNK):
            self._integration_accounts |= integration_account_ids(read[start:start + CHUNK])
        # The file's owner e-mails (lower case) that are some account's username: a new owner is named by their
        # address, so one of these is refused unless someone already has the address (person_new_check).
        self._usernames: set[str] = set()
        for chunk in _chunks(row.owner_email for row in rows if row.owner_email and "owner_email" not in row.flawed):
            self._usernames.update(User.objects.annotate(name_key=Lower("username")).filter(name_key__in=chunk)
                                   .values_list("name_key", flat=True))
        self._owners: dict[str, Actor] = {}
        self._departments: dict[str, Department] = {}
        self._cost_centers: dict[str, CostCenter | None] = {}
        self._vendors: dict[str, Vendor] = {}
        self._models: dict[str, AIModel] = {}
        self.created: dict[str, list[str]] = {kind: [] for kind, _ in NEW_REFERENCE_KINDS}
        self.written: list[int] = []  # the initiatives created or updated, for the TCO's recomputation

    def initiative(self, external_id: str) -> Initiative | None:
        """The initiative with this external_id in any letter case (the one spelt the same first), if any."""
        found = self._initiatives.get(external_id_key(external_id), [])
        return next((i for i in found if i.external_id == external_id), found[0] if found else None)

    def person(self, email: str) -> Actor | None:
        """Who has this e-mail (any case) already, if anyone."""
        if email not in self._people:  # Lower() and iexact may disagree beyond ASCII: ask as the services do
            self._people[email] = User.objects.filter(email__iexact=email).first()
        return self._people[email]

    def is_integration_account(self, person: Actor | None) -> bool | None:
        """Whether the person is an integration account, as read in bulk; None for someone read otherwise."""
        if person is None or person.pk not in self._read_people:
            return None
        return person.pk in self._integration_accounts

    def taken_as_username(self, email: str) -> bool:
        """Whether some account's username is this e-mail (any case): a new owner could not be named by it."""
        return email in self._usernames

    def owner(self, email: str, *, department: Department) -> Actor:
        """The owner a row names, created (in the row's department) when nobody has the e-mail yet. Someone without a
        role (new, or an account that never had one) is given the initiative owner's: without a role they would sign
        in and see nothing, not even the initiatives they own; a role someone already has is left as it is."""
        if email not in self._owners:
            known = self.person(email)
            owner, created = person_get_or_create(email=email, department=department if known is None else None)
            if created or not has_any_role(owner):
                person_set_role(user=owner, role=Role.OWNER, actor=None, source=AUDIT_SOURCE)  # the run's actor
            self._owners[email] = self._people[email] = owner
            if created:
                self.created["people"].append(owner.email)
        return self._owners[email]

    def department(self, name: str) -> Department:
        key = name.lower()
        if key not in self._departments:
            if not Department.objects.filter(name__iexact=name).exists():
                self.created["departments"].append(name)
            self._departments[key] = department_get_or_create(name=name)
        return self._departments[key]

    def cost_center(self, code: str) -> CostCenter | None:
        """The cost center with this code (any case), if there is one."""
        key = code.lower()
        if key not in self._cost_centers:
            self._cost_centers[key] = (
                CostCenter.objects.select_related("department").filter(code__iexact=code).first()
            )
        return self._cost_centers[key]

    def cost_center_create(self, code: str, *, department: Department) -> CostCenter:
        cost_center = cost_center_get_or_create(code=code, department=department)
        self._cost_centers[code.lower()] = cost_center
        self.created["cost_centers"].append(cost_center.code)
        return cost_center

    def vendor(self, name: str) -> Vendor:
        key = name.lower()
        if key not in self._vendors:
            if not Vendor.objects.filter(name__iexact=name).exists():
                self.created["vendors"].append(name)
            self._vendors[key] = vendor_get_or_create(name=name)
        return self._vendors[key]

    def ai_model(self, name: str, *, vendors: list[Vendor]) -> AIModel:
        """The model with this name (any case, at any provider); a new one is served by the row's first vendor, or,
        when the row names none (an open-source or in-house model such as XGBoost or Whisper), by a provider an
        administrator can correct, rather than failing the whole file."""
        key = name.lower()
        if key not in self._models:
            model = AIModel.objects.filter(name__iexact=name).order_by("pk").first()
            if model is None:
                provider = vendors[0] if vendors else self.vendor(UNSPECIFIED_PROVIDER)
                model = ai_model_get_or_create(name=name, provider=provider)
                self.created["models"].append(model.name)
            self._models[key] = model
        return self._models[key]


def _close_email(email: str, existing: Iterable[str]) -> list[str]:
    """The existing address (lower case) a new one is a typo of, as get_close_matches answers: one whose part before
    the @ is close and whose domain is the same (jon.smith@acme.com for john.smith@acme.com), or whose part before the
    @ is the same and whose domain is close (john.smith@acme.con). The whole addresses are never compared: the
    company's domain they share made nearly every new colleague "close" to some other one."""
    local, _, domain = email.rpartition("@")
    same_domain, same_local = [], []
    for other in existing:
        other_local, _, other_domain = other.rpartition("@")
        if other_domain == domain:
            same_domain.append(other_local)
        elif other_local == local:
            same_local.append(other_domain)
    close = difflib.get_close_matches(local, same_domain, n=1, cutoff=SIMILAR)
    if close:
        return [f"{close[0]}@{domain}"]
    close = difflib.get_close_matches(domain, same_local, n=1, cutoff=SIMILAR) if local else []
    return [f"{local}@{close[0]}"] if close else []


def _new_references(created: dict[str, list[str]]) -> dict[str, dict[str, Any]]:
    """What the import created, kind by kind, each new name with the existing one it is close to (a typo such as
    "Claimz" beside "Claims" would otherwise become a new department unnoticed). Compared in lower case: a name
    differing only in case is the same record already, never a new one."""
    existing_names: dict[str, Callable[[], Iterable[str]]] = {
        "departments": lambda: Department.objects.values_list("name", flat=True),
        "cost_centers": lambda: CostCenter.objects.values_list("code", flat=True),
        "vendors": lambda: Vendor.objects.values_list("name", flat=True),
        "models": lambda: AIModel.objects.values_list("name", flat=True),
        "people": lambda: User.objects.exclude(email="").values_list("email", flat=True),
    }
    summary: dict[str, dict[str, Any]] = {}
    for kind, _ in NEW_REFERENCE_KINDS:
        names = created[kind]
        if not names:
            continue
        new = {name.lower() for name in names}
        before = {name.lower(): name for name in existing_names[kind]() if name.lower() not in new}
        kept = []
        for name in names[:NEW_REFERENCES_KEPT]:
            close = (_close_email(name.lower(), before) if kind == "people"
                     else difflib.get_close_matches(name.lower(), before, n=1, cutoff=SIMILAR))
            kept.append({"name": name, "did_you_mean": before[close[0]] if close else None})
        summary[kind] = {"total": len(names), "names": kept}
    return summary


# What an initiative in each intake stage is waiting for, to name the way its stage changes instead of an import.
INTAKE_WAYS: dict[str, str] = {
    Stage.PROPOSED: "the review (submit it for review on its page; a reviewer then approves or rejects it)",
    Stage.IN_REVIEW: "the review (approve or reject on its page)",
    Stage.CHANGES_REQUESTED: "the review (resubmit it for review on its page; a reviewer then approves or rejects it)",
}


def _stage_refused_reason(initiative: Initiative, stage: str, new_stage: str) -> str | None:
    """Why an import may not move this initiative from `stage` (as stored) to `new_stage`, or None.

    The intake is governed: only the review's transitions (scores, quorum, an independent reviewer, the approved
    business-case version) move an initiative into, within or out of proposed, in review, changes requested and
    rejected. An import states where a running initiative already is, so between running stages and to an end
    (retired, killed: tco.ended_on reads that as its end) it stays free."""
    if new_stage == stage:
        return None
    if stage in INTAKE_STAGES:
        label = "has changes requested" if stage == Stage.CHANGES_REQUESTED else f"is {Stage(stage).label.lower()}"
        return (f"{initiative.external_id} {label}: its stage changes through {INTAKE_WAYS.get(stage, 'the review')}, "
                "not an import.")
    if new_stage in INTAKE_STAGES:
        return (f"{initiative.external_id} is {Stage(stage).label.lower()}: an import cannot move it back to "
                f"{Stage(new_stage).label.lower()}, a stage only the review sets. To end it, write retired or killed "
                "(or retire or kill it on its page).")
    return None


def _lock_errors(row: InventoryRow, *, initiative: Initiative, changed: set[str]) -> list[RowError]:
    """The locks on changing an existing initiative, each on its column: an ended initiative is read-only (that
    alone is said), the stage of an intake moves only through the review, the plan of one in review is locked (the
    same as initiative_update). The stage is the stored one, read under the row's lock (stage_now)."""
    if not changed:
        return []
    stage = stage_now(initiative)
    try:
        ensure_not_ended(initiative, stage)
    except ValidationError as exc:
        return _validation_errors(row, exc)
    found: list[RowError] = []
    reason = _stage_refused_reason(initiative, stage, row.stage) if "stage" in changed else None
    if reason:
        found.append(RowError(row.row, "stage", reason))
    for plan_field, what in PLAN_INITIATIVE_FIELDS.items():
        if FIELD_COLUMNS[plan_field] in changed:
            try:
                ensure_plan_editable(initiative, stage, what=what, field=plan_field)
            except ValidationError as exc:
                found.extend(_validation_errors(row, exc))
    return found


def _flawed_row_errors(
    row: InventoryRow, *, initiative: Initiative | None, references: _References
) -> list[RowError]:
    """The errors only the database finds in a row whose other cells are bad, as far as its good cells allow: its
    cost center against its department, its owner, its start date, the locks on what it would change. Nothing of it
    is written (the file has errors, so the transaction is rolled back)."""
    def usable(column: str, value: str) -> bool:
        return bool(value) and column not in row.flawed

    department = references.department(row.department) if usable("department", row.department) else None
    cost_center = references.cost_center(row.cost_center) if usable("cost_center", row.cost_center) else None
    owner = references.person(row.owner_email) if usable("owner_email", row.owner_email) else None
    clash = owner is None and usable("owner_email", row.owner_email) and references.taken_as_username(row.owner_email)
    found = _rule_errors(row, initiative=initiative, department=department, cost_center=cost_center, owner=owner,
                         new_owner=row.owner_email if clash else None,
                         owner_is_integration_account=references.is_integration_account(owner))
    if initiative is not None:
        found += _lock_errors(row, initiative=initiative, changed=_changed_columns(initiative, row) - row.flawed)
    return found


def _write_row(row: InventoryRow, errors: list[RowError], references: _References) -> str | None:
    """Create or update one initiative (and what it refers to); 'created', 'updated', 'unchanged' or None on error.
    A row with bad cells is only checked."""
    initiative = references.initiative(row.external_id) if "external_id" not in row.flawed else None
    if row.flawed:
        errors.extend(_flawed_row_errors(row, initiative=initiative, references=references))
        return None
    locked: list[RowError] = []
    if initiative is not None:
        changed_columns = _changed_columns(initiative, row)
        if not changed_columns:
            return "unchanged"
        # Read under the row's lock, as initiative_update reads it: a transition meanwhile is seen.
        locked = _lock_errors(row, initiative=initiative, changed=changed_columns)

    department = references.department(row.department)
    cost_center = references.cost_center(row.cost_center) if row.cost_center else None
    owner = references.person(row.owner_email)
    clash = owner is None and references.taken_as_username(row.owner_email)
    found = locked + _rule_errors(row, initiative=initiative, department=department, cost_center=cost_center,
                                  owner=owner, new_owner=row.owner_email if clash else None,
                                  owner_is_integration_account=references.is_integration_account(owner))
    if found:
        errors.extend(found)
        return None
    if row.cost_center:
        cost_center = cost_center or references.cost_center_create(row.cost_center, department=department)

    try:
        owner = references.owner(row.owner_email, department=department)
    except ValidationError as exc:  # an address that is a username in a letter case Lower() did not fold alike
        errors.extend(RowError(row.row, "owner_email", message) for message in exc.messages)
        return None
    vendors = [references.vendor(name) for name in row.vendors]
    ai_models = [references.ai_model(name, vendors=vendors) for name in row.models]

    values = {
        "name": row.name, "description": row.description, "department": department, "cost_center": cost_center,
        "owner": owner, "stage": row.stage, "category": row.category, "start_date": row.start_date,
        "declared_monthly_cost": row.monthly_cost,
    }
    outcome = "updated"
    try:
        if initiative is None:
            initiative = Initiative(external_id=row.external_id, **values)
            initiative.full_clean(exclude=READ_HERE)
            initiative.save()
            outcome = "created"
        else:
            changed = [field for field in values if getattr(initiative, field) != values[field]]
            # The locks (_lock_errors) held above; a plan changed after approval gets a version.
            for field in PLAN_INITIATIVE_FIELDS:
                if field in changed:
                    plan_changed(initiative)
            for field in changed:
                setattr(initiative, field, values[field])
            if changed:
                initiative.full_clean(exclude=READ_HERE)
                initiative.save()
        if outcome == "created":  # nothing to compare with
            initiative.vendors.add(*vendors)
            initiative.ai_models.add(*ai_models)
        else:
            if _ids(initiative.vendors.all()) != _ids(vendors):
                initiative.vendors.set(vendors)
            if _ids(initiative.ai_models.all()) != _ids(ai_models):
                initiative.ai_models.set(ai_models)
        if row.seats is not None:
            _licence_pool_upsert(initiative, row, vendor=vendors[0])
    except ValidationError as exc:
        errors.extend(_validation_errors(row, exc))
        return None
    references.written.append(initiative.pk)
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


# Rows between two progress reports: a run page (and the expiry's heartbeat check) sees a long import move on.
PROGRESS_EVERY = 100


def _write_rows(
    rows: list[InventoryRow], errors: list[RowError], *, progress: Callable[[int], None] | None = None
) -> ImportCounts:
    """Write every row; the licence pools' roll-ups are rebuilt once for the whole file, not once per row.
    `progress(rows_done)` is told every PROGRESS_EVERY rows."""
    counts = ImportCounts()
    context = auditlog_value.get(None) or {}  # set by _import_audit_context
    with rollups_deferred(), plan_edit(actor=context.get("actor")):  # plans changed after approval get a version
        references = _References(rows)
        for done, row in enumerate(rows, start=1):
            outcome = _write_row(row, errors, references)
            if outcome is not None:
                setattr(counts, outcome, getattr(counts, outcome) + 1)
            if progress is not None and done % PROGRESS_EVERY == 0:
                progress(done)
    counts.new_references = _new_references(references.created)
    if references.written:  # stages, start dates and declared costs feed the estimated TCO
        tco_recompute(initiative_ids=references.written)
    return counts

