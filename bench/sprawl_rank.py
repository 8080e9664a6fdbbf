"""Compare rankings of possible duplicates on the tuning and selection sets: how often each labelled duplicate has a
true partner in its top 5.

    .venv/bin/python bench/sprawl_rank.py

With the configured embedder and its calibration, as the other sprawl benches: MiniLM in-process by default (with USE
beside it: EMBEDDINGS_BACKEND=onnx-minilm+use), or a served model (EMBEDDINGS_URL + EMBEDDINGS_MODEL, e.g.
bench/embeddings_server.py).

The shipped ranking (scoring.top_duplicates) fuses three lists by reciprocal rank: the ranking blend, the pair
model's probability and the portfolio's distinctive wording. This script prints, per set, the top-5 hit rate of each
list alone and of the fusion, so the choice can be repeated. It reads only the tuning and selection sets
(bench/sprawl_sets.py): the reporting and late sets only report (bench/sprawl_quality.py).
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from bench.sprawl_sets import DATA, SELECTION, TUNING  # noqa: E402
from bench.sprawl_tune import load_archetypes, load_items, load_labels  # noqa: E402
from governance.sprawl.engine import calibration, scoring  # noqa: E402


def hit_rate(keys: list[str], labels: dict[str, str], top: list[list[int]]) -> float:
    """Share of labelled members with a true partner among their candidates."""
    members = [n for n, key in enumerate(keys) if key in labels]
    hits = sum(any(labels.get(keys[j]) == labels[keys[i]] for j in top[i]) for i in members)
    return hits / len(members) if members else 0.0


def top_of(matrix: np.ndarray, k: int = 5) -> list[list[int]]:
    values = np.array(matrix, dtype=np.float32)
    np.fill_diagonal(values, -np.inf)
    return [list(np.argsort(-row, kind="stable")[:k]) for row in values]


def main() -> None:
    archetypes = load_archetypes()  # sets Django up, whose settings name the embedder
    from governance.sprawl.engine.embeddings import get_embedder

    embedder = get_embedder()
    calibrated = calibration.calibration_for(embedder.name)
    index = calibrated.catalogue_index(archetypes, embedder.embed)
    print(f"Possible duplicates' top 5 ({calibrated.encoder})")
    print(f"{'set':14} {'role':9} {'blend':>6} {'model':>6} {'wording':>7} {'fused':>6}")
    for role, names in (("tuning", TUNING), ("selection", SELECTION)):
        for name in names:
            items = load_items(DATA / f"{name}_inventory.csv")
            labels = load_labels(DATA / f"{name}_labels.csv")
            scored = scoring.score_items(items, embedder.embed([i.purpose for i in items]), index)
            keys = [str(item.key) for item in items]
            every = slice(None)
            # The three lists exactly as the fusion reads them (the wording list counts nothing between one owner's
            # initiatives).
            alone = [hit_rate(keys, labels, top_of(matrix)) for matrix in scoring._ranking_lists(
                scored, scored.features(every), scored._top, calibrated.model)]
            fused = hit_rate(keys, labels, [[j for j, _ in row] for row in scoring.top_duplicates(
                scored, model=calibrated.model)])
            print(f"{name:14} {role:9} " + " ".join(f"{v:6.3f}" for v in alone) + f" {fused:6.3f}")


if __name__ == "__main__":
    main()
