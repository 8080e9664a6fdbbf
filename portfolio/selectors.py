"""Reads of the portfolio app: querysets restricted to the user, loaded so pages run a constant number of queries."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, cast

from auditlog.models import LogEntry
from axes.helpers import get_cool_off
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.contrib.contenttypes.models import ContentType
from django.db.models import (
    Aggregate,
    BooleanField,
    Case,
    Count,
    DecimalField,
    Exists,
    Expression,
    ExpressionWrapper,
    F,
    FloatField,
    IntegerField,
    Model,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.fields import Field
from django.db.models.functions import Cast, Coalesce, Lower, NullIf, Round
from django.db.models.lookups import GreaterThan
from django.utils import timezone
from django.utils.text import capfirst

from portfolio.calculations import licence_pool_monthly_cost
from portfolio.choices import ACTIVE_STAGES, ENDED_STAGES, CostCategory, Stage
from portfolio.costs.calculations import TcoFigures, TcoMonthData, add_months, tco_range_data, variance_pct
from portfolio.costs.selectors import (
    HISTORY_MONTHS,
    CostPeriods,
    MonthTco,
    TcoHeadline,
    TcoHistory,
    cost_data_reading,
    cost_periods,
    gpu_cost_label,
    initiative_gpu_months,
    initiative_tco_headline,
    initiative_tco_history,
    initiative_tco_month_data,
    tco_history_figure,
    tco_months_of,
    tco_total_of,
)
from portfolio.models import (
    BUSINESS_CASE_FIELDS,
    KPI,
    KPI_FIELDS,
    AIModel,
    ApiToken,
    AuditEntryInitiative,
    BusinessCase,
    BusinessCaseVersion,
    CostCenter,
    Department,
    GpuCostBasis,
    ImportRun,
    Initiative,
    InitiativeMonthlyTco,
    LicencePool,
    LicencePoolActivity,
    LicencePoolTerms,
    Profile,
    Vendor,
    reporting_currency,
)
from portfolio.models.base import money_field, price_field
from tollgate.formatting import currency_symbol, format_money, format_number, format_unit_price, money_per
from tollgate.roles import Role, initiative_viewer_annotations, may, roles_shown
from tollgate.types import Viewer
from tollgate.ui.tables import ignoring_case

User = get_user_model()
ZERO = Decimal("0")
MONEY_FIELD: DecimalField[Decimal, Decimal] = DecimalField(max_digits=14, decimal_places=2)


def _visible(queryset: QuerySet, user: Viewer, model_name: str) -> QuerySet:
    """Everyone with a role reads the whole portfolio (tollgate.roles); anyone else reads nothing."""
    if may(user, f"portfolio.view_{model_name}"):
        return queryset
    return queryset.none()


def _declared_cost_of(outer: str) -> Coalesce:
    """Sum of declared monthly cost of the initiatives pointing at OuterRef(pk), as a subquery.

    A subquery, not Sum() over a join: a second join (cost centers, vendors...) would multiply the sum.
    """
    total = (
        Initiative.objects.filter(**{outer: OuterRef("pk")})
        .order_by()
        .values(outer)
        .annotate(total=Sum("declared_monthly_cost"))
        .values("total")
    )
    return Coalesce(Subquery(total, output_field=MONEY_FIELD), ZERO, output_field=MONEY_FIELD)


def _count_of(model: type[Model], outer: str) -> Coalesce:
    """How many `model` rows point at OuterRef(pk), as a subquery. Not Count() over a join: its GROUP BY makes the
    database compute every other subquery of the row (the cost figures) once per joined row, which took a 14-row
    departments page to seconds; and a grouped query's count() cannot drop the annotations it does not need."""
    rows = (model._default_manager.filter(**{outer: OuterRef("pk")}).order_by().values(outer)
            .annotate(n=Count("pk")).values("n"))
    return Coalesce(Subquery(rows, output_field=IntegerField()), 0, output_field=IntegerField())


# Actual cost against the business case ---------------------------------------------------------------------------
# The figures of the lists are annotations, so they sort and filter in the database: the TCO of the last complete month
# and quarter (portfolio.costs, InitiativeMonthlyTco), and the business case's TCO for the months of that quarter the
# initiative had a TCO in (three for one that ran the whole quarter).

COST_FIGURES = ("cost_last_month", "cost_last_quarter", "plan_last_quarter", "cost_variance", "cost_variance_pct")


def approved_tco_monthly() -> Subquery:
    """The monthly TCO of the initiative's (OuterRef("pk")) latest approved business-case version; NULL without one."""
    latest = BusinessCaseVersion.objects.filter(initiative=OuterRef("pk"), approved_at__isnull=False)
    return Subquery(latest.order_by("-number").values("tco_monthly")[:1], output_field=MONEY_FIELD)


def planned_monthly_tco() -> Coalesce:
    """What an initiative's actual cost is measured against, per month: the monthly TCO of its approved business case
    (approved_plan), else of its business case as it stands (BusinessCase.tco_monthly, the sum of
    portfolio.calculations.tco_monthly, in SQL so lists sort on it), else its declared monthly cost."""
    oversight = Round(F("business_case__oversight_hours_per_month") * F("business_case__loaded_hourly_rate"), 2)
    run = (F("business_case__tco_inference") + F("business_case__tco_compute") + F("business_case__tco_storage")
           + F("business_case__tco_licences") + F("business_case__tco_maintenance"))
    return Coalesce(approved_tco_monthly(), ExpressionWrapper(run + oversight, output_field=MONEY_FIELD),
                    F("declared_monthly_cost"), output_field=MONEY_FIELD)


def _no_figures(names: tuple[str, ...]) -> dict[str, Expression]:
    """Typed NULLs before there is cost data, so the columns still sort and sum (PostgreSQL cannot sum an untyped
    NULL)."""
    return {name: Cast(Value(None), output_field=FloatField() if name.endswith("pct") else MONEY_FIELD)
            for name in names}


# Places a variance in percent keeps: float arithmetic left noise in the last digits (an initiative exactly on its
# plan was 1.8e-14 % over it in the API, and "over by more than 0 %" listed it).
VARIANCE_PCT_PLACES = 4


def _variance_pct(actual: Expression, planned: Expression) -> Case:
    """(actual - plan) / plan in percent, rounded to VARIANCE_PCT_PLACES in the database (so the API, the pages, the
    CSV, the filters and the sort all see the same number); none without a plan."""
    share = Cast(actual - planned, FloatField()) * Value(100.0) / Cast(planned, FloatField())
    # PostgreSQL rounds to places only a numeric; "+ 0.0" turns SQLite's -0.0 into 0.0.
    rounded = Cast(Round(Cast(share, DecimalField(max_digits=36, decimal_places=10)), VARIANCE_PCT_PLACES),
                   FloatField()) + Value(0.0)
    return Case(When(GreaterThan(planned, ZERO), then=rounded), default=None, output_field=FloatField())


def initiative_cost_annotations(periods: CostPeriods) -> dict[str, Expression]:
    """cost_last_month, cost_last_quarter, plan_last_quarter (the business case for the quarter), cost_variance and
    cost_variance_pct of each initiative; all None before there is cost data."""
    if periods.month is None or periods.quarter is None:
        return _no_figures(COST_FIGURES)
    _, first, last = periods.quarter
    unread = periods.quarter_unread  # months nobody read: left out of the cost and of the plan it is compared with
    actual = tco_total_of(first, last, leaving_out=unread)
    planned = ExpressionWrapper(planned_monthly_tco() * tco_months_of(first, last, leaving_out=unread),
                                output_field=MONEY_FIELD)
    return {
        "cost_last_month": tco_total_of(periods.month, periods.month),
        "cost_last_quarter": actual,
        "plan_last_quarter": planned,
        "cost_variance": ExpressionWrapper(actual - planned, output_field=MONEY_FIELD),
        "cost_variance_pct": _variance_pct(actual, planned),
    }


