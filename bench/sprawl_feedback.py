"""Benchmark: what reviewer decisions buy. F1 before and after feedback, on the pairs nobody decided.

    .venv/bin/python bench/sprawl_feedback.py [--sets holdout,heldout2,telco,pharma,council] [--share 0.3]

For each labelled set: the detector proposes its clusters (likely first, then possible, as a reviewer sees them); a
simulated reviewer decides the first 30% of them by the labels, as a person would with the three actions the product
offers: confirm the members that share a job (removing the others) or dismiss a cluster with no two members alike.
Those decisions become must-link and cannot-link pairs and refit the pair model (governance/sprawl/engine/pairs.py,
the shipped weights as the prior); the set is grouped again. Pairwise precision, recall and F1 of the likely clusters
are measured before and after, on the same pool: every pair except the decided ones. Pure: no database.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.sprawl_sets import DATA, REPORTING, SELECTION  # noqa: E402
from bench.sprawl_tune import load_archetypes, load_items, load_labels  # noqa: E402
from governance.sprawl.engine import pairs, scoring  # noqa: E402
from governance.sprawl.engine.embeddings import OnnxMiniLMEmbedder  # noqa: E402
from governance.sprawl.engine.quality import Quality, measure  # noqa: E402


def simulate_reviewer(proposed: list[scoring.ClusterResult], keys: list[str], labels: dict[str, str],
                      share: float) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """The must-link and cannot-link pairs (positions) a reviewer who knows the labels leaves on the first `share`
    of the proposed clusters."""
    must: list[tuple[int, int]] = []
    cannot: list[tuple[int, int]] = []
    for cluster in proposed[:math.ceil(share * len(proposed))]:
        tags = {m: labels.get(keys[m], f"alone:{keys[m]}") for m in cluster.members}
        label, count = Counter(tags.values()).most_common(1)[0]
        if count >= 2:  # confirm the members that share the job, remove the others
            kept = [m for m in cluster.members if tags[m] == label]
            must += [(a, b) for n, a in enumerate(kept) for b in kept[n + 1:]]
            cannot += [(r, k) for r in cluster.members if tags[r] != label for k in kept]
        else:  # dismiss
            cannot += [(a, b) for n, a in enumerate(cluster.members) for b in cluster.members[n + 1:]]
    return must, cannot


def run_set(name: str, embedder, index, share: float) -> tuple[Quality, Quality, Quality, int, int]:
    items = load_items(DATA / f"{name}_inventory.csv")
    labels = load_labels(DATA / f"{name}_labels.csv")
    scored = scoring.score_items(items, embedder.embed([i.purpose for i in items]), index)
    keys = [item.key for item in items]

    def quality(found: list[scoring.ClusterResult], decided: set[frozenset[str]]) -> Quality:
        return measure([[keys[m] for m in c.members] for c in found if c.confidence == scoring.LIKELY], labels,
                       exclude=decided)

    proposed = scoring.clusters(scored, pairs.SHIPPED)
    must, cannot = simulate_reviewer(proposed, keys, labels, share)
    decided = {frozenset((keys[a], keys[b])) for a, b in must + cannot}
    before = quality(proposed, decided)
    constrained = quality(scoring.clusters(scored, pairs.SHIPPED, must_link=must, cannot_link=cannot), decided)
    decisions = [pairs.Decision(pair=(a, b), same=same, features=scored.pair_features(a, b),
                                use_case=scored.shared_first_use_case(a, b))
                 for pair_list, same in ((must, True), (cannot, False)) for a, b in pair_list]
    model = pairs.refit(pairs.SHIPPED, decisions)
    after = quality(scoring.clusters(scored, model, must_link=must, cannot_link=cannot), decided)
    return before, constrained, after, math.ceil(share * len(proposed)), len(decisions)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sets", default=",".join((*SELECTION, *REPORTING)))
    parser.add_argument("--share", type=float, default=0.3, help="share of the proposed clusters decided")
    args = parser.parse_args()
    embedder = OnnxMiniLMEmbedder()
    index = scoring.build_catalogue_index(load_archetypes(), embedder.embed)
    print(f"Sprawl feedback: the first {args.share:.0%} of proposed clusters decided by a simulated reviewer; "
          f"figures on the undecided pairs")
    afters = []
    for name in [n for n in args.sets.split(",") if n]:
        before, constrained, after, clusters, decided = run_set(name, embedder, index, args.share)
        afters.append(after.f1)
        print(f"  {name:10} {clusters:3} clusters decided ({decided} pairs) | before: P {before.precision:.3f} "
              f"R {before.recall:.3f} F1 {before.f1:.3f} | constraints only: F1 {constrained.f1:.3f} | "
              f"constraints + refit: P {after.precision:.3f} R {after.recall:.3f} F1 {after.f1:.3f}")
    if afters:
        print(f"  after feedback: mean F1 {statistics.mean(afters):.3f}, worst {min(afters):.3f} "
              f"(target >= 0.75)")


if __name__ == "__main__":
    main()
