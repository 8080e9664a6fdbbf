"""Benchmark: possible duplicates while an owner types an intake, on 10,000 generated initiatives.

    .venv/bin/python bench/possible_duplicates.py [--count 10000] [--warm]

Writes bench/sprawl_scale.py's generated portfolio into a fresh SQLite database and stores its embeddings the way
the sprawl recomputation does (timed apart: that is the job's work, not a lookup's). Then requests the intake form's
fragment (governance:draft_duplicates) through Django's test client, logged in as an owner, for a sequence of drafts
as they are typed, and prints the first lookup (it builds the process's portfolio index) and the median of the rest.
Every statement of the lookups is captured: any INSERT, UPDATE or DELETE is reported (a GET writes nothing).
Target (issue 13): under 300 ms per lookup after the first. `--warm` first builds the index as a gunicorn worker does
when it starts (analysis.warm_portfolio_index, gunicorn.conf.py) and times that apart: the first lookup is then what
the first owner to type waits.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.sprawl_setup import django_on_throwaway_sqlite  # noqa: E402

# What an owner types, one request per pause: a name, then the purpose word by word, then the structure.
TYPED: list[dict[str, str | int]] = [
    {"name": "Invoice"},
    {"name": "Invoice reader"},
    {"name": "Invoice reader", "description": "Extract"},
    {"name": "Invoice reader", "description": "Extract fields from supplier"},
    {"name": "Invoice reader", "description": "Extract fields from supplier invoices into the ERP"},
    {"name": "Invoice reader", "description": "Extract fields from supplier invoices into the ERP", "department": 1},
    {"name": "Invoice reader", "description": "Extract fields from supplier invoices into the ERP", "department": 1,
     "vendors": 1},
    {"name": "Meeting"},
    {"name": "Meeting minutes bot"},
    {"name": "Meeting minutes bot", "description": "Summarises calls"},
    {"name": "Meeting minutes bot", "description": "Summarises calls and lists the action items"},
    {"name": "Meeting minutes bot", "description": "Summarises calls and lists the action items", "department": 3},
]
WRITES = ("INSERT", "UPDATE", "DELETE")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--warm", action="store_true", help="build the index ahead, as each web worker does")
    args = parser.parse_args()
    os.environ["ALLOWED_HOSTS"] = "testserver"
    django_on_throwaway_sqlite("tollgate-duplicates-")
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from bench.sprawl_scale import create_portfolio
    from governance.sprawl import analysis
    from portfolio.models import Initiative
    from tollgate.roles import Role

    call_command("migrate", "--noinput", "-v", "0")  # loads the use-case catalogue too
    create_portfolio(args.count)
    print(f"Possible duplicates while typing: {args.count:,} generated initiatives")

    started = time.perf_counter()
    analysis.catalogue_index(store=True)
    analysis.purpose_vectors(analysis._items(analysis._initiatives()))
    print(f"  catalogue and initiative embeddings stored as the recomputation does: "
          f"{time.perf_counter() - started:.0f}s (the job's work, not a lookup's)")

    from django.contrib.auth.models import Group

    first = Initiative.objects.order_by("pk").first()
    if first is None:
        raise SystemExit(f"no initiative in the generated portfolio (--count {args.count})")
    owner = first.owner
    owner.groups.add(Group.objects.get_or_create(name=Role.OWNER.value)[0])
    client = Client()
    client.force_login(owner)
    url = reverse("governance:draft_duplicates")

    if args.warm:
        started = time.perf_counter()
        analysis.warm_portfolio_index().join()
        print(f"  index built ahead (a worker's warm-up): {(time.perf_counter() - started) * 1000:,.0f} ms")
    times, statements = [], []
    for draft in TYPED:
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            response = client.get(url, draft)
            times.append(time.perf_counter() - started)
        assert response.status_code == 200, response.status_code
        assert b"possible-duplicates" in response.content, "no duplicates listed"
        statements.append(len(queries))
        writes = [q["sql"][:80] for q in queries if q["sql"].lstrip().upper().startswith(WRITES)]
        assert not writes, f"a lookup wrote to the database: {writes}"
    rest = times[1:]
    first_label = "first lookup (index built ahead):" if args.warm else "first lookup (builds the index):"
    print(f"  {first_label:34}{times[0] * 1000:,.0f} ms")
    print(f"  per lookup after the first:       median {statistics.median(rest) * 1000:,.0f} ms, "
          f"max {max(rest) * 1000:,.0f} ms over {len(rest)} (target < 300 ms)")
    print(f"  queries per lookup:               at most {max(statements[1:])}; writes: none")


if __name__ == "__main__":
    main()