def _group_cost_annotations(group: str, periods: CostPeriods) -> dict[str, Expression]:
    """The same figures summed over the initiatives of a department or cost center (`group`: the initiative's field
    pointing at OuterRef("pk")); each a subquery, so other joins cannot multiply them. The quarter's TCO includes the
    business cases' estimates (running initiatives without records, oversight, maintenance), so it is not the
    dashboard's spend (cost records only): `cost_last_quarter_estimated` says whether any part is estimated."""
    if periods.quarter is None:
        return {**_no_figures(COST_FIGURES[1:]), "cost_last_quarter_estimated": Value(False)}
    _, first, last = periods.quarter
    unread = list(periods.quarter_unread)  # months nobody read: left out, as of each initiative's row
    estimated = InitiativeMonthlyTco.objects.filter(**{f"initiative__{group}": OuterRef("pk")}, month__gte=first,
                                                    month__lte=last, actual=False).exclude(month__in=unread)
    recorded = (
        InitiativeMonthlyTco.objects.filter(**{f"initiative__{group}": OuterRef("pk")}, month__gte=first,
                                            month__lte=last)
        .exclude(month__in=unread).order_by().values(f"initiative__{group}").annotate(total=Sum("amount")).values("total")
    )
    planned_rows = (
        Initiative.objects.filter(**{group: OuterRef("pk")}).order_by().values(group)
        .annotate(total=Sum(ExpressionWrapper(planned_monthly_tco() * tco_months_of(first, last, leaving_out=unread),
                                              output_field=MONEY_FIELD)))
        .values("total")
    )
    actual = Coalesce(Subquery(recorded, output_field=MONEY_FIELD), ZERO, output_field=MONEY_FIELD)
    planned = Coalesce(Subquery(planned_rows, output_field=MONEY_FIELD), ZERO, output_field=MONEY_FIELD)
    return {
        "cost_last_quarter": actual,
        "cost_last_quarter_estimated": ExpressionWrapper(Exists(estimated), output_field=BooleanField()),
        "plan_last_quarter": planned,
        "cost_variance": ExpressionWrapper(actual - planned, output_field=MONEY_FIELD),
        "cost_variance_pct": _variance_pct(actual, planned),
    }


# Initiatives ---------------------------------------------------------------------------------------------------------


def initiative_list(*, user: Viewer, periods: CostPeriods | None = None) -> QuerySet[Initiative]:
    """Initiatives with everything a list row shows, in a fixed number of queries whatever the page size, by name
    whatever its case; with `periods`, their actual cost against the business case too
    (initiative_cost_annotations)."""
    queryset = Initiative.objects.select_related("department", "cost_center", "owner").prefetch_related(
        Prefetch("vendors", queryset=Vendor.objects.order_by("name"))
    ).order_by(*ignoring_case("name"))  # as people read names: SQLite alone would put "apple" after "Zebra"
    if periods is not None:
        queryset = queryset.annotate(**initiative_cost_annotations(periods))
    return _visible(queryset, user, "initiative")


def initiative_detail_queryset(*, user: Viewer) -> QuerySet[Initiative]:
    """Initiatives with their business case, approved versions, KPIs, licence pools, vendors, models and delegates
    loaded."""
    queryset = Initiative.objects.select_related(
        "department", "cost_center", "owner", "business_case"
    ).prefetch_related(
        "kpis",
        plan_versions_prefetch(),  # the plan history's versions, and the approved ones among them
        Prefetch("vendors", queryset=Vendor.objects.order_by("name")),
        Prefetch("ai_models", queryset=AIModel.objects.select_related("provider")),
        Prefetch("delegates", queryset=User.objects.order_by("last_name", "first_name")),
        Prefetch("licence_pools", queryset=LicencePool.objects.select_related("vendor").prefetch_related(
            Prefetch("terms", queryset=LicencePoolTerms.objects.select_related("initiative")))),
        # Its intake rounds (governance's), which the intake panel and each transition's rule read: once.
        "submissions",
    ).annotate(**initiative_viewer_annotations(user))  # the page's several role checks ask no query each
    return _visible(queryset, user, "initiative")


def initiative_business_case(initiative: Initiative) -> BusinessCase | None:
    """The business case, or None for initiatives registered before business cases existed (imports)."""
    try:
        return initiative.business_case
    except BusinessCase.DoesNotExist:
        return None


def initiative_edit_version(initiative: Initiative) -> str:
    """What the edit page was opened on: a digest of when the initiative, its business case and each KPI last
    changed (and which KPIs there are). Two people editing the same initiative: the second save is refused when this
    moved since their page was drawn, rather than silently undoing the first (InitiativeUpdateView)."""
    parts = [f"i{initiative.pk}:{initiative.updated_at.isoformat()}"]
    parts += [f"c{pk}:{moment.isoformat()}" for pk, moment in
              BusinessCase.objects.filter(initiative=initiative).values_list("pk", "updated_at")]
    parts += [f"k{pk}:{moment.isoformat()}" for pk, moment in
              KPI.objects.filter(initiative=initiative).order_by("pk").values_list("pk", "updated_at")]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:24]


def initiative_last_saved(initiative: Initiative) -> tuple[Any, datetime | None]:
    """Who last changed the initiative, its business case or a KPI, and when (from the audit trail; (None, None) when
    it has no entry): the edit page's refusal of a stale save says whether it was the person themselves (another
    tab, the Back button) or someone else."""
    case_ids = [str(pk) for pk in BusinessCase.objects.filter(initiative=initiative).values_list("pk", flat=True)]
    kpi_ids = [str(pk) for pk in KPI.objects.filter(initiative=initiative).values_list("pk", flat=True)]
    types = ContentType.objects.get_for_models(Initiative, BusinessCase, KPI)
    entry = (LogEntry.objects.filter(
        Q(content_type=types[Initiative], object_pk=str(initiative.pk))
        | Q(content_type=types[BusinessCase], object_pk__in=case_ids)
        | Q(content_type=types[KPI], object_pk__in=kpi_ids))
        .select_related("actor").order_by("-timestamp", "-pk").first())
    return (entry.actor, entry.timestamp) if entry is not None else (None, None)


# What may change ------------------------------------------------------------------------------------------------------
# The rules are enforced by portfolio.services (every door calls them); pages read the same reasons to hide or lock
# what would be refused.

PLAN = "The business case, KPIs and declared monthly cost"


def read_only_reason(initiative: Initiative, *, stage: str | None = None) -> str | None:
    """Why nothing of the initiative may change (it ended: retired, rejected or killed), or None."""
    stage = stage or initiative.stage
    if stage not in ENDED_STAGES:
        return None
    return (f"“{initiative}” is {Stage(stage).label.lower()}: an ended initiative is read-only. Register a new "
            "initiative to start again.")


START_DATE_BEFORE_APPROVAL = ("Before approval the start date is its owner's to plan, on the initiative's edit page; "
                              "it is changed with a reason only once the initiative is approved.")


def start_date_change_refusal(initiative: Initiative, *, stage: str | None = None) -> str | None:
    """Why the initiative's start date is not changed with a reason (the "Change start date" page,
    initiative_start_date_change): it ended (read_only_reason), or it is not approved yet; None when it may be."""
    stage = stage or initiative.stage
    if stage in ENDED_STAGES:
        return read_only_reason(initiative, stage=stage)
    return None if stage in ACTIVE_STAGES else START_DATE_BEFORE_APPROVAL


