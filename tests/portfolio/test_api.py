"""The portfolio REST API: reads for every role, writes by role and object rule, validation, N+1, schema."""

from __future__ import annotations

import hashlib
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from auditlog.models import LogEntry
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from portfolio.choices import Category, ModelTier, Stage
from portfolio.models import KPI, ApiToken, BusinessCase, Department, Initiative
from portfolio.services import api_token_issue
from tests.factories import (
    AIModelFactory,
    BusinessCaseFactory,
    CostCenterFactory,
    DepartmentFactory,
    InitiativeFactory,
    KPIFactory,
    LicencePoolFactory,
    UserFactory,
    ValueReportFactory,
    VendorFactory,
)
from tollgate.roles import Role

pytestmark = pytest.mark.django_db

ROLES = ["owner", "reviewer", "executive", "admin_user"]


def _results(response) -> list[dict]:
    assert response.status_code == 200, response.content
    return response.json()["results"]


def _initiative_payload(department: Department, **overrides) -> dict:
    payload = {
        "name": "Contract clause extractor",
        "description": "Pull renewal clauses out of supplier contracts.",
        "category": Category.DOCUMENT_PROCESSING,
        "department": department.pk,
        "declared_monthly_cost": "450.00",
    }
    payload.update(overrides)
    return payload


# --- reads -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_every_role_lists_and_retrieves_the_whole_portfolio(request, as_user, role, initiative, other_initiative):
    vendor = VendorFactory(name="Anthropic")
    model = AIModelFactory(provider=vendor, name="claude-haiku")
    initiative.vendors.set([vendor])
    initiative.ai_models.set([model])
    case = BusinessCaseFactory(initiative=initiative)
    client = as_user(request.getfixturevalue(role))

    rows = _results(client.get(reverse("api:initiative-list")))
    assert {r["id"] for r in rows} == {initiative.pk, other_initiative.pk}

    detail = client.get(reverse("api:initiative-detail", args=[initiative.pk])).json()
    assert detail["department_name"] == initiative.department.name
    assert detail["owner_email"] == initiative.owner.email
    assert detail["vendor_names"] == ["Anthropic"]
    assert detail["ai_model_names"] == ["claude-haiku"]
    assert detail["business_case"] == case.pk
    assert detail["stage"] == Stage.PROPOSED
    other = client.get(reverse("api:initiative-detail", args=[other_initiative.pk])).json()
    assert other["business_case"] is None


def test_user_without_a_role_reads_nothing(as_user, initiative):
    client = as_user(UserFactory())
    assert client.get(reverse("api:initiative-list")).status_code == 403
    assert client.get(reverse("api:initiative-detail", args=[initiative.pk])).status_code == 403


def test_anonymous_is_refused(api_client, initiative):
    assert api_client.get(reverse("api:initiative-list")).status_code in (401, 403)
    assert api_client.get(reverse("api:department-list")).status_code in (401, 403)


def test_api_root_lists_the_endpoints(as_user, reviewer):
    response = as_user(reviewer).get(reverse("api:api-root"))
    assert response.status_code == 200
    assert "licence-pools" in response.json()


def test_initiative_filters(as_user, reviewer, owner, other_owner):
    sales = DepartmentFactory(code="sales")
    vendor = VendorFactory()
    a = InitiativeFactory(owner=owner, department=sales, category=Category.FORECASTING, vendors=[vendor])
    b = InitiativeFactory(owner=other_owner, stage=Stage.PILOT, category=Category.CLASSIFICATION)
    c = InitiativeFactory(owner=other_owner, stage=Stage.PRODUCTION, category=Category.CLASSIFICATION)
    client = as_user(reviewer)
    url = reverse("api:initiative-list")

    def ids(params: dict) -> set[int]:
        return {r["id"] for r in _results(client.get(url, params))}

    assert ids({"department": sales.pk}) == {a.pk}
    assert ids({"department__code": "sales"}) == {a.pk}
    assert ids({"stage": Stage.PILOT}) == {b.pk}
    assert ids({"stage": [Stage.PILOT, Stage.PRODUCTION]}) == {b.pk, c.pk}
    assert ids({"category": Category.CLASSIFICATION}) == {b.pk, c.pk}
    assert ids({"vendor": vendor.pk}) == {a.pk}
    assert ids({"owner": other_owner.pk}) == {b.pk, c.pk}
    assert ids({"owner_email": owner.email.upper()}) == {a.pk}
    assert client.get(url, {"stage": "nonsense"}).status_code == 400


def test_initiative_search_and_ordering(as_user, executive):
    InitiativeFactory(name="Invoice reader", description="OCR of supplier invoices", external_id="SAP-1")
    InitiativeFactory(name="Chat helper", description="Answers HR questions", external_id="SAP-2")
    InitiativeFactory(name="Lead scorer", description="", external_id="CRM-77")
    client = as_user(executive)
    url = reverse("api:initiative-list")

    assert [r["name"] for r in _results(client.get(url, {"search": "supplier"}))] == ["Invoice reader"]
    assert [r["name"] for r in _results(client.get(url, {"search": "crm-77"}))] == ["Lead scorer"]
    assert [r["name"] for r in _results(client.get(url, {"search": "chat"}))] == ["Chat helper"]
    names = [r["name"] for r in _results(client.get(url, {"ordering": "-name"}))]
    assert names == sorted(names, reverse=True)


