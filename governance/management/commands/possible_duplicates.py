"""`python manage.py possible_duplicates --top 5 --json`: every initiative's likeliest duplicates."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from governance.sprawl.analysis import analyse_portfolio
from portfolio.models import Initiative


class Command(BaseCommand):
    help = "List, for every initiative, the initiatives most likely to do the same job."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--top", type=int, default=5, help="How many candidates per initiative (default 5).")
        parser.add_argument("--json", action="store_true", help="Print {external_id: [external_id, ...], ...}")

    def handle(self, *args, **options) -> None:
        top = options["top"]
        if top < 1:
            raise CommandError("--top must be at least 1.")
        analysis = analyse_portfolio(top=top)
        ids = dict(Initiative.objects.values_list("pk", "external_id"))
        result = {
            ids[pk]: [ids[d.initiative_id] for d in duplicates]
            for pk, duplicates in sorted(analysis.duplicates.items(), key=lambda kv: ids[kv[0]])
        }
        if options["json"]:
            self.stdout.write(json.dumps(result))
            return
        for external_id, candidates in result.items():
            self.stdout.write(f"{external_id}: {', '.join(candidates) or '-'}")
