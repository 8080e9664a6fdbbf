"""Benchmark: the inventory import of a 5,000-row file, as `import_initiatives` runs it.

    make bench                                     # part of the benchmarks
    .venv/bin/python bench/inventory_import.py     # alone; BENCH_ROWS=1000 is quicker

On a throw-away SQLite database (migrated, no demo company), writes a file of BENCH_ROWS rows (default 5,000) shaped
like a customer's inventory: 20 departments with two cost centers each, 50 owners, a few vendors and models, a
licence pool on every tenth row. Then runs the command three times, as an operator would: `--dry-run`, the import,
and the same file again (every row unchanged), printing each one's wall time and SQL query count. The import itself
runs in-process; the recomputations it queues afterwards (sprawl, signals) are switched off, as they are a worker's
job in production and not the import's.
"""

from __future__ import annotations

import csv
import io
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.sprawl_setup import django_on_throwaway_sqlite  # noqa: E402

ROWS = int(os.environ.get("BENCH_ROWS", "5000"))
VENDORS = ("OpenAI", "Anthropic", "Microsoft", "Google", "AWS", "Cohere")
MODELS = ("gpt-4o", "claude-3-5-sonnet", "gemini-1.5-pro", "command-r", "titan-text", "whisper-large")
STAGES = ("proposed", "in_review", "approved", "pilot", "production", "retired")


def inventory(rows: int) -> bytes:
    """The file: every value varies with the row number, so each row creates one initiative."""
    from portfolio.services.inventory_import import COLUMNS

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for i in range(rows):
        department = i % 20
        writer.writerow([
            f"BENCH-{i:05d}", f"Bench initiative {i} for ledger reconciliation", f"Automates step {i}",
            f"Department {department}", f"CC-{department:02d}{i % 2}" if i % 3 else "",
            f"owner{i % 50}@example.com", STAGES[i % len(STAGES)], "other",
            f"{VENDORS[i % len(VENDORS)]}; {VENDORS[(i + 1) % len(VENDORS)]}", MODELS[i % len(MODELS)],
            f"2025-{i % 12 + 1:02d}-01", f"{100 + i % 900}.50", str(10 + i % 40) if i % 10 == 0 else "",
        ])
    return out.getvalue().encode()


def timed_command(label: str, path: str, *options: str) -> None:
    from django.core.management import call_command
    from django.db import connection

    queries = 0

    def count(execute, sql, params, many, context):
        nonlocal queries
        queries += 1
        return execute(sql, params, many, context)

    out = io.StringIO()
    started = time.perf_counter()
    with connection.execute_wrapper(count):
        call_command("import_initiatives", path, *options, stdout=out)
    elapsed = time.perf_counter() - started
    summary = out.getvalue().strip().splitlines()[0]  # the reference data it lists below is the same every time
    print(f"  {label}: {elapsed:.1f} s, {queries:,} queries -- {summary}", flush=True)


def main() -> None:
    os.environ["DEBUG"] = "0"
    django_on_throwaway_sqlite("tollgate-import-")
    from django.core.management import call_command

    from portfolio.signals import inventory_changed

    call_command("migrate", "--noinput", "-v", "0")
    # The recomputations an import queues (sprawl, then signals) are a worker's job, not the import's.
    inventory_changed.disconnect(dispatch_uid="governance.sprawl_recompute_after_import")
    content = inventory(ROWS)
    with tempfile.NamedTemporaryFile(suffix=".csv", delete=False) as handle:
        handle.write(content)
    print(f"import_initiatives, {ROWS:,} rows ({len(content) / 1024:.0f} KB), SQLite, Python "
          f"{sys.version.split()[0]}:", flush=True)
    try:
        timed_command("dry run", handle.name, "--dry-run")
        timed_command("import", handle.name)
        timed_command("re-import (unchanged)", handle.name)
    finally:
        os.unlink(handle.name)


if __name__ == "__main__":
    main()
