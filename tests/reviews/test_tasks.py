"""Beat jobs: cycles open on schedule, reminders and escalations go out once however often the jobs run."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core import mail
from django.utils import timezone

from portfolio.choices import Stage
from reviews import selectors, services, tasks
from reviews.choices import ReminderKind, ReportStatus
from reviews.models import Notification, ReminderLog, ReviewCycle
from tests.factories import (
    DepartmentFactory,
    InitiativeFactory,
    ReviewCycleFactory,
    UserFactory,
    ValueReportFactory,
)
from tollgate.roles import Role

pytestmark = pytest.mark.django_db

DUE = date(2026, 10, 31)


@pytest.fixture
def report(owner):
    delegate = UserFactory(username="dan.delegate@example.com", role=Role.OWNER)
    initiative = InitiativeFactory(owner=owner, stage=Stage.PILOT, delegates=[delegate])
    return ValueReportFactory(initiative=initiative, cycle=ReviewCycleFactory(due_on=DUE))


def recipients() -> list[list[str]]:
    return [sorted(message.to) for message in mail.outbox]


def test_first_reminder_at_14_days_to_owner_and_delegates_once(report, owner):
    assert services.reminders_send(today=DUE - timedelta(days=15)) == []
    sent = services.reminders_send(today=DUE - timedelta(days=14))
    assert [s.kind for s in sent] == [ReminderKind.FIRST_REMINDER]
    assert recipients() == [["dan.delegate@example.com", "olivia.owner@example.com"]]
    assert "2026-10-31" in mail.outbox[0].subject
    assert Notification.objects.filter(user=owner, url=f"/reviews/reports/{report.pk}/edit/").count() == 1
    assert services.reminders_send(today=DUE - timedelta(days=14)) == []
    assert services.reminders_send(today=DUE - timedelta(days=10)) == []
    assert len(mail.outbox) == 1 and Notification.objects.count() == 2


def test_second_reminder_at_3_days_once(report):
    services.reminders_send(today=DUE - timedelta(days=14))
    services.reminders_send(today=DUE - timedelta(days=3))
    services.reminders_send(today=DUE - timedelta(days=3))
    services.reminders_send(today=DUE - timedelta(days=1))
    assert len(mail.outbox) == 2
    assert set(ReminderLog.objects.values_list("kind", flat=True)) == {ReminderKind.FIRST_REMINDER,
                                                                      ReminderKind.SECOND_REMINDER}


def test_a_missed_first_window_sends_only_the_second(report):
    services.reminders_send(today=DUE - timedelta(days=2))
    assert list(ReminderLog.objects.values_list("kind", flat=True)) == [ReminderKind.SECOND_REMINDER]
    assert len(mail.outbox) == 1


def test_no_reminder_for_submitted_reports_closed_cycles_or_after_the_due_date(report, reviewer):
    ValueReportFactory(status=ReportStatus.SUBMITTED, cycle=report.cycle)
    services.reminders_send(today=DUE + timedelta(days=1))
    assert mail.outbox == []
    services.review_cycle_close(actor=reviewer, cycle=report.cycle)
    services.reminders_send(today=DUE - timedelta(days=3))
    assert mail.outbox == []


def test_reminder_days_come_from_the_policies(report, monkeypatch):
    values = {"reviews.first_reminder_days": 20, "reviews.second_reminder_days": 5}
    monkeypatch.setattr("reviews.selectors.policy", values.__getitem__)
    services.reminders_send(today=DUE - timedelta(days=20))
    assert len(mail.outbox) == 1


def test_escalation_after_more_than_the_policy_days_to_head_and_coe_once(report, reviewer):
    head = UserFactory(username="hank.head@example.com", role=Role.OWNER)
    department = report.initiative.department
    department.head = head
    department.save()
    second_reviewer = UserFactory(username="ray.reviewer@example.com", role=Role.REVIEWER)
    assert services.escalations_send(today=DUE + timedelta(days=7)) == []  # 7 days is not more than 7
    sent = services.escalations_send(today=DUE + timedelta(days=8))
    assert [s.kind for s in sent] == [ReminderKind.ESCALATION]
    assert recipients() == [sorted([head.email, reviewer.email, second_reviewer.email])]
    assert "8 days late" in mail.outbox[0].subject
    assert services.escalations_send(today=DUE + timedelta(days=8)) == []
    assert services.escalations_send(today=DUE + timedelta(days=30)) == []
    assert len(mail.outbox) == 1


def test_a_due_date_moved_later_reminds_and_escalates_again_against_the_new_date(report, reviewer):
    services.reminders_send(today=DUE - timedelta(days=3))
    services.escalations_send(today=DUE + timedelta(days=8))
    assert len(mail.outbox) == 2
    later = DUE + timedelta(days=30)
    services.review_cycle_reschedule(actor=reviewer, cycle=report.cycle, due_on=later, today=DUE + timedelta(days=9))
    mail.outbox.clear()
    assert services.reminders_send(today=DUE + timedelta(days=10)) == []  # 20 days left: no reminder window yet
    [first] = services.reminders_send(today=later - timedelta(days=14))
    assert first.kind == ReminderKind.FIRST_REMINDER and "2026-11-30" in mail.outbox[0].subject
    assert services.reminders_send(today=later - timedelta(days=14)) == []
    assert services.escalations_send(today=later) == []  # not overdue against the new date
    [escalated] = services.escalations_send(today=later + timedelta(days=8))
    assert escalated.kind == ReminderKind.ESCALATION
    assert sorted(ReminderLog.objects.values_list("kind", "due_on")) == sorted([
        (ReminderKind.SECOND_REMINDER, DUE), (ReminderKind.ESCALATION, DUE), (ReminderKind.FIRST_REMINDER, later),
        (ReminderKind.ESCALATION, later)])


def test_escalation_without_department_head_goes_to_the_coe(reviewer):
    initiative = InitiativeFactory(stage=Stage.PILOT, department=DepartmentFactory(head=None))
    ValueReportFactory(initiative=initiative, cycle=ReviewCycleFactory(due_on=DUE))
    services.escalations_send(today=DUE + timedelta(days=10))
    assert recipients() == [[reviewer.email]]


def test_an_escalation_with_nobody_to_write_to_waits_for_someone(report):
    assert services.escalations_send(today=DUE + timedelta(days=10)) == []
    assert not ReminderLog.objects.exists()
    head = UserFactory(role=Role.OWNER)
    report.initiative.department.head = head
    report.initiative.department.save()
    assert len(services.escalations_send(today=DUE + timedelta(days=11))) == 1


def test_a_failed_email_is_retried_on_the_next_run(report, monkeypatch):
    def broken(*args, **kwargs):
        raise ConnectionError("smtp down")

    monkeypatch.setattr("reviews.services.send_mail", broken)
    with pytest.raises(ConnectionError):
        services.reminders_send(today=DUE - timedelta(days=3))
    assert not ReminderLog.objects.exists() and not Notification.objects.exists()
    monkeypatch.undo()
    services.reminders_send(today=DUE - timedelta(days=3))
    assert len(mail.outbox) == 1


def _today(monkeypatch, day: date) -> None:
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: day)


def test_tasks_run_twice_send_once(report, reviewer, monkeypatch):
    _today(monkeypatch, DUE - timedelta(days=3))
    assert tasks.reminders_send.delay().get() == 1
    assert tasks.reminders_send.delay().get() == 0
    _today(monkeypatch, DUE + timedelta(days=9))
    assert tasks.escalations_send.delay().get() == 1
    assert tasks.escalations_send.delay().get() == 0
    assert len(mail.outbox) == 2


def test_cycles_open_due_task_opens_the_quarter_once(monkeypatch):
    InitiativeFactory(stage=Stage.PRODUCTION)
    _today(monkeypatch, date(2027, 1, 1))
    assert tasks.cycles_open_due.delay().get() == "2026-Q4"
    assert tasks.cycles_open_due.delay().get() is None
    cycle = ReviewCycle.objects.get()
    assert (cycle.period_start, cycle.period_end, cycle.due_on, cycle.reports.count()) == (
        date(2026, 10, 1), date(2026, 12, 31), date(2027, 1, 31), 1)


def test_beat_schedules_the_three_jobs():
    from tollgate.celery import app

    tasks_scheduled = {entry["task"] for entry in app.conf.beat_schedule.values()}
    assert {"reviews.tasks.cycles_open_due", "reviews.tasks.reminders_send",
            "reviews.tasks.escalations_send"} <= tasks_scheduled


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_reminders_run_on_a_real_worker_over_redis(owner):
    """Production path: the job goes through Redis to a worker, which sends the reminder once."""
    from celery.contrib.testing.worker import start_worker

    from tollgate.celery import app

    assert not app.conf.task_always_eager
    initiative = InitiativeFactory(owner=owner, stage=Stage.PILOT)
    due = timezone.localdate() + timedelta(days=3)
    ValueReportFactory(initiative=initiative, cycle=ReviewCycleFactory(opens_on=due - timedelta(days=30), due_on=due))
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=20):
        assert tasks.reminders_send.delay().get(timeout=60) == 1
        assert tasks.reminders_send.delay().get(timeout=60) == 0
    assert ReminderLog.objects.filter(kind=ReminderKind.SECOND_REMINDER).count() == 1


def test_the_drafts_of_an_ended_initiative_are_neither_reminded_nor_escalated(report, reviewer):
    """Killed, retired or rejected: the initiative owes no more reports, so nobody is asked for one."""
    for stage in (Stage.KILLED, Stage.RETIRED, Stage.REJECTED):
        report.initiative.stage = stage
        report.initiative.save()
        assert not selectors.reports_awaiting_reminder(DUE - timedelta(days=3)).exists()
        assert not selectors.reports_to_escalate(DUE + timedelta(days=30), 7).exists()
        assert services.reminders_send(today=DUE - timedelta(days=3)) == []
        assert services.escalations_send(today=DUE + timedelta(days=30)) == []
    assert mail.outbox == [] and not ReminderLog.objects.exists()
    report.initiative.stage = Stage.PILOT  # running again (a test's shortcut): owed, reminded
    report.initiative.save()
    assert [s.report_id for s in services.reminders_send(today=DUE - timedelta(days=3))] == [report.pk]


def test_a_draft_of_a_cycle_that_takes_no_reports_yet_is_not_reminded(owner):
    """A cycle opened before its quarter ended (as before this was refused): nobody is reminded of figures they may
    not give yet."""
    early = ReviewCycleFactory(name="2026-Q4", period_start=date(2026, 10, 1), period_end=date(2026, 12, 31),
                               opens_on=date(2026, 12, 1), due_on=date(2026, 12, 20))
    ValueReportFactory(cycle=early, initiative=InitiativeFactory(owner=owner, stage=Stage.PILOT))
    assert not selectors.reports_awaiting_reminder(date(2026, 12, 10)).exists()
    assert services.reminders_send(today=date(2026, 12, 10)) == []
