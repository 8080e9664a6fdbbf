"""Reviews API: same rules as the pages (tollgate.roles), writes through the services."""

from __future__ import annotations

import html
from datetime import date, datetime, timedelta
from decimal import Decimal as D

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from governance.services import initiative_transition
from portfolio.choices import KpiDirection, KpiKind, Stage
from portfolio.services import initiatives_hand_over
from reviews import calculations, services
from reviews.choices import ReportStatus
from reviews.models import Notification, ReportAttachment, ReviewCycle, ValueReport, Verdict
from tests.factories import (
    BusinessCaseFactory,
    InitiativeFactory,
    KPIFactory,
    ReviewCycleFactory,
    UserFactory,
    ValueReportFactory,
    last_quarter_cycle_form,
)
from tollgate.roles import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def report(initiative):
    initiative.stage = Stage.PILOT
    initiative.save()
    BusinessCaseFactory(initiative=initiative)
    KPIFactory(initiative=initiative, name="Tickets deflected", baseline=D("0"), target=D("4000"),
               direction=KpiDirection.INCREASE, value_per_unit=D("4.50"))
    return ValueReportFactory(initiative=initiative)


def url(name: str, *args) -> str:
    return reverse(f"reviews_api:{name}", args=args)


def as_user(api_client, user):
    api_client.force_authenticate(user)
    return api_client


def kpi_of(report):
    return report.initiative.kpis.get()


def kpi_of_named(report, name: str):
    return report.initiative.kpis.get(name=name)


def test_owner_patches_a_draft_then_submits(api_client, owner, report):
    client = as_user(api_client, owner)
    body = {"outcome_count": 15000, "narrative": "Good quarter",
            "kpi_actuals": [{"kpi": kpi_of(report).pk, "actual": "5000"}]}
    response = client.patch(url("report-detail", report.pk), body, format="json")
    assert response.status_code == 200, response.data
    assert response.data["figures"]["value"] == "22500.00"
    assert response.data["figures"]["cost"] == "7350.00" and response.data["figures"]["cost_estimated"] is True
    assert response.data["figures"]["cost_partly_estimated"] is True  # all of it estimated is part of it too
    assert response.data["figures"]["cost_label"] == "estimated from the business case"
    assert response.data["kpi_actuals"] == [
        {"kpi": kpi_of(report).pk, "actual": "5000.0000", "stated_value": None, "evidence": ""}]
    assert response.data["figures"]["kpis"] == [
        {"kpi": kpi_of(report).pk, "name": kpi_of(report).name, "kind": "count", "value": "22500.00",
         "no_value_reason": None, "target_met": True}]
    response = client.post(url("report-submit", report.pk))
    assert response.status_code == 200 and response.data["status"] == ReportStatus.SUBMITTED


def test_the_report_says_whom_it_was_submitted_for_read_only(api_client, owner, other_owner, admin_user, report):
    """submitted_for is the owner at submission, kept through a hand-over; a body naming someone else is refused
    and writes nothing."""
    client = as_user(api_client, admin_user)
    body = {"outcome_count": 15000, "kpi_actuals": [{"kpi": kpi_of(report).pk, "actual": "5000"}]}
    refused = client.patch(url("report-detail", report.pk), {**body, "submitted_for": other_owner.pk}, format="json")
    assert refused.status_code == 400
    assert refused.data["submitted_for"] == ["submitted_for is read-only: submitting the report records the "
                                             "initiative's owner of the time."]
    assert ValueReport.objects.get(pk=report.pk).outcome_count is None
    assert client.patch(url("report-detail", report.pk), body, format="json").status_code == 200
    assert client.post(url("report-submit", report.pk)).data["submitted_for"] == owner.pk

    initiatives_hand_over(actor=admin_user, from_user=owner, to_user=other_owner)

    data = client.get(url("report-detail", report.pk)).data
    assert (data["submitted_by"], data["submitted_for"]) == (admin_user.pk, owner.pk)


def test_a_kpi_given_twice_is_400_and_nothing_is_written(api_client, owner, report):
    kpi = kpi_of(report).pk
    body = {"kpi_actuals": [{"kpi": kpi, "actual": "1"}, {"kpi": kpi, "actual": "2"}]}
    response = as_user(api_client, owner).patch(url("report-detail", report.pk), body, format="json")
    assert response.status_code == 400
    assert response.data["kpi_actuals"] == [f"KPI {kpi} appears twice: give each KPI once."]
    assert not report.actuals.exists()


def test_submit_without_actuals_is_400_naming_the_fields(api_client, owner, report):
    response = as_user(api_client, owner).post(url("report-submit", report.pk))
    assert response.status_code == 400 and set(response.data) == {"kpi_actuals", "outcome_count"}
    assert ValueReport.objects.get(pk=report.pk).status == ReportStatus.DRAFT


