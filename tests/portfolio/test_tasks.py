"""Celery tasks of the portfolio app: import execution (idempotent under redelivery) and stale-run expiry."""

from __future__ import annotations

from datetime import timedelta

import pytest
from auditlog.models import LogEntry
from django.utils import timezone

from portfolio.choices import RunStatus
from portfolio.models import ImportRun, Initiative
from portfolio.services.inventory_import import import_run_create, import_run_submit
from portfolio.tasks import import_run_execute, import_runs_expire_stale
from tests import paths

FIXTURES = paths.FIXTURES / "inventory"


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def pending_run(admin_user) -> ImportRun:
    return import_run_create(actor=admin_user, filename="good.csv", content=(FIXTURES / "good.csv").read_bytes())


def test_execute_processes_a_pending_run_from_its_stored_file(pending_run):
    assert import_run_execute.delay(pending_run.pk).get() == RunStatus.SUCCEEDED
    pending_run.refresh_from_db()
    assert pending_run.status == RunStatus.SUCCEEDED
    assert pending_run.rows_created == Initiative.objects.count() > 0


def test_executing_a_finished_run_again_changes_nothing(pending_run):
    import_run_execute(pending_run.pk)
    pending_run.refresh_from_db()
    snapshot = (pending_run.status, pending_run.finished_at, pending_run.rows_created, pending_run.errors)
    log_entries, initiatives = LogEntry.objects.count(), Initiative.objects.count()

    assert import_run_execute(pending_run.pk) is None

    pending_run.refresh_from_db()
    assert (pending_run.status, pending_run.finished_at, pending_run.rows_created, pending_run.errors) == snapshot
    assert (LogEntry.objects.count(), Initiative.objects.count()) == (log_entries, initiatives)


def test_a_run_another_worker_already_took_is_left_alone(pending_run):
    ImportRun.objects.filter(pk=pending_run.pk).update(status=RunStatus.RUNNING)
    assert import_run_execute(pending_run.pk) is None
    pending_run.refresh_from_db()
    assert pending_run.status == RunStatus.RUNNING
    assert Initiative.objects.count() == 0


def test_execute_ignores_a_deleted_run(db):
    assert import_run_execute(123456) is None


def test_a_lost_file_fails_the_run_with_a_reason(pending_run):
    pending_run.file.delete(save=True)
    import_run_execute(pending_run.pk)
    pending_run.refresh_from_db()
    assert pending_run.status == RunStatus.FAILED
    assert pending_run.errors[0]["message"].startswith("The import failed")


def test_submit_enqueues_the_task_once_committed(admin_user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        run = import_run_submit(actor=admin_user, filename="good.csv", content=(FIXTURES / "good.csv").read_bytes())
    assert len(callbacks) == 1
    assert ImportRun.objects.get(pk=run.pk).status == RunStatus.PENDING  # nothing runs before the commit

    callbacks[0]()  # the commit: eager Celery runs the task in-process
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED


def test_expire_stale_fails_runs_stuck_running_for_over_an_hour(admin_user):
    now = timezone.now()
    stuck = ImportRun.objects.create(filename="a.csv", status=RunStatus.RUNNING, started_at=now - timedelta(hours=2))
    recent = ImportRun.objects.create(
        filename="b.csv", status=RunStatus.RUNNING, started_at=now - timedelta(minutes=10)
    )
    done = ImportRun.objects.create(
        filename="c.csv", status=RunStatus.SUCCEEDED, started_at=now - timedelta(hours=3), finished_at=now
    )

    assert import_runs_expire_stale.delay().get() == 1

    stuck.refresh_from_db()
    assert stuck.status == RunStatus.FAILED
    assert stuck.finished_at is not None
    assert "did not finish" in stuck.errors[0]["message"]
    recent.refresh_from_db()
    done.refresh_from_db()
    assert (recent.status, done.status) == (RunStatus.RUNNING, RunStatus.SUCCEEDED)
    assert import_runs_expire_stale() == 0  # nothing left to expire


def test_beat_schedule_names_the_expiry_task():
    from tollgate.celery import app

    task_name = app.conf.beat_schedule["expire-stale-import-runs"]["task"]
    assert task_name == import_runs_expire_stale.name