def test_initiatives_are_ordered_by_name_whatever_its_case(as_user, executive):
    for name in ("Zebra tool", "apple helper", "Mango bot"):
        InitiativeFactory(name=name)
    client = as_user(executive)
    url = reverse("api:initiative-list")

    assert [r["name"] for r in _results(client.get(url))] == ["apple helper", "Mango bot", "Zebra tool"]
    assert [r["name"] for r in _results(client.get(url, {"ordering": "name"}))] == [
        "apple helper", "Mango bot", "Zebra tool"]
    assert [r["name"] for r in _results(client.get(url, {"ordering": "-name,external_id"}))] == [
        "Zebra tool", "Mango bot", "apple helper"]


def test_initiative_list_is_paginated(as_user, reviewer):
    InitiativeFactory.create_batch(3)
    body = as_user(reviewer).get(reverse("api:initiative-list")).json()
    assert body["count"] == 3 and len(body["results"]) == 3 and body["next"] is None


def _count_list_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def _rich_initiatives(n: int) -> None:
    # Shared people: hashing a password per row would make this slow, and select_related works per row anyway.
    owner, delegate = UserFactory(role=Role.OWNER), UserFactory()
    for _ in range(n):
        initiative = InitiativeFactory(owner=owner, vendors=[VendorFactory()], delegates=[delegate])
        initiative.ai_models.set([AIModelFactory()])
        BusinessCaseFactory(initiative=initiative)
        KPIFactory(initiative=initiative)
        LicencePoolFactory(initiative=initiative, vendor=VendorFactory())
        CostCenterFactory(department=initiative.department)


@pytest.mark.parametrize(
    "basename", ["initiative", "businesscase", "kpi", "department", "costcenter", "vendor", "aimodel", "licencepool"]
)
def test_list_endpoints_do_not_query_per_row(as_user, reviewer, basename):
    client = as_user(reviewer)
    url = reverse(f"api:{basename}-list")
    _rich_initiatives(3)
    client.get(url)  # warm the per-user caches (group names) so both counts measure the same work
    few = _count_list_queries(client, url)
    _rich_initiatives(17)
    assert len(_results(client.get(url))) >= 20
    assert _count_list_queries(client, url) == few


# --- initiative writes ---------------------------------------------------------------------------------------------


def test_nobody_names_someone_who_left_or_the_owner_as_a_delegate(as_user, owner, admin_user):
    department = DepartmentFactory()
    left = UserFactory(role=Role.OWNER, is_active=False, first_name="George", last_name="Whitfield")
    url = reverse("api:initiative-list")
    refused = as_user(owner).post(url, _initiative_payload(department, delegates=[left.pk]), format="json")
    assert refused.status_code == 400
    assert refused.json()["delegates"] == ["George Whitfield cannot be named a delegate: their account is deactivated."]
    itself = as_user(owner).post(url, _initiative_payload(department, delegates=[owner.pk]), format="json")
    assert itself.status_code == 400 and "an owner is not also its delegate" in itself.json()["delegates"][0]
    gone = as_user(admin_user).post(url, _initiative_payload(department, owner=left.pk), format="json")
    assert gone.status_code == 400 and gone.json()["owner"] == [
        "George Whitfield has left (account deactivated): name an active owner."]
    for slip in ("0001-01-01", "9999-12-31"):
        dated = as_user(owner).post(url, _initiative_payload(department, start_date=slip), format="json")
        assert dated.status_code == 400 and f"not {slip}" in dated.json()["start_date"][0]
    tags = as_user(owner).post(url, _initiative_payload(department, tags=[f"tag{n}" for n in range(10000)]),
                               format="json")
    assert tags.status_code == 400 and tags.json()["tags"] == [
        "The tags come to 88,888 characters written out; at most 500."]
    assert not Initiative.objects.exists()
    created = as_user(owner).post(url, _initiative_payload(department), format="json").json()
    renamed = as_user(admin_user).patch(reverse("api:initiative-detail", args=[created["id"]]), {"owner": left.pk},
                                        format="json")
    assert renamed.status_code == 400 and "has left" in renamed.json()["owner"][0]


def test_owner_registers_an_initiative_for_themself(as_user, owner):
    department = DepartmentFactory()
    cost_center = CostCenterFactory(department=department)
    vendor = VendorFactory()
    payload = _initiative_payload(department, cost_center=cost_center.pk, vendors=[vendor.pk],
                                  tags=["gdpr", "gdpr", "legal"])
    staged = as_user(owner).post(reverse("api:initiative-list"), {**payload, "stage": Stage.PRODUCTION}, format="json")
    assert staged.status_code == 400 and "/transitions/" in staged.json()["stage"][0]  # refused, not ignored
    assert not Initiative.objects.exists()
    response = as_user(owner).post(reverse("api:initiative-list"), payload, format="json")
    assert response.status_code == 201, response.content
    created = Initiative.objects.get(pk=response.json()["id"])
    assert created.owner == owner
    assert created.stage == Stage.PROPOSED  # stage is read-only in the API
    assert created.external_id.startswith("TG-")
    assert list(created.vendors.all()) == [vendor]
    assert created.tags == ["gdpr", "legal"]
    assert response.json()["owner_email"] == owner.email


def test_external_id_is_kept_on_create_and_read_only_after(as_user, owner):
    client = as_user(owner)
    response = client.post(
        reverse("api:initiative-list"), _initiative_payload(DepartmentFactory(), external_id="SN-4411"), format="json"
    )
    assert response.status_code == 201, response.content
    pk = response.json()["id"]
    assert response.json()["external_id"] == "SN-4411"
    changed = client.patch(reverse("api:initiative-detail", args=[pk]), {"external_id": "SN-9999"}, format="json")
    assert changed.status_code == 400 and changed.json()["external_id"] == [
        "external_id is read-only: it is given when the initiative is registered and never changes."]
    assert Initiative.objects.get(pk=pk).external_id == "SN-4411"


