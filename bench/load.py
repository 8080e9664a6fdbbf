"""Benchmark: the production stack under a bounded load, the same run as tests/stack/test_stack.py.

    .venv/bin/python bench/load.py                     # 20 users for 60 s; BENCH_USERS / BENCH_SECONDS to change
    nice -n -15 .venv/bin/python bench/load.py         # as root, ahead of other work: nearer an idle machine's figures

Starts README's production commands (tests/stack/harness.py: gunicorn with 4 workers, two Celery workers, beat) on
a new PostgreSQL database loaded with the demo company, on the server of BENCH_DATABASE_URL or DATABASE_URL, and the
Redis database of REDIS_URL (emptied before and after: give it one nobody else uses). Then locust, headless on
loopback: logged-in people of every role reading the dashboard, the portfolio list and initiative pages, and API
clients with a token (tests/stack/locustfile.py), all started at once. Prints p50/p95 per endpoint and overall, the
number of failed requests (the test requires none), the load average and the command; first the same for one person
and then one API client alone, 15 s each (BENCH_ALONE_SECONDS): what a request costs without the queue. The stack
is dropped after.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> int:
    from tests.stack.harness import ProductionStack

    server = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("DATABASE_URL") or ""
    redis_url = os.environ.get("REDIS_URL") or os.environ.get("CELERY_BROKER_URL") or ""
    if not server.startswith("postgres") or not redis_url.startswith("redis"):
        print("bench/load.py needs PostgreSQL and Redis: set DATABASE_URL=postgres://... and REDIS_URL=redis://...")
        return 2
    users = int(os.environ.get("BENCH_USERS", "20"))
    seconds = int(os.environ.get("BENCH_SECONDS", "60"))
    print(f"Load: {users} users for {seconds} s against the production stack (load average before "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())})", flush=True)
    with tempfile.TemporaryDirectory(prefix="tollgate-load-") as workdir:
        stack = ProductionStack(server_url=server, redis_url=redis_url, workdir=Path(workdir),
                                database_name=f"tollgate_bench_load_{os.getpid()}")
        try:
            stack.start()
            print("stack up: " + ", ".join(f"{k} {v:.0f} s" for k, v in stack.timings.items()), flush=True)
            # One user alone first (a person, then an API client): what a request costs without the others' queue.
            alone = int(os.environ.get("BENCH_ALONE_SECONDS", "15"))
            person = stack.run_load(users=1, seconds=alone, classes=("Executive",))
            script = stack.run_load(users=1, seconds=alone, classes=("ApiClient",))
            result = stack.run_load(users=users, seconds=seconds)
        finally:
            stack.stop()
    print(f"one person alone (executive):\n{person.table()}\n\none API client alone:\n{script.table()}\n")
    print(result.table())
    print(f"command: {result.command}")
    if result.exit_code != 0 or result.failures:
        print(f"FAILED requests: {result.failures[:10]}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
