"""The run lifecycle (tollgate/jobs.py) shared by imports, cost ingestion and sprawl: submit, claim, progress, expiry,
and the one task decorator."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from governance.models import SprawlRun
from portfolio.choices import RunStatus, RunTrigger, SourceType
from portfolio.costs.services.runs import ingestion_run_create, ingestion_runs_expire_stale
from portfolio.costs.services.schedules import ingestion_sources_run_due
from portfolio.models import ImportRun, IngestionRun
from tests.portfolio.costs.factories import CostSourceFactory
from tollgate import jobs
from tollgate.celery import app

pytestmark = pytest.mark.django_db


# The task decorator --------------------------------------------------------------------------------------------------

ATTEMPTS: list[str] = []


class FlakyUpstream(Exception):
    """Like a connector's ConnectorError: says itself whether it is transient."""

    def __init__(self, transient: bool) -> None:
        super().__init__("upstream said no")
        self.transient = transient


@jobs.job_task(max_retries=2)
def flaky_job(fail_with: list[str]) -> str:
    ATTEMPTS.append("final" if jobs.final_attempt() else "early")
    if len(ATTEMPTS) <= len(fail_with):
        kind = fail_with[len(ATTEMPTS) - 1]
        if kind == "transient":
            raise jobs.TransientError("try again")
        raise FlakyUpstream(transient=kind == "connector-transient")
    return "done"


@pytest.fixture
def retries_in_process():
    """Eager Celery runs a retry in-process only when errors do not propagate."""
    ATTEMPTS.clear()
    previous = app.conf.task_eager_propagates
    app.conf.task_eager_propagates = False
    yield
    app.conf.task_eager_propagates = previous


def test_the_decorator_makes_tasks_safe_to_redeliver():
    from portfolio.costs.tasks import ingestion_run_execute_task
    from portfolio.tasks import import_run_execute
    from reviews.tasks import reminders_send

    for task in (flaky_job, ingestion_run_execute_task, import_run_execute, reminders_send):
        assert task.acks_late is True and task.reject_on_worker_lost is True
    assert flaky_job.name == "tests.tollgate.test_jobs.flaky_job"  # names stay <module>.<function>


def test_transient_errors_are_retried_until_the_final_attempt(retries_in_process):
    assert flaky_job.apply(args=[["transient", "connector-transient"]]).get() == "done"
    assert ATTEMPTS == ["early", "early", "final"]


def test_other_errors_are_never_retried(retries_in_process):
    result = flaky_job.apply(args=[["connector-final"]])
    assert result.failed() and isinstance(result.result, FlakyUpstream)
    assert ATTEMPTS == ["early"]


def test_a_transient_error_on_the_final_attempt_fails(retries_in_process):
    result = flaky_job.apply(args=[["transient"] * 5])
    assert result.failed() and ATTEMPTS == ["early", "early", "final"]


def test_backoff_doubles_and_is_capped():
    assert [jobs.retry_countdown(n, base=30, cap=600) for n in range(7)] == [30, 60, 120, 240, 480, 600, 600]


def test_every_task_of_the_project_uses_the_decorator():
    app.loader.import_default_modules()
    ours = [task for name, task in app.tasks.items() if name.split(".")[0] in ("portfolio", "governance", "reviews")]
    assert len(ours) >= 10
    assert all(task.acks_late and task.reject_on_worker_lost for task in ours), [t.name for t in ours]


# Submit and claim ----------------------------------------------------------------------------------------------------


def test_submit_sends_the_task_only_once_the_run_is_committed(django_capture_on_commit_callbacks):
    sent: list[int] = []

    class Task:
        @staticmethod
        def delay(run_id: int) -> None:
            sent.append(run_id)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        run = jobs.run_submit(SprawlRun(), task=Task)
    assert run.pk and sent == [] and len(callbacks) == 1
    callbacks[0]()
    assert sent == [run.pk]


@jobs.job_task(max_retries=2)
def sprawl_job(run_id: int, outcome: str) -> str | None:
    """A run's task as the apps write them, ending as `outcome` says."""
    ATTEMPTS.append("final" if jobs.final_attempt() else "early")
    if outcome == "unclaimed-transient":  # fails before it claims the run (a provider down, a dropped connection)
        raise jobs.TransientError("the provider is unreachable")
    if outcome == "unclaimed":
        return None
    with jobs.run_claimed(SprawlRun, run_id=run_id) as run:
        assert run is not None
        if outcome == "claimed-error":
            raise ValueError("a bug")
        jobs.run_finish(run, status=RunStatus.SUCCEEDED)
    return "done"