def plan_locked_reason(initiative: Initiative, *, what: str = PLAN, stage: str | None = None) -> str | None:
    """Why the initiative's plan (`what` of it) may not change now (its intake is in review), or None."""
    if (stage or initiative.stage) != Stage.IN_REVIEW:
        return None
    return (f"{what} of “{initiative}” cannot change while it is in review: the reviewers score what was submitted. "
            "Withdraw it from review to change it (Governance → Withdraw from review); resubmitting starts a new "
            "scoring round.")


# The approved business case ------------------------------------------------------------------------------------------
# Approving an intake records a version of its plan (business case, declared monthly cost, KPIs); edits after approval
# add unapproved versions (portfolio.services.business_cases). Cost overrun and value are measured against the latest
# approved version, so editing the plan does not move the yardstick. Estimates of cost for months without records
# (portfolio.costs TCO, a value report's estimated cost) use the plan as it stands: the best estimate of what is
# being run now.

APPROVED_VERSIONS = "approved_versions"  # to_attr of approved_versions_prefetch: newest first


def approved_versions_prefetch(lookup: str = "business_case_versions") -> Prefetch:
    """Prefetch an initiative's approved versions (`lookup` reaches them from the queryset's model), so pages and lists
    read the approved plan without a query per row."""
    versions = BusinessCaseVersion.objects.filter(approved_at__isnull=False).select_related("approved_by")
    return Prefetch(lookup, queryset=versions.order_by("-number"), to_attr=APPROVED_VERSIONS)


PLAN_VERSIONS = "plan_versions"  # to_attr of plan_versions_prefetch: every version, newest first


def plan_versions_prefetch() -> Prefetch:
    """Prefetch every business-case version of an initiative (for its page's plan history), which also gives
    latest_approved_version its approved ones: one query where the page read the versions twice."""
    versions = BusinessCaseVersion.objects.select_related("approved_by", "created_by").order_by("-number")
    return Prefetch("business_case_versions", queryset=versions, to_attr=PLAN_VERSIONS)


def latest_approved_version(initiative: Initiative) -> BusinessCaseVersion | None:
    """The initiative's latest approved business-case version (prefetched when approved_versions_prefetch or
    plan_versions_prefetch was used)."""
    prefetched = getattr(initiative, APPROVED_VERSIONS, None)
    if prefetched is None and hasattr(initiative, PLAN_VERSIONS):
        prefetched = [version for version in getattr(initiative, PLAN_VERSIONS) if version.is_approved]
    if prefetched is not None:
        return prefetched[0] if prefetched else None
    return (BusinessCaseVersion.objects.filter(initiative_id=initiative.pk, approved_at__isnull=False)
            .select_related("approved_by").order_by("-number").first())


def _decimal(value: Any) -> Decimal | None:
    return None if value is None or value == "" else Decimal(str(value))


def _integer(value: Any) -> int | None:
    return None if value is None or value == "" else int(value)


@dataclass(frozen=True)
class PlanFigures:
    """The figures an initiative's cost and value are measured against: those of its latest approved business-case
    version, or, for one never approved in Tollgate (imported running, or not yet approved), its business case as it
    stands (the declared monthly cost without one)."""

    version: BusinessCaseVersion | None
    tco_monthly: Decimal | None  # None without a business case
    baseline_cost_per_outcome: Decimal | None
    min_viable_scale: int | None
    expected_monthly_volume: int | None
    expected_monthly_value: Decimal | None
    declared_monthly_cost: Decimal

    @property
    def is_approved(self) -> bool:
        return self.version is not None

    @property
    def planned_monthly(self) -> Decimal:
        """The business case's monthly TCO, else the declared monthly cost (planned_monthly_tco in Python)."""
        return self.tco_monthly if self.tco_monthly is not None else self.declared_monthly_cost

    @classmethod
    def of_version(cls, version: BusinessCaseVersion) -> PlanFigures:
        figures = version.figures
        return cls(
            version=version, tco_monthly=version.tco_monthly,
            baseline_cost_per_outcome=_decimal(figures.get("baseline_cost_per_outcome")),
            min_viable_scale=_integer(figures.get("min_viable_scale")),
            expected_monthly_volume=_integer(figures.get("expected_monthly_volume")),
            expected_monthly_value=_decimal(figures.get("expected_monthly_value")),
            declared_monthly_cost=_decimal(figures.get("declared_monthly_cost")) or ZERO,
        )

    @classmethod
    def of_case(cls, case: BusinessCase | None, declared_monthly_cost: Decimal) -> PlanFigures:
        return cls(
            version=None, tco_monthly=case.tco_monthly if case is not None else None,
            baseline_cost_per_outcome=case.baseline_cost_per_outcome if case is not None else None,
            min_viable_scale=case.min_viable_scale if case is not None else None,
            expected_monthly_volume=case.expected_monthly_volume if case is not None else None,
            expected_monthly_value=case.expected_monthly_value if case is not None else None,
            declared_monthly_cost=declared_monthly_cost,
        )


def approved_plan(initiative: Initiative) -> PlanFigures:
    """What the initiative's overrun and value are measured against (PlanFigures). No query when its approved versions
    were prefetched (approved_versions_prefetch) and its business case selected with it."""
    version = latest_approved_version(initiative)
    if version is not None:
        return PlanFigures.of_version(version)
    return PlanFigures.of_case(initiative_business_case(initiative), initiative.declared_monthly_cost)


def approved_plans(initiative_ids: Iterable[int] | QuerySet) -> dict[int, PlanFigures]:
    """approved_plan of many initiatives at once, by id: two queries whatever their number."""
    ids = initiative_ids if isinstance(initiative_ids, QuerySet) else list(initiative_ids)
    plans: dict[int, PlanFigures] = {}
    for version in (BusinessCaseVersion.objects.filter(initiative_id__in=ids, approved_at__isnull=False)
                    .order_by("initiative_id", "number")):
        plans[version.initiative_id] = PlanFigures.of_version(version)  # the last one of each initiative stays
    approved = BusinessCaseVersion.objects.filter(initiative=OuterRef("pk"), approved_at__isnull=False)
    others = Initiative.objects.filter(pk__in=ids).exclude(Exists(approved)).select_related("business_case").only(
        "pk", "declared_monthly_cost", *(f"business_case__{name}" for name in BUSINESS_CASE_FIELDS))
    for initiative in others:
        case = initiative_business_case(initiative)
        plans[initiative.pk] = PlanFigures.of_case(case, initiative.declared_monthly_cost)
    return plans


def _snapshot_value(value: Any) -> Any:
    """Decimals as their stored text ("1200.00"): a snapshot compares equal to the next one of the same plan."""
    return str(value) if isinstance(value, Decimal) else value


def plan_snapshot_of(
    *, case: BusinessCase | None, declared_monthly_cost: Decimal, kpis: Iterable[KPI]
) -> tuple[dict[str, Any], list[dict[str, Any]], Decimal | None]:
    """A plan as a version stores it: the business case's fields with the declared monthly cost, the KPIs by id, and
    the business case's monthly TCO (None without a business case). Values as read from the database."""
    figures: dict[str, Any] = {}
    if case is not None:
        figures = {name: _snapshot_value(getattr(case, name)) for name in BUSINESS_CASE_FIELDS}
    figures["declared_monthly_cost"] = _snapshot_value(declared_monthly_cost)
    rows = [{"id": kpi.pk, **{name: _snapshot_value(getattr(kpi, name)) for name in KPI_FIELDS}}
            for kpi in sorted(kpis, key=lambda k: k.pk)]
    return figures, rows, case.tco_monthly if case is not None else None


