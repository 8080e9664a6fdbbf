"""Review services: opening cycles, draft / submit / reopen, verdicts with segregation of duties, attachments."""

from __future__ import annotations

import importlib
from datetime import date, timedelta
from decimal import Decimal as D

import pytest
from auditlog.models import LogEntry
from django.apps import apps
from django.conf import settings
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from governance.evidence import NOTICE_MAX_CHARS
from governance.services import TransitionError, initiative_transition
from governance.tables import audit_changes_text
from portfolio.choices import KpiDirection, KpiKind, Stage
from portfolio.services import business_case_version_record, initiatives_hand_over
from reviews import calculations, selectors, services
from reviews.choices import Decision, ReportState, ReportStatus
from reviews.models import Notification, ReportAttachment, ReviewCycle, ValueReport, Verdict
from tests.factories import (
    BusinessCaseFactory,
    InitiativeFactory,
    KPIFactory,
    ReviewCycleFactory,
    UserFactory,
    ValueReportFactory,
)
from tollgate.audit import audit_event
from tollgate.roles import Role

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def events(instance, event: str) -> list[LogEntry]:
    return [e for e in LogEntry.objects.get_for_object(instance) if (e.additional_data or {}).get("event") == event]


@pytest.fixture
def kpis(initiative):
    initiative.stage = Stage.PILOT
    initiative.save()
    BusinessCaseFactory(initiative=initiative)
    return [
        KPIFactory(initiative=initiative, name="Tickets deflected", unit="tickets", baseline=D("0"),
                   target=D("4000"), direction=KpiDirection.INCREASE, value_per_unit=D("4.50")),
        KPIFactory(initiative=initiative, name="Average handle time", unit="minutes per ticket",
                   kind=KpiKind.PER_OUTCOME, baseline=D("6.0"), target=D("4.0"), direction=KpiDirection.DECREASE,
                   value_per_unit=D("0.75")),
    ]


@pytest.fixture
def report(initiative, kpis):
    return ValueReportFactory(initiative=initiative)


def fill(report, actor, outcome_count=15000):
    deflected, handle = report.initiative.kpis.order_by("pk")[:2]
    return services.value_report_save_draft(
        actor=actor, report=report, fields={"outcome_count": outcome_count, "active_users": 120,
                                            "narrative": "Deflection beat the target."},
        kpi_actuals={deflected.pk: D("5000"), handle.pk: D("4.5")},
    )


def test_a_value_tollgate_could_not_record_is_refused_naming_the_kpi_and_nothing_is_written(report, owner):
    deflected, handle = report.initiative.kpis.order_by("pk")[:2]
    with pytest.raises(ValidationError) as refused:  # each figure within its own field's limits, on both databases
        services.value_report_save_draft(actor=owner, report=report, fields={"outcome_count": 2_000_000_000},
                                         kpi_actuals={deflected.pk: D("5000"), handle.pk: D("-99999999999")})
    assert refused.value.message_dict["kpi_actuals"] == [
        "KPI “Average handle time” would be worth $150,000,000,007,500,000,000.00 this period, beyond the "
        "$999,999,999,999.99 Tollgate records: check its actual, its value per unit and the outcome count."]
    report.refresh_from_db()
    assert report.outcome_count is None and not report.actuals.exists()
    fill(report, owner)  # sensible figures are still taken


@pytest.mark.parametrize("field", ["outcome_count", "active_users"])
def test_a_count_past_postgresqls_integer_is_refused_on_every_database_and_nothing_is_written(report, owner, field):
    with pytest.raises(ValidationError) as refused:  # SQLite alone would store it; PostgreSQL's column would not
        services.value_report_save_draft(actor=owner, report=report, fields={field: 2_147_483_648}, kpi_actuals={})
    assert refused.value.message_dict[field] == ["A count is at most 2,147,483,647."]
    report.refresh_from_db()
    assert getattr(report, field) is None
    services.value_report_save_draft(actor=owner, report=report, fields={field: 2_147_483_647}, kpi_actuals={})
    report.refresh_from_db()
    assert getattr(report, field) == 2_147_483_647


def test_a_report_saved_with_an_absurd_value_before_the_check_cannot_be_submitted_and_breaks_no_page(
        report, owner, client):
    from reviews.models import KpiActual

    deflected, handle = report.initiative.kpis.order_by("pk")[:2]
    fill(report, owner)
    # As an older version let it be saved: a value of about 10^28, past Decimal's default 28 digits to the cent.
    ValueReport.objects.filter(pk=report.pk).update(outcome_count=2_000_000_000)
    KpiActual.objects.filter(report=report, kpi=handle).update(actual=D("-99999999999.9999"))
    type(handle).objects.filter(pk=handle.pk).update(value_per_unit=D("99999999.9999"))
    with pytest.raises(ValidationError, match="beyond the"):
        services.value_report_submit(actor=owner, report=report)
    client.force_login(owner)
    assert client.get(reverse("reviews:report_detail", args=[report.pk])).status_code == 200


def test_a_reports_texts_are_held_to_their_limits_naming_them(report, owner):
    stated = KPIFactory(initiative=report.initiative, name="Overcharges recovered", kind=KpiKind.STATED,
                        baseline=None, target=None, value_per_unit=None)
    with pytest.raises(ValidationError) as error:
        services.value_report_save_draft(
            actor=owner, report=report, fields={"narrative": "n" * 10_001, "stated_value_evidence": "e" * 5_001},
            kpi_stated={stated.pk: services.StatedKpiValue(D("10"), "k" * 5_001)})
    assert error.value.message_dict == {
        "narrative": ["The narrative is 10,001 characters long: at most 10,000 are taken. Shorten it."],
        "stated_value_evidence": ["The stated value evidence is 5,001 characters long: at most 5,000 are taken. "
                                  "Shorten it."],
        "kpi_stated": ["The evidence of Overcharges recovered is 5,001 characters long: at most 5,000 are taken. "
                       "Shorten it."],
    }
    assert ValueReport.objects.get(pk=report.pk).narrative == "" and not report.actuals.exists()
    services.value_report_save_draft(actor=owner, report=report, fields={"narrative": "n" * 10_000},
                                     kpi_stated={stated.pk: services.StatedKpiValue(D("10"), "k" * 5_000)})
    assert len(ValueReport.objects.get(pk=report.pk).narrative) == 10_000


def test_a_verdicts_rationale_and_a_reopening_reason_are_held_to_their_limits(report, owner, reviewer):
    fill(report, owner)
    services.value_report_submit(actor=owner, report=report)
    with pytest.raises(ValidationError) as error:
        services.value_report_reopen(actor=reviewer, report=report, reason="r" * 2_001)
    assert error.value.message_dict["reason"] == [
        "The reason is 2,001 characters long: at most 2,000 are taken. Shorten it."]
    with pytest.raises(ValidationError) as error:
        services.verdict_give(actor=reviewer, report=report, decision=Decision.CONTINUE, rationale="r" * 5_001)
    assert "at most 5,000 are taken" in error.value.message_dict["rationale"][0]
    assert not Verdict.objects.exists()


def test_clearing_a_kpi_actual_records_the_value_it_removed(report, owner):
    from reviews.models import KpiActual

    handle = report.initiative.kpis.order_by("pk")[1]
    services.value_report_save_draft(actor=owner, report=report, kpi_actuals={handle.pk: D("-5")})
    row = KpiActual.objects.get(report=report, kpi=handle)
    services.value_report_save_draft(actor=owner, report=report, kpi_actuals={handle.pk: None})
    deleted = LogEntry.objects.get_for_object(row).get(action=LogEntry.Action.DELETE)
    assert deleted.changes["actual"] == ["-5.0000", "None"]


# Cycles --------------------------------------------------------------------------------------------------------------


def open_q3(actor):
    return services.review_cycle_open(actor=actor, name="2026-Q3", period_start=date(2026, 7, 1),
                                      period_end=date(2026, 9, 30), due_on=date(2026, 10, 31),
                                      opens_on=date(2026, 10, 1), today=date(2026, 10, 1))


def test_opening_a_cycle_expects_reports_from_pilot_and_production_only(reviewer):
    expected = [InitiativeFactory(stage=Stage.PILOT), InitiativeFactory(stage=Stage.PRODUCTION)]
    for stage in (Stage.PROPOSED, Stage.IN_REVIEW, Stage.APPROVED, Stage.RETIRED, Stage.KILLED, Stage.REJECTED):
        InitiativeFactory(stage=stage)
    cycle = open_q3(reviewer)
    assert set(cycle.reports.values_list("initiative", flat=True)) == {i.pk for i in expected}
    assert set(cycle.reports.values_list("status", flat=True)) == {ReportStatus.DRAFT}
    assert cycle.created_by == reviewer and cycle.months == 3
    [entry] = events(cycle, "review_cycle_opened")
    assert entry.additional_data["reports_created"] == 2
    assert audit_changes_text(entry) == "Reports created: 2"  # the audit trail's Changes column says it


