"""Review pages: my reports, the value report form, detail with verdict and reopen, queue, cycles, notifications."""

from __future__ import annotations

import csv
import html
import io
import json
from datetime import date, timedelta
from decimal import Decimal as D

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from governance.services import initiative_transition
from portfolio.choices import KpiDirection, KpiKind, Stage
from portfolio.services import profile_notifications_set
from reviews import calculations, services
from reviews.choices import Decision, ReportStatus
from reviews.models import Notification, ReportAttachment, ReviewCycle, ValueReport, Verdict
from tests.factories import (
    BusinessCaseFactory,
    DepartmentFactory,
    InitiativeFactory,
    KPIFactory,
    ReviewCycleFactory,
    UserFactory,
    ValueReportFactory,
    last_quarter_cycle_form,
)
from tollgate.roles import Role

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.7\n%\xe2\xe3\n"


def count_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def csv_rows(response) -> list[list[str]]:
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


@pytest.fixture
def cycle():
    today = timezone.localdate()
    return ReviewCycleFactory(name="2026-Q3", opens_on=today - timedelta(days=10), due_on=today + timedelta(days=20))


@pytest.fixture
def report(initiative, cycle):
    initiative.stage = Stage.PILOT
    initiative.save()
    BusinessCaseFactory(initiative=initiative)  # TCO 2,450/month -> 7,350 a quarter; baseline $4.50 / outcome
    KPIFactory(initiative=initiative, name="Tickets deflected", unit="tickets", baseline=D("0"), target=D("4000"),
               direction=KpiDirection.INCREASE, value_per_unit=D("4.50"))
    KPIFactory(initiative=initiative, name="Average handle time", kind=KpiKind.PER_OUTCOME, baseline=D("6.0"),
               target=D("4.0"), direction=KpiDirection.DECREASE, value_per_unit=D("0.75"))
    return ValueReportFactory(initiative=initiative, cycle=cycle)


def form_data(report, action="save", **extra):
    deflected, handle = report.initiative.kpis.order_by("pk")[:2]
    data = {f"kpi_{deflected.pk}": "5000", f"kpi_{handle.pk}": "4.5", "outcome_count": "15000",
            "active_users": "120", "oversight_hours": "40", "narrative": "Deflection beat the target.",
            "stated_value": "", "stated_value_evidence": "", "action": action}
    data.update(extra)
    return data


@pytest.fixture
def submitted(report, owner):
    deflected, handle = report.initiative.kpis.order_by("pk")
    services.value_report_save_draft(actor=owner, report=report, fields={"outcome_count": 15000},
                                     kpi_actuals={deflected.pk: D("5000"), handle.pk: D("4.5")})
    return services.value_report_submit(actor=owner, report=report)


# Value report form ---------------------------------------------------------------------------------------------------


def test_a_draft_of_a_closed_cycle_is_read_not_offered_as_a_form(login, owner, reviewer, report):
    services.review_cycle_close(actor=reviewer, cycle=report.cycle)
    client = login(owner)
    for response in (client.get(reverse("reviews:report_edit", args=[report.pk])),
                     client.post(reverse("reviews:report_edit", args=[report.pk]), form_data(report))):
        assert response.status_code == 302 and response["Location"] == report.get_absolute_url()
    detail = client.get(report.get_absolute_url())
    html = detail.content.decode()
    assert f"The cycle {report.cycle.name} is closed: this draft can no longer be edited or submitted." in html
    assert reverse("reviews:report_edit", args=[report.pk]) not in html  # no "Edit draft" button
    report.refresh_from_db()
    assert report.outcome_count is None


