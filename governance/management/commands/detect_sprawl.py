"""`python manage.py detect_sprawl --json`: the sprawl clusters of the current database."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand

from governance.sprawl.analysis import analyse_portfolio
from portfolio.models import Initiative


class Command(BaseCommand):
    help = "Find groups of initiatives that do the same job (sprawl) in the current database."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--json", action="store_true", help='Print [{"members": [external_id, ...], "score": f}]')

    def handle(self, *args, **options) -> None:
        analysis = analyse_portfolio()
        ids = dict(Initiative.objects.values_list("pk", "external_id"))
        clusters: list[dict[str, Any]] = [
            {"members": sorted(ids[pk] for pk in cluster.member_ids), "score": round(cluster.score, 4),
             "use_case": cluster.use_case_code}
            for cluster in analysis.clusters
        ]
        if options["json"]:
            self.stdout.write(json.dumps(clusters, indent=None))
            return
        if not clusters:
            self.stdout.write("No sprawl clusters found.")
        for cluster in clusters:
            members = ", ".join(cluster["members"])
            self.stdout.write(f"{cluster['score']:.3f}  {cluster['use_case'] or '-':40}  {members}")
