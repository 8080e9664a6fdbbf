"""`python manage.py cost_report --period YYYY-MM --json`: one month's cost per initiative from the roll-ups, to
reconcile Tollgate against an invoice."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from portfolio.costs.connectors.base import Period
from portfolio.costs.selectors import cost_report


class Command(BaseCommand):
    help = "Print a month's cost per initiative, unallocated and total, in the reporting currency."

    def add_arguments(self, parser):
        parser.add_argument("--period", required=True, help="Month, YYYY-MM.")
        parser.add_argument("--json", action="store_true", dest="as_json", help="Print JSON (for scripts).")

    def handle(self, *args, period: str, as_json: bool = False, **options):
        try:
            month = Period.parse(period)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        report = cost_report(period=month)
        if as_json:
            self.stdout.write(_as_json(report))
            return
        currency = report["currency"]
        for external_id, amount in report["initiatives"].items():
            self.stdout.write(f"{external_id:<20} {amount:>14,.2f} {currency}")
        self.stdout.write(f"{'unallocated':<20} {report['unallocated']:>14,.2f} {currency}")
        self.stdout.write(f"{'total':<20} {report['total']:>14,.2f} {currency}")


def _as_json(report: dict) -> str:
    """Amounts as JSON numbers with exactly two decimals (json.dumps of a float would print 12.5)."""

    def encode(value):
        if isinstance(value, dict):
            return "{" + ", ".join(f"{json.dumps(k)}: {encode(v)}" for k, v in value.items()) + "}"
        if isinstance(value, str):
            return json.dumps(value)
        return f"{value:.2f}"

    return encode(report)
