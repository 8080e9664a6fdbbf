"""Benchmark: what reviewer decisions buy. F1 before and after feedback, on the pairs nobody decided.

    .venv/bin/python bench/sprawl_feedback.py [--sets holdout,heldout2,telco,pharma,council] [--share 0.3]

With the configured embedder and its calibration (engine/calibration.py): MiniLM in-process by default (with USE beside
it: EMBEDDINGS_BACKEND=onnx-minilm+use), or a served model (EMBEDDINGS_URL + EMBEDDINGS_MODEL, e.g.
bench/embeddings_server.py).

For each labelled set: the detector proposes its clusters (likely first, then possible, as a reviewer sees them); a
simulated reviewer decides the first 30% of them by the labels, as a person would with the three actions the product
offers: confirm the members that share a job (removing the others) or dismiss a cluster with no two members alike.
Those decisions become must-link and cannot-link pairs and refit the pair model (governance/sprawl/engine/pairs.py,
the shipped weights as the prior); the set is grouped again. Pairwise precision, recall and F1 of the likely clusters
are measured before and after, on the same pool: every pair except the decided ones. Pure: no database.

    .venv/bin/python bench/sprawl_feedback.py --choose-join [--cosine]

chooses, once, how alike to each member of a confirmed cluster an initiative must be to join it (PairModel.join):
on the tuning and selection sets only (it takes no --sets), lowering the bar from the likely threshold in steps of
0.05, the last one before some set's F1 or precision on the undecided pairs falls below what the same feedback gives
without joining. `--cosine`: for MiniLM's pair model on its own cosine (`pairs.COSINE`).
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import statistics
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.sprawl_sets import DATA, REPORTING, SELECTION, TUNING  # noqa: E402
from bench.sprawl_tune import load_archetypes, load_items, load_labels, tuned_calibration  # noqa: E402
from governance.sprawl.engine import pairs, scoring  # noqa: E402
from governance.sprawl.engine.embeddings import get_embedder  # noqa: E402
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


JOIN_STEP, JOIN_FLOOR = 0.05, 0.25  # the bars tried: from one step under the likely threshold down to the floor


def join_grid(model: pairs.PairModel) -> list[float]:
    """1 (a confirmed cluster takes in no one: the linkage alone), then the bars from one step under the model's
    likely threshold down to JOIN_FLOOR."""
    steps = int(round((model.threshold - JOIN_FLOOR) / JOIN_STEP))
    return [1.0, *(round(model.threshold - JOIN_STEP * k, 2) for k in range(1, steps + 1))]


@dataclasses.dataclass
class Feedback:
    """One set's figures on the undecided pairs: before any decision, with the constraints only, and with the
    constraints and the refit model."""

    before: Quality
    constrained: Quality
    after: Quality
    clusters: int
    decided: int


def scored_set(name: str, embedder, index) -> tuple[scoring.Scored, list[str], dict[str, str]]:
    items = load_items(DATA / f"{name}_inventory.csv")
    scored = scoring.score_items(items, embedder.embed([i.purpose for i in items]), index)
    return scored, [str(item.key) for item in items], load_labels(DATA / f"{name}_labels.csv")


def run_set(scored: scoring.Scored, keys: list[str], labels: dict[str, str], share: float,
            shipped: pairs.PairModel = pairs.SHIPPED) -> Feedback:
    def quality(found: list[scoring.ClusterResult], decided: set[frozenset[str]]) -> Quality:
        return measure([[keys[m] for m in c.members] for c in found if c.confidence == scoring.LIKELY], labels,
                       exclude=decided)

    proposed = scoring.clusters(scored, shipped)
    must, cannot = simulate_reviewer(proposed, keys, labels, share)
    decided = {frozenset((keys[a], keys[b])) for a, b in must + cannot}
    before = quality(proposed, decided)
    constrained = quality(scoring.clusters(scored, shipped, must_link=must, cannot_link=cannot), decided)
    decisions = [pairs.Decision(pair=(a, b), same=same, features=scored.pair_features(a, b),
                                use_case=scored.shared_first_use_case(a, b))
                 for pair_list, same in ((must, True), (cannot, False)) for a, b in pair_list]
    model = pairs.refit(shipped, decisions)
    after = quality(scoring.clusters(scored, model, must_link=must, cannot_link=cannot), decided)
    return Feedback(before, constrained, after, math.ceil(share * len(proposed)), len(decisions))


def choose_join(embedder, index, share: float, shipped: pairs.PairModel) -> float:
    """The rule in the module's docstring, on the tuning and selection sets; prints each bar's figures."""
    sets = {name: scored_set(name, embedder, index) for name in (*TUNING, *SELECTION)}
    results = {bar: {name: run_set(*sets[name], share, dataclasses.replace(shipped, join=bar)).after
                     for name in sets} for bar in join_grid(shipped)}
    for bar, row in results.items():
        print(f"join {bar:.2f}: " + " | ".join(f"{name}: P {q.precision:.3f} F1 {q.f1:.3f}" for name, q in row.items()))
    off, chosen = results[1.0], 1.0
    for bar, row in results.items():
        if not all(q.f1 >= off[name].f1 and q.precision >= off[name].precision for name, q in row.items()):
            break
        chosen = bar
    print(f"chosen: join {chosen} (shipped: {shipped.join})")
    return chosen


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sets", help=f"default: {','.join((*SELECTION, *REPORTING))}")
    parser.add_argument("--share", type=float, default=0.3, help="share of the proposed clusters decided")
    parser.add_argument("--choose-join", action="store_true",
                        help="choose the bar to join a confirmed cluster on the tuning and selection sets")
    parser.add_argument("--cosine", action="store_true",
                        help="MiniLM's pair model on its own cosine, without the learnt metric (pairs.COSINE)")
    args = parser.parse_args()
    if args.choose_join and args.sets:
        parser.error("--choose-join reads the tuning and selection sets only; it takes no --sets")
    archetypes = load_archetypes()  # sets Django up, whose settings name the embedder
    embedder = get_embedder()
    try:
        calibrated = tuned_calibration(embedder.name, cosine=args.cosine)
    except ValueError as error:
        parser.error(str(error))
    index = calibrated.catalogue_index(archetypes, embedder.embed)
    print(f"Sprawl feedback ({calibrated.encoder}): the first {args.share:.0%} of proposed clusters decided by a "
          f"simulated reviewer; figures on the undecided pairs")
    if args.choose_join:
        choose_join(embedder, index, args.share, calibrated.model)
        return
    afters = []
    for name in [n for n in (args.sets or ",".join((*SELECTION, *REPORTING))).split(",") if n]:
        result = run_set(*scored_set(name, embedder, index), args.share, calibrated.model)
        before, after = result.before, result.after
        afters.append(after.f1)
        print(f"  {name:10} {result.clusters:3} clusters decided ({result.decided} pairs) | before: P "
              f"{before.precision:.3f} R {before.recall:.3f} F1 {before.f1:.3f} | constraints only: F1 "
              f"{result.constrained.f1:.3f} | constraints + refit: P {after.precision:.3f} R {after.recall:.3f} "
              f"F1 {after.f1:.3f}")
    if afters:
        print(f"  after feedback: mean F1 {statistics.mean(afters):.3f}, worst {min(afters):.3f} "
              f"(target >= 0.75)")


if __name__ == "__main__":
    main()
