"""Choose the pair model's fixed thresholds on the selection sets, once: precision first.

    .venv/bin/python bench/sprawl_select.py

The weights were fitted on the tuning sets (bench/sprawl_tune.py --fit). This script groups each selection set
(bench/sprawl_sets.py SELECTION: held out from fitting) at a grid of thresholds with the shipped weights and prints
precision, recall and F1. Rule, precision first: the likely threshold is the one with the highest worst-set precision
among those whose worst-set F1 is at least 0.65 (ties: the lower threshold, for recall); the possible threshold is
the lowest at which every set's precision is at least 0.5. It reads only the selection sets: reporting sets only
report (bench/sprawl_quality.py).
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.sprawl_sets import DATA, SELECTION  # noqa: E402
from bench.sprawl_tune import load_archetypes, load_items, load_labels  # noqa: E402
from governance.sprawl.engine import pairs, scoring  # noqa: E402
from governance.sprawl.engine.embeddings import OnnxMiniLMEmbedder  # noqa: E402
from governance.sprawl.engine.quality import measure  # noqa: E402

GRID = (0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.92, 0.94, 0.96, 0.98)


def main() -> None:
    embedder = OnnxMiniLMEmbedder()
    index = scoring.build_catalogue_index(load_archetypes(), embedder.embed)
    results: dict[float, dict[str, object]] = {t: {} for t in GRID}
    for name in SELECTION:
        items = load_items(DATA / f"{name}_inventory.csv")
        labels = load_labels(DATA / f"{name}_labels.csv")
        scored = scoring.score_items(items, embedder.embed([i.purpose for i in items]), index)
        keys = [item.key for item in items]
        for threshold in GRID:
            model = dataclasses.replace(pairs.SHIPPED, threshold=threshold)
            found = [[keys[m] for m in c.members] for c in scoring.clusters(scored, model, possible=False)]
            results[threshold][name] = measure(found, labels)
    likely = possible = None
    best = -1.0
    for threshold in GRID:
        row = results[threshold]
        worst = min(q.precision for q in row.values())  # type: ignore[attr-defined]
        if possible is None and worst >= 0.5:
            possible = threshold
        if min(q.f1 for q in row.values()) >= 0.65 and worst > best:  # type: ignore[attr-defined]
            likely, best = threshold, worst
        print(f"threshold {threshold:.2f}: " + " | ".join(
            f"{name}: P {q.precision:.3f} R {q.recall:.3f} F1 {q.f1:.3f}" for name, q in row.items()))  # type: ignore
    print(f"chosen: likely threshold {likely}, possible threshold {possible} "
          f"(shipped: {pairs.SHIPPED.threshold}, {pairs.SHIPPED.possible})")


if __name__ == "__main__":
    main()
