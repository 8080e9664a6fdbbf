"""Business-case versions: approval records the approved plan, later edits add versions, and what overrun and value are
measured against (approved_plan, planned_monthly_tco, the cost panel) stays the approved version."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from portfolio import selectors, services
from portfolio.choices import KpiDirection, Stage
from portfolio.costs.selectors import cost_periods
from portfolio.models import BusinessCaseVersion, Initiative
from tests.factories import BusinessCaseFactory, InitiativeFactory, KPIFactory
from tests.portfolio.tco_example import build_example
from tests.portfolio.test_views import _edit_data

pytestmark = pytest.mark.django_db
D = Decimal


def approve(initiative: Initiative, actor) -> BusinessCaseVersion:
    """What governance's approve transition records (tested there); here the plan is approved directly."""
    return services.business_case_version_record(initiative=initiative, actor=actor, reason="Approved.", approve=True)


@pytest.fixture
def approved(initiative, reviewer):
    """The owner's initiative, approved with its business case (TCO 2,450.00, baseline 4.50) and one KPI."""
    BusinessCaseFactory(initiative=initiative, min_viable_scale=5000, expected_monthly_value=D("30000.00"))
    KPIFactory(initiative=initiative, name="Tickets deflected", baseline=D("0"), target=D("4000"),
               direction=KpiDirection.INCREASE)
    Initiative.objects.filter(pk=initiative.pk).update(stage=Stage.PILOT)
    initiative.refresh_from_db()
    approve(initiative, reviewer)
    return initiative


def test_an_edit_after_approval_is_saved_and_recorded_as_an_unapproved_version(owner, approved):
    services.business_case_save(actor=owner, initiative=approved, expected_monthly_value=D("3000000.00"))
    approved.refresh_from_db()
    assert approved.business_case.expected_monthly_value == D("3000000.00")  # saved as now
    v1, v2 = BusinessCaseVersion.objects.filter(initiative=approved).order_by("number")
    assert v1.is_approved and not v2.is_approved
    assert (v2.number, v2.created_by, v2.reason) == (2, owner, "Edited after approval.")
    assert v1.figures["expected_monthly_value"] == "30000.00" and v2.figures["expected_monthly_value"] == "3000000.00"
    plan = selectors.approved_plan(approved)
    assert plan.version == v1 and plan.expected_monthly_value == D("30000.00")


def test_one_page_edit_is_one_version_and_an_unchanged_save_is_none(owner, approved):
    kpi = approved.kpis.get()
    with services.plan_edit(actor=owner):
        services.initiative_update(actor=owner, initiative=approved, declared_monthly_cost=D("2000"))
        services.business_case_save(actor=owner, initiative=approved, tco_inference=D("900"))
        services.kpis_replace(actor=owner, initiative=approved, kpis=[{"id": kpi.pk, "target": D("5000")}])
    assert BusinessCaseVersion.objects.filter(initiative=approved).count() == 2
    services.business_case_save(actor=owner, initiative=approved, tco_inference=D("900"))  # nothing changes
    services.initiative_update(actor=owner, initiative=approved, name="Renamed")  # not the plan
    assert BusinessCaseVersion.objects.filter(initiative=approved).count() == 2


def test_edits_before_approval_make_no_version(owner, initiative):
    BusinessCaseFactory(initiative=initiative)
    services.business_case_save(actor=owner, initiative=initiative, tco_inference=D("1"))
    assert not BusinessCaseVersion.objects.exists()


def test_approving_the_same_plan_again_approves_the_latest_version(owner, reviewer, approved):
    services.business_case_save(actor=owner, initiative=approved, tco_inference=D("900"))
    latest = approve(approved, reviewer)
    assert (latest.number, latest.is_approved) == (2, True)
    assert selectors.approved_plan(approved).tco_monthly == D("2550.00")


def test_the_approved_plan_is_the_yardstick_and_never_approved_ones_use_the_case_as_it_stands(owner, approved):
    services.business_case_save(actor=owner, initiative=approved, baseline_cost_per_outcome=D("99"),
                                min_viable_scale=1, tco_inference=D("80000"))
    services.initiative_update(actor=owner, initiative=approved, declared_monthly_cost=D("1"))
    plan = selectors.approved_plan(Initiative.objects.get(pk=approved.pk))
    assert (plan.tco_monthly, plan.baseline_cost_per_outcome, plan.min_viable_scale, plan.declared_monthly_cost) == (
        D("2450.00"), D("4.5000"), 5000, D("1200.00"))
    never = BusinessCaseFactory(tco_inference=D("100")).initiative
    fallback = selectors.approved_plan(never)
    assert not fallback.is_approved and fallback.tco_monthly == never.business_case.tco_monthly
    bare = InitiativeFactory(declared_monthly_cost=D("70"))
    assert selectors.approved_plan(bare).planned_monthly == D("70")
    assert selectors.approved_plans([approved.pk, never.pk, bare.pk]) == {
        approved.pk: plan, never.pk: fallback, bare.pk: selectors.approved_plan(bare)}


def test_approved_plans_reads_any_number_in_two_queries(reviewer):
    for _ in range(3):
        approve(BusinessCaseFactory().initiative, reviewer)
        BusinessCaseFactory()
    with CaptureQueriesContext(connection) as queries:
        plans = selectors.approved_plans(Initiative.objects.values("pk"))
    assert len(plans) == 6 and len(queries) == 2  # the versions; the initiatives without one, with their cases


