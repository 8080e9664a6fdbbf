"""Reference data created on demand (by imports and the demo company): departments, cost centers, vendors, models;
and the rule that their names are unique whatever their letter case, which every door asks."""

from __future__ import annotations

from contextlib import nullcontext
from decimal import Decimal

from auditlog.context import disable_auditlog, set_actor
from auditlog.models import LogEntry
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Model
from django.utils.text import slugify

from portfolio.choices import ENDED_STAGES, ModelTier
from portfolio.models import AIModel, CostCenter, Department, Initiative, Vendor
from portfolio.services.initiatives import initiative_update
from tollgate.audit import audit_event
from tollgate.roles import may
from tollgate.types import Actor

# Reference data is found without regard to letter case (the import, the filters): "customer service" beside
# "Customer Service" would leave which one a row or a filter hits to chance. So a name (a cost center's code, a
# model's name at its provider) differing from another only in case is the same record, refused with the one that
# exists. The database holds the same rule (a unique constraint on the lower-cased value).
CASE_UNIQUE: dict[type[Model], tuple[str, str, tuple[str, ...]]] = {
    Department: ("name", "department", ()),
    CostCenter: ("code", "cost center", ()),
    Vendor: ("name", "vendor", ()),
    AIModel: ("name", "model", ("provider",)),
}


def case_duplicate_errors(record: Model) -> dict[str, str]:
    """What another record already holds of `record`'s case-insensitive key, keyed by the field, naming that record;
    `record` may be unsaved (a form's or the API's candidate)."""
    if type(record) not in CASE_UNIQUE:
        return {}
    field, noun, within = CASE_UNIQUE[type(record)]
    value = (getattr(record, field) or "").strip()
    if not value:
        return {}
    scope = {f"{name}_id": getattr(record, f"{name}_id") for name in within}
    if any(v is None for v in scope.values()):
        return {}
    existing = (type(record)._default_manager.filter(**{f"{field}__iexact": value}, **scope)
                .exclude(pk=record.pk).order_by("pk").first())
    if existing is None:
        return {}
    where = f" at {getattr(existing, within[0])}" if within else ""
    return {field: (f"The {noun} “{getattr(existing, field)}”{where} already exists: a {field} that differs only in "
                    f"letter case is the same {noun}.")}


def ensure_no_case_duplicate(record: Model) -> None:
    """Refuse `record` when another record holds its key in another letter case (case_duplicate_errors)."""
    if errors := case_duplicate_errors(record):
        raise ValidationError(errors)


def _save_reference(record: Model, *, actor: Actor | None, validated: bool = False) -> None:
    """Validate and save reference data written by a person (page, API): the case rule first, for its clearer
    message, then the model's own (unless the caller `validated` the record already); auditlog records the change
    under the actor. A duplicate stored by another request between the check and the write is refused the same way,
    not a 500."""
    if not validated:
        ensure_no_case_duplicate(record)
        record.full_clean()
    try:
        with transaction.atomic(), (set_actor(actor) if actor is not None else nullcontext()):
            record.save()
    except IntegrityError:
        if errors := case_duplicate_errors(record):
            raise ValidationError(errors) from None
        raise


# A department's code, in the words its field's help uses (the Departments page) and its refusal repeats (page and
# API), naming the value refused: the field is Django's slug, so underscores pass too, as `slugify` keeps them.
DEPARTMENT_CODE_HELP = "A short identifier for imports and the API: letters, digits, hyphens and underscores, e.g. cs."
DEPARTMENT_CODE_INVALID = ("A department's code is a short identifier for imports and the API: letters, digits, "
                           "hyphens and underscores only, e.g. cs; not “%(value)s”.")

@transaction.atomic
def department_save(
    *, actor: Actor | None, name: str, code: str, head: Actor | None = None, department: Department | None = None
) -> Department:
    """Add a department, or change `department` (administrators: the Departments page and the API)."""
    if department is None:
        if actor is not None and not may(actor, "portfolio.add_department"):
            raise PermissionDenied("Only administrators add departments.")
        stored = Department()
    else:
        if actor is not None and not may(actor, "portfolio.change_department", department):
            raise PermissionDenied(f"You may not change the department {department}.")
        stored = Department.objects.select_for_update().get(pk=department.pk)
    stored.name, stored.code, stored.head = (name or "").strip(), (code or "").strip(), head
    _save_reference(stored, actor=actor)
    if department is not None:
        department.refresh_from_db()
    return stored


