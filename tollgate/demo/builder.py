"""Builds the demo company through the same services the app uses, so the demo exercises the real write paths.

Every step is an upsert (departments and vendors by name, people by e-mail, cost centres by code, initiatives by
external id, pools by tool), and the services write only what changed: a second build changes nothing.
"""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from governance.services import cost_forecast_refresh
from governance.sprawl.analysis import catalogue_embed_ahead
from portfolio.costs.services.rollups import rollups_deferred
from portfolio.costs.services.tco import tco_recompute_deferred
from portfolio.models import AIModel, CostCenter, Department, Initiative, LicencePool, Vendor
from portfolio.services import (
    ai_model_get_or_create,
    business_case_save,
    cost_center_get_or_create,
    department_get_or_create,
    initiative_create,
    initiative_update,
    kpis_replace,
    licence_pool_save,
    person_get_or_create,
    person_set_role,
    vendor_get_or_create,
)
from reviews.services import notification_email_paused
from tollgate.demo import data
from tollgate.demo.clock import demo_clock
from tollgate.demo.costs import demo_months, load_demo_costs
from tollgate.demo.governance import CycleCounts, cycle_counts, registered_at, story_of, walk_history
from tollgate.demo.signals import signals_story
from tollgate.demo.sprawl import sprawl_detect
from tollgate.types import Actor

User = get_user_model()


@dataclass(frozen=True)
class DemoSummary:
    departments: int
    initiatives: int
    people: int
    cycles: list[CycleCounts] = field(default_factory=list)  # the current and previous review cycles


def demo_summary() -> DemoSummary:
    """What of the demo company is in the database now."""
    return DemoSummary(
        departments=Department.objects.filter(name__in=[d.name for d in data.DEPARTMENTS]).count(),
        initiatives=Initiative.objects.filter(external_id__in=[s.external_id for s in data.initiative_specs()]).count(),
        people=User.objects.filter(email__iendswith=f"@{data.EMAIL_DOMAIN}").count(),
        cycles=cycle_counts(),
    )


def demo_is_loaded() -> bool:
    """A cheap check that a previous build completed (the build is one transaction, so it is all or nothing)."""
    specs = data.initiative_specs()
    return (
        Initiative.objects.filter(external_id__in=[s.external_id for s in specs]).count() == len(specs)
        and User.objects.filter(username__in=[p.username for p in data.DEMO_LOGINS]).count() == len(data.DEMO_LOGINS)
        and LicencePool.objects.filter(tool__in=[p.tool for p in data.LICENCE_POOLS]).count()
        == len(data.LICENCE_POOLS)
    )


def _demo_login(person: data.Person, department: Department | None, hashes: dict[str, str]) -> Actor:
    """A demo login: known username, the demo password, one role. Touched only where it differs. The password is
    hashed once per build into `hashes` for every login: a hash takes the better part of a second, by design."""
    username = person.username
    if username is None:
        raise ValueError(f"{person.email} is listed as a demo login without a username")
    user = User.objects.filter(username=username).first()
    if user is not None and not user.email:
        user.email = person.email
        user.save(update_fields=["email"])
    user, _ = person_get_or_create(
        email=user.email if user is not None else person.email,
        first_name=person.first_name,
        last_name=person.last_name,
        department=department,
        title=person.title,
    )
    person_set_role(user=user, role=person.role, exclusive=True, source="demo")
    changed = []
    if user.username != username:
        user.username = username
        changed.append("username")
    if person.superuser and not (user.is_superuser and user.is_staff):
        user.is_superuser = user.is_staff = True
        changed += ["is_superuser", "is_staff"]
    # A new account's password is unusable: no need to check it (Django hashes even then, to hide timing).
    if not user.has_usable_password() or not user.check_password(data.DEMO_PASSWORD):
        if "demo" not in hashes:
            hashes["demo"] = make_password(data.DEMO_PASSWORD)
        user.password = hashes["demo"]
        changed.append("password")
    if changed:
        user.save(update_fields=changed)
    return user