def test_patch_of_an_actual_for_a_foreign_kpi_is_400(api_client, owner, report, other_initiative):
    foreign = KPIFactory(initiative=other_initiative)
    response = as_user(api_client, owner).patch(url("report-detail", report.pk),
                                                {"kpi_actuals": [{"kpi": foreign.pk, "actual": "1"}]}, format="json")
    assert response.status_code == 400 and "kpi_actuals" in response.data


def test_status_is_read_only_in_patch(api_client, owner, report):
    """A status sent to be changed is refused, naming the action that changes it (it was ignored with a 200)."""
    response = as_user(api_client, owner).patch(url("report-detail", report.pk), {"status": "submitted"},
                                                format="json")
    assert response.status_code == 400 and ValueReport.objects.get(pk=report.pk).status == ReportStatus.DRAFT
    assert f"POST /api/reviews/reports/{report.pk}/submit/" in response.json()["status"][0]


@pytest.mark.parametrize("who", ["other_owner", "reviewer", "executive"])
def test_others_cannot_patch_or_submit(request, api_client, report, who):
    client = as_user(api_client, request.getfixturevalue(who))
    assert client.patch(url("report-detail", report.pk), {"narrative": "x"}, format="json").status_code == 403
    assert client.post(url("report-submit", report.pk)).status_code == 403
    assert ValueReport.objects.get(pk=report.pk).narrative == ""


@pytest.fixture
def submitted(owner, report):
    services.value_report_save_draft(actor=owner, report=report, fields={"outcome_count": 10},
                                     kpi_actuals={kpi_of(report).pk: D("10")})
    return services.value_report_submit(actor=owner, report=report)


def test_reviewer_gives_a_verdict(api_client, reviewer, submitted):
    response = as_user(api_client, reviewer).post(url("report-verdict", submitted.pk),
                                                  {"decision": "continue", "rationale": "On track."}, format="json")
    assert response.status_code == 201 and response.data["decision"] == "continue"
    assert Verdict.objects.get().reviewer == reviewer
    again = api_client.post(url("report-verdict", submitted.pk), {"decision": "scale", "rationale": "x"},
                            format="json")
    assert again.status_code == 400


def test_verdict_segregation_on_the_api(api_client, submitted, initiative):
    owning_reviewer = UserFactory(role=Role.REVIEWER)
    initiative.delegates.add(owning_reviewer)
    response = as_user(api_client, owning_reviewer).post(url("report-verdict", submitted.pk),
                                                         {"decision": "scale", "rationale": "Ours."}, format="json")
    assert response.status_code == 403 and not Verdict.objects.exists()


def test_a_verdict_refused_for_segregation_says_why_as_the_page_does(api_client, client, submitted, initiative, owner):
    from portfolio.models import Profile

    owner.groups.add(*UserFactory(role=Role.REVIEWER).groups.all())  # the owner is a reviewer too
    for_the_owner = UserFactory(role=Role.REVIEWER)
    Profile.objects.get_or_create(user=owner)[0].delegates.add(for_the_owner)
    body = {"decision": "scale", "rationale": "Ours."}
    owner = type(owner).objects.get(pk=owner.pk)  # its roles read afresh
    for user, relation in ((owner, "you own it"), (for_the_owner, "you are its owner's delegate")):
        response = as_user(api_client, user).post(url("report-verdict", submitted.pk), body, format="json")
        client.force_login(user)
        page = client.post(reverse("reviews:report_verdict", args=[submitted.pk]), body)
        said = f"Your role allows this, but not on this one: {relation}, and nobody scores"
        assert response.status_code == 403 and response.data["detail"].startswith(said)
        assert page.status_code == 403 and said in html.unescape(page.content.decode())
    assert not Verdict.objects.exists()


def test_kill_verdict_on_the_api_kills_the_initiative(api_client, reviewer, submitted, initiative):
    response = as_user(api_client, reviewer).post(url("report-verdict", submitted.pk),
                                                  {"decision": "kill", "rationale": "No value."}, format="json")
    assert response.status_code == 201
    initiative.refresh_from_db()
    assert initiative.stage == Stage.KILLED


def test_reopen_needs_a_reason(api_client, reviewer, submitted):
    client = as_user(api_client, reviewer)
    assert client.post(url("report-reopen", submitted.pk), {}, format="json").status_code == 400
    response = client.post(url("report-reopen", submitted.pk), {"reason": "Recheck."}, format="json")
    assert response.status_code == 200 and response.data["status"] == ReportStatus.DRAFT
    assert response.data["reopened_reason"] == "Recheck."


