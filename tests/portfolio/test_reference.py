"""Reference data is unique whatever its letter case: departments, cost center codes, vendors and a provider's
models. The API and the Django admin refuse a second spelling naming the record that exists, the import finds that
record, the database holds the same rule, and the migration adding it stops on a database that already breaks it."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps
from django.db import IntegrityError, connection, transaction
from django.urls import reverse

from portfolio.models import AIModel, CostCenter, Department, Vendor
from portfolio.services.reference import (
    ai_model_get_or_create,
    cost_center_get_or_create,
    department_get_or_create,
    vendor_get_or_create,
)
from tests.factories import AIModelFactory, CostCenterFactory, DepartmentFactory, VendorFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_api(api_client, admin_user):
    api_client.force_authenticate(admin_user)
    return api_client


def test_the_api_refuses_a_department_differing_only_in_letter_case(admin_api):
    DepartmentFactory(name="Customer Service", code="customer-service")

    response = admin_api.post(reverse("api:department-list"), {"name": "customer service", "code": "cs-2"},
                              format="json")

    assert response.status_code == 400
    assert response.json() == {"name": [
        "The department “Customer Service” already exists: a name that differs only in letter case is the same "
        "department."]}
    assert Department.objects.filter(name__iexact="customer service").count() == 1


def test_the_api_refuses_a_cost_center_vendor_or_renamed_record_differing_only_in_letter_case(admin_api):
    CostCenterFactory(code="CC-4110", name="Customer care")
    VendorFactory(name="OpenAI")
    other = VendorFactory(name="Anthropic")

    cost_center = admin_api.post(reverse("api:costcenter-list"),
                                 {"code": "cc-4110", "name": "Care", "department": DepartmentFactory().pk},
                                 format="json")
    vendor = admin_api.post(reverse("api:vendor-list"), {"name": "openai"}, format="json")
    renamed = admin_api.patch(reverse("api:vendor-detail", args=[other.pk]), {"name": "OPENAI"}, format="json")

    assert cost_center.status_code == 400 and cost_center.json()["code"] == [
        "The cost center “CC-4110” already exists: a code that differs only in letter case is the same cost center."]
    for response in (vendor, renamed):
        assert response.status_code == 400 and response.json()["name"] == [
            "The vendor “OpenAI” already exists: a name that differs only in letter case is the same vendor."]
    assert not CostCenter.objects.filter(code="cc-4110").exists()
    assert sorted(Vendor.objects.values_list("name", flat=True)) == ["Anthropic", "OpenAI"]


def test_a_record_may_change_the_case_of_its_own_name(admin_api):
    vendor = VendorFactory(name="Openai")

    response = admin_api.patch(reverse("api:vendor-detail", args=[vendor.pk]), {"name": "OpenAI"}, format="json")

    assert response.status_code == 200
    vendor.refresh_from_db()
    assert vendor.name == "OpenAI"


def test_a_model_name_is_unique_per_provider_whatever_its_case(admin_api):
    amazon, elsewhere = VendorFactory(name="Amazon"), VendorFactory(name="Bedrock reseller")
    AIModelFactory(provider=amazon, name="amazon-nova-pro")

    same_provider = admin_api.post(reverse("api:aimodel-list"), {"provider": amazon.pk, "name": "AMAZON-NOVA-PRO"},
                                   format="json")
    other_provider = admin_api.post(reverse("api:aimodel-list"),
                                    {"provider": elsewhere.pk, "name": "AMAZON-NOVA-PRO"}, format="json")

    assert same_provider.status_code == 400 and same_provider.json() == {"name": [
        "The model “amazon-nova-pro” at Amazon already exists: a name that differs only in letter case is the same "
        "model."]}
    assert other_provider.status_code == 201
    assert AIModel.objects.filter(name__iexact="amazon-nova-pro").count() == 2


def test_the_django_admin_refuses_a_vendor_differing_only_in_letter_case(client, admin_user):
    VendorFactory(name="OpenAI")
    client.force_login(admin_user)

    response = client.post(reverse("admin:portfolio_vendor_add"), {"name": "openai", "website": "", "_save": "Save"})

    assert response.status_code == 200
    assert "The vendor “OpenAI” already exists" in response.content.decode()
    assert Vendor.objects.count() == 1


def test_the_import_finds_the_record_whatever_the_case_it_is_written_in():
    department = DepartmentFactory(name="Customer Service")
    vendor = VendorFactory(name="OpenAI")

    assert department_get_or_create(name="customer service") == department
    assert cost_center_get_or_create(code="cc-4110", department=department) == cost_center_get_or_create(
        code="CC-4110", department=department)
    assert vendor_get_or_create(name="OPENAI") == vendor
    assert ai_model_get_or_create(name="GPT-4O", provider=vendor) == ai_model_get_or_create(name="gpt-4o",
                                                                                            provider=vendor)
    assert (Department.objects.count(), CostCenter.objects.count(), Vendor.objects.count(),
            AIModel.objects.count()) == (1, 1, 1, 1)


def test_the_database_refuses_a_second_spelling_written_past_the_services():
    VendorFactory(name="OpenAI")

    with pytest.raises(IntegrityError), transaction.atomic():
        Vendor.objects.create(name="openai")


def test_the_migration_stops_naming_the_records_that_differ_only_in_case():
    migration = importlib.import_module("portfolio.migrations.0027_reference_names_unique_ignoring_case")
    with connection.cursor() as cursor:  # the database before the migration (rolled back with the test)
        cursor.execute('DROP INDEX "vendor_name_unique_ignoring_case"')  # an expression's unique index, on both
    first, second = VendorFactory(name="OpenAI"), Vendor.objects.create(name="openai")

    with pytest.raises(RuntimeError) as stopped:
        migration.refuse_case_duplicates(apps, None)

    message = str(stopped.value)
    assert f"vendor name: “OpenAI” (id {first.pk}), “openai” (id {second.pk})" in message
    assert "Nothing was changed." in message


def test_a_second_spelling_stored_by_another_request_meanwhile_is_a_400_not_a_500(admin_api, monkeypatch):
    """Two requests pass the check before either writes: the constraint refuses the second, which is told which
    record now holds the name, as if it had been there all along."""
    from portfolio.api import serializers

    checked = serializers.ensure_no_case_duplicate

    def check_then_lose_the_race(candidate):
        checked(candidate)  # nothing holds the name yet
        VendorFactory(name="OpenAI")  # the other request writes it now

    monkeypatch.setattr(serializers, "ensure_no_case_duplicate", check_then_lose_the_race)

    response = admin_api.post(reverse("api:vendor-list"), {"name": "openai"}, format="json")

    assert response.status_code == 400 and response.json() == {"name": [
        "The vendor “OpenAI” already exists: a name that differs only in letter case is the same vendor."]}
    assert list(Vendor.objects.values_list("name", flat=True)) == ["OpenAI"]


def test_the_django_admin_refuses_two_rows_of_one_form_differing_only_in_letter_case(client, admin_user):
    department = DepartmentFactory(name="Claims", code="claims")
    client.force_login(admin_user)
    rows = {"cost_centers-TOTAL_FORMS": "2", "cost_centers-INITIAL_FORMS": "0", "cost_centers-MIN_NUM_FORMS": "0",
            "cost_centers-MAX_NUM_FORMS": "1000"}
    for index, code in enumerate(("CC-7000", "cc-7000")):
        rows |= {f"cost_centers-{index}-code": code, f"cost_centers-{index}-name": f"Claims {index}",
                 f"cost_centers-{index}-department": str(department.pk)}

    response = client.post(reverse("admin:portfolio_department_change", args=[department.pk]),
                           {"name": "Claims", "code": "claims", **rows, "_save": "Save"})

    assert response.status_code == 200
    assert ("The cost center “CC-7000” is already in this form: a code that differs only in letter case is the same "
            "cost center.") in response.content.decode()
    assert not CostCenter.objects.exists()


def test_the_api_refuses_a_bad_department_code_as_the_page_does_naming_the_value(admin_api):
    response = admin_api.post(reverse("api:department-list"), {"name": "Customer Service", "code": "cs/team"},
                              format="json")
    assert response.status_code == 400
    assert response.json() == {"code": [
        "A department's code is a short identifier for imports and the API: letters, digits, hyphens and underscores "
        "only, e.g. cs; not “cs/team”."]}
    assert not Department.objects.exists()
    assert admin_api.post(reverse("api:department-list"), {"name": "Sales ops", "code": "sales_ops-2"},
                          format="json").status_code == 201