def _people(departments: dict[str, Department]) -> dict[str, Actor]:
    users: dict[str, Actor] = {}
    hashes: dict[str, str] = {}
    for person in data.ROLE_LOGINS:
        users[person.email] = _demo_login(person, departments.get(person.department) if person.department else None,
                                          hashes)
    for person in data.PEOPLE:
        if person.username:  # one of the company who also logs in (the second reviewer)
            users[person.email] = _demo_login(person, departments.get(person.department) if person.department else None,
                                              hashes)
            continue
        users[person.email], _ = person_get_or_create(
            email=person.email,
            first_name=person.first_name,
            last_name=person.last_name,
            department=departments.get(person.department) if person.department else None,
            title=person.title,
            role=person.role,
        )
    return users


def _reference_data() -> tuple[dict[str, Vendor], dict[str, AIModel]]:
    vendors = {name: vendor_get_or_create(name=name, website=website) for name, website in data.VENDORS}
    models = {
        m.name: ai_model_get_or_create(
            name=m.name,
            provider=vendors[m.provider],
            tier=m.tier,
            input_price_per_mtok=m.input_price and Decimal(m.input_price),
            output_price_per_mtok=m.output_price and Decimal(m.output_price),
            open_weights=m.open_weights,
            context_window=m.context_window,
        )
        for m in data.AI_MODELS
    }
    return vendors, models


def _initiative(
    spec: data.InitiativeSpec,
    existing: Initiative | None,
    *,
    actor: Actor,
    users: dict[str, Actor],
    departments: dict[str, Department],
    cost_centres: dict[str, CostCenter],
    vendors: dict[str, Vendor],
    models: dict[str, AIModel],
) -> tuple[Initiative, bool]:
    """Create (as proposed, registered by its owner) or re-sync one initiative; True when it was created."""
    fields: dict[str, Any] = {
        "name": spec.name,
        "description": spec.description,
        "category": spec.category,
        "department": departments[spec.department],
        "cost_center": cost_centres[spec.cost_centre],
        "owner": users[spec.owner],
        "start_date": spec.start_date,
        "tags": spec.tags,
        "declared_monthly_cost": spec.declared_monthly_cost,
    }
    relations: dict[str, Any] = {
        "vendors": [vendors[v] for v in spec.vendors],
        "ai_models": [models[m] for m in spec.models],
        "delegates": [users[e] for e in spec.delegates],
    }
    if existing is None and spec.external_id in data.IMPORTED_PILOTS:
        # A pilot that predates Tollgate, imported from the old inventory in the pilot stage (no intake history).
        initiative = initiative_create(actor=actor, external_id=spec.external_id, stage=spec.stage, **fields,
                                       **relations)
    elif existing is None:
        # Every initiative starts as a proposal by its owner; walk_history moves it through the governed transitions.
        actor = users[spec.owner]
        initiative = initiative_create(actor=actor, external_id=spec.external_id, **fields, **relations)
    else:
        initiative = initiative_update(actor=actor, initiative=existing, **fields, **relations)
    if spec.business_case is not None:
        business_case_save(actor=actor, initiative=initiative, **spec.business_case)
    if spec.kpis:
        ids_by_name = {k.name: k.pk for k in initiative.kpis.all()}
        rows = [{**row, "id": ids_by_name.get(row["name"])} for row in spec.kpis]
        kpis_replace(actor=actor, initiative=initiative, kpis=rows)
    return initiative, existing is None


@transaction.atomic
def build_demo_company() -> DemoSummary:
    """Create or re-sync the whole demo company in one transaction."""
    # The catalogue's phrases are embedded on the second core while this thread writes the company; sprawl detection,
    # near the end, takes the vectors (on a fresh database that is most of a minute of work otherwise).
    catalogue_embed_ahead()
    specs = data.initiative_specs()
    existing = Initiative.objects.filter(external_id__in=[s.external_id for s in specs]).in_bulk(
        field_name="external_id"
    )
    # A first load sets the company up a year ago, on the demo's clock; a re-sync changes it now.
    with demo_clock(_year_ago()) if not existing else nullcontext():
        departments = {d.key: department_get_or_create(name=d.name) for d in data.DEPARTMENTS}
        users = _people(departments)
        actor = users[data.DEMO_LOGINS[0].email]  # Ada Admin: the audit trail says who loaded the demo
        cost_centres = {}
        for dept in data.DEPARTMENTS:
            department = department_get_or_create(name=dept.name, head=users[data.email(dept.head)])
            departments[dept.key] = department
            for cc in dept.cost_centres:
                cost_centres[cc.code] = cost_center_get_or_create(
                    code=cc.code, department=department, name=cc.name,
                    budget_owner=users[data.email(cc.budget_owner)],
                )
        by_name = {d.name: departments[d.key] for d in data.DEPARTMENTS}
        vendors, models = _reference_data()

    with tco_recompute_deferred():  # one rebuild of the TCO after the year of costs, not one per write
        initiatives, new = _initiatives_and_history(specs, existing, actor=actor, users=users, departments=by_name,
                                                    cost_centres=cost_centres, vendors=vendors, models=models)
    # Sprawl clusters with their saving, found by the detection engine once costs are in (idempotent).
    sprawl_detect(users, decide=bool(new))
    # The spend forecast with its backtest, from the year of costs (idempotent: unchanged data writes nothing).
    cost_forecast_refresh(actor=actor)
    # The signals: model substitutes marked, people who left deactivated, then computed as the nightly job does.
    signals_story(users, actor=actor, first_load=bool(new))
    return demo_summary()