@pytest.mark.parametrize("propagates", [True, False])
@pytest.mark.parametrize(("outcome", "error"), [
    pytest.param("unclaimed-transient", "Failed (TransientError): the provider is unreachable. ", id="transient"),
    pytest.param("claimed-error", "Unexpected error (ValueError): a bug", id="error-mid-run"),
    pytest.param("unclaimed", "Not executed: the task ended without starting the run. ", id="never-claimed"),
])
def test_without_a_broker_a_submitted_run_that_fails_in_process_fails_once_and_never_reaches_the_sender(
    django_capture_on_commit_callbacks, outcome, error, propagates
):
    """No broker (`make run`): the task executes at the commit, inside the request. Nothing could retry it later,
    so its one attempt is final, and whatever it left unfinished fails at once (it used to stay pending, or a
    Retry or the task's error turned the request into a 500)."""
    ATTEMPTS.clear()
    previous = app.conf.task_eager_propagates
    app.conf.task_eager_propagates = propagates
    try:
        with django_capture_on_commit_callbacks(execute=True):
            run = jobs.run_submit(SprawlRun(), task=sprawl_job.s(outcome=outcome))
    finally:
        app.conf.task_eager_propagates = previous
    run.refresh_from_db()
    assert ATTEMPTS == ["final"]
    assert run.status == RunStatus.FAILED and run.finished_at is not None
    assert run.error.startswith(error) and (outcome == "claimed-error" or run.error.endswith(SprawlRun.lost_hint))


def test_without_a_broker_a_submitted_run_that_succeeds_is_left_as_it_ended(django_capture_on_commit_callbacks):
    ATTEMPTS.clear()
    with django_capture_on_commit_callbacks(execute=True):
        run = jobs.run_submit(SprawlRun(), task=sprawl_job.s(outcome="succeeded"))
    run.refresh_from_db()
    assert (run.status, run.error, ATTEMPTS) == (RunStatus.SUCCEEDED, "", ["final"])


def test_with_a_broker_a_submitted_task_is_only_sent(django_capture_on_commit_callbacks):
    """A worker executes it later and retries its transient errors: nothing is decided for it at the commit."""
    sent: list[int] = []

    class Task:
        @staticmethod
        def delay(run_id: int) -> None:
            sent.append(run_id)
            assert not jobs._in_process.get()

    app.conf.task_always_eager = False  # the autouse fixture puts it back
    with django_capture_on_commit_callbacks(execute=True):
        run = jobs.run_submit(SprawlRun(), task=Task)
    run.refresh_from_db()
    assert sent == [run.pk] and run.status == RunStatus.PENDING


def test_a_run_is_claimed_once():
    run = SprawlRun.objects.create()
    with jobs.run_claimed(SprawlRun, run_id=run.pk) as claimed:
        assert claimed is not None and claimed.status == RunStatus.RUNNING
        assert claimed.worker == jobs.worker_name() and claimed.heartbeat_at is not None
        with jobs.run_claimed(SprawlRun, run_id=run.pk) as again:  # a redelivered copy while it runs
            assert again is None
        jobs.run_finish(claimed, status=RunStatus.SUCCEEDED)
    with jobs.run_claimed(SprawlRun, run_id=run.pk) as after:  # redelivered after the end
        assert after is None
    with jobs.run_claimed(SprawlRun, run_id=123456) as missing:
        assert missing is None


def test_an_unexpected_error_fails_the_run_instead_of_leaving_it_running():
    run = SprawlRun.objects.create()
    with pytest.raises(ZeroDivisionError), jobs.run_claimed(SprawlRun, run_id=run.pk):
        1 / 0  # noqa: B018
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED and "ZeroDivisionError" in run.error


@pytest.mark.skipif(connection.vendor == "postgresql", reason="PostgreSQL knows from the lock, tested below")
def test_without_postgresql_a_silent_running_run_is_restarted_after_its_stale_time():
    silent = timezone.now() - SprawlRun.stale_after - timedelta(minutes=1)
    run = SprawlRun.objects.create(status=RunStatus.RUNNING, started_at=silent, heartbeat_at=silent, worker="gone:1")
    fresh = SprawlRun.objects.create(status=RunStatus.RUNNING, started_at=timezone.now(),
                                     heartbeat_at=timezone.now(), worker="alive:2")
    with jobs.run_claimed(SprawlRun, run_id=fresh.pk) as claimed:
        assert claimed is None  # it may still be running elsewhere
    with jobs.run_claimed(SprawlRun, run_id=run.pk) as claimed:
        assert claimed is not None and claimed.worker == jobs.worker_name()
        assert claimed.error.startswith("Restarted")


# Progress ------------------------------------------------------------------------------------------------------------


def test_progress_outside_a_run_only_updates_the_object():
    run = SprawlRun.objects.create()
    jobs.run_progress(run, 7)
    assert run.progress == 7
    run.refresh_from_db()
    assert run.progress == 0


