"""Cost records have no foreign-key constraints in the database: their references are checked once per write and held
(portfolio/costs/services/references.py), and deleting what they name still follows the on_delete rules."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import psycopg
import pytest
from django.conf import settings as django_settings
from django.db import connection, transaction

from portfolio.choices import RunStatus, RunTrigger, SourceType
from portfolio.costs.connectors.base import ConnectorError, Period
from portfolio.costs.services import allocation, parts
from portfolio.costs.services.references import REFERENCE_CHUNK, cost_references_lock
from portfolio.costs.services.runs import ingestion_run_create, ingestion_run_execute
from portfolio.costs.services.sources import cost_source_delete
from portfolio.models import CostRecord, IngestionRun, Initiative, MonthlyCost
from tests import paths
from tests.factories import InitiativeFactory
from tests.portfolio.costs.factories import (
    AllocationRuleFactory,
    CostRecordFactory,
    CostSourceFactory,
    CurrencyRateFactory,
)
from tests.portfolio.costs.focus_data import PROJECTS, write_parts

JUNE = Period.month(2025, 6)
GONE = 10**12  # an initiative id nothing has


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def test_the_foreign_keys_of_cost_records_are_not_database_constraints():
    fields = {f.name: f for f in CostRecord._meta.concrete_fields}
    assert not any(fields[name].db_constraint for name in ("source", "run", "initiative"))


def test_cost_records_carry_only_the_two_composite_indexes_and_their_key(db):
    """Every index costs time on each row a run or a merge writes: (source, period) and (initiative, period) serve
    every lookup, and nothing looks records up by their run."""
    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, CostRecord._meta.db_table)
    indexed = sorted(tuple(c["columns"]) for c in found.values() if c["index"] or c["primary_key"])
    assert indexed == [("id",), ("initiative_id", "period"), ("source_id", "period")]


def test_existing_references_pass_and_a_missing_one_is_named(db):
    initiative = InitiativeFactory()
    source = CostSourceFactory()
    cost_references_lock(initiative_ids=[initiative.pk, initiative.pk], source_id=source.pk)

    with pytest.raises(ConnectorError, match=f"initiative {GONE} no longer exists"):
        cost_references_lock(initiative_ids=[initiative.pk, GONE])
    with pytest.raises(ConnectorError, match=f"cost source {GONE} no longer exists"):
        cost_references_lock(initiative_ids=[], source_id=GONE)
    with pytest.raises(ConnectorError, match=f"ingestion run {GONE} no longer exists"):
        cost_references_lock(initiative_ids=[], run_id=GONE)


def test_many_ids_are_checked_in_chunks(db):
    initiative = InitiativeFactory()
    wanted = [initiative.pk, *range(GONE, GONE + REFERENCE_CHUNK * 2)]
    with pytest.raises(ConnectorError, match=f"initiative {GONE} no longer exists"):
        cost_references_lock(initiative_ids=wanted)
    last = GONE + REFERENCE_CHUNK * 2 - 1  # in the third chunk: every chunk is read
    with pytest.raises(ConnectorError, match=f"initiative {last} no longer exists"):
        cost_references_lock(initiative_ids=[initiative.pk, last])


def records_of(source) -> list[tuple]:
    return sorted(CostRecord.objects.filter(source=source).values_list("charge_date", "amount", "initiative_id"),
                  key=repr)


def allocate_to_nothing(monkeypatch) -> None:
    """Every record allocated to an initiative that does not exist (as if it was deleted while the run read)."""
    monkeypatch.setattr(allocation.Allocator, "allocate", lambda self, keys: GONE)


@pytest.mark.parametrize("fixture", ["focus_1_2.csv", "plain_costs.csv"])  # column-wise and row by row
def test_a_run_naming_a_missing_initiative_fails_and_writes_nothing(db, monkeypatch, fixture):
    source_type = SourceType.FOCUS if fixture.startswith("focus") else SourceType.CSV
    source = CostSourceFactory(name=f"refs-{fixture}", type=source_type)
    InitiativeFactory(external_id="INV-0001")
    CurrencyRateFactory(currency="EUR", valid_from=date(2025, 6, 1), rate_to_reporting=Decimal("1.10"))
    path = paths.FIXTURES / "costs" / fixture
    first = ingestion_run_execute(run=ingestion_run_create(source=source, period=JUNE, trigger=RunTrigger.COMMAND),
                                  path=path)
    assert first.status == RunStatus.SUCCEEDED and first.rows_written
    kept = records_of(source)
    rolled = sorted(MonthlyCost.objects.values_list("initiative_id", "category", "amount"), key=repr)

    allocate_to_nothing(monkeypatch)
    run = ingestion_run_execute(run=ingestion_run_create(source=source, period=JUNE, trigger=RunTrigger.COMMAND),
                                path=path)

    assert run.status == RunStatus.FAILED
    assert f"initiative {GONE} no longer exists" in run.error and "none were written" in run.error
    assert sorted(CostRecord.objects.filter(source=source).values_list(
        "charge_date", "amount", "initiative_id")) == kept
    assert sorted(MonthlyCost.objects.values_list("initiative_id", "category", "amount"), key=repr) == rolled


@pytest.mark.postgres
def test_a_month_in_parts_naming_a_missing_initiative_fails_at_the_merge(tmp_path, db, monkeypatch):
    write_parts(tmp_path / "june", 600, 3)
    source = CostSourceFactory(name="refs-parts", type=SourceType.FOCUS,
                               settings={"path": str(tmp_path / "june" / "part-*.csv")})
    for order, project in enumerate(PROJECTS, start=1):
        AllocationRuleFactory(source=source, order=order, key="tag:project", value=project,
                              initiative=InitiativeFactory())
    allocate_to_nothing(monkeypatch)
    run = ingestion_run_execute(run=ingestion_run_create(source=source, period=JUNE, trigger=RunTrigger.COMMAND))

    assert run.parts == 3 and run.status == RunStatus.FAILED
    assert f"initiative {GONE} no longer exists" in run.error
    assert not CostRecord.objects.filter(source=source).exists()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_tables WHERE tablename LIKE %s", [parts.STAGING_PREFIX + "%"])
        assert cursor.fetchone()[0] == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_checked_initiative_cannot_be_deleted_until_the_records_commit():
    initiative = InitiativeFactory()
    database = django_settings.DATABASES["default"]
    other = psycopg.connect(host=database["HOST"] or "127.0.0.1", port=database["PORT"] or 5432,
                            user=database["USER"], password=database["PASSWORD"] or None, dbname=database["NAME"],
                            autocommit=True)
    try:
        other.execute("SET lock_timeout = '300ms'")
        with transaction.atomic():
            cost_references_lock(initiative_ids=[initiative.pk])
            with pytest.raises(psycopg.errors.LockNotAvailable):  # held FOR KEY SHARE, as a constraint's check is
                other.execute("DELETE FROM portfolio_initiative WHERE id = %s", [initiative.pk])
        other.execute("UPDATE portfolio_initiative SET name = name WHERE id = %s", [initiative.pk])  # released
    finally:
        other.close()


def test_deleting_what_records_name_follows_the_on_delete_rules(db):
    initiative = InitiativeFactory()
    kept = CostRecordFactory(initiative=initiative)
    gone = CostRecordFactory()
    Initiative.objects.filter(pk=initiative.pk).delete()
    kept.refresh_from_db()
    assert kept.initiative_id is None  # SET_NULL, applied by Django
    gone.source.delete()
    assert not CostRecord.objects.filter(pk=gone.pk).exists()  # CASCADE


def test_deleting_a_source_takes_its_runs_and_the_records_naming_them_and_leaves_other_sources(db):
    """The run key has no index, so the SET_NULL Django applies to the records of the deleted runs scans the table; it
    must still touch nothing of another source."""
    source, other = CostSourceFactory(name="going"), CostSourceFactory(name="staying")
    runs = {s: ingestion_run_create(source=s, period=JUNE, trigger=RunTrigger.COMMAND) for s in (source, other)}
    for s, run in runs.items():
        CostRecordFactory(source=s, run=run, period=JUNE.start)
    cost_source_delete(actor=None, source=source)
    assert not CostRecord.objects.filter(source_id=source.pk).exists()
    assert not IngestionRun.objects.filter(pk=runs[source].pk).exists()
    assert list(CostRecord.objects.values_list("source_id", "run_id")) == [(other.pk, runs[other].pk)]
