from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from portfolio.costs.selectors import amounts_currency_recorded, amounts_exist
from portfolio.costs.services.amounts_currency import amounts_currency_relabel
from portfolio.models import reporting_currency


class Command(BaseCommand):
    help = ("Say which currency the database's amounts are in and which REPORTING_CURRENCY is set; with --relabel, "
            "record that the stored amounts are in REPORTING_CURRENCY already (nothing is converted; audited).")
    # The check this command exists to answer would otherwise stop it.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--relabel", action="store_true",
                            help="The stored amounts are in REPORTING_CURRENCY already: record it, converting nothing.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["relabel"]:
            before = amounts_currency_recorded()
            recorded = amounts_currency_relabel(actor=None, source="command")
            self.stdout.write(f"The amounts are recorded as {recorded.code}" +
                              (f" (were {before}); nothing was converted." if before and before != recorded.code
                               else "."))
            return
        amounts = "holds amounts" if amounts_exist() else "holds no amount yet"
        self.stdout.write(f"Amounts: {amounts_currency_recorded() or 'not recorded yet (migrate records it)'}; "
                          f"REPORTING_CURRENCY: {reporting_currency()}; the database {amounts}.")
