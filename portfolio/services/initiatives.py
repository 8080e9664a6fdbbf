"""Registering and editing initiatives, their business cases and KPIs."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal
from typing import Any, cast

from auditlog.context import disable_auditlog, set_actor
from auditlog.models import LogEntry
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import router, transaction
from django.db.models import Min
from django.db.models.deletion import Collector
from django.utils import timezone

from portfolio import evidence
from portfolio.choices import ACTIVE_STAGES, Stage
from portfolio.costs.services.tco import tco_recompute
from portfolio.models import (
    BUSINESS_CASE_FIELDS,
    KPI,
    KPI_FIELDS,
    AIModel,
    BusinessCase,
    CostCenter,
    Department,
    Initiative,
    MonthlyCost,
    Vendor,
)
from portfolio.selectors import is_integration_account, start_date_change_refusal
from portfolio.services.business_cases import (
    PLAN_INITIATIVE_FIELDS,
    ensure_not_ended,
    ensure_plan_editable,
    plan_changed,
    plan_edit,
    stage_now,
)
from tollgate.audit import audit_event
from tollgate.roles import can_act_as_delegate, is_admin, is_executive, may
from tollgate.text import possessive
from tollgate.types import Actor

__all__ = [
    "BUSINESS_CASE_FIELDS", "EDITABLE_FIELDS", "KPI_FIELDS", "business_case_delete", "business_case_save",
    "initiative_create", "initiative_next_external_id", "initiative_start_date_change", "initiative_update",
    "kpi_delete", "kpi_save", "kpis_replace",
]

EDITABLE_FIELDS = (
    "name", "description", "category", "department", "cost_center", "owner", "start_date", "tags",
    "declared_monthly_cost",
)


OWNER_ASSIGNED_BY_ADMINISTRATORS = "Only administrators may assign an initiative to another owner."


def owner_assignment_check(*, actor: Actor | None, owner: Actor, registering: bool) -> None:
    """Refuse, on the owner field, a new owner named by anyone but an administrator (or the system): one registers
    an initiative as its owner, and ownership then moves only by an administrator (or a hand-over on the People
    page). A delegate could otherwise take an initiative over, or an owner hand it and its reports to someone who
    never accepted it. Every door (page, API, admin, import) reaches it here."""
    if actor is None or is_admin(actor) or (registering and owner.pk == actor.pk):
        return
    raise ValidationError({"owner": OWNER_ASSIGNED_BY_ADMINISTRATORS})


def _ensure_can_write(actor: Actor | None) -> None:
    # Executives are read-only everywhere (unless also administrators, as in tollgate.roles); the service enforces
    # it whatever the caller checked. Being a superuser is not a role: it exempts nobody.
    if actor is not None and is_executive(actor) and not is_admin(actor):
        raise PermissionDenied("Executives have read-only access.")


def initiative_next_external_id() -> str:
    """Next free TG-NNNNN id for initiatives registered in Tollgate rather than imported."""
    numbers = [
        int(m.group(1))
        for eid in Initiative.objects.filter(external_id__startswith="TG-").values_list("external_id", flat=True)
        if (m := re.fullmatch(r"TG-(\d+)", eid))
    ]
    return f"TG-{(max(numbers, default=0) + 1):05d}"


def cost_center_check(*, department: Department, cost_center: CostCenter | None) -> None:
    """An initiative's cost center is one of its department's: the department pays through it."""
    if cost_center is not None and cost_center.department_id != department.pk:
        raise ValidationError({"cost_center": (
            f"Cost center {cost_center.code} ({cost_center.name}) belongs to {cost_center.department.name}, not to "
            f"{department.name}: pick one of {possessive(department.name)} cost centers, or leave it empty."
        )})


TAGS_MAX_CHARACTERS = 500  # as the form's field: the tags written out, comma-separated


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day is not None else None


def _tags(tags: Iterable[str]) -> list[str]:
    """The tags sorted without repeats, at most TAGS_MAX_CHARACTERS written out (the API and the import as the form)."""
    tags = sorted({str(tag).strip() for tag in tags if str(tag).strip()})
    written = ", ".join(tags)
    if len(written) > TAGS_MAX_CHARACTERS:
        raise ValidationError({"tags": f"The tags come to {len(written):,} characters written out; at most "
                                       f"{TAGS_MAX_CHARACTERS}."})
    return tags


EARLIEST_START = date(1990, 1, 1)  # before any AI initiative anyone registers; a date earlier is a typing slip
LATEST_START_YEARS = 10


def start_date_check(start_date: date | None) -> None:
    """A start date a person could mean: not before 1990 nor more than ten years ahead (0001-01-01 and 9999-12-31
    were accepted, and made every month between a month of estimated cost)."""
    if start_date is None:
        return
    today = timezone.localdate()
    latest = today.replace(year=today.year + LATEST_START_YEARS, day=min(today.day, 28))
    if not EARLIEST_START <= start_date <= latest:
        raise ValidationError({"start_date": f"A start date is between {EARLIEST_START.isoformat()} and "
                                             f"{latest.isoformat()}, not {start_date.isoformat()}."})


DELEGATES_READ_ONLY = ("Only the owner and administrators choose who acts for an initiative: you see its delegates "
                       "but do not change them.")


def delegates_change_check(*, actor: Actor | None, initiative: Initiative) -> None:
    """Refuse, on the delegates field, a change of the delegates by anyone but the owner or an administrator (a
    delegate could otherwise add a CoE reviewer, or remove the others); the system (no actor) may."""
    if actor is not None and not may(actor, "portfolio.manage_initiative_delegates", initiative):
        raise ValidationError({"delegates": DELEGATES_READ_ONLY})


def delegates_who_cannot_act(delegates: Iterable[Actor]) -> str:
    """The refusal of naming delegates whose roles would not let them act (an executive reads only; an account
    without a role sees nothing): they would be told of the initiative's steps but could neither edit nor report.
    Empty when all can act. Asked for those newly named, on an initiative and on a person's profile."""
    cannot = [d for d in delegates if not can_act_as_delegate(d)]
    if not cannot:
        return ""
    names = ", ".join(d.get_full_name() or str(d) for d in cannot)
    return (f"{names} cannot be named a delegate: a delegate edits and reports for the owner, which "
            f"{'their roles do' if len(cannot) > 1 else 'their role does'} not allow (an executive only reads). "
            "Name an initiative owner, or ask an administrator to give them the role.")


