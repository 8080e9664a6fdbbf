"""The worker's PostgreSQL connection dropped while an ingestion run writes (a restart or failover of the database,
an administrator's pg_terminate_backend): the run's transaction dies with it, so the period keeps its previous month
whole -- never a mix, never doubled -- and the run goes back to pending with the reason, to be retried by its task
(after the usual 30 s backoff), which then replaces the month once."""

from __future__ import annotations

from unittest import mock

import psycopg
import pytest
from django.db import connection

from portfolio.choices import RunStatus, SourceType
from portfolio.costs.services.runs import ingestion_run_create, ingestion_run_execute, ingestion_run_submit
from tests.portfolio.costs.factories import CostSourceFactory
from tests.workers import (
    JUNE,
    celery_worker,
    database_url,
    finished,
    month_total,
    reading,
    wait_for,
    write_costs,
)


def writers_of_cost_records() -> list[int]:
    """The backends (other than ours) whose open transaction is writing cost records: a run's own connection."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT l.pid FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
            "WHERE c.relname = 'portfolio_costrecord' AND l.mode = 'RowExclusiveLock' AND l.pid <> pg_backend_pid()"
        )
        return [pid for (pid,) in cursor.fetchall()]


def terminate(pids: list[int]) -> None:
    with connection.cursor() as cursor:
        for pid in pids:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])


@pytest.mark.postgres
@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_the_run_connection_dropped_mid_write_keeps_the_old_month_and_the_retry_replaces_it_once(tmp_path):
    rows = 60_000  # long enough to be caught writing
    expected = write_costs(tmp_path / "june.csv", rows)
    source = CostSourceFactory(name="contracts", type=SourceType.CSV, settings={"path": str(tmp_path / "june.csv")})
    seed = tmp_path / "seed.csv"
    seeded = write_costs(seed, 10)
    ingestion_run_execute(run=ingestion_run_create(source=source, period=JUNE), path=seed)

    with celery_worker(tmp_path / "worker.log", name="pg-dropped") as worker:
        run = ingestion_run_submit(source=source, period=JUNE)
        wait_for(lambda: reading(run.pk), timeout=40, what="the worker to start reading")
        backends = wait_for(writers_of_cost_records, timeout=20, what="the run's transaction to write records")
        terminate(backends)

        def back_to_pending():
            run.refresh_from_db()
            return run.status == RunStatus.PENDING and run.error

        error = wait_for(back_to_pending, timeout=30, what="the run to be put back for a retry")
        assert error.startswith("Will retry: The database connection was lost mid-run"), error
        assert month_total(source) == (seeded, 10)  # the previous month, whole: nothing of the dropped write

        # The worker reconnects and its retry replaces the month once.
        done = wait_for(lambda: finished(run.pk), timeout=90, what="the retried run to end")
        assert done.status == RunStatus.SUCCEEDED, done.error
        assert month_total(source) == (expected, rows)
        assert worker.poll() is None
    assert not source.runs.filter(status__in=[RunStatus.PENDING, RunStatus.RUNNING]).exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_without_retries_left_the_run_fails_with_the_reason_and_a_rerun_succeeds(tmp_path):
    """The `ingest` command and a task's last attempt: the connection goes after every record is written, just
    before the roll-ups and the commit; the run fails saying why, and running it again replaces the month."""
    from portfolio.costs.services import runs

    source = CostSourceFactory(name="contracts", type=SourceType.CSV)
    seeded = write_costs(tmp_path / "seed.csv", 10)
    ingestion_run_execute(run=ingestion_run_create(source=source, period=JUNE), path=tmp_path / "seed.csv")
    expected = write_costs(tmp_path / "june.csv", 500)
    recompute = runs.rollups_recompute

    def dropped_first(**kwargs):
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            pid = cursor.fetchone()[0]
        with psycopg.connect(database_url().replace("postgres://", "postgresql://", 1), autocommit=True) as other:
            other.execute("SELECT pg_terminate_backend(%s)", [pid])
        return recompute(**kwargs)

    with mock.patch.object(runs, "rollups_recompute", dropped_first):
        run = ingestion_run_execute(run=ingestion_run_create(source=source, period=JUNE), path=tmp_path / "june.csv")
    assert run.status == RunStatus.FAILED
    # What the driver says depends on a race: the server's notice, or only the closed socket when it is read first.
    reasons = ("terminating connection due to administrator command", "connection socket closed")
    assert any(
        run.error.startswith(f"The database connection was lost mid-run ({reason}); nothing was written")
        for reason in reasons
    ), run.error
    assert run.error.endswith("Run it again.") and run.rows_written == 0
    assert month_total(source) == (seeded, 10)

    run = ingestion_run_execute(run=ingestion_run_create(source=source, period=JUNE), path=tmp_path / "june.csv")
    assert run.status == RunStatus.SUCCEEDED, run.error
    assert month_total(source) == (expected, 500)