def test_an_initiative_that_starts_after_the_period_owes_it_no_report(reviewer):
    """Re-opening a past quarter asks only initiatives started by its end: one that starts later (approved and in
    pilot since) owes nothing for it; one started on its last day, or without a start date, does."""
    ran = InitiativeFactory(stage=Stage.PILOT, start_date=date(2026, 9, 30))
    undated = InitiativeFactory(stage=Stage.PRODUCTION, start_date=None)
    starts_later = InitiativeFactory(stage=Stage.PILOT, start_date=date(2026, 10, 1))
    cycle = open_q3(reviewer)
    assert set(cycle.reports.values_list("initiative", flat=True)) == {ran.pk, undated.pk}
    assert not starts_later.value_reports.exists()
    assert events(cycle, "review_cycle_opened")[0].additional_data["reports_created"] == 2
    starts_later.start_date = date(2026, 9, 1)  # its start date corrected: re-opening adds its report
    starts_later.save()
    assert open_q3(reviewer).reports.count() == 3


def test_opening_again_is_idempotent_and_leaves_existing_reports_alone(reviewer, admin_user):
    first = InitiativeFactory(stage=Stage.PILOT)
    cycle = open_q3(reviewer)
    report = cycle.reports.get()
    report.narrative = "started"
    report.save()
    late = InitiativeFactory(stage=Stage.PRODUCTION)
    again = open_q3(admin_user)
    assert again.pk == cycle.pk and ReviewCycle.objects.count() == 1
    assert set(again.reports.values_list("initiative", flat=True)) == {first.pk, late.pk}
    assert ValueReport.objects.get(pk=report.pk).narrative == "started"
    open_q3(reviewer)
    assert ValueReport.objects.count() == 2


def test_opening_again_with_other_dates_names_each_that_differs_and_changes_nothing(reviewer):
    cycle = open_q3(reviewer)
    InitiativeFactory(stage=Stage.PILOT)
    with pytest.raises(ValidationError) as error:
        services.review_cycle_open(actor=reviewer, name="2026-Q3", period_start=date(2026, 7, 1),
                                   period_end=date(2026, 9, 30), due_on=date(2026, 11, 15),
                                   opens_on=date(2026, 10, 2), today=date(2026, 10, 1))
    assert set(error.value.message_dict) == {"opens_on", "due_on"}
    assert error.value.message_dict["due_on"][0].startswith(
        "2026-Q3 is already open with due_on 2026-10-31, not 2026-11-15. Opening a cycle again changes none of its "
        "dates")
    stored = ReviewCycle.objects.get()
    assert (stored.opens_on, stored.due_on, stored.reports.count()) == (date(2026, 10, 1), date(2026, 10, 31), 0)
    # The same dates, or the opening date left out (it would default to today, a later day), are still idempotent.
    again = services.review_cycle_open(actor=reviewer, name="2026-Q3", period_start=date(2026, 7, 1),
                                       period_end=date(2026, 9, 30), due_on=date(2026, 10, 31),
                                       today=date(2026, 10, 5))
    assert again == cycle and again.opens_on == date(2026, 10, 1) and again.reports.count() == 1


def test_a_closed_cycle_is_not_opened_again(reviewer):
    cycle = open_q3(reviewer)
    services.review_cycle_close(actor=reviewer, cycle=cycle)
    InitiativeFactory(stage=Stage.PILOT)
    with pytest.raises(ValidationError) as error:
        open_q3(reviewer)
    assert "a closed cycle is not opened again" in error.value.message_dict["name"][0]
    assert not ValueReport.objects.exists()


@pytest.mark.parametrize("role", [Role.OWNER, Role.EXECUTIVE])
def test_only_reviewers_and_admins_open_cycles(role):
    with pytest.raises(PermissionDenied):
        open_q3(UserFactory(role=role))
    assert not ReviewCycle.objects.exists()


def test_opening_checks_dates(reviewer):
    with pytest.raises(ValidationError) as error:
        services.review_cycle_open(actor=reviewer, name=" ", period_start=date(2026, 9, 30),
                                   period_end=date(2026, 7, 1), due_on=date(2026, 9, 1), opens_on=date(2026, 10, 1))
    assert set(error.value.message_dict) == {"name", "period_end", "due_on"}


def open_cycle(actor, name, start, end, due=date(2026, 10, 31)):
    return services.review_cycle_open(actor=actor, name=name, period_start=start, period_end=end, due_on=due,
                                      opens_on=date(2026, 10, 1), today=date(2026, 10, 1))


@pytest.mark.parametrize(("name", "start", "end", "message"), [
    ("2026-Q4", date(2026, 1, 1), date(2026, 3, 31), "is named 2026-Q1, not 2026-Q4"),
    ("2026-Q3b", date(2026, 7, 1), date(2026, 9, 30), "is named 2026-Q3, not 2026-Q3b"),
    ("<b>x</b>", date(2026, 7, 1), date(2026, 9, 30), "is named 2026-Q3, not <b>x</b>"),
    ("2026-H2", date(2026, 7, 1), date(2026, 9, 30), "is named 2026-Q3, not 2026-H2"),
])
def test_a_cycle_is_named_after_its_period(reviewer, name, start, end, message):
    with pytest.raises(ValidationError) as error:
        open_cycle(reviewer, name, start, end)
    assert message in error.value.message_dict["name"][0]
    assert not ReviewCycle.objects.exists()


def test_a_cycle_reviews_a_calendar_quarter_half_or_year(reviewer):
    with pytest.raises(ValidationError) as error:
        open_cycle(reviewer, "2026-Q3", date(2026, 7, 15), date(2026, 9, 30))
    assert "not a calendar quarter, half-year or year" in error.value.message_dict["period_end"][0]
    assert open_cycle(reviewer, "2026-H1", date(2026, 1, 1), date(2026, 6, 30)).months == 6
    assert open_cycle(reviewer, "2025", date(2025, 1, 1), date(2025, 12, 31)).months == 12


def test_a_period_another_cycle_reviews_is_refused_naming_that_cycle(reviewer):
    q3 = open_q3(reviewer)
    for name, start, end in (("2026-H2", date(2026, 7, 1), date(2026, 12, 31)),
                             ("2026", date(2026, 1, 1), date(2026, 12, 31))):
        with pytest.raises(ValidationError) as error:
            open_cycle(reviewer, name, start, end, due=date(2027, 1, 31))
        assert error.value.message_dict["period_start"] == [
            "The cycle 2026-Q3 already reviews 2026-07-01 to 2026-09-30, which overlaps this period."]
    assert list(ReviewCycle.objects.all()) == [q3]
    assert open_q3(reviewer) == q3  # opening the same cycle again is still idempotent
    assert open_cycle(reviewer, "2026-Q2", date(2026, 4, 1), date(2026, 6, 30)).name == "2026-Q2"  # adjacent


def test_a_new_cycle_already_due_is_refused_but_an_existing_one_reopens(reviewer):
    InitiativeFactory(stage=Stage.PILOT)
    with pytest.raises(ValidationError) as error:
        services.review_cycle_open(actor=reviewer, name="2026-Q3", period_start=date(2026, 7, 1),
                                   period_end=date(2026, 9, 30), due_on=date(2026, 10, 31),
                                   opens_on=date(2026, 10, 1), today=date(2026, 11, 1))
    assert "The due date 2026-10-31 has passed" in error.value.message_dict["due_on"][0]
    assert not ReviewCycle.objects.exists()
    cycle = open_q3(reviewer)
    InitiativeFactory(stage=Stage.PRODUCTION)
    again = services.review_cycle_open(actor=reviewer, name="2026-Q3", period_start=date(2026, 7, 1),
                                       period_end=date(2026, 9, 30), due_on=date(2026, 10, 31),
                                       opens_on=date(2026, 10, 1), today=date(2026, 11, 1))
    assert again == cycle and cycle.reports.count() == 2


def test_scheduled_opening_opens_last_quarter_once_and_not_after_its_due_date():
    InitiativeFactory(stage=Stage.PILOT)
    cycle = services.review_cycle_open_scheduled(today=date(2026, 10, 1))
    assert (cycle.name, cycle.due_on, cycle.created_by, cycle.reports.count()) == ("2026-Q3", date(2026, 10, 31), None,
                                                                                 1)
    assert services.review_cycle_open_scheduled(today=date(2026, 10, 2)) is None
    assert services.review_cycle_open_scheduled(today=date(2027, 2, 15)) is None  # 2026-Q4 was due 2027-01-31
    assert list(ReviewCycle.objects.values_list("name", flat=True)) == ["2026-Q3"]


def test_closing_a_cycle_records_how_many_drafts_were_left_unsubmitted(reviewer, owner, report):
    ValueReportFactory(cycle=report.cycle, status=ReportStatus.SUBMITTED)
    ValueReportFactory(cycle=report.cycle)
    cycle = services.review_cycle_close(actor=reviewer, cycle=report.cycle)
    [entry] = events(cycle, "review_cycle_closed")
    assert entry.changes_dict == {"status": ["open", "closed"], "drafts left unsubmitted": 2}
    assert audit_changes_text(entry) == "Status: open → closed; Drafts left unsubmitted: 2"
    assert (entry.additional_data["drafts_left_unsubmitted"], entry.additional_data["reports_submitted"]) == (2, 1)


