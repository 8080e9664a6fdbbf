"""Benchmark: the spend forecast (with every initiative's backtest) of 10,000 initiatives on PostgreSQL.

    make bench                              # part of the benchmarks
    .venv/bin/python bench/forecast.py      # alone; BENCH_INITIATIVES=2000 is quicker

Generates BENCH_INITIATIVES initiatives (default 10,000) with 12 to 24 months of monthly roll-ups each, written
directly (COPY): cost per initiative x month x category (inference, compute, storage, licences), tokens per
initiative x month x model for the ~60% that use an API, and unallocated spend. The raw cost records behind them are
the ingestion benchmark's concern; the forecast reads only roll-ups. Then times the forecast as the nightly job runs
it (`governance.services.cost_forecast_refresh`: read, fit, backtest, store), once on new data and once more on the
same data (idempotent: nothing written), and the cost of one statsmodels fit per series for comparison.

BENCH_DATABASE_URL picks the database (default: a `tollgate_bench` database it creates, as bench/focus_ingestion.py).
Target (issue 11): signals and forecast of 10,000 initiatives and 5,000,000 cost records in under 60 s together, so
the forecast should take well under 30 s.
"""

from __future__ import annotations

import io
import os
import random
import sys
import time
import warnings
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.focus_ingestion import database_url, ensure_database  # noqa: E402

LAST_MONTH = date(2026, 11, 1)  # the latest month with data; the forecast starts in 2026-12
MODELS = ("gpt-4o", "gpt-4o-mini", "claude-sonnet-4", "text-embedding-3-small")
PREFIX = "FCB-"