def integration_account_owner_refusal(owner: Actor) -> str:
    """Why an integration account may not own an initiative, naming it (the initiative's owner field, a hand-over's
    new owner, the import's owner column, marking an owner as an integration account)."""
    return (f"{owner.get_full_name() or owner} is an integration account, which a script uses and nobody signs in "
            "to: it cannot own an initiative, as the owner answers for it. Name a person who signs in as the owner; "
            "the account may be one of the initiative's delegates (to submit its value reports).")


def people_check(*, owner: Actor, delegates: Iterable[Actor] | None, owner_named: bool,
                 named_before: Iterable[int] = (), owner_is_integration_account: bool | None = None) -> None:
    """Who an initiative names: a newly named owner has not left and is a person who signs in, not an integration
    account (one may be a delegate), and its delegates (those newly named; one already named may stay after leaving,
    for the history) have not left and are not its owner. The pages offer only such people; the API, the admin and
    the import are held to the same rule here. `owner_is_integration_account`: None reads it; the import, which
    reads its owners in bulk, says it."""
    errors: dict[str, str] = {}
    if owner_named and not owner.is_active:
        errors["owner"] = f"{owner.get_full_name() or owner} has left (account deactivated): name an active owner."
    elif owner_named and (is_integration_account(owner) if owner_is_integration_account is None
                          else owner_is_integration_account):
        errors["owner"] = integration_account_owner_refusal(owner)
    if delegates is not None:
        before = set(named_before)
        delegates = list(delegates)
        left = [d for d in delegates if not d.is_active and d.pk not in before]
        if any(d.pk == owner.pk for d in delegates):
            errors["delegates"] = (f"{owner.get_full_name() or owner} owns the initiative: an owner is not also its "
                                   "delegate.")
        elif left:
            errors["delegates"] = (f"{', '.join(d.get_full_name() or str(d) for d in left)} cannot be named a "
                                   "delegate: their account is deactivated.")
        elif cannot := delegates_who_cannot_act([d for d in delegates if d.pk not in before]):
            errors["delegates"] = cannot
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def initiative_create(
    *,
    actor: Actor | None,
    name: str,
    department: Department,
    owner: Actor,
    description: str = "",
    category: str = "other",
    cost_center: CostCenter | None = None,
    stage: str = Stage.PROPOSED,
    vendors: Iterable[Vendor] = (),
    ai_models: Iterable[AIModel] = (),
    delegates: Iterable[Actor] = (),
    start_date: date | None = None,
    tags: Iterable[str] = (),
    declared_monthly_cost: Decimal = Decimal("0"),
    external_id: str | None = None,
) -> Initiative:
    """Register an initiative. New ones start as proposed; imports and the demo may give another starting stage."""
    _ensure_can_write(actor)
    owner_assignment_check(actor=actor, owner=owner, registering=True)
    cost_center_check(department=department, cost_center=cost_center)
    delegates = list(delegates)
    people_check(owner=owner, delegates=delegates, owner_named=True)
    start_date_check(start_date)
    with set_actor(actor):
        initiative = Initiative(
            external_id=external_id or initiative_next_external_id(),
            name=name.strip(),
            description=description,
            category=category,
            department=department,
            cost_center=cost_center,
            owner=owner,
            stage=stage,
            start_date=start_date,
            tags=_tags(tags),
            declared_monthly_cost=declared_monthly_cost,
        )
        initiative.full_clean()
        initiative.save()
        initiative.vendors.set(vendors)
        initiative.ai_models.set(ai_models)
        initiative.delegates.set(delegates)
    if initiative.stage in ACTIVE_STAGES:
        tco_recompute(initiative_ids=[initiative.pk])
    return initiative


