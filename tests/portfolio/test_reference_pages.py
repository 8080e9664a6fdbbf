"""Departments, cost centers, vendors and models are added and edited on their pages by administrators, through the
same services as the API (portfolio.services.reference), each change audited; a new install's initiative form says
where departments come from."""

from __future__ import annotations

from decimal import Decimal

import pytest
from auditlog.models import LogEntry
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from portfolio.choices import ModelTier
from portfolio.models import AIModel, CostCenter, Department, Vendor
from portfolio.services.reference import ai_model_save, vendor_save
from tests.factories import AIModelFactory, CostCenterFactory, DepartmentFactory, LicencePoolFactory, VendorFactory

pytestmark = pytest.mark.django_db


def test_an_administrator_adds_a_department_from_the_list_and_it_is_audited(login, admin_user):
    client = login(admin_user)
    listing = client.get(reverse("portfolio:department_list")).content.decode()
    assert reverse("portfolio:department_create") in listing and "Add department" in listing

    response = client.post(reverse("portfolio:department_create"),
                           {"name": " Customer Service ", "code": "cs", "head": admin_user.pk})

    department = Department.objects.get()
    assert response.status_code == 302 and response.url == department.get_absolute_url()
    assert (department.name, department.code, department.head) == ("Customer Service", "cs", admin_user)
    entry = LogEntry.objects.get_for_object(department).get()
    assert entry.action == LogEntry.Action.CREATE and entry.actor == admin_user


def test_a_department_differing_only_in_case_is_refused_on_the_page_and_nothing_is_written(login, admin_user):
    DepartmentFactory(name="Customer Service", code="customer-service")
    response = login(admin_user).post(reverse("portfolio:department_create"),
                                      {"name": "customer service", "code": "cs-2"})
    assert response.status_code == 200
    content = response.content.decode()
    assert "Nothing was saved" in content and "already exists" in content
    # On the name field, naming the department (the service's message), not the constraint's form-wide sentence.
    assert "The department “Customer Service” already exists" in response.context["form"].errors["name"][0]
    assert Department.objects.count() == 1


def test_an_administrator_edits_a_department(login, admin_user):
    department = DepartmentFactory(name="Finance", code="fin")
    client = login(admin_user)
    assert reverse("portfolio:department_edit", args=[department.pk]) in client.get(
        department.get_absolute_url()).content.decode()
    response = client.post(reverse("portfolio:department_edit", args=[department.pk]),
                           {"name": "Finance & Control", "code": "fin"})
    department.refresh_from_db()
    assert response.status_code == 302 and department.name == "Finance & Control"
    assert LogEntry.objects.get_for_object(department).filter(action=LogEntry.Action.UPDATE, actor=admin_user).exists()


def test_an_administrator_adds_and_edits_a_cost_center(login, admin_user):
    department = DepartmentFactory()
    client = login(admin_user)
    assert reverse("portfolio:costcenter_create") in client.get(reverse("portfolio:costcenter_list")).content.decode()
    client.post(reverse("portfolio:costcenter_create"),
                {"code": "CC-FIN-200", "name": "Finance ops", "department": department.pk})
    cost_center = CostCenter.objects.get()
    assert (cost_center.code, cost_center.department) == ("CC-FIN-200", department)
    response = client.post(reverse("portfolio:costcenter_edit", args=[cost_center.pk]),
                           {"code": "CC-FIN-200", "name": "Finance operations", "department": department.pk,
                            "budget_owner": admin_user.pk})
    cost_center.refresh_from_db()
    assert response.status_code == 302
    assert (cost_center.name, cost_center.budget_owner) == ("Finance operations", admin_user)
    assert LogEntry.objects.get_for_object(cost_center).filter(actor=admin_user).count() == 2


def test_a_cost_center_code_differing_only_in_case_is_refused(login, admin_user):
    existing = CostCenterFactory(code="CC-FIN-200")
    response = login(admin_user).post(reverse("portfolio:costcenter_create"),
                                      {"code": "cc-fin-200", "name": "Dup", "department": existing.department.pk})
    assert response.status_code == 200 and "already exists" in response.content.decode()
    assert CostCenter.objects.count() == 1