def test_reviewer_opens_a_cycle_idempotently(api_client, reviewer):
    InitiativeFactory(stage=Stage.PRODUCTION)
    body = last_quarter_cycle_form()
    client = as_user(api_client, reviewer)
    assert client.post(url("cycle-list"), body, format="json").status_code == 201
    again = client.post(url("cycle-list"), body, format="json")
    assert again.status_code == 200  # the cycle existed: nothing was created, only missing reports added
    assert again.data["name"] == body["name"] and "Location" not in again
    assert ReviewCycle.objects.count() == 1 and ValueReport.objects.count() == 1


def test_opening_a_cycle_again_with_another_due_date_or_once_closed_is_400(api_client, reviewer):
    body = last_quarter_cycle_form()
    client = as_user(api_client, reviewer)
    assert client.post(url("cycle-list"), body, format="json").status_code == 201
    later = date.fromisoformat(body["due_on"]) + timedelta(days=16)
    response = client.post(url("cycle-list"), {**body, "due_on": f"{later:%Y-%m-%d}"}, format="json")
    assert response.status_code == 400 and set(response.data) == {"due_on"}
    assert response.data["due_on"][0].startswith(
        f"{body['name']} is already open with due_on {body['due_on']}, not {later:%Y-%m-%d}.")
    assert f"{ReviewCycle.objects.get().due_on:%Y-%m-%d}" == body["due_on"]
    assert client.post(url("cycle-list"), body, format="json").status_code == 200  # identical: idempotent
    services.review_cycle_close(actor=reviewer, cycle=ReviewCycle.objects.get())
    closed = client.post(url("cycle-list"), body, format="json")
    assert closed.status_code == 400 and "a closed cycle is not opened again" in closed.data["name"][0]


def test_a_reviewer_extends_a_cycle_with_patch_and_closes_it_with_post(api_client, reviewer, owner):
    body = last_quarter_cycle_form()
    client = as_user(api_client, reviewer)
    cycle_id = client.post(url("cycle-list"), body, format="json").data["id"]
    later = date.fromisoformat(body["due_on"]) + timedelta(days=14)
    response = client.patch(url("cycle-detail", cycle_id), {"due_on": f"{later:%Y-%m-%d}"}, format="json")
    assert response.status_code == 200 and response.data["due_on"] == f"{later:%Y-%m-%d}"
    assert ReviewCycle.objects.get().due_on == later
    moved = client.patch(url("cycle-detail", cycle_id), {"period_end": "2030-12-31"}, format="json")
    assert moved.status_code == 400 and moved.data["period_end"][0].startswith(
        "period_end is read-only: a cycle's period does not change")
    passed = timezone.localdate() - timedelta(days=1)
    refused = client.patch(url("cycle-detail", cycle_id), {"due_on": f"{passed:%Y-%m-%d}"}, format="json")
    assert refused.status_code == 400 and refused.data["due_on"][0].startswith(f"The due date {passed:%Y-%m-%d}")
    assert as_user(api_client, owner).post(url("cycle-close", cycle_id)).status_code == 403
    client = as_user(api_client, reviewer)
    assert client.post(url("cycle-close", cycle_id), {"confirm": "yes"}, format="json").status_code == 400
    closed = client.post(url("cycle-close", cycle_id))
    assert closed.status_code == 200 and closed.data["status"] == "closed" and closed.data["closed_at"]
    again = client.post(url("cycle-close", cycle_id))
    assert again.status_code == 400 and "already closed" in str(again.data)
    late = client.patch(url("cycle-detail", cycle_id), {"due_on": f"{later + timedelta(days=1):%Y-%m-%d}"},
                        format="json")
    assert late.status_code == 400 and "a closed cycle's dates no longer change" in str(late.data)


def test_a_cycle_over_a_period_already_reviewed_or_misnamed_is_400(api_client, reviewer):
    body = last_quarter_cycle_form()
    client = as_user(api_client, reviewer)
    response = client.post(url("cycle-list"), {**body, "name": f"{body['name']}b"}, format="json")
    assert response.status_code == 400 and f"is named {body['name']}, not" in response.data["name"][0]
    ReviewCycleFactory(name="legacy", period_start=body["period_start"], period_end=body["period_end"])
    response = client.post(url("cycle-list"), body, format="json")
    assert response.status_code == 400
    assert response.data["period_start"][0].startswith("The cycle legacy already reviews ")
    assert ReviewCycle.objects.count() == 1


def test_cycle_with_bad_dates_is_400(api_client, admin_user):
    body = {"name": "X", "period_start": "2026-09-30", "period_end": "2026-07-01", "due_on": "2026-10-31"}
    response = as_user(api_client, admin_user).post(url("cycle-list"), body, format="json")
    assert response.status_code == 400 and "period_end" in response.data