def test_form_has_a_row_per_kpi_and_labels_the_cost_as_estimated(login, owner, report):
    response = login(owner).get(reverse("reviews:report_edit", args=[report.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    for kpi in report.initiative.kpis.all():
        assert f'id="kpi-row-{kpi.pk}"' in html and f'name="kpi_{kpi.pk}"' in html
    assert "estimated from the business case" in html
    assert 'id="report-cost">$7,350.00' in html
    assert 'id="baseline-cost-per-outcome">$4.50<' in html


def test_the_report_form_holds_the_narrative_and_evidence_to_their_limits(login, owner, report):
    client = login(owner)
    page = client.get(reverse("reviews:report_edit", args=[report.pk])).content.decode()
    assert 'maxlength="10000"' in page and 'maxlength="5000"' in page
    response = client.post(reverse("reviews:report_edit", args=[report.pk]),
                           form_data(report, narrative="n" * 10_001, stated_value_evidence="e" * 5_001))
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert errors["narrative"] == ["Ensure this value has at most 10000 characters (it has 10001)."]
    assert errors["stated_value_evidence"] == ["Ensure this value has at most 5000 characters (it has 5001)."]
    assert ValueReport.objects.get(pk=report.pk).narrative == ""


def test_a_narrative_the_browser_let_through_is_within_its_limit_however_it_sends_line_breaks(login, owner, report):
    """The textarea's maxlength counts a line break once; the browser sends it as CRLF. 10,000 characters with 99
    line breaks arrived as 10,099 and were refused."""
    text = "\r\n".join(["n" * 99] * 100) + "n"
    response = login(owner).post(reverse("reviews:report_edit", args=[report.pk]), form_data(report, narrative=text))
    assert response.status_code == 302, response.context["form"].errors
    assert ValueReport.objects.get(pk=report.pk).narrative == text.replace("\r\n", "\n")


def test_owner_saves_a_draft_and_sees_the_computed_value(login, owner, report):
    client = login(owner)
    response = client.post(reverse("reviews:report_edit", args=[report.pk]), form_data(report))
    assert response.status_code == 302 and response["Location"] == reverse("reviews:report_edit", args=[report.pk])
    report.refresh_from_db()
    assert report.status == ReportStatus.DRAFT and report.outcome_count == 15000 and report.actuals.count() == 2
    html = client.get(reverse("reviews:report_edit", args=[report.pk])).content.decode()
    # 5,000 deflected x $4.50 + 1.5 minutes saved on each of 15,000 outcomes x $0.75 = 22,500 + 16,875
    assert 'id="report-value">$39,375.00' in html
    assert 'id="cost-per-outcome">$0.49<' in html and 'id="value-per-dollar">5.36' in html


def test_owner_submits_with_an_attachment(login, owner, report, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    data = form_data(report, action="submit", attachment=SimpleUploadedFile("evidence.pdf", PDF))
    response = login(owner).post(reverse("reviews:report_edit", args=[report.pk]), data)
    assert response.status_code == 302 and response["Location"] == report.get_absolute_url()
    report.refresh_from_db()
    assert report.status == ReportStatus.SUBMITTED and report.submitted_by == owner
    assert ReportAttachment.objects.get().original_name == "evidence.pdf"


def test_owner_removes_an_attachment_when_saving_the_draft(login, owner, report, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    kept = services.attachment_add(actor=owner, report=report, file=SimpleUploadedFile("kept.pdf", PDF))
    wrong = services.attachment_add(actor=owner, report=report, file=SimpleUploadedFile("wrong.pdf", PDF))
    client = login(owner)
    page = client.get(reverse("reviews:report_edit", args=[report.pk])).content.decode()
    assert f'name="remove_attachments" value="{wrong.pk}"' in page and ">wrong.pdf</a>" in page
    response = client.post(reverse("reviews:report_edit", args=[report.pk]),
                           form_data(report, remove_attachments=[wrong.pk]), follow=True)
    assert "Draft saved. Removed: wrong.pdf." in response.content.decode()
    assert list(report.attachments.all()) == [kept]
    assert ValueReport.objects.get(pk=report.pk).outcome_count == 15000  # the rest of the form saved with it


def test_an_attachment_of_another_report_cannot_be_removed_through_this_one(login, owner, report, other_initiative,
                                                                          settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    theirs = ValueReport.objects.create(cycle=report.cycle, initiative=other_initiative)
    foreign = services.attachment_add(actor=other_initiative.owner, report=theirs,
                                      file=SimpleUploadedFile("theirs.pdf", PDF))
    response = login(owner).post(reverse("reviews:report_edit", args=[report.pk]),
                                 form_data(report, remove_attachments=[foreign.pk]))
    assert response.status_code == 400 and "remove_attachments" in response.context["form"].errors
    assert ReportAttachment.objects.filter(pk=foreign.pk).exists()
    assert ValueReport.objects.get(pk=report.pk).outcome_count is None


def test_submit_without_every_actual_names_the_kpi_and_writes_nothing(login, owner, report):
    deflected, _ = report.initiative.kpis.order_by("pk")
    data = form_data(report, action="submit", **{f"kpi_{deflected.pk}": ""}, narrative="changed")
    response = login(owner).post(reverse("reviews:report_edit", args=[report.pk]), data)
    assert response.status_code == 400
    assert response.context["form"].errors[f"kpi_{deflected.pk}"] == ["Give the actual of this KPI."]
    report.refresh_from_db()
    assert report.status == ReportStatus.DRAFT and report.narrative == "" and not report.actuals.exists()


def test_bad_input_is_a_field_error(login, owner, report):
    response = login(owner).post(reverse("reviews:report_edit", args=[report.pk]),
                                 form_data(report, outcome_count="-5"))
    assert response.status_code == 400 and "outcome_count" in response.context["form"].errors
    assert ValueReport.objects.get(pk=report.pk).outcome_count is None


@pytest.mark.parametrize("figure", ["9999999999999999", "999999999999", "1e16"])
def test_an_actual_past_the_kpi_figure_limit_is_refused_naming_the_real_limit(login, owner, report, figure):
    deflected, _ = report.initiative.kpis.order_by("pk")
    data = form_data(report, **{f"kpi_{deflected.pk}": figure})
    response = login(owner).post(reverse("reviews:report_edit", args=[report.pk]), data)
    assert response.status_code == 400
    assert response.context["form"].errors[f"kpi_{deflected.pk}"] == [
        "A KPI figure is between -99,999,999,999.9999 and 99,999,999,999.9999 (11 digits before the point)."]


def test_a_forbidden_attachment_type_is_an_error_on_the_field(login, owner, report, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    data = form_data(report, attachment=SimpleUploadedFile("run.exe", b"MZ...."))
    response = login(owner).post(reverse("reviews:report_edit", args=[report.pk]), data)
    assert response.status_code == 400 and "not accepted" in response.context["form"].errors["attachment"][0]
    assert not ReportAttachment.objects.exists() and ValueReport.objects.get(pk=report.pk).outcome_count is None


@pytest.mark.parametrize("who", ["other_owner", "reviewer", "executive"])
def test_others_get_403_on_the_form(request, login, report, who):
    client = login(request.getfixturevalue(who))
    assert client.get(reverse("reviews:report_edit", args=[report.pk])).status_code == 403
    assert client.post(reverse("reviews:report_edit", args=[report.pk]), form_data(report)).status_code == 403
    assert ValueReport.objects.get(pk=report.pk).outcome_count is None


def test_a_submitted_report_form_redirects_to_the_detail(login, owner, submitted):
    response = login(owner).get(reverse("reviews:report_edit", args=[submitted.pk]))
    assert response.status_code == 302 and response["Location"] == submitted.get_absolute_url()


# The value model on the pages ----------------------------------------------------------------------------------------


@pytest.fixture
def stated_kpi(report):
    return KPIFactory(initiative=report.initiative, name="Overcharges recovered", unit="USD", kind=KpiKind.STATED,
                      baseline=None, target=None, value_per_unit=None)


def test_the_report_page_prints_volumes_with_thousands_separators(login, executive, submitted):
    """Outcomes (15000 in the fixture) and the business case's minimum viable scale (5000) read as quantities."""
    html = login(executive).get(submitted.get_absolute_url()).content.decode()
    assert "<dt>Outcomes in the period</dt><dd>15,000</dd>" in html
    assert "(minimum viable scale 5,000)" in html and "15000" not in html
    assert "<dt>Active users</dt><dd>—</dd>" in html


def test_the_report_page_shows_each_kpis_kind_value_and_why_one_has_none(login, executive, submitted):
    csat = KPIFactory(initiative=submitted.initiative, name="CSAT", unit="points", kind=KpiKind.RATIO,
                      baseline=D("72"), target=D("75"), direction=KpiDirection.INCREASE, value_per_unit=None)
    submitted.actuals.create(kpi=csat, actual=D("76"))
    deflected, handle = submitted.initiative.kpis.order_by("pk")[:2]
    html = login(executive).get(submitted.get_absolute_url()).content.decode()
    assert "Count (e.g. tickets deflected)" in html and "Per outcome (e.g. minutes per e-mail)" in html
    assert f'id="kpi-value-{deflected.pk}"><span class="kpi-value">$22,500.00' in html
    assert f'id="kpi-value-{handle.pk}"><span class="kpi-value">$16,875.00' in html
    assert "no money value: a ratio KPI without a value per point" in html
    assert 'id="value-coverage">(2 of 3 KPIs with a money value)' in html
    assert 'value per AI dollar (value / <span class="cost-basis">estimated</span> cost)' in html


def test_the_form_takes_a_stated_kpis_value_and_evidence(login, owner, report, stated_kpi):
    client = login(owner)
    html = client.get(reverse("reviews:report_edit", args=[report.pk])).content.decode()
    assert f'name="kpi_stated_{stated_kpi.pk}"' in html and f'name="kpi_evidence_{stated_kpi.pk}"' in html
    deflected, _, _ = report.initiative.kpis.order_by("pk")
    assert f'name="kpi_stated_{deflected.pk}"' not in html  # only stated KPIs take a stated value
    data = form_data(report, action="submit", **{f"kpi_stated_{stated_kpi.pk}": "8400"})
    response = client.post(reverse("reviews:report_edit", args=[report.pk]), data)
    assert response.status_code == 400
    assert response.context["form"].errors[f"kpi_evidence_{stated_kpi.pk}"] == [
        "Give the evidence of this stated value."]
    assert not report.actuals.exists()
    data[f"kpi_evidence_{stated_kpi.pk}"] = "Credit notes from three suppliers."
    response = client.post(reverse("reviews:report_edit", args=[report.pk]), data)
    assert response.status_code == 302
    entry = report.actuals.get(kpi=stated_kpi)
    assert (entry.actual, entry.stated_value, entry.evidence) == (None, D("8400.00"),
                                                                  "Credit notes from three suppliers.")
    html = client.get(report.get_absolute_url()).content.decode()
    assert 'id="report-value">$47,775.00' in html  # 22,500 + 16,875 + 8,400 stated
    assert "Evidence for Overcharges recovered:</span> Credit notes from three suppliers." in html


def test_a_missing_stated_value_is_an_error_on_its_input(login, owner, report, stated_kpi):
    response = login(owner).post(reverse("reviews:report_edit", args=[report.pk]),
                                 form_data(report, action="submit"))
    assert response.status_code == 400
    assert response.context["form"].errors[f"kpi_stated_{stated_kpi.pk}"] == ["State the value of this KPI."]


def test_the_report_page_query_count_does_not_grow_with_kpis(login, reviewer, submitted):
    client = login(reviewer)
    ContentType.objects.clear_cache()
    client.get(submitted.get_absolute_url())  # the first request of a process reads the content types once
    few = count_queries(client, submitted.get_absolute_url())
    assert few == 16  # the verdict and the reopening are one rule: asked once
    for i in range(5):
        kpi = KPIFactory(initiative=submitted.initiative, name=f"KPI {i}", kind=KpiKind.values[i % 4],
                         value_per_unit=None if i % 4 == 3 else D("1"))
        submitted.actuals.create(kpi=kpi, actual=D("3"), stated_value=D("10") if i % 4 == 3 else None,
                                 evidence="Sampled." if i % 4 == 3 else "")
    assert count_queries(client, submitted.get_absolute_url()) == few


def test_the_report_form_query_count_does_not_grow_with_kpis(login, owner, report, stated_kpi):
    client = login(owner)
    few = count_queries(client, reverse("reviews:report_edit", args=[report.pk]))
    for i in range(5):
        KPIFactory(initiative=report.initiative, name=f"KPI {i}", kind=KpiKind.values[i % 4],
                   value_per_unit=None if i % 4 == 3 else D("1"))
    assert count_queries(client, reverse("reviews:report_edit", args=[report.pk])) == few


# Detail, verdict, reopen ---------------------------------------------------------------------------------------------


def test_reviewer_sees_verdict_form_owner_does_not(login, owner, reviewer, submitted):
    url = submitted.get_absolute_url()
    assert 'id="verdict-form"' in login(reviewer).get(url).content.decode()
    html = login(owner).get(url).content.decode()
    assert 'id="verdict-form"' not in html and 'id="reopen-form"' not in html


def test_reviewer_gives_a_verdict_on_the_page(login, reviewer, submitted):
    response = login(reviewer).post(reverse("reviews:report_verdict", args=[submitted.pk]),
                                    {"decision": "scale", "rationale": "Value per dollar above 3."})
    assert response.status_code == 302
    assert Verdict.objects.get(report=submitted).decision == Decision.SCALE


def test_a_second_verdict_is_refused_with_the_reason_and_what_was_typed(login, reviewer, submitted):
    """Two reviewers had the report open; the second one's verdict comes after the first's."""
    second = UserFactory(role=Role.REVIEWER)
    services.verdict_give(actor=second, report=submitted, decision=Decision.CONTINUE, rationale="On track.")
    response = login(reviewer).post(reverse("reviews:report_verdict", args=[submitted.pk]),
                                    {"decision": "scale", "rationale": "Value per dollar above 3."})
    page = response.content.decode()
    assert response.status_code == 400
    assert ("A verdict was already given on this report. Yours was not recorded (Scale: “Value per dollar above "
            "3.”).") in page
    assert Verdict.objects.get(report=submitted).decision == Decision.CONTINUE


def test_a_verdict_without_rationale_is_a_form_error(login, reviewer, submitted):
    response = login(reviewer).post(reverse("reviews:report_verdict", args=[submitted.pk]), {"decision": "scale"})
    assert response.status_code == 400 and "rationale" in response.context["verdict_form"].errors
    assert not Verdict.objects.exists()
    # Said at the top of the long page too, naming the field: the form's own error is at its foot.
    assert "Nothing was recorded: correct “Rationale” below." in response.content.decode()


def test_an_overlong_reopening_reason_is_said_at_the_top_naming_the_field(login, reviewer, submitted):
    response = login(reviewer).post(reverse("reviews:report_reopen", args=[submitted.pk]), {"reason": "z" * 2001})
    assert response.status_code == 400 and "reason" in response.context["reopen_form"].errors
    assert "Nothing was recorded: correct “Reason” below." in response.content.decode()
    submitted.refresh_from_db()
    assert submitted.status == ReportStatus.SUBMITTED


def test_owner_who_is_also_a_reviewer_cannot_give_a_verdict_on_the_page(login, submitted, initiative):
    owning_reviewer = UserFactory(role=Role.REVIEWER)
    initiative.owner = owning_reviewer
    initiative.save()
    response = login(owning_reviewer).post(reverse("reviews:report_verdict", args=[submitted.pk]),
                                           {"decision": "scale", "rationale": "Mine is great."})
    assert response.status_code == 403 and not Verdict.objects.exists()


def test_kill_verdict_on_the_page_kills_the_initiative(login, reviewer, submitted, initiative):
    login(reviewer).post(reverse("reviews:report_verdict", args=[submitted.pk]),
                         {"decision": "kill", "rationale": "Value per dollar 0.4 two quarters running."})
    initiative.refresh_from_db()
    assert initiative.stage == Stage.KILLED


def test_reviewer_reopens_on_the_page(login, reviewer, owner, submitted):
    response = login(reviewer).post(reverse("reviews:report_reopen", args=[submitted.pk]), {"reason": "Check AHT."})
    assert response.status_code == 302
    assert ValueReport.objects.get(pk=submitted.pk).status == ReportStatus.DRAFT
    assert Notification.objects.filter(user=owner).exists()


def test_the_owners_edit_page_says_a_judged_report_is_final(login, reviewer, owner, submitted):
    """It promised "a reviewer may reopen it" after the verdict too, though reopening is then refused."""
    client = login(owner)
    before = client.get(reverse("reviews:report_edit", args=[submitted.pk]), follow=True).content.decode()
    assert "This report is submitted; a reviewer may reopen it." in before
    services.verdict_give(actor=reviewer, report=submitted, decision="continue", rationale="On track.")
    after = client.get(reverse("reviews:report_edit", args=[submitted.pk]), follow=True).content.decode()
    assert "a reviewer may reopen it" not in after
    assert "This report is submitted and final: a verdict was given on this report" in after


def test_owner_cannot_reopen(login, owner, submitted):
    assert login(owner).post(reverse("reviews:report_reopen", args=[submitted.pk]), {"reason": "x"}).status_code == 403


def test_attachment_download_needs_a_role(login, owner, report, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    attachment = services.attachment_add(actor=owner, report=report, file=SimpleUploadedFile("e.pdf", PDF))
    response = login(owner).get(attachment.get_absolute_url())
    assert response.status_code == 200 and b"".join(response.streaming_content) == PDF
    assert login(UserFactory()).get(attachment.get_absolute_url()).status_code == 403


# My reports, queue ---------------------------------------------------------------------------------------------------


def test_my_reports_lists_my_initiatives_and_what_i_owe(login, owner, report, other_initiative):
    delegated = InitiativeFactory(stage=Stage.PRODUCTION, delegates=[owner])
    ValueReportFactory(initiative=delegated, cycle=report.cycle)
    response = login(owner).get(reverse("reviews:mine"))
    names = {row.record.name for row in response.context["table"].page.object_list}
    assert names == {report.initiative.name, delegated.name}
    assert {r.pk for r in response.context["open_reports"]} == {report.pk, delegated.value_reports.get().pk}
    assert reverse("reviews:report_edit", args=[report.pk]) in response.content.decode()


def test_my_reports_csv_says_what_the_page_says_of_an_initiative_owing_no_report(login, owner, report):
    InitiativeFactory(owner=owner, name="Zz idea", stage=Stage.PROPOSED)
    rows = list(csv.DictReader(io.StringIO(login(owner).get(reverse("reviews:mine"), {"_export": "csv"})
                                           .content.decode())))
    current = {row["Initiative"]: row["Current report"] for row in rows}
    assert current == {report.initiative.name: report.state.label, "Zz idea": "none expected"}


def test_my_reports_query_count_is_constant(login, owner, cycle):
    client = login(owner)
    for _ in range(2):
        ValueReportFactory(initiative=InitiativeFactory(owner=owner, stage=Stage.PILOT), cycle=cycle)
    few = count_queries(client, reverse("reviews:mine"))
    for _ in range(6):
        ValueReportFactory(initiative=InitiativeFactory(owner=owner, stage=Stage.PILOT), cycle=cycle)
    assert count_queries(client, reverse("reviews:mine")) == few


def test_queue_shows_submitted_reports_without_verdict_except_my_own(login, reviewer, submitted, cycle):
    mine = InitiativeFactory(owner=reviewer, stage=Stage.PILOT)
    ValueReportFactory(initiative=mine, cycle=cycle, status=ReportStatus.SUBMITTED)
    ValueReportFactory(cycle=cycle)  # a draft
    response = login(reviewer).get(reverse("reviews:queue"))
    assert [row.record.pk for row in response.context["table"].page.object_list] == [submitted.pk]
    page = response.content.decode()
    assert 'name="cycle"' in page and 'name="status"' not in page  # everything here is submitted
    other = login(reviewer).get(reverse("reviews:queue"), {"cycle": ReviewCycleFactory(name="2027-Q1").pk})
    assert not other.context["table"].page.object_list


def test_queue_query_count_is_constant(login, reviewer, cycle):
    client = login(reviewer)
    ValueReportFactory(cycle=cycle, status=ReportStatus.SUBMITTED)
    few = count_queries(client, reverse("reviews:queue"))
    for _ in range(5):
        ValueReportFactory(cycle=cycle, status=ReportStatus.SUBMITTED)
    assert count_queries(client, reverse("reviews:queue")) == few


# Cycles --------------------------------------------------------------------------------------------------------------


def test_reviewer_opens_a_cycle_from_the_form(login, reviewer):
    InitiativeFactory(stage=Stage.PILOT)
    response = login(reviewer).post(reverse("reviews:cycle_create"), last_quarter_cycle_form())
    cycle = ReviewCycle.objects.get()
    assert response.status_code == 302 and response["Location"] == cycle.get_absolute_url()
    assert cycle.reports.count() == 1


def test_opening_a_cycle_again_says_what_it_added(login, reviewer):
    """It said "Cycle 2026-Q3 is open with 74 expected reports" whether it opened the cycle or added one report."""
    InitiativeFactory(stage=Stage.PILOT)
    client = login(reviewer)
    body = last_quarter_cycle_form()
    opened = client.post(reverse("reviews:cycle_create"), body, follow=True).content.decode()
    assert f"Cycle {body['name']} is open with 1 expected report." in opened
    again = client.post(reverse("reviews:cycle_create"), body, follow=True).content.decode()
    assert f"Cycle {body['name']} was open already, with its 1 expected report: nothing was missing" in again
    late = InitiativeFactory(stage=Stage.PRODUCTION, external_id="QA-0042")
    added = client.post(reverse("reviews:cycle_create"), body, follow=True).content.decode()
    assert f"Cycle {body['name']} was open already: 1 missing report added ({late.external_id}); 2 expected" in added


def test_the_cycle_form_proposes_a_cycle_that_may_open_and_names_what_is_wrong(login, reviewer):
    body = last_quarter_cycle_form()
    client = login(reviewer)
    proposed = client.get(reverse("reviews:cycle_create")).context["form"].initial
    assert (proposed["name"], f"{proposed['period_start']}") == (body["name"], body["period_start"])
    assert proposed["due_on"] >= timezone.localdate()
    ReviewCycleFactory(name=body["name"], period_start=body["period_start"], period_end=body["period_end"])
    proposed = client.get(reverse("reviews:cycle_create")).context["form"].initial
    assert proposed["name"] != body["name"] and proposed["period_start"] > date.fromisoformat(body["period_end"])
    assert proposed["due_on"] >= timezone.localdate()
    response = client.post(reverse("reviews:cycle_create"), {**body, "name": "<b>x</b>"})
    assert response.status_code == 400
    assert f"is named {body['name']}, not &lt;b&gt;x&lt;/b&gt;" in response.content.decode()
    assert ReviewCycle.objects.count() == 1


def test_the_cycle_form_names_a_date_that_differs_from_the_open_cycles(login, reviewer):
    body = last_quarter_cycle_form()
    client = login(reviewer)
    assert client.post(reverse("reviews:cycle_create"), body).status_code == 302
    later = date.fromisoformat(body["due_on"]) + timedelta(days=16)
    response = client.post(reverse("reviews:cycle_create"), {**body, "due_on": f"{later:%Y-%m-%d}"})
    assert response.status_code == 400 and list(response.context["form"].errors) == ["due_on"]
    assert f"is already open with due_on {body['due_on']}, not {later:%Y-%m-%d}" in response.content.decode()
    assert f"{ReviewCycle.objects.get().due_on:%Y-%m-%d}" == body["due_on"]
    assert client.post(reverse("reviews:cycle_create"), body).status_code == 302


def test_a_reviewer_extends_a_cycles_due_date_from_its_page(login, reviewer, executive):
    body = last_quarter_cycle_form()
    client = login(reviewer)
    assert client.post(reverse("reviews:cycle_create"), body).status_code == 302
    cycle = ReviewCycle.objects.get()
    assert reverse("reviews:cycle_dates", args=[cycle.pk]) in client.get(cycle.get_absolute_url()).content.decode()
    assert reverse("reviews:cycle_dates", args=[cycle.pk]) not in (
        login(executive).get(cycle.get_absolute_url()).content.decode())
    form = login(reviewer).get(reverse("reviews:cycle_dates", args=[cycle.pk])).context["form"]
    assert form.initial["due_on"] == cycle.due_on and form.fields["opens_on"].disabled  # it has opened
    later = cycle.due_on + timedelta(days=14)
    response = client.post(reverse("reviews:cycle_dates", args=[cycle.pk]),
                           {"opens_on": "1999-01-01", "due_on": f"{later:%Y-%m-%d}"})
    assert response.status_code == 302 and response["Location"] == cycle.get_absolute_url()
    cycle.refresh_from_db()
    assert cycle.due_on == later and f"{cycle.opens_on:%Y-%m-%d}" == body["opens_on"]  # a disabled field is kept
    passed = timezone.localdate() - timedelta(days=1)
    response = client.post(reverse("reviews:cycle_dates", args=[cycle.pk]), {"due_on": f"{passed:%Y-%m-%d}"})
    assert response.status_code == 400 and list(response.context["form"].errors) == ["due_on"]
    assert f"The due date {passed:%Y-%m-%d} has passed" in response.content.decode()
    services.review_cycle_close(actor=reviewer, cycle=cycle)
    closed = client.get(reverse("reviews:cycle_dates", args=[cycle.pk]))
    assert closed.status_code == 302 and closed["Location"] == cycle.get_absolute_url()


def test_the_cycle_form_refuses_bad_dates(login, reviewer):
    data = {"name": "X", "period_start": "2026-09-30", "period_end": "2026-07-01", "opens_on": "2026-10-01",
            "due_on": "2026-10-31"}
    response = login(reviewer).post(reverse("reviews:cycle_create"), data)
    assert response.status_code == 400 and "period_end" in response.context["form"].errors
    assert not ReviewCycle.objects.exists()


def test_cycle_overview_counts_per_department_and_draws_the_chart(login, executive):
    today = timezone.localdate()
    late = ReviewCycleFactory(name="late", opens_on=today - timedelta(days=40), due_on=today - timedelta(days=5))
    claims, sales = DepartmentFactory(name="Claims"), DepartmentFactory(name="Sales")
    for department, status in ((claims, "submitted"), (claims, "draft"), (sales, "draft")):
        ValueReportFactory(cycle=late, status=status,
                           initiative=InitiativeFactory(department=department, stage=Stage.PILOT))
    response = login(executive).get(late.get_absolute_url())
    progress = {row.department: (row.submitted, row.due, row.overdue) for row in response.context["progress"]}
    assert progress == {"Claims": (1, 0, 1), "Sales": (0, 0, 1)}
    html = response.content.decode()
    assert "vendor/plotly.min.js" in html and 'id="count-overdue">2<' in html
    figure = json.loads(html.split('id="cycle-progress-data" type="application/json">')[1].split("</script>")[0])
    assert figure["layout"]["barmode"] == "stack" and [s["name"] for s in figure["data"]] == ["Submitted", "Due",
                                                                                             "Overdue"]


def test_cycle_list_says_the_status_of_open_upcoming_and_closed_cycles(login, executive):
    today = timezone.localdate()
    ReviewCycleFactory(name="open-one", opens_on=today - timedelta(days=3), due_on=today + timedelta(days=20))
    ReviewCycleFactory(name="next-one", opens_on=today + timedelta(days=30), due_on=today + timedelta(days=60))
    ReviewCycleFactory(name="old-one", opens_on=today - timedelta(days=90), due_on=today - timedelta(days=60),
                       closed_at=timezone.now())
    response = login(executive).get(reverse("reviews:cycle_list") + "?_export=csv")
    rows = csv_rows(response)
    status = {row[0]: row[rows[0].index("Status")] for row in rows[1:]}
    assert status == {"open-one": "Open", "next-one": "Upcoming", "old-one": "Closed"}
    html = login(executive).get(reverse("reviews:cycle_list")).content.decode()
    assert ">Open<" in html and ">Upcoming<" in html


def test_cycle_csv_export_has_every_report(login, executive, cycle):
    for _ in range(3):
        ValueReportFactory(cycle=cycle)
    rows = csv_rows(login(executive).get(cycle.get_absolute_url() + "?_export=csv"))
    assert rows[0][:3] == ["Initiative", "Department", "Owner"] and len(rows) == 4


def test_the_cycle_csv_leaves_an_absent_value_empty_and_numbers_numeric(login, executive, cycle):
    """The page shows "—" for a draft's outcomes and submission time; the CSV leaves both cells empty, as every CSV
    does for an absent value, and a count stays a plain number."""
    ValueReportFactory(cycle=cycle, initiative=InitiativeFactory(name="A draft"))
    ValueReportFactory(cycle=cycle, initiative=InitiativeFactory(name="B sent"), status=ReportStatus.SUBMITTED,
                       outcome_count=15000, submitted_at=timezone.now())
    client = login(executive)
    rows = csv_rows(client.get(cycle.get_absolute_url() + "?_export=csv&sort=initiative"))
    header = rows[0]
    outcomes, sent = header.index("Outcomes"), header.index("Submitted at")
    assert (rows[1][outcomes], rows[1][sent]) == ("", "")
    assert rows[2][outcomes] == "15000" and rows[2][sent] != ""
    assert "—" not in [cell for row in rows for cell in row]


def test_cycle_pages_query_counts_are_constant(login, executive, cycle):
    client = login(executive)
    ValueReportFactory(cycle=cycle)
    few_detail = count_queries(client, cycle.get_absolute_url())
    few_list = count_queries(client, reverse("reviews:cycle_list"))
    for index in range(5):
        ValueReportFactory(cycle=cycle, status=ReportStatus.SUBMITTED)
        ReviewCycleFactory(name=f"extra-{index}")
    assert count_queries(client, cycle.get_absolute_url()) == few_detail
    assert count_queries(client, reverse("reviews:cycle_list")) == few_list


def test_close_cycle(login, reviewer, owner, cycle):
    assert login(owner).post(reverse("reviews:cycle_close", args=[cycle.pk]), {"confirm": "yes"}).status_code == 403
    response = login(reviewer).post(reverse("reviews:cycle_close", args=[cycle.pk]), {"confirm": "yes"})
    assert response.status_code == 302 and ReviewCycle.objects.get(pk=cycle.pk).closed_at is not None


def test_closing_a_cycle_asks_for_confirmation_saying_how_many_drafts_are_left(login, reviewer, cycle):
    ValueReportFactory(cycle=cycle)
    ValueReportFactory(cycle=cycle)
    ValueReportFactory(cycle=cycle, status=ReportStatus.SUBMITTED)
    client = login(reviewer)
    detail = client.get(cycle.get_absolute_url()).content.decode()
    assert f'href="{reverse("reviews:cycle_close", args=[cycle.pk])}" id="close-cycle"' in detail
    page = client.get(reverse("reviews:cycle_close", args=[cycle.pk]))
    assert page.status_code == 200 and 'id="close-drafts">2<' in page.content.decode()
    refused = client.post(reverse("reviews:cycle_close", args=[cycle.pk]))
    assert refused.status_code == 400 and "Tick the box to confirm closing the cycle" in refused.content.decode()
    assert ReviewCycle.objects.get(pk=cycle.pk).closed_at is None
    assert client.post(reverse("reviews:cycle_close", args=[cycle.pk]), {"confirm": "yes"}).status_code == 302
    assert ReviewCycle.objects.get(pk=cycle.pk).closed_at is not None


def test_the_cycle_page_filters_on_the_status_its_column_shows(login, executive, cycle):
    today = timezone.localdate()
    late = ReviewCycleFactory(name="2026-Q2", opens_on=today - timedelta(days=40), due_on=today - timedelta(days=1))
    overdue = ValueReportFactory(cycle=late, initiative=InitiativeFactory(name="Overdue one"))
    ValueReportFactory(cycle=late, status=ReportStatus.SUBMITTED, initiative=InitiativeFactory(name="In time"))
    judged = ValueReportFactory(cycle=late, status=ReportStatus.SUBMITTED, initiative=InitiativeFactory(name="Judged"))
    Verdict.objects.create(report=judged, reviewer=UserFactory(role=Role.REVIEWER), decision=Decision.CONTINUE,
                           rationale="Fine.")
    ValueReportFactory(cycle=cycle, initiative=InitiativeFactory(name="Due one"))
    client = login(executive)
    page = client.get(late.get_absolute_url())
    options = page.context["filter"].form.fields["state"].choices
    assert [label for _, label in options] == ["Any", "Due", "Overdue", "Submitted", "Verdict given", "Not open yet",
                                               "Not submitted (cycle closed)", "Not expected (initiative ended)"]
    assert 'name="state"' in page.content.decode()

    def shown(url: str, state: str) -> list[str]:
        rows = csv_rows(client.get(f"{url}?state={state}&_export=csv"))
        return [row[0] for row in rows[1:]]

    assert shown(late.get_absolute_url(), "overdue") == [overdue.initiative.name]
    assert shown(late.get_absolute_url(), "submitted") == ["In time"]
    assert shown(late.get_absolute_url(), "reviewed") == ["Judged"]
    assert shown(cycle.get_absolute_url(), "due") == ["Due one"] and shown(cycle.get_absolute_url(), "overdue") == []


def test_the_cycle_page_and_csv_sort_by_the_status_shown(login, executive):
    """Stored status mixes overdue with not expected drafts, submitted with judged reports: the column sorts by the
    state it shows (in the Status filter's order), names in order within a state, page and CSV alike."""
    today = timezone.localdate()
    late = ReviewCycleFactory(name="2026-Q2", opens_on=today - timedelta(days=40), due_on=today - timedelta(days=1))
    submitted = {"status": ReportStatus.SUBMITTED, "submitted_at": timezone.now()}
    ValueReportFactory(cycle=late, initiative=InitiativeFactory(name="A submitted"), **submitted)
    judged = ValueReportFactory(cycle=late, initiative=InitiativeFactory(name="B judged"), **submitted)
    Verdict.objects.create(report=judged, reviewer=UserFactory(role=Role.REVIEWER), decision=Decision.CONTINUE,
                           rationale="Fine.")
    ValueReportFactory(cycle=late, initiative=InitiativeFactory(name="C submitted"), **submitted)
    ValueReportFactory(cycle=late, initiative=InitiativeFactory(name="D overdue"))
    ValueReportFactory(cycle=late, initiative=InitiativeFactory(name="E killed", stage=Stage.KILLED))
    ValueReportFactory(cycle=late, initiative=InitiativeFactory(name="F overdue"))
    client = login(executive)
    ascending = ["D overdue", "F overdue", "A submitted", "C submitted", "B judged", "E killed"]
    descending = ["E killed", "B judged", "A submitted", "C submitted", "D overdue", "F overdue"]
    for sort, expected in (("state", ascending), ("-state", descending)):
        page = client.get(late.get_absolute_url(), {"sort": sort})
        assert [row.record.initiative.name for row in page.context["table"].page.object_list] == expected
        rows = csv_rows(client.get(late.get_absolute_url(), {"sort": sort, "_export": "csv"}))
        assert [row[0] for row in rows[1:]] == expected
        assert [row[3] for row in rows[1:]][::5] == (
            ["Overdue", "Not expected (initiative killed)"] if sort == "state" else
            ["Not expected (initiative killed)", "Overdue"])


def test_the_cycle_list_and_csv_sort_by_the_status_shown(login, executive):
    today = timezone.localdate()
    ReviewCycleFactory(name="2026-Q1", opens_on=today - timedelta(days=3), due_on=today + timedelta(days=20))
    ReviewCycleFactory(name="2025-Q4", opens_on=today - timedelta(days=90), due_on=today - timedelta(days=60),
                       closed_at=timezone.now())
    ReviewCycleFactory(name="2026-Q2", opens_on=today + timedelta(days=30), due_on=today + timedelta(days=60))
    ReviewCycleFactory(name="2025-Q3", opens_on=today - timedelta(days=3), due_on=today + timedelta(days=20))
    client = login(executive)
    expected = ["2026-Q2", "2025-Q3", "2026-Q1", "2025-Q4"]  # upcoming, open, closed; by name within a status
    page = client.get(reverse("reviews:cycle_list"), {"sort": "status"})
    assert [row.record.name for row in page.context["table"].page.object_list] == expected
    rows = csv_rows(client.get(reverse("reviews:cycle_list"), {"sort": "status", "_export": "csv"}))
    assert [(row[0], row[rows[0].index("Status")]) for row in rows[1:]] == [
        ("2026-Q2", "Upcoming"), ("2025-Q3", "Open"), ("2026-Q1", "Open"), ("2025-Q4", "Closed")]
    rows = csv_rows(client.get(reverse("reviews:cycle_list"), {"sort": "-status", "_export": "csv"}))
    assert [row[0] for row in rows[1:]] == ["2025-Q4", "2025-Q3", "2026-Q1", "2026-Q2"]


def test_a_report_submitted_after_the_due_date_is_flagged_late(login, executive, owner, report):
    cycle = report.cycle
    ReviewCycle.objects.filter(pk=cycle.pk).update(due_on=timezone.localdate() - timedelta(days=1))
    on_time = ValueReportFactory(cycle=cycle, status=ReportStatus.SUBMITTED, submitted_at=timezone.now() - timedelta(
        days=5), initiative=InitiativeFactory(name="On time"))
    deflected, handle = report.initiative.kpis.order_by("pk")
    services.value_report_save_draft(actor=owner, report=report, fields={"outcome_count": 15000},
                                     kpi_actuals={deflected.pk: D("5000"), handle.pk: D("4.5")})
    services.value_report_submit(actor=owner, report=report)
    client = login(executive)
    detail = client.get(report.get_absolute_url()).content.decode()
    assert ">Submitted late<" in detail and "after the due date" in detail
    assert "Submitted late" not in client.get(on_time.get_absolute_url()).content.decode()
    rows = csv_rows(client.get(cycle.get_absolute_url() + "?_export=csv"))
    status = {row[0]: row[rows[0].index("Status")] for row in rows[1:]}
    assert status == {report.initiative.name: "Submitted late", "On time": "Submitted"}
    assert "Submitted late" in client.get(cycle.get_absolute_url()).content.decode()


# Notifications -------------------------------------------------------------------------------------------------------


def test_notifications_show_only_mine_and_mark_read(login, owner, other_owner):
    services.notification_create(user=owner, message="Your report is due")
    services.notification_create(user=other_owner, message="Not yours")
    client = login(owner)
    response = client.get(reverse("reviews:notification_list"))
    assert [row.record.message for row in response.context["table"].page.object_list] == ["Your report is due"]
    assert client.post(reverse("reviews:notifications_read")).status_code == 302
    assert Notification.objects.get(user=owner).read_at is not None
    assert Notification.objects.get(user=other_owner).read_at is None


@pytest.mark.parametrize("raw", ["99999999999999999999", "²", "abc", "0"])
def test_marking_a_notification_no_record_can_have_read_marks_none(login, owner, raw):
    """An id past the id column, or not a number, is an id no notification has: not a 500, and not "all of them"."""
    services.notification_create(user=owner, message="Your report is due")
    assert login(owner).post(reverse("reviews:notifications_read"), {"id": raw}).status_code == 302
    assert Notification.objects.get(user=owner).read_at is None


def test_the_notifications_page_says_how_they_reach_the_mailbox_and_its_csv_is_text(login, owner):
    services.notification_create(user=owner, message="New signal: Sprawl", url="/governance/signals/85/")
    client = login(owner)
    assert "Each is also e-mailed to you." in client.get(reverse("reviews:notification_list")).content.decode()
    profile_notifications_set(actor=owner, user=owner, email="daily", digest_hour=8)
    page = client.get(reverse("reviews:notification_list")).content.decode()
    assert "in one digest a day, at 08:00" in page and "Each is also e-mailed" not in page
    profile_notifications_set(actor=owner, user=owner, email="off")
    assert "They are not e-mailed to you" in client.get(reverse("reviews:notification_list")).content.decode()
    exported = client.get(reverse("reviews:notification_list") + "?_export=csv").content.decode()
    assert "New signal: Sprawl" in exported and "<a" not in exported


def test_notifications_query_count_is_constant(login, owner):
    client = login(owner)
    services.notification_create(user=owner, message="one")
    few = count_queries(client, reverse("reviews:notification_list"))
    for index in range(5):
        services.notification_create(user=owner, message=f"more {index}")
    assert count_queries(client, reverse("reviews:notification_list")) == few


def bell_queries(client, url: str) -> list[str]:
    """The queries of a page that read the notifications table (the bell's count, and nothing else on that page)."""
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return [q["sql"] for q in ctx.captured_queries if Notification._meta.db_table in q["sql"]]


def test_the_bell_in_the_navigation_shows_the_unread_count(login, owner, other_owner):
    for message in ("Approved", "Verdict: Scale", "Read already"):
        services.notification_create(user=owner, message=message)
    services.notification_create(user=other_owner, message="Not yours")
    services.notifications_mark_read(actor=owner, ids=[Notification.objects.get(message="Read already").pk])
    client = login(owner)

    html = client.get(reverse("portfolio:initiative_list")).content.decode()

    bell = f'<a class="bell" href="{reverse("reviews:notification_list")}"'
    assert bell in html and 'aria-label="Notifications, 2 unread"' in html
    assert '<span class="count">2</span>' in html
    client.post(reverse("reviews:notifications_read"))
    html = client.get(reverse("portfolio:initiative_list")).content.decode()
    assert bell in html and 'class="count"' not in html  # nothing unread: the bell without a number


def test_the_bell_costs_one_query_however_many_notifications(login, owner):
    client = login(owner)
    url = reverse("portfolio:initiative_list")
    services.notification_create(user=owner, message="one")
    assert len(bell_queries(client, url)) == 1
    for index in range(20):
        services.notification_create(user=owner, message=f"more {index}")
    assert len(bell_queries(client, url)) == 1


def test_no_bell_without_a_role_nor_on_the_login_page(client, db):
    assert 'class="bell"' not in client.get(reverse("login")).content.decode()
    nobody = UserFactory(username="no.role@example.com")
    client.force_login(nobody)
    assert 'class="bell"' not in client.get(reverse("home"), follow=True).content.decode()


def test_navigation_has_my_reports_and_cycles(login, owner):
    html = login(owner).get(reverse("reviews:mine")).content.decode()
    assert f'href="{reverse("reviews:mine")}"' in html and f'href="{reverse("reviews:cycle_list")}"' in html


# Reports owed only once the quarter is over, by running initiatives; never judged by who wrote them --------------


def test_a_draft_of_a_quarter_not_over_is_read_with_the_dates_not_offered_as_a_form(login, owner, report):
    today = timezone.localdate()
    _, _, start, end = calculations.quarter_bounds(today)
    report.cycle = ReviewCycleFactory(name="unfinished", period_start=start, period_end=end, opens_on=today,
                                      due_on=end + timedelta(days=30))
    report.save()
    message = (f"The cycle unfinished reviews {start:%Y-%m-%d} to {end:%Y-%m-%d}, which has not ended: its reports "
               f"take figures from {end + timedelta(days=1):%Y-%m-%d}.")
    client = login(owner)
    edit = reverse("reviews:report_edit", args=[report.pk])
    for response in (client.get(edit), client.post(edit, form_data(report, action="submit"))):
        assert response.status_code == 302 and response["Location"] == report.get_absolute_url()
    html = client.get(report.get_absolute_url()).content.decode()
    assert message in html and edit not in html and "Not open yet" in html
    report.refresh_from_db()
    assert report.status == ReportStatus.DRAFT and report.outcome_count is None


def test_the_cycle_form_refuses_a_cycle_opening_before_its_quarter_ends(login, reviewer):
    today = timezone.localdate()
    year, quarter, start, end = calculations.quarter_bounds(today)
    data = {"name": f"{year}-Q{quarter}", "period_start": f"{start:%Y-%m-%d}", "period_end": f"{end:%Y-%m-%d}",
            "opens_on": f"{today:%Y-%m-%d}", "due_on": f"{end + timedelta(days=30):%Y-%m-%d}"}
    response = login(reviewer).post(reverse("reviews:cycle_create"), data)
    assert response.status_code == 400
    assert response.context["form"].errors["opens_on"] == [
        f"A cycle opens once the period it reviews has ended: {year}-Q{quarter} reviews {start:%Y-%m-%d} to "
        f"{end:%Y-%m-%d}, so it opens on {end + timedelta(days=1):%Y-%m-%d} at the earliest, not {today:%Y-%m-%d}. "
        "It may be opened ahead with that later opening date."]
    assert not ReviewCycle.objects.exists()


def test_a_reviewer_who_submitted_a_report_as_delegate_is_refused_its_verdict_on_the_page(
        login, owner, reviewer, report, initiative):
    writer = UserFactory(role=Role.REVIEWER)
    owner.profile.delegates.add(writer)
    client = login(writer)
    assert client.post(reverse("reviews:report_edit", args=[report.pk]),
                       form_data(report, action="submit")).status_code == 302
    owner.profile.delegates.remove(writer)
    detail = client.get(report.get_absolute_url())
    assert not detail.context["can_give_verdict"] and not detail.context["can_reopen"]
    for name, data in (("reviews:report_verdict", {"decision": "scale", "rationale": "I wrote it."}),
                       ("reviews:report_reopen", {"reason": "Mine to fix."})):
        response = client.post(reverse(name, args=[report.pk]), data)
        assert response.status_code == 403
        assert ("you submitted or edited this value report, and nobody judges or reopens a value report they "
                "submitted or edited (another reviewer does)") in response.content.decode()
    assert not Verdict.objects.exists()
    assert not client.get(reverse("reviews:queue")).context["table"].page.object_list
    assert [r.record.pk for r in login(reviewer).get(reverse("reviews:queue")).context["table"].page.object_list] == [
        report.pk]


def test_a_killed_initiatives_draft_is_not_owed_nor_editable_on_the_pages(login, owner, reviewer, report, initiative):
    initiative_transition(actor=reviewer, initiative=initiative, transition="kill", reason="Duplicate of a service.")
    client = login(owner)
    mine = client.get(reverse("reviews:mine"))
    assert mine.context["open_reports"] == []
    assert "Not expected (initiative killed)" in mine.content.decode()
    edit = reverse("reviews:report_edit", args=[report.pk])
    for response in (client.get(edit), client.post(edit, form_data(report))):
        assert response.status_code == 302 and response["Location"] == report.get_absolute_url()
    html = client.get(report.get_absolute_url()).content.decode()
    assert (f"“{initiative}” is killed: an ended initiative owes no value report, so its {report.cycle} report can "
            "no longer be edited or submitted.") in html
    assert edit not in html
    report.refresh_from_db()
    assert report.outcome_count is None
    rows = {row[0]: row[3] for row in csv_rows(login(reviewer).get(report.cycle.get_absolute_url() + "?_export=csv"))}
    assert rows[initiative.name] == "Not expected (initiative killed)"


def test_a_closed_cycles_drafts_read_not_submitted_on_the_page_and_in_the_csv(login, reviewer, executive, report):
    services.review_cycle_close(actor=reviewer, cycle=report.cycle)
    client = login(executive)
    page = client.get(report.cycle.get_absolute_url())
    html = page.content.decode()
    assert "Not submitted (cycle closed)" in html and 'id="count-not-submitted">1<' in html
    assert 'id="count-due">0<' in html and 'id="count-overdue">0<' in html
    rows = csv_rows(client.get(report.cycle.get_absolute_url() + "?_export=csv"))
    assert rows[0][3] == "Status" and rows[1][3] == "Not submitted (cycle closed)"
    filtered = client.get(report.cycle.get_absolute_url(), {"state": "not_submitted"})
    assert [r.record.pk for r in filtered.context["table"].page.object_list] == [report.pk]


def test_the_report_form_refuses_a_percent_kpi_actual_of_250_naming_the_kpi(login, owner, report):
    rate = KPIFactory(initiative=report.initiative, name="Containment rate", unit="%", kind=KpiKind.RATIO,
                      baseline=D("20"), target=D("45"), direction=KpiDirection.INCREASE, value_per_unit=None)
    response = login(owner).post(reverse("reviews:report_edit", args=[report.pk]),
                                 form_data(report, **{f"kpi_{rate.pk}": "250"}))
    assert response.status_code == 400
    message = ("KPI “Containment rate” is measured in percent (%): its actual is 250, and a percentage is between 0 "
               "and 100.")
    assert message in html.unescape(response.content.decode())
    assert response.context["form"].errors == {f"kpi_{rate.pk}": [message]}  # on its input, and only there
    assert not report.actuals.exists()


def test_the_report_form_names_a_percent_kpi_out_of_range_with_the_fields_that_did_not_parse(login, owner, report):
    """The percent check waited for the field-type errors to be fixed: one answer now names every wrong field."""
    rate = KPIFactory(initiative=report.initiative, name="Containment rate", unit="%", kind=KpiKind.RATIO,
                      baseline=D("20"), target=D("45"), direction=KpiDirection.INCREASE, value_per_unit=None)
    response = login(owner).post(reverse("reviews:report_edit", args=[report.pk]),
                                 form_data(report, outcome_count="many", **{f"kpi_{rate.pk}": "250"}))
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert set(errors) == {"outcome_count", f"kpi_{rate.pk}"}
    assert errors[f"kpi_{rate.pk}"] == ["KPI “Containment rate” is measured in percent (%): its actual is 250, and a "
                                        "percentage is between 0 and 100."]
    assert not report.actuals.exists()


# What opening a cycle means, said on the form ------------------------------------------------------------------------

DECEMBER_7 = date(2026, 12, 7)


@pytest.fixture
def on_december_7(monkeypatch):
    """7 December 2026: the form proposes 2026-Q3 (the quarter just ended), opening today."""
    real = timezone.localdate
    monkeypatch.setattr(timezone, "localdate", lambda value=None, timezone=None: DECEMBER_7 if value is None
                        else real(value, timezone))


def opening_of(response) -> str:
    html = response.content.decode()
    assert 'id="cycle-opening"' in html, html
    return " ".join(html.split('id="cycle-opening"', 1)[1].split("</section>", 1)[0].split())


def test_on_a_fresh_install_the_form_says_nobody_owes_a_report_and_no_cost_data_was_read(
        login, admin_user, reviewer, on_december_7):
    InitiativeFactory(stage=Stage.APPROVED)  # not yet in pilot: owes nothing
    InitiativeFactory(stage=Stage.PILOT, start_date=date(2026, 10, 5))  # started after the quarter
    said = opening_of(login(admin_user).get(reverse("reviews:cycle_create")))
    assert "What opening 2026-Q3 means" in said
    assert ("No initiative would owe a value report: the cycle would open empty.</strong> Only initiatives in pilot "
            "or production that started by 2026-09-30 (or have no start date) owe one, and there are none; 1 in pilot "
            "or production started after the period and owes it nothing.") in said
    assert ("No cost data was read for 2026-Q3: its value reports will show costs estimated from business cases and "
            "declared monthly costs.") in said
    assert f'href="{reverse("portfolio:costsource_create")}"' in said and ">Add a source</a>" in said
    for month in ("2026-07", "2026-08", "2026-09"):
        assert f"{month}: no cost data (not read by any cost source)" in said
    said = opening_of(login(reviewer).get(reverse("reviews:cycle_create")))  # reads the cost pages, adds no source
    assert "Add a source" not in said and f'href="{reverse("portfolio:costsource_list")}"' in said


def test_the_form_counts_the_reports_owed_and_names_the_months_of_a_quarter_partly_read(
        login, reviewer, on_december_7):
    """Two sources added in June: focus delivered July to September, openai July and August and still owes
    September. July and August are complete, September partly read."""
    from portfolio.models import MonthlyCost
    from tests.portfolio.costs.factories import CostSourceFactory, IngestionRunFactory, source_added

    running = [InitiativeFactory(stage=Stage.PRODUCTION), InitiativeFactory(stage=Stage.PILOT, start_date=None)]
    InitiativeFactory(stage=Stage.RETIRED)
    june = timezone.make_aware(timezone.datetime(2026, 6, 1, 9, 0))
    focus = source_added(CostSourceFactory(name="focus"), june)
    openai = source_added(CostSourceFactory(name="openai"), june)
    for month in (7, 8, 9):
        IngestionRunFactory(source=focus, period=date(2026, month, 1))
        if month < 9:
            IngestionRunFactory(source=openai, period=date(2026, month, 1))
        MonthlyCost.objects.create(initiative=running[0], month=date(2026, month, 1), category="inference",
                                   amount=D("100"))
    said = opening_of(login(reviewer).get(reverse("reviews:cycle_create")))
    assert ("2 initiatives would owe a value report: those in pilot or production that started by 2026-09-30 (or "
            "have no start date).") in said
    assert ("The cost data of 2026-Q3 is partial</strong>: its value reports will estimate the months without cost "
            "data from business cases and declared monthly costs.") in said
    assert "2026-07: complete</li>" in said and "2026-08: complete</li>" in said
    assert "2026-09: partly (openai still owes it)" in said
    IngestionRunFactory(source=openai, period=date(2026, 9, 1))
    said = opening_of(login(reviewer).get(reverse("reviews:cycle_create")))
    assert "The cost data of 2026-Q3 is complete: every month has ended and every enabled cost source delivered" \
        in said


def test_checking_other_dates_says_what_opening_them_means_and_opens_nothing(login, reviewer, on_december_7):
    InitiativeFactory(stage=Stage.PRODUCTION, start_date=date(2026, 5, 1))  # owes 2026-Q2 and later, not 2026-Q1
    body = {"name": "2026-Q1", "period_start": "2026-01-01", "period_end": "2026-03-31", "opens_on": "2026-12-07",
            "due_on": "2027-01-06", "preview": "1"}
    response = login(reviewer).post(reverse("reviews:cycle_create"), body)
    assert response.status_code == 200 and not ReviewCycle.objects.exists()
    said = opening_of(response)
    assert "What opening 2026-Q1 means" in said and "No initiative would owe a value report" in said
    assert "No cost data was read for 2026-Q1" in said
    assert response.context["form"]["period_start"].value() == "2026-01-01"  # the dates typed in stay
    said = opening_of(login(reviewer).post(reverse("reviews:cycle_create"), {
        **body, "name": "2026-H2", "period_start": "2026-07-01", "period_end": "2026-12-31"}))
    assert "1 initiative would owe a value report" in said and "2026-12: no cost data (has not ended yet)" in said
    assert "No cost data yet for 2026-H2" in said  # not "was read": its last month is still running
    bad = login(reviewer).post(reverse("reviews:cycle_create"), {**body, "period_end": "2025-12-31"})
    assert bad.status_code == 400 and "period_end" in bad.context["form"].errors  # nothing to preview then
    assert 'id="cycle-opening"' not in bad.content.decode() and not ReviewCycle.objects.exists()


def test_the_form_s_query_count_does_not_grow_with_initiatives_or_sources(login, reviewer, on_december_7):
    from tests.portfolio.costs.factories import CostSourceFactory, IngestionRunFactory

    client = login(reviewer)
    InitiativeFactory(stage=Stage.PILOT)
    IngestionRunFactory(source=CostSourceFactory(), period=date(2026, 9, 1))
    few = count_queries(client, reverse("reviews:cycle_create"))
    for _ in range(4):
        InitiativeFactory(stage=Stage.PRODUCTION)
        IngestionRunFactory(source=CostSourceFactory(), period=date(2026, 8, 1))
    assert count_queries(client, reverse("reviews:cycle_create")) == few


def test_the_form_says_what_opening_an_existing_cycle_again_adds(login, reviewer, on_december_7):
    cycle = ReviewCycleFactory(name="2026-Q3")
    owing = [InitiativeFactory(stage=Stage.PILOT) for _ in range(3)]
    ValueReportFactory(cycle=cycle, initiative=owing[0])
    said = opening_of(login(reviewer).get(reverse("reviews:cycle_create")))
    assert "What opening" in said  # the form proposes the next free quarter; 2026-Q3 is checked on request
    body = {"name": "2026-Q3", "period_start": "2026-07-01", "period_end": "2026-09-30", "opens_on": "2026-10-01",
            "due_on": "2026-10-31", "preview": "1"}
    said = opening_of(login(reviewer).post(reverse("reviews:cycle_create"), body))
    assert "2026-Q3 exists already: opening it again adds 2 missing reports; 3 initiatives owe it one." in said
    services.review_cycle_close(actor=reviewer, cycle=cycle)
    said = opening_of(login(reviewer).post(reverse("reviews:cycle_create"), body))
    assert f"2026-Q3 exists and was closed on {timezone.localtime(ReviewCycle.objects.get().closed_at):%Y-%m-%d}" \
        in said and "it is not opened again" in said
