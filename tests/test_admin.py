"""Django admin: every portfolio model is registered and its pages open for administrators only."""

import pytest
from django.apps import apps
from django.contrib import admin
from django.urls import reverse

from portfolio.choices import Stage
from portfolio.models import BusinessCase, Initiative, Vendor
from tests.factories import BusinessCaseFactory, KPIFactory, LicencePoolFactory

pytestmark = pytest.mark.django_db


def test_every_portfolio_model_is_in_the_admin():
    missing = [m.__name__ for m in apps.get_app_config("portfolio").get_models() if m not in admin.site._registry]
    assert not missing


@pytest.mark.parametrize("model", list(admin.site._registry), ids=lambda m: m._meta.label)
def test_admin_changelists_open_for_administrators(client, admin_user, initiative, model):
    BusinessCaseFactory(initiative=initiative)
    KPIFactory(initiative=initiative)
    LicencePoolFactory(initiative=initiative)
    client.force_login(admin_user)
    opts = model._meta
    assert client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")).status_code == 200
    first = model._default_manager.first()
    if first is not None:
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[first.pk])
        assert client.get(url).status_code == 200


def test_initiative_stage_is_read_only_in_the_admin(client, admin_user, initiative):
    client.force_login(admin_user)
    response = client.get(reverse("admin:portfolio_initiative_change", args=[initiative.pk]))
    assert 'name="stage"' not in response.content.decode()


@pytest.mark.parametrize("role_user", ["owner", "reviewer", "executive"])
def test_admin_is_closed_to_other_roles(client, request, role_user):
    client.force_login(request.getfixturevalue(role_user))
    response = client.get(reverse("admin:portfolio_initiative_changelist"))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_the_admin_writes_the_plan_through_the_services_and_their_locks(client, admin_user, initiative):
    case = BusinessCaseFactory(initiative=initiative)
    Initiative.objects.filter(pk=initiative.pk).update(stage=Stage.IN_REVIEW)
    client.force_login(admin_user)
    url = reverse("admin:portfolio_businesscase_change", args=[case.pk])
    form = client.get(url).context["adminform"].form
    data = {name: ("" if value is None else value) for name, value in form.initial.items() if name in form.fields}
    data["expected_monthly_value"] = "99999999"
    response = client.post(url, data)
    assert response.status_code == 200
    assert "cannot change while it is in review" in response.content.decode()
    assert BusinessCase.objects.get(pk=case.pk).expected_monthly_value != 99999999

    Initiative.objects.filter(pk=initiative.pk).update(stage=Stage.KILLED)
    response = client.post(reverse("admin:portfolio_kpi_add"), {
        "initiative": initiative.pk, "name": "Late KPI", "unit": "", "kind": "count", "baseline": "1", "target": "2",
        "direction": "increase", "value_per_unit": ""})
    assert response.status_code == 200 and "an ended initiative is read-only" in response.content.decode()
    assert not initiative.kpis.exists()
    page = client.get(reverse("admin:portfolio_initiative_change", args=[initiative.pk])).content.decode()
    assert 'name="external_id"' not in page  # the inventory's key, given once


def test_the_admin_registers_and_edits_initiatives_through_the_services(client, admin_user, owner, initiative):
    client.force_login(admin_user)
    page = client.get(reverse("admin:portfolio_initiative_add"))
    inlines = {}
    for formset in page.context["inline_admin_formsets"]:
        prefix = formset.formset.prefix
        inlines.update({f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"})
    data = {"external_id": "ADM-1", "name": "From the admin", "description": "", "category": "other",
            "department": initiative.department.pk, "cost_center": "", "owner": owner.pk, "start_date": "",
            "tags": "[]", "declared_monthly_cost": "10", **inlines}
    response = client.post(reverse("admin:portfolio_initiative_add"), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    created = Initiative.objects.get(external_id="ADM-1")
    assert (created.stage, created.owner, created.declared_monthly_cost) == (Stage.PROPOSED, owner, 10)

    Initiative.objects.filter(pk=created.pk).update(stage=Stage.REJECTED)
    change = client.post(reverse("admin:portfolio_initiative_change", args=[created.pk]),
                         {**data, "name": "Renamed after rejection"})
    assert change.status_code == 200 and "an ended initiative is read-only" in change.content.decode()
    assert Initiative.objects.get(pk=created.pk).name == "From the admin"
    Initiative.objects.filter(pk=created.pk).update(stage=Stage.PROPOSED)
    change = client.post(reverse("admin:portfolio_initiative_change", args=[created.pk]),
                         {**data, "name": "Renamed by the admin"})
    assert change.status_code == 302
    assert Initiative.objects.get(pk=created.pk).name == "Renamed by the admin"


def test_a_vendor_website_typed_without_a_scheme_is_taken_as_https(client, admin_user):
    client.force_login(admin_user)
    response = client.post(reverse("admin:portfolio_vendor_add"), {"name": "Acme AI", "website": "acme.example"})
    assert response.status_code == 302
    assert Vendor.objects.get(name="Acme AI").website == "https://acme.example"