@pytest.mark.parametrize(("dates", "field"), [
    ({"period_start": "2338-01-01", "period_end": "7811-12-31", "due_on": "7812-01-31"}, "period_start"),
    ({"period_start": "2026-01-01", "period_end": "2027-06-30", "due_on": "2027-07-31"}, "period_end"),
    ({"period_start": "2026-07-01", "period_end": "2026-09-30", "due_on": "2028-10-31"}, "due_on"),
    ({"period_start": "1990-07-01", "period_end": "1990-09-30", "due_on": "2026-10-31"}, "period_start"),
])
def test_cycle_dates_must_be_sensible(api_client, admin_user, dates, field):
    body = {"name": "2026-Q3", "opens_on": "2026-10-01", **dates}
    response = as_user(api_client, admin_user).post(url("cycle-list"), body, format="json")
    assert response.status_code == 400 and field in response.data, response.data
    assert not ReviewCycle.objects.exists()


def test_the_schema_says_what_read_all_and_a_report_without_verdict_return(api_client, owner, report):
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    read_all = schema["paths"]["/api/reviews/notifications/read-all/"]["post"]
    response_schema = read_all["responses"]["200"]["content"]["application/json"]["schema"]
    assert response_schema["$ref"].endswith("/MarkedRead")
    assert "marked_read" in schema["components"]["schemas"]["MarkedRead"]["properties"]
    verdict = schema["components"]["schemas"]["ValueReport"]["properties"]["verdict"]
    assert verdict.get("nullable") is True or {"type": "null"} in verdict.get("oneOf", []) + verdict.get("anyOf", [])
    body = as_user(api_client, owner).get(url("report-detail", report.pk)).json()
    assert body["verdict"] is None
    marked = as_user(api_client, owner).post(url("notification-read-all")).json()
    assert set(marked) == {"marked_read"}


def test_owner_cannot_open_a_cycle(api_client, owner):
    body = {"name": "X", "period_start": "2026-07-01", "period_end": "2026-09-30", "due_on": "2026-10-31"}
    assert as_user(api_client, owner).post(url("cycle-list"), body, format="json").status_code == 403


def test_report_list_filters_and_query_count(api_client, executive):
    cycle = ReviewCycleFactory()
    client = as_user(api_client, executive)
    ValueReportFactory(cycle=cycle, status=ReportStatus.SUBMITTED)
    client.get(url("report-list"))  # warm the user's role cache, as on any later request
    with CaptureQueriesContext(connection) as few:
        assert client.get(url("report-list")).status_code == 200
    for _ in range(5):
        report = ValueReportFactory(cycle=cycle)
        KPIFactory(initiative=report.initiative)
        BusinessCaseFactory(initiative=report.initiative)
    with CaptureQueriesContext(connection) as many:
        response = client.get(url("report-list"))
    assert len(many.captured_queries) == len(few.captured_queries)
    assert response.data["count"] == 6
    assert client.get(url("report-list") + "?awaiting_verdict=true").data["count"] == 1
    assert client.get(url("report-list") + "?status=draft").data["count"] == 5


def test_notifications_are_private(api_client, owner, other_owner):
    mine = services.notification_create(user=owner, message="Due soon")
    theirs = services.notification_create(user=other_owner, message="Not yours")
    client = as_user(api_client, owner)
    assert [n["message"] for n in client.get(url("notification-list")).data["results"]] == ["Due soon"]
    assert client.get(url("notification-detail", theirs.pk)).status_code == 404
    assert client.post(url("notification-read", theirs.pk)).status_code == 404
    response = client.post(url("notification-read", mine.pk))
    assert response.status_code == 200 and response.data["read_at"]
    assert Notification.objects.get(pk=theirs.pk).read_at is None
    assert client.get(url("notification-list") + "?unread=true").data["count"] == 0


@pytest.mark.parametrize(("who", "expected"), [("owner", 200), ("admin_user", 200), ("other_owner", 403),
                                               ("reviewer", 403), ("executive", 403)])
def test_patch_statuses_per_role(request, api_client, report, who, expected):
    """The role-matrix row of PATCH /api/reviews/reports/<pk>/ (an empty JSON body)."""
    response = as_user(api_client, request.getfixturevalue(who)).patch(url("report-detail", report.pk), {},
                                                                       format="json")
    assert response.status_code == expected