START_DATE_READ_ONLY = ("Once approved, the start date is changed only by an administrator or a CoE reviewer, with a "
                        "reason: it decides which months and quarters the initiative's cost, reports and signals "
                        "count.")


def start_date_change_check(*, actor: Actor | None, initiative: Initiative, stage: str, start_date: date | None,
                            reason: str) -> str:
    """Refuse, on the start_date field, a change of a running initiative's start date (approved, pilot, production)
    that is not an administrator's or an independent CoE reviewer's with a reason, or that moves it past its first
    month with cost records or the period of its first submitted value report: moved later, the start date would put
    those months before the initiative began and so clear its cost variance, its pilot-age and value-report signals.
    Returns the reason, stripped. Before approval the start date is the owner's to plan."""
    reason = (reason or "").strip()
    if stage not in ACTIVE_STAGES:
        return reason
    if actor is not None and not may(actor, "portfolio.change_start_date", initiative):
        raise ValidationError({"start_date": START_DATE_READ_ONLY})
    if actor is not None and not reason:
        raise ValidationError({"start_date": "Give the reason for changing the start date of an initiative that has "
                                             "left the intake (start_date_reason)."})
    start_date_bounds_check(initiative=initiative, start_date=start_date)
    return reason


def start_date_bounds_check(*, initiative: Initiative, start_date: date | None) -> None:
    """Refuse, on start_date, moving a start date later than the initiative's first month with cost records or the
    first month of its first submitted value report's period (the inventory import holds running initiatives to it
    too; its run is the record of who changed what)."""
    before = initiative.start_date
    if start_date is not None and (before is None or start_date > before):
        month = start_date.replace(day=1)
        bounds = []
        first_cost = MonthlyCost.objects.filter(initiative_id=initiative.pk).aggregate(first=Min("month"))["first"]
        if first_cost is not None and month > first_cost.replace(day=1):
            bounds.append(f"its first month with cost records, {first_cost:%Y-%m}")
        reported = evidence.first_reported_period(initiative_id=initiative.pk)
        if reported is not None and month > reported[0].replace(day=1):
            bounds.append(f"the period of its first submitted value report, {reported[1]} "
                          f"(from {reported[0]:%Y-%m-%d})")
        if bounds:
            raise ValidationError({"start_date": f"The start date may not move to {start_date.isoformat()}, later than "
                                                 f"{' and '.join(bounds)}."})


