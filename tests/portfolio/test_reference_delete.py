"""Deleting reference data through the API: through reference_delete, audited under its own event, refused (409,
naming what uses it) while anything does, and only by administrators."""

from __future__ import annotations

import pytest
from auditlog.models import LogEntry
from django.urls import reverse

from portfolio.models import AIModel, CostCenter, Department, Vendor
from tests.factories import (
    AIModelFactory,
    CostCenterFactory,
    DepartmentFactory,
    InitiativeFactory,
    LicencePoolFactory,
    VendorFactory,
)

pytestmark = pytest.mark.django_db



CASES = [
    ("vendor", VendorFactory, Vendor, "vendor_deleted"),
    ("aimodel", AIModelFactory, AIModel, "ai_model_deleted"),
    ("department", DepartmentFactory, Department, "department_deleted"),
    ("costcenter", CostCenterFactory, CostCenter, "cost_center_deleted"),
]


@pytest.mark.parametrize(("basename", "factory", "model", "event"), CASES)
def test_an_unused_record_is_deleted_and_audited(as_user, admin_user, basename, factory, model, event):
    record = factory()
    response = as_user(admin_user).delete(reverse(f"api:{basename}-detail", args=[record.pk]))
    assert response.status_code == 204
    assert not model.objects.filter(pk=record.pk).exists()
    entries = LogEntry.objects.filter(object_pk=str(record.pk), content_type__model=basename,
                                      action=LogEntry.Action.DELETE)
    assert [(e.additional_data["event"], e.action, e.actor) for e in entries] == [
        (event, LogEntry.Action.DELETE, admin_user)]


@pytest.mark.parametrize(("basename", "factory", "model", "event"), CASES)
def test_others_may_not_delete(as_user, owner, reviewer, executive, basename, factory, model, event):
    record = factory()
    for user in (owner, reviewer, executive):
        assert as_user(user).delete(reverse(f"api:{basename}-detail", args=[record.pk])).status_code == 403
    assert model.objects.filter(pk=record.pk).exists()
    assert not LogEntry.objects.filter(additional_data__event=event).exists()


def test_a_vendor_named_by_initiatives_is_refused_naming_them(as_user, admin_user):
    vendor = VendorFactory(name="Acme AI")
    initiative = InitiativeFactory(name="Claims triage")
    initiative.vendors.add(vendor)
    pool = LicencePoolFactory(vendor=vendor, tool="Acme Chat")
    response = as_user(admin_user).delete(reverse("api:vendor-detail", args=[vendor.pk]))
    assert response.status_code == 409
    detail = response.json()["detail"]
    assert "“Acme AI” cannot be deleted" in detail
    assert f"1 initiative ({initiative})" in detail and f"1 licence pool ({pool})" in detail
    assert initiative.vendors.filter(pk=vendor.pk).exists()
    assert not LogEntry.objects.filter(additional_data__event="vendor_deleted").exists()


def test_a_model_in_use_is_refused(as_user, admin_user):
    model = AIModelFactory()
    InitiativeFactory().ai_models.add(model)
    cheaper_for = AIModelFactory(provider=model.provider, substitute=None)
    AIModel.objects.filter(pk=cheaper_for.pk).update(substitute=model)
    response = as_user(admin_user).delete(reverse("api:aimodel-detail", args=[model.pk]))
    assert response.status_code == 409
    assert "1 initiative (" in response.json()["detail"]
    assert "1 model naming it as its substitute" in response.json()["detail"]
    assert AIModel.objects.filter(pk=model.pk).exists()


def test_a_cost_center_of_initiatives_is_refused(as_user, admin_user):
    initiative = InitiativeFactory()
    cost_center = CostCenterFactory(department=initiative.department)
    initiative.cost_center = cost_center
    initiative.save()
    response = as_user(admin_user).delete(reverse("api:costcenter-detail", args=[cost_center.pk]))
    assert response.status_code == 409 and str(initiative) in response.json()["detail"]


def test_an_initiative_is_deleted_through_its_service_audited_once_with_what_went_with_it(
        client, as_user, owner, admin_user, initiative):
    """The API and the Django admin delete an initiative through initiative_delete: one explicit row naming it and
    what went with it, not a row of field history per business case, KPI or pool deleted with it."""
    from portfolio.models import BusinessCase, Initiative
    from tests.factories import BusinessCaseFactory, KPIFactory

    BusinessCaseFactory(initiative=initiative)
    KPIFactory(initiative=initiative)
    KPIFactory(initiative=initiative)
    url = reverse("api:initiative-detail", args=[initiative.pk])
    assert as_user(owner).delete(url).status_code == 403 and Initiative.objects.filter(pk=initiative.pk).exists()
    before = LogEntry.objects.count()
    assert as_user(admin_user).delete(url).status_code == 204
    assert not Initiative.objects.filter(pk=initiative.pk).exists() and not BusinessCase.objects.exists()
    entry = LogEntry.objects.get(additional_data__event="initiative_deleted")
    assert LogEntry.objects.count() == before + 1 and entry.actor == admin_user
    assert entry.action == LogEntry.Action.DELETE and entry.changes_dict["external_id"] == [initiative.external_id,
                                                                                           None]
    assert entry.additional_data["reason"].startswith("Deleted with it: ")
    assert "1 business case" in entry.additional_data["reason"] and "2 KPIs" in entry.additional_data["reason"]
    # The Django admin, the same way.
    other = InitiativeFactory(name="Typo entry")
    client.force_login(admin_user)
    response = client.post(reverse("admin:portfolio_initiative_delete", args=[other.pk]), {"post": "yes"})
    assert response.status_code == 302 and not Initiative.objects.filter(pk=other.pk).exists()
    row = LogEntry.objects.filter(additional_data__event="initiative_deleted").latest("pk")
    assert row.actor == admin_user and row.object_repr == str(other)
