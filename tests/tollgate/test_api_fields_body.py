"""A body field the API cannot honour is a 400 naming it (tollgate.api_fields.Serializer), never a 200 that ignored it:
a field the record does not have, and a read-only field sent with another value than the record has. A client that
reads a record, changes one value and sends the whole of it back keeps working."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal as D
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import resolve, reverse
from rest_framework.test import APIClient

from governance.models import UseCase
from governance.policies import BY_KEY as POLICIES
from portfolio.choices import Stage
from portfolio.models import KPI, CostSource, Initiative
from reviews.choices import ReportStatus
from reviews.models import ValueReport
from tests.factories import (
    BusinessCaseFactory,
    DepartmentFactory,
    KPIFactory,
    UserFactory,
    ValueReportFactory,
    VendorFactory,
)
from tests.portfolio.costs.factories import CostSourceFactory
from tests.tollgate.test_api_schema_fuzz import MODELS_OF_VIEWS_WITHOUT_QUERYSET, complete_the_demo
from tollgate.roles import Role

pytestmark = pytest.mark.django_db

UNKNOWN = "colour"
PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def client_of(api_client):
    def _as(user: Any) -> APIClient:
        api_client.force_authenticate(user)
        return api_client

    return _as


@pytest.fixture
def report(initiative):
    initiative.stage = Stage.PILOT
    initiative.save()
    BusinessCaseFactory(initiative=initiative)
    KPIFactory(initiative=initiative, name="Tickets deflected", baseline=D("0"), target=D("4000"),
               value_per_unit=D("4.50"))
    return ValueReportFactory(initiative=initiative)


@pytest.fixture
def use_case(db):
    return UseCase.objects.create(code="invoice-capture", name="Invoice capture", job="Read invoices")


def _refused(response: Any, field: str) -> str:
    assert response.status_code == 400, response.content
    messages = response.json()[field]
    assert len(messages) == 1
    return messages[0]


# --- a field the record does not have ---------------------------------------------------------------------------


def test_an_unknown_field_is_refused_naming_it_and_what_the_record_accepts(client_of, owner, initiative):
    url = reverse("api:initiative-detail", args=[initiative.pk])
    response = client_of(owner).patch(url, {"name": "Renamed", UNKNOWN: "blue"}, format="json")
    assert _refused(response, UNKNOWN) == (
        "“colour” is not a field of this record; it accepts: name, description, category, department, cost_center, "
        "owner, delegates, vendors, ai_models, start_date, start_date_reason, tags, declared_monthly_cost.")
    assert Initiative.objects.get(pk=initiative.pk).name == initiative.name  # nothing written


def test_an_unknown_field_is_named_with_the_other_errors(client_of, owner):
    response = client_of(owner).post(reverse("api:initiative-list"), {"name": "", "purpose": "x"}, format="json")
    assert response.status_code == 400
    assert {"name", "department", "purpose"} <= set(response.json())
    assert not Initiative.objects.exists()


def test_unknown_fields_are_refused_on_each_app_s_records(client_of, owner, admin_user, initiative, report, use_case):
    kpi = KPI.objects.get(initiative=initiative)
    source = CostSourceFactory()
    person = UserFactory(role=Role.OWNER)
    cases = [
        (owner, "post", reverse("api:kpi-list"), {"initiative": initiative.pk, "name": "CSAT", "unit": "points",
                                                  "target": "5", "targte": "6"}, "targte"),
        (owner, "patch", reverse("api:kpi-detail", args=[kpi.pk]), {"name": "CSAT", UNKNOWN: 1}, UNKNOWN),
        (admin_user, "post", reverse("api:costsource-list"), {"name": "gpu", "type": "csv", "credential": "s3cr3t"},
         "credential"),
        (admin_user, "patch", reverse("api:costsource-detail", args=[source.pk]), {"enabled": False, UNKNOWN: 1},
         UNKNOWN),
        (admin_user, "patch", reverse("api:person-detail", args=[person.pk]), {"title": "Lead", "role": "admin"},
         "role"),
        (admin_user, "post", reverse("api:person-list"), {"email": "new@example.com", "first_name": "N",
                                                          "last_name": "N", "invite": False, "manager": 1},
         "manager"),
        (admin_user, "patch", reverse("governance_api:policy-detail", args=["intake.quorum"]),
         {"value": "3", "reason": "more eyes"}, "reason"),
        (admin_user, "patch", reverse("governance_api:usecase-detail", args=[use_case.code]),
         {"name": "Invoices", UNKNOWN: 1}, UNKNOWN),
        (owner, "post", reverse("governance_api:transitions", args=[initiative.pk]),
         {"transition": "withdraw", "comment": "typo of reason"}, "comment"),
    ]
    for user, method, url, body, field in cases:
        response = getattr(client_of(user), method)(url, body, format="json")
        assert "is not a field of this record; it accepts: " in _refused(response, field), (url, body)
    assert not KPI.objects.filter(name="CSAT").exists() and CostSource.objects.get(pk=source.pk).enabled
    assert not get_user_model().objects.filter(email="new@example.com").exists()
    assert Initiative.objects.get(pk=initiative.pk).stage == Stage.PILOT


def test_an_unknown_field_of_a_nested_item_is_refused_under_the_item(client_of, owner, report):
    kpi = report.initiative.kpis.get()
    url = reverse("reviews_api:report-detail", args=[report.pk])
    response = client_of(owner).patch(url, {"narrative": "Went well", "kpi_actuals": [
        {"kpi": kpi.pk, "actual": "10"}, {"kpi": kpi.pk + 1000, "value": "12"}]}, format="json")
    assert response.status_code == 400, response.content
    assert response.json()["kpi_actuals"]["1"]["value"] == [  # by the item's index, as the API names items
        "“value” is not a field of this record; it accepts: kpi, actual, stated_value, evidence."]
    report.refresh_from_db()
    assert report.narrative == "" and not report.actuals.exists()


def test_a_removed_field_is_refused_saying_why(client_of, admin_user, use_case):
    response = client_of(admin_user).patch(reverse("governance_api:usecase-detail", args=[use_case.code]),
                                           {"not_this": []}, format="json")
    assert _refused(response, "not_this").endswith(
        "is_active. Removed in catalogue 2026.12: the scorer never used it. Leave the field out.")


# --- a read-only field ---------------------------------------------------------------------------------------------


def test_a_report_s_status_sent_to_change_it_names_the_action_that_does(client_of, owner, report):
    url = reverse("reviews_api:report-detail", args=[report.pk])
    response = client_of(owner).patch(url, {"status": "submitted", "narrative": "Done"}, format="json")
    assert _refused(response, "status") == (
        f"status is read-only: submit the report with POST /api/reviews/reports/{report.pk}/submit/ (reviewers "
        "reopen it with .../reopen/ or decide it with .../verdict/).")
    report.refresh_from_db()
    assert report.status == ReportStatus.DRAFT and report.narrative == ""
    moved = client_of(owner).patch(url, {"cycle": report.cycle_id + 1, "initiative": report.initiative_id + 1},
                                   format="json")
    assert moved.status_code == 400
    assert moved.json() == {"cycle": ["cycle is read-only: a report stays in the cycle it was opened for."],
                            "initiative": ["initiative is read-only: a report stays with its initiative."]}


def test_an_initiative_s_stage_names_its_transitions_and_a_plain_read_only_field_its_value(client_of, owner,
                                                                                            initiative):
    url = reverse("api:initiative-detail", args=[initiative.pk])
    response = client_of(owner).patch(url, {"stage": Stage.PRODUCTION}, format="json")
    assert f"POST /api/governance/initiatives/{initiative.pk}/transitions/" in _refused(response, "stage")
    shown = client_of(owner).get(url).json()
    stale = client_of(owner).patch(url, {"created_at": "2020-01-01T00:00:00Z"}, format="json")
    assert _refused(stale, "created_at") == (
        f"created_at is read-only: leave it out, or send it as the record has it (\"{shown['created_at']}\").")
    computed = client_of(owner).patch(url, {"cost_last_month": "99.00"}, format="json")
    assert _refused(computed, "cost_last_month") == (
        "cost_last_month is read-only: leave it out, or send it as the record has it (null).")


def test_a_read_only_field_is_accepted_empty_on_create_and_refused_with_a_value(client_of, owner):
    department = DepartmentFactory()
    body = {"name": "Clause finder", "description": "Finds clauses", "category": "document_processing",
            "department": department.pk, "declared_monthly_cost": "10.00"}
    url = reverse("api:initiative-list")
    refused = client_of(owner).post(url, {**body, "created_at": "2020-01-01T00:00:00Z"}, format="json")
    assert _refused(refused, "created_at") == (
        "created_at is read-only: Tollgate sets it; leave it out of a new record (or send it empty).")
    staged = client_of(owner).post(url, {**body, "stage": "production"}, format="json")
    assert "/api/governance/initiatives/<id>/transitions/" in _refused(staged, "stage")
    assert not Initiative.objects.exists()
    template = {"id": None, "url": "", "stage": "", "vendor_names": [], "business_case": None, "created_at": None}
    created = client_of(owner).post(url, {**body, **template}, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["stage"] == Stage.PROPOSED


# --- GET, change one value, send the whole record back --------------------------------------------------------------


def _round_trip(client: APIClient, url: str, method: str, change: dict[str, Any]) -> dict[str, Any]:
    shown = client.get(url)
    assert shown.status_code == 200
    response = getattr(client, method)(url, {**shown.json(), **change}, format="json",
                                       HTTP_IF_MATCH=shown["ETag"] if shown.has_header("ETag") else "*")
    assert response.status_code == 200, response.content
    answer = response.json()
    for name, value in change.items():
        assert answer[name] == value, name
    return answer


def test_an_initiative_read_and_put_back_whole_is_saved(client_of, owner, initiative):
    url = reverse("api:initiative-detail", args=[initiative.pk])
    _round_trip(client_of(owner), url, "put", {"name": "Renamed by a script"})
    _round_trip(client_of(owner), url, "patch", {"description": "Patched whole"})


def test_a_kpi_and_a_business_case_read_and_put_back_whole_are_saved(client_of, owner, initiative):
    kpi = KPIFactory(initiative=initiative, name="CSAT")
    _round_trip(client_of(owner), reverse("api:kpi-detail", args=[kpi.pk]), "put", {"name": "CSAT score"})
    case = BusinessCaseFactory(initiative=initiative)
    _round_trip(client_of(owner), reverse("api:businesscase-detail", args=[case.pk]), "patch",
                {"problem": "Slow contract reviews"})


def test_a_value_report_read_and_patched_back_whole_is_saved(client_of, owner, report):
    kpi = report.initiative.kpis.get()
    url = reverse("reviews_api:report-detail", args=[report.pk])
    client = client_of(owner)
    assert client.patch(url, {"kpi_actuals": [{"kpi": kpi.pk, "actual": "10"}]}, format="json").status_code == 200
    shown = client.get(url).json()
    assert shown["kpi_actuals"] and shown["figures"]["value"] is not None
    answer = _round_trip(client, url, "patch", {"narrative": "Edited in a script",
                                                "kpi_actuals": [{**shown["kpi_actuals"][0], "actual": "12.0000"}]})
    assert answer["status"] == ReportStatus.DRAFT
    assert ValueReport.objects.get(pk=report.pk).actuals.get().actual == D("12")


def test_a_cost_source_read_and_put_back_whole_is_saved(client_of, admin_user):
    source = CostSourceFactory()
    _round_trip(client_of(admin_user), reverse("api:costsource-detail", args=[source.pk]), "put", {"enabled": False})


def test_a_person_read_and_patched_back_whole_is_saved(client_of, admin_user):
    person = UserFactory(role=Role.OWNER, first_name="Nina", last_name="Novak")
    client = client_of(admin_user)
    url = reverse("api:person-detail", args=[person.pk])
    _round_trip(client, url, "patch", {"title": "Head of claims"})
    renamed = client.patch(url, {"first_name": "Nora"}, format="json")
    assert _refused(renamed, "first_name") == (
        'first_name is read-only: leave it out, or send it as the record has it ("Nina").')


def test_governance_records_read_and_sent_back_whole_are_saved(client_of, admin_user, use_case):
    client = client_of(admin_user)
    _round_trip(client, reverse("governance_api:policy-detail", args=["intake.quorum"]), "patch", {"value": "3"})
    refused = client.patch(reverse("governance_api:policy-detail", args=["intake.quorum"]),
                           {"value": "3", "maximum": "20"}, format="json")
    assert _refused(refused, "maximum") == "maximum is read-only: the allowed range is Tollgate's."
    _round_trip(client, reverse("governance_api:usecase-detail", args=[use_case.code]), "put",
                {"name": "Invoice reading"})


# --- forms and uploads ---------------------------------------------------------------------------------------------


def test_a_multipart_upload_keeps_working_and_its_form_fields_are_checked(client_of, owner, report, settings,
                                                                          tmp_path):
    settings.MEDIA_ROOT = tmp_path
    url = reverse("reviews_api:attachment-list")
    client = client_of(owner)
    uploaded = client.post(url, {"report": report.pk, "file": SimpleUploadedFile("survey.pdf", PDF_BYTES),
                                 "csrfmiddlewaretoken": "x", "format": "json"}, format="multipart")
    assert uploaded.status_code == 201, uploaded.content
    refused = client.post(url, {"report": report.pk, "file": SimpleUploadedFile("survey.pdf", PDF_BYTES),
                                "caption": "Survey"}, format="multipart")
    assert "it accepts: report, file." in _refused(refused, "caption")
    # A client sending the shape a GET shows, its read-only fields empty, is not told they are "not a field".
    shaped = client.post(url, {"report": report.pk, "file": SimpleUploadedFile("survey.pdf", PDF_BYTES), "id": "",
                               "original_name": ""}, format="multipart")
    assert shaped.status_code == 201, shaped.content
    named = client.post(url, {"report": report.pk, "file": SimpleUploadedFile("survey.pdf", PDF_BYTES),
                              "original_name": "renamed.pdf"}, format="multipart")
    assert "original_name is read-only" in _refused(named, "original_name")
    fraction = client.post(url, {"report": "1.5", "file": SimpleUploadedFile("survey.pdf", PDF_BYTES)},
                           format="multipart")
    assert fraction.status_code == 400 and list(fraction.json()) == ["report"]  # not report 1


def test_a_form_round_trip_compares_text_with_the_record_s_values(client_of, owner, initiative):
    """A form sends text: "12" for 12, "" for null; a record's values sent back that way are the same values."""
    url = reverse("api:initiative-detail", args=[initiative.pk])
    shown = client_of(owner).get(url).json()
    body = {"id": str(shown["id"]), "stage": shown["stage"], "cost_last_month": "", "name": "From a form"}
    response = client_of(owner).patch(url, body, format="multipart")
    assert response.status_code == 200, response.content


