"""`python manage.py ingest SOURCE_NAME [--period YYYY-MM] [--file PATH] [--replace-with-nothing]`: run one source now
(operators, scripts).

Exits non-zero with the run's error (file, row and column, or HTTP status) when the run fails.
"""

from __future__ import annotations

from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from portfolio.choices import RunStatus, RunTrigger
from portfolio.costs.connectors.base import Period
from portfolio.costs.services.runs import ingestion_run_create, ingestion_run_execute
from portfolio.models import CostSource


class Command(BaseCommand):
    help = "Read one cost source for one month (default: the current month) and replace what was read before."

    def add_arguments(self, parser):
        parser.add_argument("source", help="Name of the cost source.")
        parser.add_argument("--period", help="Month to read, YYYY-MM (default: the current month).")
        parser.add_argument("--file", help="Export file to read, for file-based sources (FOCUS, CSV, M365 report).")
        parser.add_argument("--replace-with-nothing", action="store_true",
                            help="Let a read that finds no records empty a month that holds records of the source.")

    def handle(self, *args, source: str, period: str | None = None, file: str | None = None,
               replace_with_nothing: bool = False, **options):
        try:
            cost_source = CostSource.objects.get(name=source)
        except CostSource.DoesNotExist:
            raise CommandError(f"Unknown cost source {source!r}") from None
        try:
            month = Period.parse(period) if period else Period.month(timezone.localdate().year,
                                                                      timezone.localdate().month)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        path = Path(file) if file else None
        try:
            run = ingestion_run_create(source=cost_source, period=month, trigger=RunTrigger.COMMAND,
                                       filename=path.name if path else "", replace_with_nothing=replace_with_nothing)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        run = ingestion_run_execute(run=run, path=path)
        if run.status != RunStatus.SUCCEEDED:
            raise CommandError(f"Run {run.pk} of {cost_source.name} for {month.label} failed: {run.error}")
        self.stdout.write(
            f"{cost_source.name} {month.label}: read {run.rows_read}, wrote {run.rows_written}, "
            f"skipped {run.rows_skipped}; unallocated {run.unallocated_amount} (run {run.pk})"
        )
        if run.warning:
            self.stdout.write(run.warning)
