"""`python manage.py load_use_cases [PATH]`: load or update the use-case catalogue (default: the shipped file).

Idempotent: use cases are created or updated by code, administrators' own are never touched; an invalid file
changes nothing and every problem names its entry. `migrate` runs the same load on the shipped file.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from governance.sprawl.engine.catalogue import CATALOGUE_PATH, CatalogueError
from governance.sprawl.services.use_cases import use_case_catalogue_load


class Command(BaseCommand):
    help = "Create or update the use-case catalogue from its YAML file."

    def add_arguments(self, parser):
        parser.add_argument("path", nargs="?", default=str(CATALOGUE_PATH),
                            help=f"Catalogue YAML (default: {CATALOGUE_PATH}).")

    def handle(self, *args, path: str, **options):
        try:
            result = use_case_catalogue_load(path=path)
        except CatalogueError as exc:
            raise CommandError("; ".join(exc.messages) + " (nothing was changed)") from None
        self.stdout.write(
            f"Use-case catalogue {result.version}: {len(result.created)} created, {len(result.updated)} updated, "
            f"{len(result.unchanged)} unchanged, {len(result.retired)} retired."
        )
