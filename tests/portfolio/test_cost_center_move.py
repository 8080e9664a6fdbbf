"""Moving a cost center to another department: an initiative's cost center is one of its department's, so a cost
center that initiatives are billed to moves only with them (portfolio.services.reference.cost_center_save)."""

from __future__ import annotations

import pytest
from auditlog.models import LogEntry
from django.core.exceptions import ValidationError
from django.urls import reverse

from portfolio.choices import Stage
from portfolio.models import CostCenter, Initiative
from portfolio.services import cost_center_save
from tests.factories import CostCenterFactory, DepartmentFactory, InitiativeFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def finance():
    return DepartmentFactory(name="Finance", code="fin")


@pytest.fixture
def sales():
    return DepartmentFactory(name="Sales", code="sales")


@pytest.fixture
def cost_center(finance):
    return CostCenterFactory(code="CC-FIN-200", name="Finance ops", department=finance)


def billed(cost_center, count: int, **fields) -> list[Initiative]:
    return [InitiativeFactory(external_id=f"TG-{n:05d}", name=f"Reader {n}", department=cost_center.department,
                              cost_center=cost_center, **fields) for n in range(1, count + 1)]


def move(actor, cost_center, department, **kwargs) -> CostCenter:
    return cost_center_save(actor=actor, cost_center=cost_center, code=cost_center.code, name=cost_center.name,
                            department=department, budget_owner=cost_center.budget_owner, **kwargs)


def test_a_cost_center_billed_by_initiatives_does_not_move_alone_and_the_refusal_names_them(
    admin_user, cost_center, sales
):
    billed(cost_center, 7)
    with pytest.raises(ValidationError) as refused:
        move(admin_user, cost_center, sales)
    assert refused.value.message_dict["department"] == [
        "Cost center CC-FIN-200 is billed by 7 initiatives (TG-00001 Reader 1, TG-00002 Reader 2, TG-00003 Reader 3, "
        "TG-00004 Reader 4, TG-00005 Reader 5 and 2 more), and an initiative's cost center belongs to its own "
        "department: it cannot move to Sales alone. Move them with it (“Move its initiatives too”), or bill them to "
        "another cost center first."]
    cost_center.refresh_from_db()
    assert cost_center.department.name == "Finance"
    assert set(Initiative.objects.values_list("department__name", flat=True)) == {"Finance"}


def test_moving_with_its_initiatives_moves_each_through_the_initiative_service_audited(
    admin_user, cost_center, finance, sales
):
    readers = billed(cost_center, 2)
    elsewhere = InitiativeFactory(department=cost_center.department)  # another cost center of Finance: stays
    move(admin_user, cost_center, sales, move_initiatives=True)
    cost_center.refresh_from_db()
    assert cost_center.department == sales
    for reader in readers:
        reader.refresh_from_db()
        assert reader.department == sales and reader.cost_center == cost_center
        entry = LogEntry.objects.get_for_object(reader).filter(actor=admin_user).get()
        assert entry.changes_dict["department"] == [str(finance.pk), str(sales.pk)]
    elsewhere.refresh_from_db()
    assert elsewhere.department.name == "Finance"


def test_a_cost_center_nobody_is_billed_to_moves_freely(admin_user, cost_center, sales):
    move(admin_user, cost_center, sales)
    cost_center.refresh_from_db()
    assert cost_center.department == sales


def test_an_ended_initiative_keeps_the_cost_center_where_it_is_and_nothing_moves(admin_user, cost_center, sales):
    live = billed(cost_center, 1)[0]
    InitiativeFactory(external_id="TG-00009", name="Old bot", department=cost_center.department,
                      cost_center=cost_center, stage=Stage.RETIRED)
    with pytest.raises(ValidationError) as refused:
        move(admin_user, cost_center, sales, move_initiatives=True)
    assert refused.value.message_dict["department"] == [
        "Cost center CC-FIN-200 is billed by 1 ended initiative (TG-00009 Old bot), read-only and keeping its "
        "department: it cannot move to Sales. Add a new cost center for Sales instead."]
    cost_center.refresh_from_db()
    live.refresh_from_db()
    assert cost_center.department.name == live.department.name == "Finance"


def test_the_page_refuses_the_move_on_the_department_and_moves_with_the_box_ticked(
    login, admin_user, cost_center, sales
):
    reader = billed(cost_center, 1)[0]
    client = login(admin_user)
    url = reverse("portfolio:costcenter_edit", args=[cost_center.pk])
    assert 'name="move_initiatives"' in client.get(url).content.decode()
    assert 'name="move_initiatives"' not in client.get(reverse("portfolio:costcenter_create")).content.decode()
    data = {"code": "CC-FIN-200", "name": "Finance ops", "department": sales.pk}
    response = client.post(url, data)
    assert response.status_code == 200
    assert "is billed by 1 initiative (TG-00001 Reader 1)" in response.context["form"].errors["department"][0]
    cost_center.refresh_from_db()
    assert cost_center.department.name == "Finance"
    response = client.post(url, {**data, "move_initiatives": "on"})
    assert response.status_code == 302
    reader.refresh_from_db()
    assert reader.department == sales


def test_the_api_refuses_the_move_with_400_on_department_and_moves_with_move_initiatives(
    api_client, admin_user, cost_center, sales
):
    reader = billed(cost_center, 1)[0]
    api_client.force_authenticate(admin_user)
    url = reverse("api:costcenter-detail", args=[cost_center.pk])
    refused = api_client.patch(url, {"department": sales.pk}, format="json")
    assert refused.status_code == 400 and "TG-00001 Reader 1" in refused.json()["department"][0]
    reader.refresh_from_db()
    assert reader.department.name == "Finance"
    response = api_client.patch(url, {"department": sales.pk, "move_initiatives": True}, format="json")
    assert response.status_code == 200 and "move_initiatives" not in response.json()
    reader.refresh_from_db()
    assert reader.department == sales


def test_the_django_admin_does_not_move_a_billed_cost_center(client, admin_user, cost_center, sales):
    billed(cost_center, 1)
    client.force_login(admin_user)
    response = client.post(reverse("admin:portfolio_costcenter_change", args=[cost_center.pk]),
                           {"code": cost_center.code, "name": cost_center.name, "department": sales.pk,
                            "budget_owner": "", "_save": "Save"})
    assert response.status_code == 200
    assert "is billed by 1 initiative (TG-00001 Reader 1)" in response.content.decode()
    cost_center.refresh_from_db()
    assert cost_center.department.name == "Finance"