@pytest.mark.parametrize("role", ["executive", "reviewer"])
def test_read_only_roles_cannot_register(request, as_user, role):
    response = as_user(request.getfixturevalue(role)).post(
        reverse("api:initiative-list"), _initiative_payload(DepartmentFactory()), format="json"
    )
    assert response.status_code == 403
    assert not Initiative.objects.exists()


def test_anonymous_cannot_register(api_client):
    response = api_client.post(reverse("api:initiative-list"), _initiative_payload(DepartmentFactory()), format="json")
    assert response.status_code in (401, 403)
    assert not Initiative.objects.exists()


def test_owner_cannot_register_for_someone_else_but_admin_can(as_user, owner, other_owner, admin_user):
    department = DepartmentFactory()
    url = reverse("api:initiative-list")
    refused = as_user(owner).post(url, _initiative_payload(department, owner=other_owner.pk), format="json")
    assert refused.status_code == 400 and "owner" in refused.json()

    accepted = as_user(admin_user).post(url, _initiative_payload(department, owner=other_owner.pk), format="json")
    assert accepted.status_code == 201, accepted.content
    assert Initiative.objects.get(pk=accepted.json()["id"]).owner == other_owner


def test_owner_updates_own_initiative_not_another(as_user, owner, initiative, other_initiative):
    client = as_user(owner)
    own = client.patch(reverse("api:initiative-detail", args=[initiative.pk]), {"name": "Renamed"}, format="json")
    assert own.status_code == 200, own.content
    assert own.json()["name"] == "Renamed"
    initiative.refresh_from_db()
    assert initiative.name == "Renamed"

    other = client.patch(reverse("api:initiative-detail", args=[other_initiative.pk]), {"name": "X"}, format="json")
    assert other.status_code == 403
    other_initiative.refresh_from_db()
    assert other_initiative.name != "X"


def test_delegate_updates_the_initiative(as_user, other_owner):
    delegate = UserFactory(role=Role.OWNER)
    initiative = InitiativeFactory(owner=other_owner, delegates=[delegate])
    response = as_user(delegate).patch(
        reverse("api:initiative-detail", args=[initiative.pk]), {"declared_monthly_cost": "99.50"}, format="json"
    )
    assert response.status_code == 200, response.content
    initiative.refresh_from_db()
    assert initiative.declared_monthly_cost == Decimal("99.50")


def test_a_delegate_may_not_change_the_delegates_through_the_api(as_user, other_owner, reviewer, admin_user):
    delegate = UserFactory(role=Role.OWNER)
    initiative = InitiativeFactory(owner=other_owner, delegates=[delegate])
    url = reverse("api:initiative-detail", args=[initiative.pk])
    for delegates in ([delegate.pk, reviewer.pk], []):
        response = as_user(delegate).patch(url, {"delegates": delegates, "name": "Not saved"}, format="json")
        assert response.status_code == 400
        assert "Only the owner and administrators choose who acts" in str(response.json()["delegates"])
    initiative.refresh_from_db()
    assert list(initiative.delegates.all()) == [delegate] and initiative.name != "Not saved"
    assert as_user(delegate).patch(url, {"delegates": [delegate.pk], "name": "Kept"}, format="json").status_code == 200
    for who, delegates in ((other_owner, [delegate.pk, reviewer.pk]), (admin_user, [])):
        assert as_user(who).patch(url, {"delegates": delegates}, format="json").status_code == 200
        assert sorted(initiative.delegates.values_list("pk", flat=True)) == sorted(delegates)


def test_after_approval_only_an_administrator_moves_the_start_date_through_the_api(as_user, owner, admin_user):
    from datetime import date

    pilot = InitiativeFactory(owner=owner, stage=Stage.PILOT, start_date=date(2026, 1, 1))
    url = reverse("api:initiative-detail", args=[pilot.pk])
    refused = as_user(owner).patch(url, {"start_date": "2026-05-01", "start_date_reason": "Late."}, format="json")
    assert refused.status_code == 400 and "only by an administrator or a CoE reviewer" in str(
        refused.json()["start_date"])
    no_reason = as_user(admin_user).patch(url, {"start_date": "2026-05-01"}, format="json")
    assert no_reason.status_code == 400 and "start_date_reason" in str(no_reason.json()["start_date"])
    saved = as_user(admin_user).patch(url, {"start_date": "2026-05-01", "start_date_reason": "Signed in May."},
                                      format="json")
    assert saved.status_code == 200 and saved.json()["start_date"] == "2026-05-01"
    assert "start_date_reason" not in saved.json()


def test_stage_cannot_be_changed_through_the_api(as_user, owner, initiative):
    """A stage sent with another value is refused, naming the transitions that move it; the stage it has is fine."""
    url = reverse("api:initiative-detail", args=[initiative.pk])
    response = as_user(owner).patch(url, {"stage": Stage.PRODUCTION}, format="json")
    assert response.status_code == 400
    assert response.json()["stage"] == [
        "stage is read-only: it moves through the governed transitions, POST "
        f"/api/governance/initiatives/{initiative.pk}/transitions/ with the transition."]
    initiative.refresh_from_db()
    assert initiative.stage == Stage.PROPOSED
    assert as_user(owner).patch(url, {"stage": Stage.PROPOSED, "name": "Kept stage"},
                                format="json").status_code == 200