@transaction.atomic
def initiative_update(
    *,
    actor: Actor | None,
    initiative: Initiative,
    vendors: Iterable[Vendor] | None = None,
    ai_models: Iterable[AIModel] | None = None,
    delegates: Iterable[Actor] | None = None,
    start_date_reason: str = "",
    **fields: Any,
) -> Initiative:
    """Edit what an owner may edit. The stage is not among them: it moves only through governed transitions.

    Nothing of an ended initiative changes; the declared monthly cost is part of the plan, locked while in review
    and versioned after approval (portfolio.services.business_cases); once approved, the start date moves only as
    start_date_change_check allows, audited with `start_date_reason`."""
    _ensure_can_write(actor)
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationError(f"Not editable here: {', '.join(sorted(unknown))}")
    if "tags" in fields:
        fields["tags"] = _tags(fields["tags"])
    stage = stage_now(initiative)
    with plan_edit(actor=actor), set_actor(actor):
        changed = [f for f, v in fields.items() if getattr(initiative, f) != v]
        relations = {}
        for relation, values in (("vendors", vendors), ("ai_models", ai_models), ("delegates", delegates)):
            if values is not None:
                wanted = list(values)
                if {v.pk for v in wanted} != set(getattr(initiative, relation).values_list("pk", flat=True)):
                    relations[relation] = wanted
        if changed or relations:
            ensure_not_ended(initiative, stage)
        if "owner" in changed:
            owner_assignment_check(actor=actor, owner=fields["owner"], registering=False)
        if "delegates" in relations:
            delegates_change_check(actor=actor, initiative=initiative)
        start_moved_from = initiative.start_date
        if "start_date" in changed:
            start_date_check(fields["start_date"])
            start_date_reason = start_date_change_check(actor=actor, initiative=initiative, stage=stage,
                                                        start_date=fields["start_date"], reason=start_date_reason)
        if "owner" in changed or "delegates" in relations:
            people_check(owner=fields.get("owner", initiative.owner),
                         delegates=cast("list[Actor] | None", relations.get("delegates")),
                         owner_named="owner" in changed,
                         named_before=initiative.delegates.values_list("pk", flat=True))
        plan_fields = [f for f in changed if f in PLAN_INITIATIVE_FIELDS]
        for field_name in plan_fields:
            ensure_plan_editable(initiative, stage, what=PLAN_INITIATIVE_FIELDS[field_name], field=field_name)
        for field_name in changed:
            setattr(initiative, field_name, fields[field_name])
        cost_center_check(department=initiative.department, cost_center=initiative.cost_center)
        if changed:
            initiative.full_clean()
            initiative.save()
            if {"start_date", "declared_monthly_cost"} & set(changed):
                tco_recompute(initiative_ids=[initiative.pk])
            if "start_date" in changed and stage in ACTIVE_STAGES:
                audit_event(initiative, actor=actor, event="start_date_changed", reason=start_date_reason,
                            changes={"start_date": [_iso(start_moved_from), _iso(initiative.start_date)]})
            if plan_fields:
                plan_changed(initiative)
        for relation, wanted in relations.items():
            getattr(initiative, relation).set(wanted)
    return initiative


@transaction.atomic
def initiative_start_date_change(*, actor: Actor | None, initiative: Initiative, start_date: date | None,
                                 reason: str) -> Initiative:
    """Move a running initiative's start date (approved, pilot, production), with a reason: what an independent CoE
    reviewer or an administrator does on the "Change start date" page. Held to initiative_update's rules
    (start_date_change_check: someone independent of the initiative, a reason, not later than its first month with
    cost records or its first submitted report's period; nothing of an ended initiative changes), which audits it as
    "start_date_changed" with the reason. Refused before approval (the owner plans it then) and when the date is the
    one it has: nothing would be recorded."""
    initiative = Initiative.objects.select_for_update().get(pk=initiative.pk)  # as stored, under the row's lock
    if refusal := start_date_change_refusal(initiative):
        raise ValidationError({"start_date": refusal})
    if start_date == initiative.start_date:
        raise ValidationError({"start_date": f"The start date is already {_iso(start_date) or 'empty'}: choose "
                                             "another date, or cancel."})
    return initiative_update(actor=actor, initiative=initiative, start_date=start_date, start_date_reason=reason)


@transaction.atomic
def business_case_save(*, actor: Actor | None, initiative: Initiative, **fields: Any) -> BusinessCase:
    """Create or update the initiative's business case; only changed fields are written (and audited).

    Refused for an ended initiative and while in review; after approval the change is recorded as a new version of
    the business case (portfolio.services.business_cases)."""
    _ensure_can_write(actor)
    unknown = set(fields) - set(BUSINESS_CASE_FIELDS)
    if unknown:
        raise ValidationError(f"Unknown business case fields: {', '.join(sorted(unknown))}")
    stage = stage_now(initiative)
    with plan_edit(actor=actor), set_actor(actor):
        case = BusinessCase.objects.filter(initiative=initiative).first() or BusinessCase(initiative=initiative)
        changed = [f for f, v in fields.items() if getattr(case, f) != v]
        if case.pk is None or changed:
            ensure_plan_editable(initiative, stage, what="The business case")
        for field_name in changed:
            setattr(case, field_name, fields[field_name])
        if case.pk is None or changed:
            case.full_clean()
            case.save()
            tco_recompute(initiative_ids=[initiative.pk])
            plan_changed(initiative)
    return case


