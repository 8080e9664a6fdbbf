"""Runs of one source and period in separate processes, on PostgreSQL: never counted twice.

Two `ingest` commands at once once took a month from $572,273.51 to $954,827.16 and both "succeeded": each deleted
the period's records (seeing none of the other's uncommitted ones) and wrote its own. At most one run of a
(source, period) now executes at a time; the second waits and then replaces the first's records with its own.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import connection
from django.db.models import Sum

from portfolio.choices import RunStatus, SourceType
from portfolio.models import CostRecord, IngestionRun, MonthlyCost
from tests import paths
from tests.portfolio.costs.factories import CostSourceFactory

JUNE = date(2025, 6, 1)
AMOUNT = Decimal("1.25")


def write_costs(path: Path, rows: int) -> Decimal:
    """A plain cost CSV of June with `rows` lines of AMOUNT each; returns its total."""
    with path.open("w") as out:
        out.write("date,initiative,key,category,amount,currency,quantity,unit\n")
        for i in range(rows):
            out.write(f"2025-06-{i % 30 + 1:02d},,namespace=team-{i % 7},compute,{AMOUNT},USD,,\n")
    return AMOUNT * rows


def subprocess_env() -> dict[str, str]:
    """The environment of a process that works on this test's database (committed data: transaction=True)."""
    db = connection.settings_dict
    host = f"{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
    url = f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{host}/{db['NAME']}"
    return {**os.environ, "DATABASE_URL": url, "PYTHONPATH": str(paths.REPO),
            "DJANGO_SETTINGS_MODULE": "tollgate.settings"}


def month_total(source) -> tuple[Decimal, int]:
    records = CostRecord.objects.filter(source=source, period=JUNE)
    return records.aggregate(total=Sum("amount_reporting"))["total"] or Decimal("0"), records.count()


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