def test_closing_a_cycle_freezes_its_drafts(reviewer, owner, report):
    services.review_cycle_close(actor=reviewer, cycle=report.cycle)
    with pytest.raises(ValidationError, match="closed"):
        fill(report, owner)
    with pytest.raises(ValidationError):
        services.review_cycle_close(actor=reviewer, cycle=report.cycle)
    with pytest.raises(PermissionDenied):
        services.review_cycle_close(actor=owner, cycle=ReviewCycleFactory())


def test_extending_a_cycles_due_date_notifies_the_owners_of_drafts_still_owed_and_is_audited(
        reviewer, owner, report, django_capture_on_commit_callbacks):
    ValueReportFactory(cycle=report.cycle, status=ReportStatus.SUBMITTED)
    with django_capture_on_commit_callbacks(execute=True):
        cycle = services.review_cycle_reschedule(actor=reviewer, cycle=report.cycle, due_on=date(2026, 11, 15),
                                                 today=date(2026, 10, 20))
    cycle.refresh_from_db()
    assert (cycle.opens_on, cycle.due_on) == (date(2026, 10, 1), date(2026, 11, 15))
    [entry] = events(cycle, "review_cycle_rescheduled")
    assert entry.changes_dict == {"due_on": ["2026-10-31", "2026-11-15"]} and entry.actor == reviewer
    assert entry.additional_data["reports_owed"] == 1
    [notice] = Notification.objects.filter(user=owner)
    assert notice.message == (f"The {cycle.name} value report of {report.initiative} is now due on 2026-11-15 "
                              "(was 2026-10-31).")
    assert notice.url == reverse("reviews:report_detail", args=[report.pk])
    assert [m.to for m in mail.outbox] == [[owner.email]]


def test_the_same_dates_again_write_nothing(reviewer, report):
    services.review_cycle_reschedule(actor=reviewer, cycle=report.cycle, due_on=date(2026, 10, 31),
                                     opens_on=date(2026, 10, 1), today=date(2026, 10, 20))
    assert events(report.cycle, "review_cycle_rescheduled") == [] and not Notification.objects.exists()


@pytest.mark.parametrize("dates, field, message", [
    ({"due_on": date(2026, 10, 19)}, "due_on", "The due date 2026-10-19 has passed"),
    ({"opens_on": date(2026, 10, 25)}, "opens_on", "opened on 2026-10-01: an open cycle's opening date no longer"),
    ({"due_on": date(2028, 1, 1)}, "due_on", "more than a year after the period ends"),
])
def test_a_due_date_passed_or_an_open_cycles_opening_date_is_refused(reviewer, report, dates, field, message):
    with pytest.raises(ValidationError) as error:
        services.review_cycle_reschedule(actor=reviewer, cycle=report.cycle, today=date(2026, 10, 20), **dates)
    assert message in error.value.message_dict[field][0]
    report.cycle.refresh_from_db()
    assert (report.cycle.opens_on, report.cycle.due_on) == (date(2026, 10, 1), date(2026, 10, 31))
    assert events(report.cycle, "review_cycle_rescheduled") == []


def test_a_cycle_not_yet_open_moves_its_opening_date_but_not_before_its_period_ends(reviewer):
    cycle = ReviewCycleFactory(name="2026-Q3", opens_on=date(2026, 10, 10), due_on=date(2026, 11, 10))
    with pytest.raises(ValidationError) as error:
        services.review_cycle_reschedule(actor=reviewer, cycle=cycle, opens_on=date(2026, 9, 30),
                                         today=date(2026, 9, 1))
    assert "opens on 2026-10-01 at the earliest, not 2026-09-30" in error.value.message_dict["opens_on"][0]
    with pytest.raises(ValidationError) as error:
        services.review_cycle_reschedule(actor=reviewer, cycle=cycle, opens_on=date(2026, 11, 20),
                                         today=date(2026, 9, 1))
    assert error.value.message_dict["due_on"] == ["The due date 2026-11-10 is before the cycle opens (2026-11-20)."]
    services.review_cycle_reschedule(actor=reviewer, cycle=cycle, opens_on=date(2026, 10, 5),
                                     due_on=date(2026, 11, 5), today=date(2026, 9, 1))
    cycle.refresh_from_db()
    assert (cycle.opens_on, cycle.due_on) == (date(2026, 10, 5), date(2026, 11, 5))
    [entry] = events(cycle, "review_cycle_rescheduled")
    assert entry.changes_dict == {"opens_on": ["2026-10-10", "2026-10-05"], "due_on": ["2026-11-10", "2026-11-05"]}


def test_a_closed_cycles_dates_do_not_change_and_only_managers_change_them(reviewer, owner, report):
    with pytest.raises(PermissionDenied):
        services.review_cycle_reschedule(actor=owner, cycle=report.cycle, due_on=date(2026, 11, 15),
                                         today=date(2026, 10, 20))
    services.review_cycle_close(actor=reviewer, cycle=report.cycle)
    with pytest.raises(ValidationError, match="a closed cycle's dates no longer change"):
        services.review_cycle_reschedule(actor=reviewer, cycle=report.cycle, due_on=date(2026, 11, 15),
                                         today=date(2026, 10, 20))


def test_an_overdue_draft_is_due_again_once_its_cycle_is_extended(reviewer, report):
    today = date(2026, 11, 5)
    assert report.state_on(today) == ReportState.OVERDUE
    services.review_cycle_reschedule(actor=reviewer, cycle=report.cycle, due_on=date(2026, 11, 30), today=today)
    report.refresh_from_db()
    assert report.state_on(today) == ReportState.DUE


# Draft and submit ----------------------------------------------------------------------------------------------------


def test_owner_saves_a_draft_with_kpi_actuals(owner, report):
    fill(report, owner)
    report.refresh_from_db()
    assert (report.status, report.outcome_count, report.active_users) == (ReportStatus.DRAFT, 15000, 120)
    assert {a.kpi.name: a.actual for a in report.actuals.all()} == {"Tickets deflected": D("5000"),
                                                                    "Average handle time": D("4.5")}
    deflected = report.initiative.kpis.get(name="Tickets deflected")
    services.value_report_save_draft(actor=owner, report=report, kpi_actuals={deflected.pk: None})
    assert report.actuals.count() == 1


def test_delegate_may_report(initiative, report):
    delegate = UserFactory(role=Role.OWNER)
    initiative.delegates.add(delegate)
    fill(report, delegate)
    services.value_report_submit(actor=delegate, report=report)
    assert ValueReport.objects.get(pk=report.pk).submitted_by == delegate


@pytest.mark.parametrize("who", ["other_owner", "reviewer", "executive"])
def test_others_may_not_write_the_report(request, who, report):
    with pytest.raises(PermissionDenied):
        fill(report, request.getfixturevalue(who))
    with pytest.raises(PermissionDenied):
        services.value_report_submit(actor=request.getfixturevalue(who), report=report)
    assert not report.actuals.exists()


def test_an_actual_for_a_kpi_of_another_initiative_is_refused(owner, report, other_initiative):
    foreign = KPIFactory(initiative=other_initiative)
    with pytest.raises(ValidationError) as error:
        services.value_report_save_draft(actor=owner, report=report, kpi_actuals={foreign.pk: D("1")})
    assert "kpi_actuals" in error.value.message_dict
    assert not report.actuals.exists()


def test_negative_outcomes_are_refused_and_nothing_is_written(owner, report):
    with pytest.raises(ValidationError) as error:
        services.value_report_save_draft(actor=owner, report=report, fields={"outcome_count": -1, "narrative": "x"})
    assert "outcome_count" in error.value.message_dict
    assert ValueReport.objects.get(pk=report.pk).narrative == ""


def test_submission_needs_every_kpi_actual_and_the_outcome_count(owner, report):
    with pytest.raises(ValidationError) as error:
        services.value_report_submit(actor=owner, report=report)
    assert set(error.value.message_dict) == {"kpi_actuals", "outcome_count"}
    assert "Tickets deflected" in error.value.message_dict["kpi_actuals"][0]
    assert ValueReport.objects.get(pk=report.pk).status == ReportStatus.DRAFT


def test_a_stated_value_needs_evidence(owner, report):
    fill(report, owner)
    services.value_report_save_draft(actor=owner, report=report, fields={"stated_value": D("40000")})
    with pytest.raises(ValidationError) as error:
        services.value_report_submit(actor=owner, report=report)
    assert set(error.value.message_dict) == {"stated_value_evidence"}


