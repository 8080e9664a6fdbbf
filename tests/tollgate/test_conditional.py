"""Optimistic concurrency: a record's ETag, and a write with a stale If-Match refused with 412, writing nothing."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from portfolio.choices import KpiDirection, Stage
from portfolio.models import Department, Initiative
from reviews.choices import ReportStatus
from tests.factories import (
    BusinessCaseFactory,
    DepartmentFactory,
    InitiativeFactory,
    KPIFactory,
    ValueReportFactory,
    VendorFactory,
    last_quarter_cycle_form,
)
from tests.portfolio.costs.factories import CostSourceFactory
from tollgate.conditional import ConditionalWritesMixin

pytestmark = pytest.mark.django_db


def client_of(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def detail(initiative: Initiative) -> str:
    return reverse("api:initiative-detail", args=[initiative.pk])


def draft_report(initiative: Initiative):
    """A draft value report of the initiative, running as a pilot with a business case and one KPI."""
    initiative.stage = Stage.PILOT
    initiative.save()
    BusinessCaseFactory(initiative=initiative)
    kpi = KPIFactory(initiative=initiative, baseline=D("0"), target=D("10"), direction=KpiDirection.INCREASE)
    return ValueReportFactory(initiative=initiative), kpi


def test_a_record_answers_with_a_tag_that_changes_when_the_record_does(owner, initiative):
    client = client_of(owner)
    first = client.get(detail(initiative))
    assert first.status_code == 200 and first["ETag"].startswith('"') and len(first["ETag"]) == 34
    assert client.get(detail(initiative))["ETag"] == first["ETag"]
    changed = client.patch(detail(initiative), {"name": "Renamed"}, format="json")
    assert changed.status_code == 200 and changed["ETag"] != first["ETag"]
    assert client.get(detail(initiative))["ETag"] == changed["ETag"]  # the write's answer is the record as read
    assert "ETag" not in client.get(reverse("api:initiative-list"))


def test_the_second_of_two_writers_who_read_the_same_version_is_refused_and_writes_nothing(owner, admin_user,
                                                                                          initiative):
    tag = client_of(owner).get(detail(initiative))["ETag"]
    first = client_of(admin_user).patch(detail(initiative), {"description": "Admin's text"}, format="json",
                                        HTTP_IF_MATCH=tag)
    assert first.status_code == 200
    second = client_of(owner).patch(detail(initiative), {"description": "Owner's text", "name": "Owner's name"},
                                    format="json", HTTP_IF_MATCH=tag)
    assert second.status_code == 412
    assert second.json()["detail"].startswith("This initiative has changed since you read it (its ETag is now "
                                              f"{first['ETag']}, you sent {tag}): nothing was written.")
    initiative.refresh_from_db()
    assert initiative.description == "Admin's text" and initiative.name != "Owner's name"
    again = client_of(owner).patch(detail(initiative), {"description": "Owner's text"}, format="json",
                                   HTTP_IF_MATCH=first["ETag"])
    assert again.status_code == 200


@pytest.mark.parametrize("header", ["*", "{tag}", '"0000", {tag}'])
def test_if_match_with_the_current_tag_or_any_lets_the_write_through(owner, initiative, header):
    tag = client_of(owner).get(detail(initiative))["ETag"]
    answer = client_of(owner).patch(detail(initiative), {"name": "Renamed"}, format="json",
                                    HTTP_IF_MATCH=header.format(tag=tag))
    assert answer.status_code == 200


def test_a_weak_tag_never_matches_and_no_header_is_the_last_write_wins(owner, initiative):
    tag = client_of(owner).get(detail(initiative))["ETag"]
    weak = client_of(owner).patch(detail(initiative), {"name": "Weak"}, format="json", HTTP_IF_MATCH=f"W/{tag}")
    assert weak.status_code == 412
    plain = client_of(owner).patch(detail(initiative), {"name": "Plain"}, format="json")
    assert plain.status_code == 200


def test_a_stale_delete_is_refused_and_the_row_stays(admin_user):
    department = DepartmentFactory()
    url = reverse("api:department-detail", args=[department.pk])
    tag = client_of(admin_user).get(url)["ETag"]
    assert client_of(admin_user).patch(url, {"name": "Renamed"}, format="json").status_code == 200
    refused = client_of(admin_user).delete(url, HTTP_IF_MATCH=tag)
    assert refused.status_code == 412 and Department.objects.filter(pk=department.pk).exists()
    fresh = client_of(admin_user).get(url)["ETag"]
    assert client_of(admin_user).delete(url, HTTP_IF_MATCH=fresh).status_code == 204


def test_an_action_on_a_value_report_honours_if_match(owner, initiative):
    report, kpi = draft_report(initiative)
    client = client_of(owner)
    url = reverse("reviews_api:report-detail", args=[report.pk])
    tag = client.get(url)["ETag"]
    body = {"outcome_count": 10, "kpi_actuals": [{"kpi": kpi.pk, "actual": "12"}]}
    saved = client.patch(url, body, format="json", HTTP_IF_MATCH=tag)
    assert saved.status_code == 200
    submit = reverse("reviews_api:report-submit", args=[report.pk])
    assert client.post(submit, HTTP_IF_MATCH=tag).status_code == 412
    report.refresh_from_db()
    assert report.status == ReportStatus.DRAFT
    assert client.post(submit, HTTP_IF_MATCH=saved["ETag"]).status_code == 200


def test_the_schema_documents_the_tag_the_header_and_the_412(api_client, admin_user):
    api_client.force_authenticate(admin_user)
    paths = api_client.get(reverse("schema"), {"format": "json"}).json()["paths"]
    record = paths["/api/initiatives/{id}/"]
    assert "ETag" in record["get"]["responses"]["200"]["headers"]
    for method in ("put", "patch", "delete"):
        assert "If-Match" in [p["name"] for p in record[method]["parameters"]], method
        assert "412" in record[method]["responses"], method
    assert "If-Match" not in [p["name"] for p in record["get"]["parameters"]]
    assert "412" not in paths["/api/initiatives/"]["post"]["responses"]
    assert "412" in paths["/api/reviews/reports/{id}/submit/"]["post"]["responses"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_writes_sent_at_once_with_the_same_tag_give_one_200_and_one_412(owner, admin_user, monkeypatch):
    """The second waits for the first's row lock, then compares its tag with the version the first wrote."""
    import threading
    import time

    from django.db import connections

    from portfolio import services
    from tests.factories import InitiativeFactory

    initiative = InitiativeFactory(owner=owner)
    tag = client_of(owner).get(detail(initiative))["ETag"]
    update = services.initiative_update

    def slow_update(**kwargs):  # the first write holds its lock while the second arrives
        time.sleep(0.5)
        return update(**kwargs)

    monkeypatch.setattr(services, "initiative_update", slow_update)
    statuses: list[int] = []

    def write(user, name: str, delay: float) -> None:
        try:
            time.sleep(delay)
            answer = client_of(user).patch(detail(initiative), {"name": name}, format="json", HTTP_IF_MATCH=tag)
            statuses.append(answer.status_code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write, args=(owner, "First", 0)),
               threading.Thread(target=write, args=(admin_user, "Second", 0.2))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(statuses) == [200, 412]
    initiative.refresh_from_db()
    assert initiative.name == "First"