@transaction.atomic
def kpis_replace(
    *, actor: Actor | None, initiative: Initiative, kpis: Iterable[Mapping[str, Any]]
) -> list[KPI]:
    """Make the initiative's KPIs exactly `kpis`: rows with an id are updated, without one created, others deleted.

    Any change is refused for an ended initiative and while in review; after approval it is recorded as a new
    version of the business case."""
    _ensure_can_write(actor)
    stage = stage_now(initiative)
    existing = {k.pk: k for k in initiative.kpis.all()}
    kept: list[KPI] = []
    writes: list[tuple[KPI, bool]] = []  # (kpi, is new or changed), checked before anything is written
    refigured: dict[int, tuple[KPI, list[str]]] = {}  # KPIs whose figures change: (kpi, the fields changed)
    for row in kpis:
        values = {f: row[f] for f in KPI_FIELDS if f in row}
        kpi_id = row.get("id")
        if kpi_id:
            if kpi_id not in existing:
                raise ValidationError({"kpis": f"KPI {kpi_id} does not belong to {initiative}."})
            kpi = existing.pop(kpi_id)
            changed = [f for f, v in values.items() if getattr(kpi, f) != v]
            figures = [f for f in changed if f in KPI_MEASURED_FIELDS]
            if figures:
                refigured[kpi.pk] = (kpi, figures)
            for field_name in changed:
                setattr(kpi, field_name, values[field_name])
            writes.append((kpi, bool(changed)))
        else:
            writes.append((KPI(initiative=initiative, **values), True))
    stale = list(existing.values())
    if stale or any(write for _, write in writes):
        ensure_plan_editable(initiative, stage, what="The KPIs")
    _ensure_not_measured(stale)
    _ensure_figures_kept(list(refigured.values()))
    with plan_edit(actor=actor), set_actor(actor):
        for kpi, write in writes:
            if write:
                kpi.full_clean()
                kpi.save()
            kept.append(kpi)
        for kpi in stale:
            kpi.delete()
        if stale or any(write for _, write in writes):
            plan_changed(initiative)
    return kept


def _ensure_not_measured(kpis: list[KPI]) -> None:
    """A KPI that submitted value reports measured stays: deleting it would change what those reports say (their
    actuals, value and value per dollar) after they were submitted or decided on."""
    measured = evidence.kpis_in_reports(kpi_ids=[k.pk for k in kpis]) if kpis else {}
    if measured:
        raise ValidationError({"kpis": [
            f"KPI {k.name!r} stays: the submitted value report{'s' if len(measured[k.pk]) > 1 else ''} "
            f"{', '.join(measured[k.pk])} measured it, and would change if it went. Add a new KPI for what comes "
            "next instead." for k in kpis if k.pk in measured]})


# What a submitted report reads of a KPI to say what it measured: its value (kind, baseline, direction, value per
# unit: reviews.calculations.kpi_value), whether its target was met (target, direction) and in what (unit); with the
# words a refusal names them by.
KPI_MEASURED_FIELDS = {"unit": "unit", "kind": "kind", "baseline": "baseline", "target": "target",
                       "direction": "direction", "value_per_unit": "value per unit"}


def _ensure_figures_kept(changes: list[tuple[KPI, list[str]]]) -> None:
    """A KPI that submitted value reports measured keeps the figures they were valued and judged on: a new value per
    unit or baseline would rewrite the value of reports already submitted or decided, and of past quarters on the
    dashboard. Its name may change; a new yardstick is a new KPI."""
    measured = evidence.kpis_in_reports(kpi_ids=[kpi.pk for kpi, _ in changes]) if changes else {}
    if measured:
        raise ValidationError({"kpis": [
            f"KPI {kpi.name!r} keeps its {_field_list(fields)}: the submitted value "
            f"report{'s' if len(measured[kpi.pk]) > 1 else ''} {', '.join(measured[kpi.pk])} measured it, and "
            "their value and targets would change. Add a new KPI for what comes next instead (renaming it stays "
            "possible)." for kpi, fields in changes if kpi.pk in measured]})


def _field_list(fields: list[str]) -> str:
    names = [KPI_MEASURED_FIELDS[name] for name in fields]
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def _kpi_ids(initiative: Initiative, *, excluding: int | None = None) -> list[dict[str, Any]]:
    # kpis_replace keeps rows named by id, without fields, as they are.
    kpis = initiative.kpis.all() if excluding is None else initiative.kpis.exclude(pk=excluding)
    return [{"id": pk} for pk in kpis.order_by("pk").values_list("pk", flat=True)]


