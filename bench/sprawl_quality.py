"""Benchmark: sprawl detection quality on a labelled inventory, through the real commands.

    .venv/bin/python bench/sprawl_quality.py [--half holdout|heldout2|design|validation]

Imports the half's inventory with `import_initiatives` into a fresh SQLite database (as an operator would), runs
`detect_sprawl --json` and `possible_duplicates --top 5 --json`, and prints pairwise precision, recall and F1 of the
clusters against bench/sprawl/<half>_labels.csv, and the share of duplicate members whose true partner is in their
top 5. The scorer was tuned on the design and validation sets only; holdout and heldout2 are the figures to quote.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / "sprawl"
sys.path.insert(0, str(ROOT))

from bench.sprawl_setup import django_on_throwaway_sqlite  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--half", default="holdout", choices=["holdout", "heldout2", "design", "validation"])
    args = parser.parse_args()
    django_on_throwaway_sqlite("tollgate-sprawl-")
    from django.core.management import call_command

    from governance.sprawl.engine.quality import measure

    def run(*command: str) -> str:
        out = io.StringIO()
        call_command(*command, stdout=out)
        return out.getvalue()

    run("migrate", "--noinput", "-v", "0")
    inventory = DATA / f"{args.half}_inventory.csv"
    run("import_initiatives", str(inventory))
    # The import queued a recomputation (run in-process here), which filled the catalogue's vector cache; forget the
    # initiatives' embeddings and the in-process index, so the first command pays what a fresh process would.
    from governance.models import InitiativeEmbedding
    from governance.sprawl import analysis

    InitiativeEmbedding.objects.all().delete()
    analysis._catalogue_index.cache_clear()
    started = time.perf_counter()
    clusters = json.loads(run("detect_sprawl", "--json"))
    detect_seconds = time.perf_counter() - started
    started = time.perf_counter()
    top = json.loads(run("possible_duplicates", "--top", "5", "--json"))
    duplicates_seconds = time.perf_counter() - started
    with (DATA / f"{args.half}_labels.csv").open(newline="", encoding="utf-8-sig") as handle:
        labels = {row["external_id"]: row["cluster"] for row in csv.DictReader(handle)}
    quality = measure([c["members"] for c in clusters], labels, top)
    with inventory.open(newline="", encoding="utf-8-sig") as handle:
        rows = sum(1 for _ in csv.DictReader(handle))
    print(f"Sprawl quality on the {args.half} set ({rows} initiatives, {len(set(labels.values()))} labelled "
          f"clusters, {len(labels)} duplicate members)")
    print(f"  clusters found:        {len(clusters)}")
    print(f"  pairwise precision:    {quality.precision:.3f}  ({quality.correct_pairs}/{quality.predicted_pairs})")
    print(f"  pairwise recall:       {quality.recall:.3f}  ({quality.correct_pairs}/{quality.true_pairs})")
    print(f"  pairwise F1:           {quality.f1:.3f}   (target >= 0.6 with precision >= 0.6)")
    print(f"  true partner in top 5: {quality.top_k_hit_rate:.3f}   (target >= 0.9)")
    print(f"  detect_sprawl {detect_seconds:.1f}s (fresh process: catalogue vectors read from the database cache, "
          f"inventory embedded), then possible_duplicates {duplicates_seconds:.1f}s (embeddings cached)")


if __name__ == "__main__":
    main()
