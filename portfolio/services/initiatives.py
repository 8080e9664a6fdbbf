"""Registering and editing initiatives, their business cases and KPIs."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from auditlog.context import set_actor
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from portfolio.choices import ACTIVE_STAGES, Stage
from portfolio.costs.services.tco import tco_recompute
from portfolio.models import KPI, AIModel, BusinessCase, CostCenter, Department, Initiative, Vendor
from tollgate.roles import is_admin, is_executive
from tollgate.types import Actor

BUSINESS_CASE_FIELDS = (
    "problem", "process_replaced", "baseline_cost_per_outcome", "outcome_unit", "expected_monthly_volume", "targets",
    "tco_inference", "tco_compute", "tco_storage", "tco_licences", "oversight_hours_per_month", "loaded_hourly_rate",
    "tco_maintenance", "expected_monthly_value", "min_viable_scale", "success_criteria",
)
KPI_FIELDS = ("name", "unit", "kind", "baseline", "target", "direction", "value_per_unit")
EDITABLE_FIELDS = (
    "name", "description", "category", "department", "cost_center", "owner", "start_date", "tags",
    "declared_monthly_cost",
)


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
            f"{department.name}: pick one of {department.name}'s cost centers, or leave it empty."
        )})


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
    cost_center_check(department=department, cost_center=cost_center)
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
            tags=sorted(set(tags)),
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


@transaction.atomic
def initiative_update(
    *,
    actor: Actor | None,
    initiative: Initiative,
    vendors: Iterable[Vendor] | None = None,
    ai_models: Iterable[AIModel] | None = None,
    delegates: Iterable[Actor] | None = None,
    **fields: Any,
) -> Initiative:
    """Edit what an owner may edit. The stage is not among them: it moves only through governed transitions."""
    _ensure_can_write(actor)
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationError(f"Not editable here: {', '.join(sorted(unknown))}")
    with set_actor(actor):
        changed = [f for f, v in fields.items() if getattr(initiative, f) != v]
        for field_name in changed:
            setattr(initiative, field_name, fields[field_name])
        if "tags" in changed:
            initiative.tags = sorted(set(initiative.tags))
        cost_center_check(department=initiative.department, cost_center=initiative.cost_center)
        if changed:
            initiative.full_clean()
            initiative.save()
            if {"start_date", "declared_monthly_cost"} & set(changed):
                tco_recompute(initiative_ids=[initiative.pk])
        for relation, values in (("vendors", vendors), ("ai_models", ai_models), ("delegates", delegates)):
            if values is not None:
                manager = getattr(initiative, relation)
                new_ids = {v.pk for v in values}
                if new_ids != set(manager.values_list("pk", flat=True)):
                    manager.set(list(values))
    return initiative


@transaction.atomic
def business_case_save(*, actor: Actor | None, initiative: Initiative, **fields: Any) -> BusinessCase:
    """Create or update the initiative's business case; only changed fields are written (and audited)."""
    _ensure_can_write(actor)
    unknown = set(fields) - set(BUSINESS_CASE_FIELDS)
    if unknown:
        raise ValidationError(f"Unknown business case fields: {', '.join(sorted(unknown))}")
    with set_actor(actor):
        case = BusinessCase.objects.filter(initiative=initiative).first() or BusinessCase(initiative=initiative)
        changed = [f for f, v in fields.items() if getattr(case, f) != v]
        for field_name in changed:
            setattr(case, field_name, fields[field_name])
        if case.pk is None or changed:
            case.full_clean()
            case.save()
            tco_recompute(initiative_ids=[initiative.pk])
    return case


@transaction.atomic
def kpis_replace(
    *, actor: Actor | None, initiative: Initiative, kpis: Iterable[Mapping[str, Any]]
) -> list[KPI]:
    """Make the initiative's KPIs exactly `kpis`: rows with an id are updated, without one created, others deleted."""
    _ensure_can_write(actor)
    existing = {k.pk: k for k in initiative.kpis.all()}
    kept: list[KPI] = []
    with set_actor(actor):
        for row in kpis:
            values = {f: row[f] for f in KPI_FIELDS if f in row}
            kpi_id = row.get("id")
            if kpi_id:
                if kpi_id not in existing:
                    raise ValidationError({"kpis": f"KPI {kpi_id} does not belong to {initiative}."})
                kpi = existing.pop(kpi_id)
                changed = [f for f, v in values.items() if getattr(kpi, f) != v]
                for field_name in changed:
                    setattr(kpi, field_name, values[field_name])
                if changed:
                    kpi.full_clean()
                    kpi.save()
            else:
                kpi = KPI(initiative=initiative, **values)
                kpi.full_clean()
                kpi.save()
            kept.append(kpi)
        for stale in existing.values():
            stale.delete()
    return kept