def test_a_run_counting_steps_says_which_one_it_is_at_while_it_runs():
    steps = ("Reading", "Embedding", "Grouping")
    run = SprawlRun.objects.create()
    assert jobs.run_step(run, steps) is None  # pending: waiting for a worker
    run.status = RunStatus.RUNNING
    assert jobs.run_step(run, steps) is None  # claimed, no step reported yet
    jobs.run_at_step(run, 2)
    step = jobs.run_step(run, steps)
    assert (step.number, step.of, step.label, step.done) == (2, 3, "Embedding", 0)
    assert step.percent == 38  # one of three done, and a little for the one running
    jobs.run_at_step(run, 2.5)
    assert (jobs.run_step(run, steps).done, jobs.run_step(run, steps).percent) == (50, 55)
    jobs.run_at_step(run, 3.999)
    assert (jobs.run_step(run, steps).number, jobs.run_step(run, steps).percent) == (3, 99)  # never full
    run.progress = 4 * jobs.STEP_SCALE
    assert jobs.run_step(run, steps) is None  # beyond the steps named: no claim to know where it is
    run.status, run.progress = RunStatus.SUCCEEDED, 3 * jobs.STEP_SCALE
    assert jobs.run_step(run, steps) is None


def test_a_step_stored_by_the_earlier_version_is_still_read():
    """Before steps counted their share a run stored the step's number alone (2 for step 2): a worker of that version
    still running while this one is deployed keeps saying where it is."""
    steps = ("Reading", "Embedding", "Grouping")
    run = SprawlRun.objects.create(status=RunStatus.RUNNING, progress=2)
    step = jobs.run_step(run, steps)
    assert (step.number, step.label, step.done) == (2, "Embedding", 0)
    run.progress = 4
    assert jobs.run_step(run, steps) is None  # beyond the steps named, as before
    run.progress = 0
    assert jobs.run_step(run, steps) is None  # no step reported yet


def test_a_step_reports_only_what_the_page_would_show_differently(monkeypatch):
    run = SprawlRun.objects.create()
    written = []
    monkeypatch.setattr(jobs, "run_progress", lambda run, done: (written.append(done), setattr(run, "progress", done)))
    for position in (1, 2, 2.001, 2.004, 2.3, 2.301, 3):
        jobs.run_at_step(run, position)
    assert written == [100, 200, 230, 300]  # a batch that moves no percent writes nothing


# Expiry: a lost message (pending) and a lost worker (running) --------------------------------------------------------


@pytest.fixture
def scheduled_source(monkeypatch):
    from portfolio.costs.connectors import registry
    from tests.portfolio.costs.test_ingestion import SyntheticConnector

    monkeypatch.setitem(registry.CONNECTORS, "csv", f"{SyntheticConnector.__module__}.SyntheticConnector")
    return CostSourceFactory(name="api", type=SourceType.CSV, schedule="daily")


def test_a_lost_message_no_longer_blocks_the_schedule(scheduled_source, django_capture_on_commit_callbacks):
    """The scheduler skips a source with a pending run; a pending run whose task never arrived used to stay pending
    forever (expiry only failed running runs), so the source was never read again."""
    lost = ingestion_run_create(source=scheduled_source, period="2025-06", trigger=RunTrigger.SCHEDULE)
    IngestionRun.objects.filter(pk=lost.pk).update(created_at=timezone.now() - timedelta(days=1, hours=1))
    with django_capture_on_commit_callbacks(execute=False):
        assert ingestion_sources_run_due() == []  # blocked by the pending run

    assert ingestion_runs_expire_stale() == 1

    lost.refresh_from_db()
    assert lost.status == RunStatus.FAILED and "message was probably lost" in lost.error
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        queued = ingestion_sources_run_due()
    assert [r.source for r in queued] == [scheduled_source] and len(callbacks) == 1


def test_a_recent_pending_run_is_left_waiting_for_its_worker(scheduled_source):
    ingestion_run_create(source=scheduled_source, period="2025-06")
    assert ingestion_runs_expire_stale() == 0


def test_expiry_of_imports_and_sprawl_handles_lost_messages_too():
    from governance.sprawl.services.runs import sprawl_runs_expire_stale
    from portfolio.services.inventory_import import import_runs_expire_stale

    old = timezone.now() - timedelta(hours=3)
    imported = ImportRun.objects.create(filename="a.csv")
    sprawl = SprawlRun.objects.create()
    ImportRun.objects.filter(pk=imported.pk).update(created_at=old)
    SprawlRun.objects.filter(pk=sprawl.pk).update(created_at=old)

    assert import_runs_expire_stale() == 1 and sprawl_runs_expire_stale() == 1

    imported.refresh_from_db()
    sprawl.refresh_from_db()
    assert imported.status == sprawl.status == RunStatus.FAILED
    assert "message was probably lost" in imported.errors[0]["message"]  # the import page lists `errors`
    assert "clusters and decisions are unchanged" in sprawl.error