# How many initiatives a refused move names (external id and name); the rest are counted.
MOVE_NAMED = 5


def cost_center_move_errors(
    cost_center: CostCenter, department: Department, *, move_initiatives: bool = False
) -> dict[str, str]:
    """Why `cost_center` may not move to `department`, keyed by the field, or nothing.

    An initiative's cost center is one of its department's (portfolio.services.initiatives.cost_center_check): a
    cost center that initiatives are billed to moves only with them (`move_initiatives`), and an ended initiative
    among them, being read-only, keeps the cost center where it is."""
    if cost_center.pk is None or cost_center.department_id == department.pk:
        return {}
    billed = list(Initiative.objects.filter(cost_center_id=cost_center.pk).exclude(department=department)
                  .order_by("external_id").values_list("external_id", "name", "stage"))
    if not billed:
        return {}
    ended = [row for row in billed if row[2] in ENDED_STAGES]
    if move_initiatives and not ended:
        return {}
    rows = ended if move_initiatives else billed
    named = ", ".join(f"{external_id} {name}" for external_id, name, _ in rows[:MOVE_NAMED])
    more = f" and {len(rows) - MOVE_NAMED} more" if len(rows) > MOVE_NAMED else ""
    many = len(rows) > 1
    if move_initiatives:
        message = (f"Cost center {cost_center.code} is billed by {len(rows)} ended initiative{'s' if many else ''} "
                   f"({named}{more}), read-only and keeping {'their' if many else 'its'} department: it cannot move "
                   f"to {department.name}. Add a new cost center for {department.name} instead.")
    else:
        message = (f"Cost center {cost_center.code} is billed by {len(rows)} initiative{'s' if many else ''} "
                   f"({named}{more}), and an initiative's cost center belongs to its own department: it cannot move "
                   f"to {department.name} alone. Move {'them' if many else 'it'} with it (“Move its initiatives "
                   "too”), or bill them to another cost center first.")
    return {"department": message}


@transaction.atomic
def cost_center_save(
    *, actor: Actor | None, code: str, name: str, department: Department, budget_owner: Actor | None = None,
    cost_center: CostCenter | None = None, move_initiatives: bool = False,
) -> CostCenter:
    """Add a cost center, or change `cost_center` (administrators: the Cost centers page and the API).

    Moving a cost center to another department is refused while initiatives are billed to it, unless
    `move_initiatives`: each of them then moves to the new department through initiative_update (audited as a change
    of that initiative), in this transaction. Nothing else stores an initiative's department: allocation rules map
    costs to initiatives, not departments, and the dashboard, the department pages and escalations read the
    department when asked, so the initiatives' costs and value count for the new department from then on, past
    quarters included."""
    if cost_center is None:
        if actor is not None and not may(actor, "portfolio.add_costcenter"):
            raise PermissionDenied("Only administrators add cost centers.")
        stored = CostCenter()
    else:
        if actor is not None and not may(actor, "portfolio.change_costcenter", cost_center):
            raise PermissionDenied(f"You may not change the cost center {cost_center}.")
        stored = CostCenter.objects.select_for_update().get(pk=cost_center.pk)
    if errors := cost_center_move_errors(stored, department, move_initiatives=move_initiatives):
        raise ValidationError(errors)
    moving = stored.pk is not None and stored.department_id != department.pk
    stored.code, stored.name = (code or "").strip(), (name or "").strip()
    stored.department, stored.budget_owner = department, budget_owner
    _save_reference(stored, actor=actor)
    if moving:
        # Read after the save: each initiative's cost center is then the moved one, of its new department.
        for initiative in Initiative.objects.filter(cost_center=stored).exclude(department=department).order_by("pk"):
            initiative_update(actor=actor, initiative=initiative, department=department)
    if cost_center is not None:
        cost_center.refresh_from_db()
    return stored