def test_others_see_no_add_or_edit_button(login, executive):
    department = DepartmentFactory()
    cost_center = CostCenterFactory(department=department)
    client = login(executive)
    assert "Add department" not in client.get(reverse("portfolio:department_list")).content.decode()
    assert "Add cost center" not in client.get(reverse("portfolio:costcenter_list")).content.decode()
    assert 'id="edit-department"' not in client.get(department.get_absolute_url()).content.decode()
    assert 'id="edit-cost-center"' not in client.get(cost_center.get_absolute_url()).content.decode()


def test_the_api_writes_through_the_service_audited_under_the_caller(api_client, admin_user):
    api_client.force_authenticate(admin_user)
    response = api_client.post(reverse("api:department-list"), {"name": " Legal ", "code": "legal"}, format="json")
    assert response.status_code == 201
    department = Department.objects.get()
    assert department.name == "Legal"  # the service strips the name, as the page does
    response = api_client.patch(reverse("api:department-detail", args=[department.pk]), {"name": "Legal & Risk"},
                                format="json")
    assert response.status_code == 200 and response.json()["code"] == "legal"
    assert LogEntry.objects.get_for_object(department).filter(actor=admin_user).count() == 2
    response = api_client.post(reverse("api:costcenter-list"),
                               {"code": "CC-LEG-1", "name": "Legal", "department": department.pk}, format="json")
    assert response.status_code == 201 and CostCenter.objects.get().department == department


def test_the_initiative_form_says_where_departments_come_from(login, admin_user, owner):
    url = reverse("portfolio:initiative_create")
    page = login(admin_user).get(url).content.decode()
    assert "No departments yet: an administrator adds them on the" in page
    assert reverse("portfolio:department_create") in page and reverse("portfolio:import_create") in page
    page = login(owner).get(url).content.decode()
    assert "No departments yet" in page and reverse("portfolio:department_create") not in page
    DepartmentFactory()
    assert "No departments yet" not in login(owner).get(url).content.decode()


# Vendors and the model catalogue ------------------------------------------------------------------------------------


def test_an_administrator_adds_a_vendor_from_the_list_and_it_is_audited(login, admin_user):
    client = login(admin_user)
    listing = client.get(reverse("portfolio:vendor_list")).content.decode()
    assert reverse("portfolio:vendor_create") in listing and "Add vendor" in listing
    assert "an administrator adds one here with “Add vendor”" in listing  # the empty state

    response = client.post(reverse("portfolio:vendor_create"), {"name": " Mistral AI ", "website": "mistral.ai"})

    vendor = Vendor.objects.get()
    assert (vendor.name, vendor.website) == ("Mistral AI", "https://mistral.ai")
    assert response.status_code == 302 and response.url == f"{reverse('portfolio:vendor_list')}?q=Mistral+AI"
    entry = LogEntry.objects.get_for_object(vendor).get()
    assert entry.action == LogEntry.Action.CREATE and entry.actor == admin_user
    listing = client.get(response.url).content.decode()
    assert reverse("portfolio:vendor_edit", args=[vendor.pk]) in listing


def test_a_vendor_differing_only_in_case_or_with_a_bad_website_is_refused_naming_the_field(login, admin_user):
    VendorFactory(name="OpenAI")
    client = login(admin_user)

    duplicate = client.post(reverse("portfolio:vendor_create"), {"name": "openai"})
    bad_site = client.post(reverse("portfolio:vendor_create"), {"name": "Cohere", "website": "not a url"})
    no_name = client.post(reverse("portfolio:vendor_create"), {"name": "  "})

    assert duplicate.status_code == 200 and "The vendor “OpenAI” already exists" in duplicate.content.decode()
    assert duplicate.context["form"].errors["name"]
    assert bad_site.context["form"].errors["website"] == ["Enter a valid URL."]
    assert no_name.context["form"].errors["name"] == ["This field is required."]
    for response in (duplicate, bad_site, no_name):
        assert "Nothing was saved" in response.content.decode()
    assert list(Vendor.objects.values_list("name", flat=True)) == ["OpenAI"]
    assert not LogEntry.objects.filter(actor=admin_user).exists()


def test_an_administrator_edits_a_vendor(login, admin_user):
    vendor = VendorFactory(name="Open AI")
    response = login(admin_user).post(reverse("portfolio:vendor_edit", args=[vendor.pk]),
                                      {"name": "OpenAI", "website": "https://openai.com"})
    vendor.refresh_from_db()
    assert response.status_code == 302 and (vendor.name, vendor.website) == ("OpenAI", "https://openai.com")
    entry = LogEntry.objects.get_for_object(vendor).get(action=LogEntry.Action.UPDATE)
    assert entry.actor == admin_user and entry.changes_dict["name"] == ["Open AI", "OpenAI"]


