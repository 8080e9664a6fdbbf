"""Departments and cost centers are added and edited on their pages by administrators, through the same services as
the API (portfolio.services.reference), each change audited; a new install's initiative form says where departments
come from."""

from __future__ import annotations

import pytest
from auditlog.models import LogEntry
from django.urls import reverse

from portfolio.models import CostCenter, Department
from tests.factories import CostCenterFactory, DepartmentFactory

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
