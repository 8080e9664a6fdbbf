"""Benchmark: how often a cluster of a given score was right, on the labelled inventories nobody tuned on.

    .venv/bin/python bench/sprawl_reliability.py [--save]

Each reporting and late set (bench/sprawl_sets.py) is imported with `import_initiatives` into a fresh SQLite
database, as bench/sprawl_quality.py does, and `detect_sprawl --json --possible` run on it. Every cluster found is
put in a band of its score (likely and possible apart) and its pairs are checked against the set's labels. The table
printed is, per band: the clusters, how many were wholly right (every pair labelled together) or wholly wrong, and
the share of their pairs that were right with its 95% interval. `--save` writes it to
governance/data/sprawl_reliability.json under the configured encoder's name: the cluster page shows a reviewer the
band of the cluster in front of them ("how often clusters like this were right elsewhere"). Nothing here chooses
anything; the sets only report.
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
from datetime import UTC, datetime
from itertools import combinations
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / "sprawl"
sys.path.insert(0, str(ROOT))

from bench.sprawl_sets import LATE, REPORTING  # noqa: E402
from bench.sprawl_setup import django_on_throwaway_sqlite, imported_set  # noqa: E402

OUTPUT = ROOT / "governance" / "data" / "sprawl_reliability.json"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--save", action="store_true", help=f"write the table to {OUTPUT.relative_to(ROOT)}")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # a child process measuring one set
    args = parser.parse_args()
    if args.one:
        return found_in(args.one)
    sets = (*REPORTING, *LATE)
    clusters: list[dict[str, Any]] = []
    encoder = ""
    for name in sets:
        output = subprocess.run([sys.executable, __file__, "--one", name], check=True, capture_output=True,
                                text=True).stdout
        found = json.loads(output.strip().splitlines()[-1])
        encoder = found["encoder"]
        clusters += found["clusters"]
        print(f"  {name}: {len(found['clusters'])} clusters")
    django_on_throwaway_sqlite("tollgate-reliability-")
    from governance.sprawl.engine import calibration
    from governance.sprawl.engine.quality import interval, score_bands

    model = calibration.calibration_for(encoder).model
    bands = score_bands(((c["score"], c["pairs"], c["right"]) for c in clusters), likely=model.threshold,
                        possible=model.possible)
    print(f"How often clusters were right on {', '.join(sets)} ({encoder}; likely from {model.threshold}, "
          f"possible from {model.possible}):")
    print(f"  {'confidence':10} {'score':11} {'clusters':>8} {'all right':>9} {'all wrong':>9} {'pairs right':>14}  "
          f"{'share':>5}  95% interval")
    for band in bands:
        bounds = interval(band["right"], band["pairs"])
        share = f"{band['right'] / band['pairs']:.3f}" if band["pairs"] else "—"
        span = f"{bounds[0]:.3f}-{bounds[1]:.3f}" if bounds else "—"
        print(f"  {band['confidence']:10} {band['low']:.2f}-{band['high']:.2f}  {band['clusters']:8} "
              f"{band['all_right']:9} {band['all_wrong']:9} {band['right']:6} of {band['pairs']:<4}  {share:>5}  "
              f"{span}")
    if args.save:
        stored = json.loads(OUTPUT.read_text()) if OUTPUT.exists() else {}
        stored[encoder] = {"measured": datetime.now(UTC).date().isoformat(), "sets": list(sets), "bands": bands}
        OUTPUT.write_text(json.dumps(stored, indent=1) + "\n")
        print(f"Saved to {OUTPUT.relative_to(ROOT)}")


def found_in(name: str) -> None:
    """One set in a fresh database: each cluster's score, confidence, pairs and pairs labelled together."""
    run = imported_set(name, "tollgate-reliability-")
    from governance.sprawl.engine.embeddings import get_embedder

    with (DATA / f"{name}_labels.csv").open(newline="", encoding="utf-8-sig") as handle:
        labels = {row["external_id"]: row["cluster"] for row in csv.DictReader(handle)}
    clusters = []
    for cluster in json.loads(run("detect_sprawl", "--json", "--possible")):
        pairs = list(combinations(cluster["members"], 2))
        right = sum(1 for a, b in pairs if a in labels and labels.get(a) == labels.get(b))
        clusters.append({"set": name, "score": cluster["score"], "confidence": cluster["confidence"],
                         "pairs": len(pairs), "right": right})
    print(json.dumps({"encoder": get_embedder().name, "clusters": clusters}))


if __name__ == "__main__":
    main()