@dataclass(frozen=True)
class PlanChange:
    """One difference between the approved plan and the plan as it stands."""

    what: str
    approved: str
    current: str


@dataclass(frozen=True)
class PlanHistory:
    """The initiative page's business-case versions: the approved one, what changed since, and every version."""

    approved: BusinessCaseVersion | None
    changes: list[PlanChange]
    versions: list[BusinessCaseVersion]


def _shown(value: Any, model_field: Field | None = None) -> str:
    """A recorded plan value as the initiative page prints it: money as money ("$900.00"), a unit price with its
    places, a KPI figure or a count with separators and only the decimals it has ("8", "1,250.5"), a choice by its
    label; text as it is, shortened."""
    if value is None or value == "":
        return "—"
    if model_field is not None and model_field.choices:
        return str(dict(model_field.flatchoices).get(value, value))
    try:
        if isinstance(model_field, DecimalField) and (model_field.max_digits, model_field.decimal_places) == (
                money_field.max_digits, money_field.decimal_places):
            return format_money(value)
        if isinstance(model_field, DecimalField) and (model_field.max_digits, model_field.decimal_places) == (
                price_field.max_digits, price_field.decimal_places):
            return format_unit_price(value)
        if isinstance(model_field, DecimalField | IntegerField):
            return format_number(value)
    except (ValueError, TypeError, ArithmeticError):
        pass  # a value recorded in another shape is shown as recorded
    text = str(value)
    return text if len(text) <= 80 else text[:79] + "…"


def _field(model: type[Initiative] | type[BusinessCase] | type[KPI], name: str) -> Field:
    return cast(Field, model._meta.get_field(name))


def _label(name: str) -> str:
    """The field's own name as the form labels it ("Inference / API per month": capfirst keeps "API")."""
    model = Initiative if name == "declared_monthly_cost" else BusinessCase
    return capfirst(str(_field(model, name).verbose_name))


def plan_changes(approved: BusinessCaseVersion, *, figures: dict[str, Any], kpis: list[dict[str, Any]]
                 ) -> list[PlanChange]:
    """What differs between an approved version and a plan snapshot (plan_snapshot_of), field by field and KPI by
    KPI, in the form's order."""
    changes = []
    for name in (*BUSINESS_CASE_FIELDS, "declared_monthly_cost"):
        if approved.figures.get(name) != figures.get(name):
            model_field = _field(Initiative if name == "declared_monthly_cost" else BusinessCase, name)
            changes.append(PlanChange(_label(name), _shown(approved.figures.get(name), model_field),
                                      _shown(figures.get(name), model_field)))
    before = {row["id"]: row for row in approved.kpis}
    now = {row["id"]: row for row in kpis}
    for kpi_id, row in before.items():
        if kpi_id not in now:
            changes.append(PlanChange(f"KPI “{row['name']}”", "present", "removed"))
            continue
        for name in KPI_FIELDS:
            if row.get(name) != now[kpi_id].get(name):
                model_field = _field(KPI, name)
                changes.append(PlanChange(f"KPI “{row['name']}”: {model_field.verbose_name}",
                                          _shown(row.get(name), model_field),
                                          _shown(now[kpi_id].get(name), model_field)))
    changes += [PlanChange(f"KPI “{row['name']}”", "absent", "added") for kpi_id, row in now.items()
                if kpi_id not in before]
    return changes


def initiative_plan_history(initiative: Initiative) -> PlanHistory:
    """The approved version (who approved it and when), the differences of the plan as it stands from it, and every
    version newest first: no query for the versions when the initiative comes from initiative_detail_queryset
    (plan_versions_prefetch), one otherwise."""
    if hasattr(initiative, PLAN_VERSIONS):
        versions = list(getattr(initiative, PLAN_VERSIONS))
    else:
        versions = list(BusinessCaseVersion.objects.filter(initiative_id=initiative.pk)
                        .select_related("approved_by", "created_by").order_by("-number"))
    approved = next((v for v in versions if v.is_approved), None)
    changes: list[PlanChange] = []
    if approved is not None:
        figures, kpis, _ = plan_snapshot_of(case=initiative_business_case(initiative),
                                            declared_monthly_cost=initiative.declared_monthly_cost,
                                            kpis=initiative.kpis.all())
        changes = plan_changes(approved, figures=figures, kpis=kpis)
    return PlanHistory(approved=approved, changes=changes, versions=versions)


@dataclass(frozen=True)
class TcoLine:
    label: str
    amount: Decimal
    note: str = ""


def business_case_tco_split(case: BusinessCase) -> list[TcoLine]:
    """The monthly TCO line by line; oversight is hours x loaded rate, the total comes from BusinessCase.tco_monthly."""

    def label(name: str) -> str:  # a concrete field of the business case, named in code below ("Inference / API ...")
        return capfirst(str(cast(Field, BusinessCase._meta.get_field(name)).verbose_name))

    return [
        TcoLine(label("tco_inference"), case.tco_inference),
        TcoLine(label("tco_compute"), case.tco_compute),
        TcoLine(label("tco_storage"), case.tco_storage),
        TcoLine(label("tco_licences"), case.tco_licences),
        TcoLine(
            "Human oversight per month",
            case.oversight_cost,
            f"{case.oversight_hours_per_month} h × {case.loaded_hourly_rate}/h",
        ),
        TcoLine(label("tco_maintenance"), case.tco_maintenance),
    ]


@dataclass(frozen=True)
class PortfolioSummary:
    """A (filtered) set of initiatives counted and summed: the portfolio list's figures above the table and its totals
    row. The cost figures are there when the rows carry them (initiative_list(periods=...)), None before cost data."""

    count: int
    declared_monthly_cost: Decimal
    cost_last_month: Decimal | None = None
    cost_last_quarter: Decimal | None = None  # their actual TCO of the last complete quarter
    plan_last_quarter: Decimal | None = None  # their business cases for that quarter

    @property
    def cost_variance_pct(self) -> Decimal | None:
        """The set's TCO against the sum of its business cases, in percent: recomputed from the two sums, as a
        department's is, never an average of the rows' percentages."""
        return _summed_variance_pct(self.cost_last_quarter, self.plan_last_quarter)


def _summed_variance_pct(actual: Decimal | None, planned: Decimal | None) -> Decimal | None:
    if actual is None or planned is None:
        return None
    return variance_pct(actual, planned)


def _sums(queryset: QuerySet, names: Iterable[str]) -> dict[str, Sum]:
    """Sum() of each of `names` the queryset's rows carry (an annotation or a field), for an aggregate, as
    `<name>_total` (an aggregate named as the annotation it sums would replace it)."""
    fields = {field.name for field in queryset.model._meta.concrete_fields}
    return {f"{name}_total": Sum(name) for name in names if name in queryset.query.annotations or name in fields}


def initiative_summary(queryset: QuerySet[Initiative]) -> PortfolioSummary:
    """Count, declared monthly cost and (for initiative_list(periods=...)) last month's and last quarter's TCO and
    the quarter's business cases of a (filtered) set of initiatives: every row that matches, not a page of them, in
    one aggregate query."""
    totals = queryset.order_by().aggregate(
        count=Count("pk", distinct=True),
        declared_total=Coalesce(Sum("declared_monthly_cost"), ZERO, output_field=MONEY_FIELD),
        **_sums(queryset, ("cost_last_month", "cost_last_quarter", "plan_last_quarter")),
    )
    return PortfolioSummary(count=totals["count"], declared_monthly_cost=totals["declared_total"],
                            cost_last_month=totals.get("cost_last_month_total"),
                            cost_last_quarter=totals.get("cost_last_quarter_total"),
                            plan_last_quarter=totals.get("plan_last_quarter_total"))


