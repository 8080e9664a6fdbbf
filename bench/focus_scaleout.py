"""Benchmark: a month exported as 4 files, ingested in parts by 1 and by 2 real Celery workers, against PostgreSQL's
own COPY of the same rows, side by side in one run.

    make bench                                   # 1,000,000 rows in 4 parts, three rounds, medians
    BENCH_ROWS=200000 BENCH_REPEAT=1 python bench/focus_scaleout.py

Each round: a raw COPY of the 4 files into a 32-column text table; then a run of the month through the real broker
with 1 worker process (prefork, concurrency 1), then with 2 worker processes (concurrency 1 each), every worker
started fresh so its peak memory (VmHWM of the process executing the tasks) is the run's. The wall time is from
submitting the run until it succeeded: the split, the 4 parts, the merge (the month's swap and roll-ups, committed).
The month's records are deleted before each run (untimed), so each run is a first read of the month, as the COPY
fills an empty table; then the tables the run writes are vacuumed and PostgreSQL checkpoints (untimed, before the
COPY too), so neither side pays for the dead rows of the delete or of the benchmark before it (`make bench` runs
bench/focus_ingestion.py first, into the same table).
Needs PostgreSQL (BENCH_DATABASE_URL as bench/focus_ingestion.py) and Redis (BENCH_REDIS_URL, else REDIS_URL).
Targets (issue 14): 1 worker within 1.5x of COPY, peak memory per worker under 1 GiB.
"""

from __future__ import annotations

import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from portfolio.models import CostSource

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / ".data"
PARTS = 4
sys.path.insert(0, str(ROOT))

from bench.focus_ingestion import database_url, ensure_database  # noqa: E402

T = TypeVar("T")


def known(value: T | None, what: str) -> T:
    """`value`, which a succeeded run has set; a clear error if it is missing."""
    if value is None:
        raise SystemExit(f"the succeeded run has no {what}")
    return value


def split(path: Path, parts: int) -> list[Path]:
    """The file's rows in `parts` files of about equal size, each with the header (as an export's parts come)."""
    folder = path.parent / f"{path.stem}-parts{parts}"
    files = [folder / f"part-{n}.csv" for n in range(1, parts + 1)]
    if all(f.exists() for f in files):
        return files
    folder.mkdir(parents=True, exist_ok=True)
    with path.open("rb") as handle:
        header = handle.readline()
        lines = sum(1 for _ in handle)
    size = -(-lines // parts)
    with path.open("rb") as handle:
        handle.readline()
        for file in files:
            with file.open("wb") as out:
                out.write(header)
                for _ in range(size):
                    line = handle.readline()
                    if not line:
                        break
                    out.write(line)
    return files


def raw_copy_seconds(url: str, files: list[Path]) -> float:
    """COPY the same rows (the 4 files, one after the other) into a table of the same width: the floor."""
    import psycopg

    with files[0].open(encoding="utf-8") as handle:
        width = len(handle.readline().split(","))
    columns = ", ".join(f"c{i} text" for i in range(width))
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_focus_raw")
        conn.execute(f"CREATE TABLE bench_focus_raw ({columns})")
        started = time.perf_counter()
        for file in files:
            with conn.cursor() as cur, cur.copy("COPY bench_focus_raw FROM STDIN (FORMAT csv, HEADER true)") as copy:
                with file.open("rb") as handle:
                    while chunk := handle.read(1 << 20):
                        copy.write(chunk)
        elapsed = time.perf_counter() - started
        conn.execute("DROP TABLE bench_focus_raw")
    return elapsed


def setup_source(pattern: str) -> CostSource:
    """A FOCUS source reading the parts (a glob pattern), with the 20 allocation rules of the single-file bench."""
    from bench.generate_focus import PROJECTS
    from portfolio.models import AllocationRule, CostRecord, CostSource, Department, Initiative
    from portfolio.services import department_get_or_create, initiative_create, person_get_or_create

    owner, _ = person_get_or_create(email="bench.owner@example.com")
    department = Department.objects.first() or department_get_or_create(name="Bench")
    source, _ = CostSource.objects.update_or_create(name="bench-focus-parts",
                                                    defaults={"type": "focus", "settings": {"path": pattern}})
    CostRecord.objects.filter(source=source).delete()
    for i, project in enumerate(PROJECTS[:20]):
        initiative = Initiative.objects.filter(external_id=f"BENCH-{i:02d}").first() or initiative_create(
            actor=None, name=f"Bench initiative {i}", department=department, owner=owner,
            external_id=f"BENCH-{i:02d}")
        AllocationRule.objects.get_or_create(source=source, order=i, defaults={
            "key": "tag:project", "match": "exact", "value": project, "initiative": initiative})
    return source


def settle() -> None:
    """Vacuum what the untimed delete (and an earlier benchmark's runs) left behind, then checkpoint, so a run starts
    as a first read of a month does in production, long after autovacuum passed, and not beside autovacuum clearing
    300,000 dead rows, or a checkpoint flushing them, inside the timed part. COPY is timed after the same."""
    from django.db import DatabaseError, connection

    from portfolio.models import CostRecord, LicencePoolActivity, MonthlyCost, MonthlyTokenUsage

    tables = ", ".join(connection.ops.quote_name(model._meta.db_table)
                       for model in (CostRecord, MonthlyCost, MonthlyTokenUsage, LicencePoolActivity))
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM (ANALYZE) {tables}")
        try:
            cursor.execute("CHECKPOINT")
        except DatabaseError:  # needs a superuser or pg_checkpoint; the vacuum has cleared the dead rows anyway
            pass


def start_workers(count: int, env: dict[str, str], logs: Path) -> list[tuple[subprocess.Popen, Path]]:
    """`count` fresh workers on an empty queue (the jobs an earlier run queued, e.g. the forecast's refresh after
    new costs, are dropped: they would run before this run's tasks)."""
    from tollgate.celery import app

    app.control.purge()
    workers = []
    for n in range(count):
        log = logs / f"worker-{count}-{n}-{time.time_ns()}.log"
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "tollgate", "worker", "--pool", "prefork", "--concurrency", "1",
             "--without-mingle", "--without-gossip", "--loglevel", "INFO", "--hostname", f"bench{n}-{os.getpid()}@%h"],
            env=env, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True, cwd=ROOT,
        )
        workers.append((process, log))
    deadline = time.monotonic() + 120
    while not all("ready." in log.read_text() for _, log in workers):
        if time.monotonic() > deadline:
            raise SystemExit(f"the workers did not start; see {logs}")
        time.sleep(0.1)
    return workers