def _year_ago() -> datetime:
    """When the demo company started using Tollgate: a year and a day before the load, at nine."""
    day = timezone.localdate() - timedelta(days=366)
    return datetime.combine(day, time(9, 0), tzinfo=timezone.get_current_timezone())


def _initiatives_and_history(
    specs: list[data.InitiativeSpec], existing: dict[str, Initiative], *, actor: Actor, users: dict[str, Actor],
    departments: dict[str, Department], cost_centres: dict[str, CostCenter], vendors: dict[str, Vendor],
    models: dict[str, AIModel],
) -> tuple[dict[str, Initiative], list[tuple[data.InitiativeSpec, Initiative]]]:
    """The initiatives and licence pools, then the history and a year of costs of those this build created. A new
    initiative is registered on the demo's clock, on its day of the year before (tollgate/demo/governance.py)."""
    initiatives, new = {}, []
    now, stories = timezone.now(), story_of(specs)
    registered = {s.external_id: registered_at(s, stories.get(s.external_id, ""), now) for s in specs
                  if s.external_id not in existing}
    for spec in specs:
        when = registered.get(spec.external_id)
        with demo_clock(when) if when is not None else nullcontext():
            initiative, created = _initiative(
                spec,
                existing.get(spec.external_id),
                actor=actor,
                users=users,
                departments=departments,
                cost_centres=cost_centres,
                vendors=vendors,
                models=models,
            )
        initiatives[spec.external_id] = initiative
        if created:
            new.append((spec, initiative))

    # Tool names are not unique in the model; the first pool of that name is the demo's.
    pools: dict[str, LicencePool] = {}
    for existing_pool in LicencePool.objects.filter(tool__in=[p.tool for p in data.LICENCE_POOLS]).order_by("-pk"):
        pools[existing_pool.tool] = existing_pool
    users_of_pool: dict[str, Initiative] = {}
    for spec in specs:
        if spec.pool:
            users_of_pool.setdefault(spec.pool, initiatives[spec.external_id])
    # The pools were bought before the demo's year of costs or when their initiative started, whichever is later:
    # their first terms are from that month, so every month of the year charges the seats it paid for (a pool
    # recorded with the load's month alone would leave the year's licence cost out of TCO, spend and sprawl).
    first_month = demo_months()[0].start
    this_month = timezone.localdate().replace(day=1)
    for pool in data.LICENCE_POOLS:
        user = users_of_pool.get(pool.tool)
        started = user.start_date.replace(day=1) if user is not None and user.start_date else first_month
        bought = pools.get(pool.tool)
        licence_pool_save(
            actor=actor,
            pool=bought,
            tool=pool.tool,
            vendor=vendors[pool.vendor],
            seats_purchased=pool.seats,
            price_per_seat_month=Decimal(pool.price_per_seat_month),
            initiative=user,
            effective_from=None if bought is not None else min(max(first_month, started), this_month),
        )
    # History (intake, scores, decisions, pilots, review cycles, verdicts) only for what this build created. Owners
    # find its decisions among their notifications; nobody is e-mailed (the demo's people have no mailboxes).
    with notification_email_paused():
        walk_history(users, specs, new)
    if new:
        # A year of cost data, read through the real connectors, only on the first load (like the history); each
        # month's roll-ups are built once, after its six sources are read, not after each of them.
        with rollups_deferred():
            load_demo_costs(actor=actor, configured_at=_year_ago())
    return initiatives, new