@dataclass(frozen=True)
class GroupTotals:
    """The totals row of the departments or cost centers list: every row that matches the filters counted, its counts
    and money columns summed (the CSV's columns summed give the same), the variance in percent recomputed from the
    summed TCO and business cases. Cost figures are None before there is cost data."""

    count: int
    initiatives_count: int
    declared_monthly_cost: Decimal
    cost_centers_count: int | None = None  # departments only
    cost_last_quarter: Decimal | None = None
    cost_last_quarter_estimated: bool = False  # some row's TCO is partly estimated: the total is too
    plan_last_quarter: Decimal | None = None
    cost_variance: Decimal | None = None

    @property
    def cost_variance_pct(self) -> Decimal | None:
        return _summed_variance_pct(self.cost_last_quarter, self.plan_last_quarter)


def group_totals(queryset: QuerySet[Department] | QuerySet[CostCenter]) -> GroupTotals:
    """The totals of department_list or cost_center_list rows (filtered), in one aggregate query over the rows'
    annotations: a sum of each row's subquery, so no row is read into Python and no join multiplies a figure."""
    figures: dict[str, Aggregate] = {
        **_sums(queryset, ("cost_centers_count", "cost_last_quarter", "plan_last_quarter", "cost_variance"))}
    if "cost_last_quarter_estimated" in queryset.query.annotations:
        figures["estimated_rows"] = Count("pk", filter=Q(cost_last_quarter_estimated=True))
    totals = queryset.order_by().aggregate(
        count=Count("pk", distinct=True),
        initiatives_total=Coalesce(Sum("initiatives_count"), 0),
        declared_total=Coalesce(Sum("declared_monthly_cost"), ZERO, output_field=MONEY_FIELD),
        **figures,
    )
    return GroupTotals(
        count=totals["count"], initiatives_count=totals["initiatives_total"],
        declared_monthly_cost=totals["declared_total"],
        cost_centers_count=(totals["cost_centers_count_total"] or 0) if "cost_centers_count_total" in totals else None,
        cost_last_quarter=totals.get("cost_last_quarter_total"),
        cost_last_quarter_estimated=bool(totals.get("estimated_rows")),
        plan_last_quarter=totals.get("plan_last_quarter_total"), cost_variance=totals.get("cost_variance_total"),
    )


def declared_cost_by_stage_figure(queryset: QuerySet[Initiative]) -> dict[str, Any]:
    """Plotly figure (as JSON-ready dict) of declared monthly cost per stage, stages in lifecycle order."""
    rows = queryset.order_by().values("stage").annotate(cost=Sum("declared_monthly_cost"), n=Count("pk"))
    by_stage = {row["stage"]: row for row in rows}
    stages = [stage for stage in Stage if stage.value in by_stage]
    return {
        "data": [
            {
                "type": "bar",
                "x": [stage.label for stage in stages],
                "y": [float(by_stage[stage.value]["cost"] or 0) for stage in stages],
                "customdata": [by_stage[stage.value]["n"] for stage in stages],
                "hovertemplate": (f"%{{x}}: {currency_symbol()}%{{y:,.0f}}/month<br>%{{customdata}} initiatives"
                                  "<extra></extra>"),
                "marker": {"color": "#2b4c7e"},
            }
        ],
        "layout": {
            "title": {"text": "Declared monthly cost by stage"},
            "height": 280,
            "margin": {"l": 60, "r": 20, "t": 40, "b": 40},
            "yaxis": {"title": {"text": str(money_per("month"))}, "tickformat": ",.0f"},
            "paper_bgcolor": "rgba(0,0,0,0)",
            "plot_bgcolor": "rgba(0,0,0,0)",
        },
    }


def owner_choices() -> QuerySet:
    """People who own at least one initiative: the owner filter offers only them."""
    return User.objects.filter(owned_initiatives__isnull=False).distinct().order_by("last_name", "first_name")


def people_acting_for(initiative: Initiative) -> list:
    """The owner and the delegates (named on the initiative or on the owner's profile), active, without duplicates:
    whoever is told about what happens to the initiative."""
    acts_for = Q(pk=initiative.owner_id) | Q(delegated_initiatives=initiative)
    acts_for |= Q(delegate_for_profiles__user=initiative.owner_id)
    return list(User.objects.filter(acts_for, is_active=True).distinct().order_by("pk"))


# Reference data ------------------------------------------------------------------------------------------------------


def department_list(*, user: Viewer, periods: CostPeriods | None = None) -> QuerySet[Department]:
    """Departments with their counts and declared cost; with `periods`, their initiatives' actual cost of the last
    complete quarter against their business cases (_group_cost_annotations)."""
    queryset = Department.objects.select_related("head").annotate(
        initiatives_count=_count_of(Initiative, "department"),
        cost_centers_count=_count_of(CostCenter, "department"),
        declared_monthly_cost=_declared_cost_of("department"),
    ).order_by(*ignoring_case("name"))
    if periods is not None:
        queryset = queryset.annotate(**_group_cost_annotations("department", periods))
    return _visible(queryset, user, "department")


def department_cost_centers(department: Department, *, periods: CostPeriods | None = None) -> QuerySet[CostCenter]:
    return cost_center_list_for(CostCenter.objects.filter(department=department), periods=periods)


def department_people(department: Department) -> QuerySet[Profile]:
    return Profile.objects.filter(department=department).select_related("user").order_by(
        "user__last_name", "user__first_name"
    )


def cost_center_list_for(
    queryset: QuerySet[CostCenter], *, periods: CostPeriods | None = None
) -> QuerySet[CostCenter]:
    """Cost centers with their budget owner, counts and declared cost; with `periods`, actual against business cases
    as for departments."""
    queryset = queryset.select_related("department", "budget_owner").annotate(
        initiatives_count=_count_of(Initiative, "cost_center"),
        declared_monthly_cost=_declared_cost_of("cost_center"),
    )
    if periods is not None:
        queryset = queryset.annotate(**_group_cost_annotations("cost_center", periods))
    return queryset


def cost_center_list(*, user: Viewer, periods: CostPeriods | None = None) -> QuerySet[CostCenter]:
    return _visible(cost_center_list_for(CostCenter.objects.all(), periods=periods), user, "costcenter")


def vendor_list(*, user: Viewer) -> QuerySet[Vendor]:
    queryset = Vendor.objects.annotate(
        initiatives_count=Count("initiatives", distinct=True), models_count=Count("models", distinct=True)
    ).order_by(*ignoring_case("name"))
    return _visible(queryset, user, "vendor")


def people_list(*, user: Viewer) -> QuerySet:
    """Everyone with an account, for the administrators' People page: profile and groups in two queries, the
    initiatives each owns counted by a subquery (a join would multiply with the groups)."""
    if not may(user, "portfolio.manage_people"):
        return get_user_model().objects.none()
    owned = (Initiative.objects.filter(owner=OuterRef("pk")).order_by().values("owner")
             .annotate(n=Count("pk")).values("n"))
    invited = (LogEntry.objects.filter(content_type=ContentType.objects.get_for_model(User), object_id=OuterRef("pk"),
                                       additional_data__event="invitation_sent")
               .order_by("-timestamp").values("timestamp")[:1])
    return (get_user_model().objects.select_related("profile__department")
            .prefetch_related("groups", "profile__delegates")
            .annotate(initiatives_owned=Coalesce(Subquery(owned), 0), invited_at=Subquery(invited))
            .order_by(*ignoring_case("last_name", "first_name", "username")))


