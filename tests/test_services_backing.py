"""The real services behind production: PostgreSQL, and Celery over Redis with a real worker.

Without them these tests skip with the reason; in CI (bash .ci/run) they must run.
"""

from __future__ import annotations

import pytest
from django.db import connection


@pytest.mark.postgres
@pytest.mark.django_db
def test_runs_on_postgresql():
    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        version = cursor.fetchone()[0]
    assert connection.vendor == "postgresql"
    assert version.startswith("PostgreSQL")


@pytest.mark.redis
def test_redis_broker_answers():
    from tollgate.celery import app

    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=2)
        assert conn.connected
        assert conn.transport_cls.startswith("redis") or "redis" in str(type(conn.transport)).lower()


INVENTORY = (
    "external_id,name,description,department,cost_center,owner_email,stage,category,vendors,models,start_date,"
    "monthly_cost_usd,seats_purchased\r\n"
    "W-1,Claims triage classifier,Routes first notice of loss,Claims,CC-3100,cara.claims@example.com,pilot,"
    "classification,OpenAI,gpt-4o-mini,2025-06-01,1400,\r\n"
)


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_import_runs_on_a_real_worker_over_redis(admin_user):
    """The upload path in production: the run is committed, sent through Redis and executed by a worker, and the
    sprawl recomputation the import queues runs on the same worker (the worker stops only once it has finished, so a
    slow machine waits for it instead of killing it mid-way)."""
    import time

    from celery.contrib.testing.worker import start_worker

    from governance.models import SprawlRun
    from portfolio.choices import RunStatus
    from portfolio.models import ImportRun, Initiative
    from portfolio.services.inventory_import import import_run_create
    from portfolio.tasks import import_run_execute
    from tollgate.celery import app

    assert not app.conf.task_always_eager
    run = import_run_create(actor=admin_user, filename="inventory.csv", content=INVENTORY.encode())
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=60):
        result = import_run_execute.delay(run.pk)
        assert result.get(timeout=60) == RunStatus.SUCCEEDED
        deadline = time.monotonic() + 120
        while SprawlRun.objects.filter(status__in=[RunStatus.PENDING, RunStatus.RUNNING]).exists():
            assert time.monotonic() < deadline, "the sprawl recomputation queued by the import did not finish"
            time.sleep(0.5)
    assert SprawlRun.objects.get().status == RunStatus.SUCCEEDED
    run = ImportRun.objects.get(pk=run.pk)
    assert run.status == RunStatus.SUCCEEDED and run.rows_created == 1
    assert Initiative.objects.get(external_id="W-1").stage == "pilot"
