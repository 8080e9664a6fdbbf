"""A month exported as several files, read in parts (one task per file, then one merge): the same records as one file,
atomic on failure, idempotent under redelivery, and spread over real workers (portfolio/costs/services/parts.py)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import connection
from django.db.models import Count, Sum
from django.utils import timezone

from portfolio.choices import RunStatus, RunTrigger, SourceType
from portfolio.costs.connectors.base import Period
from portfolio.costs.services import parts
from portfolio.costs.services.runs import (
    ingestion_run_create,
    ingestion_run_execute,
    ingestion_run_execute_by_id,
    ingestion_run_submit,
    ingestion_runs_expire_stale,
)
from portfolio.models import CostRecord, IngestionRun, IngestionRunPart, MonthlyCost
from tests import paths
from tests.factories import InitiativeFactory
from tests.portfolio.costs.factories import AllocationRuleFactory, CostSourceFactory
from tests.portfolio.costs.focus_data import PROJECTS, write_focus, write_parts

pytestmark = pytest.mark.postgres  # the parallel path is PostgreSQL's; SQLite reads the files in one task

JUNE = Period.month(2025, 6)
ROWS = 6_000


def focus_source(name: str, path: Path | str, initiatives: list) -> object:
    source = CostSourceFactory(name=name, type=SourceType.FOCUS, settings={"path": str(path)})
    for order, (project, initiative) in enumerate(zip(PROJECTS, initiatives, strict=False), start=1):
        AllocationRuleFactory(source=source, order=order, key="tag:project", value=project, initiative=initiative)
    return source


@pytest.fixture
def initiatives(db):
    return [InitiativeFactory(external_id=f"INV-00{i}") for i in range(1, 4)]


def run_month(source) -> IngestionRun:
    run = ingestion_run_create(source=source, period=JUNE, trigger=RunTrigger.COMMAND)
    return ingestion_run_execute(run=run)


def split_only(source) -> IngestionRun:
    """A run claimed and split whose part tasks were not sent (patched away): the test plays the workers."""
    run = ingestion_run_create(source=source, period=JUNE, trigger=RunTrigger.COMMAND)
    ingestion_run_execute_by_id(run_id=run.pk)
    run.refresh_from_db()
    return run


def records(source) -> list[tuple]:
    fields = ("charge_date", "amount", "amount_reporting", "billed_amount", "currency", "category", "keys",
              "service_name", "model", "description", "quantity", "unit", "initiative_id")
    rows = CostRecord.objects.filter(source=source, period=JUNE.start).values_list(*fields)
    return sorted(rows, key=repr)


def month_of(source) -> dict:
    return CostRecord.objects.filter(source=source, period=JUNE.start).aggregate(
        total=Sum("amount_reporting"), count=Count("id"))


def staging_tables() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE tablename LIKE %s", [parts.STAGING_PREFIX + "%"])
        return [name for (name,) in cursor.fetchall()]


def test_a_month_in_four_files_equals_the_same_rows_in_one_file(tmp_path, initiatives):
    write_focus(tmp_path / "whole.csv", range(ROWS))
    write_parts(tmp_path / "june", ROWS, 4)
    whole = focus_source("whole", tmp_path / "whole.csv", initiatives)
    split = focus_source("split", tmp_path / "{period}" / "part-*.csv", initiatives)
    (tmp_path / "2025-06").symlink_to(tmp_path / "june")

    one = run_month(whole)
    rolled_once = MonthlyCost.objects.filter(month=JUNE.start).aggregate(total=Sum("amount"))["total"]
    four = run_month(split)

    assert one.status == four.status == RunStatus.SUCCEEDED, (one.error, four.error)
    assert (one.parts, four.parts) == (0, 4)
    assert four.filename == "4 files, part-1.csv to part-4.csv"
    assert records(split) == records(whole) and len(records(whole)) == ROWS - ROWS // 3
    assert (four.rows_read, four.rows_skipped, four.rows_written, four.unallocated_amount, four.progress) == (
        one.rows_read, one.rows_skipped, one.rows_written, one.unallocated_amount, one.rows_read)
    assert four.unallocated_amount > 0
    assert four.skipped_by_reason == one.skipped_by_reason == {"not AI spend": one.rows_skipped}  # summed per reason
    by_initiative = {
        source.name: dict(CostRecord.objects.filter(source=source).values_list("initiative_id")
                          .annotate(total=Sum("amount_reporting")))
        for source in (whole, split)
    }
    assert by_initiative["split"] == by_initiative["whole"] and len(by_initiative["whole"]) == 4
    rolled = MonthlyCost.objects.filter(month=JUNE.start).aggregate(total=Sum("amount"))["total"]
    total = month_of(whole)["total"]
    assert abs(rolled_once - total) < Decimal("0.05") and abs(rolled - 2 * total) < Decimal("0.05")  # rolled up
    assert list(four.file_parts.values_list("number", "done", "error")) == [(n, True, "") for n in range(1, 5)]
    assert staging_tables() == []


def test_a_bad_row_in_part_three_fails_the_run_and_leaves_the_month_untouched(tmp_path, initiatives):
    folder = tmp_path / "june"
    write_parts(folder, ROWS, 4)
    source = focus_source("split", folder, initiatives)  # a folder: every file in it
    before = run_month(source)
    assert before.status == RunStatus.SUCCEEDED and before.parts == 4
    kept = records(source)
    rolled = list(MonthlyCost.objects.values_list("initiative_id", "category", "amount").order_by("pk"))

    first_of_part_3 = 2 * (ROWS + 400) // 4  # a longer month this time; row 303 of part 3 is an AI row
    write_parts(folder, ROWS + 400, 4, part3={first_of_part_3 + 301: ("EffectiveCost", "12,50")})
    failed = run_month(source)

    assert failed.status == RunStatus.FAILED
    assert failed.error == "part-3.csv row 303 column EffectiveCost: '12,50' is not a number"
    assert failed.rows_written == 0
    assert records(source) == kept  # the month as it was, roll-ups too
    assert list(MonthlyCost.objects.values_list("initiative_id", "category", "amount").order_by("pk")) == rolled
    assert IngestionRunPart.objects.get(run=failed, number=3).error == failed.error
    assert staging_tables() == []


def test_parts_that_read_nothing_keep_the_month_unless_confirmed_and_the_replacement_is_audited(tmp_path, initiatives):
    """The merge goes through the single task's checks: a month of records is not emptied by files that hold none of
    it unless the starter confirmed it, and the month it replaces is in the audit trail."""
    from auditlog.models import LogEntry

    folder = tmp_path / "june"
    write_parts(folder, ROWS, 3)
    source = focus_source("split", folder, initiatives)
    before = run_month(source)
    assert before.status == RunStatus.SUCCEEDED and before.parts == 3
    kept = records(source)
    replaced = LogEntry.objects.get_for_object(before).get(additional_data__event="ingestion_run_replaced_month")
    assert replaced.additional_data["records_replaced"] == 0
    assert replaced.additional_data["records_written"] == len(kept)

    write_parts(folder, 0, 3)  # three files with their header alone
    refused = run_month(source)
    assert refused.status == RunStatus.FAILED
    assert refused.error.startswith(f"No records read for 2025-06 (0 rows read, 0 of them skipped), and split held "
                                    f"{len(kept):,} records for it: they are kept.")
    assert records(source) == kept and staging_tables() == []
    assert not LogEntry.objects.get_for_object(refused).filter(
        additional_data__event="ingestion_run_replaced_month").exists()
    [failed] = LogEntry.objects.get_for_object(refused).filter(additional_data__event="ingestion_run_failed")
    assert failed.additional_data["reason"] == refused.error  # the merge's failure, audited once

    run = ingestion_run_create(source=source, period=JUNE, trigger=RunTrigger.COMMAND, replace_with_nothing=True)
    confirmed = ingestion_run_execute(run=run)
    assert confirmed.status == RunStatus.SUCCEEDED and confirmed.parts == 3, confirmed.error
    assert confirmed.warning == (f"No records read for 2025-06 (0 rows read, 0 of them skipped): the {len(kept):,} "
                                 "records read before were replaced with nothing, as confirmed.")
    assert records(source) == [] and not MonthlyCost.objects.filter(month=JUNE.start).exists()
    emptied = LogEntry.objects.get_for_object(confirmed).get(additional_data__event="ingestion_run_replaced_month")
    assert (emptied.additional_data["records_replaced"], emptied.additional_data["records_written"]) == (len(kept), 0)


def test_a_redelivered_part_replaces_its_own_staged_rows(tmp_path, initiatives, monkeypatch):
    write_focus(tmp_path / "whole.csv", range(ROWS))
    write_parts(tmp_path / "june", ROWS, 4)
    whole = focus_source("whole", tmp_path / "whole.csv", initiatives)
    split = focus_source("split", tmp_path / "june" / "part-*.csv", initiatives)
    assert run_month(whole).status == RunStatus.SUCCEEDED
    sent = []
    monkeypatch.setattr(parts, "ingestion_run_parts_send", lambda *, run_id: sent.append(run_id))
    run = split_only(split)  # its part tasks are ours to run, in any order, some twice
    assert sent == [run.pk] and run.status == RunStatus.RUNNING and run.parts == 4

    def staged(number: int) -> int:
        with connection.cursor() as cursor:
            cursor.execute(f'SELECT count(*) FROM "{parts.staging_table(run.pk)}" WHERE part = %s', [number])
            return cursor.fetchone()[0]

    for number in (2, 1, 2, 4, 3, 3):
        part = parts.ingestion_run_part_execute(run_id=run.pk, number=number)
        assert part is not None and part.done and not part.error
    size = ROWS // 4
    ai_rows = [sum(1 for i in range((n - 1) * size, n * size) if i % 3 != 2) for n in range(1, 5)]
    assert [staged(n) for n in range(1, 5)] == ai_rows  # parts 2 and 3, read twice, staged once
    merged = parts.ingestion_run_merge(run_id=run.pk)

    assert merged.status == RunStatus.SUCCEEDED, merged.error
    assert records(split) == records(whole)
    assert merged.rows_written == ROWS - ROWS // 3
    assert staging_tables() == []
    assert parts.ingestion_run_merge(run_id=run.pk).status == RunStatus.SUCCEEDED  # a redelivered merge: no-op
    assert records(split) == records(whole)


def test_a_split_run_is_judged_by_its_parts_heartbeat_and_its_staging_dropped_when_it_expires(
    tmp_path, initiatives, monkeypatch
):
    write_parts(tmp_path / "june", 400, 2)
    source = focus_source("split", tmp_path / "june", initiatives)
    monkeypatch.setattr(parts, "ingestion_run_parts_send", lambda *, run_id: None)  # a lost message
    run = split_only(source)
    assert run.status == RunStatus.RUNNING and staging_tables() == [parts.staging_table(run.pk)]

    assert ingestion_runs_expire_stale() == 0  # no worker holds it, but its heartbeat is fresh: alive
    IngestionRun.objects.filter(pk=run.pk).update(heartbeat_at=timezone.now() - timedelta(hours=3))
    assert ingestion_runs_expire_stale() == 1
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED and "did not finish" in run.error
    assert staging_tables() == []
    assert not CostRecord.objects.filter(source=source).exists()


# Real workers ---------------------------------------------------------------------------------------------------------


def subprocess_env() -> dict[str, str]:
    db = connection.settings_dict
    host = f"{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
    url = f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{host}/{db['NAME']}"
    return {**os.environ, "DATABASE_URL": url, "PYTHONPATH": str(paths.REPO),
            "DJANGO_SETTINGS_MODULE": "tollgate.settings", "CELERY_TASK_ALWAYS_EAGER": "0"}


@pytest.fixture
def two_workers(tmp_path):
    """Two real Celery workers (prefork, one child each) in their own process groups, ready to take tasks."""
    processes, logs = [], []
    for name in ("left", "right"):
        log_path = tmp_path / f"worker-{name}.log"
        log = log_path.open("w")
        logs.append((log, log_path))
        processes.append(subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "tollgate", "worker", "--pool", "prefork", "--concurrency", "1",
             "--without-mingle", "--without-gossip", "--loglevel", "INFO", "--hostname",
             f"{name}-{os.getpid()}@%h"],
            env=subprocess_env(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True, cwd=paths.REPO,
        ))
    deadline = time.monotonic() + 60
    while not all("ready." in path.read_text() for _, path in logs):
        assert time.monotonic() < deadline, "the workers did not start within 60 s"
        time.sleep(0.2)
    yield processes
    for process in processes:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
    for log, _ in logs:
        log.close()


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_two_real_workers_share_the_parts_of_a_month(tmp_path, two_workers):
    rows = 80_000  # eight parts of 10,000 rows: long enough that an idle worker takes the next one
    write_focus(tmp_path / "whole.csv", range(rows))
    write_parts(tmp_path / "june", rows, 8)
    initiatives = [InitiativeFactory(external_id=f"INV-00{i}") for i in range(1, 4)]
    whole = focus_source("whole", tmp_path / "whole.csv", initiatives)
    split = focus_source("split", tmp_path / "june" / "part-*.csv", initiatives)
    assert run_month(whole).status == RunStatus.SUCCEEDED

    run = ingestion_run_submit(source=split, period=JUNE, trigger=RunTrigger.SCHEDULE)
    deadline = time.monotonic() + 120
    while (run := IngestionRun.objects.get(pk=run.pk)).in_progress:
        assert time.monotonic() < deadline, "the run did not finish within 120 s"
        time.sleep(0.2)

    assert run.status == RunStatus.SUCCEEDED, run.error
    workers = set(run.file_parts.values_list("worker", flat=True))
    assert len(workers) == 2, workers  # both worker processes read parts
    assert records(split) == records(whole)
    assert run.rows_written == rows - rows // 3 and staging_tables() == []
    assert CostRecord.objects.filter(source=split).aggregate(n=Count("id"))["n"] == run.rows_written
    assert date(2025, 6, 1) == run.period


def test_a_split_runs_warning_names_the_rows_each_file_billed_elsewhere(tmp_path, initiatives):
    """A run of one file says which rows it skipped as billed in another month; a month in several files says it too,
    file by file, instead of succeeding silently with fewer rows."""
    header, *rows = (paths.FIXTURES / "costs" / "focus_1_2.csv").read_text().splitlines()
    late = rows[1].replace("2025-06-01T00:00:00Z,2025-07-01T00:00:00Z", "2025-07-01T00:00:00Z,2025-08-01T00:00:00Z")
    assert late != rows[1]
    folder = tmp_path / "2025-06"
    folder.mkdir()
    (folder / "part-1.csv").write_text("\n".join([header, rows[0]]) + "\n")
    (folder / "part-2.csv").write_text("\n".join([header, late, *rows[2:]]) + "\n")
    source = focus_source("split", tmp_path / "{period}" / "part-*.csv", initiatives)

    run = run_month(source)

    assert run.status == RunStatus.SUCCEEDED, run.error
    assert run.parts == 2
    assert run.warning == ("part-2.csv: 1 row billed in another period (2025-07) skipped: it belongs to that month's "
                           "export.")
    assert list(run.file_parts.values_list("number", "notes")) == [
        (1, ""), (2, "1 row billed in another period (2025-07) skipped: it belongs to that month's export.")]