SIGN_IN_CHOICES = (("password", "Password"), ("sso", "Single sign-on"), ("invited", "Invited, no password yet"),
                   ("not_invited", "Not invited yet"), ("integration", "Nobody: integration account"))
INTEGRATION_Q = Q(profile__integration_account=True)


def is_integration_account(user: Any) -> bool:
    """Whether a script or tool uses the account and nobody signs in to it (Profile.integration_account, set by an
    administrator and audited): the one account whose API tokens an administrator issues. Read from the database,
    not from a profile object that may predate a change in this request."""
    return Profile.objects.filter(user_id=user.pk, integration_account=True).exists()


def sign_in_q(kind: str) -> Q:
    """People by how they sign in: a password; single sign-on (no password, signed in); invited and not yet set;
    neither (an import's owners before anyone invites them); or nobody (an integration account). Needs people_list's
    `invited_at`."""
    no_password = Q(password__startswith=UNUSABLE_PASSWORD_PREFIX)
    return {"password": ~no_password, "sso": no_password & Q(last_login__isnull=False),
            "invited": no_password & Q(last_login__isnull=True, invited_at__isnull=False) & ~INTEGRATION_Q,
            "not_invited": no_password & Q(last_login__isnull=True, invited_at__isnull=True) & ~INTEGRATION_Q,
            "integration": no_password & Q(last_login__isnull=True) & INTEGRATION_Q}[kind]


def integration_flag(user: Any) -> bool:
    """One row's Profile.integration_account, from the profile people_list selects with it (no profile: a person)."""
    profile = getattr(user, "profile", None)
    return bool(profile is not None and profile.integration_account)


def sign_in_kind(user: Any) -> str:
    """One person's sign_in_q kind (from people_list's row)."""
    if user.has_usable_password():
        return "password"
    if user.last_login is not None:
        return "sso"
    if user.last_login is None and integration_flag(user):
        return "integration"
    return "invited" if getattr(user, "invited_at", None) else "not_invited"


def sign_in_label(user: Any) -> str:
    kind = sign_in_kind(user)
    if kind == "invited":
        return f"Invited {timezone.localtime(user.invited_at):%Y-%m-%d}"
    return dict(SIGN_IN_CHOICES)[kind]


def login_attempts(
    *, ip_addresses: Iterable[str] | None = None, usernames: Iterable[str] | None = None, either: bool = False,
) -> QuerySet[AccessAttempt]:
    """The failed-login records (django-axes) an unlock names: by address, by account, both (`either` for one or
    the other), or all of them when neither is given, as axes' own reset commands select them; but an account's
    name in any case, as it may have been typed at the login page, so that unlocking an account unlocks it."""
    by_ip = Q(ip_address__in=list(ip_addresses)) if ip_addresses is not None else Q()
    by_name = Q(name__in=[name.lower() for name in usernames]) if usernames is not None else Q()
    return (AccessAttempt.objects.annotate(name=Lower("username"))
            .filter(by_ip | by_name if either else by_ip & by_name).order_by("pk"))


def login_attempts_expired() -> QuerySet[AccessAttempt]:
    """The failed-login records whose cool-off is over (they lock nothing any more): what the admin's "Clean up
    expired attempts" removes, as django-axes selects them; none without a cool-off (a lock then lasts until lifted)."""
    cool_off = get_cool_off()
    if cool_off is None:
        return AccessAttempt.objects.none()
    return AccessAttempt.objects.filter(attempt_time__lte=timezone.now() - cool_off).order_by("pk")


def login_history(model: type[AccessLog] | type[AccessFailureLog], *,
                  older_than_days: int | None = None) -> QuerySet[AccessLog] | QuerySet[AccessFailureLog]:
    """django-axes' records of logins (AccessLog) or failed logins (AccessFailureLog), all or those older than
    `older_than_days`, as its `axes_reset_logs` / `axes_reset_failure_logs` select them."""
    records = model.objects.all()
    if older_than_days is not None:
        records = records.filter(attempt_time__lte=timezone.now() - timedelta(days=older_than_days))
    return records


def person_settings(person: Any) -> dict[str, Any]:
    """What an administrator edits about a person (person_update's arguments), as they stand: the People page's form
    starts from it, and an API PATCH changes only the fields it names. A superuser's roles include Administrator, as
    the People list and the API show them."""
    profile = Profile.objects.select_related("department").filter(user=person).first()
    return {"roles": set(roles_shown(person)), "is_active": person.is_active,
            "department": profile.department if profile else None, "title": profile.title if profile else "",
            "delegates": list(profile.delegates.all()) if profile else [],
            "integration_account": bool(profile and profile.integration_account)}


def handover_candidates(person: Any) -> QuerySet:
    """Who may take over what `person` owns: active initiative owners and administrators, but them, and no
    integration account (nobody signs in to one to answer for an initiative)."""
    owners = Q(groups__name__in=[Role.OWNER.value, Role.ADMIN.value]) | Q(is_superuser=True)
    return (people_who_may_own().filter(owners).exclude(pk=person.pk).distinct()
            .order_by("last_name", "first_name", "username"))


def people_who_may_own() -> QuerySet:
    """Active accounts that are not integration accounts: whom an initiative may name its owner (people_check)."""
    return User.objects.filter(is_active=True).exclude(profile__integration_account=True)


def integration_account_ids(user_ids: Iterable[int]) -> set[int]:
    """Which of these accounts are integration accounts, read at once (an import checks its owners in bulk)."""
    return set(Profile.objects.filter(user_id__in=list(user_ids), integration_account=True)
               .values_list("user_id", flat=True))


def initiatives_running_of(person: Any) -> QuerySet[Initiative]:
    """What `person` owns that still runs or is planned (what a hand-over moves)."""
    return Initiative.objects.filter(owner=person).exclude(stage__in=ENDED_STAGES).order_by("name")


def hand_over_preview(person: Any) -> list[Initiative]:
    """What a hand-over of `person`'s initiatives would move, as its confirmation lists it: each with its stage,
    department and delegates (one query for the initiatives, one for their delegates)."""
    return list(initiatives_running_of(person).select_related("department").prefetch_related("delegates"))


@dataclass(frozen=True)
class Account:
    """What a person's account page shows them about themselves."""

    user: Any
    profile: Profile | None
    delegates: list  # who acts for them
    acting_for: list  # whose initiatives they act on (named on those people's profiles)
    delegated: list  # initiatives they are named a delegate on
    tokens: list  # their API tokens, newest first, expired ones included until the daily clean-up


def api_tokens_of(user: Any) -> QuerySet[ApiToken]:
    """The person's API tokens, newest first (keys are never stored: each shows its first characters only)."""
    return ApiToken.objects.filter(user=user).order_by("-created")


EXPIRY_NOTICE_DAYS = 7  # a person is told this long before a named token of theirs stops working
UNUSED_DAYS = 30  # a token not used for this long is one its person may have forgotten

# The API tokens page's "state" filter: each a condition at a given time.
TOKEN_STATES = [("working", "Working"), ("expiring", f"Expiring within {EXPIRY_NOTICE_DAYS} days"),
                ("unused", f"Working, not used for {UNUSED_DAYS} days"), ("expired", "Expired")]