def test_a_negative_stated_value_is_refused_for_the_report_and_for_a_stated_kpi(owner, report):
    stated = KPIFactory(initiative=report.initiative, name="Overcharges recovered", kind=KpiKind.STATED,
                        baseline=None, target=None, value_per_unit=None)
    with pytest.raises(ValidationError) as refused:
        services.value_report_save_draft(
            actor=owner, report=report, fields={"stated_value": D("-5000"), "stated_value_evidence": "x"},
            kpi_stated={stated.pk: services.StatedKpiValue(D("-8400"), "Credit notes")})
    assert refused.value.message_dict == {
        "stated_value": ["The owner-stated value is -$5,000.00: a stated value is at least $0.00. Leave it empty "
                         "when the KPIs express the value."],
        "kpi_stated": ["The stated value of Overcharges recovered is -$8,400.00: a stated value is at least $0.00."]}
    report.refresh_from_db()
    assert report.stated_value is None and not report.actuals.exists()
    services.value_report_save_draft(actor=owner, report=report, fields={"stated_value": D("0")},
                                     kpi_stated={stated.pk: services.StatedKpiValue(D("8400"), "Credit notes")})


def test_a_draft_holding_a_negative_stated_value_from_before_cannot_be_submitted(owner, report):
    fill(report, owner)
    ValueReport.objects.filter(pk=report.pk).update(stated_value=D("-5000"), stated_value_evidence="x")
    with pytest.raises(ValidationError) as refused:
        services.value_report_submit(actor=owner, report=report)
    assert list(refused.value.message_dict) == ["stated_value"]


def test_submit_records_who_and_when_and_writes_the_audit_row(owner, report):
    fill(report, owner)
    submitted = services.value_report_submit(actor=owner, report=report)
    assert submitted.status == ReportStatus.SUBMITTED and submitted.submitted_by == owner and submitted.submitted_at
    [entry] = events(report, "value_report_submitted")
    assert entry.actor == owner and entry.changes_dict["status"] == ["draft", "submitted"]
    with pytest.raises(ValidationError, match="already submitted"):
        services.value_report_submit(actor=owner, report=report)
    with pytest.raises(ValidationError, match="draft"):
        fill(report, owner)


# Reopen --------------------------------------------------------------------------------------------------------------


@pytest.fixture
def submitted(owner, report):
    fill(report, owner)
    return services.value_report_submit(actor=owner, report=report)


def test_the_figures_of_a_kpi_a_submitted_report_measured_stay_its_name_may_change(owner, kpis, report, submitted):
    """A new value per unit or baseline would rewrite the value of a report already submitted (or decided) and of
    its quarter on the dashboard: refused, naming the report; renaming is not."""
    from portfolio.services import kpi_save, kpis_replace

    deflected, handle = kpis
    before = selectors.report_figures(selectors.report_detail_loaded().get(pk=submitted.pk)).value.amount
    with pytest.raises(ValidationError) as refused:
        kpi_save(actor=owner, initiative=deflected.initiative, kpi=deflected, value_per_unit=D("5000000"),
                 baseline=D("-1000"))
    assert sorted(refused.value.message_dict) == ["baseline", "value_per_unit"]  # one KPI: its own fields
    assert refused.value.message_dict["value_per_unit"] == [
        f"KPI 'Tickets deflected' keeps its baseline and value per unit: the submitted value report "
        f"{submitted.cycle.name} measured it, and their value and targets would change. Add a new KPI for what comes "
        "next instead (renaming it stays possible)."]
    for field, value in (("target", D("1")), ("direction", KpiDirection.DECREASE), ("unit", "hours"),
                         ("kind", KpiKind.RATIO)):
        with pytest.raises(ValidationError, match=f"keeps its {field}:"):
            kpis_replace(actor=owner, initiative=deflected.initiative,
                         kpis=[{"id": deflected.pk, field: value}, {"id": handle.pk}])
    kpi_save(actor=owner, initiative=deflected.initiative, kpi=deflected, name="Tickets deflected by the bot")
    after = selectors.report_figures(selectors.report_detail_loaded().get(pk=submitted.pk)).value.amount
    assert after == before
    services.value_report_reopen(actor=UserFactory(role=Role.REVIEWER), report=submitted, reason="Redo")
    kpi_save(actor=owner, initiative=deflected.initiative, kpi=deflected, value_per_unit=D("5"))  # a draft's only


def test_a_kpi_a_submitted_report_measured_stays_one_only_drafts_measured_goes(owner, kpis, report, submitted):
    from portfolio.services import kpi_delete

    deflected, handle = kpis
    with pytest.raises(ValidationError, match=r"KPI 'Tickets deflected' stays: the submitted value report "
                                              rf"{submitted.cycle.name} measured it"):
        kpi_delete(actor=owner, kpi=deflected)
    assert submitted.actuals.count() == 2  # the report says what it said
    services.value_report_reopen(actor=UserFactory(role=Role.REVIEWER), report=submitted, reason="Redo")
    kpi_delete(actor=owner, kpi=handle)  # measured by a draft only: it goes, with the draft's actual
    assert list(submitted.actuals.values_list("kpi", flat=True)) == [deflected.pk]


def test_reviewer_reopens_with_a_reason_and_the_owner_is_told(reviewer, owner, submitted):
    reopened = services.value_report_reopen(actor=reviewer, report=submitted, reason="Handle time looks mistyped.")
    assert (reopened.status, reopened.reopened_by, reopened.submitted_at) == (ReportStatus.DRAFT, reviewer, None)
    assert events(submitted, "value_report_reopened")[0].additional_data["reason"] == "Handle time looks mistyped."
    assert Notification.objects.filter(user=owner, message__contains="reopened").exists()
    fill(reopened, owner)  # editable again


def test_reopen_rules(reviewer, owner, submitted, report):
    with pytest.raises(PermissionDenied):
        services.value_report_reopen(actor=owner, report=submitted, reason="mine")
    with pytest.raises(ValidationError) as error:
        services.value_report_reopen(actor=reviewer, report=submitted, reason="  ")
    assert "reason" in error.value.message_dict
    services.verdict_give(actor=reviewer, report=submitted, decision=Decision.CONTINUE, rationale="Good.")
    with pytest.raises(ValidationError, match="verdict"):
        services.value_report_reopen(actor=reviewer, report=submitted, reason="too late")


def test_a_draft_cannot_be_reopened(reviewer, report):
    with pytest.raises(ValidationError, match="submitted"):
        services.value_report_reopen(actor=reviewer, report=report, reason="why")


# Verdicts ------------------------------------------------------------------------------------------------------------


def test_reviewer_gives_a_verdict(reviewer, owner, submitted):
    verdict = services.verdict_give(actor=reviewer, report=submitted, decision=Decision.SCALE, rationale=" Strong. ")
    assert (verdict.decision, verdict.reviewer, verdict.rationale) == (Decision.SCALE, reviewer, "Strong.")
    [entry] = events(submitted, "verdict")
    assert entry.actor == reviewer and entry.additional_data["reason"] == "Strong."
    assert audit_changes_text(entry) == "Verdict: — → scale"  # the audit trail says which verdict
    assert Notification.objects.filter(user=owner, message__contains="Scale").exists()
    with pytest.raises(ValidationError, match="already"):
        services.verdict_give(actor=reviewer, report=submitted, decision=Decision.CONTINUE, rationale="Again.")


def test_nobody_gives_a_verdict_on_what_they_own_or_act_for(submitted, initiative):
    owning_reviewer = UserFactory(role=Role.REVIEWER)
    initiative.owner = owning_reviewer
    initiative.save()
    with pytest.raises(PermissionDenied):
        services.verdict_give(actor=owning_reviewer, report=submitted, decision=Decision.SCALE, rationale="Mine!")
    delegate_reviewer = UserFactory(role=Role.REVIEWER)
    initiative.delegates.add(delegate_reviewer)
    with pytest.raises(PermissionDenied):
        services.verdict_give(actor=delegate_reviewer, report=submitted, decision=Decision.SCALE, rationale="Ours!")
    assert not Verdict.objects.exists()


@pytest.mark.parametrize("who", ["owner", "executive", "admin_user"])
def test_only_independent_reviewers_give_verdicts(request, who, submitted):
    with pytest.raises(PermissionDenied):
        services.verdict_give(actor=request.getfixturevalue(who), report=submitted, decision="continue",
                              rationale="x")


def test_verdict_needs_a_submitted_report_a_decision_and_a_rationale(reviewer, report, submitted):
    with pytest.raises(ValidationError) as error:
        services.verdict_give(actor=reviewer, report=submitted, decision="maybe", rationale="")
    assert set(error.value.message_dict) == {"decision", "rationale"}
    draft = ValueReportFactory(initiative=InitiativeFactory(stage=Stage.PILOT))
    with pytest.raises(ValidationError, match="submitted"):
        services.verdict_give(actor=reviewer, report=draft, decision="continue", rationale="Fine.")
    assert not Verdict.objects.exists()