@pytest.mark.parametrize("role", ["reviewer", "executive"])
def test_reviewers_and_executives_cannot_update(request, as_user, role, initiative):
    response = as_user(request.getfixturevalue(role)).patch(
        reverse("api:initiative-detail", args=[initiative.pk]), {"name": "Nope"}, format="json"
    )
    assert response.status_code == 403


def test_executive_cannot_update_even_what_they_own(as_user, executive):
    initiative = InitiativeFactory(owner=executive)
    response = as_user(executive).patch(
        reverse("api:initiative-detail", args=[initiative.pk]), {"name": "Nope"}, format="json"
    )
    assert response.status_code == 403


def test_admin_updates_any_initiative_with_put(as_user, admin_user, initiative):
    vendor = VendorFactory()
    payload = _initiative_payload(initiative.department, name="Admin edit", vendors=[vendor.pk],
                                  cost_center=initiative.cost_center_id, owner=initiative.owner_id)
    response = as_user(admin_user).put(reverse("api:initiative-detail", args=[initiative.pk]), payload, format="json")
    assert response.status_code == 200, response.content
    initiative.refresh_from_db()
    assert initiative.name == "Admin edit"
    assert list(initiative.vendors.all()) == [vendor]


def test_only_admin_deletes_initiatives(as_user, owner, admin_user, initiative):
    url = reverse("api:initiative-detail", args=[initiative.pk])
    assert as_user(owner).delete(url).status_code == 403
    assert as_user(admin_user).delete(url).status_code == 204
    assert not Initiative.objects.filter(pk=initiative.pk).exists()


def test_negative_declared_cost_is_rejected_naming_the_field(as_user, owner):
    response = as_user(owner).post(
        reverse("api:initiative-list"),
        _initiative_payload(DepartmentFactory(), declared_monthly_cost="-5"),
        format="json",
    )
    assert response.status_code == 400
    assert "declared_monthly_cost" in response.json()


def test_unknown_category_is_rejected_naming_the_field(as_user, owner):
    response = as_user(owner).post(
        reverse("api:initiative-list"), _initiative_payload(DepartmentFactory(), category="telepathy"), format="json"
    )
    assert response.status_code == 400
    assert "category" in response.json()


def test_cost_center_of_another_department_is_rejected(as_user, owner, initiative):
    foreign = CostCenterFactory()  # its own department
    client = as_user(owner)
    response = client.post(
        reverse("api:initiative-list"),
        _initiative_payload(DepartmentFactory(), cost_center=foreign.pk),
        format="json",
    )
    assert response.status_code == 400
    assert "cost_center" in response.json()

    response = client.patch(
        reverse("api:initiative-detail", args=[initiative.pk]), {"cost_center": foreign.pk}, format="json"
    )
    assert response.status_code == 400
    assert "cost_center" in response.json()
    initiative.refresh_from_db()
    assert initiative.cost_center != foreign


def test_token_authentication(api_client, owner, initiative):
    _token, key = api_token_issue(actor=owner, user=owner, name="script", days=30)
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api_client.get(reverse("api:initiative-list")).status_code == 200
    response = api_client.patch(
        reverse("api:initiative-detail", args=[initiative.pk]), {"name": "By token"}, format="json"
    )
    assert response.status_code == 200
    api_client.credentials(HTTP_AUTHORIZATION="Token not-a-real-key")
    assert api_client.get(reverse("api:initiative-list")).status_code in (401, 403)


def test_token_endpoint_issues_a_token(api_client, owner):
    from tests.factories import PASSWORD

    response = api_client.post(reverse("api_token"), {"username": owner.username, "password": PASSWORD})
    assert response.status_code == 200
    key = response.json()["token"]
    # Only a digest is stored; the key works, for API_TOKEN_PASSWORD_HOURS.
    (token,) = ApiToken.objects.filter(user=owner)
    assert token.from_password and token.name == "Obtained with a password" and key.startswith("tg_")
    assert key not in {token.digest, token.token_key} and token.digest == hashlib.sha512(key.encode()).hexdigest()
    assert parse_datetime(response.json()["expiry"]) == token.expiry
    assert abs(token.expiry - timezone.now() - timedelta(hours=settings.API_TOKEN_PASSWORD_HOURS)) < timedelta(
        minutes=1)
    assert api_client.get(reverse("api:initiative-list"), HTTP_AUTHORIZATION=f"Token {key}").status_code == 200
    # Every call a new token (a digest cannot give back an earlier key); the earlier one still works.
    again = api_client.post(reverse("api_token"), {"username": owner.username, "password": PASSWORD})
    assert again.json()["token"] != key and ApiToken.objects.filter(user=owner).count() == 2
    assert api_client.get(reverse("api:initiative-list"), HTTP_AUTHORIZATION=f"Token {key}").status_code == 200
    # In the audit trail on the person, by themselves, without the key.
    entries = LogEntry.objects.get_for_object(owner).filter(additional_data__event="api_token_issued")
    assert [(e.actor, e.additional_data["source"]) for e in entries] == [(owner, "password")] * 2
    assert not any(key in f"{e.changes} {e.object_repr} {e.additional_data}" for e in LogEntry.objects.all())


# --- business cases and KPIs ---------------------------------------------------------------------------------------


def _business_case_payload(initiative: Initiative) -> dict:
    return {
        "initiative": initiative.pk,
        "problem": "Clauses are read by hand.",
        "expected_monthly_volume": 1000,
        "tco_inference": "300.00",
        "tco_maintenance": "100.00",
        "oversight_hours_per_month": "10.0",
        "loaded_hourly_rate": "50.00",
    }