def peak_rss_mib(pid: int) -> float:
    """The highest VmHWM among a worker's processes (its main process and the pool child executing tasks)."""
    pids = [pid]
    try:
        pids += [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        pass
    peak = 0
    for each in pids:
        try:
            for line in Path(f"/proc/{each}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak = max(peak, int(line.split()[1]))
        except OSError:
            continue
    return peak / 1024


def stop_workers(workers: list[tuple[subprocess.Popen, Path]]) -> None:
    for process, _ in workers:
        os.killpg(process.pid, signal.SIGTERM)
    for process, _ in workers:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def ingest_with_workers(source: CostSource, count: int, env: dict[str, str], logs: Path) -> dict:
    """One run of the month through the broker with `count` fresh worker processes; wall time and peaks."""
    from portfolio.choices import RunStatus
    from portfolio.costs.services.runs import ingestion_run_submit
    from portfolio.models import CostRecord, IngestionRun

    CostRecord.objects.filter(source=source).delete()  # a first read of the month, as COPY fills an empty table
    settle()
    workers = start_workers(count, env, logs)
    try:
        load = os.getloadavg()[0]
        started = time.perf_counter()
        run = ingestion_run_submit(source=source, period="2026-09", trigger="command")
        while (run := IngestionRun.objects.get(pk=run.pk)).in_progress:
            time.sleep(0.02)
        elapsed = time.perf_counter() - started
        if run.status != RunStatus.SUCCEEDED:
            raise SystemExit(f"ingestion with {count} worker(s) failed: {run.error}")
        peaks = [peak_rss_mib(process.pid) for process, _ in workers]
        by_worker = sorted(run.file_parts.values_list("worker", flat=True))
        last_part = max(known(end, "finish time of a part")
                        for end in run.file_parts.values_list("finished_at", flat=True))
    finally:
        stop_workers(workers)
    # The run's own timestamps: from its start until the last part was staged (what workers share), then the merge.
    return {"seconds": elapsed, "peaks": peaks, "parts": by_worker, "load": load, "rows_written": run.rows_written,
            "rows_read": run.rows_read, "reading": (last_part - known(run.started_at, "start time")).total_seconds(),
            "merge": (known(run.finished_at, "finish time") - last_part).total_seconds()}


def main() -> None:
    rows = int(os.environ.get("BENCH_ROWS", "1000000"))
    repeat = max(1, int(os.environ.get("BENCH_REPEAT", "3")))
    url = database_url()
    broker = os.environ.get("BENCH_REDIS_URL") or os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
    ensure_database(url)
    path = DATA / f"focus-{rows}.csv"
    if not path.exists():
        from bench.generate_focus import generate

        generate(path, rows)
    files = split(path, PARTS)
    env = {**os.environ, "DATABASE_URL": url, "CELERY_BROKER_URL": broker, "REDIS_URL": broker,
           "CELERY_RESULT_BACKEND": broker, "CELERY_TASK_ALWAYS_EAGER": "0", "DJANGO_SETTINGS_MODULE":
           "tollgate.settings", "PYTHONPATH": str(ROOT)}
    os.environ.update(env)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    source = setup_source(str(files[0].parent / "part-*.csv"))
    load_before = os.getloadavg()
    rounds = []
    with tempfile.TemporaryDirectory(prefix="bench-workers-") as logs:
        for _ in range(repeat):  # the three alternate, so a change in the machine's load hits all alike
            settle()
            copy = raw_copy_seconds(url, files)
            one = ingest_with_workers(source, 1, env, Path(logs))
            two = ingest_with_workers(source, 2, env, Path(logs))
            rounds.append((copy, one, two))
    print(f"FOCUS scale-out benchmark, {rows:,} rows in {PARTS} files ({one['rows_written']:,} AI rows written), "
          f"PostgreSQL + Redis, real Celery workers, {repeat} round(s)")
    for n, (copy, one, two) in enumerate(rounds, start=1):
        print(f"  round {n}: COPY {copy:.1f} s | 1 worker {one['seconds']:.1f} s ({one['seconds'] / copy:.2f}x, "
              f"peak {max(one['peaks']):.0f} MiB) | 2 workers {two['seconds']:.1f} s ({two['seconds'] / copy:.2f}x, "
              f"peaks {' / '.join(f'{p:.0f}' for p in two['peaks'])} MiB, parts per worker "
              f"{'/'.join(str(two['parts'].count(w)) for w in sorted(set(two['parts'])))}) | load {one['load']:.1f}")
        print(f"           parts read and staged: {one['reading']:.1f} s with 1 worker, {two['reading']:.1f} s with 2; "
              f"merge {one['merge']:.1f} s / {two['merge']:.1f} s")
    copy = statistics.median(c for c, _, _ in rounds)
    one_s = statistics.median(o["seconds"] for _, o, _ in rounds)
    two_s = statistics.median(t["seconds"] for _, _, t in rounds)
    peak = max(max(o["peaks"] + t["peaks"]) for _, o, t in rounds)
    print(f"  raw COPY of the same rows (4 files):         {copy:.1f} s   (median)")
    print(f"  ingestion, 1 worker:                         {one_s:.1f} s   {one_s / copy:.2f}x COPY   "
          "(median; target <= 1.5x)")
    print(f"  ingestion, 2 workers:                        {two_s:.1f} s   {two_s / copy:.2f}x COPY   "
          f"(median; {one_s / two_s:.2f}x the speed of 1 worker)")
    reading_1 = statistics.median(o["reading"] for _, o, _ in rounds)
    reading_2 = statistics.median(t["reading"] for _, _, t in rounds)
    merge = statistics.median(o["merge"] for _, o, _ in rounds)
    print(f"  of which parts read and staged:              {reading_1:.1f} s with 1 worker, {reading_2:.1f} s with 2   "
          f"(median; the merge after them is serial: {merge:.1f} s)")
    print(f"  peak memory of a worker (max VmHWM):         {peak:.0f} MiB   (target < 1024 MiB)")
    print(f"  machine load average (1 min) before / after: {load_before[0]:.1f} / {os.getloadavg()[0]:.1f}   "
          f"({os.cpu_count()} CPUs; PostgreSQL shares them: 2 workers can only gain what the machine has spare)")


if __name__ == "__main__":
    main()
