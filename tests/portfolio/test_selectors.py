"""Portfolio reads: visibility, totals, the chart figure and the annotated reference lists."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest
from django.core.serializers.json import DjangoJSONEncoder

from portfolio import selectors
from portfolio.choices import Stage
from portfolio.costs.selectors import CostPeriods, cost_periods
from portfolio.models import Initiative
from tests.factories import (
    AIModelFactory,
    BusinessCaseFactory,
    CostCenterFactory,
    DepartmentFactory,
    InitiativeFactory,
    LicencePoolFactory,
    UserFactory,
    VendorFactory,
)
from tests.portfolio.tco_example import build_example

pytestmark = pytest.mark.django_db


def test_every_role_sees_the_whole_portfolio(owner, reviewer, executive, initiative, other_initiative):
    for user in (owner, reviewer, executive):
        assert set(selectors.initiative_list(user=user)) == {initiative, other_initiative}


def test_people_without_a_role_see_nothing(initiative):
    nobody = UserFactory()
    assert not selectors.initiative_list(user=nobody).exists()
    assert not selectors.department_list(user=nobody).exists()
    assert not selectors.licence_pool_list(user=nobody).exists()


def test_initiative_summary_counts_and_sums_the_given_set(reviewer):
    InitiativeFactory(stage=Stage.PILOT, declared_monthly_cost=Decimal("10.10"))
    InitiativeFactory(stage=Stage.PILOT, declared_monthly_cost=Decimal("0.90"))
    InitiativeFactory(stage=Stage.PROPOSED, declared_monthly_cost=Decimal("500"))

    pilots = selectors.initiative_list(user=reviewer).filter(stage=Stage.PILOT)
    summary = selectors.initiative_summary(pilots)

    assert summary.count == 2
    assert summary.declared_monthly_cost == Decimal("11.00")


def test_initiative_summary_of_empty_set_is_zero(reviewer):
    summary = selectors.initiative_summary(Initiative.objects.none())
    assert summary.count == 0
    assert summary.declared_monthly_cost == Decimal("0")


def test_initiative_summary_sums_the_cost_figures_and_recomputes_the_percentage(reviewer):
    """The totals row of the portfolio list: last month's and the quarter's TCO summed, and the set's TCO against the
    sum of its business cases (9,000 against 8,350: +7.8 %), not the average of the rows' +8.8 % and 0.0 %."""
    build_example()
    periods = cost_periods()
    summary = selectors.initiative_summary(selectors.initiative_list(user=reviewer, periods=periods))
    assert (summary.count, summary.declared_monthly_cost) == (3, Decimal("2600"))
    assert (summary.cost_last_month, summary.cost_last_quarter, summary.plan_last_quarter) == (
        Decimal("3100"), Decimal("9000"), Decimal("8350"))
    assert summary.cost_variance_pct == Decimal("7.8")


def test_initiative_summary_before_cost_data_has_no_cost_figures(reviewer, initiative):
    summary = selectors.initiative_summary(selectors.initiative_list(user=reviewer, periods=cost_periods()))
    assert summary.count == 1
    assert (summary.cost_last_month, summary.cost_last_quarter, summary.cost_variance_pct) == (None, None, None)


def test_group_totals_sum_every_department_and_cost_center_column(reviewer):
    example = build_example()
    other = CostCenterFactory(code="CC-OTHER", department=DepartmentFactory(name="Legal"))
    InitiativeFactory(department=other.department, cost_center=other, stage=Stage.PROPOSED,
                      declared_monthly_cost=Decimal("40.50"))
    periods = cost_periods()

    departments = selectors.group_totals(selectors.department_list(user=reviewer, periods=periods))
    assert (departments.count, departments.initiatives_count, departments.cost_centers_count) == (2, 4, 3)
    assert departments.declared_monthly_cost == Decimal("2640.50")
    assert (departments.cost_last_quarter, departments.plan_last_quarter, departments.cost_variance) == (
        Decimal("9000"), Decimal("8350"), Decimal("650"))
    assert departments.cost_variance_pct == Decimal("7.8")
    assert departments.cost_last_quarter_estimated  # Claims' TCO is partly estimated: so is the total

    centers = selectors.group_totals(
        selectors.cost_center_list(user=reviewer, periods=periods).filter(department=example.department))
    assert (centers.count, centers.initiatives_count, centers.cost_centers_count) == (2, 3, None)
    # CC-CLAIMS-RUN is 8.8 % over, CC-CLAIMS-PILOT on plan: the total is 9,000 against 8,350, not their mean 4.4 %
    assert (centers.cost_last_quarter, centers.plan_last_quarter, centers.cost_variance_pct) == (
        Decimal("9000"), Decimal("8350"), Decimal("7.8"))


def test_group_totals_before_cost_data_and_of_no_rows(reviewer, initiative):
    totals = selectors.group_totals(selectors.department_list(user=reviewer, periods=cost_periods()))
    assert (totals.count, totals.initiatives_count, totals.declared_monthly_cost) == (
        1, 1, initiative.declared_monthly_cost)
    assert (totals.cost_last_quarter, totals.cost_variance_pct, totals.cost_last_quarter_estimated) == (
        None, None, False)
    empty = selectors.group_totals(selectors.cost_center_list(user=UserFactory()))
    assert (empty.count, empty.initiatives_count, empty.declared_monthly_cost) == (0, 0, Decimal("0"))