def test_an_action_with_its_own_input_compares_the_record_as_read_not_its_input(reviewer, owner, initiative):
    from reviews import services as review_services

    report, kpi = draft_report(initiative)
    review_services.value_report_save_draft(actor=owner, report=report, fields={"outcome_count": 10},
                                            kpi_actuals={kpi.pk: D("12")})
    review_services.value_report_submit(actor=owner, report=report)
    client = client_of(reviewer)
    tag = client.get(reverse("reviews_api:report-detail", args=[report.pk]))["ETag"]
    reopen = reverse("reviews_api:report-reopen", args=[report.pk])
    assert client.post(reopen, {"reason": "Figures"}, format="json", HTTP_IF_MATCH='"stale"').status_code == 412
    assert client.post(reopen, {"reason": "Figures"}, format="json", HTTP_IF_MATCH=tag).status_code == 200


def test_a_lifecycle_transition_honours_the_initiatives_tag(owner, initiative):
    BusinessCaseFactory(initiative=initiative)
    KPIFactory(initiative=initiative, baseline=D("0"), target=D("10"), direction=KpiDirection.INCREASE)
    client = client_of(owner)
    tag = client.get(detail(initiative))["ETag"]
    assert client.patch(detail(initiative), {"name": "Renamed"}, format="json").status_code == 200
    url = reverse("governance_api:transitions", args=[initiative.pk])
    stale = client.post(url, {"transition": "submit", "reason": "Ready"}, format="json", HTTP_IF_MATCH=tag)
    assert stale.status_code == 412 and "This initiative has changed since you read it" in stale.json()["detail"]
    initiative.refresh_from_db()
    assert initiative.stage == Stage.PROPOSED
    fresh = client.get(detail(initiative))["ETag"]
    moved = client.post(url, {"transition": "submit", "reason": "Ready"}, format="json", HTTP_IF_MATCH=fresh)
    assert moved.status_code == 200, moved.content


def test_the_tag_does_not_depend_on_the_host_name_the_client_used(owner, initiative, settings):
    settings.ALLOWED_HOSTS = ["testserver", "tollgate.example.com"]
    client = client_of(owner)
    tag = client.get(detail(initiative), SERVER_NAME="tollgate.example.com")["ETag"]
    assert client.get(detail(initiative))["ETag"] == tag
    assert client.patch(detail(initiative), {"name": "Renamed"}, format="json", HTTP_IF_MATCH=tag).status_code == 200


def test_an_empty_if_match_is_refused_saying_so(owner, initiative):
    refused = client_of(owner).patch(detail(initiative), {"name": "X"}, format="json", HTTP_IF_MATCH="")
    assert refused.status_code == 412 and "your If-Match was empty" in refused.json()["detail"]


