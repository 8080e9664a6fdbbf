"""Backup and restore as README's Production > Backup and restore says: pg_dump --format=custom of the database,
pg_restore into a new one, and the audit trail, the totals and the audit trail's append-only guard are all there."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from decimal import Decimal
from urllib.parse import quote

import psycopg
import pytest
from auditlog.models import LogEntry
from django.db import connection

from governance.choices import AuditEvent
from governance.services import policy_set
from portfolio.choices import RunStatus, SourceType
from portfolio.costs.services.runs import ingestion_run_create, ingestion_run_execute
from portfolio.models import CostRecord, Initiative, MonthlyCost
from portfolio.services.initiatives import initiative_create
from tests.factories import DepartmentFactory
from tests.portfolio.costs.factories import CostSourceFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

POLICY = "kill.cost_overrun_pct"


def database_url(name: str) -> str:
    db = connection.settings_dict
    password = f":{quote(db['PASSWORD'], safe='')}" if db["PASSWORD"] else ""
    return f"postgresql://{quote(db['USER'] or 'postgres', safe='')}{password}@{db['HOST'] or '127.0.0.1'}:" \
           f"{db['PORT'] or 5432}/{name}"


def run(*command: str) -> None:
    done = subprocess.run(command, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PGCONNECT_TIMEOUT": "10"})
    assert done.returncode == 0, f"{' '.join(command[:2])} failed: {done.stderr}"


def figures(cursor: psycopg.Cursor) -> dict[str, object]:
    """What must survive a restore: the audit trail (its size and the policy change), and the money."""
    cursor.execute("SELECT count(*) FROM auditlog_logentry")
    entries = cursor.fetchone()[0]
    cursor.execute("SELECT object_repr, changes::text, timestamp, additional_data::text FROM auditlog_logentry "
                   "WHERE additional_data->>'event' = %s ORDER BY id", [AuditEvent.POLICY_CHANGE.value])
    policy_changes = cursor.fetchall()
    cursor.execute(f"SELECT sum(amount_reporting), count(*) FROM {CostRecord._meta.db_table}")
    cost_records = cursor.fetchone()
    cursor.execute(f"SELECT sum(amount) FROM {MonthlyCost._meta.db_table}")
    monthly = cursor.fetchone()[0]
    cursor.execute(f"SELECT external_id, name FROM {Initiative._meta.db_table} ORDER BY id")
    initiatives = cursor.fetchall()
    return {"entries": entries, "policy_changes": policy_changes, "cost_records": cost_records,
            "monthly": monthly, "initiatives": initiatives}


def test_a_dump_restored_into_a_fresh_database_keeps_the_audit_trail_and_the_totals(admin_user, owner, tmp_path):
    assert shutil.which("pg_dump") and shutil.which("pg_restore"), "PostgreSQL's client tools must be on PATH"
    initiative = initiative_create(actor=admin_user, name="Contract review assistant", owner=owner,
                                   department=DepartmentFactory())
    policy_set(actor=admin_user, key=POLICY, value="30")
    source = CostSourceFactory(name="contracts", type=SourceType.CSV)
    export = (
        "date,initiative,key,category,amount,currency,quantity,unit\n"
        f"2025-06-30,{initiative.external_id},,oversight,3900.00,USD,60,hours\n"
        f"2025-06-15,{initiative.external_id},,inference,812.40,USD,,\n"
        "2025-06-20,,namespace=unknown-team,other,50.05,USD,,\n"
    ).encode()
    ingestion = ingestion_run_execute(run=ingestion_run_create(source=source, period="2025-06", filename="june.csv",
                                                               content=export))
    assert ingestion.status == RunStatus.SUCCEEDED, ingestion.error
    assert LogEntry.objects.filter(additional_data__event=AuditEvent.POLICY_CHANGE).exists()

    source_name = connection.settings_dict["NAME"]
    fresh = f"tollgate_restore_{uuid.uuid4().hex[:12]}"
    dump = tmp_path / "tollgate.dump"

    run("pg_dump", "--format=custom", f"--file={dump}", f"--dbname={database_url(source_name)}")
    with psycopg.connect(database_url("postgres"), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{fresh}"')
    try:
        run("pg_restore", "--exit-on-error", "--no-owner", f"--dbname={database_url(fresh)}", str(dump))

        with psycopg.connect(database_url(source_name)) as original, psycopg.connect(database_url(fresh)) as restored:
            before, after = figures(original.cursor()), figures(restored.cursor())
            assert after == before
            assert after["cost_records"] == (Decimal("4762.45"), 3)
            assert after["monthly"] == Decimal("4762.45")
            assert len(after["policy_changes"]) == 1 and '"value": ["25", "30"]' in after["policy_changes"][0][1]
            assert after["entries"] >= 2  # the initiative's creation and the policy change at least

            # The audit trail stays append-only in the restored database.
            cursor = restored.cursor()
            cursor.execute("SELECT tgname FROM pg_trigger WHERE tgrelid = 'auditlog_logentry'::regclass "
                           "AND NOT tgisinternal")
            assert [row[0] for row in cursor.fetchall()] == ["tollgate_audit_append_only"]
            with pytest.raises(psycopg.errors.RestrictViolation, match="append-only"):
                cursor.execute("DELETE FROM auditlog_logentry")
            restored.rollback()
            # And it is ready to serve: the migrations applied are the same (so /health/ready/ says ready).
            migrations = "SELECT app, name FROM django_migrations ORDER BY app, name"
            assert restored.execute(migrations).fetchall() == original.execute(migrations).fetchall()
    finally:
        with psycopg.connect(database_url("postgres"), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{fresh}" WITH (FORCE)')
