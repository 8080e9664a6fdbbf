"""Benchmark: the executive dashboard, its API and the board pack on 10,000 initiatives and 5,000,000 cost records
on PostgreSQL.

    make bench                           # after bench/signals.py, on the database it built
    .venv/bin/python bench/dashboard.py  # alone: builds the same portfolio first if the database does not hold it

The portfolio is bench/signals.py's (same database, BENCH_DATABASE_URL): 10,000 initiatives, 5,000,000 cost records
over twelve months rolled up by the real services, value reports, seats, sprawl clusters; its signals and the
forecast are computed here when missing. Each request goes through Django's test client with the whole middleware
stack, logged in as an executive, and is timed as the median of REPEAT runs. The baseline is a bare view behind the
same middleware returning a body of the same size (bench/bench_urls.py), requested alternately with the page, so
both see the same machine. Targets (issue 12): page and API within 3x the baseline, the board pack PDF under 10 s.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

REPEAT = int(os.environ.get("BENCH_REPEAT", "41"))


def fetch(client, url: str) -> tuple[float, bytes, int]:
    started = time.perf_counter()
    response = client.get(url)
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return time.perf_counter() - started, body, response.status_code


def side_by_side(client, url: str) -> tuple[float, float, int, int]:
    """Median times of REPEAT GETs of `url` and of the bare view of the same size, requested alternately (so both
    see the same machine, whatever else runs on it), after one warm-up of each; the body size and the status."""
    _, body, status = fetch(client, url)
    bare_url = f"/bench/bare/?size={len(body)}"
    fetch(client, bare_url)
    page_times, bare_times = [], []
    for _ in range(REPEAT):
        page_times.append(fetch(client, url)[0])
        bare_times.append(fetch(client, bare_url)[0])
    return statistics.median(page_times), statistics.median(bare_times), len(body), status


def main() -> None:
    from bench import signals as portfolio_bench

    initiatives = int(os.environ.get("BENCH_INITIATIVES", "10000"))
    cost_records = int(os.environ.get("BENCH_COST_RECORDS", "5000000"))
    url = portfolio_bench.bench_database_url()
    os.environ["DATABASE_URL"] = url
    os.environ["EMAIL_URL"] = "dummymail://"
    for name in ("CELERY_BROKER_URL", "REDIS_URL"):
        os.environ.pop(name, None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tollgate.settings")
    os.environ["ALLOWED_HOSTS"] = "testserver"
    import psycopg

    try:
        with psycopg.connect(url) as conn:
            row = conn.execute("SELECT count(*) FROM portfolio_initiative").fetchone()
            assert row is not None  # count(*) always returns one row
            held = row[0]
    except psycopg.Error:
        held = 0
    import django

    if held < initiatives:
        portfolio_bench.fresh_database(url)
    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.cache import cache
    from django.core.management import call_command
    from django.test import Client

    from governance.models import Signal
    from governance.services import cost_forecast_refresh
    from governance.signals.services import signals_compute
    from portfolio.dashboard.selectors import default_quarter
    from portfolio.models import CostForecast, CostRecord
    from tollgate.roles import Role

    settings.ROOT_URLCONF = "bench.bench_urls"
    settings.ALLOWED_HOSTS = ["testserver"]
    print(f"Dashboard benchmark: {initiatives:,} initiatives, {cost_records:,} cost records, PostgreSQL", flush=True)
    if held < initiatives:
        portfolio_bench.timed("migrate", call_command, "migrate", verbosity=0)
        portfolio_bench.timed("generate the portfolio (bench/signals.py)", portfolio_bench.generate, initiatives,
                              cost_records)
        portfolio_bench.timed("roll up", portfolio_bench.roll_up)
    else:
        print(f"  reusing the portfolio of bench/signals.py ({held:,} initiatives)")
        portfolio_bench.timed("migrate (what changed since it was built)", call_command, "migrate", verbosity=0)
    if not Signal.objects.exists():
        portfolio_bench.timed("signals", signals_compute, today=portfolio_bench.TODAY)
    if not CostForecast.objects.exists():
        portfolio_bench.timed("forecast", cost_forecast_refresh, today=portfolio_bench.TODAY)
    print(f"  rows: {CostRecord.objects.count():,} cost records", flush=True)

    user_model = get_user_model()
    executive, _ = user_model.objects.get_or_create(username="bench-executive")
    from django.contrib.auth.models import Group

    executive.groups.add(Group.objects.get(name=Role.EXECUTIVE))
    client = Client()
    client.force_login(executive)
    quarter = default_quarter(today=portfolio_bench.TODAY).name
    figures = []
    for label, path in (("dashboard page", f"/portfolio/dashboard/?quarter={quarter}"),
                        ("dashboard API", f"/api/dashboard/?quarter={quarter}")):
        cache.clear()
        started = time.perf_counter()
        client.get(path)
        cold = time.perf_counter() - started
        seconds, bare, size, status = side_by_side(client, path)
        ratio = seconds / bare if bare else float("inf")
        figures.append((label, seconds, bare, ratio))
        print(f"  {label}: first view of the data (computing the figures) {cold:.1f} s; then {seconds * 1000:.2f} ms "
              f"median of {REPEAT} (status {status}, {size:,} bytes); bare view of the same size, requested "
              f"alternately, {bare * 1000:.2f} ms; ratio {ratio:.2f}x (target <= 3x)", flush=True)
    for state in ("figures cached by the page", "nothing cached"):
        if state == "nothing cached":
            cache.clear()
        pdf_seconds, pdf, pdf_status = fetch(client, f"/portfolio/board-pack/{quarter}.pdf")
        print(f"  board pack PDF, {state}: {pdf_seconds:.1f} s (status {pdf_status}, {len(pdf):,} bytes; "
              "target < 10 s)")
    print(f"  machine load average (1 min): {os.getloadavg()[0]:.1f} ({os.cpu_count()} CPUs)")


if __name__ == "__main__":
    main()
