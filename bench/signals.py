"""Benchmark: the signals (and the spend forecast, when it is there) of 10,000 initiatives and 5,000,000 cost records
on PostgreSQL.

    make bench                                   # part of the benchmarks
    .venv/bin/python bench/signals.py            # alone; BENCH_INITIATIVES=2000 BENCH_COST_RECORDS=1000000 is quicker

Builds, in a database of its own (BENCH_DATABASE_URL, default a `tollgate_bench_signals` database it creates and
empties first): BENCH_INITIATIVES initiatives (default 10,000) in every stage with owners (2% of them deactivated),
business cases and KPIs; BENCH_COST_RECORDS cost records (default 5,000,000) over twelve months, generated in the
database (INSERT ... SELECT generate_series), then rolled up by the real services (rollups_recompute, tco_recompute)
with token usage on catalogue models with substitutes and the seats of 1,000 licence pools; three review cycles of
value reports with KPI actuals (drafts overdue in the last one); 300 open sprawl clusters.

Then times the signals as the nightly job computes them (`signals_compute`: read, apply every rule, store, audit,
notify), once on new data and once more on the same data (nothing written), and the forecast as its nightly job
computes it (governance.services.cost_forecast_refresh). Target (issue 11): signals
and forecast in under 60 s together.
"""

from __future__ import annotations

import os
import sys
import time
from collections import Counter
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TODAY = date(2026, 12, 3)  # cost data from 2025-12 to 2026-11: 2026-Q3 is the last complete quarter
FIRST_MONTH = date(2025, 12, 1)
MONTHS = 12


def bench_database_url() -> str:
    url = os.environ.get("BENCH_DATABASE_URL") or ""
    return url if url.startswith(("postgres://", "postgresql://")) else \
        "postgres://postgres@127.0.0.1:5432/tollgate_bench_signals"


def fresh_database(url: str) -> None:
    """Drop and create the bench database: every run starts from the same empty state."""
    import psycopg
    from psycopg import sql

    name = url.rsplit("/", 1)[1].split("?")[0]
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def timed(label: str, func, *args, **kwargs):
    started = time.perf_counter()
    result = func(*args, **kwargs)
    print(f"  {label}: {time.perf_counter() - started:.1f} s", flush=True)
    return result