def test_a_stated_kpi_is_patched_with_its_value_and_evidence_and_figures_say_why_others_have_none(
        api_client, owner, report):
    stated = KPIFactory(initiative=report.initiative, name="Overcharges recovered", kind=KpiKind.STATED,
                        baseline=None, target=None, value_per_unit=None)
    ratio = KPIFactory(initiative=report.initiative, name="Containment", unit="%", kind=KpiKind.RATIO,
                       baseline=D("20"), target=D("40"), direction=KpiDirection.INCREASE, value_per_unit=None)
    client = as_user(api_client, owner)
    body = {"outcome_count": 15000, "kpi_actuals": [
        {"kpi": kpi_of_named(report, "Tickets deflected").pk, "actual": "5000"},
        {"kpi": stated.pk, "stated_value": "8400", "evidence": "Credit notes from three suppliers."},
        {"kpi": ratio.pk, "actual": "35"},
    ]}
    response = client.patch(url("report-detail", report.pk), body, format="json")
    assert response.status_code == 200, response.data
    assert {row["name"]: (row["kind"], row["value"], row["no_value_reason"])
            for row in response.data["figures"]["kpis"]} == {
        "Tickets deflected": ("count", "22500.00", None),
        "Overcharges recovered": ("stated", "8400.00", None),
        "Containment": ("ratio", None, "a ratio KPI without a value per point"),
    }
    assert response.data["figures"]["value"] == "30900.00"
    assert {"kpi": stated.pk, "actual": None, "stated_value": "8400.00",
            "evidence": "Credit notes from three suppliers."} in response.data["kpi_actuals"]
    assert client.post(url("report-submit", report.pk)).status_code == 200


def test_a_narrative_or_evidence_over_its_limit_is_400_naming_it(api_client, owner, report):
    client = as_user(api_client, owner)
    response = client.patch(url("report-detail", report.pk), {"narrative": "n" * 10_001,
                                                              "stated_value_evidence": "e" * 5_001}, format="json")
    assert response.status_code == 400
    assert response.data["narrative"] == ["Ensure this field has no more than 10000 characters."]
    assert response.data["stated_value_evidence"] == ["Ensure this field has no more than 5000 characters."]
    assert ValueReport.objects.get(pk=report.pk).narrative == ""
    response = client.patch(url("report-detail", report.pk), {"narrative": "n" * 10_000}, format="json")
    assert response.status_code == 200 and len(response.data["narrative"]) == 10_000


def test_a_stated_value_on_a_computed_kpi_is_400_and_writes_nothing(api_client, owner, report):
    body = {"narrative": "changed", "kpi_actuals": [
        {"kpi": kpi_of(report).pk, "actual": "5000", "stated_value": "99999", "evidence": "Trust me."}]}
    response = as_user(api_client, owner).patch(url("report-detail", report.pk), body, format="json")
    assert response.status_code == 400 and list(response.data) == ["kpi_actuals"]
    assert list(response.data["kpi_actuals"][0]) == ["stated_value"]  # the row's own field, as DRF nests a list's
    assert "is a count KPI: its value is computed" in response.data["kpi_actuals"][0]["stated_value"][0]
    fresh = ValueReport.objects.get(pk=report.pk)
    assert fresh.narrative == "" and not fresh.actuals.exists()


def test_an_actual_past_fifteen_digits_is_400_and_nothing_is_written(api_client, owner, report):
    body = {"kpi_actuals": [{"kpi": kpi_of(report).pk, "actual": "999999999999.9999"}]}
    response = as_user(api_client, owner).patch(url("report-detail", report.pk), body, format="json")
    assert response.status_code == 400
    assert "between -99,999,999,999.9999 and 99,999,999,999.9999" in str(response.data["kpi_actuals"])
    assert not report.actuals.exists()


def test_an_outcome_count_past_postgresqls_integer_is_400_on_every_database(api_client, owner, report):
    response = as_user(api_client, owner).patch(url("report-detail", report.pk), {"outcome_count": 2**31},
                                                format="json")
    assert response.status_code == 400 and list(response.data) == ["outcome_count"]
    report.refresh_from_db()
    assert report.outcome_count is None


@pytest.mark.parametrize("row", [{"actual": "1"}, {}, {"evidence": "x"}])
def test_a_kpi_row_without_its_kpi_is_400_naming_it(api_client, owner, report, row):
    response = as_user(api_client, owner).patch(url("report-detail", report.pk), {"kpi_actuals": [row]},
                                                format="json")
    assert response.status_code == 400
    assert response.json() == {"kpi_actuals": {"0": {"kpi": ["Which KPI: this field is required."]}}}


def test_a_report_says_whether_it_was_submitted_late(api_client, executive, report):
    here = timezone.get_current_timezone()
    cycle = report.cycle  # due 2026-10-31
    on_time = ValueReportFactory(cycle=cycle, status=ReportStatus.SUBMITTED,
                                 submitted_at=datetime(2026, 10, 31, 23, 30, tzinfo=here))
    ValueReport.objects.filter(pk=report.pk).update(status=ReportStatus.SUBMITTED,
                                                    submitted_at=datetime(2026, 11, 1, 0, 30, tzinfo=here))
    draft = ValueReportFactory(cycle=cycle)
    client = as_user(api_client, executive)
    late = {pk: client.get(url("report-detail", pk)).data["submitted_late"] for pk in (report.pk, on_time.pk, draft.pk)}
    assert late == {report.pk: True, on_time.pk: False, draft.pk: False}


