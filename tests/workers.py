"""Real processes around the test: a Celery worker subprocess on the test's database, a cost CSV long enough to be
caught mid-run, and the waits and sums the worker and fault tests share.

The test's data must be committed for another process to see it: tests using these carry
@pytest.mark.django_db(transaction=True).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TypeVar

from django.db import connection
from django.db.models import Sum

from portfolio.choices import RunStatus
from portfolio.models import CostRecord, CostSource, IngestionRun
from tests import paths

JUNE = date(2025, 6, 1)
AMOUNT = Decimal("1.25")
T = TypeVar("T")


def write_costs(path: Path, rows: int) -> Decimal:
    """A plain cost CSV of June with `rows` lines of AMOUNT each; returns its total."""
    with path.open("w") as out:
        out.write("date,initiative,key,category,amount,currency,quantity,unit\n")
        for i in range(rows):
            out.write(f"2025-06-{i % 30 + 1:02d},,namespace=team-{i % 7},compute,{AMOUNT},USD,,\n")
    return AMOUNT * rows


def database_url() -> str:
    db = connection.settings_dict
    host = f"{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
    return f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{host}/{db['NAME']}"


def subprocess_env(**overrides: str) -> dict[str, str]:
    """The environment of a process that works on this test's database (committed data: transaction=True)."""
    return {**os.environ, "DATABASE_URL": database_url(), "PYTHONPATH": str(paths.REPO),
            "DJANGO_SETTINGS_MODULE": "tollgate.settings", **overrides}


def month_total(source: CostSource) -> tuple[Decimal, int]:
    """June's total and record count of `source`."""
    records = CostRecord.objects.filter(source=source, period=JUNE)
    return records.aggregate(total=Sum("amount_reporting"))["total"] or Decimal("0"), records.count()


def wait_for(condition: Callable[[], T], *, timeout: float, what: str) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def reading(run_id: int) -> IngestionRun | None:
    """The run once a worker has read part of it (its progress is visible while its transaction is open)."""
    run = IngestionRun.objects.get(pk=run_id)
    return run if run.status == RunStatus.RUNNING and run.progress > 0 else None


def finished(run_id: int) -> IngestionRun | None:
    run = IngestionRun.objects.get(pk=run_id)
    return run if run.status in (RunStatus.SUCCEEDED, RunStatus.FAILED) else None


@contextmanager
def celery_worker(log_path: Path, *, name: str, **env: str) -> Iterator[subprocess.Popen]:
    """A real Celery worker (prefork, one child) in its own process group, on this test's database and the broker
    of the environment (or `env`'s CELERY_BROKER_URL); killed with its children when the block ends."""
    log = log_path.open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "tollgate", "worker", "--pool", "prefork", "--concurrency", "1",
         "--without-mingle", "--without-gossip", "--loglevel", "INFO", "--hostname", f"{name}-{os.getpid()}@%h"],
        env=subprocess_env(CELERY_TASK_ALWAYS_EAGER="0", **env), stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True, cwd=paths.REPO,
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
        log.close()
