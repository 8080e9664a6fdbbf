"""The plan's locks in the services every door calls: in review the business case, KPIs and declared monthly cost are
locked; an ended initiative is read-only. Pages, API, admin and import get the same refusals (tested at each door)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from portfolio import services
from portfolio.choices import ENDED_STAGES, Stage
from portfolio.models import KPI, BusinessCase, Initiative
from tests.factories import BusinessCaseFactory, KPIFactory, VendorFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def planned(initiative):
    """The owner's initiative with a business case and one KPI."""
    BusinessCaseFactory(initiative=initiative)
    KPIFactory(initiative=initiative)
    return initiative


def at_stage(initiative: Initiative, stage: str) -> Initiative:
    Initiative.objects.filter(pk=initiative.pk).update(stage=stage)
    initiative.refresh_from_db()
    return initiative


# In review -----------------------------------------------------------------------------------------------------------


def test_in_review_the_business_case_is_locked(owner, planned):
    at_stage(planned, Stage.IN_REVIEW)
    with pytest.raises(ValidationError, match="cannot change while it is in review.*Withdraw it from review"):
        services.business_case_save(actor=owner, initiative=planned,
                                    expected_monthly_value=Decimal("4800000.00"))
    assert BusinessCase.objects.get(initiative=planned).expected_monthly_value != Decimal("4800000.00")


def test_in_review_a_business_case_cannot_be_written_or_deleted(owner, admin_user, initiative):
    at_stage(initiative, Stage.IN_REVIEW)
    with pytest.raises(ValidationError, match="in review"):
        services.business_case_save(actor=owner, initiative=initiative, problem="Late")
    assert not BusinessCase.objects.filter(initiative=initiative).exists()
    case = BusinessCaseFactory(initiative=initiative)
    with pytest.raises(ValidationError, match="in review"):
        services.business_case_delete(actor=admin_user, case=case)
    assert BusinessCase.objects.filter(pk=case.pk).exists()


def test_in_review_kpis_cannot_be_added_changed_or_deleted(owner, planned):
    at_stage(planned, Stage.IN_REVIEW)
    kpi = planned.kpis.get()
    attempts = {
        "add": [{"id": kpi.pk}, {"name": "New", "baseline": Decimal("1"), "target": Decimal("2")}],
        "change": [{"id": kpi.pk, "target": Decimal("99999")}],
        "delete": [],
    }
    for rows in attempts.values():
        with pytest.raises(ValidationError, match="The KPIs of .* cannot change while it is in review"):
            services.kpis_replace(actor=owner, initiative=planned, kpis=rows)
    with pytest.raises(ValidationError, match="in review"):
        services.kpi_save(actor=owner, initiative=planned, kpi=kpi, baseline=Decimal("0"))
    with pytest.raises(ValidationError, match="in review"):
        services.kpi_delete(actor=owner, kpi=kpi)
    assert list(planned.kpis.values_list("pk", "target")) == [(kpi.pk, kpi.target)]


def test_in_review_the_declared_cost_is_locked_but_the_name_is_not(owner, planned):
    at_stage(planned, Stage.IN_REVIEW)
    with pytest.raises(ValidationError) as refusal:
        services.initiative_update(actor=owner, initiative=planned, declared_monthly_cost=Decimal("12"))
    assert "in review" in refusal.value.message_dict["declared_monthly_cost"][0]
    services.initiative_update(actor=owner, initiative=planned, name="Renamed while in review")
    planned.refresh_from_db()
    assert planned.name == "Renamed while in review" and planned.declared_monthly_cost == Decimal("1200.00")


def test_in_review_saving_the_plan_unchanged_is_not_a_change(owner, planned):
    """The edit page posts every field: an unchanged plan writes nothing and is not refused."""
    at_stage(planned, Stage.IN_REVIEW)
    case = BusinessCase.objects.get(initiative=planned)
    services.business_case_save(actor=owner, initiative=planned, problem=case.problem, tco_inference=case.tco_inference)
    services.kpis_replace(actor=owner, initiative=planned, kpis=[{"id": k.pk} for k in planned.kpis.all()])
    services.initiative_update(actor=owner, initiative=planned, declared_monthly_cost=planned.declared_monthly_cost)


@pytest.mark.parametrize("stage", [Stage.PROPOSED, Stage.CHANGES_REQUESTED, Stage.APPROVED, Stage.PILOT])
def test_outside_review_and_ending_the_plan_can_change(owner, planned, stage):
    at_stage(planned, stage)
    services.business_case_save(actor=owner, initiative=planned, problem="Sharper")
    services.kpis_replace(actor=owner, initiative=planned, kpis=[{"name": "Only KPI"}])
    services.initiative_update(actor=owner, initiative=planned, declared_monthly_cost=Decimal("900"))
    assert BusinessCase.objects.get(initiative=planned).problem == "Sharper"
    assert list(planned.kpis.values_list("name", flat=True)) == ["Only KPI"]


# Ended ---------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("stage", ENDED_STAGES)
def test_an_ended_initiative_is_read_only(owner, admin_user, planned, stage):
    at_stage(planned, stage)
    label = Stage(stage).label.lower()
    edits = [
        lambda: services.initiative_update(actor=owner, initiative=planned, name="Back from the dead"),
        lambda: services.initiative_update(actor=admin_user, initiative=planned, vendors=[VendorFactory()]),
        lambda: services.business_case_save(actor=owner, initiative=planned, problem="Again"),
        lambda: services.kpis_replace(actor=owner, initiative=planned, kpis=[]),
        lambda: services.kpi_save(actor=owner, initiative=planned, name="New KPI"),
        lambda: services.business_case_delete(actor=admin_user, case=planned.business_case),
    ]
    for edit in edits:
        with pytest.raises(ValidationError, match=f"is {label}: an ended initiative is read-only"):
            edit()
    planned.refresh_from_db()
    assert planned.name != "Back from the dead" and not planned.vendors.exists()
    assert BusinessCase.objects.get(initiative=planned).problem != "Again"
    assert KPI.objects.filter(initiative=planned).count() == 1


def test_an_ended_initiative_saved_unchanged_is_not_refused(owner, planned):
    """Re-loading the demo (or re-posting a page) with nothing changed writes nothing and refuses nothing."""
    at_stage(planned, Stage.KILLED)
    services.initiative_update(actor=owner, initiative=planned, name=planned.name, tags=list(planned.tags))
    services.business_case_save(actor=owner, initiative=planned, problem=planned.business_case.problem)
    services.kpis_replace(actor=owner, initiative=planned, kpis=[{"id": k.pk} for k in planned.kpis.all()])


def test_the_lock_reads_the_stored_stage_not_the_callers_copy(owner, planned):
    """A stale instance (loaded before a submit) does not get round the lock."""
    stale = Initiative.objects.get(pk=planned.pk)
    at_stage(planned, Stage.IN_REVIEW)
    assert stale.stage == Stage.PROPOSED
    with pytest.raises(ValidationError, match="in review"):
        services.business_case_save(actor=owner, initiative=stale, problem="Sneaky")