def test_a_date_time_written_another_way_is_the_same_instant(client_of, owner, initiative):
    """Python's isoformat() writes +00:00 for Z; JavaScript's toISOString() three places of a fraction: a script that
    parses the record's dates and writes them back sends the same instants, refused as changed before."""
    url = reverse("api:initiative-detail", args=[initiative.pk])
    client = client_of(owner)
    shown = client.get(url).json()
    created = datetime.fromisoformat(shown["created_at"].replace("Z", "+00:00"))
    for written in (created.isoformat(), created.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                    created.astimezone(timezone(timedelta(hours=2))).isoformat()):
        body = {"created_at": written, "updated_at": client.get(url).json()["updated_at"], "description": written}
        assert client.patch(url, body, format="json").status_code == 200, written
    later = (created + timedelta(seconds=1)).isoformat()
    assert "created_at is read-only" in _refused(client.patch(url, {"created_at": later}, format="json"),
                                                 "created_at")


def test_a_form_sends_a_list_as_its_key_repeated(client_of, owner, initiative):
    """`vendor_names=OpenAI&vendor_names=Zendesk`: the whole list is compared, not its last value."""
    initiative.vendors.set([VendorFactory(name="OpenAI"), VendorFactory(name="Zendesk")])
    url = reverse("api:initiative-detail", args=[initiative.pk])
    client = client_of(owner)
    names = client.get(url).json()["vendor_names"]
    assert len(names) == 2
    body = {"name": "From a form", "vendor_names": names}
    assert client.patch(url, body, format="multipart").status_code == 200
    assert "vendor_names is read-only" in _refused(
        client.patch(url, {"vendor_names": names[:1]}, format="multipart"), "vendor_names")


