"""Forms of the initiative page: owner field, tags, the cost center of the department, searchable selects, service
arguments and KPI rows."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.staticfiles import finders

from portfolio.choices import Category, KpiDirection, KpiKind
from portfolio.forms import BusinessCaseForm, InitiativeForm, kpi_formset
from tests.factories import CostCenterFactory, DepartmentFactory, KPIFactory, VendorFactory

pytestmark = pytest.mark.django_db


def initiative_data(department, **overrides) -> dict:
    data = {
        "name": "Contract reviewer",
        "description": "",
        "category": Category.DOCUMENT_PROCESSING,
        "department": department.pk,
        "declared_monthly_cost": "250",
        "tags": "",
    }
    data.update(overrides)
    return data


def test_only_administrators_get_the_owner_field(owner, admin_user, reviewer):
    assert "owner" not in InitiativeForm(user=owner).fields
    assert "owner" not in InitiativeForm(user=reviewer).fields
    assert "owner" in InitiativeForm(user=admin_user).fields


def test_stage_is_not_editable(owner):
    assert "stage" not in InitiativeForm(user=owner).fields


def test_tags_are_split_trimmed_and_deduplicated(owner):
    form = InitiativeForm(initiative_data(DepartmentFactory(), tags=" gdpr, customer-facing ,, gdpr "), user=owner)
    assert form.is_valid(), form.errors
    assert form.cleaned_data["tags"] == ["customer-facing", "gdpr"]


def test_edit_form_shows_tags_as_text(owner, initiative):
    initiative.tags = ["a", "b"]
    form = InitiativeForm(instance=initiative, user=owner)
    assert form.initial["tags"] == "a, b"


def test_service_kwargs_leave_owner_out_when_not_picked(admin_user, owner):
    department = DepartmentFactory()
    cost_center = CostCenterFactory(department=department)
    vendor = VendorFactory()
    form = InitiativeForm(
        initiative_data(department, cost_center=cost_center.pk, vendors=[vendor.pk], owner=""), user=admin_user
    )
    assert form.is_valid(), form.errors
    kwargs = form.service_kwargs()
    assert "owner" not in kwargs
    assert kwargs["vendors"] == [vendor]
    assert kwargs["ai_models"] == [] and kwargs["delegates"] == []
    assert kwargs["declared_monthly_cost"] == Decimal("250")
    assert kwargs["cost_center"] == cost_center

    picked = InitiativeForm(initiative_data(department, owner=owner.pk), user=admin_user)
    assert picked.is_valid(), picked.errors
    assert picked.service_kwargs()["owner"] == owner


def test_cost_center_of_another_department_is_refused_on_the_field(owner):
    department, other = DepartmentFactory(name="Finance"), DepartmentFactory(name="Legal")
    theirs = CostCenterFactory(department=other, code="LEG-01", name="Legal ops")
    form = InitiativeForm(initiative_data(department, cost_center=theirs.pk), user=owner)
    assert not form.is_valid()
    assert form.errors["cost_center"] == [
        "Cost center LEG-01 (Legal ops) belongs to Legal, not to Finance: pick one of Finance's cost centers, or "
        "leave it empty."]
    ours = CostCenterFactory(department=department)
    assert InitiativeForm(initiative_data(department, cost_center=ours.pk), user=owner).is_valid()


def test_cost_center_options_name_their_department(owner):
    finance = CostCenterFactory()
    html = str(InitiativeForm(user=owner)["cost_center"])
    assert f'<option value="{finance.pk}" data-department="{finance.department_id}">' in html


def test_vendors_models_delegates_and_owner_are_searchable_selects_served_by_the_app(admin_user):
    form = InitiativeForm(user=admin_user)
    for name in ("vendors", "ai_models", "delegates", "owner"):
        assert "django-select2" in str(form[name]), name
    assert "Ctrl" not in " ".join(str(field.help_text) for field in form.fields.values())
    scripts = form.media._js
    assert scripts.index("admin/js/vendor/jquery/jquery.min.js") < scripts.index(
        "admin/js/vendor/select2/select2.full.min.js") < scripts.index("django_select2/django_select2.js")
    assert all(not path.startswith(("http:", "https:", "//")) for path in [*scripts, *form.media._css["screen"]])
    assert all(finders.find(path) for path in [*scripts, *form.media._css["screen"]])  # shipped in the packages


def test_negative_declared_cost_is_invalid(owner):
    form = InitiativeForm(initiative_data(DepartmentFactory(), declared_monthly_cost="-1"), user=owner)
    assert not form.is_valid()
    assert "declared_monthly_cost" in form.errors


def test_business_case_form_uses_bc_prefix_and_rejects_negative_costs():
    form = BusinessCaseForm({"bc-tco_inference": "-5"})
    assert form.prefix == "bc"
    assert not form.is_valid()
    assert "tco_inference" in form.errors


def _management(total: int, initial: int) -> dict:
    return {"kpis-TOTAL_FORMS": str(total), "kpis-INITIAL_FORMS": str(initial), "kpis-MIN_NUM_FORMS": "0",
            "kpis-MAX_NUM_FORMS": "1000"}


def test_new_kpi_formset_has_two_blank_rows():
    formset = kpi_formset(initiative=None)
    assert formset.prefix == "kpis"
    assert len(formset.forms) == 2


def test_kpi_rows_keep_ids_drop_deleted_and_skip_blank_extras(initiative):
    keep = KPIFactory(initiative=initiative, name="Keep")
    drop = KPIFactory(initiative=initiative, name="Drop")
    data = {
        **_management(total=4, initial=2),
        "kpis-0-id": str(keep.pk), "kpis-0-name": "Keep renamed", "kpis-0-direction": KpiDirection.DECREASE,
        "kpis-0-kind": KpiKind.PER_OUTCOME,
        "kpis-1-id": str(drop.pk), "kpis-1-name": "Drop", "kpis-1-direction": KpiDirection.DECREASE,
        "kpis-1-kind": KpiKind.COUNT,
        "kpis-1-DELETE": "on",
        "kpis-2-name": "New one", "kpis-2-direction": KpiDirection.INCREASE, "kpis-2-target": "10",
        "kpis-2-kind": KpiKind.RATIO,
        "kpis-3-name": "", "kpis-3-direction": KpiDirection.INCREASE, "kpis-3-kind": KpiKind.COUNT,
    }
    formset = kpi_formset(initiative=initiative, data=data)
    assert formset.is_valid(), formset.errors

    rows = formset.service_rows()

    assert [(r["id"], r["name"], r["kind"]) for r in rows] == [
        (keep.pk, "Keep renamed", KpiKind.PER_OUTCOME), (None, "New one", KpiKind.RATIO)]
    assert rows[1]["target"] == Decimal("10")


def test_kpi_of_another_initiative_is_never_addressed_by_id(initiative, other_initiative):
    """A forged id of someone else's KPI is not in the formset's queryset: the row can only become a new KPI."""
    foreign = KPIFactory(initiative=other_initiative)
    data = {**_management(total=1, initial=1), "kpis-0-id": str(foreign.pk), "kpis-0-name": "Stolen",
            "kpis-0-direction": KpiDirection.INCREASE, "kpis-0-kind": KpiKind.COUNT}
    formset = kpi_formset(initiative=initiative, data=data)
    assert formset.is_valid(), formset.errors
    assert [r["id"] for r in formset.service_rows()] == [None]


def test_three_kpis_and_a_removed_new_row(initiative):
    """Rows added on the page are ordinary extra forms; one added then removed carries DELETE and is left out."""
    row = {"direction": KpiDirection.INCREASE, "kind": KpiKind.COUNT, "target": "10"}
    data = {**_management(total=4, initial=0)}
    for n, name in enumerate(["Tickets deflected", "Handle time", "CSAT", "Changed my mind"]):
        data.update({f"kpis-{n}-{key}": value for key, value in {**row, "name": name}.items()})
    data["kpis-3-DELETE"] = "on"
    formset = kpi_formset(initiative=initiative, data=data)
    assert formset.is_valid(), formset.errors
    assert [r["name"] for r in formset.service_rows()] == ["Tickets deflected", "Handle time", "CSAT"]


KPI_LIMIT = "A KPI figure is between -99,999,999,999.9999 and 99,999,999,999.9999 (11 digits before the point)."


@pytest.mark.parametrize("figure", ["9999999999999999", "999999999999", "1e16", "-9999999999999999", "1e30"])
def test_a_kpi_figure_past_its_limit_is_refused_in_one_sentence_naming_the_real_limit(figure):
    """The column's own digit checks (12 before the point, 16 in all) said another limit than the one enforced."""
    from portfolio.forms import KPIForm

    form = KPIForm(data={"name": "Tickets", "kind": KpiKind.COUNT, "direction": KpiDirection.INCREASE,
                         "baseline": figure, "target": "1"})
    assert not form.is_valid()
    assert form.errors["baseline"] == [KPI_LIMIT]