def api_token_state_q(state: str, *, now: Any) -> Q:
    working = Q(expiry__isnull=True) | Q(expiry__gte=now)
    return {
        "working": working,
        "expiring": Q(expiry__gte=now, expiry__lte=now + timedelta(days=EXPIRY_NOTICE_DAYS)),
        "unused": working & Q(created__lt=now - timedelta(days=UNUSED_DAYS))
        & (Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - timedelta(days=UNUSED_DAYS))),
        "expired": Q(expiry__lt=now),
    }[state]


def api_token_list(*, user: Viewer) -> QuerySet[ApiToken]:
    """Every API token of the company, for administrators (who holds which, what it may do, when it was last used):
    one query with its person."""
    if not may(user, "portfolio.manage_people"):
        return ApiToken.objects.none()
    return ApiToken.objects.select_related("user").order_by("-created")


def api_tokens_expiring(*, now: Any) -> QuerySet[ApiToken]:
    """Named tokens of active people that stop working within EXPIRY_NOTICE_DAYS and whose person was not told yet
    (tokens from the token endpoint live a day: nobody needs telling)."""
    return (ApiToken.objects.select_related("user")
            .filter(api_token_state_q("expiring", now=now), from_password=False, user__is_active=True,
                    expiry_notice_sent_at__isnull=True)
            .order_by("expiry"))


def profile_of(user: Any) -> Profile | None:
    """The person's profile with its department, or None (someone single sign-on created before any edit)."""
    return Profile.objects.select_related("department").filter(user=user).first()


def account_overview(user: Any) -> Account:
    profile = profile_of(user)
    delegates = list(profile.delegates.order_by("last_name", "first_name")) if profile else []
    acting_for = list(User.objects.filter(profile__delegates=user).order_by("last_name", "first_name"))
    delegated = list(Initiative.objects.filter(delegates=user).exclude(stage__in=ENDED_STAGES).order_by("name"))
    return Account(user, profile, delegates, acting_for, delegated, list(api_tokens_of(user)))


def ai_model_list(*, user: Viewer) -> QuerySet[AIModel]:
    queryset = AIModel.objects.select_related("provider", "substitute").annotate(
        initiatives_count=Count("initiatives")).order_by(*ignoring_case("provider__name", "name"))
    return _visible(queryset, user, "aimodel")


def licence_pool_list(*, user: Viewer) -> QuerySet[LicencePool]:
    """Licence pools with their seat use in the latest month of seat data (the roll-up the dashboard and the
    licence-waste signal read): `seats_month`, `seats_active` (active in the last 30 days), `seats_counted` (seats
    purchased that month) and `utilisation` (%); all empty for a pool no source reports seats for."""
    latest = LicencePoolActivity.objects.filter(licence_pool=OuterRef("pk")).order_by("-month")
    # monthly_cost_sort only orders the table; the displayed amount comes from LicencePool.monthly_cost.
    queryset = LicencePool.objects.select_related("vendor", "initiative").annotate(
        monthly_cost_sort=ExpressionWrapper(F("seats_purchased") * F("price_per_seat_month"), output_field=MONEY_FIELD),
        seats_month=Subquery(latest.values("month")[:1]),
        seats_active=Subquery(latest.values("active_30d")[:1]),
        seats_counted=Subquery(latest.values("purchased")[:1]),
        utilisation=ExpressionWrapper(
            Cast(F("seats_active"), FloatField()) * 100.0 / NullIf(F("seats_counted"), 0), output_field=FloatField()
        ),
        utilisation_sort=Coalesce(F("utilisation"), Value(-1.0)),  # pools without seat data below 0 % either way
    ).order_by(*ignoring_case("tool"))
    return _visible(queryset, user, "licencepool")


def licence_pool_terms(pool: LicencePool) -> list[LicencePoolTerms]:
    """A pool's terms history, oldest first: each row applies from its month until the next row's; `monthly_cost` is
    what each charges per month (seats x price)."""
    rows = list(LicencePoolTerms.objects.filter(pool=pool).select_related("initiative").order_by("effective_from"))
    for row in rows:
        setattr(row, "monthly_cost",  # noqa: B010 -- an attribute for the page, not a model field
                licence_pool_monthly_cost(row.seats_purchased, row.price_per_seat_month))
    return rows


# The initiative page's cost panel ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TcoCell:
    amount: Decimal
    actual: bool


@dataclass(frozen=True)
class GpuTableRow:
    """One month of an initiative's GPU clusters: GPU-hours, what they cost (`basis`: the GPU cost, or the whole cost
    of the records carrying them where the source does not give it apart), and their price."""

    month: str
    gpu_hours: Decimal
    cost: Decimal
    price_per_hour: Decimal | None
    basis: str = GpuCostBasis.GPU
    basis_label: str = GpuCostBasis.GPU.label


@dataclass(frozen=True)
class TcoTableRow:
    month: str
    cells: list[TcoCell | None]  # one per TcoPanel.categories, None where the category has no cost that month
    figures: TcoFigures
    data: TcoMonthData | None = None  # what the month's figures are worth; an unread month shows "no data", not $0


@dataclass(frozen=True)
class TcoPanel:
    """What the initiative page shows of its actual cost: the headline figures of the last complete month and quarter,
    the quarter against the business case, and the monthly chart and table."""

    headline: TcoHeadline
    plan_last_quarter: Decimal | None  # the business case's (else the declared) monthly TCO x the quarter's months
    variance_last_quarter: Decimal | None  # percent of the plan, e.g. 12.5 for 12.5 % over
    history: TcoHistory
    categories: list[tuple[str, str]]  # (value, label) of the categories in the table, in CostCategory order
    rows: list[TcoTableRow]
    business_case_monthly: Decimal | None  # of the approved business case (approved_plan), else as it stands
    declared_monthly: Decimal
    figure: dict[str, Any]
    plan_label: str = "business case"  # what the quarter is compared with: approved business case, declared cost
    gpu_rows: tuple[GpuTableRow, ...] = ()  # the history's months with GPU-hours, oldest first; empty without any
    gpu_cost_label: str = "GPU cost"  # the heading of their cost column (gpu_cost_label)
    before_start: bool = False  # the quarter ended before the initiative's start date: no plan to compare with
    range_data: str | None = None  # what the table's months add up to (calculations.tco_range_data)


def initiative_tco_panel(initiative: Initiative) -> TcoPanel:
    """The cost panel of an initiative (its business case and approved versions loaded with it), in a constant number
    of queries. The quarter is compared with the approved business case (approved_plan)."""
    reading = cost_data_reading()  # read once for the periods and the months' states
    periods = cost_periods(reading=reading)
    headline = initiative_tco_headline(initiative_id=initiative.pk, periods=periods, start_date=initiative.start_date)
    read = initiative_tco_history(initiative_id=initiative.pk, until=timezone.localdate())
    data = initiative_tco_month_data(read, start_date=initiative.start_date, reading=reading)
    # A month nobody read has no figures (not $0, nor the estimates a gap between read months gets): the table says
    # "no data", the chart shows nothing and the range total adds up the other months, as the API does.
    history = TcoHistory(read.start, read.end, [month if state.has_figures else MonthTco(month.month, ())
                                                for month, state in zip(read.months, data, strict=True)])
    approved = approved_plan(initiative)
    case_monthly = approved.tco_monthly
    planned = approved.planned_monthly
    plan = planned * headline.quarter_months if headline.quarter is not None else None
    if case_monthly is None:
        plan_label = "declared cost"
    elif approved.version is not None:
        plan_label = f"approved business case (v{approved.version.number})"
    else:
        plan_label = "business case"
    categories = history.categories
    rows = []
    for month, state in zip(history.months, data, strict=True):
        cells = []
        for category in categories:
            part = month.amount_of(category)
            cells.append(TcoCell(part.amount, part.actual) if part is not None else None)
        rows.append(TcoTableRow(f"{month.month:%Y-%m}", cells, month.figures, state))
    gpu = initiative_gpu_months(initiative_id=initiative.pk, months=[m.month for m in history.months])
    gpu_rows = tuple(GpuTableRow(f"{m:%Y-%m}", row.gpu_hours, row.cost, row.price_per_hour, row.cost_basis,
                                 row.get_cost_basis_display()) for m, row in sorted(gpu.items()))
    return TcoPanel(
        headline=headline,
        plan_last_quarter=plan,
        before_start=bool(periods.quarter and initiative.start_date
                          and periods.quarter[2] < initiative.start_date.replace(day=1)),
        variance_last_quarter=(variance_pct(headline.quarter.total, plan)
                               if headline.quarter is not None and plan is not None else None),
        history=history,
        categories=[(c, CostCategory(c).label) for c in categories],
        rows=rows,
        business_case_monthly=case_monthly,
        declared_monthly=initiative.declared_monthly_cost,
        figure=tco_history_figure(history, business_case_monthly=case_monthly,
                                  declared_monthly=initiative.declared_monthly_cost),
        plan_label=plan_label,
        gpu_rows=gpu_rows,
        gpu_cost_label=gpu_cost_label(row.basis for row in gpu_rows),
        range_data=tco_range_data([state.data for state in data]),
    )


