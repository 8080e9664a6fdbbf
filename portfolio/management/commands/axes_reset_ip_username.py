from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from portfolio.management.commands._unlock import UnlockCommand


class Command(UnlockCommand):
    help = ("Reset all access attempts and lockouts for a given IP address and username (each unlock is in the audit "
            "trail)")

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("ip", type=str)
        parser.add_argument("username", type=str)

    def handle(self, *args: Any, **options: Any) -> None:
        self.unlock(ip_addresses=[options["ip"]], usernames=[options["username"]])
