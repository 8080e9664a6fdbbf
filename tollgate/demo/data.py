"""Northwind Mutual, the demo company: a mid-sized insurer in its third AI budget cycle.

The company is hand-written data in YAML (tollgate/demo/northwind/: the company and its people, its suppliers, one
file of initiative templates per department), read here into frozen records. `initiative_specs()` expands the
templates into 150+ initiatives with a seeded random generator and a fixed reference date, so two runs (on two
machines, on two days) produce exactly the same company. No ORM here: the builder turns specs into rows.
"""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from portfolio.choices import Category, KpiDirection, KpiKind, ModelTier, Stage
from tollgate.formatting import format_number, format_unit_price
from tollgate.roles import Role

DATA_DIR = Path(__file__).resolve().parent / "northwind"


def _read(name: str) -> Any:
    with (DATA_DIR / name).open(encoding="utf-8") as file:
        return yaml.load(file, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # libyaml when available


_COMPANY = _read("company.yaml")
_SUPPLIERS = _read("suppliers.yaml")

COMPANY_NAME: str = _COMPANY["name"]
EMAIL_DOMAIN: str = _COMPANY["email_domain"]
DEMO_PASSWORD: str = _COMPANY["demo_password"]
# Everything is dated relative to this day, never to today: the demo must not drift.
REFERENCE_DATE: date = _COMPANY["reference_date"]
SEED: int = _COMPANY["seed"]
EXTERNAL_ID_PREFIX: str = _COMPANY["external_id_prefix"]


def email(local_part: str) -> str:
    return f"{local_part}@{EMAIL_DOMAIN}"


# --- People -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    first_name: str
    last_name: str
    department: str | None  # a Department.key below
    title: str
    role: Role
    username: str | None = None  # only the demo logins (and people given one) have a username and a usable password
    superuser: bool = False

    @property
    def email(self) -> str:
        local = f"{self.first_name}.{self.last_name}".lower().replace("'", "").replace(" ", "")
        return email(local)


def _person(row: dict[str, Any]) -> Person:
    return Person(**{**row, "role": Role(row["role"])})


PEOPLE = tuple(_person(row) for row in _COMPANY["people"])
# The four role logins first, then the people of the company who also log in (a second reviewer: the intake quorum is
# two, so approving needs two reviewers' scores).
ROLE_LOGINS = tuple(_person(row) for row in _COMPANY["demo_logins"])
DEMO_LOGINS = ROLE_LOGINS + tuple(p for p in PEOPLE if p.username)


# Accounts deactivated after the history is written (e-mail local parts): they left the company.
DEPARTED: tuple[str, ...] = tuple(_COMPANY.get("departed", ()))


def all_people() -> tuple[Person, ...]:
    return ROLE_LOGINS + PEOPLE


def person_by_local(local_part: str) -> Person:
    for person in all_people():
        if person.email == email(local_part):
            return person
    raise KeyError(local_part)


# --- Departments and cost centres ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class CostCentre:
    code: str
    name: str
    budget_owner: str  # e-mail local part


@dataclass(frozen=True)
class Department:
    key: str
    name: str
    head: str  # e-mail local part
    loaded_hourly_rate: int  # USD, fully loaded, of the people who oversee its AI
    cost_centres: tuple[CostCentre, ...]


DEPARTMENTS = tuple(
    Department(**{**row, "cost_centres": tuple(CostCentre(**cc) for cc in row["cost_centres"])})
    for row in _COMPANY["departments"]
)


def department_by_key(key: str) -> Department:
    return next(d for d in DEPARTMENTS if d.key == key)


# --- Vendors, model catalogue, licence pools ----------------------------------------------------------------------

VENDORS: tuple[tuple[str, str], ...] = tuple((row["name"], row["website"]) for row in _SUPPLIERS["vendors"])


@dataclass(frozen=True)
class Model:
    provider: str
    name: str
    tier: ModelTier
    input_price: str | None  # USD per 1M tokens, list price
    output_price: str | None
    context_window: int | None
    open_weights: bool = False
    substitute: str | None = None  # the cheaper model accepted for its work (a model name of this catalogue)


AI_MODELS = tuple(Model(**{**row, "tier": ModelTier(row["tier"])}) for row in _SUPPLIERS["ai_models"])


@dataclass(frozen=True)
class Pool:
    tool: str
    vendor: str
    seats: int
    price_per_seat_month: str


# Seat-based tools. A template naming a pool gets it attached and its cost as the licence line of the TCO; a pool no
# template names (Grammarly, bought on a card by a department) stays unattached, as the inventory should reveal.
LICENCE_POOLS = tuple(Pool(**row) for row in _SUPPLIERS["licence_pools"])


# --- Initiative templates -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Kpi:
    """A KPI of a template. Its kind says how it becomes money (reviews.calculations.kpi_value); a value per unit is
    sized so that reaching the target is worth about the business case's saving per outcome, or is null when the KPI
    has no money value (the report then says why); a stated KPI's value is stated in each report."""

    name: str
    unit: str
    kind: KpiKind
    baseline: str
    target: str
    direction: KpiDirection
    value_per_unit: str | None


@dataclass(frozen=True)
class Stack:
    vendors: tuple[str, ...]
    models: tuple[str, ...] = ()


@dataclass(frozen=True)
class Template:
    """One kind of initiative; each variant becomes an initiative ("{v}" in texts is replaced by the variant)."""

    name: str
    category: Category
    description: str
    problem: str
    process: str
    outcome: str  # what one outcome is
    baseline: str  # cost per outcome before AI, USD
    volume: int  # outcomes per month at full scale
    savings: float  # share of the baseline cost per outcome the initiative expects to save
    cost: int  # typical declared monthly run cost, USD
    stacks: tuple[Stack, ...]
    kpis: tuple[Kpi, ...]
    kind: str = "api"  # api | saas | selfhosted | platform: how the TCO splits
    oversight: int = 20  # human oversight hours per month
    tags: tuple[str, ...] = ()
    variants: tuple[str, ...] = ("",)
    stages: tuple[Stage | None, ...] = ()  # fixed stage per variant; None or missing: drawn
    owner: str | None = None  # e-mail local part; default: drawn among the department's people
    delegate: str | None = None
    cost_centre: str | None = None  # default: the department's first
    pool: str | None = None


def _template(row: dict[str, Any]) -> Template:
    values = dict(row)
    values["category"] = Category(row["category"])
    values["stacks"] = tuple(Stack(vendors=tuple(s["vendors"]), models=tuple(s.get("models", ())))
                             for s in row["stacks"])
    values["kpis"] = tuple(Kpi(**{**k, "kind": KpiKind(k["kind"]), "direction": KpiDirection(k["direction"])})
                           for k in row["kpis"])
    for key in ("tags", "variants"):
        if key in row:
            values[key] = tuple(row[key])
    if "stages" in row:
        values["stages"] = tuple(Stage(s) if s is not None else None for s in row["stages"])
    return Template(**values)


TEMPLATES: dict[str, tuple[Template, ...]] = {
    d.key: tuple(_template(row) for row in _read(f"initiatives/{d.key}.yaml")) for d in DEPARTMENTS
}

# --- Expansion into initiatives -----------------------------------------------------------------------------------

STAGE_WEIGHTS = {
    Stage.PROPOSED: 10, Stage.IN_REVIEW: 8, Stage.CHANGES_REQUESTED: 5, Stage.APPROVED: 8, Stage.PILOT: 26,
    Stage.PRODUCTION: 27, Stage.RETIRED: 6, Stage.REJECTED: 5, Stage.KILLED: 5,
}
# (earliest, latest) days before the reference date an initiative in this stage started; negative = planned start.
START_DAYS_AGO = {
    Stage.PROPOSED: (-120, -14), Stage.IN_REVIEW: (-90, -7), Stage.CHANGES_REQUESTED: (-60, 10),
    Stage.APPROVED: (10, 120), Stage.PILOT: (60, 720), Stage.PRODUCTION: (180, 1000), Stage.RETIRED: (600, 1060),
    Stage.REJECTED: (30, 500), Stage.KILLED: (200, 900),
}
# A pilot older than this never ended: the "thousand pilots" problem the demo should show.
PILOT_OVERDUE_DAYS = 270
TCO_SPLIT = {  # share of the run cost per TCO line: inference, compute, storage, licences, maintenance
    "api": (0.62, 0.0, 0.06, 0.0, 0.32),
    "saas": (0.0, 0.0, 0.02, 0.86, 0.12),
    "platform": (0.30, 0.0, 0.08, 0.45, 0.17),
    "selfhosted": (0.0, 0.66, 0.09, 0.0, 0.25),
}
CENT = Decimal("0.01")
TENTH = Decimal("0.1")
PRICE_QUANTUM = Decimal("0.0001")


@dataclass
class InitiativeSpec:
    """Everything the builder writes for one initiative, as plain values (names, codes and e-mails)."""

    external_id: str
    name: str
    description: str
    category: str
    department: str  # Department.name
    cost_centre: str  # CostCentre.code
    owner: str  # e-mail
    delegates: list[str]
    stage: str
    vendors: list[str]
    models: list[str]
    start_date: date
    tags: list[str]
    declared_monthly_cost: Decimal
    business_case: dict | None
    kpis: list[dict] = field(default_factory=list)
    pool: str | None = None


def _money(value: float | Decimal) -> Decimal:
    return Decimal(str(value)).quantize(CENT, ROUND_HALF_UP)


def _round_cost(value: float) -> Decimal:
    """Declared costs are round numbers, as people declare them."""
    step = 10 if value < 5_000 else 50
    return Decimal(max(150, int(round(value / step)) * step))


def _pool(tool: str) -> Pool:
    return next(p for p in LICENCE_POOLS if p.tool == tool)


def _draw_stages(rng: random.Random, fixed: list[Stage | None]) -> list[Stage]:
    """Draw stages for the initiatives without a fixed one, then make sure every stage appears at least once."""
    stages = list(STAGE_WEIGHTS)
    weights = list(STAGE_WEIGHTS.values())
    drawn = [f if f is not None else rng.choices(stages, weights)[0] for f in fixed]
    free = [i for i, f in enumerate(fixed) if f is None]
    for stage in stages:
        if stage not in drawn:
            counts = {s: drawn.count(s) for s in stages}
            donor = max((i for i in free if counts[drawn[i]] > 1), key=lambda i: (counts[drawn[i]], -i))
            drawn[donor] = stage
    return drawn


def _business_case(
    tpl: Template,
    dept: Department,
    rng: random.Random,
    *,
    scale: float,
    run_cost: Decimal,
    licences: Decimal | None,
    stage: Stage,
    start: date,
) -> dict | None:
    """Business case fields, or None for a bare proposal; drafts of proposals carry only the problem."""
    if stage == Stage.PROPOSED:
        if rng.random() < 0.5:
            return None
        return {"problem": tpl.problem, "process_replaced": tpl.process}
    baseline = Decimal(tpl.baseline).quantize(PRICE_QUANTUM)
    volume = max(1, int(round(tpl.volume * scale)))
    split = TCO_SPLIT[tpl.kind]
    lines = [_money(float(run_cost) * share) for share in split]
    if licences is not None:
        lines[3] = licences
    oversight_hours = Decimal(str(max(2, round(tpl.oversight * scale * rng.uniform(0.6, 1.6))))).quantize(TENTH)
    rate = Decimal(dept.loaded_hourly_rate)
    expected_value = _money(baseline * volume * Decimal(str(tpl.savings)) * Decimal(str(rng.uniform(0.8, 1.25))))
    tco = sum(lines, Decimal("0")) + oversight_hours * rate
    saving_per_outcome = baseline * Decimal(str(tpl.savings))
    min_viable = int((tco / saving_per_outcome).to_integral_value(rounding=ROUND_CEILING))
    first = tpl.kpis[0]
    sep = "" if first.unit == "%" else " "
    case = {
        "problem": tpl.problem,
        "process_replaced": tpl.process,
        "baseline_cost_per_outcome": baseline,
        "outcome_unit": tpl.outcome,
        "expected_monthly_volume": volume,
        "targets": _targets(tpl, baseline, volume, start, Decimal(first.baseline)),
        "tco_inference": lines[0],
        "tco_compute": lines[1],
        "tco_storage": lines[2],
        "tco_licences": lines[3],
        "oversight_hours_per_month": oversight_hours,
        "loaded_hourly_rate": _money(rate),
        "tco_maintenance": lines[4],
        "expected_monthly_value": expected_value,
        "min_viable_scale": min_viable,
        "success_criteria": (
            f"{first.name} reaches {format_number(first.target)}{sep}{first.unit} within two quarters of launch; "
            f"at least {min_viable:,} a month ({tpl.outcome}, the minimum viable scale); error and complaint rates no "
            f"worse than today's process."
        ),
    }
    return case


def _targets(tpl: Template, baseline: Decimal, volume: int, start: date, first_baseline: Decimal) -> str:
    """The business case's targets in words; the first KPI's baseline as its KPI row holds it (drawn after the case,
    so the sentence is written again once it is: it quoted the template's 420 beside a KPI row of 403.2)."""
    # A unit price, not an amount: to the cent, a cost per request of $0.002 read "from $0.00 to $0.00".
    unit_cost_target = (baseline * (1 - Decimal(str(tpl.savings)))).quantize(PRICE_QUANTUM)
    due = start + timedelta(days=270)
    first = tpl.kpis[0]
    sep = "" if first.unit == "%" else " "
    return (f"Cost per {tpl.outcome} from {format_unit_price(baseline, currency='USD')} to "
            f"{format_unit_price(unit_cost_target, currency='USD')} at {volume:,} a month by "
            f"Q{(due.month - 1) // 3 + 1} {due.year}; {first.name.lower()} from {format_number(first_baseline)}"
            f"{sep}{first.unit} to {format_number(first.target)}{sep}{first.unit}.")


def _kpis(tpl: Template, rng: random.Random) -> list[dict]:
    rows = []
    for kpi in tpl.kpis:
        jitter = Decimal(str(round(rng.uniform(0.92, 1.08), 2)))
        baseline = Decimal(kpi.baseline)
        rows.append({
            "name": kpi.name,
            "unit": kpi.unit,
            "baseline": (baseline * jitter).quantize(PRICE_QUANTUM) if baseline else baseline.quantize(PRICE_QUANTUM),
            "target": Decimal(kpi.target).quantize(PRICE_QUANTUM),
            "direction": kpi.direction.value,
            "kind": kpi.kind.value,
            "value_per_unit": (None if kpi.value_per_unit is None
                               else Decimal(kpi.value_per_unit).quantize(PRICE_QUANTUM)),
        })
    return rows


def initiative_specs() -> list[InitiativeSpec]:
    """The company's initiatives, identical on every call: one seeded generator, one reference date. Drawn once per
    process (the build and the cost generators ask for them dozens of times); each caller gets its own list."""
    return list(_initiative_specs())


@lru_cache(maxsize=1)
def _initiative_specs() -> tuple[InitiativeSpec, ...]:
    rng = random.Random(SEED)
    slots: list[tuple[Department, Template, int, str]] = []
    fixed: list[Stage | None] = []
    for dept in DEPARTMENTS:
        for tpl in TEMPLATES[dept.key]:
            for i, variant in enumerate(tpl.variants):
                slots.append((dept, tpl, i, variant))
                fixed.append(tpl.stages[i] if i < len(tpl.stages) else None)
    stages = _draw_stages(rng, fixed)
    people_by_dept = {
        # The demo logins own exactly what their templates say, so a demo walk-through is predictable.
        d.key: [p.email for p in PEOPLE if p.department == d.key and p.role == Role.OWNER] for d in DEPARTMENTS
    }
    specs = []
    for number, ((dept, tpl, index, variant), stage) in enumerate(zip(slots, stages, strict=True), start=1):
        stack = tpl.stacks[index % len(tpl.stacks)]
        scale = rng.uniform(0.6, 1.3)
        licences = None
        if tpl.pool:
            # Variants sharing a pool (two teams on Otter.ai) share its cost.
            pool = _pool(tpl.pool)
            licences = _money(pool.seats * Decimal(pool.price_per_seat_month) / len(tpl.variants))
            run_cost = licences / Decimal(str(TCO_SPLIT[tpl.kind][3]))
        else:
            run_cost = Decimal(str(tpl.cost * scale))
        owner = email(tpl.owner) if tpl.owner else rng.choice(people_by_dept[dept.key])
        colleagues = [p for p in people_by_dept[dept.key] if p != owner]
        delegates = [email(tpl.delegate)] if tpl.delegate else []
        if colleagues and rng.random() < 0.25:
            delegates.append(rng.choice(colleagues))
        earliest, latest = START_DAYS_AGO[stage]
        days_ago = rng.randint(earliest, latest)
        start = REFERENCE_DATE - timedelta(days=days_ago)
        tags = set(tpl.tags)
        if stage == Stage.PILOT and days_ago > PILOT_OVERDUE_DAYS:
            tags.add("pilot-overdue")
        if any(m for m in stack.models if any(am.name == m and am.open_weights for am in AI_MODELS)):
            tags.add("open-weights")
        if tpl.category in (Category.CONTENT_GENERATION, Category.CONVERSATIONAL_ASSISTANT) and stack.models:
            tags.add("genai")
        case = _business_case(
            tpl, dept, rng, scale=scale, run_cost=run_cost, licences=licences, stage=stage, start=start
        )
        kpis = _kpis(tpl, rng) if case and stage != Stage.PROPOSED else []  # drawn after the case, as always
        if kpis and case is not None:  # the targets quote the first KPI's baseline as its row holds it
            case["targets"] = _targets(tpl, case["baseline_cost_per_outcome"], case["expected_monthly_volume"], start,
                                       kpis[0]["baseline"])
        # A rejected initiative never spent anything; the others declare what they run (or plan to run) at.
        declared = Decimal("0") if stage == Stage.REJECTED else _round_cost(float(run_cost))
        specs.append(InitiativeSpec(
            external_id=f"{EXTERNAL_ID_PREFIX}{number:04d}",
            name=" ".join((tpl.name if "{v}" in tpl.name else f"{tpl.name} {{v}}").format(v=variant).split()),
            description=tpl.description.format(v=variant),
            category=tpl.category.value,
            department=dept.name,
            cost_centre=tpl.cost_centre or dept.cost_centres[0].code,
            owner=owner,
            delegates=sorted(set(delegates)),
            stage=stage.value,
            vendors=list(stack.vendors),
            models=list(stack.models),
            start_date=start,
            tags=sorted(tags),
            declared_monthly_cost=declared,
            business_case=case,
            kpis=kpis,
            pool=tpl.pool,
        ))
    return tuple(specs)


# Pilots imported in the pilot stage (external ids): created as pilots, without an intake history.
IMPORTED_PILOTS: tuple[str, ...] = tuple(_COMPANY.get("imported_pilots", ()))


@dataclass(frozen=True)
class SpendSurge:
    initiative: str  # external id
    start: date  # first month of the surge
    factor: Decimal
    why: str


SPEND_SURGES = tuple(SpendSurge(row["initiative"], row["from"], Decimal(str(row["factor"])), row["why"])
                     for row in _COMPANY.get("spend_surges", ()))


def monthly_spend(spec: InitiativeSpec, month: date) -> Decimal:
    """What the initiative spends with its providers in `month`: its declared monthly cost, times a surge's factor
    from the surge's first month (the cost generators all start from this)."""
    factor = next((s.factor for s in SPEND_SURGES if s.initiative == spec.external_id and month >= s.start),
                  Decimal(1))
    return spec.declared_monthly_cost * factor


def specs_digest(specs: list[InitiativeSpec]) -> str:
    """A fingerprint of the generated company, to prove two builds are the same company."""
    payload = json.dumps([asdict(s) for s in specs], sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()