# Attachments ---------------------------------------------------------------------------------------------------------

PDF_BYTES = b"%PDF-1.7\n1 0 obj\n"


def test_owner_uploads_evidence_to_a_draft_and_takes_it_off(api_client, owner, report, settings, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = tmp_path
    client = as_user(api_client, owner)
    response = client.post(url("attachment-list"), {"report": report.pk,
                                                    "file": SimpleUploadedFile("survey.pdf", PDF_BYTES)},
                           format="multipart")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["report"] == report.pk and body["original_name"] == "survey.pdf" and body["size"] == len(PDF_BYTES)
    assert body["uploaded_by_email"] == owner.email and body["download"].endswith(f"/reviews/attachments/{body['id']}/")
    listed = client.get(url("attachment-list"), {"report": report.pk}).json()
    assert [row["id"] for row in listed["results"]] == [body["id"]]
    assert client.get(url("report-detail", report.pk)).json()["attachments"][0]["id"] == body["id"]
    assert client.delete(url("attachment-detail", body["id"])).status_code == 204
    assert not ReportAttachment.objects.exists()


@pytest.mark.parametrize(("name", "content", "field", "message"), [
    ("run.exe", b"MZ....", "file", "Files of type .exe are not accepted"),
    ("fake.pdf", b"\x89PNG\r\n", "file", "The file's content is not a .pdf file."),
    ("empty.pdf", b"", "file", "The file is empty."),
])
def test_a_bad_upload_is_400_naming_the_problem_and_stores_nothing(api_client, owner, report, settings, tmp_path,
                                                                  name, content, field, message):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = tmp_path
    response = as_user(api_client, owner).post(url("attachment-list"), {"report": report.pk,
                                                                        "file": SimpleUploadedFile(name, content)},
                                               format="multipart")
    assert response.status_code == 400 and message in response.json()[field][0]
    assert not ReportAttachment.objects.exists() and not any(tmp_path.rglob("*.*"))


def test_evidence_is_added_and_removed_only_by_the_reports_owner_and_only_on_a_draft(
        api_client, owner, other_owner, reviewer, report, submitted, settings, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = tmp_path
    draft = ValueReport.objects.create(cycle=ReviewCycle.objects.create(
        name="2026-Q2", period_start=date(2026, 4, 1), period_end=date(2026, 6, 30), opens_on=date(2026, 7, 1),
        due_on=date(2027, 1, 31)), initiative=report.initiative)
    attachment = services.attachment_add(actor=owner, report=draft, file=SimpleUploadedFile("a.pdf", PDF_BYTES))
    upload = {"report": draft.pk, "file": SimpleUploadedFile("b.pdf", PDF_BYTES)}
    refused = as_user(api_client, other_owner).post(url("attachment-list"), upload, format="multipart")
    assert refused.status_code == 403
    # Not the permission's code, nor advice to ask for a role the other owner holds: the report is not theirs.
    assert refused.json()["detail"] == ("Your role allows this, but not on this one: an owner acts only on the value "
                                        "reports of the initiatives they own or act for, and this one is not yours.")
    assert as_user(api_client, reviewer).post(url("attachment-list"), upload, format="multipart").status_code == 403
    assert as_user(api_client, other_owner).delete(url("attachment-detail", attachment.pk)).status_code == 403
    on_submitted = as_user(api_client, owner).post(
        url("attachment-list"), {"report": submitted.pk, "file": SimpleUploadedFile("c.pdf", PDF_BYTES)},
        format="multipart")
    assert on_submitted.status_code == 400
    assert on_submitted.json()["file"] == ["Attachments can only be added to a draft."]
    assert list(ReportAttachment.objects.values_list("original_name", flat=True)) == ["a.pdf"]


# Reports owed only once the quarter is over, by running initiatives; never judged by who wrote them --------------


def test_a_report_of_a_quarter_not_over_takes_no_patch_nor_submission(api_client, owner, report):
    today = timezone.localdate()
    _, _, start, end = calculations.quarter_bounds(today)
    report.cycle = ReviewCycleFactory(name="unfinished", period_start=start, period_end=end, opens_on=today,
                                      due_on=end + timedelta(days=30))
    report.save()
    message = (f"The cycle unfinished reviews {start:%Y-%m-%d} to {end:%Y-%m-%d}, which has not ended: its reports "
               f"take figures from {end + timedelta(days=1):%Y-%m-%d}.")
    client = as_user(api_client, owner)
    patched = client.patch(url("report-detail", report.pk), {"outcome_count": 3000}, format="json")
    assert patched.status_code == 400 and patched.json() == {"non_field_errors": [message]}
    submitted = client.post(url("report-submit", report.pk))
    assert submitted.status_code == 400 and submitted.json() == {"non_field_errors": [message]}
    assert client.get(url("report-detail", report.pk)).json()["state"] == "not_open"
    report.refresh_from_db()
    assert report.status == ReportStatus.DRAFT and report.outcome_count is None


def test_a_cycle_of_the_quarter_in_progress_is_refused_and_one_opened_ahead_is_upcoming(api_client, reviewer):
    today = timezone.localdate()
    year, quarter, start, end = calculations.quarter_bounds(today)
    body = {"name": f"{year}-Q{quarter}", "period_start": f"{start:%Y-%m-%d}", "period_end": f"{end:%Y-%m-%d}",
            "due_on": f"{end + timedelta(days=30):%Y-%m-%d}"}
    client = as_user(api_client, reviewer)
    refused = client.post(url("cycle-list"), body, format="json")
    assert refused.status_code == 400 and list(refused.json()) == ["opens_on"]
    assert f"opens on {end + timedelta(days=1):%Y-%m-%d} at the earliest" in refused.json()["opens_on"][0]
    ahead = client.post(url("cycle-list"), {**body, "opens_on": f"{end + timedelta(days=1):%Y-%m-%d}"},
                        format="json")
    assert ahead.status_code == 201 and ahead.json()["status"] == "upcoming"


def test_a_reviewer_who_wrote_a_report_gets_403_on_its_verdict_and_reopening(api_client, owner, reviewer, report):
    writer = UserFactory(role=Role.REVIEWER)
    report.initiative.delegates.add(writer)
    client = as_user(api_client, writer)
    body = {"outcome_count": 15000, "kpi_actuals": [{"kpi": kpi_of(report).pk, "actual": "5000"}]}
    assert client.patch(url("report-detail", report.pk), body, format="json").status_code == 200
    report.initiative.delegates.remove(writer)
    services.value_report_submit(actor=owner, report=report)
    expected = ("Your role allows this, but not on this one: you submitted or edited this value report, and nobody "
                "judges or reopens a value report they submitted or edited (another reviewer does).")
    verdict = client.post(url("report-verdict", report.pk), {"decision": "scale", "rationale": "Mine."},
                          format="json")
    assert verdict.status_code == 403 and verdict.json() == {"detail": expected}
    reopened = client.post(url("report-reopen", report.pk), {"reason": "Mine to fix."}, format="json")
    assert reopened.status_code == 403 and reopened.json() == {"detail": expected}
    assert not Verdict.objects.exists()
    assert as_user(api_client, reviewer).post(url("report-verdict", report.pk), {
        "decision": "continue", "rationale": "Independent."}, format="json").status_code == 201


def test_a_killed_initiatives_draft_is_not_expected_and_refuses_a_patch(api_client, owner, reviewer, report):
    initiative_transition(actor=reviewer, initiative=report.initiative, transition="kill", reason="Duplicate.")
    client = as_user(api_client, owner)
    patched = client.patch(url("report-detail", report.pk), {"narrative": "Still writing."}, format="json")
    assert patched.status_code == 400 and patched.json() == {"non_field_errors": [
        f"“{report.initiative}” is killed: an ended initiative owes no value report, so its {report.cycle} report "
        "can no longer be edited or submitted."]}
    assert client.post(url("report-submit", report.pk)).status_code == 400
    assert client.get(url("report-detail", report.pk)).json()["state"] == "not_expected"
    listed = client.get(url("report-list"), {"state": "not_expected"}).json()["results"]
    assert [row["id"] for row in listed] == [report.pk]


def test_a_closed_cycles_draft_is_not_submitted_and_the_schema_lists_every_state(api_client, reviewer, report):
    from drf_spectacular.generators import SchemaGenerator

    services.review_cycle_close(actor=reviewer, cycle=report.cycle)
    assert as_user(api_client, reviewer).get(url("report-detail", report.pk)).json()["state"] == "not_submitted"
    schema = SchemaGenerator().get_schema(request=None, public=True)
    state = schema["components"]["schemas"]["ValueReport"]["properties"]["state"]
    choices = schema["components"]["schemas"][state["allOf"][0]["$ref"].split("/")[-1]]["enum"]
    assert "not_submitted` once its cycle closed" in state["description"]
    assert choices == ["due", "overdue", "submitted", "reviewed", "not_open", "not_submitted", "not_expected"]


def test_the_schema_describes_the_report_actions_and_the_bounds_the_server_checks(api_client, admin_user):
    import re

    api_client.force_authenticate(admin_user)
    schema = api_client.get(reverse("schema"), {"format": "json"}).json()
    paths, components = schema["paths"], schema["components"]["schemas"]

    def response_ref(path: str) -> str:
        return paths[path]["post"]["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]

    assert response_ref("/api/reviews/reports/{id}/reopen/").endswith("/ValueReport")
    assert paths["/api/reviews/reports/{id}/reopen/"]["post"]["requestBody"]["content"]["application/json"][
        "schema"]["$ref"].endswith("/ReopenRequest")
    assert response_ref("/api/reviews/reports/{id}/submit/").endswith("/ValueReport")
    assert "requestBody" not in paths["/api/reviews/reports/{id}/submit/"]["post"]

    def accepts(component: str, field: str, value: str) -> bool:
        return re.fullmatch(components[component]["properties"][field]["pattern"].strip("^$"), value) is not None

    assert accepts("KpiActualRequest", "actual", "-99999999999.9999")
    assert not accepts("KpiActualRequest", "actual", "999999999999")  # 12 digits: the server refuses it
    for component, field in [("KpiActualRequest", "stated_value"), ("PatchedValueReportRequest", "stated_value"),
                             ("PatchedValueReportRequest", "oversight_hours")]:
        assert accepts(component, field, "12.5") and not accepts(component, field, "-1"), (component, field)
    figures = components["ValueReport"]["properties"]["figures"]
    figures = components[figures.get("$ref", figures.get("allOf", [{}])[0].get("$ref", "")).rsplit("/", 1)[-1]]
    assert {"value", "value_source", "kpis", "cost", "value_per_dollar"} <= set(figures["properties"])
    ordering = {p["name"]: p for p in paths["/api/reviews/notifications/"]["get"]["parameters"]}["ordering"]
    assert ordering["description"].startswith("Sort by one of: created_at, read_at")


def test_submit_refuses_a_body_and_writes_nothing(api_client, owner, report):
    kpi = kpi_of(report)
    services.value_report_save_draft(actor=owner, report=report, fields={"outcome_count": 10},
                                     kpi_actuals={kpi.pk: D("5")})
    client = as_user(api_client, owner)
    response = client.post(url("report-submit", report.pk), {"narrative": "ignored?"}, format="json")
    assert response.status_code == 400 and "Submit takes no body" in str(response.data)
    report.refresh_from_db()
    assert report.status == ReportStatus.DRAFT and report.narrative == ""
    assert client.post(url("report-submit", report.pk)).status_code == 200


def test_a_negative_stated_value_is_400_under_its_field(api_client, owner, report):
    response = as_user(api_client, owner).patch(url("report-detail", report.pk), {"stated_value": "-1"},
                                                format="json")
    assert response.status_code == 400 and list(response.data) == ["stated_value"]


def test_a_service_refusal_names_the_row_and_field_of_the_request(api_client, owner, report):
    """The KPI's entry is the second row: its error comes at index 1, under the field it is about."""
    stated = KPIFactory(initiative=report.initiative, name="Overcharges recovered", kind=KpiKind.STATED)
    body = {"kpi_actuals": [{"kpi": stated.pk, "stated_value": "10", "evidence": "x"},
                            {"kpi": kpi_of_named(report, "Tickets deflected").pk, "stated_value": "10",
                             "evidence": "x"}]}
    response = as_user(api_client, owner).patch(url("report-detail", report.pk), body, format="json")
    assert response.status_code == 400
    assert response.data["kpi_actuals"][0] == {} and list(response.data["kpi_actuals"][1]) == ["stated_value"]


def test_submit_names_the_kpi_entries_as_the_api_does(api_client, owner, report):
    KPIFactory(initiative=report.initiative, name="Overcharges recovered", kind=KpiKind.STATED)
    response = as_user(api_client, owner).post(url("report-submit", report.pk))
    assert response.status_code == 400 and "kpi_stated" not in response.data
    assert "State the value of every stated KPI" in str(response.data["kpi_actuals"])


def test_a_percent_kpi_actual_of_250_is_400_on_its_row_and_nothing_is_written(api_client, owner, initiative):
    initiative.stage = Stage.PILOT
    initiative.save()
    BusinessCaseFactory(initiative=initiative)
    KPIFactory(initiative=initiative, name="Tickets deflected", baseline=D("0"), target=D("4000"),
               direction=KpiDirection.INCREASE, value_per_unit=D("4.50"))
    rate = KPIFactory(initiative=initiative, name="Containment rate", unit="%", kind=KpiKind.RATIO, baseline=D("20"),
                      target=D("45"), direction=KpiDirection.INCREASE, value_per_unit=None)
    report = ValueReportFactory(initiative=initiative)
    deflected = kpi_of_named(report, "Tickets deflected")
    response = as_user(api_client, owner).patch(url("report-detail", report.pk), {
        "kpi_actuals": [{"kpi": deflected.pk, "actual": "5000"}, {"kpi": rate.pk, "actual": "250"}]}, format="json")
    assert response.status_code == 400
    assert response.data["kpi_actuals"] == [{}, {"actual": [
        "KPI “Containment rate” is measured in percent (%): its actual is 250, and a percentage is between 0 and "
        "100."]}]
    assert not report.actuals.exists()