def test_an_administrator_adds_a_model_with_its_prices_and_substitute(login, admin_user):
    vendor = VendorFactory(name="OpenAI")
    mini = AIModelFactory(provider=vendor, name="gpt-4o-mini", tier=ModelTier.SMALL)
    client = login(admin_user)
    listing = client.get(reverse("portfolio:aimodel_list")).content.decode()
    assert reverse("portfolio:aimodel_create") in listing and "Add model" in listing

    response = client.post(reverse("portfolio:aimodel_create"), {
        "provider": vendor.pk, "name": "gpt-4o", "tier": ModelTier.FRONTIER, "input_price_per_mtok": "2.50",
        "output_price_per_mtok": "10", "open_weights": "", "context_window": "128000", "substitute": mini.pk})

    model = AIModel.objects.get(name="gpt-4o")
    assert response.status_code == 302
    assert (model.provider, model.tier, model.input_price_per_mtok, model.output_price_per_mtok,
            model.context_window, model.substitute) == (vendor, ModelTier.FRONTIER, Decimal("2.5"), Decimal("10"),
                                                        128000, mini)
    created = LogEntry.objects.get_for_object(model).get(action=LogEntry.Action.CREATE)
    assert created.actor == admin_user
    substitute = LogEntry.objects.get_for_object(model).get(additional_data__event="ai_model_substitute_set")
    assert substitute.actor == admin_user and substitute.changes_dict["substitute"] == [None, "gpt-4o-mini"]
    assert reverse("portfolio:aimodel_edit", args=[model.pk]) in client.get(response.url).content.decode()


def test_a_model_with_a_bad_price_a_duplicate_name_or_a_substitute_not_cheaper_is_refused(login, admin_user):
    vendor = VendorFactory(name="OpenAI")
    model = AIModelFactory(provider=vendor, name="gpt-4o", tier=ModelTier.FRONTIER)
    other = AIModelFactory(provider=vendor, name="o3", tier=ModelTier.FRONTIER)
    client = login(admin_user)
    body = {"provider": vendor.pk, "name": "gpt-4o", "tier": ModelTier.FRONTIER, "input_price_per_mtok": "2.50"}

    negative = client.post(reverse("portfolio:aimodel_edit", args=[model.pk]), {**body, "input_price_per_mtok": "-1"})
    duplicate = client.post(reverse("portfolio:aimodel_create"), {**body, "name": "GPT-4o"})
    not_cheaper = client.post(reverse("portfolio:aimodel_edit", args=[model.pk]), {**body, "substitute": other.pk})

    assert "input_price_per_mtok" in negative.context["form"].errors
    assert "The model “gpt-4o” at OpenAI already exists" in str(duplicate.context["form"].errors["name"])
    assert "o3:" in str(not_cheaper.context["form"].errors["substitute"])
    for response in (negative, duplicate, not_cheaper):
        assert response.status_code == 200 and "Nothing was saved" in response.content.decode()
    model.refresh_from_db()
    assert (model.input_price_per_mtok, model.substitute) == (Decimal("1.00"), None)
    assert AIModel.objects.count() == 2 and not LogEntry.objects.filter(actor=admin_user).exists()


def test_a_tier_and_substitute_changed_together_are_checked_together(admin_user):
    """A frontier model given a mid substitute while it becomes mid itself is refused (the substitute is judged
    against the new tier), and nothing of the change is written."""
    vendor = VendorFactory()
    model = AIModelFactory(provider=vendor, name="big", tier=ModelTier.FRONTIER)
    mid = AIModelFactory(provider=vendor, name="mid", tier=ModelTier.MID)
    with pytest.raises(ValidationError) as refused:
        ai_model_save(actor=admin_user, model=model, provider=vendor, name="big", tier=ModelTier.MID, substitute=mid)
    assert "substitute" in refused.value.message_dict
    model.refresh_from_db()
    assert (model.tier, model.substitute) == (ModelTier.FRONTIER, None)


