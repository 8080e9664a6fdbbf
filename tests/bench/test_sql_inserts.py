"""The benchmarks build their large data sets with raw INSERT ... SELECT, which the ORM's defaults never reach: a
column added later as NOT NULL with only a Python default breaks `make bench` without any test noticing (the
signals bench failed so for a while, on sprawl clusters' confidence). Each raw insert must name every column the
database itself requires."""

from __future__ import annotations

import re

import pytest
from django.apps import apps
from django.db.models import NOT_PROVIDED

from tests import paths

INSERT = re.compile(r"INSERT\s+INTO\s+(\w+)\s*\(([^)]*)\)", re.IGNORECASE)


def raw_inserts() -> list[tuple[str, str, set[str]]]:
    found = []
    for script in sorted((paths.REPO / "bench").glob("*.py")):
        for match in INSERT.finditer(script.read_text(encoding="utf-8")):
            columns = {c.strip().strip('"') for c in match.group(2).split(",") if c.strip()}
            found.append((script.name, match.group(1), columns))
    return found


def required_columns(table: str) -> set[str]:
    """The columns an INSERT must give: NOT NULL, no default in the database, not generated (the key)."""
    models = [m for m in apps.get_models(include_auto_created=True) if m._meta.db_table == table]
    assert models, f"no model has the table {table}"
    model = models[0]
    return {field.column for field in model._meta.local_concrete_fields
            if not field.null and field.db_default is NOT_PROVIDED and not field.primary_key}


def test_the_benchmarks_insert_rows_with_raw_sql():
    tables = {table for _, table, _ in raw_inserts()}
    assert {"portfolio_initiative", "governance_sprawlcluster"} <= tables


@pytest.mark.parametrize(("script", "table", "columns"), raw_inserts(),
                         ids=lambda value: value if isinstance(value, str) else "")
def test_each_raw_insert_names_every_column_the_database_requires(script, table, columns):
    missing = required_columns(table) - columns
    assert not missing, f"{script}: INSERT INTO {table} leaves out NOT NULL columns {sorted(missing)}"


def test_required_columns_are_the_not_null_ones_without_a_database_default():
    required = required_columns("governance_sprawlcluster")
    assert {"confidence", "evidence", "title", "created_at"} <= required
    assert not {"id", "use_case_id", "decided_at"} & required
