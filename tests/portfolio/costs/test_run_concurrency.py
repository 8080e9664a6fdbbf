"""Runs of one source and period in separate processes, on PostgreSQL: never counted twice.

Two `ingest` commands at once once took a month from $572,273.51 to $954,827.16 and both "succeeded": each deleted
the period's records (seeing none of the other's uncommitted ones) and wrote its own. At most one run of a
(source, period) now executes at a time; the second waits and then replaces the first's records with its own.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest
from django.db.models import Sum

from portfolio.choices import RunStatus, SourceType
from portfolio.models import IngestionRun, MonthlyCost
from tests import paths
from tests.portfolio.costs.factories import CostSourceFactory
from tests.workers import (
    JUNE,
    celery_worker,
    finished,
    month_total,
    reading,
    subprocess_env,
    wait_for,
    write_costs,
)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_ingest_commands_at_once_do_not_double_the_month(tmp_path):
    source = CostSourceFactory(name="contracts", type=SourceType.CSV)
    path = tmp_path / "june.csv"
    rows = 30_000
    expected = write_costs(path, rows)
    command = [sys.executable, str(paths.REPO / "manage.py"), "ingest", "contracts", "--period", "2025-06",
               "--file", str(path)]

    processes = [subprocess.Popen(command, env=subprocess_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True) for _ in range(2)]
    outcomes = [process.communicate(timeout=120) for process in processes]

    assert [p.returncode for p in processes] == [0, 0], outcomes
    assert IngestionRun.objects.filter(source=source, status=RunStatus.SUCCEEDED).count() == 2
    assert month_total(source) == (expected, rows)
    assert MonthlyCost.objects.filter(month=JUNE).aggregate(total=Sum("amount"))["total"] == expected


# A worker killed mid-run ---------------------------------------------------------------------------------------------


@pytest.fixture
def celery_worker_process(tmp_path):
    with celery_worker(tmp_path / "worker.log", name="killed") as process:
        yield process


@pytest.mark.postgres
@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_ingestion_is_restarted_once_or_failed_at_once(tmp_path, celery_worker_process):
    """SIGKILL used to leave the run "running" for two hours, its redelivered message did nothing (the run was no
    longer pending) and the source's schedule was blocked meanwhile.

    1. The worker's child is killed mid-read (as the OOM killer would): Celery puts the message back (acks_late,
       reject_on_worker_lost) and the redelivered task restarts the run, which completes exactly once.
    2. The whole worker is killed: no redelivery comes soon, but its lock went with its connection, so the expiry
       fails the run at once; the data read before is intact and nothing blocks the schedule.
    """
    from portfolio.costs.services.runs import (
        ingestion_run_create,
        ingestion_run_execute,
        ingestion_run_submit,
        ingestion_runs_expire_stale,
    )

    rows = 60_000  # long enough to be killed mid-read on a fast machine too
    expected = write_costs(tmp_path / "june.csv", rows)
    source = CostSourceFactory(name="contracts", type=SourceType.CSV, settings={"path": str(tmp_path / "june.csv")})
    seed = tmp_path / "seed.csv"
    seeded = write_costs(seed, 10)
    ingestion_run_execute(run=ingestion_run_create(source=source, period=JUNE), path=seed)
    assert month_total(source) == (seeded, 10)

    # 1. The child executing the run dies; the run is redelivered and restarted.
    run = ingestion_run_submit(source=source, period=JUNE)
    started = wait_for(lambda: reading(run.pk), timeout=40, what="the worker to start reading")
    killed_pid = int(started.worker.rsplit(":", 1)[1])
    os.kill(killed_pid, signal.SIGKILL)
    done = wait_for(lambda: finished(run.pk), timeout=40, what="the restarted run to finish")
    assert done.status == RunStatus.SUCCEEDED, done.error
    assert int(done.worker.rsplit(":", 1)[1]) != killed_pid
    assert month_total(source) == (expected, rows)  # the restart replaced the period once: not doubled, no seed left

    # 2. The whole worker dies mid-run: the expiry fails the run within its next tick.
    run = ingestion_run_submit(source=source, period=JUNE)
    wait_for(lambda: reading(run.pk), timeout=40, what="the worker to start reading again")
    os.killpg(celery_worker_process.pid, signal.SIGKILL)
    celery_worker_process.wait(timeout=10)
    assert wait_for(ingestion_runs_expire_stale, timeout=10, what="the expiry to notice the lost worker") == 1
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED and "worker executing the run was lost" in run.error
    assert month_total(source) == (expected, rows)  # the rolled-back read changed nothing
    assert not source.runs.filter(status__in=[RunStatus.PENDING, RunStatus.RUNNING]).exists()