@pytest.mark.postgres
def test_on_postgresql_a_running_run_whose_worker_is_gone_expires_at_once():
    """A run claimed by a worker whose connection died (its lock is free) fails within one expiry tick, not hours."""
    now = timezone.now()
    gone = SprawlRun.objects.create(status=RunStatus.RUNNING, started_at=now, heartbeat_at=now, worker="gone:1")
    alive = SprawlRun.objects.create(status=RunStatus.RUNNING, started_at=now, heartbeat_at=now, worker="alive:2")
    lease = jobs._Lease(SprawlRun, alive.pk)  # the live worker's connection, holding its run's lock
    try:
        assert lease.try_lock_run()
        assert jobs.runs_expire(SprawlRun) == 1
    finally:
        lease.close()
    gone.refresh_from_db()
    alive.refresh_from_db()
    assert gone.status == RunStatus.FAILED and "worker executing the run was lost" in gone.error
    assert alive.status == RunStatus.RUNNING


@pytest.mark.postgres
def test_on_postgresql_a_redelivered_task_restarts_a_run_whose_worker_is_gone_but_not_a_live_one():
    now = timezone.now()
    run = SprawlRun.objects.create(status=RunStatus.RUNNING, started_at=now, heartbeat_at=now, worker="w:1")
    lease = jobs._Lease(SprawlRun, run.pk)
    try:
        assert lease.try_lock_run()
        with jobs.run_claimed(SprawlRun, run_id=run.pk) as claimed:
            assert claimed is None  # its worker is alive
    finally:
        lease.close()  # the worker dies: its connection, and so its lock, goes
    with jobs.run_claimed(SprawlRun, run_id=run.pk) as claimed:
        assert claimed is not None and claimed.worker == jobs.worker_name()
        assert claimed.error.startswith("Restarted")


# The runner's own failures are audited like every other failed run ---------------------------------------------------


def failure_audits(run: IngestionRun) -> list[tuple[list[str], str]]:
    from auditlog.models import LogEntry

    return [(entry.changes["status"], entry.additional_data["reason"])
            for entry in LogEntry.objects.get_for_object(run).filter(additional_data__event="ingestion_run_failed")]


def test_a_task_the_broker_refuses_fails_its_run_audited(django_capture_on_commit_callbacks):
    """The broker is down when the run is committed: no worker will ever see it, so it fails at once (it used to
    wait, pending, for the expiry, the error raised into the request)."""

    class Task:
        @staticmethod
        def delay(run_id: int) -> None:
            raise ConnectionError("the broker is unreachable")

    app.conf.task_always_eager = False  # the autouse fixture puts it back
    with django_capture_on_commit_callbacks(execute=True):
        run = jobs.run_submit(IngestionRun(source=CostSourceFactory(), period="2025-06-01"), task=Task)
    run.refresh_from_db()
    message = "Not sent to the workers (ConnectionError): the broker is unreachable. " + IngestionRun.lost_hint
    assert run.status == RunStatus.FAILED and run.error == message
    assert failure_audits(run) == [(["pending", "failed"], message)]


def test_an_unexpected_error_while_a_run_is_claimed_is_audited():
    run = IngestionRun.objects.create(source=CostSourceFactory(), period="2025-06-01")
    with pytest.raises(ZeroDivisionError), jobs.run_claimed(IngestionRun, run_id=run.pk):
        1 / 0  # noqa: B018
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
    assert failure_audits(run) == [(["running", "failed"], run.error)]
    assert "Unexpected error (ZeroDivisionError): division by zero" in run.error


@jobs.job_task(max_retries=0)
def ingestion_job_failing_unclaimed(run_id: int) -> None:
    raise jobs.TransientError("the provider is unreachable")


def test_a_task_that_fails_in_process_before_claiming_its_run_is_audited(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        run = jobs.run_submit(IngestionRun(source=CostSourceFactory(), period="2025-06-01"),
                              task=ingestion_job_failing_unclaimed)
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED and run.error.startswith("Failed (TransientError)")
    assert failure_audits(run) == [(["pending", "failed"], run.error)]


def test_a_run_type_without_a_failure_event_is_failed_without_an_audit_row():
    from auditlog.models import LogEntry

    run = SprawlRun.objects.create()
    with pytest.raises(ZeroDivisionError), jobs.run_claimed(SprawlRun, run_id=run.pk):
        1 / 0  # noqa: B018
    assert not LogEntry.objects.filter(additional_data__event="ingestion_run_failed").exists()