def test_only_administrators_write_vendors_and_models_through_the_services(owner):
    vendor = VendorFactory()
    with pytest.raises(PermissionDenied):
        vendor_save(actor=owner, name="Anthropic")
    with pytest.raises(PermissionDenied):
        ai_model_save(actor=owner, provider=vendor, name="claude", tier=ModelTier.FRONTIER)
    assert not AIModel.objects.exists() and Vendor.objects.count() == 1


def test_others_see_no_add_button_nor_edit_links_on_the_catalogue(login, executive):
    pool = LicencePoolFactory()
    model = AIModelFactory(provider=pool.vendor)
    client = login(executive)
    for url, add, edit in (
        ("portfolio:vendor_list", "Add vendor", reverse("portfolio:vendor_edit", args=[pool.vendor.pk])),
        ("portfolio:aimodel_list", "Add model", reverse("portfolio:aimodel_edit", args=[model.pk])),
        ("portfolio:licencepool_list", "Add licence pool", reverse("portfolio:licencepool_edit", args=[pool.pk])),
    ):
        page = client.get(reverse(url)).content.decode()
        assert add not in page and edit not in page


def test_the_catalogue_lists_keep_their_csv_without_the_edit_column(login, admin_user):
    AIModelFactory(name="gpt-4o")
    csv = login(admin_user).get(reverse("portfolio:aimodel_list"), {"_export": "csv", "q": "gpt"}).content.decode()
    assert csv.splitlines()[0].startswith("Provider,Name,Tier") and "Edit" not in csv and "gpt-4o" in csv


def test_the_api_writes_vendors_and_models_through_the_services_audited(api_client, admin_user):
    api_client.force_authenticate(admin_user)
    response = api_client.post(reverse("api:vendor-list"), {"name": " Anthropic "}, format="json")
    assert response.status_code == 201
    vendor = Vendor.objects.get()
    assert vendor.name == "Anthropic"  # stripped by the service, as on the page
    response = api_client.patch(reverse("api:vendor-detail", args=[vendor.pk]), {"website": "https://anthropic.com"},
                                format="json")
    assert response.status_code == 200 and response.json()["name"] == "Anthropic"
    assert LogEntry.objects.get_for_object(vendor).filter(actor=admin_user).count() == 2

    small = AIModelFactory(provider=vendor, name="haiku", tier=ModelTier.SMALL)
    response = api_client.post(reverse("api:aimodel-list"), {"provider": vendor.pk, "name": " opus ",
                                                             "tier": "frontier"}, format="json")
    assert response.status_code == 201
    model = AIModel.objects.get(name="opus")
    response = api_client.patch(reverse("api:aimodel-detail", args=[model.pk]), {"substitute": small.pk},
                                format="json")
    assert response.status_code == 200 and response.json()["tier"] == "frontier"
    assert LogEntry.objects.get_for_object(model).filter(additional_data__event="ai_model_substitute_set",
                                                         actor=admin_user).exists()


def test_the_catalogue_forms_read_in_constant_queries(login, admin_user):
    model = AIModelFactory(tier=ModelTier.FRONTIER)
    client = login(admin_user)
    urls = [reverse("portfolio:vendor_create"), reverse("portfolio:vendor_edit", args=[model.provider.pk]),
            reverse("portfolio:aimodel_create"), reverse("portfolio:aimodel_edit", args=[model.pk])]
    client.get(urls[0])  # the caller's roles are read once, then remembered
    with CaptureQueriesContext(connection) as few:
        for url in urls:
            assert client.get(url).status_code == 200
    for n in range(5):  # more models, each of its own provider: the substitute list names them all
        AIModelFactory(name=f"small-{n}", tier=ModelTier.SMALL)
    with CaptureQueriesContext(connection) as more:
        for url in urls:
            assert client.get(url).status_code == 200
    assert len(more) == len(few)


def test_a_bad_department_code_is_refused_in_the_words_of_its_help_naming_the_value(login, admin_user):
    client = login(admin_user)
    page = client.get(reverse("portfolio:department_create")).content.decode()
    assert "A short identifier for imports and the API: letters, digits, hyphens and underscores, e.g. cs." in page
    response = client.post(reverse("portfolio:department_create"), {"name": "Customer Service", "code": "cs team"})
    assert response.status_code == 200
    assert response.context["form"].errors["code"] == [
        "A department's code is a short identifier for imports and the API: letters, digits, hyphens and underscores "
        "only, e.g. cs; not “cs team”."]
    assert "slug" not in response.content.decode().lower().replace("department_create", "")
    assert not Department.objects.exists()
