"""The operators' login-history prunes, under django-axes' own names, arguments and output (`settings.py` lists axes
after Tollgate's apps so that these answer to the names): each goes through login_history_remove, so the trail says
how many records of which period went, with the source "command" (a command has no signed-in actor)."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from axes.models import AccessFailureLog, AccessLog
from django.core.management.base import BaseCommand

from portfolio.selectors import login_history
from portfolio.services import login_history_remove


class PruneCommand(BaseCommand):
    model: type[AccessLog] | type[AccessFailureLog]

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--age", type=int, default=30, help="Maximum age for records to keep in days")

    def handle(self, *args: Any, **options: Any) -> None:
        count = login_history_remove(actor=None, records=login_history(self.model, older_than_days=options["age"]),
                                     source="command", older_than_days=options["age"])
        self.stdout.write(f"{count} logs removed." if count else "No logs found.")