def test_a_line_break_counts_once_against_a_limit_and_is_stored_so(client_of, owner, report):
    """A 10,000-character narrative with CRLF line breaks (as a browser or a Windows script sends them) is within
    the 10,000 limit: it used to be refused as 10,000 plus one per line break."""
    text = "\r\n".join(["x" * 99] * 100) + "x"
    assert len(text.replace("\r\n", "\n")) == 10_000
    url = reverse("reviews_api:report-detail", args=[report.pk])
    assert client_of(owner).patch(url, {"narrative": text}, format="json").status_code == 200
    assert ValueReport.objects.get(pk=report.pk).narrative == text.replace("\r\n", "\n")


def test_the_token_endpoint_takes_its_own_fields(api_client, owner):
    response = api_client.post(reverse("api_token"), {"username": owner.username, "password": "x"}, format="json")
    assert response.status_code == 400 and "non_field_errors" in response.json()


# --- every write of the API ------------------------------------------------------------------------------------------

# Writes whose body is not checked here, with why.
NOT_WALKED = {
    # Not a record: a client's credentials for a token, as DRF's own endpoint takes them.
    ("post", "/api/auth/token/"),
    # Submit takes no body at all and refuses one (tests/reviews/test_api.py).
    ("post", "/api/reviews/reports/{id}/submit/"),
}


