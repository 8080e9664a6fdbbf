"""`python manage.py forecast --months N [--json]`: recompute the stored spend forecast, as the nightly job does, and
print its next N months. Lives in governance because the Jevons scenario's price decline is a governance policy."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from governance.services import cost_forecast_refresh
from portfolio.costs.forecast import DEFAULT_MONTHS, NO_COMPLETE_MONTH, cost_forecast_as_json, has_cost_data


class Command(BaseCommand):
    help = ("Recompute the spend forecast (per initiative, unallocated and total, with its 80% band, the Jevons "
            "scenario and the backtest) and print it.")

    def add_arguments(self, parser) -> None:
        parser.add_argument("--months", type=int, default=DEFAULT_MONTHS,
                            help=f"Months to print, starting after the latest complete month (default "
                                 f"{DEFAULT_MONTHS}; the stored forecast always covers at least {DEFAULT_MONTHS}).")
        parser.add_argument("--json", action="store_true",
                            help='Print {"currency", "months", "total", "lower", "upper", "unallocated", '
                                 '"initiatives": {external_id: [...]}, "backtest_mape", ...}.')

    def handle(self, *args: Any, months: int, **options: Any) -> None:
        if months < 1:
            raise CommandError("--months must be at least 1.")
        forecast = cost_forecast_refresh(months=max(months, DEFAULT_MONTHS))
        if forecast is None and not has_cost_data():
            raise CommandError("There is no cost data to forecast yet: ingest a cost source first.")
        if forecast is None:
            # Cost data, but no month complete yet: a normal state in the first month, not an error; nothing stored.
            if options["json"]:
                self.stdout.write(json.dumps({"as_of": None, "months": [], "message": NO_COMPLETE_MONTH}))
            else:
                self.stdout.write(NO_COMPLETE_MONTH)
            return
        output = cost_forecast_as_json(forecast, months=months)
        if options["json"]:
            self.stdout.write(json.dumps(output))
            return
        self._print_table(output)

    def _print_table(self, output: dict[str, Any]) -> None:
        currency = output["currency"]
        mape = output["backtest_mape"]
        jevons = output["jevons"]
        self.stdout.write(f"Spend forecast as of {output['as_of']} ({currency}); backtest MAPE of the total: "
                          f"{'n/a' if mape is None else f'{mape:.1%}'}; Jevons scenario: unit price "
                          f"-{jevons['price_decline_pct']:g}% a year.")
        self.stdout.write(f"{'month':8} {'total':>14} {'80% low':>14} {'80% high':>14} {'unallocated':>14} "
                          f"{'Jevons':>14}")
        for i, month in enumerate(output["months"]):
            self.stdout.write(
                f"{month:8} {output['total'][i]:>14,.2f} {output['lower'][i]:>14,.2f} {output['upper'][i]:>14,.2f} "
                f"{output['unallocated'][i]:>14,.2f} {jevons['total'][i]:>14,.2f}")
        by_initiative = output["backtest_mape_by_initiative"]
        self.stdout.write(f"{len(output['initiatives'])} initiatives; next {len(output['months'])} months each:")
        for external_id, amounts in output["initiatives"].items():
            error = by_initiative.get(external_id)
            self.stdout.write(f"  {external_id:20} {sum(amounts):>14,.2f}  backtest MAPE "
                              f"{'n/a' if error is None else f'{error:.1%}'}")
