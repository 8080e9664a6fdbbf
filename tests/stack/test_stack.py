"""README's production commands, started for real (tests/stack/harness.py): gunicorn, two Celery workers and beat
on PostgreSQL and Redis, with the demo company. Jobs go through the real broker to the workers, beat's schedule
reaches them, and twenty people and scripts use the site for a minute without one failed request.

The load figures are printed (p50/p95 per endpoint); timing targets are not asserted here (bench/load.py prints the
same run for `make bench`, and README's Production section states what it measured).
"""

from __future__ import annotations

import json
import os
import time
from datetime import timedelta
from decimal import Decimal

import pytest
from celery import Celery
from django.utils import timezone

from tests.production import documented_command
from tests.stack.harness import WORKERS, Api, ProductionStack

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.celery_worker]

PASSWORD = "tollgate-demo"
FINISHED = ("succeeded", "failed")


def executed_by(stack: ProductionStack, worker_field: str) -> str:
    """Which of the stack's workers ran a run, from its `worker` (host:pid of a pool process)."""
    pid = int(worker_field.rsplit(":", 1)[1])
    assert pid != os.getpid(), "the run was executed in the test process, not by a worker"
    owners = [name for name in WORKERS if pid in stack.processes[name].children()]
    assert len(owners) == 1, f"pid {pid} is in the pool of none of the stack's workers"
    return owners[0]


def task_succeeded_in(stack: ProductionStack, task_name: str, task_id: str = "") -> list[str]:
    """The workers whose log says the task (that id, or any of that name) succeeded."""
    needle = f"Task {task_name}[{task_id}" if task_id else f"Task {task_name}["
    return [name for name in WORKERS
            if any(needle in str(r.get("message")) and "succeeded" in str(r.get("message"))
                   for r in stack.processes[name].log_records())]


def wait_finished(stack: ProductionStack, api: Api, path: str, *, timeout: float = 180) -> dict:
    def finished() -> dict | None:
        status, body = api.call("GET", path)
        assert status == 200, (status, body)
        return body if body["status"] in FINISHED else None

    return stack.wait_for(finished, timeout=timeout, what=f"{path} to finish", every=1)  # type: ignore[return-value]


@pytest.fixture(scope="module")
def admin(stack) -> Api:
    return Api.login(stack.base_url, "admin", PASSWORD)


def test_the_documented_commands_serve_ready_with_four_web_workers_and_two_celery_nodes(stack):
    commands = stack.commands()
    assert commands["web"][:2] == ["gunicorn", "tollgate.wsgi"]
    assert commands["web"][commands["web"].index("--workers"):] == \
        documented_command("gunicorn", "tollgate.wsgi")[-2:] == ["--workers", "4"]
    for name in WORKERS:
        assert commands[name] == [*documented_command("celery", "-A", "tollgate", "worker"), "--hostname",
                                  f"{name}@%h"]
    assert commands["beat"][:4] == ["celery", "-A", "tollgate", "beat"]

    status, body = Api(stack.base_url).call("GET", "/health/ready/")
    assert status == 200, body
    assert body["status"] == "ok" and all(check["ok"] for check in body["checks"].values()), body
    assert "broker" in body["checks"]  # a broker is configured: it is checked, not skipped
    assert len(stack.processes["web"].children()) == 4
    assert all(len(stack.processes[name].children()) >= 1 for name in WORKERS)

    # DEBUG is off: an unknown page is the site's own 404, not Django's debug page.
    status, page = Api(stack.base_url).call("GET", "/no-such-page/")
    assert status == 404 and "URLconf" not in page


def test_an_ingestion_run_goes_through_the_broker_to_a_worker(stack, admin, stack_db):
    from portfolio.models import CostRecord, IngestionRun

    rows, amount = 400, Decimal("1.25")
    export = stack.workdir / "contracts-2026-10.csv"
    with export.open("w") as out:
        out.write("date,initiative,key,category,amount,currency,quantity,unit\n")
        for i in range(rows):
            out.write(f"2026-10-{i % 31 + 1:02d},,namespace=team-{i % 7},compute,{amount},USD,,\n")
    status, source = admin.call("POST", "/api/cost-sources/", {
        "name": "stack-contracts", "type": "csv", "settings": {"path": str(export)}, "schedule": "monthly"})
    assert status == 201, source

    status, run = admin.call("POST", "/api/ingestion-runs/", {"source": source["id"], "period": "2026-10"})
    assert status == 201 and run["status"] == "pending", run
    done = wait_finished(stack, admin, f"/api/ingestion-runs/{run['id']}/")

    assert done["status"] == "succeeded", done["error"]
    assert (done["rows_read"], done["rows_written"]) == (rows, rows)
    assert executed_by(stack, IngestionRun.objects.get(pk=run["id"]).worker) in WORKERS
    records = CostRecord.objects.filter(source_id=source["id"])
    assert records.count() == rows
    assert sum(r.amount_reporting for r in records) == amount * rows