@transaction.atomic
def vendor_save(*, actor: Actor | None, name: str, website: str = "", vendor: Vendor | None = None) -> Vendor:
    """Add a vendor, or change `vendor` (administrators: the Vendors page and the API); a name differing from
    another's only in letter case is refused, naming the vendor that exists."""
    if vendor is None:
        if actor is not None and not may(actor, "portfolio.add_vendor"):
            raise PermissionDenied("Only administrators add vendors.")
        stored = Vendor()
    else:
        if actor is not None and not may(actor, "portfolio.change_vendor", vendor):
            raise PermissionDenied(f"You may not change the vendor {vendor}.")
        stored = Vendor.objects.select_for_update().get(pk=vendor.pk)
    stored.name, stored.website = (name or "").strip(), (website or "").strip()
    _save_reference(stored, actor=actor)
    if vendor is not None:
        vendor.refresh_from_db()
    return stored


# What ai_model_save takes of a catalogue entry (the page's form and the API's update name the same fields).
AI_MODEL_FIELDS = ("provider", "name", "tier", "input_price_per_mtok", "output_price_per_mtok", "open_weights",
                   "context_window", "substitute")


@transaction.atomic
def ai_model_save(
    *, actor: Actor | None, provider: Vendor, name: str, tier: str = ModelTier.OTHER,
    input_price_per_mtok: Decimal | None = None, output_price_per_mtok: Decimal | None = None,
    open_weights: bool = False, context_window: int | None = None, substitute: AIModel | None = None,
    model: AIModel | None = None,
) -> AIModel:
    """Add a model to the catalogue, or change `model` (administrators: the Models page and the API).

    The whole entry is validated at once (the case rule within the provider, prices, a substitute of a lower tier
    than the tier given) before anything is written. A change of substitute is then written by
    ai_model_substitute_set, so it is audited under its own event like every other substitute decision."""
    if model is None:
        if actor is not None and not may(actor, "portfolio.add_aimodel"):
            raise PermissionDenied("Only administrators add models.")
        stored = AIModel()
    else:
        if actor is not None and not may(actor, "portfolio.change_aimodel", model):
            raise PermissionDenied(f"You may not change the model {model}.")
        stored = AIModel.objects.select_for_update().get(pk=model.pk)
    kept_substitute = stored.substitute if stored.pk else None
    stored.provider, stored.name, stored.tier = provider, (name or "").strip(), tier
    stored.input_price_per_mtok, stored.output_price_per_mtok = input_price_per_mtok, output_price_per_mtok
    stored.open_weights, stored.context_window = open_weights, context_window
    stored.substitute = substitute
    ensure_no_case_duplicate(stored)
    stored.full_clean()  # the substitute checked against the new tier
    stored.substitute = kept_substitute
    _save_reference(stored, actor=actor, validated=True)
    if substitute != kept_substitute:
        stored = ai_model_substitute_set(actor=actor, model=stored, substitute=substitute)
    if model is not None:
        model.refresh_from_db()
    return stored


def department_get_or_create(*, name: str, head: Actor | None = None) -> Department:
    name = name.strip()
    department = Department.objects.filter(name__iexact=name).first()
    if department is None:
        base = slugify(name)[:36] or "dept"
        code, n = base, 2
        while Department.objects.filter(code=code).exists():
            code, n = f"{base}-{n}", n + 1
        department = Department.objects.create(name=name, code=code, head=head)
    elif head is not None and department.head_id != head.pk:
        department.head = head
        department.save(update_fields=["head", "updated_at"])
    return department


def cost_center_get_or_create(
    *, code: str, department: Department, name: str | None = None, budget_owner: Actor | None = None
) -> CostCenter:
    code = code.strip()
    cost_center = CostCenter.objects.filter(code__iexact=code).first()
    if cost_center is None:
        cost_center = CostCenter.objects.create(
            code=code, name=name or f"{department.name} {code}", department=department, budget_owner=budget_owner
        )
    elif budget_owner is not None and cost_center.budget_owner_id != budget_owner.pk:
        cost_center.budget_owner = budget_owner
        cost_center.save(update_fields=["budget_owner", "updated_at"])
    return cost_center


def vendor_get_or_create(*, name: str, website: str = "") -> Vendor:
    name = name.strip()
    vendor = Vendor.objects.filter(name__iexact=name).first()
    if vendor is None:
        vendor = Vendor.objects.create(name=name, website=website)
    return vendor


def ai_model_get_or_create(
    *, name: str, provider: Vendor, tier: str = ModelTier.OTHER, **catalogue_fields
) -> AIModel:
    """A model is known by name across providers first: imports name models without saying who serves them."""
    name = name.strip()
    model = AIModel.objects.filter(name__iexact=name).order_by("pk").first()
    if model is None:
        model = AIModel.objects.create(name=name, provider=provider, tier=tier, **catalogue_fields)
    return model


