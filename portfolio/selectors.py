"""Reads of the portfolio app: querysets restricted to the user, loaded so pages run a constant number of queries."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, cast

from django.contrib.auth import get_user_model
from django.db.models import Count, DecimalField, ExpressionWrapper, F, OuterRef, Prefetch, QuerySet, Subquery, Sum
from django.db.models.fields import Field
from django.db.models.functions import Coalesce

from portfolio.choices import Stage
from portfolio.models import AIModel, BusinessCase, CostCenter, Department, Initiative, LicencePool, Profile, Vendor
from tollgate.roles import may
from tollgate.types import Viewer

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


# Initiatives ---------------------------------------------------------------------------------------------------------


def initiative_list(*, user: Viewer) -> QuerySet[Initiative]:
    """Initiatives with everything a list row shows, in a fixed number of queries whatever the page size."""
    queryset = Initiative.objects.select_related("department", "cost_center", "owner").prefetch_related(
        Prefetch("vendors", queryset=Vendor.objects.order_by("name"))
    )
    return _visible(queryset, user, "initiative")


def initiative_detail_queryset(*, user: Viewer) -> QuerySet[Initiative]:
    """Initiatives with their business case, KPIs, licence pools, vendors, models and delegates loaded."""
    queryset = Initiative.objects.select_related(
        "department", "cost_center", "owner", "business_case"
    ).prefetch_related(
        "kpis",
        Prefetch("vendors", queryset=Vendor.objects.order_by("name")),
        Prefetch("ai_models", queryset=AIModel.objects.select_related("provider")),
        Prefetch("delegates", queryset=User.objects.order_by("last_name", "first_name")),
        Prefetch("licence_pools", queryset=LicencePool.objects.select_related("vendor")),
    )
    return _visible(queryset, user, "initiative")


def initiative_business_case(initiative: Initiative) -> BusinessCase | None:
    """The business case, or None for initiatives registered before business cases existed (imports)."""
    try:
        return initiative.business_case
    except BusinessCase.DoesNotExist:
        return None


@dataclass(frozen=True)
class TcoLine:
    label: str
    amount: Decimal
    note: str = ""


def business_case_tco_split(case: BusinessCase) -> list[TcoLine]:
    """The monthly TCO line by line; oversight is hours x loaded rate, the total comes from BusinessCase.tco_monthly."""

    def label(name: str) -> str:  # a concrete field of the business case, named in code below
        return str(cast(Field, BusinessCase._meta.get_field(name)).verbose_name).capitalize()

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
    count: int
    declared_monthly_cost: Decimal


def initiative_summary(queryset: QuerySet[Initiative]) -> PortfolioSummary:
    """Count and declared monthly cost of a (filtered) set of initiatives, in one query."""
    totals = queryset.order_by().aggregate(
        count=Count("pk", distinct=True), cost=Coalesce(Sum("declared_monthly_cost"), ZERO, output_field=MONEY_FIELD)
    )
    return PortfolioSummary(count=totals["count"], declared_monthly_cost=totals["cost"])


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
                "hovertemplate": "%{x}: $%{y:,.0f}/month<br>%{customdata} initiatives<extra></extra>",
                "marker": {"color": "#2b4c7e"},
            }
        ],
        "layout": {
            "title": {"text": "Declared monthly cost by stage"},
            "height": 280,
            "margin": {"l": 60, "r": 20, "t": 40, "b": 40},
            "yaxis": {"title": {"text": "USD / month"}, "tickformat": ",.0f"},
            "paper_bgcolor": "rgba(0,0,0,0)",
            "plot_bgcolor": "rgba(0,0,0,0)",
        },
    }


def owner_choices() -> QuerySet:
    """People who own at least one initiative: the owner filter offers only them."""
    return User.objects.filter(owned_initiatives__isnull=False).distinct().order_by("last_name", "first_name")


# Reference data ------------------------------------------------------------------------------------------------------


def department_list(*, user: Viewer) -> QuerySet[Department]:
    queryset = Department.objects.select_related("head").annotate(
        initiatives_count=Count("initiatives", distinct=True),
        cost_centers_count=Count("cost_centers", distinct=True),
        declared_monthly_cost=_declared_cost_of("department"),
    )
    return _visible(queryset, user, "department")


def department_cost_centers(department: Department) -> QuerySet[CostCenter]:
    return cost_center_list_for(CostCenter.objects.filter(department=department))


def department_people(department: Department) -> QuerySet[Profile]:
    return Profile.objects.filter(department=department).select_related("user").order_by(
        "user__last_name", "user__first_name"
    )


def cost_center_list_for(queryset: QuerySet[CostCenter]) -> QuerySet[CostCenter]:
    return queryset.select_related("department", "budget_owner").annotate(
        initiatives_count=Count("initiatives", distinct=True),
        declared_monthly_cost=_declared_cost_of("cost_center"),
    )


def cost_center_list(*, user: Viewer) -> QuerySet[CostCenter]:
    return _visible(cost_center_list_for(CostCenter.objects.all()), user, "costcenter")


def vendor_list(*, user: Viewer) -> QuerySet[Vendor]:
    queryset = Vendor.objects.annotate(
        initiatives_count=Count("initiatives", distinct=True), models_count=Count("models", distinct=True)
    )
    return _visible(queryset, user, "vendor")


def ai_model_list(*, user: Viewer) -> QuerySet[AIModel]:
    queryset = AIModel.objects.select_related("provider", "substitute").annotate(
        initiatives_count=Count("initiatives"))
    return _visible(queryset, user, "aimodel")


def licence_pool_list(*, user: Viewer) -> QuerySet[LicencePool]:
    # monthly_cost_sort only orders the table; the displayed amount comes from LicencePool.monthly_cost.
    queryset = LicencePool.objects.select_related("vendor", "initiative").annotate(
        monthly_cost_sort=ExpressionWrapper(F("seats_purchased") * F("price_per_seat_month"), output_field=MONEY_FIELD)
    )
    return _visible(queryset, user, "licencepool")