def test_submitting_a_report_answers_with_its_new_tag(owner, initiative):
    report, kpi = draft_report(initiative)
    client = client_of(owner)
    url = reverse("reviews_api:report-detail", args=[report.pk])
    client.patch(url, {"outcome_count": 10, "kpi_actuals": [{"kpi": kpi.pk, "actual": "12"}]}, format="json")
    submitted = client.post(reverse("reviews_api:report-submit", args=[report.pk]))
    assert submitted.status_code == 200 and submitted["ETag"] == client.get(url)["ETag"]


def test_the_schema_documents_if_match_on_transitions(api_client, admin_user):
    api_client.force_authenticate(admin_user)
    paths = api_client.get(reverse("schema"), {"format": "json"}).json()["paths"]
    transitions = paths["/api/governance/initiatives/{id}/transitions/"]["post"]
    assert "If-Match" in [p["name"] for p in transitions["parameters"]] and "412" in transitions["responses"]
    assert "ETag" in paths["/api/reviews/reports/{id}/submit/"]["post"]["responses"]["200"]["headers"]


# A valid create of each endpoint whose records carry an ETag: its route name and a body (built in the test's database).
CREATES = {
    "api:initiative-list": lambda: {"name": "Clause extractor", "description": "Reads contracts.",
                                    "category": "document_processing", "department": DepartmentFactory().pk,
                                    "declared_monthly_cost": "450.00"},
    "api:businesscase-list": lambda: {"initiative": InitiativeFactory().pk, "problem": "Read by hand.",
                                      "expected_monthly_volume": 1000, "tco_inference": "300.00"},
    "api:kpi-list": lambda: {"initiative": InitiativeFactory().pk, "name": "Tickets deflected"},
    "api:department-list": lambda: {"name": "Legal", "code": "legal"},
    "api:costcenter-list": lambda: {"code": "CC-LEGAL", "name": "Legal", "department": DepartmentFactory().pk},
    "api:vendor-list": lambda: {"name": "Acme AI"},
    "api:aimodel-list": lambda: {"provider": VendorFactory().pk, "name": "acme-large"},
    "api:licencepool-list": lambda: {"tool": "Copilot", "vendor": VendorFactory().pk, "seats_purchased": 10,
                                     "price_per_seat_month": "19.00", "initiative": InitiativeFactory().pk},
    "api:costsource-list": lambda: {"name": "openai-org", "type": "openai", "settings": {"organisation": "org-1"},
                                    "credential_env": "OPENAI_ADMIN_KEY", "schedule": "daily", "enabled": True},
    "api:allocationrule-list": lambda: {"source": CostSourceFactory().pk, "order": 1, "key": "namespace",
                                        "match": "prefix", "value": "ml-", "initiative": InitiativeFactory().pk},
    "api:person-list": lambda: {"email": "nina@example.com", "first_name": "Nina", "last_name": "Novak",
                                "roles": ["owner"], "invite": False},
    "governance_api:usecase-list": lambda: {"code": "etag-created-test", "name": "Claims triage",
                                            "job": "Route claims to the right desk."},
    "reviews_api:cycle-list": last_quarter_cycle_form,
}


def _conditional_creates() -> set[str]:
    """The route names of every list endpoint whose viewset uses the mixin and creates records."""
    from django.urls import URLPattern, URLResolver, get_resolver

    found: set[str] = set()

    def walk(patterns, namespace: str) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, pattern.namespace or namespace)
            elif isinstance(pattern, URLPattern):
                view = pattern.callback
                cls, actions = getattr(view, "cls", None), getattr(view, "actions", None) or {}
                if cls and issubclass(cls, ConditionalWritesMixin) and "create" in actions.values():
                    found.add(f"{namespace}:{pattern.name}")

    walk(get_resolver().url_patterns, "")
    return found


def test_every_create_of_a_tagged_record_is_covered_below():
    assert _conditional_creates() == set(CREATES)


@pytest.mark.parametrize("route", sorted(CREATES))
def test_a_create_answers_with_the_tag_a_get_of_the_new_record_gives(admin_user, route):
    client = client_of(admin_user)
    created = client.post(reverse(route), CREATES[route](), format="json")
    assert created.status_code == 201, created.content
    key = "code" if route.startswith("governance_api:") else "id"
    read = client.get(reverse(route.replace("-list", "-detail"), args=[created.json()[key]]))
    assert created["ETag"] == read["ETag"]
    changed = client.patch(reverse(route.replace("-list", "-detail"), args=[created.json()[key]]), {},
                           format="json", HTTP_IF_MATCH=created["ETag"])
    assert changed.status_code == 200, changed.content


def test_the_schema_documents_the_tag_of_a_created_record(api_client, admin_user):
    api_client.force_authenticate(admin_user)
    paths = api_client.get(reverse("schema"), {"format": "json"}).json()["paths"]
    for path in ("/api/initiatives/", "/api/people/", "/api/governance/use-cases/"):
        assert "ETag" in paths[path]["post"]["responses"]["201"]["headers"], path
