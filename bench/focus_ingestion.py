"""Benchmark: full FOCUS ingestion (read, filter, allocate, write, roll up) against a raw PostgreSQL COPY.

    make bench                       # 1,000,000 rows, three alternating runs of ingestion and COPY, medians
    BENCH_ROWS=200000 make bench     # quicker
    BENCH_REPEAT=1 make bench        # one run of each

Runs on PostgreSQL (BENCH_DATABASE_URL, or DATABASE_URL if it is PostgreSQL, else a local tollgate_bench database
it creates). The ingestion runs in a child process so its peak memory (max RSS) is measured on its own.
Targets (issue 5): ingestion within 3x of COPY, under 60 s, peak memory under 1 GiB.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / ".data"
sys.path.insert(0, str(ROOT))


def database_url() -> str:
    url = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("DATABASE_URL") or ""
    if url.startswith(("postgres://", "postgresql://")):
        return url
    return "postgres://postgres@127.0.0.1:5432/tollgate_bench"


def ensure_database(url: str) -> None:
    import psycopg
    from psycopg import sql

    name = url.rsplit("/", 1)[1].split("?")[0]
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def raw_copy_seconds(url: str, path: Path) -> float:
    """COPY the same file into a table of the same width: the floor any loader is measured against."""
    import psycopg

    with path.open(encoding="utf-8") as handle:
        width = len(handle.readline().split(","))
    columns = ", ".join(f"c{i} text" for i in range(width))
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_focus_raw")
        conn.execute(f"CREATE TABLE bench_focus_raw ({columns})")
        started = time.perf_counter()
        with conn.cursor() as cur, cur.copy("COPY bench_focus_raw FROM STDIN (FORMAT csv, HEADER true)") as copy:
            with path.open("rb") as handle:
                while chunk := handle.read(1 << 20):
                    copy.write(chunk)
        elapsed = time.perf_counter() - started
        conn.execute("DROP TABLE bench_focus_raw")
    return elapsed


def child_ingest(path: str) -> None:
    """In the child: migrate, set up a source with rules, then time one ingestion run of the file."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tollgate.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from bench.generate_focus import PERIOD, PROJECTS
    from portfolio.choices import RunStatus
    from portfolio.costs.services.runs import ingestion_run_create, ingestion_run_execute
    from portfolio.models import AllocationRule, CostRecord, CostSource, Department, Initiative
    from portfolio.services import department_get_or_create, initiative_create, person_get_or_create

    owner, _ = person_get_or_create(email="bench.owner@example.com")
    department = Department.objects.first() or department_get_or_create(name="Bench")
    source, _ = CostSource.objects.get_or_create(name="bench-focus", defaults={"type": "focus"})
    CostRecord.objects.filter(source=source).delete()
    for i, project in enumerate(PROJECTS[:20]):
        initiative = Initiative.objects.filter(external_id=f"BENCH-{i:02d}").first() or initiative_create(
            actor=None, name=f"Bench initiative {i}", department=department, owner=owner,
            external_id=f"BENCH-{i:02d}")
        AllocationRule.objects.get_or_create(source=source, order=i, defaults={
            "key": "tag:project", "match": "exact", "value": project, "initiative": initiative})
    run = ingestion_run_create(source=source, period=PERIOD, trigger="command")
    started = time.perf_counter()
    run = ingestion_run_execute(run=run, path=path)
    elapsed = time.perf_counter() - started
    if run.status != RunStatus.SUCCEEDED:
        raise SystemExit(f"ingestion failed: {run.error}")
    print(json.dumps({"seconds": elapsed, "rows_read": run.rows_read, "rows_written": run.rows_written,
                      "rows_skipped": run.rows_skipped, "unallocated": str(run.unallocated_amount)}))


def main() -> None:
    rows = int(os.environ.get("BENCH_ROWS", "1000000"))
    url = database_url()
    ensure_database(url)
    path = DATA / f"focus-{rows}.csv"
    if not path.exists():
        started = time.perf_counter()
        from bench.generate_focus import generate

        generate(path, rows)
        print(f"generated {path.name} ({path.stat().st_size / 2**20:.0f} MiB) in {time.perf_counter() - started:.1f} s")
    repeat = max(1, int(os.environ.get("BENCH_REPEAT", "3")))
    load_before = os.getloadavg()[0]
    runs = []
    for _ in range(repeat):  # ingestion and COPY alternate, so a change in the machine's load hits both alike
        result, usage = ingest_in_child(url, path)
        runs.append((result, usage, raw_copy_seconds(url, path)))
    print(f"FOCUS ingestion benchmark, {rows:,} rows ({result['rows_written']:,} AI rows written, "
          f"{result['rows_skipped']:,} skipped), PostgreSQL, {repeat} run(s)")
    for n, (result, usage, copy_seconds) in enumerate(runs, start=1):
        print(f"  run {n}: ingestion {result['seconds']:.1f} s, COPY {copy_seconds:.1f} s, "
              f"ratio {result['seconds'] / copy_seconds:.2f}x, max RSS {usage.ru_maxrss / 1024:.0f} MiB")
    ingest = statistics.median(result["seconds"] for result, _, _ in runs)
    copy = statistics.median(copy_seconds for _, _, copy_seconds in runs)
    peak_mib = max(usage.ru_maxrss for _, usage, _ in runs) / 1024  # Linux reports KiB
    cpu_seconds = statistics.median(usage.ru_utime + usage.ru_stime for _, usage, _ in runs)
    print(f"  full ingestion (read, filter, allocate, write, roll up): {ingest:.1f} s   (median; target < 60 s)")
    print(f"  raw COPY of the same file:                             {copy:.1f} s   (median)")
    print(f"  ratio ingestion / COPY:                                {ingest / copy:.2f}x   (target <= 3x)")
    print(f"  ingestion peak memory (max RSS of its process):        {peak_mib:.0f} MiB   (target < 1024 MiB)")
    print(f"  ingestion process CPU time (user + system):            {cpu_seconds:.1f} s   (median; with Django "
          "start-up and setup)")
    print(f"  unallocated spend:                                     ${float(result['unallocated']):,.2f}")
    print(f"  machine load average (1 min) before / after:           {load_before:.1f} / {os.getloadavg()[0]:.1f}"
          f"   ({os.cpu_count()} CPUs; figures are only comparable on an otherwise idle machine)")


def ingest_in_child(url: str, path: Path) -> tuple[dict, Any]:
    """One timed ingestion in a fresh process, so its peak memory (max RSS) is its own."""
    env = {**os.environ, "DATABASE_URL": url}
    env.pop("CELERY_BROKER_URL", None)
    env.pop("REDIS_URL", None)
    child = subprocess.Popen([sys.executable, __file__, "--child-ingest", str(path)], env=env,
                             stdout=subprocess.PIPE, text=True, cwd=ROOT)
    assert child.stdout is not None  # stdout=PIPE
    output = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    if status != 0:
        raise SystemExit(f"ingestion child failed ({status}): {output}")
    return json.loads(output.strip().splitlines()[-1]), usage


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child-ingest":
        child_ingest(sys.argv[2])
    else:
        main()
