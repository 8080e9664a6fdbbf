"""Sprawl Celery tasks: thin, idempotent under redelivery, scheduled nightly."""

from __future__ import annotations

import pytest

from governance.models import SprawlRun
from governance.sprawl.analysis import Analysis
from governance.sprawl.tasks import sprawl_recompute_nightly, sprawl_recompute_task, sprawl_runs_expire_stale
from portfolio.choices import RunStatus
from tollgate.celery import app

pytestmark = pytest.mark.django_db


@pytest.fixture
def empty_analysis(monkeypatch):
    monkeypatch.setattr("governance.sprawl.analysis.analyse_portfolio",
                        lambda top=5, progress=None: Analysis(clusters=[], duplicates={}, use_cases={}))


def test_task_runs_a_pending_run_once(empty_analysis):
    run = SprawlRun.objects.create()
    assert sprawl_recompute_task(run.pk) == RunStatus.SUCCEEDED
    assert sprawl_recompute_task(run.pk) is None  # a redelivered copy leaves the finished run alone
    assert sprawl_recompute_task(123456) is None


def test_nightly_job_queues_one_run(empty_analysis, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = sprawl_recompute_nightly()
    run = SprawlRun.objects.get()
    assert first == str(run.pk) and run.trigger == "schedule" and run.status == RunStatus.SUCCEEDED


def test_stale_runs_are_failed(empty_analysis):
    run = SprawlRun.objects.create(status=RunStatus.RUNNING)
    SprawlRun.objects.filter(pk=run.pk).update(created_at="2020-01-01T00:00:00Z")
    assert sprawl_runs_expire_stale() == 1
    assert SprawlRun.objects.get(pk=run.pk).status == RunStatus.FAILED


def test_beat_schedule_has_the_nightly_recomputation():
    entries = {entry["task"] for entry in app.conf.beat_schedule.values()}
    assert {
        "governance.sprawl.tasks.sprawl_recompute_nightly", "governance.sprawl.tasks.sprawl_runs_expire_stale"
    } <= entries
    assert "governance.sprawl.tasks.sprawl_recompute_task" in app.tasks