def test_overrun_is_measured_against_the_approved_tco_on_the_list_and_the_page(owner, reviewer):
    """The worked example's `recorded`: Q3 cost 8,000 against 3 x 2,450 approved = +8.8 %, whatever the owner later
    writes into the business case."""
    example = build_example()
    recorded = example.recorded
    approve(recorded, reviewer)
    services.business_case_save(actor=owner, initiative=recorded, tco_inference=D("80000"))
    row = Initiative.objects.annotate(**selectors.initiative_cost_annotations(cost_periods())).get(pk=recorded.pk)
    assert D(row.plan_last_quarter) == D("7350.00") and round(row.cost_variance_pct, 1) == 8.8
    panel = selectors.initiative_tco_panel(selectors.initiative_detail_queryset(user=owner).get(pk=recorded.pk))
    assert panel.plan_last_quarter == D("7350.00") and panel.variance_last_quarter == D("8.8")
    assert panel.business_case_monthly == D("2450.00") and panel.plan_label == "approved business case (v1)"
    planned = Initiative.objects.annotate(plan=selectors.planned_monthly_tco()).get(pk=recorded.pk).plan
    assert D(planned) == D("2450.00")


def test_changes_since_approval_field_by_field_and_kpi_by_kpi(owner, approved):
    kpi = approved.kpis.get()
    inference = approved.business_case.tco_inference
    services.business_case_save(actor=owner, initiative=approved, expected_monthly_value=D("3000000.00"),
                                tco_inference=D("900"))
    services.kpis_replace(actor=owner, initiative=approved, kpis=[
        {"id": kpi.pk, "target": D("9000.5")}, {"name": "Brand new", "baseline": D("1"), "target": D("2")}])
    history = selectors.initiative_plan_history(selectors.initiative_detail_queryset(user=owner).get(pk=approved.pk))
    assert history.approved.number == 1 and [v.number for v in history.versions] == [3, 2, 1]
    assert [(c.what, c.approved, c.current) for c in history.changes] == [
        ("Inference / API per month", f"${inference:,.2f}", "$900.00"),  # the field's label, money as money
        ("Expected value per month", "$30,000.00", "$3,000,000.00"),
        ("KPI “Tickets deflected”: target", "4,000", "9,000.5"),  # a KPI figure with only the decimals it has
        ("KPI “Brand new”", "absent", "added"),
    ]


# Pages ---------------------------------------------------------------------------------------------------------------


def test_the_initiative_page_shows_the_approved_version_and_what_changed(login, owner, reviewer, approved):
    client = login(reviewer)
    page = client.get(approved.get_absolute_url()).content.decode()
    assert "Approved version: <strong>v1</strong>" in page and "Unchanged since approval" in page
    services.business_case_save(actor=owner, initiative=approved, expected_monthly_value=D("3000000.00"))
    page = client.get(approved.get_absolute_url()).content.decode()
    assert 'id="changed-since-approval"' in page and "$3,000,000.00" in page
    assert "not approved" in page and "Edited after approval." in page


def test_the_initiative_page_costs_the_same_queries_with_more_versions(login, owner, reviewer, approved):
    client = login(reviewer)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(approved.get_absolute_url()).status_code == 200
        return len(queries)

    few = count()
    for value in ("1", "2", "3"):
        services.business_case_save(actor=owner, initiative=approved, tco_storage=D(value))
    approve(approved, reviewer)
    assert count() == few


def test_an_ended_initiative_has_no_edit_button_and_its_edit_page_sends_back(login, owner, initiative):
    Initiative.objects.filter(pk=initiative.pk).update(stage=Stage.KILLED)
    client = login(owner)
    edit_url = reverse("portfolio:initiative_edit", args=[initiative.pk])
    page = client.get(initiative.get_absolute_url()).content.decode()
    assert edit_url not in page and "an ended initiative is read-only" in page
    for response in (client.get(edit_url), client.post(edit_url, {"name": "Zombie"})):
        assert response.status_code == 302 and response["Location"] == initiative.get_absolute_url()
    initiative.refresh_from_db()
    assert initiative.name != "Zombie"


def test_in_review_the_edit_page_shows_the_plan_locked(login, owner, initiative):
    BusinessCaseFactory(initiative=initiative)
    kpi = KPIFactory(initiative=initiative)
    Initiative.objects.filter(pk=initiative.pk).update(stage=Stage.IN_REVIEW)
    edit_url = reverse("portfolio:initiative_edit", args=[initiative.pk])
    client = login(owner)
    response = client.get(edit_url)
    page = response.content.decode()
    assert 'id="plan-locked-reason"' in page and "Withdraw it from review" in page
    assert response.context["case_form"].fields["expected_monthly_value"].disabled
    assert response.context["form"].fields["declared_monthly_cost"].disabled
    assert not response.context["form"].fields["name"].disabled
    # A forged post of the locked fields changes only what may change.
    initiative.refresh_from_db()
    data = _edit_data(initiative, name="Renamed in review", declared_monthly_cost="1", **{
        "bc-expected_monthly_value": "99999999", "kpis-0-target": "123456"})
    assert client.post(edit_url, data).status_code == 302
    initiative.refresh_from_db()
    kpi.refresh_from_db()
    assert initiative.name == "Renamed in review" and initiative.declared_monthly_cost == D("1200.00")
    assert initiative.business_case.expected_monthly_value != D("99999999") and kpi.target != D("123456")
