"""FOCUS batches written column-wise (portfolio/costs/connectors/focus_columns.py) give exactly the records the row path
gives, and batches the column-wise path cannot prove safe (another currency, a bad value) take the row path."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from portfolio.choices import RunStatus, RunTrigger, SourceType
from portfolio.costs.connectors import focus
from portfolio.costs.connectors.base import Period
from portfolio.costs.services.runs import ingestion_run_create, ingestion_run_execute
from portfolio.models import CostRecord
from tests.factories import InitiativeFactory
from tests.portfolio.costs.factories import AllocationRuleFactory, CostSourceFactory, CurrencyRateFactory
from tests.portfolio.costs.focus_data import PROJECTS, write_focus

pytestmark = pytest.mark.postgres  # the column-wise COPY is PostgreSQL's; SQLite takes the row path

JUNE = Period.month(2025, 6)
ROWS = 4_000
FIELDS = ("charge_date", "amount", "amount_reporting", "billed_amount", "currency", "category", "keys",
          "service_name", "model", "description", "quantity", "unit", "gpu_hours", "initiative_id")


def ingest(name: str, path, initiatives) -> tuple:
    source = CostSourceFactory(name=name, type=SourceType.FOCUS)
    for order, (project, initiative) in enumerate(zip(PROJECTS, initiatives, strict=False), start=1):
        AllocationRuleFactory(source=source, order=order, key="tag:project", value=project, initiative=initiative)
    AllocationRuleFactory(source=source, order=9, key="resource_id", value='/res/0"q', initiative=initiatives[0])
    run = ingestion_run_execute(run=ingestion_run_create(source=source, period=JUNE, trigger=RunTrigger.COMMAND),
                                path=path)
    assert run.status == RunStatus.SUCCEEDED, run.error
    rows = sorted(CostRecord.objects.filter(source=source).values_list(*FIELDS), key=repr)
    return run, rows


@pytest.fixture
def spy(monkeypatch):
    """How many batches went column-wise, and how many took the row path."""
    counts = {"columns": 0, "rows": 0}
    original = focus.cost_columns

    def counted(*args, **kwargs):
        result = original(*args, **kwargs)
        counts["columns" if result is not None else "rows"] += 1
        return result

    monkeypatch.setattr(focus, "cost_columns", counted)
    monkeypatch.setattr(focus, "CSV_BLOCK_BYTES", 32 * 1024)  # many batches, so some take each path
    return counts


def test_column_wise_batches_write_the_records_the_row_path_writes(db, tmp_path, spy, monkeypatch):
    initiatives = [InitiativeFactory(external_id=f"INV-00{i}") for i in range(1, 4)]
    CurrencyRateFactory(currency="EUR", valid_from=date(2025, 1, 1), rate_to_reporting=Decimal("1.1"))
    eur = {n: ("BillingCurrency", "eur") for n in range(2_000, 2_010)}  # those batches convert row by row
    path = tmp_path / "june.csv"
    write_focus(path, range(ROWS), bad=eur)

    fast, fast_rows = ingest("columns", path, initiatives)
    assert spy["columns"] > 10 and spy["rows"] == 0  # every batch qualified; the EUR ones fall back in the writer
    monkeypatch.setattr(focus.FocusConnector, "reads_columns", False)
    slow, slow_rows = ingest("rows", path, initiatives)

    assert fast_rows == slow_rows and len(fast_rows) == ROWS - ROWS // 3
    assert (fast.rows_read, fast.rows_skipped, fast.rows_written, fast.unallocated_amount) == (
        slow.rows_read, slow.rows_skipped, slow.rows_written, slow.unallocated_amount)
    assert {row[4] for row in fast_rows} == {"USD", "EUR"}
    by_resource = {row[6]["resource_id"]: row[-1] for row in fast_rows if row[6].get("resource_id") == '/res/0"q'}
    assert by_resource == {'/res/0"q': initiatives[0].pk}  # a key with a quote, JSON-escaped, still allocates
    assert any(row[1] != Decimal(str(row[1])).quantize(Decimal("0.01")) for row in fast_rows)  # 6 decimals kept


def test_a_bad_value_takes_the_row_path_which_names_row_and_column(db, tmp_path, spy):
    path = tmp_path / "june.csv"
    write_focus(path, range(ROWS), bad={3_000: ("EffectiveCost", "12,50")})
    source = CostSourceFactory(name="bad", type=SourceType.FOCUS)

    run = ingestion_run_execute(run=ingestion_run_create(source=source, period=JUNE), path=path)

    assert run.status == RunStatus.FAILED
    assert spy["rows"] == 1 and spy["columns"] > 5
    assert "june.csv row 3002 column EffectiveCost" in run.error
    assert not CostRecord.objects.filter(source=source).exists()


def test_an_amount_too_large_takes_the_row_path_which_names_row_and_column(db, tmp_path, spy):
    path = tmp_path / "june.csv"
    write_focus(path, range(ROWS), bad={3_000: ("EffectiveCost", "1000000000000")})
    source = CostSourceFactory(name="big", type=SourceType.FOCUS)

    run = ingestion_run_execute(run=ingestion_run_create(source=source, period=JUNE), path=path)

    assert run.status == RunStatus.FAILED
    assert run.error.startswith("june.csv row 3002 column EffectiveCost: '1000000000000' is too large")
    assert not CostRecord.objects.filter(source=source).exists()