def _real_value(path: str) -> str:
    """A real value of the path's one parameter (an id, a use case's code, a policy's key)."""
    if path.startswith("/api/governance/policies/"):
        return "intake.quorum" if "intake.quorum" in POLICIES else sorted(POLICIES)[0]
    probe = path.replace(path[path.index("{"):path.index("}") + 1], "1")
    view = resolve(probe).func
    cls = getattr(view, "cls", None) or getattr(view, "view_class", None)
    model = next((m for prefix, m in MODELS_OF_VIEWS_WITHOUT_QUERYSET.items() if path.startswith(prefix)), None) \
        or getattr(getattr(cls, "queryset", None), "model", None) \
        or getattr(getattr(getattr(cls, "serializer_class", None), "Meta", None), "model", None)
    assert model is not None, path
    lookup = getattr(cls, "lookup_field", "pk")
    return str(model._default_manager.order_by("pk").values_list(lookup, flat=True).first())


def test_every_write_of_the_api_refuses_a_field_it_does_not_have(demo, settings):
    """Walks the OpenAPI schema: every POST, PUT and PATCH that takes a body answers 400 under a field it does not
    have, on a real record of the demo company, so that a new endpoint is covered the day it is added."""
    settings.API_RATE_LIMIT = ""
    complete_the_demo()
    # The administrator may make every write; the decisions taken independently (an initiative's scores, a report's
    # verdict) are a reviewer's.
    people = [get_user_model().objects.get(username=name) for name in ("admin", "reviewer")]
    client = APIClient()
    client.force_authenticate(people[0])
    schema = client.get(reverse("schema"), {"format": "json"}).json()
    walked, failures = 0, []
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if method not in ("post", "put", "patch") or "requestBody" not in operation:
                continue
            if (method, path) in NOT_WALKED:
                continue
            url = path.replace(path[path.index("{"):path.index("}") + 1], _real_value(path)) if "{" in path else path
            content = operation["requestBody"]["content"]
            kind = "json" if "application/json" in content else "multipart"
            for person in people:
                client.force_authenticate(person)
                response = getattr(client, method)(url, {"zz_not_a_field": "1"}, format=kind)
                if response.status_code != 403:
                    break
            walked += 1
            body = response.json() if response.headers.get("Content-Type", "").startswith("application/json") else {}
            if response.status_code != 400 or "is not a field of this record" not in str(body.get("zz_not_a_field")):
                failures.append(f"{method.upper()} {path}: {response.status_code} {str(body)[:200]}")
    assert walked > 30
    assert not failures, "\n".join(failures)