def months_before(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 - count
    return date(index // 12, index % 12 + 1, 1)


def generate(count: int, seed: int = 11) -> tuple[list[tuple], list[tuple]]:
    """Roll-up rows (initiative index or None, month, category, amount) and (initiative index, month, model, input,
    output): growth, flat, decline and step changes, noise, licence-only tools, new initiatives."""
    rng = random.Random(seed)
    costs: list[tuple] = []
    tokens: list[tuple] = []
    for n in range(count):
        months = rng.randint(12, 24)
        growth = rng.choice((0.0, 0.0, 0.02, 0.05, 0.1, -0.03))
        base = rng.uniform(200, 20_000)
        uses_api = rng.random() < 0.6
        step_at = rng.randint(3, months - 1) if rng.random() < 0.1 else None
        seats = rng.choice((0, 0, 50, 200)) * rng.choice((19, 30))
        price = rng.uniform(0.5, 12) / 1_000_000  # per token
        for k in range(months):
            month = months_before(LAST_MONTH, months - 1 - k)
            level = base * (1 + growth) ** k * (2.0 if step_at is not None and k >= step_at else 1.0)
            level *= rng.gauss(1, 0.05)
            if uses_api:
                unit = price * 0.97**k
                volume = int(level * 0.8 / unit)
                costs.append((n, month, "inference", round(volume * unit, 2)))
                model = MODELS[n % len(MODELS)]
                tokens.append((n, month, model, int(volume * 0.8), int(volume * 0.2)))
                costs.append((n, month, "storage", round(level * 0.05, 2)))
            else:
                costs.append((n, month, "compute", round(level, 2)))
            if seats:
                costs.append((n, month, "licences", float(seats)))
    for k in range(24):
        month = months_before(LAST_MONTH, 23 - k)
        costs.append((None, month, "inference", round(150_000 * 1.01**k * rng.gauss(1, 0.03), 2)))
        costs.append((None, month, "compute", round(40_000 * rng.gauss(1, 0.05), 2)))
    return costs, tokens


def load(count: int) -> None:
    """Write the bench initiatives and their roll-ups afresh (every roll-up of the database is replaced: the
    ingestion benchmark, sharing the database, rebuilds one of these months from its own records)."""
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction

    from portfolio.models import CostForecast, Department, Initiative, MonthlyCost, MonthlyTokenUsage

    started = time.perf_counter()
    costs, tokens = generate(count)
    with transaction.atomic():
        CostForecast.objects.all().delete()
        MonthlyTokenUsage.objects.all().delete()
        MonthlyCost.objects.all().delete()
        Initiative.objects.filter(external_id__startswith=PREFIX).delete()
        owner, _ = get_user_model().objects.get_or_create(username="bench.forecast@example.com")
        department, _ = Department.objects.get_or_create(name="Bench forecast")
        Initiative.objects.bulk_create(
            [Initiative(external_id=f"{PREFIX}{n:05d}", name=f"Bench initiative {n}", department=department,
                        owner=owner) for n in range(count)], batch_size=5000)
        ids = dict(Initiative.objects.filter(external_id__startswith=PREFIX).values_list("external_id", "pk"))
        pk = [ids[f"{PREFIX}{n:05d}"] for n in range(count)]
        _copy(connection, MonthlyCost._meta.db_table, ("initiative_id", "month", "category", "amount"),
              [(None if i is None else pk[i], month, category, amount) for i, month, category, amount in costs])
        _copy(connection, MonthlyTokenUsage._meta.db_table,
              ("initiative_id", "month", "model", "input_tokens", "output_tokens", "cached_tokens", "requests"),
              [(pk[i], month, model, inp, out, 0, 0) for i, month, model, inp, out in tokens])
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {MonthlyCost._meta.db_table}; ANALYZE {MonthlyTokenUsage._meta.db_table}")
    print(f"generated {count:,} initiatives, {len(costs):,} monthly cost rows and {len(tokens):,} monthly token rows "
          f"in {time.perf_counter() - started:.1f} s")


def _copy(connection, table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
    if connection.vendor != "postgresql":
        raise SystemExit("bench/forecast.py writes with COPY: point BENCH_DATABASE_URL at PostgreSQL")
    buffer = io.StringIO()
    for row in rows:
        buffer.write("\t".join(r"\N" if value is None else str(value) for value in row) + "\n")
    with connection.cursor() as cursor, cursor.connection.cursor().copy(
            f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        copy.write(buffer.getvalue())


def statsmodels_fit_ms(series: int = 40) -> tuple[float, float]:
    """Milliseconds of one optimised statsmodels fit, and of one with fixed parameters, on 18-month series."""
    import numpy as np
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    rng = np.random.default_rng(1)
    data = [1000 + 20 * np.arange(18) + rng.normal(0, 50, 18) for _ in range(series)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ExponentialSmoothing(data[0], trend="add", damped_trend=True, initialization_method="estimated").fit()
        started = time.perf_counter()
        for values in data:
            ExponentialSmoothing(values, trend="add", damped_trend=True, initialization_method="estimated").fit()
        optimised = (time.perf_counter() - started) / series * 1000
        started = time.perf_counter()
        for values in data:
            ExponentialSmoothing(values, trend="add", damped_trend=True, initialization_method="known",
                                 initial_level=values[0], initial_trend=0.0).fit(
                smoothing_level=0.5, smoothing_trend=0.1, damping_trend=0.9, optimized=False)
        fixed = (time.perf_counter() - started) / series * 1000
    return optimised, fixed


def main() -> None:
    count = int(os.environ.get("BENCH_INITIATIVES", "10000"))
    url = database_url()
    ensure_database(url)
    os.environ["DATABASE_URL"] = url
    os.environ.pop("CELERY_BROKER_URL", None)
    os.environ.pop("REDIS_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tollgate.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    load(count)

    from django.db import connection
    from django.utils import timezone

    from governance.services import cost_forecast_refresh
    from portfolio.costs import forecasting
    from portfolio.costs.forecast import forecast_input
    from portfolio.models import CostForecast, InitiativeForecast

    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    forecast = cost_forecast_refresh()
    first = time.perf_counter() - started
    assert forecast is not None
    generated = forecast.generated_at
    started = time.perf_counter()
    again = cost_forecast_refresh()
    second = time.perf_counter() - started
    assert again is not None and again.generated_at == generated, "a recomputation on the same data wrote"

    # Where the time goes: reading the roll-ups, and the engine (forecast and backtest) on the matrices read.
    started = time.perf_counter()
    data = forecast_input(today=timezone.localdate())
    read = time.perf_counter() - started
    assert data is not None
    started = time.perf_counter()
    forecasting.forecast_spend(data.history, horizon=12, price_decline_pct=60)
    forecasting.backtest(data.history)
    engine = time.perf_counter() - started
    optimised_ms, fixed_ms = statsmodels_fit_ms()
    lines = InitiativeForecast.objects.filter(forecast=forecast).count()
    series = len(data.initiative_ids) + int(forecasting.has_volume_path(data.history.token_spend,
                                                                        data.history.tokens).sum())

    print(f"Spend forecast benchmark, {connection.vendor}, {lines:,} initiatives forecast as of "
          f"{forecast.as_of:%Y-%m} ({data.history.months} months of history), {CostForecast.objects.count()} snapshot")
    print(f"  forecast + backtest, stored (cost_forecast_refresh):  {first:.1f} s   (target well under 30 s)")
    print(f"  the same again on unchanged data (nothing written):   {second:.1f} s")
    print(f"    of which reading the roll-ups:                      {read:.1f} s")
    print(f"    of which fitting, forecasting and backtesting:      {engine:.1f} s   ({series:,} series, twice)")
    print(f"  backtest MAPE of the total:                           "
          f"{'n/a' if forecast.backtest_mape is None else f'{float(forecast.backtest_mape):.1%}'}")
    print(f"  one statsmodels fit per series instead: {optimised_ms:.1f} ms optimised, {fixed_ms:.1f} ms with fixed "
          f"parameters -> {optimised_ms * series * 2 / 1000:.0f} s / {fixed_ms * series * 2 / 1000:.0f} s for these "
          "series and their backtests")
    print(f"  machine load average (1 min) before / after:          {load_before:.1f} / {os.getloadavg()[0]:.1f}   "
          f"({os.cpu_count()} CPUs)")


if __name__ == "__main__":
    main()