def initiative_costs(initiative: Initiative, *, start: date | None = None, end: date | None = None) -> dict[str, Any]:
    """An initiative's TCO month by month from `start` to `end` (default: the last twelve months with data, up to the
    month in progress at most), with the business case (the approved one, approved_plan) and the declared cost beside
    each month: what GET /api/initiatives/<id>/costs/ answers. Each month says what its figures are worth (`data`,
    calculations.tco_month_data): a month nobody read has null figures, not zeros, and the totals add up the months
    that have figures. A month that has not begun is refused before this (CostRangeSerializer)."""
    this_month = timezone.localdate().replace(day=1)
    if start is not None and end is None:
        end = min(add_months(start.replace(day=1), HISTORY_MONTHS - 1), this_month)
    history = initiative_tco_history(initiative_id=initiative.pk, start=start, end=end, until=this_month)
    data = initiative_tco_month_data(history, start_date=initiative.start_date)
    case_monthly = approved_plan(initiative).tco_monthly
    gpu = initiative_gpu_months(initiative_id=initiative.pk, months=[m.month for m in history.months])
    months = []
    for month, state in zip(history.months, data, strict=True):
        figures = month.figures
        gpu_row = gpu.get(month.month)
        known = state.has_figures
        months.append({
            "month": f"{month.month:%Y-%m}",
            "total": figures.total if known else None, "actual": figures.actual if known else None,
            "estimated": figures.estimated if known else None,
            "basis": figures.basis if known and figures.total else None,
            "by_category": {p.category: {"amount": p.amount, "actual": p.actual} for p in month.parts} if known else {},
            "data": state.data, "data_note": state.note,
            "business_case": case_monthly, "declared": initiative.declared_monthly_cost,
            "gpu_hours": gpu_row.gpu_hours if gpu_row else None, "gpu_cost": gpu_row.cost if gpu_row else None,
            "gpu_hour_price": gpu_row.price_per_hour if gpu_row else None,
            "gpu_cost_basis": gpu_row.cost_basis if gpu_row else None,
        })
    known_months = [m for m, state in zip(history.months, data, strict=True) if state.has_figures]
    totals = TcoFigures.of([p for m in known_months for p in m.parts])
    none_known = bool(history.months) and not known_months
    return {
        "initiative": initiative.external_id,
        "currency": reporting_currency(),
        "from": f"{history.start:%Y-%m}" if history.start else None,
        "to": f"{history.end:%Y-%m}" if history.end else None,
        "data": tco_range_data([state.data for state in data]),
        "months": months,
        "total": None if none_known else totals.total, "actual": None if none_known else totals.actual,
        "estimated": None if none_known else totals.estimated,
    }


# What an inventory import did -----------------------------------------------------------------------------------------

IMPORT_LISTED = 200  # initiatives listed per kind on the import's page; the rest are counted


@dataclass(frozen=True)
class ImportedInitiatives:
    created: list[Initiative]
    changed: list[Initiative]
    created_total: int
    changed_total: int


def import_run_initiatives(run: ImportRun, *, limit: int = IMPORT_LISTED) -> ImportedInitiatives:
    """The initiatives an import created and those it changed (fields, vendors, models or licence pool), from the
    audit entries it marked with its run: the trail says what happened, so nothing else is stored. A dry run wrote
    nothing and lists none. A constant number of queries."""
    entries = LogEntry.objects.filter(additional_data__import_run=run.pk).values_list(
        "content_type_id", "object_id", "action")
    types = ContentType.objects.get_for_models(Initiative, LicencePool)
    created: set[int] = set()
    touched: set[int] = set()
    pools: set[int] = set()
    for content_type_id, object_id, action in entries:
        if object_id is None:
            continue
        if content_type_id == types[Initiative].pk:
            (created if action == LogEntry.Action.CREATE else touched).add(object_id)
        elif content_type_id == types[LicencePool].pk:
            pools.add(object_id)
    if pools:
        touched.update(LicencePool.objects.filter(pk__in=pools, initiative__isnull=False).values_list(
            "initiative_id", flat=True))
    changed = touched - created
    listed = Initiative.objects.only("pk", "external_id", "name").order_by("external_id")
    return ImportedInitiatives(
        created=list(listed.filter(pk__in=created)[:limit]) if created else [],
        changed=list(listed.filter(pk__in=changed)[:limit]) if changed else [],
        created_total=len(created), changed_total=len(changed),
    )


def import_run_pools_without_price(run: ImportRun) -> list[LicencePool]:
    """The licence pools an import created that still have no price (0 per seat: a row with seats and a monthly cost
    of 0), with their initiative and vendor, for its page to name: their seats cost nothing until someone prices them.
    From the audit entries the import marked with its run; two queries."""
    created = LogEntry.objects.filter(
        additional_data__import_run=run.pk, action=LogEntry.Action.CREATE,
        content_type=ContentType.objects.get_for_model(LicencePool),
    ).values_list("object_id", flat=True)
    ids = [pk for pk in created if pk is not None]
    if not ids:
        return []
    return list(LicencePool.objects.filter(pk__in=ids, price_per_seat_month=0)
                .select_related("initiative", "vendor").order_by("tool", "pk"))


def import_run_people_without_password(run: ImportRun) -> int:
    """How many of the people a (real) import created still have no password and never signed in: they cannot sign
    in until invited (portfolio.services.passwords.people_awaiting_invitation is the same rule). Read from the new
    people the run lists (its first NEW_REFERENCES_KEPT)."""
    if run.dry_run:
        return 0
    emails = {entry["name"].lower() for entry in (run.new_references or {}).get("people", {}).get("names", [])}
    if not emails:
        return 0
    return (User.objects.filter(is_active=True, last_login__isnull=True, password__startswith=UNUSABLE_PASSWORD_PREFIX)
            .annotate(email_lower=Lower("email")).filter(email_lower__in=emails).count())


def audit_entries_of_initiatives(initiative_ids: QuerySet | list[int]) -> QuerySet:
    """The ids of the audit entries about the initiatives' records (AuditEntryInitiative), deleted records included,
    as a subquery for `pk__in`; the entries about the initiatives themselves are matched by their object id."""
    return AuditEntryInitiative.objects.filter(initiative_id__in=initiative_ids).values("entry_id")