@transaction.atomic
def ai_model_substitute_set(*, actor: Actor | None, model: AIModel, substitute: AIModel | None) -> AIModel:
    """Mark (or clear) the cheaper model administrators accept for `model`'s work: its usage becomes a right-sizing
    signal. Refused unless the substitute is another text model of a lower tier (AIModel.clean); audited."""
    if actor is not None and not may(actor, "portfolio.change_aimodel", model):
        raise PermissionDenied("Only administrators mark model substitutes.")
    locked = AIModel.objects.select_for_update().get(pk=model.pk)
    before = locked.substitute
    if before == substitute:
        return locked
    locked.substitute = substitute
    locked.full_clean()
    with disable_auditlog():  # the explicit row below says it once, under its own event
        locked.save(update_fields=["substitute", "updated_at"])
    audit_event(locked, actor=actor, event="ai_model_substitute_set",
                changes={"substitute": [str(before) if before else None, str(substitute) if substitute else None]})
    model.substitute = substitute
    return locked


# How many of the records still using a reference record a refused delete names; the rest are counted.
IN_USE_NAMED = 5

# What a reference record's deletion would break or silently change, by model: (the noun of the users, how to list
# them). An initiative naming a vendor or model would lose it without a word (the link is many-to-many), a model or
# licence pool would lose its provider or vendor (protected): either way the delete is refused, naming them.
# What may still use a record: (one, several, the related name), so that the refusal reads "1 initiative", "2 models".
REFERENCE_USERS: dict[type[Model], tuple[tuple[str, str, str], ...]] = {
    Vendor: (("initiative", "initiatives", "initiatives"), ("model", "models", "models"),
             ("licence pool", "licence pools", "licence_pools")),
    AIModel: (("initiative", "initiatives", "initiatives"),
              ("model naming it as its substitute", "models naming it as their substitute", "substitute_for")),
    Department: (("initiative", "initiatives", "initiatives"), ("cost center", "cost centers", "cost_centers")),
    CostCenter: (("initiative", "initiatives", "initiatives"),),
}

REFERENCE_DELETED_EVENTS: dict[type[Model], str] = {
    Vendor: "vendor_deleted", AIModel: "ai_model_deleted", Department: "department_deleted",
    CostCenter: "cost_center_deleted",
}


def reference_in_use(record: Model) -> list[str]:
    """What still uses `record`, one phrase per kind of user ("2 initiatives (A, B)", "1 model (C)"); empty when
    nothing does."""
    uses = []
    for one, several, related in REFERENCE_USERS[type(record)]:
        users = list(getattr(record, related).order_by("pk"))
        if users:
            named = ", ".join(str(user) for user in users[:IN_USE_NAMED])
            more = f" and {len(users) - IN_USE_NAMED} more" if len(users) > IN_USE_NAMED else ""
            uses.append(f"{len(users)} {one if len(users) == 1 else several} ({named}{more})")
    return uses


@transaction.atomic
def reference_delete(*, actor: Actor | None, record: Vendor | AIModel | Department | CostCenter) -> None:
    """Delete a vendor, model, department or cost center (administrators: the API), audited under its own event.

    Refused while anything uses it, naming what does: deleting a vendor named by initiatives would drop it from them
    silently, and a protected one would fail half-way."""
    model = type(record)
    noun = CASE_UNIQUE[model][1]
    if actor is not None and not may(actor, f"portfolio.delete_{model._meta.model_name}", record):
        raise PermissionDenied(f"Only administrators delete {noun}s.")
    stored = model._default_manager.select_for_update().get(pk=record.pk)
    if uses := reference_in_use(stored):
        raise ValidationError(f"The {noun} “{stored}” cannot be deleted: it is used by {'; '.join(uses)}. "
                              f"Remove it from them first.")
    before = {field.attname: str(getattr(stored, field.attname)) for field in model._meta.concrete_fields}
    audit_event(stored, actor=actor, event=REFERENCE_DELETED_EVENTS[model], action=LogEntry.Action.DELETE,
                changes={name: [value, None] for name, value in before.items()})
    with disable_auditlog():  # the explicit row above says it once, under its own event
        stored.delete()
