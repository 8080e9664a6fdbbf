"""`python manage.py detect_sprawl --json [--possible]`: the sprawl clusters of the current database, likely ones
(the shipped threshold) by default, with the reviewer decisions stored applied."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand

from governance.choices import SPRAWL_CONFIDENCES
from governance.sprawl.analysis import analyse_portfolio
from governance.sprawl.selectors import right_elsewhere
from portfolio.models import Initiative


class Command(BaseCommand):
    help = "Find groups of initiatives that do the same job (sprawl) in the current database."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--json", action="store_true",
                            help='Print [{"members": [external_id, ...], "score": f, "use_case": code, '
                                 '"confidence": "likely", "evidence": [...], "right_elsewhere": f}]; right_elsewhere '
                                 'is the share of pairs right among clusters of that score on labelled inventories '
                                 'nobody tuned on (null where not measured)')
        parser.add_argument("--possible", action="store_true",
                            help="Also list the possible clusters (below the shipped threshold), marked as such.")

    def handle(self, *args, **options) -> None:
        analysis = analyse_portfolio()
        ids = dict(Initiative.objects.values_list("pk", "external_id"))
        clusters: list[dict[str, Any]] = [
            {"members": sorted(ids[pk] for pk in cluster.member_ids), "score": round(cluster.score, 4),
             "use_case": cluster.use_case_code, "confidence": cluster.confidence, "evidence": list(cluster.evidence),
             "right_elsewhere": right_elsewhere(cluster.score)}
            for cluster in analysis.clusters
            if options["possible"] or cluster.confidence in SPRAWL_CONFIDENCES
        ]
        if options["json"]:
            self.stdout.write(json.dumps(clusters, indent=None))
            return
        if not clusters:
            self.stdout.write("No sprawl clusters found.")
        else:
            self.stdout.write("score  confidence  right elsewhere  use case                                  members")
        for cluster in clusters:
            members = ", ".join(cluster["members"])
            right = "-" if cluster["right_elsewhere"] is None else f"{cluster['right_elsewhere']:.2f}"
            self.stdout.write(f"{cluster['score']:.3f}  {cluster['confidence']:10}  {right:15}  "
                              f"{cluster['use_case'] or '-':40}  {members}")
