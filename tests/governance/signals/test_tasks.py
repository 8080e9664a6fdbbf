"""What queues a signal computation: a successful ingestion, a value report submitted, reopened or judged, the
nightly schedule and "recompute now"; the task executes a run once, however often its message arrives."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from governance.choices import SignalRunTrigger
from governance.models import SignalRun
from governance.signals import services, tasks
from portfolio.choices import RunStatus, Stage
from portfolio.signals import costs_ingested
from reviews.choices import Decision
from reviews.services import value_report_save_draft, value_report_submit, verdict_give
from tests.factories import KPIFactory, ReviewCycleFactory, ValueReportFactory
from tollgate.celery import app

pytestmark = pytest.mark.django_db


def test_a_successful_ingestion_queues_one_computation(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        costs_ingested.send(sender=None, run=None)
        costs_ingested.send(sender=None, run=None)  # a batch of runs shares the waiting computation
    run = SignalRun.objects.get()
    ours = [c for c in callbacks if getattr(c, "__name__", "") != "_send_cost_forecast_refresh"]  # not the forecast's
    assert (run.trigger, run.status, len(ours)) == (SignalRunTrigger.INGESTION, RunStatus.PENDING, 1)


def test_submitting_and_judging_a_value_report_queue_a_computation(owner, reviewer, initiative,
                                                                    django_capture_on_commit_callbacks):
    initiative.stage = Stage.PILOT
    initiative.save(update_fields=["stage"])
    kpi = KPIFactory(initiative=initiative)
    today = timezone.localdate()
    report = ValueReportFactory(initiative=initiative, cycle=ReviewCycleFactory(
        opens_on=today - timedelta(days=5), due_on=today + timedelta(days=20)))
    value_report_save_draft(actor=owner, report=report, fields={"outcome_count": 100},
                            kpi_actuals={kpi.pk: Decimal("4.5")})
    with django_capture_on_commit_callbacks(execute=False):
        value_report_submit(actor=owner, report=report)
    run = SignalRun.objects.get()
    assert run.trigger == SignalRunTrigger.REPORT
    run.status = RunStatus.SUCCEEDED
    run.save(update_fields=["status"])
    with django_capture_on_commit_callbacks(execute=False):
        verdict_give(actor=reviewer, report=report, decision=Decision.CONTINUE, rationale="On track.")
    assert SignalRun.objects.filter(status=RunStatus.PENDING, trigger=SignalRunTrigger.REPORT).count() == 1


def test_the_nightly_job_is_scheduled_and_queues_a_run(django_capture_on_commit_callbacks):
    schedule = {entry["task"] for entry in app.conf.beat_schedule.values()}
    assert {"governance.signals.tasks.signals_compute_nightly",
            "governance.signals.tasks.signal_runs_expire_stale"} <= schedule
    with django_capture_on_commit_callbacks(execute=False):
        tasks.signals_compute_nightly.apply()
    assert SignalRun.objects.get().trigger == SignalRunTrigger.SCHEDULE


def test_the_task_executes_a_run_once(over_budget, monkeypatch):
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: date(2026, 12, 3))
    run = SignalRun.objects.create(trigger=SignalRunTrigger.USER)
    assert tasks.signal_compute_task.apply(args=[run.pk]).result == RunStatus.SUCCEEDED
    run.refresh_from_db()
    assert (run.status, run.signals_raised, run.signals_live) == (RunStatus.SUCCEEDED, 1, 1)
    assert tasks.signal_compute_task.apply(args=[run.pk]).result is None  # redelivered: nothing to do


def test_a_failing_computation_is_recorded_on_its_run(monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("the roll-ups are being rebuilt")

    monkeypatch.setattr(services, "signals_compute", broken)
    run = services.signals_compute_now(trigger=SignalRunTrigger.COMMAND)
    assert run.status == RunStatus.FAILED and "the roll-ups are being rebuilt" in run.error


def test_lost_runs_expire(monkeypatch):
    run = SignalRun.objects.create(trigger=SignalRunTrigger.SCHEDULE)
    SignalRun.objects.filter(pk=run.pk).update(created_at=timezone.now() - timedelta(hours=2))
    assert tasks.signal_runs_expire_stale.apply().result == 1
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
