from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from portfolio.management.commands._unlock import UnlockCommand


class Command(UnlockCommand):
    help = "Reset all access attempts and lockouts for given IP addresses (each unlock is in the audit trail)"

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("ip", nargs="+", type=str)

    def handle(self, *args: Any, **options: Any) -> None:
        self.unlock(ip_addresses=options["ip"])
