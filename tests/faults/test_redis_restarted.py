"""Redis, the Celery broker, restarted while a worker executes an ingestion run and another run waits in the queue.

The test runs a Redis server of its own (never the shared one) and a real worker on it.

What is guaranteed:
- The run being executed is not affected: its work happens in PostgreSQL, it ends once (succeeded) and the period is
  replaced once. Its message is acknowledged late; if Redis kept it (append-only file) and hands it out again, the
  redelivered task finds the run finished and does nothing.
- The worker reconnects by itself (broker_connection_retry) and executes the next jobs.
- A run still waiting in the queue survives the restart only if Redis persists its data (compose.yaml runs it with
  --appendonly yes). Without persistence its message is gone: the run stays pending until the beat's expiry
  (ingestion_runs_expire_stale, after STALE_AFTER) fails it as "message probably lost"; the old data stands and
  running it again works.
"""

from __future__ import annotations

import socket
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest

from portfolio.choices import RunStatus, SourceType
from portfolio.costs.services.runs import (
    ingestion_run_create,
    ingestion_run_execute,
    ingestion_runs_expire_stale,
)
from portfolio.models import CostSource, IngestionRun
from tests.portfolio.costs.factories import CostSourceFactory
from tests.workers import JUNE, celery_worker, finished, month_total, reading, wait_for, write_costs


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class RedisServer:
    """A redis-server of the test's own on a free port; `persist` turns on the append-only file, as compose.yaml."""

    def __init__(self, directory: Path, *, persist: bool) -> None:
        self.directory, self.persist, self.port = directory, persist, free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        persistence = ["--appendonly", "yes", "--appendfsync", "always"] if self.persist else ["--appendonly", "no"]
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--dir",
             str(self.directory), *persistence],
            stdout=(self.directory / "redis.log").open("a"), stderr=subprocess.STDOUT,
        )
        wait_for(self.answers, timeout=10, what="redis-server to answer")

    def answers(self) -> bool:
        result = subprocess.run(["redis-cli", "-p", str(self.port), "ping"], capture_output=True, text=True)
        return result.stdout.strip() == "PONG"

    def stop(self) -> None:
        """A clean shutdown (what a restart by the service manager does): the append-only file is complete."""
        if self.process is None or self.process.poll() is not None:
            return
        subprocess.run(["redis-cli", "-p", str(self.port), "shutdown", "save" if self.persist else "nosave"],
                       capture_output=True)
        self.process.wait(timeout=10)

    def restart(self) -> None:
        self.stop()
        self.start()

    def queued(self) -> int:
        result = subprocess.run(["redis-cli", "-p", str(self.port), "llen", "celery"], capture_output=True, text=True)
        return int(result.stdout.strip() or 0)


@pytest.fixture(params=[True, False], ids=["append-only", "not-persisting"])
def redis_server(request, tmp_path):
    server = RedisServer(tmp_path, persist=request.param)
    server.start()
    yield server
    if server.process is not None and server.process.poll() is None:
        server.process.kill()
        server.process.wait(timeout=10)


def submit(broker_url: str, source: CostSource) -> IngestionRun:
    """ingestion_run_submit's two steps (a run, then its task), the task sent to this test's own Redis."""
    from portfolio.costs.tasks import ingestion_run_execute_task
    from tollgate.celery import app

    run = ingestion_run_create(source=source, period=JUNE)
    with app.connection_for_write(broker_url) as broker:
        ingestion_run_execute_task.apply_async((run.pk,), connection=broker)
    return run


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_redis_restarted_mid_run_counts_the_month_once_and_the_worker_goes_on(tmp_path, redis_server):
    rows = 60_000
    expected = write_costs(tmp_path / "june.csv", rows)
    source = CostSourceFactory(name="contracts", type=SourceType.CSV, settings={"path": str(tmp_path / "june.csv")})
    write_costs(tmp_path / "seed.csv", 10)
    ingestion_run_execute(run=ingestion_run_create(source=source, period=JUNE), path=tmp_path / "seed.csv")
    queued_rows = 100
    queued_expected = write_costs(tmp_path / "other.csv", queued_rows)
    other = CostSourceFactory(name="licences", type=SourceType.CSV, settings={"path": str(tmp_path / "other.csv")})

    env = {"CELERY_BROKER_URL": redis_server.url, "CELERY_RESULT_BACKEND": redis_server.url,
           "REDIS_URL": redis_server.url}
    with celery_worker(tmp_path / "worker.log", name="redis-restarted", **env) as worker:
        executing = submit(redis_server.url, source)
        wait_for(lambda: reading(executing.pk), timeout=40, what="the worker to start reading")
        waiting = submit(redis_server.url, other)
        assert redis_server.queued() == 1  # one child, prefetch 1: the second run waits in Redis

        redis_server.restart()

        done = wait_for(lambda: finished(executing.pk), timeout=60, what="the executing run to end")
        assert done.status == RunStatus.SUCCEEDED, done.error
        assert month_total(source) == (expected, rows)  # replaced once: not doubled, no seed left

        if redis_server.persist:
            queued = wait_for(lambda: finished(waiting.pk), timeout=60, what="the queued run to end")
            assert queued.status == RunStatus.SUCCEEDED, queued.error
        else:
            # Its message went with Redis: pending, until the expiry says so (its window shortened here).
            waiting.refresh_from_db()
            assert waiting.status == RunStatus.PENDING and redis_server.queued() == 0
            assert ingestion_runs_expire_stale(older_than=timedelta(0)) == 1
            waiting.refresh_from_db()
            assert waiting.status == RunStatus.FAILED and "message was probably lost" in waiting.error
            assert month_total(other) == (0, 0)
            waiting = submit(redis_server.url, other)  # what the person (or the next schedule) does: run it again
            rerun = wait_for(lambda: finished(waiting.pk), timeout=60, what="the re-run to end")
            assert rerun.status == RunStatus.SUCCEEDED, rerun.error
        assert month_total(other) == (queued_expected, queued_rows)

        # The reconnected worker runs the next job; a redelivered copy of the first message changed nothing.
        following = submit(redis_server.url, source)
        done = wait_for(lambda: finished(following.pk), timeout=60, what="a run after the restart to end")
        assert done.status == RunStatus.SUCCEEDED, done.error
        assert worker.poll() is None
    executing.refresh_from_db()
    assert executing.status == RunStatus.SUCCEEDED and executing.rows_written == rows
    assert month_total(source) == (expected, rows)
    assert not IngestionRun.objects.filter(status__in=[RunStatus.PENDING, RunStatus.RUNNING]).exists()