def test_kill_verdict_kills_the_initiative_in_the_same_transaction(reviewer, submitted, initiative):
    services.verdict_give(actor=reviewer, report=submitted, decision=Decision.KILL, rationale="Value per dollar 0.4.")
    initiative.refresh_from_db()
    assert initiative.stage == Stage.KILLED
    assert Verdict.objects.get(report=submitted).decision == Decision.KILL


def test_owners_and_delegates_hear_of_a_verdict_in_the_app_and_by_e_mail(
    reviewer, owner, submitted, initiative, django_capture_on_commit_callbacks
):
    delegate = UserFactory(username="dana.delegate@example.com", role=Role.OWNER)
    initiative.delegates.add(delegate)
    with django_capture_on_commit_callbacks(execute=True):
        services.verdict_give(actor=reviewer, report=submitted, decision=Decision.OPTIMISE, rationale="Trim seats.")
    message = f"Verdict on {submitted} by {reviewer.get_full_name()}: Optimise: Trim seats."
    url = reverse("reviews:report_detail", args=[submitted.pk])
    assert set(Notification.objects.values_list("user", "message", "url")) == {
        (owner.pk, message, url), (delegate.pk, message, url)}
    assert sorted(m.to[0] for m in mail.outbox) == sorted([owner.email, delegate.email])
    assert f"{settings.SITE_URL}{url}" in mail.outbox[0].body


