"""`python manage.py apply_cost_config PATH`: cost sources and allocation rules as code (format in
portfolio/services/cost_config.py). Idempotent; an invalid file changes nothing and names the bad entry."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from portfolio.costs.services.config import CostConfigError, cost_config_apply_file


class Command(BaseCommand):
    help = "Create or update cost sources and allocation rules from a YAML file."

    def add_arguments(self, parser):
        parser.add_argument("path", help="YAML file with `sources:` and `rules:`.")

    def handle(self, *args, path: str, **options):
        try:
            result = cost_config_apply_file(path=path)
        except CostConfigError as exc:
            raise CommandError(f"{exc} (nothing was changed)") from None
        if not result.changed:
            self.stdout.write("No changes.")
            return
        self.stdout.write(
            f"Sources: {result.sources_created} created, {result.sources_updated} updated. Rules: "
            f"{result.rules_created} created, {result.rules_updated} updated, {result.rules_deleted} deleted."
        )