def test_cost_by_stage_figure_follows_lifecycle_order_and_is_json(reviewer):
    InitiativeFactory(stage=Stage.PRODUCTION, declared_monthly_cost=Decimal("1000"))
    InitiativeFactory(stage=Stage.PROPOSED, declared_monthly_cost=Decimal("200"))
    InitiativeFactory(stage=Stage.PROPOSED, declared_monthly_cost=Decimal("50"))

    figure = selectors.declared_cost_by_stage_figure(selectors.initiative_list(user=reviewer))

    bar = figure["data"][0]
    assert bar["type"] == "bar"
    assert bar["x"] == ["Proposed", "Production"]
    assert bar["y"] == [250.0, 1000.0]
    assert bar["customdata"] == [2, 1]
    assert json.loads(json.dumps(figure, cls=DjangoJSONEncoder)) == figure


def test_department_list_annotations_do_not_multiply(reviewer):
    department = DepartmentFactory()
    CostCenterFactory.create_batch(2, department=department)
    InitiativeFactory(department=department, cost_center=None, declared_monthly_cost=Decimal("100"))
    InitiativeFactory(department=department, cost_center=None, declared_monthly_cost=Decimal("300"))
    empty = DepartmentFactory()

    rows = {d.pk: d for d in selectors.department_list(user=reviewer)}

    assert rows[department.pk].initiatives_count == 2
    assert rows[department.pk].cost_centers_count == 2
    assert rows[department.pk].declared_monthly_cost == Decimal("400")
    assert rows[empty.pk].initiatives_count == 0
    assert rows[empty.pk].declared_monthly_cost == Decimal("0")


def test_department_and_cost_center_lists_are_not_grouped_queries(reviewer):
    """Counted by subqueries, not Count() over joins: a grouped query makes the database compute the cost figures'
    subqueries once per joined row (seconds for the demo's 14 departments), and its count() keeps them all."""
    periods = CostPeriods(month=date(2026, 9, 1), quarter=("2026-Q3", date(2026, 7, 1), date(2026, 9, 1)))
    for listing in (selectors.department_list, selectors.cost_center_list):
        queryset = listing(user=reviewer, periods=periods)
        assert queryset.query.group_by is None, listing.__name__
        assert "cost_last_quarter" in queryset.query.annotations


def test_cost_center_list_counts_and_sums_its_initiatives(reviewer):
    cost_center = CostCenterFactory()
    InitiativeFactory.create_batch(
        3, department=cost_center.department, cost_center=cost_center, declared_monthly_cost=Decimal("25")
    )
    row = selectors.cost_center_list(user=reviewer).get(pk=cost_center.pk)
    assert row.initiatives_count == 3
    assert row.declared_monthly_cost == Decimal("75")


def test_vendor_and_model_counts(reviewer):
    vendor = VendorFactory()
    model_a, _model_b = AIModelFactory.create_batch(2, provider=vendor)
    for initiative in InitiativeFactory.create_batch(2, vendors=[vendor]):
        initiative.ai_models.set([model_a])

    vendor_row = selectors.vendor_list(user=reviewer).get(pk=vendor.pk)
    assert (vendor_row.initiatives_count, vendor_row.models_count) == (2, 2)
    counts = {m.pk: m.initiatives_count for m in selectors.ai_model_list(user=reviewer)}
    assert counts[model_a.pk] == 2
    assert counts[_model_b.pk] == 0


def test_licence_pool_sort_key_matches_monthly_cost(reviewer):
    pool = LicencePoolFactory(seats_purchased=120, price_per_seat_month=Decimal("19.50"))
    row = selectors.licence_pool_list(user=reviewer).get(pk=pool.pk)
    assert row.monthly_cost == Decimal("2340.00")
    assert Decimal(row.monthly_cost_sort) == row.monthly_cost


def test_business_case_tco_split_adds_up_to_tco_monthly(initiative):
    case = BusinessCaseFactory(
        initiative=initiative, tco_inference=Decimal("100"), tco_compute=Decimal("20"), tco_storage=Decimal("5"),
        tco_licences=Decimal("7"), oversight_hours_per_month=Decimal("2.5"), loaded_hourly_rate=Decimal("40"),
        tco_maintenance=Decimal("13"),
    )
    lines = selectors.business_case_tco_split(case)

    oversight = next(line for line in lines if "oversight" in line.label.lower())
    assert oversight.amount == Decimal("100.00")
    assert "2.5 h" in oversight.note
    assert sum(line.amount for line in lines) == case.tco_monthly == Decimal("245.00")


def test_initiative_business_case_is_none_when_missing(initiative):
    assert selectors.initiative_business_case(initiative) is None
    case = BusinessCaseFactory(initiative=initiative)
    fresh = selectors.initiative_detail_queryset(user=UserFactory(role="reviewer")).get(pk=initiative.pk)
    assert selectors.initiative_business_case(fresh) == case


def test_owner_choices_lists_only_people_who_own_something(owner, reviewer, initiative):
    assert list(selectors.owner_choices()) == [owner]


def test_department_people(reviewer):
    department = DepartmentFactory()
    member = UserFactory()
    member.profile.department = department
    member.profile.save()
    UserFactory()
    assert [p.user for p in selectors.department_people(department)] == [member]