def test_a_kill_verdict_is_one_notice_not_two(reviewer, owner, submitted, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.verdict_give(actor=reviewer, report=submitted, decision=Decision.KILL, rationale="No value.")
    [notice] = Notification.objects.filter(user=owner)
    assert notice.message.endswith("Kill: No value. The initiative was killed.")
    assert len(mail.outbox) == 1


def test_a_kill_notice_ends_the_rationale_with_a_full_stop(reviewer, owner, submitted):
    services.verdict_give(actor=reviewer, report=submitted, decision=Decision.KILL, rationale="Value far below cost")
    [notice] = Notification.objects.filter(user=owner)
    assert notice.message.endswith("Kill: Value far below cost. The initiative was killed.")


def test_a_reopened_report_is_e_mailed_to_the_owner(reviewer, owner, submitted, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.value_report_reopen(actor=reviewer, report=submitted, reason="Handle time looks mistyped.")
    [sent] = mail.outbox
    assert sent.to == [owner.email] and sent.subject == f"Tollgate: value report {submitted} reopened"
    assert f"was reopened by {reviewer.get_full_name()}: Handle time looks mistyped." in sent.body
    assert reverse("reviews:report_edit", args=[submitted.pk]) in sent.body


def test_the_demo_pauses_e_mail_but_not_notices(reviewer, owner, submitted, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), services.notification_email_paused():
        services.verdict_give(actor=reviewer, report=submitted, decision=Decision.CONTINUE, rationale="Fine.")
    assert Notification.objects.filter(user=owner).exists() and mail.outbox == []


def test_a_refused_kill_records_no_verdict(reviewer, submitted, initiative):
    from portfolio.models import Initiative

    Initiative.objects.filter(pk=initiative.pk).update(stage=Stage.RETIRED)  # nothing left to kill
    with pytest.raises((ValidationError, PermissionDenied)):
        services.verdict_give(actor=reviewer, report=submitted, decision=Decision.KILL, rationale="Stop it.")
    assert not Verdict.objects.exists()
    assert not events(submitted, "verdict")


# Attachments ---------------------------------------------------------------------------------------------------------


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.mark.parametrize(("name", "content"), [
    ("evidence.pdf", PDF), ("chart.png", PNG), ("photo.JPG", b"\xff\xd8\xff\xe0" + b"0" * 20),
    ("numbers.csv", "kpi,actual\nhandle time,4.5\ncafé,1\n".encode()), ("notes.txt", b"plain text"),
    ("sheet.xlsx", b"PK\x03\x04" + b"0" * 30), ("memo.docx", b"PK\x03\x04" + b"0" * 30),
])
def test_accepted_attachments(media, owner, report, name, content):
    attachment = services.attachment_add(actor=owner, report=report, file=SimpleUploadedFile(name, content))
    assert attachment.original_name == name and attachment.size == len(content)
    assert attachment.file.name.startswith("reviews/") and attachment.uploaded_by == owner
    assert attachment.file.read() == content


@pytest.mark.parametrize(("name", "content", "message"), [
    ("tool.exe", b"MZ" + b"0" * 10, "not accepted"),
    ("noextension", b"data", "not accepted"),
    ("fake.pdf", PNG, "not a .pdf"),
    ("fake.png", PDF, "not a .png"),
    ("binary.csv", b"a,b\x00\x01\x02", "not a .csv"),
    ("latin1.txt", "caf\xe9 au lait ".encode("latin-1") * 10, "UTF-8"),
    ("zip.docx", PDF, "not a .docx"),
    ("empty.pdf", b"", "empty"),
])
def test_refused_attachments(media, owner, report, name, content, message):
    with pytest.raises(ValidationError) as error:
        services.attachment_add(actor=owner, report=report, file=SimpleUploadedFile(name, content))
    assert message in error.value.message_dict["file"][0]
    assert not ReportAttachment.objects.exists()


def test_attachments_are_limited_to_10_mb(media, owner, report):
    big = SimpleUploadedFile("big.pdf", PDF + b"0" * (10 * 1024 * 1024))
    with pytest.raises(ValidationError) as refused:
        services.attachment_add(actor=owner, report=report, file=big)
    assert refused.value.message_dict["file"] == [  # just over: in bytes, since 10.00 MB would read as allowed
        f"The file is {10 * 1024 * 1024 + len(PDF):,} bytes; at most 10 MB (10,485,760 bytes) is accepted."]
    assert services.attachment_too_large(10_526_720) == (
        "The file is 10.04 MB; at most 10 MB (10,485,760 bytes) is accepted.")
    exactly = SimpleUploadedFile("ok.pdf", PDF + b"0" * (10 * 1024 * 1024 - len(PDF)))
    assert services.attachment_add(actor=owner, report=report, file=exactly).size == 10 * 1024 * 1024


def test_attachments_only_by_the_owner_on_a_draft(media, owner, other_owner, submitted):
    with pytest.raises(PermissionDenied):
        services.attachment_add(actor=other_owner, report=submitted, file=SimpleUploadedFile("a.pdf", PDF))
    with pytest.raises(ValidationError, match="draft"):
        services.attachment_add(actor=owner, report=submitted, file=SimpleUploadedFile("a.pdf", PDF))


def test_an_owner_removes_an_attachment_from_a_draft_and_its_file_goes_once_committed(
        media, owner, report, django_capture_on_commit_callbacks):
    kept = services.attachment_add(actor=owner, report=report, file=SimpleUploadedFile("kept.pdf", PDF))
    wrong = services.attachment_add(actor=owner, report=report, file=SimpleUploadedFile("wrong.pdf", PDF))
    stored = media / wrong.file.name
    assert stored.exists()
    with django_capture_on_commit_callbacks(execute=False) as pending:
        services.attachment_remove(actor=owner, attachment=wrong)
    assert list(report.attachments.all()) == [kept]
    assert stored.exists()  # not before the removal is committed: a rollback would have lost the file
    for callback in pending:
        callback()
    assert not stored.exists() and (media / kept.file.name).exists()
    entry = LogEntry.objects.get_for_object(wrong).get(action=LogEntry.Action.DELETE)
    assert entry.actor == owner and entry.object_repr == "wrong.pdf"


def test_attachments_stay_on_a_submitted_report_and_are_only_removed_by_its_owner(
        media, owner, other_owner, report, kpis):
    attachment = services.attachment_add(actor=owner, report=report, file=SimpleUploadedFile("a.pdf", PDF))
    with pytest.raises(PermissionDenied):
        services.attachment_remove(actor=other_owner, attachment=attachment)
    fill(report, owner)
    services.value_report_submit(actor=owner, report=report)
    with pytest.raises(ValidationError) as refused:
        services.attachment_remove(actor=owner, attachment=attachment)
    assert refused.value.message_dict["attachments"] == [
        "Attachments can only be removed from a draft; this report is submitted."]
    assert ReportAttachment.objects.filter(pk=attachment.pk).exists()


def test_a_draft_of_a_closed_cycle_takes_no_attachment_and_loses_none(media, owner, report, reviewer):
    attachment = services.attachment_add(actor=owner, report=report, file=SimpleUploadedFile("a.pdf", PDF))
    services.review_cycle_close(actor=reviewer, cycle=report.cycle)
    with pytest.raises(ValidationError, match="is closed"):
        services.attachment_add(actor=owner, report=report, file=SimpleUploadedFile("b.pdf", PDF))
    with pytest.raises(ValidationError, match="is closed"):
        services.attachment_remove(actor=owner, attachment=attachment)
    assert list(report.attachments.values_list("original_name", flat=True)) == ["a.pdf"]


# Notifications -------------------------------------------------------------------------------------------------------


def test_marking_read_touches_only_ones_own(owner, other_owner):
    mine = services.notification_create(user=owner, message="a")
    services.notification_create(user=owner, message="b")
    theirs = services.notification_create(user=other_owner, message="c")
    assert services.notifications_mark_read(actor=owner, ids=[mine.pk, theirs.pk]) == 1
    assert services.notifications_mark_read(actor=owner) == 1
    theirs.refresh_from_db()
    assert theirs.read_at is None


# Stated KPIs ---------------------------------------------------------------------------------------------------------


@pytest.fixture
def stated_kpi(report):
    return KPIFactory(initiative=report.initiative, name="Overcharges recovered", unit="USD", kind=KpiKind.STATED,
                      baseline=None, target=None, value_per_unit=None)


def test_a_stated_kpi_takes_its_value_and_evidence_in_the_report_and_needs_no_actual(owner, report, stated_kpi):
    fill(report, owner)
    with pytest.raises(ValidationError) as error:
        services.value_report_submit(actor=owner, report=report)
    assert error.value.message_dict == {
        "kpi_stated": ["State the value of every stated KPI, with its evidence; missing: Overcharges recovered."]}
    services.value_report_save_draft(actor=owner, report=report,
                                     kpi_stated={stated_kpi.pk: services.StatedKpiValue(D("8400"))})
    with pytest.raises(ValidationError) as error:
        services.value_report_submit(actor=owner, report=report)
    assert error.value.message_dict == {
        "kpi_stated": ["A stated value needs its evidence; missing for: Overcharges recovered."]}
    services.value_report_save_draft(actor=owner, report=report, kpi_stated={
        stated_kpi.pk: services.StatedKpiValue(D("8400"), "  Credit notes from three suppliers, filed in AP.  ")})
    entry = report.actuals.get(kpi=stated_kpi)
    assert (entry.actual, entry.stated_value, entry.evidence) == (
        None, D("8400.00"), "Credit notes from three suppliers, filed in AP.")
    assert services.value_report_submit(actor=owner, report=report).status == ReportStatus.SUBMITTED


def test_an_actual_and_a_stated_value_are_kept_apart(owner, report, stated_kpi):
    services.value_report_save_draft(actor=owner, report=report, kpi_actuals={stated_kpi.pk: D("31")})
    services.value_report_save_draft(actor=owner, report=report, kpi_stated={
        stated_kpi.pk: services.StatedKpiValue(D("500"), "Ledger extract.")})
    entry = report.actuals.get(kpi=stated_kpi)
    assert (entry.actual, entry.stated_value) == (D("31"), D("500"))
    services.value_report_save_draft(actor=owner, report=report, kpi_actuals={stated_kpi.pk: None})
    assert report.actuals.get(kpi=stated_kpi).stated_value == D("500")
    services.value_report_save_draft(actor=owner, report=report,
                                     kpi_stated={stated_kpi.pk: services.StatedKpiValue(None)})
    assert not report.actuals.filter(kpi=stated_kpi).exists()  # nothing left: the entry is gone


def test_a_computed_kpi_refuses_a_stated_value_and_nothing_is_written(owner, report):
    deflected, _ = report.initiative.kpis.order_by("pk")
    with pytest.raises(ValidationError) as error:
        services.value_report_save_draft(
            actor=owner, report=report, fields={"narrative": "changed"}, kpi_actuals={deflected.pk: D("5000")},
            kpi_stated={deflected.pk: services.StatedKpiValue(D("99999"), "Trust me.")})
    assert error.value.message_dict == {"kpi_stated": [
        "Tickets deflected is a count KPI: its value is computed from its actual. Only stated KPIs take a stated "
        "value and evidence."]}
    report.refresh_from_db()
    assert report.narrative == "" and not report.actuals.exists()


def test_per_outcome_kpis_are_valued_on_the_reports_outcomes(owner, report):
    none = fill(report, owner, outcome_count=0)
    rows = {row.kpi.name: row for row in selectors.report_figures(none).rows}
    assert rows["Average handle time"].value is None
    assert rows["Average handle time"].no_value_reason == "no outcomes reported in the period"
    some = fill(report, owner, outcome_count=20_000)  # 1.5 minutes saved on each at $0.75
    assert selectors.report_figures(some).rows[1].value == D("22500.00")


def test_rolling_the_stated_values_back_drops_only_entries_the_old_schema_cannot_hold(owner, report, stated_kpi):
    rollback = importlib.import_module("reviews.migrations.0003_kpi_stated_value_rollback")
    fill(report, owner)
    services.value_report_save_draft(actor=owner, report=report, kpi_stated={
        stated_kpi.pk: services.StatedKpiValue(D("500"), "Ledger extract.")})
    rollback.drop_entries_without_an_actual(apps, None)
    assert sorted(report.actuals.values_list("kpi__name", flat=True)) == ["Average handle time", "Tickets deflected"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_overlapping_cycles_opened_at_the_same_moment_give_one_cycle(reviewer, monkeypatch):
    """Each opening checks for an overlap, then writes. The check is held at a barrier until both have made it (or 3
    seconds pass): without the lock both found no overlap and both cycles were created."""
    import threading

    from django.db import connections

    barrier = threading.Barrier(2)
    checked = services.cycle_overlap_error

    def check_then_wait(**period):
        found = checked(**period)
        try:
            barrier.wait(timeout=3)
        except threading.BrokenBarrierError:
            pass  # the other opening waits for the lock: it checks once this one has committed
        return found

    monkeypatch.setattr(services, "cycle_overlap_error", check_then_wait)
    outcomes: dict[str, str] = {}

    def open_(name: str, start: date, end: date) -> None:
        try:
            open_cycle(reviewer, name, start, end, due=date(2027, 1, 31))
            outcomes[name] = "opened"
        except ValidationError as error:
            outcomes[name] = error.message_dict["period_start"][0]
        finally:
            connections.close_all()

    # Both periods have ended by the opening day (2026-10-01), so only the overlap can refuse one, whichever goes first.
    threads = [threading.Thread(target=open_, args=("2026-Q1", date(2026, 1, 1), date(2026, 3, 31))),
               threading.Thread(target=open_, args=("2026-H1", date(2026, 1, 1), date(2026, 6, 30)))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(outcomes.values())[-1] == "opened", outcomes
    assert "which overlaps this period" in sorted(outcomes.values())[0], outcomes
    assert ReviewCycle.objects.count() == 1


# A report owes figures only once its quarter is over and its cycle open -------------------------------------------


def unfinished_and_future_cycles():
    """A cycle of the quarter in progress (as one opened before this was refused) and one of the next quarter, opened
    ahead for planning: neither takes figures yet."""
    today = timezone.localdate()
    year, quarter, start, end = calculations.quarter_bounds(today)
    current = ReviewCycle.objects.create(name=f"{year}-Q{quarter}", period_start=start, period_end=end,
                                         opens_on=today, due_on=end + timedelta(days=30))
    year, quarter, start, end = calculations.quarter_bounds(end + timedelta(days=1))
    future = ReviewCycle.objects.create(name=f"{year}-Q{quarter}", period_start=start, period_end=end,
                                        opens_on=end + timedelta(days=1), due_on=end + timedelta(days=31))
    return current, future


def test_a_report_takes_no_figures_evidence_or_submission_before_its_cycle_takes_reports(initiative, kpis, owner):
    current, future = unfinished_and_future_cycles()
    for cycle, message in (
        (current, f"The cycle {current.name} reviews {current.period_start:%Y-%m-%d} to {current.period_end:%Y-%m-%d},"
                  f" which has not ended: its reports take figures from "
                  f"{current.period_end + timedelta(days=1):%Y-%m-%d}."),
        (future, f"The cycle {future.name} reviews {future.period_start:%Y-%m-%d} to {future.period_end:%Y-%m-%d}, "
                 f"which has not ended: its reports take figures from {future.opens_on:%Y-%m-%d}."),
    ):
        report = ValueReportFactory(cycle=cycle, initiative=initiative)
        with pytest.raises(ValidationError) as refused:
            fill(report, owner)
        assert refused.value.messages == [message]
        with pytest.raises(ValidationError) as refused:
            services.value_report_submit(actor=owner, report=report)
        assert refused.value.messages == [message]
        with pytest.raises(ValidationError) as refused:
            services.attachment_add(actor=owner, report=report, file=SimpleUploadedFile("a.pdf", PDF))
        assert refused.value.message_dict == {"file": [message]}
        report.refresh_from_db()
        assert report.status == ReportStatus.DRAFT and report.outcome_count is None and not report.actuals.exists()
        assert report.state == ReportState.NOT_OPEN and report.state_display == "Not open yet"


def test_a_cycle_opened_ahead_takes_figures_from_its_opening_day(initiative, kpis, owner):
    cycle = ReviewCycleFactory(name="2026-Q2", period_start=date(2026, 4, 1), period_end=date(2026, 6, 30),
                               opens_on=date(2026, 7, 1), due_on=date(2026, 7, 31))
    report = ValueReportFactory(cycle=cycle, initiative=initiative)
    assert cycle.not_open_reason(date(2026, 6, 30)) == (
        "The cycle 2026-Q2 reviews 2026-04-01 to 2026-06-30, which has not ended: its reports take figures from "
        "2026-07-01.")
    cycle.opens_on = date(2026, 7, 15)
    assert cycle.not_open_reason(date(2026, 7, 14)) == (
        "The cycle 2026-Q2 opens on 2026-07-15: its reports take figures from that day.")
    assert cycle.not_open_reason(date(2026, 7, 15)) is None
    assert report.state_on(date(2026, 7, 14)) == ReportState.NOT_OPEN
    assert cycle.status_on(date(2026, 7, 14)) == "upcoming" and cycle.status_on(date(2026, 7, 15)) == "open"


def test_a_cycle_opens_only_after_the_period_it_reviews_has_ended(reviewer, initiative):
    initiative.stage = Stage.PILOT
    initiative.save()
    today = timezone.localdate()
    year, quarter, start, end = calculations.quarter_bounds(today)
    name = f"{year}-Q{quarter}"
    with pytest.raises(ValidationError) as refused:
        services.review_cycle_open(actor=reviewer, name=name, period_start=start, period_end=end,
                                   due_on=end + timedelta(days=30))
    assert refused.value.message_dict == {"opens_on": [
        f"A cycle opens once the period it reviews has ended: {name} reviews {start:%Y-%m-%d} to {end:%Y-%m-%d}, "
        f"so it opens on {end + timedelta(days=1):%Y-%m-%d} at the earliest, not {today:%Y-%m-%d}. It may be opened "
        "ahead with that later opening date."]}
    assert not ReviewCycle.objects.exists()
    cycle = services.review_cycle_open(actor=reviewer, name=name, period_start=start, period_end=end,
                                       opens_on=end + timedelta(days=1), due_on=end + timedelta(days=30))
    assert cycle.status == "upcoming"
    assert [r.state for r in cycle.reports.all()] == [ReportState.NOT_OPEN]


def test_a_report_of_a_quarter_not_over_is_no_evidence_for_promotion(owner, reviewer, initiative):
    """A report submitted for months that have not happened (before this was refused) does not open the pilot ->
    production gate; the same figures for a quarter that is over do."""
    initiative.stage = Stage.PILOT
    initiative.save()
    BusinessCaseFactory(initiative=initiative, min_viable_scale=1000)
    business_case_version_record(initiative=initiative, actor=reviewer, approve=True)
    current, future = unfinished_and_future_cycles()
    for cycle in (current, future):
        ValueReportFactory(cycle=cycle, initiative=initiative, status=ReportStatus.SUBMITTED, outcome_count=90_000,
                           submitted_by=owner, submitted_at=timezone.now())
    assert selectors.scale_evidence(initiative=initiative) is None
    with pytest.raises(TransitionError, match="minimum viable scale"):
        initiative_transition(actor=owner, initiative=initiative, transition="promote")
    ValueReportFactory(initiative=initiative, status=ReportStatus.SUBMITTED, outcome_count=90_000)  # 2026-Q3
    initiative_transition(actor=owner, initiative=initiative, transition="promote")
    initiative.refresh_from_db()
    assert initiative.stage == Stage.PRODUCTION


# Nobody judges a report they wrote -----------------------------------------------------------------------------------


def test_a_reviewer_who_wrote_a_report_as_delegate_may_not_judge_or_reopen_it_after_stepping_down(
        owner, initiative, report, reviewer):
    writer = UserFactory(role=Role.REVIEWER, first_name="Priya", last_name="Raman")
    owner.profile.delegates.add(writer)
    fill(report, writer)
    services.value_report_submit(actor=writer, report=report)
    owner.profile.delegates.remove(writer)
    expected = (f"You submitted or edited the value report {report}, and nobody judges or reopens a value report they "
                "submitted or edited (another reviewer does).")
    with pytest.raises(PermissionDenied) as refused:
        services.verdict_give(actor=writer, report=report, decision=Decision.SCALE, rationale="I wrote it; fine.")
    assert str(refused.value) == expected
    with pytest.raises(PermissionDenied) as refused:
        services.value_report_reopen(actor=writer, report=report, reason="Mine to fix.")
    assert str(refused.value) == expected
    assert not Verdict.objects.exists() and not events(report, "value_report_reopened")
    assert report not in selectors.review_queue(user=writer)
    assert report in selectors.review_queue(user=reviewer)
    services.verdict_give(actor=reviewer, report=report, decision=Decision.SCALE, rationale="Independent.")


def test_editing_a_draft_is_writing_it_even_when_someone_else_submits(owner, initiative, report, reviewer):
    initiative.delegates.add(reviewer)
    services.value_report_save_draft(actor=reviewer, report=report, fields={"narrative": "Started by me."})
    initiative.delegates.remove(reviewer)
    fill(report, owner)
    services.value_report_submit(actor=owner, report=report)
    assert set(ValueReport.objects.get(pk=report.pk).authors.all()) == {reviewer, owner}
    with pytest.raises(PermissionDenied, match="You submitted or edited the value report"):
        services.verdict_give(actor=reviewer, report=report, decision=Decision.CONTINUE, rationale="Looks fine.")
    assert report not in selectors.review_queue(user=reviewer)


def test_saving_nothing_new_is_not_writing_the_report(owner, initiative, report, reviewer):
    fill(report, owner)
    initiative.delegates.add(reviewer)
    fill(report, reviewer)  # the same figures: nothing written, nothing in the trail
    initiative.delegates.remove(reviewer)
    services.value_report_submit(actor=owner, report=report)
    services.verdict_give(actor=reviewer, report=report, decision=Decision.CONTINUE, rationale="Independent.")


def test_the_authors_of_reports_written_before_are_read_from_the_audit_trail(owner, initiative, report):
    writer, uploader, remover = (UserFactory(role=Role.REVIEWER) for _ in range(3))
    initiative.delegates.add(writer, uploader, remover)
    deflected = initiative.kpis.order_by("pk").first()
    services.value_report_save_draft(actor=writer, report=report, kpi_actuals={deflected.pk: D("10")})
    services.value_report_save_draft(actor=owner, report=report, kpi_actuals={deflected.pk: None})  # row deleted
    attachment = services.attachment_add(actor=uploader, report=report, file=SimpleUploadedFile("a.pdf", PDF))
    services.attachment_remove(actor=remover, attachment=attachment)
    fill(report, owner)
    services.value_report_submit(actor=owner, report=report)
    report.authors.clear()  # as a report written before the field existed
    migration = importlib.import_module("reviews.migrations.0008_report_authors_from_the_audit_trail")
    migration.backfill(apps, None)
    assert set(report.authors.all()) == {writer, uploader, remover, owner}


# An ended initiative owes no report ----------------------------------------------------------------------------------


def test_the_drafts_of_an_ended_initiative_are_kept_but_take_nothing_more(initiative, report, owner, reviewer):
    fill(report, owner)
    initiative_transition(actor=reviewer, initiative=initiative, transition="kill", reason="Duplicate of a service.")
    report = ValueReport.objects.get(pk=report.pk)
    message = (f"“{initiative}” is killed: an ended initiative owes no value report, so its {report.cycle} report can "
               "no longer be edited or submitted.")
    with pytest.raises(ValidationError) as refused:
        services.value_report_save_draft(actor=owner, report=report, fields={"narrative": "Still here."})
    assert refused.value.messages == [message]
    with pytest.raises(ValidationError) as refused:
        services.value_report_submit(actor=owner, report=report)
    assert refused.value.messages == [message]
    with pytest.raises(ValidationError) as refused:
        services.attachment_add(actor=owner, report=report, file=SimpleUploadedFile("a.pdf", PDF))
    assert refused.value.message_dict == {"file": [message]}
    report.refresh_from_db()
    assert report.status == ReportStatus.DRAFT and report.narrative == "Deflection beat the target."  # kept
    assert report.state == ReportState.NOT_EXPECTED
    assert report.state_display == "Not expected (initiative killed)"


def test_a_submitted_report_of_an_ended_initiative_is_judged_not_reopened(initiative, report, owner, reviewer):
    fill(report, owner)
    services.value_report_submit(actor=owner, report=report)
    initiative_transition(actor=reviewer, initiative=initiative, transition="kill", reason="Duplicate of a service.")
    with pytest.raises(ValidationError, match="an ended initiative owes no value report, so its report is not "):
        services.value_report_reopen(actor=reviewer, report=report, reason="Fix the figures.")
    services.verdict_give(actor=reviewer, report=report, decision=Decision.CONTINUE, rationale="For the record.")


def test_a_closed_cycles_draft_is_not_submitted_rather_than_due(report, reviewer):
    services.review_cycle_close(actor=reviewer, cycle=report.cycle)
    report = ValueReport.objects.get(pk=report.pk)
    assert report.state_on(report.cycle.due_on - timedelta(days=1)) == ReportState.NOT_SUBMITTED
    assert report.state_text(report.cycle.due_on) == "Not submitted (cycle closed)"


def test_a_report_an_administrator_submitted_says_it_was_on_behalf_of_the_owner(report, owner, admin_user, client):
    fill(report, admin_user)
    services.value_report_submit(actor=admin_user, report=report)
    client.force_login(owner)
    page = client.get(reverse("reviews:report_detail", args=[report.pk])).content.decode()
    assert f'submitted-on-behalf"> on behalf of the owner, {owner.get_full_name()}</span>' in page


def test_a_report_its_owner_submitted_says_nothing_of_the_kind(report, owner, client):
    fill(report, owner)
    services.value_report_submit(actor=owner, report=report)
    client.force_login(owner)
    assert b"on behalf of" not in client.get(reverse("reviews:report_detail", args=[report.pk])).content


def behalf_text(client, report) -> str | None:
    """What the report page says it was submitted on behalf of, or None."""
    page = client.get(reverse("reviews:report_detail", args=[report.pk])).content.decode()
    marker = 'id="submitted-on-behalf"> on behalf of the owner, '
    return page.split(marker, 1)[1].split("</span>", 1)[0] if marker in page else None


def test_a_report_a_delegate_submitted_names_the_owner_of_the_time_after_a_hand_over(
        report, owner, other_owner, admin_user, client):
    """The owner's assistant (a delegate of the owner's profile) submits; the owner then hands everything over. The
    report was submitted for the owner of the time, and keeps saying so rather than name the new owner."""
    assistant = UserFactory(role=Role.OWNER)
    owner.profile.delegates.add(assistant)
    fill(report, assistant)
    services.value_report_submit(actor=assistant, report=report)
    client.force_login(admin_user)
    assert behalf_text(client, report) == owner.get_full_name()

    initiatives_hand_over(actor=admin_user, from_user=owner, to_user=other_owner)

    report = ValueReport.objects.get(pk=report.pk)
    assert (report.initiative.owner, report.submitted_for, report.submitted_by) == (other_owner, owner, assistant)
    assert behalf_text(client, report) == owner.get_full_name()
    (submitted,) = events(report, "value_report_submitted")
    assert (submitted.additional_data["submitted_for_id"], submitted.additional_data["submitted_for"]) == (
        owner.pk, owner.get_full_name())


def test_a_report_its_owner_submitted_says_nothing_of_the_kind_after_a_hand_over(
        report, owner, other_owner, admin_user, client):
    fill(report, owner)
    services.value_report_submit(actor=owner, report=report)

    initiatives_hand_over(actor=admin_user, from_user=owner, to_user=other_owner)

    client.force_login(other_owner)
    assert behalf_text(client, report) is None


def test_a_reopened_report_is_submitted_for_whoever_owns_it_when_submitted_again(
        report, owner, other_owner, admin_user, reviewer):
    fill(report, owner)
    services.value_report_submit(actor=owner, report=report)
    initiatives_hand_over(actor=admin_user, from_user=owner, to_user=other_owner)

    services.value_report_reopen(actor=reviewer, report=report, reason="Add the July figures.")
    assert ValueReport.objects.get(pk=report.pk).submitted_for is None
    services.value_report_submit(actor=other_owner, report=report)

    assert ValueReport.objects.get(pk=report.pk).submitted_for == other_owner


def test_the_migration_fills_whom_existing_reports_were_submitted_for(
        initiative, kpis, owner, other_owner, admin_user):
    """Three reports submitted before the field existed: one whose submit event names the owner, one whose initiative
    changed owner after it was submitted (its field history names the owner replaced), one with no trail to go by
    (the current owner). A draft is left alone."""
    by_event, handed, untraced = (ValueReportFactory(initiative=initiative, cycle=ReviewCycleFactory()),
                                  ValueReportFactory(initiative=initiative, cycle=ReviewCycleFactory()),
                                  ValueReportFactory(initiative=InitiativeFactory(owner=other_owner),
                                                     cycle=ReviewCycleFactory()))
    draft = ValueReportFactory(initiative=InitiativeFactory(owner=other_owner), cycle=ReviewCycleFactory())
    for report, submitter in ((by_event, owner), (handed, owner), (untraced, admin_user)):
        ValueReport.objects.filter(pk=report.pk).update(status=ReportStatus.SUBMITTED, submitted_by=submitter,
                                                        submitted_at=timezone.now())
    # Submit events as they were recorded before (no owner), and one naming whom it was for, which wins over the
    # initiative's history (here it names someone else than the history would, to tell the two apart).
    audit_event(handed, actor=owner, event="value_report_submitted")
    audit_event(by_event, actor=owner, event="value_report_submitted", submitted_for_id=admin_user.pk)
    initiatives_hand_over(actor=admin_user, from_user=owner, to_user=other_owner)
    ValueReport.objects.update(submitted_for=None)
    migration = importlib.import_module("reviews.migrations.0011_report_submitted_for")

    migration.fill_submitted_for(apps, None)

    assert dict(ValueReport.objects.values_list("pk", "submitted_for")) == {
        by_event.pk: admin_user.pk, handed.pk: owner.pk, untraced.pk: other_owner.pk, draft.pk: None}


def test_a_long_kill_rationale_is_cut_in_the_notice_never_the_sentence_after_it(
    reviewer, owner, submitted, django_capture_on_commit_callbacks
):
    rationale = "Value per dollar stayed at 0.4 quarter after quarter. " * 90  # the longest a rationale may be
    with django_capture_on_commit_callbacks(execute=True):
        services.verdict_give(actor=reviewer, report=submitted, decision=Decision.KILL,
                              rationale=rationale[:services.RATIONALE_MAX_CHARS])
    notice = Notification.objects.get(user=owner).message
    assert NOTICE_MAX_CHARS - 2 <= len(notice) <= NOTICE_MAX_CHARS  # a space before the cut goes
    assert notice.startswith(f"Verdict on {submitted} by {reviewer.get_full_name()}: Kill: Value per dollar stayed")
    assert notice.endswith("… The initiative was killed.")
    assert f"- {notice}\n" in mail.outbox[0].body


def test_a_long_reopening_reason_is_cut_with_an_ellipsis(reviewer, owner, submitted):
    services.value_report_reopen(actor=reviewer, report=submitted, reason="Handle time looks mistyped. " * 70)
    notice = Notification.objects.get(user=owner).message
    assert NOTICE_MAX_CHARS - 2 <= len(notice) <= NOTICE_MAX_CHARS  # a space before the cut goes
    assert notice.startswith(f"Your value report {submitted} was reopened by {reviewer.get_full_name()}: Handle time")
    assert notice.endswith("…") and "mistyped" in notice


def test_a_notice_is_cut_to_what_a_notification_holds():
    assert Notification._meta.get_field("message").max_length == NOTICE_MAX_CHARS


# A KPI measured in percent -------------------------------------------------------------------------------------------


@pytest.fixture
def percent_report(initiative):
    initiative.stage = Stage.PILOT
    initiative.save()
    BusinessCaseFactory(initiative=initiative)
    KPIFactory(initiative=initiative, name="Containment rate", unit="%", kind=KpiKind.RATIO, baseline=D("20"),
               target=D("45"), direction=KpiDirection.INCREASE, value_per_unit=None)
    return ValueReportFactory(initiative=initiative)


@pytest.mark.parametrize(("actual", "shown"), [(D("250"), "250"), (D("-5"), "-5")])
def test_an_actual_of_a_percent_kpi_outside_0_to_100_is_refused_naming_the_kpi_and_nothing_is_written(
    percent_report, owner, actual, shown
):
    kpi = percent_report.initiative.kpis.get()
    with pytest.raises(ValidationError) as refused:
        services.value_report_save_draft(actor=owner, report=percent_report, fields={"outcome_count": 100},
                                         kpi_actuals={kpi.pk: actual})
    assert refused.value.message_dict["kpi_actuals"] == [
        f"KPI “Containment rate” is measured in percent (%): its actual is {shown}, and a percentage is between 0 "
        "and 100."]
    percent_report.refresh_from_db()
    assert percent_report.outcome_count is None and not percent_report.actuals.exists()
    services.value_report_save_draft(actor=owner, report=percent_report, kpi_actuals={kpi.pk: D("100")})
    assert percent_report.actuals.get().actual == D("100")


def test_a_draft_holding_a_percent_actual_past_100_from_before_the_check_is_not_submitted(percent_report, owner):
    kpi = percent_report.initiative.kpis.get()
    percent_report.actuals.create(kpi=kpi, actual=D("250"))  # as stored before percent KPIs were bounded
    services.value_report_save_draft(actor=owner, report=percent_report, fields={"outcome_count": 100})
    with pytest.raises(ValidationError) as refused:
        services.value_report_submit(actor=owner, report=percent_report)
    assert "KPI “Containment rate” is measured in percent (%): its actual is 250" in (
        refused.value.message_dict["kpi_actuals"][0])
    percent_report.refresh_from_db()
    assert percent_report.status == ReportStatus.DRAFT