def execute(sql: str, params: list | None = None) -> None:
    """Run SQL written with plain % for modulo and %s for parameters."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql.replace("%", "%%").replace("%%s", "%s"), params or [])


def generate(initiatives: int, cost_records: int) -> None:
    """The portfolio, written in the database in bulk (the signals read it; how it got there is not timed)."""
    from django.utils import timezone

    from governance.models import SprawlCluster
    from portfolio.models import AIModel, CostCenter, CostSource, Department, Vendor
    from reviews.models import ReviewCycle

    now = timezone.now()
    department = Department.objects.create(name="Bench", code="bench")
    center = CostCenter.objects.create(code="CC-BENCH", name="Bench", department=department)
    execute("""
        INSERT INTO auth_user (password, is_superuser, username, first_name, last_name, email, is_staff, is_active,
                               date_joined)
        SELECT '!', false, 'owner' || g || '@bench.example', 'Owner', g::text, 'owner' || g || '@bench.example',
               false, g % 50 <> 0, %s
        FROM generate_series(1, 500) g""", [now])
    execute("""INSERT INTO portfolio_profile (user_id, title, notification_email, created_at, updated_at)
               SELECT id, '', 'each', %s, %s FROM auth_user""", [now, now])
    stages = ("CASE WHEN g % 10 = 0 THEN 'proposed' WHEN g % 10 = 1 THEN 'approved' WHEN g % 10 < 5 THEN 'pilot' "
              "WHEN g % 20 = 19 THEN 'killed' ELSE 'production' END")
    execute(f"""
        INSERT INTO portfolio_initiative (external_id, name, description, category, department_id, cost_center_id,
                                          owner_id, stage, start_date, tags, declared_monthly_cost, created_at,
                                          updated_at)
        SELECT 'BEN-' || lpad(g::text, 5, '0'), 'Bench initiative ' || g, '', 'other', %s, %s,
               (SELECT min(id) FROM auth_user) + g % 500, {stages}, date '2024-06-01' + (g % 800),
               '[]'::jsonb, 500 + (g % 60) * 100, %s, %s
        FROM generate_series(1, %s) g""", [department.pk, center.pk, now, now, initiatives])
    execute("""
        INSERT INTO portfolio_businesscase (initiative_id, problem, process_replaced, outcome_unit, targets,
            baseline_cost_per_outcome, expected_monthly_volume, tco_inference, tco_compute, tco_storage, tco_licences,
            oversight_hours_per_month, loaded_hourly_rate, tco_maintenance, expected_monthly_value, min_viable_scale,
            success_criteria, created_at, updated_at)
        SELECT id, 'Bench', 'Bench', 'case', '', 4.5, 2000, declared_monthly_cost * 0.6, 0, declared_monthly_cost * 0.1,
               0, 10, 60, declared_monthly_cost * 0.2, declared_monthly_cost * 3, 1000, '', %s, %s
        FROM portfolio_initiative WHERE id % 10 <> 3""", [now, now])
    execute("""
        INSERT INTO portfolio_kpi (initiative_id, name, unit, baseline, target, direction, value_per_unit, kind,
                                   created_at, updated_at)
        SELECT i.id, k.name, 'units', k.baseline, k.target, k.direction, k.per_unit, k.kind, %s, %s
        FROM portfolio_initiative i
        CROSS JOIN (VALUES ('Minutes per case', 6.0, 4.0, 'decrease', 0.75, 'per_outcome'),
                           ('Deflected', 0, 1000, 'increase', 4.5, 'count'))
             AS k(name, baseline, target, direction, per_unit, kind)""", [now, now])

    source = CostSource.objects.create(name="bench-focus", type="focus")
    seats = CostSource.objects.create(name="bench-seats", type="github_copilot")
    # Cost records spread over the months and initiatives; a tenth unallocated; every 37th initiative doubles its
    # spend from 2026-07 (over its business case in 2026-Q3).
    execute("""
        INSERT INTO portfolio_costrecord (source_id, period, charge_date, amount, currency, amount_reporting, category,
                                          keys, service_name, model, description, unit, initiative_id)
        SELECT %s, m.month, m.month + (g % 28), a.amount, 'USD', a.amount,
               (ARRAY['inference', 'inference', 'compute', 'storage'])[1 + g % 4], '{}'::jsonb, 'Bench AI', '', '', '',
               CASE WHEN g % 10 = 9 THEN NULL ELSE i.id END
        FROM generate_series(0, %s - 1) g
        CROSS JOIN LATERAL (SELECT (%s::date + make_interval(months => ((g / %s) % 12)::int))::date AS month) m
        CROSS JOIN LATERAL (SELECT (SELECT min(id) FROM portfolio_initiative) + g % %s AS id) i
        CROSS JOIN LATERAL (SELECT round((20 + (g % 97))::numeric
                                         * CASE WHEN i.id % 37 = 0 AND m.month >= date '2026-07-01' THEN 2 ELSE 1 END,
                                         6) AS amount) a""",
            [source.pk, cost_records, FIRST_MONTH, initiatives, initiatives])

    openai, anthropic = Vendor.objects.create(name="OpenAI"), Vendor.objects.create(name="Anthropic")
    mini = AIModel.objects.create(provider=openai, name="gpt-4o-mini", tier="small", input_price_per_mtok="0.15",
                                  output_price_per_mtok="0.60")
    AIModel.objects.create(provider=openai, name="gpt-4o", tier="frontier", input_price_per_mtok="2.50",
                           output_price_per_mtok="10.00", substitute=mini)
    haiku = AIModel.objects.create(provider=anthropic, name="claude-3-5-haiku", tier="small",
                                   input_price_per_mtok="0.80", output_price_per_mtok="4.00")
    AIModel.objects.create(provider=anthropic, name="claude-sonnet-4", tier="frontier", input_price_per_mtok="3.00",
                           output_price_per_mtok="15.00", substitute=haiku)
    execute("""
        INSERT INTO portfolio_usagerecord (source_id, period, usage_date, model, input_tokens, output_tokens,
                                           cached_tokens, requests, keys, initiative_id)
        SELECT %s, m.month, m.month + 14, u.model, (id % 50 + 1) * u.scale, (id % 50 + 1) * u.scale / 8,
               (id % 50 + 1) * u.scale / 5, 1000, '{}'::jsonb, id
        FROM portfolio_initiative
        CROSS JOIN (VALUES (date '2026-10-01'), (date '2026-11-01')) AS m(month)
        CROSS JOIN (VALUES ('gpt-4o-2024-08-06', 4000000), ('claude-sonnet-4-20250514', 9000000),
                           ('gpt-4o-mini-2024-07-18', 30000000)) AS u(model, scale)
        WHERE id % 5 < 3""", [source.pk])
    execute("""
        INSERT INTO portfolio_licencepool (tool, vendor_id, seats_purchased, price_per_seat_month, initiative_id,
                                           created_at, updated_at)
        SELECT 'Bench seats ' || id, %s, 100, 19, id, %s, %s FROM portfolio_initiative WHERE id % 10 = 5""",
            [openai.pk, now, now])
    execute("""
        INSERT INTO portfolio_seatactivity (source_id, licence_pool_id, period, "user", assigned, last_activity, keys)
        SELECT %s, p.id, m.month, 'user' || s, true,
               CASE WHEN s % 100 < 20 + p.id % 50 THEN m.month + 20 WHEN s % 3 = 0 THEN NULL ELSE m.month - 40 END,
               '{}'::jsonb
        FROM portfolio_licencepool p
        CROSS JOIN (VALUES (date '2026-10-01'), (date '2026-11-01')) AS m(month)
        CROSS JOIN generate_series(1, 90) s""", [seats.pk])

    cycles = [
        ReviewCycle.objects.create(name=name, period_start=start, period_end=end, opens_on=opens, due_on=due)
        for name, start, end, opens, due in (
            ("2026-Q1", date(2026, 1, 1), date(2026, 3, 31), date(2026, 4, 1), date(2026, 4, 30)),
            ("2026-Q2", date(2026, 4, 1), date(2026, 6, 30), date(2026, 7, 1), date(2026, 7, 31)),
            ("2026-Q3", date(2026, 7, 1), date(2026, 9, 30), date(2026, 10, 1), date(2026, 10, 31)),
        )
    ]
    for n, cycle in enumerate(cycles):
        drafts = "id % 10 = 7" if n == 2 else "false"
        execute(f"""
            INSERT INTO reviews_valuereport (cycle_id, initiative_id, status, outcome_count, narrative,
                stated_value_evidence, reopened_reason, submitted_at, created_at, updated_at)
            SELECT %s, id, CASE WHEN {drafts} THEN 'draft' ELSE 'submitted' END,
                   CASE WHEN {drafts} THEN NULL ELSE 1000 + (id % 17) * 400 END, '', '', '',
                   CASE WHEN {drafts} THEN NULL ELSE %s::timestamptz END, %s, %s
            FROM portfolio_initiative WHERE stage IN ('pilot', 'production')""", [cycle.pk, now, now, now])
    execute("""
        INSERT INTO reviews_kpiactual (report_id, kpi_id, evidence, actual)
        SELECT r.id, k.id, '',
               CASE WHEN k.direction = 'decrease' THEN 3 + (r.initiative_id % 5) * 0.5
                    ELSE (r.initiative_id % 7) * 250 END
        FROM reviews_valuereport r JOIN portfolio_kpi k ON k.initiative_id = r.initiative_id
        WHERE r.status = 'submitted'""")

    execute("""
        INSERT INTO governance_sprawlcluster (status, score, title, monthly_spend, estimated_saving, saving_basis,
            confidence, evidence, decision_reason, first_seen_at, last_seen_at, created_at, updated_at)
        SELECT 'open', 0.8, 'Bench cluster ' || g, 3000, 900 + g, 'Bench', 'likely', '[]', '', %s, %s, %s, %s
        FROM generate_series(1, 300) g""", [now, now, now, now])
    execute("""
        INSERT INTO governance_sprawlclustermember (cluster_id, initiative_id, removed, removed_reason, created_at)
        SELECT c.id, (SELECT min(id) FROM portfolio_initiative) + ((c.id * 3 + k) % %s), false, '', %s
        FROM governance_sprawlcluster c CROSS JOIN generate_series(0, 2) k""", [initiatives, now])
    assert SprawlCluster.objects.count() == 300


def roll_up() -> None:
    """The roll-ups and the TCO, built by the real services from the generated records."""
    from portfolio.costs.services.rollups import rollups_recompute
    from portfolio.costs.services.tco import tco_recompute

    months = [date(FIRST_MONTH.year + (FIRST_MONTH.month - 1 + k) // 12, (FIRST_MONTH.month - 1 + k) % 12 + 1, 1)
              for k in range(MONTHS)]
    rollups_recompute(months=months)
    tco_recompute()
    execute("ANALYZE")


def main() -> None:
    initiatives = int(os.environ.get("BENCH_INITIATIVES", "10000"))
    cost_records = int(os.environ.get("BENCH_COST_RECORDS", "5000000"))
    url = bench_database_url()
    fresh_database(url)
    os.environ["DATABASE_URL"] = url
    os.environ["EMAIL_URL"] = "dummymail://"  # owners are notified; the bench sends nothing anywhere
    for name in ("CELERY_BROKER_URL", "REDIS_URL"):
        os.environ.pop(name, None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tollgate.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    from governance.choices import LIVE_SIGNAL_STATUSES
    from governance.models import Signal
    from governance.signals.services import signals_compute
    from portfolio.models import CostRecord, InitiativeMonthlyTco, MonthlyCost

    print(f"Signals benchmark: {initiatives:,} initiatives, {cost_records:,} cost records, PostgreSQL", flush=True)
    load_before = os.getloadavg()[0]
    timed("migrate", call_command, "migrate", verbosity=0)
    timed("generate the portfolio, reports, usage, seats and cost records (SQL)", generate, initiatives, cost_records)
    timed("roll up costs and build the monthly TCO (rollups_recompute, tco_recompute)", roll_up)
    print(f"  rows: {CostRecord.objects.count():,} cost records, {MonthlyCost.objects.count():,} monthly costs, "
          f"{InitiativeMonthlyTco.objects.count():,} monthly TCO rows", flush=True)

    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        first = signals_compute(today=TODAY)
        signals_first = time.perf_counter() - started
    query_count = len(queries.captured_queries)
    reset_queries()
    started = time.perf_counter()
    second = signals_compute(today=TODAY)
    signals_again = time.perf_counter() - started
    live = Counter(Signal.objects.filter(status__in=LIVE_SIGNAL_STATUSES).values_list("type", flat=True))
    print(f"  signals, first computation: {signals_first:.1f} s ({query_count} queries; "
          f"{first.raised:,} raised, {first.initiatives:,} initiatives)")
    print(f"  signals, same data again:   {signals_again:.1f} s ({second.raised} raised, {second.updated} updated, "
          f"{second.resolved} resolved)")
    print("  live signals by type: " + ", ".join(f"{t} {n:,}" for t, n in sorted(live.items())))

    from governance.services import cost_forecast_refresh

    started = time.perf_counter()
    cost_forecast_refresh(today=TODAY)
    forecast_seconds = time.perf_counter() - started
    print(f"  forecast (cost_forecast_refresh, the nightly job): {forecast_seconds:.1f} s")
    total = signals_first + forecast_seconds
    print(f"  signals + forecast: {total:.1f} s   (target < 60 s)")
    print(f"  machine load average (1 min) before / after: {load_before:.1f} / {os.getloadavg()[0]:.1f}   "
          f"({os.cpu_count()} CPUs; figures are only comparable on an otherwise idle machine)")


if __name__ == "__main__":
    main()