@transaction.atomic
def kpi_save(*, actor: Actor | None, initiative: Initiative, kpi: KPI | None = None, **fields: Any) -> KPI:
    """Add a KPI to the initiative (`kpi` None) or change one of its KPIs, the others kept: kpis_replace for one row
    (the API and the admin edit KPIs one at a time)."""
    if kpi is not None and kpi.initiative_id != initiative.pk:
        raise ValidationError({"initiative": "A KPI stays with its initiative; add one to the other initiative."})
    values = {name: fields[name] for name in KPI_FIELDS if name in fields}
    try:
        if kpi is None:
            return kpis_replace(actor=actor, initiative=initiative, kpis=[*_kpi_ids(initiative), values])[-1]
        kept = kpis_replace(actor=actor, initiative=initiative,
                            kpis=[*_kpi_ids(initiative, excluding=kpi.pk), {"id": kpi.pk, **values}])
    except ValidationError as exc:
        stored = (KPI.objects.filter(pk=kpi.pk).values(*KPI_MEASURED_FIELDS).first() or {}) if kpi else {}
        changed = [f for f in KPI_MEASURED_FIELDS if f in values and f in stored and stored[f] != values[f]]
        raise _one_kpi_error(exc, fields=changed) from exc
    return next(k for k in kept if k.pk == kpi.pk)


def _one_kpi_error(error: ValidationError, *, fields: list[str]) -> ValidationError:
    """kpis_replace speaks of the initiative's KPI list ("kpis", the initiative form's field); a refusal about one
    KPI names that KPI's fields instead (those changed, else none): the API and the admin edit KPIs one by one."""
    if not hasattr(error, "error_dict") or "kpis" not in error.error_dict:
        return error
    errors = dict(error.error_dict)
    messages = errors.pop("kpis")
    for name in fields or [NON_FIELD_ERRORS]:
        errors.setdefault(name, []).extend(messages)
    return ValidationError(errors)


@transaction.atomic
def initiative_delete(*, actor: Actor | None, initiative: Initiative) -> None:
    """Delete an initiative and all that hangs on it (administrators: the Django admin and the API), audited under its
    own event naming what went with it; auditlog's field history of each row deleted would say it a hundred times.

    Retiring or killing an initiative keeps its record; deleting is for an entry made by mistake."""
    if actor is not None and not may(actor, "portfolio.delete_initiative", initiative):
        raise PermissionDenied("Only administrators delete initiatives: retire it, or ask a CoE reviewer to kill it.")
    stored = Initiative.objects.select_for_update().get(pk=initiative.pk)
    collector = Collector(using=router.db_for_write(Initiative))
    collector.collect([stored])
    went = sorted(f"{len(rows)} {(model._meta.verbose_name if len(rows) == 1 else model._meta.verbose_name_plural)}"
                  for model, rows in collector.data.items() if model is not Initiative and rows)
    audit_event(stored, actor=actor, event="initiative_deleted", action=LogEntry.Action.DELETE,
                changes={"external_id": [stored.external_id, None], "name": [stored.name, None],
                         "stage": [stored.get_stage_display(), None]},
                reason=f"Deleted with it: {', '.join(went)}." if went else "Nothing else was deleted with it.")
    with disable_auditlog():  # the row above says it once, with what went with it
        stored.delete()


@transaction.atomic
def kpi_delete(*, actor: Actor | None, kpi: KPI) -> None:
    """Remove one KPI of its initiative, the others kept (kpis_replace, with its locks and versions)."""
    initiative = kpi.initiative
    try:
        kpis_replace(actor=actor, initiative=initiative, kpis=_kpi_ids(initiative, excluding=kpi.pk))
    except ValidationError as exc:
        raise _one_kpi_error(exc, fields=[]) from exc


@transaction.atomic
def business_case_delete(*, actor: Actor | None, case: BusinessCase) -> None:
    """Delete a business case (administrators only, as tollgate.roles says): refused while its initiative is in review
    or ended, like any other change of the plan; after approval the approved version keeps the figures."""
    _ensure_can_write(actor)
    if actor is not None and not is_admin(actor):
        raise PermissionDenied("Only administrators delete business cases.")
    initiative = case.initiative
    stage = stage_now(initiative)
    ensure_plan_editable(initiative, stage, what="The business case")
    with plan_edit(actor=actor), set_actor(actor):
        case.delete()
        tco_recompute(initiative_ids=[initiative.pk])
        plan_changed(initiative)