def test_owner_creates_business_case_for_own_initiative_only(as_user, owner, initiative, other_initiative):
    client = as_user(owner)
    url = reverse("api:businesscase-list")
    response = client.post(url, _business_case_payload(initiative), format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    case = BusinessCase.objects.get(initiative=initiative)
    assert body["id"] == case.pk
    assert Decimal(body["oversight_cost"]) == case.oversight_cost == Decimal("500.00")
    assert Decimal(body["tco_monthly"]) == case.tco_monthly
    assert Decimal(body["expected_cost_per_outcome"]) == case.expected_cost_per_outcome

    refused = client.post(url, _business_case_payload(other_initiative), format="json")
    assert refused.status_code == 403
    assert not BusinessCase.objects.filter(initiative=other_initiative).exists()


def test_amounts_whose_sum_has_more_digits_than_each_are_answered_and_listed(as_user, owner, initiative):
    """Each cost fits its field (12 digits before the point); their sum and hours x rate do not: the answer and the
    list still render them."""
    client = as_user(owner)
    payload = {**_business_case_payload(initiative), "tco_inference": "999999999999.99", "tco_compute": "1.00",
               "oversight_hours_per_month": "99999999.9", "loaded_hourly_rate": "999999999999.99"}
    response = client.post(reverse("api:businesscase-list"), payload, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["oversight_cost"] == "99999999899999000000.00"  # 99,999,999.9 h x 999,999,999,999.99
    listed = client.get(reverse("api:businesscase-list"), {"initiative": initiative.pk})
    assert listed.status_code == 200 and listed.json()["results"][0]["tco_monthly"] == "100000000899999000100.99"


def test_an_api_write_that_fails_after_its_service_writes_nothing(as_user, owner, initiative, monkeypatch):
    """The answer is rendered after the service committed its savepoint; a failure there rolls the request back,
    as its 500 says."""
    from portfolio.api.serializers import BusinessCaseSerializer

    def broken(self, instance):
        raise RuntimeError("rendering failed")

    monkeypatch.setattr(BusinessCaseSerializer, "to_representation", broken)
    client = as_user(owner)
    client.raise_request_exception = False
    response = client.post(reverse("api:businesscase-list"), _business_case_payload(initiative), format="json")
    assert response.status_code == 500 and "nothing you sent was half-written" in response.json()["detail"]
    assert not BusinessCase.objects.filter(initiative=initiative).exists()


@pytest.mark.parametrize("role", ["reviewer", "executive"])
def test_read_only_roles_cannot_create_business_cases(request, as_user, role, initiative):
    response = as_user(request.getfixturevalue(role)).post(
        reverse("api:businesscase-list"), _business_case_payload(initiative), format="json"
    )
    assert response.status_code == 403


def test_anonymous_cannot_create_business_cases(api_client, initiative):
    response = api_client.post(reverse("api:businesscase-list"), _business_case_payload(initiative), format="json")
    assert response.status_code in (401, 403)


def test_second_business_case_for_an_initiative_is_rejected(as_user, owner, initiative):
    BusinessCaseFactory(initiative=initiative)
    response = as_user(owner).post(reverse("api:businesscase-list"), _business_case_payload(initiative), format="json")
    assert response.status_code == 400
    assert "initiative" in response.json()


def test_business_case_update_and_delete_rules(as_user, owner, reviewer, admin_user, initiative, other_initiative):
    own = BusinessCaseFactory(initiative=initiative)
    others = BusinessCaseFactory(initiative=other_initiative)
    client = as_user(owner)

    moved = client.patch(reverse("api:businesscase-detail", args=[own.pk]),
                         {"expected_monthly_volume": 500, "initiative": other_initiative.pk}, format="json")
    assert moved.status_code == 400 and moved.json()["initiative"] == [
        "initiative is read-only: a business case stays with its initiative."]
    response = client.patch(reverse("api:businesscase-detail", args=[own.pk]),
                            {"expected_monthly_volume": 500, "initiative": initiative.pk}, format="json")
    assert response.status_code == 200, response.content
    own.refresh_from_db()
    assert own.expected_monthly_volume == 500
    assert own.initiative == initiative  # initiative is fixed after create
    assert client.patch(reverse("api:businesscase-detail", args=[others.pk]), {"targets": "x"},
                        format="json").status_code == 403
    negative = client.patch(reverse("api:businesscase-detail", args=[own.pk]), {"tco_compute": "-1"}, format="json")
    assert negative.status_code == 400 and "tco_compute" in negative.json()

    assert as_user(reviewer).patch(reverse("api:businesscase-detail", args=[own.pk]), {"targets": "x"},
                                   format="json").status_code == 403
    assert as_user(owner).delete(reverse("api:businesscase-detail", args=[own.pk])).status_code == 403
    assert as_user(admin_user).delete(reverse("api:businesscase-detail", args=[own.pk])).status_code == 204


def test_kpi_crud_by_owner(as_user, owner, initiative):
    kept = KPIFactory(initiative=initiative, name="CSAT")
    client = as_user(owner)
    created = client.post(
        reverse("api:kpi-list"),
        {"initiative": initiative.pk, "name": "Tickets closed", "unit": "tickets", "baseline": "100",
         "target": "150", "direction": "increase", "value_per_unit": "3.5"},
        format="json",
    )
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    assert KPI.objects.get(pk=pk).target == Decimal("150")

    listed = _results(client.get(reverse("api:kpi-list"), {"initiative": initiative.pk}))
    assert {r["id"] for r in listed} == {kept.pk, pk}

    updated = client.patch(reverse("api:kpi-detail", args=[pk]), {"target": "175"}, format="json")
    assert updated.status_code == 200, updated.content
    assert KPI.objects.get(pk=pk).target == Decimal("175")

    assert client.delete(reverse("api:kpi-detail", args=[pk])).status_code == 204
    assert list(initiative.kpis.all()) == [kept]  # the other KPI survives the replace


def test_kpi_rules_follow_the_initiative(as_user, owner, reviewer, other_initiative):
    theirs = KPIFactory(initiative=other_initiative)
    client = as_user(owner)
    refused = client.post(reverse("api:kpi-list"), {"initiative": other_initiative.pk, "name": "Sneaky"},
                          format="json")
    assert refused.status_code == 403
    assert client.patch(reverse("api:kpi-detail", args=[theirs.pk]), {"name": "X"}, format="json").status_code == 403
    assert client.delete(reverse("api:kpi-detail", args=[theirs.pk])).status_code == 403
    assert as_user(reviewer).delete(reverse("api:kpi-detail", args=[theirs.pk])).status_code == 403
    assert KPI.objects.filter(pk=theirs.pk).exists()


def test_a_kpi_target_against_its_direction_is_400_naming_the_target(as_user, owner, initiative):
    refused = as_user(owner).post(reverse("api:kpi-list"), {
        "initiative": initiative.pk, "name": "Handle time", "direction": "increase", "baseline": "10", "target": "5"},
        format="json")
    assert refused.status_code == 400 and refused.json()["target"] == [
        "Higher is better, so the target must be above the baseline (10), not 5: correct the target, or the "
        "direction."]
    assert not KPI.objects.exists()


def test_the_figures_of_a_kpi_a_submitted_report_measured_cannot_be_patched(as_user, owner, initiative):
    """PATCH /api/kpis/<id>/ with a new value per unit once reports measured it: 400, the report's value stays."""
    from reviews.choices import ReportStatus
    from reviews.selectors import report_detail_loaded, report_figures

    kpi = KPIFactory(initiative=initiative, name="Containment rate", unit="%", kind="ratio", baseline=Decimal("0"),
                     target=Decimal("45"), direction="increase", value_per_unit=Decimal("1000"))
    report = ValueReportFactory(initiative=initiative, status=ReportStatus.SUBMITTED, outcome_count=100,
                                submitted_at=timezone.now())
    report.actuals.create(kpi=kpi, actual=Decimal("40"))
    value = report_figures(report_detail_loaded().get(pk=report.pk)).value.amount
    client = as_user(owner)
    refused = client.patch(reverse("api:kpi-detail", args=[kpi.pk]),
                           {"value_per_unit": "5000000", "baseline": "-1000"}, format="json")
    assert refused.status_code == 400
    assert sorted(refused.json()) == ["baseline", "value_per_unit"]  # the fields sent, not the form's "kpis"
    assert refused.json()["value_per_unit"][0].startswith(
        f"KPI 'Containment rate' keeps its baseline and value per unit: the submitted value report "
        f"{report.cycle.name} measured it")
    deleted = client.delete(reverse("api:kpi-detail", args=[kpi.pk]))
    assert deleted.status_code == 400 and list(deleted.json()) == ["non_field_errors"]
    assert report_figures(report_detail_loaded().get(pk=report.pk)).value.amount == value == Decimal("40000.00")
    renamed = client.patch(reverse("api:kpi-detail", args=[kpi.pk]), {"name": "Bot containment"}, format="json")
    assert renamed.status_code == 200 and KPI.objects.get(pk=kpi.pk).name == "Bot containment"


def test_kpi_invalid_direction_names_the_field(as_user, owner, initiative):
    response = as_user(owner).post(
        reverse("api:kpi-list"), {"initiative": initiative.pk, "name": "X", "direction": "sideways"}, format="json"
    )
    assert response.status_code == 400 and "direction" in response.json()


def test_kpi_kind_decides_what_the_value_per_unit_means(as_user, owner, initiative):
    client = as_user(owner)
    created = client.post(
        reverse("api:kpi-list"),
        {"initiative": initiative.pk, "name": "CSAT", "unit": "points", "kind": "ratio", "baseline": "72",
         "target": "80", "direction": "increase", "value_per_unit": "1500"},
        format="json",
    )
    assert created.status_code == 201, created.content
    assert (created.json()["kind"], created.json()["value_per_unit_label"]) == ("ratio", "value per point (USD)")
    default = client.post(reverse("api:kpi-list"), {"initiative": initiative.pk, "name": "Tickets deflected"},
                          format="json")
    assert default.json()["kind"] == "count" and default.json()["value_per_unit_label"] == "value per unit (USD)"
    listed = _results(client.get(reverse("api:kpi-list"), {"initiative": initiative.pk, "kind": "ratio"}))
    assert [r["name"] for r in listed] == ["CSAT"]


def test_a_stated_kpi_takes_no_value_per_unit_and_nothing_is_written(as_user, owner, initiative):
    client = as_user(owner)
    refused = client.post(
        reverse("api:kpi-list"),
        {"initiative": initiative.pk, "name": "Overcharges recovered", "kind": "stated", "value_per_unit": "1"},
        format="json",
    )
    assert refused.status_code == 400 and "stated KPI takes no value per unit" in refused.json()["value_per_unit"][0]
    assert not KPI.objects.exists()
    kpi = KPIFactory(initiative=initiative, value_per_unit=Decimal("0.75"))
    assert client.patch(reverse("api:kpi-detail", args=[kpi.pk]), {"kind": "stated"},
                        format="json").status_code == 400
    assert KPI.objects.get(pk=kpi.pk).kind == "count"
    moved = client.patch(reverse("api:kpi-detail", args=[kpi.pk]), {"kind": "stated", "value_per_unit": None},
                         format="json")
    assert moved.status_code == 200 and moved.json()["value_per_unit_label"] == ""


def test_kpi_invalid_kind_names_the_field(as_user, owner, initiative):
    response = as_user(owner).post(
        reverse("api:kpi-list"), {"initiative": initiative.pk, "name": "X", "kind": "vibes"}, format="json"
    )
    assert response.status_code == 400 and "kind" in response.json()


# --- reference data ------------------------------------------------------------------------------------------------

REFERENCE_CREATES = {
    "department": lambda: {"name": "Legal", "code": "legal"},
    "costcenter": lambda: {"code": "CC-LEGAL", "name": "Legal ops", "department": DepartmentFactory().pk},
    "vendor": lambda: {"name": "Mistral", "website": "https://mistral.ai"},
    "aimodel": lambda: {"provider": VendorFactory().pk, "name": "mistral-small", "tier": ModelTier.SMALL,
                        "open_weights": True, "input_price_per_mtok": "0.2000"},
    "licencepool": lambda: {"tool": "Copilot", "vendor": VendorFactory().pk, "seats_purchased": 100,
                            "price_per_seat_month": "19.00"},
}


@pytest.mark.parametrize("basename", REFERENCE_CREATES)
@pytest.mark.parametrize(("role", "expected"), [("admin_user", 201), ("owner", 403), ("reviewer", 403),
                                                ("executive", 403)])
def test_reference_data_is_written_by_admins_only(request, as_user, basename, role, expected):
    payload = REFERENCE_CREATES[basename]()
    user = request.getfixturevalue(role)
    response = as_user(user).post(reverse(f"api:{basename}-list"), payload, format="json")
    assert response.status_code == expected, response.content
    if expected == 201:  # in the audit trail under the acting administrator, whether a service wrote it or not
        entry = LogEntry.objects.get(content_type__model=basename, object_id=response.json()["id"],
                                     action=LogEntry.Action.CREATE)
        assert entry.actor == user


def test_reference_update_and_delete_by_admin_only(as_user, owner, admin_user):
    vendor = VendorFactory(name="Old name")
    url = reverse("api:vendor-detail", args=[vendor.pk])
    assert as_user(owner).patch(url, {"name": "Hijacked"}, format="json").status_code == 403
    assert as_user(owner).delete(url).status_code == 403
    assert as_user(admin_user).patch(url, {"name": "New name"}, format="json").status_code == 200
    vendor.refresh_from_db()
    assert vendor.name == "New name"
    assert as_user(admin_user).delete(url).status_code == 204


def test_a_name_already_taken_is_refused_in_a_sentence(as_user, admin_user):
    VendorFactory(name="Taken")
    response = as_user(admin_user).post(reverse("api:vendor-list"), {"name": "Taken"}, format="json")
    assert response.status_code == 400 and response.data["name"] == ["Vendor with this name already exists."]


def test_deleting_referenced_reference_data_is_a_conflict(as_user, admin_user, initiative):
    response = as_user(admin_user).delete(reverse("api:department-detail", args=[initiative.department_id]))
    assert response.status_code == 409
    assert Department.objects.filter(pk=initiative.department_id).exists()


def test_licence_pool_monthly_cost_and_owner_edit(as_user, owner, initiative, other_initiative):
    pool = LicencePoolFactory(initiative=initiative, seats_purchased=10, price_per_seat_month=Decimal("19.00"))
    client = as_user(owner)
    body = client.get(reverse("api:licencepool-detail", args=[pool.pk])).json()
    assert Decimal(body["monthly_cost"]) == pool.monthly_cost == Decimal("190.00")

    assert client.patch(reverse("api:licencepool-detail", args=[pool.pk]), {"seats_purchased": 12},
                        format="json").status_code == 200
    moved = client.patch(reverse("api:licencepool-detail", args=[pool.pk]), {"initiative": other_initiative.pk},
                         format="json")
    assert moved.status_code == 403
    pool.refresh_from_db()
    assert (pool.seats_purchased, pool.initiative) == (12, initiative)


def test_reference_filters(as_user, reviewer, initiative):
    sales, ops = DepartmentFactory(), DepartmentFactory()
    cc = CostCenterFactory(department=sales)
    CostCenterFactory(department=ops)
    provider = VendorFactory()
    small = AIModelFactory(provider=provider, tier=ModelTier.SMALL, open_weights=True)
    AIModelFactory(provider=provider, tier=ModelTier.FRONTIER)
    AIModelFactory(tier=ModelTier.SMALL)
    pool = LicencePoolFactory(initiative=initiative, vendor=provider)
    LicencePoolFactory(initiative=None, vendor=VendorFactory())
    client = as_user(reviewer)

    def ids(basename: str, params: dict) -> set[int]:
        return {r["id"] for r in _results(client.get(reverse(f"api:{basename}-list"), params))}

    assert ids("costcenter", {"department": sales.pk}) == {cc.pk}
    assert ids("aimodel", {"provider": provider.pk, "tier": ModelTier.SMALL}) == {small.pk}
    assert ids("aimodel", {"open_weights": "true"}) == {small.pk}
    assert ids("licencepool", {"initiative": initiative.pk}) == {pool.pk}
    assert ids("licencepool", {"vendor": provider.pk}) == {pool.pk}


# --- schema --------------------------------------------------------------------------------------------------------


def test_schema_endpoint_renders_for_a_logged_in_user(as_user, api_client, reviewer):
    assert api_client.get(reverse("schema")).status_code in (401, 403)
    response = as_user(reviewer).get(reverse("schema"), {"format": "json"})
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert "/api/initiatives/" in paths and "/api/licence-pools/{id}/" in paths


@pytest.mark.parametrize(("collection", "factory", "name", "detail"), [
    ("kpis", KPIFactory, "name", "api:kpi-detail"),
    ("business-cases", BusinessCaseFactory, "problem", "api:businesscase-detail"),
])
def test_the_schema_says_a_kpi_s_or_business_case_s_initiative_is_set_on_create_only(
        as_user, owner, initiative, other_initiative, admin_user, collection, factory, name, detail):
    """A KPI or a business case never moves to another initiative: PUT and PATCH show the field but refuse another
    value (its own is accepted and ignored), and the schema said they took it (a PUT even required it)."""
    schema = as_user(owner).get(reverse("schema"), {"format": "json"}).json()
    components = schema["components"]["schemas"]

    def body(path: str, method: str) -> dict:
        ref = schema["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        return components[ref.rsplit("/", 1)[1]]

    record = f"/api/{collection}/{{id}}/"
    for method in ("put", "patch"):
        assert "initiative" not in body(record, method)["properties"], method
    assert "initiative" not in body(record, "put").get("required", [])
    assert "initiative" in body(f"/api/{collection}/", "post")["required"]
    answer = schema["paths"][record]["patch"]["responses"]["200"]["content"]["application/json"]
    assert "initiative" in components[answer["schema"]["$ref"].rsplit("/", 1)[1]]["properties"]
    made = factory(initiative=initiative)
    moved = as_user(admin_user).patch(reverse(detail, args=[made.pk]),
                                      {"initiative": other_initiative.pk, name: "Renamed"}, format="json")
    assert moved.status_code == 400 and "initiative is read-only" in moved.json()["initiative"][0]
    kept = as_user(admin_user).patch(reverse(detail, args=[made.pk]),
                                     {"initiative": initiative.pk, name: "Renamed"}, format="json")
    assert kept.status_code == 200, kept.content
    assert kept.json()["initiative"] == initiative.pk and kept.json()[name] == "Renamed"


def test_schema_validates_without_warnings(tmp_path):
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out), stdout=io.StringIO())
    assert "/api/business-cases/" in out.read_text()


# The plan's locks: the services' refusals come back as 400 with their message ------------------------------------


def test_in_review_the_plan_is_refused_with_the_reason(as_user, owner, initiative):
    case = BusinessCaseFactory(initiative=initiative)
    kpi = KPIFactory(initiative=initiative)
    Initiative.objects.filter(pk=initiative.pk).update(stage=Stage.IN_REVIEW)
    client = as_user(owner)
    attempts = [
        client.patch(reverse("api:businesscase-detail", args=[case.pk]), {"expected_monthly_value": "9999999"},
                     format="json"),
        client.post(reverse("api:kpi-list"), {"initiative": initiative.pk, "name": "Extra"}, format="json"),
        client.patch(reverse("api:kpi-detail", args=[kpi.pk]), {"target": "1"}, format="json"),
        client.delete(reverse("api:kpi-detail", args=[kpi.pk])),
    ]
    for response in attempts:
        assert response.status_code == 400
        assert "cannot change while it is in review" in response.json()["non_field_errors"][0]
    cost = client.patch(reverse("api:initiative-detail", args=[initiative.pk]), {"declared_monthly_cost": "1"},
                        format="json")
    assert cost.status_code == 400 and "Withdraw it from review" in cost.json()["declared_monthly_cost"][0]
    renamed = client.patch(reverse("api:initiative-detail", args=[initiative.pk]), {"name": "Fine"}, format="json")
    assert renamed.status_code == 200
    assert KPI.objects.get(pk=kpi.pk).target == kpi.target


def test_an_ended_initiative_is_refused_with_the_reason(as_user, owner, admin_user, initiative):
    case = BusinessCaseFactory(initiative=initiative)
    Initiative.objects.filter(pk=initiative.pk).update(stage=Stage.RETIRED)
    attempts = [
        as_user(owner).patch(reverse("api:initiative-detail", args=[initiative.pk]), {"name": "Again"},
                             format="json"),
        as_user(owner).patch(reverse("api:businesscase-detail", args=[case.pk]), {"targets": "x"}, format="json"),
        as_user(admin_user).delete(reverse("api:businesscase-detail", args=[case.pk])),
    ]
    for response in attempts:
        assert response.status_code == 400
        assert response.json()["non_field_errors"] == [
            f"“{initiative.name}” is retired: an ended initiative is read-only. Register a new initiative to start "
            "again."]
    assert BusinessCase.objects.filter(pk=case.pk).exists()


@pytest.mark.parametrize("figure", ["1e12", "1e20", "100000000000", "-100000000000"])
def test_a_kpi_figure_past_its_limit_gets_the_same_message_as_on_the_page(as_user, owner, initiative, figure):
    answer = as_user(owner).post(reverse("api:kpi-list"), {"initiative": initiative.pk, "name": "Tickets",
                                                            "baseline": "0", "target": figure}, format="json")
    assert answer.status_code == 400
    assert answer.json()["target"] == [
        "A KPI figure is between -99,999,999,999.9999 and 99,999,999,999.9999 (11 digits before the point)."]
    assert not initiative.kpis.exists()