def test_a_signals_run_goes_through_the_broker_to_a_worker(stack, admin, stack_db):
    from governance.models import SignalRun

    status, run = admin.call("POST", "/api/governance/signal-runs/", {})
    assert status == 202 and run["status"] in ("pending", "running", "succeeded"), run
    done = wait_finished(stack, admin, f"/api/governance/signal-runs/{run['id']}/")

    assert done["status"] == "succeeded", done["error"]
    assert done["signals_live"] > 0  # the demo company has signals: the computation saw its data
    assert executed_by(stack, SignalRun.objects.get(pk=run["id"]).worker) in WORKERS


def test_the_review_reminder_job_goes_through_the_broker_to_a_worker(stack, admin, stack_db):
    """A cycle due tomorrow is opened through the API; the reminder job, sent to the broker as beat sends it, reminds
    its owners from a worker (and the e-mails are recorded, once). It reviews the quarter before the demo's first
    cycle: a cycle is named after its quarter and overlaps no other, and it opens only once its quarter is over."""
    from portfolio.calculations import Quarter
    from reviews.models import ReminderLog, ReviewCycle

    today = timezone.localdate()
    first = ReviewCycle.objects.order_by("period_start").values_list("period_start", flat=True).first() or today
    quarter = Quarter.of(first - timedelta(days=1))
    status, cycle = admin.call("POST", "/api/reviews/cycles/", {
        "name": quarter.name, "period_start": str(quarter.first_day), "period_end": str(quarter.last_day),
        "due_on": str(today + timedelta(days=1))})
    assert status == 201, cycle
    drafts = ReviewCycle.objects.get(pk=cycle["id"]).reports.count()
    assert drafts > 0

    client = Celery("stack-client", broker=stack.redis_url, backend=stack.redis_url)
    try:
        result = client.send_task("reviews.tasks.reminders_send")
        sent = result.get(timeout=120)
        again = client.send_task("reviews.tasks.reminders_send").get(timeout=120)
    finally:
        client.close()

    reminded = ReminderLog.objects.filter(report__cycle_id=cycle["id"])
    assert 0 < reminded.count() <= drafts
    assert sent >= reminded.count()
    assert again == 0  # nobody is reminded twice
    assert reminded.count() == reminded.values("report").distinct().count()
    assert task_succeeded_in(stack, "reviews.tasks.reminders_send", result.id)


def test_twenty_users_for_a_minute_without_a_failed_request(stack, capsys):
    load = stack.run_load(users=20, seconds=60)
    with capsys.disabled():
        setup = ", ".join(f"{step} {seconds:.0f} s" for step, seconds in stack.timings.items())
        print(f"\nstack up ({setup})\n{load.table()}\ncommand: {load.command}\n")

    assert load.exit_code == 0, load.output[-3000:]
    assert load.failures == [], json.dumps(load.failures[:10], indent=1)
    assert all(row.requests > 0 for row in load.endpoints), load.table()
    assert load.total_requests >= 20 * 5  # logins of all twenty, then requests throughout the minute


def test_beat_sends_the_schedule_and_a_worker_runs_it(stack):
    """The run expiry jobs are due every minute: beat sends them (its log), a worker runs them (its log)."""
    beat = stack.processes["beat"]

    def dispatched() -> bool:
        sent = "Sending due task expire-stale-import-runs (portfolio.tasks.import_runs_expire_stale)"
        return sent in beat.log_text() and bool(task_succeeded_in(stack, "portfolio.tasks.import_runs_expire_stale"))

    stack.wait_for(dispatched, timeout=120, what="beat to send the run expiry and a worker to run it", every=1)


def test_no_process_logged_an_error(stack):
    """Over everything above (the jobs, the minute of load): no 5xx, no task failure, no gunicorn worker lost."""
    time.sleep(1)
    errors = {name: [r for r in process.log_records() if r.get("level") in ("ERROR", "CRITICAL")]
              for name, process in stack.processes.items()}
    assert not any(errors.values()), json.dumps(errors, indent=1, default=str)[:4000]
    web = stack.processes["web"].log_text()
    assert "[ERROR]" not in web and "[CRITICAL]" not in web, web[-3000:]
    stack.check_alive()
