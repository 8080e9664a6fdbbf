"""Benchmark: sprawl detection quality on a labelled inventory, through the real commands.

    .venv/bin/python bench/sprawl_quality.py [--half SET | --reporting | --late | --sets A,B,C]

Imports the half's inventory with `import_initiatives` into a fresh SQLite database (as an operator would), runs
`detect_sprawl --json` and `possible_duplicates --top 5 --json`, and prints pairwise precision, recall and F1 of the
clusters against bench/sprawl/<half>_labels.csv, and the share of duplicate members whose true partner is in their
top 5. `--reporting` measures every reporting set (bench/sprawl_sets.py: written by authors who saw neither the
catalogue nor another set, never tuned on), each in a fresh database, and prints their mean and worst; `--late` the
late sets, `--sets` the sets named.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / "sprawl"
sys.path.insert(0, str(ROOT))

from bench.sprawl_sets import ALL, LATE, REPORTING, role  # noqa: E402
from bench.sprawl_setup import imported_set  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--half", default="holdout", choices=ALL)
    parser.add_argument("--reporting", action="store_true", help="every reporting set, with the mean and the worst")
    parser.add_argument("--late", action="store_true", help="every late set (after the method was fixed)")
    parser.add_argument("--sets", help="these sets (comma-separated), with their mean and worst")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # a child process measuring one set
    args = parser.parse_args()
    if args.sets:
        names = tuple(name for name in args.sets.split(",") if name)
        for name in names:
            role(name)  # an unknown name fails before anything runs
        return report_all(names, "The")
    if args.late:
        return report_all(LATE, "Late")
    if args.reporting:
        return report_all(REPORTING, "Reporting")
    measure_one(args.one or args.half)


def report_all(names: tuple[str, ...], label: str) -> None:
    """Each set in its own process (a fresh database each), then the mean and the worst."""
    import subprocess

    figures = []
    for name in names:
        output = subprocess.run([sys.executable, __file__, "--one", name], check=True, capture_output=True,
                                text=True).stdout
        print(output, end="")
        last = json.loads(output.strip().splitlines()[-1].removeprefix("  json: "))
        figures.append(last)
    print(f"{label} sets ({', '.join(names)}):")
    for key, label in (("precision", "pairwise precision"), ("recall", "pairwise recall"), ("f1", "pairwise F1"),
                       ("top5", "true partner in top 5")):
        values = [f[key] for f in figures]
        print(f"  {label:22} mean {sum(values) / len(values):.3f}   worst {min(values):.3f}")


def measure_one(half: str) -> None:
    args = argparse.Namespace(half=half)
    run = imported_set(args.half, "tollgate-sprawl-")
    from governance.sprawl.engine.quality import measure

    inventory = DATA / f"{args.half}_inventory.csv"
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
    print(f"Sprawl quality on the {args.half} set, a {role(args.half)} set ({rows} initiatives, "
          f"{len(set(labels.values()))} labelled clusters, {len(labels)} duplicate members)")
    print(f"  clusters found:        {len(clusters)}")
    print(f"  pairwise precision:    {quality.precision:.3f}  ({quality.correct_pairs}/{quality.predicted_pairs})")
    print(f"  pairwise recall:       {quality.recall:.3f}  ({quality.correct_pairs}/{quality.true_pairs})")
    print(f"  pairwise F1:           {quality.f1:.3f}   (target >= 0.65 with precision >= 0.7)")
    print(f"  true partner in top 5: {quality.top_k_hit_rate:.3f}   (target >= 0.95)")
    print(f"  detect_sprawl {detect_seconds:.1f}s (fresh process: catalogue vectors read from the database cache, "
          f"inventory embedded), then possible_duplicates {duplicates_seconds:.1f}s (embeddings cached)")
    print("  json: " + json.dumps({"set": args.half, "precision": round(quality.precision, 4),
                                   "recall": round(quality.recall, 4), "f1": round(quality.f1, 4),
                                   "top5": round(quality.top_k_hit_rate, 4)}))


if __name__ == "__main__":
    main()
