"""`manage.py load_demo`: the Northwind Mutual demo company, built through the portfolio services."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand

from portfolio.costs.forecast import cost_forecast_latest
from tollgate.demo import data
from tollgate.demo.builder import build_demo_company, demo_is_loaded, demo_summary
from tollgate.demo.costs import costs_summary
from tollgate.demo.governance import CycleCounts
from tollgate.demo.signals import signal_counts
from tollgate.demo.sprawl import sprawl_counts
from tollgate.roles import Role

LOGIN_DESCRIPTIONS = {
    Role.ADMIN: "administrator",
    Role.REVIEWER: "CoE reviewer",
    Role.EXECUTIVE: "executive",
    Role.OWNER: "initiative owner",
}


def _cycle_line(cycle: CycleCounts) -> str:
    """"2026-Q3: 40 submitted, 33 due": only the non-zero states, submitted always."""
    parts = [f"{cycle.submitted} submitted"] + [
        f"{n} {label}" for n, label in ((cycle.due, "due"), (cycle.overdue, "overdue")) if n
    ]
    return f"{cycle.name}: {', '.join(parts)}"


class Command(BaseCommand):
    help = "Load the Northwind Mutual demo company. Idempotent: a second run changes nothing."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--sync", action="store_true", help="Re-apply the demo data even when it is already loaded."
        )

    def handle(self, *args, sync: bool = False, **options) -> None:
        if not sync and demo_is_loaded():
            self.stdout.write("Demo company already loaded (run with --sync to re-apply it).")
            summary = demo_summary()
        else:
            started = time.monotonic()
            summary = build_demo_company()
            self.stdout.write(f"Demo company built in {time.monotonic() - started:.1f} s.")
        self.stdout.write(self.style.SUCCESS(
            f'Demo company "{data.COMPANY_NAME}": {summary.departments} departments, '
            f"{summary.initiatives} initiatives, {summary.people} people."
        ))
        if summary.cycles:
            self.stdout.write("Review cycle " + "; ".join(_cycle_line(c) for c in summary.cycles) + ".")
        costs = costs_summary()
        self.stdout.write(
            f"Costs: {costs.months} months ingested from {costs.sources} sources; ${costs.allocated:,.2f} allocated, "
            f"${costs.unallocated:,.2f} unallocated ({costs.unallocated_share}%). Latest month {costs.latest_month}: "
            f"${costs.latest_total:,.2f}, of which ${costs.latest_unallocated:,.2f} unallocated "
            f"({costs.latest_unallocated_share}%)."
        )
        sprawl = sprawl_counts()
        self.stdout.write(
            f"Sprawl: {sprawl.clusters} clusters ({sprawl.open} open) spending ${sprawl.monthly_spend:,.2f} a month; "
            f"estimated saving if consolidated ${sprawl.estimated_saving:,.2f} a month."
        )
        forecast = cost_forecast_latest()
        if forecast is not None:
            mape = forecast.backtest_mape
            self.stdout.write(
                f"Forecast as of {forecast.payload['as_of']}: ${sum(forecast.payload['total'][:12]):,.2f} over the "
                f"next {min(12, forecast.months)} months (Jevons scenario "
                f"${sum(forecast.payload['jevons']['total'][:12]):,.2f}); backtest MAPE of the total "
                f"{'n/a' if mape is None else f'{mape * 100:.1f}%'}."
            )
        live = signal_counts()
        if live:
            self.stdout.write(f"Signals: {sum(live.values())} open or acknowledged ("
                              + ", ".join(f"{n} {signal_type}" for signal_type, n in sorted(live.items())) + ").")
        logins = ", ".join(f"{p.username} ({LOGIN_DESCRIPTIONS[p.role]})" for p in data.DEMO_LOGINS)
        self.stdout.write(f"Demo logins (password {data.DEMO_PASSWORD}): {logins}")
