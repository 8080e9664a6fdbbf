"""Choose the pair model's fixed thresholds on the selection sets, once: precision first.

    .venv/bin/python bench/sprawl_select.py [--cosine]

The weights were fitted on the tuning sets (bench/sprawl_tune.py --fit). This script groups each selection set
(bench/sprawl_sets.py SELECTION: held out from fitting) at a grid of thresholds with the shipped weights and prints
precision, recall and F1. Rule, precision first: the likely threshold is the lowest at which the selection sets'
mean precision is at least 0.75 (the lowest, to win back what recall it can; if none reaches it, the one with the
highest mean precision); the possible threshold is the lowest at which their mean precision is at least 0.5. Each
company counts once, whatever its size. Until 2026-12-05 (three selection sets) the rule asked it of every set; with
six, four of them written by independent authors, one hard set alone held the threshold at 0.90, where the mean F1
fell to half (docs/sprawl-quality.md, "Six selection sets, a shared owner and the thresholds"). The weights are
calibrated probabilities (pairs.fit), so the thresholds are probabilities too. It reads only the selection sets:
reporting sets only report (bench/sprawl_quality.py). `--cosine` chooses for MiniLM's pair model on its own cosine
(`pairs.COSINE`, bench/sprawl_tune.py --cosine --fit).

    .venv/bin/python bench/sprawl_select.py --temperatures 0.15,0.2,0.25,0.3,0.35,0.4,0.5

chooses how softly the configured encoder's calibration places initiatives on the catalogue (Params.temperature):
for each temperature the purpose metric and the weights are fitted on the tuning sets as `bench/sprawl_tune.py --fit`
fits them, the likely threshold is taken by the rule above, and the selection sets' average precision of the pair
probabilities is printed. Chosen, as the near-miss step was: the best mean average precision among the temperatures
whose mean F1 at their rule's threshold is at least the calibration's own temperature's.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.sprawl_sets import DATA, INDEPENDENT_SELECTION, SELECTION, TUNING  # noqa: E402
from bench.sprawl_tune import fit_model, load_archetypes, load_items, load_labels, tuned_calibration  # noqa: E402
from governance.sprawl.engine import calibration, pairs, scoring  # noqa: E402
from governance.sprawl.engine.quality import Quality, measure  # noqa: E402

GRID = (0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9)
LIKELY_PRECISION = 0.75
POSSIBLE_PRECISION = 0.5


def choose_thresholds(scored_sets: dict[str, scoring.Scored], labels: dict[str, dict[str, str]],
                      model: pairs.PairModel = pairs.SHIPPED, *, verbose: bool = True,
                      likely_over: tuple[str, ...] | None = None,
                      ) -> tuple[float, float | None, dict[float, dict[str, Quality]]]:
    """The rule above, on already scored selection sets: (likely threshold, possible threshold, figures per threshold).
    `likely_over` names the sets whose mean precision the likely threshold reads (all of them by default; the possible
    threshold always reads all). Shared with bench/sprawl_encoders.py, which refits the weights for each encoder and
    chooses its thresholds the same way."""
    results: dict[float, dict[str, Quality]] = {t: {} for t in GRID}
    for name, scored in scored_sets.items():
        keys = [str(item.key) for item in scored.items]
        for threshold in GRID:
            candidate = dataclasses.replace(model, threshold=threshold)
            found = [[keys[m] for m in c.members] for c in scoring.clusters(scored, candidate, possible=False)]
            results[threshold][name] = measure(found, labels[name])
    likely = possible = None
    best, best_threshold = -1.0, GRID[-1]
    for threshold in GRID:
        row = results[threshold]
        mean = sum(q.precision for q in row.values()) / len(row)
        over = [row[name].precision for name in (likely_over or row) if name in row]
        mean_over = sum(over) / len(over)
        if possible is None and mean >= POSSIBLE_PRECISION:
            possible = threshold
        if likely is None and mean_over >= LIKELY_PRECISION:
            likely = threshold
        if mean_over > best:
            best, best_threshold = mean_over, threshold
        if verbose:
            print(f"threshold {threshold:.2f}: mean P {mean:.3f}, F1 {sum(q.f1 for q in row.values()) / len(row):.3f}"
                  + (f", the likely rule's sets' mean P {mean_over:.3f}" if likely_over else "")
                  + " | " + " | ".join(f"{name}: P {q.precision:.3f} R {q.recall:.3f} F1 {q.f1:.3f}"
                                     for name, q in row.items()))
    return (likely if likely is not None else best_threshold), possible, results


def average_precision(probability: np.ndarray, same: np.ndarray) -> float:
    """Average precision of a ranking of pairs by probability (ties in the given order): how well the pair model
    orders duplicates before the rest, whatever the threshold."""
    ordered = same[np.argsort(-probability, kind="stable")]
    hits = np.cumsum(ordered)
    precision = hits / np.arange(1, len(ordered) + 1)
    return float((precision * ordered).sum() / max(ordered.sum(), 1.0))


def pair_labels(items: list[scoring.Item], labels: dict[str, str]) -> np.ndarray:
    """1 for every upper-triangle pair of the same labelled cluster, 0 otherwise (np.triu_indices order)."""
    tags = [labels.get(str(item.key)) for item in items]
    rows, cols = np.triu_indices(len(items), 1)
    return np.asarray([1.0 if tags[a] and tags[a] == tags[b] else 0.0 for a, b in zip(rows, cols, strict=True)])


def choose_temperature(calibrated: calibration.Calibration, archetypes, embed,
                       temperatures: list[float]) -> float:
    """The temperature grid in the module's docstring; prints one line per temperature."""
    loaded = {name: (load_items(DATA / f"{name}_inventory.csv"), load_labels(DATA / f"{name}_labels.csv"))
              for name in (*TUNING, *SELECTION)}
    vectors = {name: embed([item.purpose for item in items]) for name, (items, _) in loaded.items()}
    figures: dict[float, tuple[float, float]] = {}
    for temperature in sorted({*temperatures, calibrated.params.temperature}):
        params = dataclasses.replace(calibrated.params, temperature=temperature)
        plain = dataclasses.replace(calibrated, params=params, purpose_metric="").catalogue_index(archetypes, embed)
        learnt, weights, bias = fit_model({name: (loaded[name][0], vectors[name], loaded[name][1]) for name in TUNING},
                                          plain, learn_metric=bool(calibrated.purpose_metric))
        model = dataclasses.replace(calibrated.model, weights=weights, bias=bias)
        index = dataclasses.replace(plain, purpose_metric=learnt)
        scored = {name: scoring.score_items(loaded[name][0], vectors[name], index) for name in SELECTION}
        precision = {name: average_precision(s.probability(slice(None), model=model)[np.triu_indices(len(s.items), 1)],
                                             pair_labels(loaded[name][0], loaded[name][1]))
                     for name, s in scored.items()}
        likely, _, results = choose_thresholds(scored, {name: loaded[name][1] for name in SELECTION}, model,
                                               verbose=False)
        row = results[likely]
        mean_ap, mean_f1 = statistics.mean(precision.values()), statistics.mean(q.f1 for q in row.values())
        figures[temperature] = (mean_ap, mean_f1)
        print(f"temperature {temperature:.2f}: likely {likely:.2f}, mean P "
              f"{statistics.mean(q.precision for q in row.values()):.3f} F1 {mean_f1:.3f} | average precision "
              + " / ".join(f"{precision[name]:.3f}" for name in SELECTION) + f" (mean {mean_ap:.3f})", flush=True)
    floor = figures[calibrated.params.temperature][1]
    return max((t for t, (_, f1) in figures.items() if f1 >= floor), key=lambda t: figures[t][0])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cosine", action="store_true",
                        help="MiniLM's pair model on its own cosine, without the learnt metric (pairs.COSINE)")
    parser.add_argument("--rule", choices=("all", "independent"), default="all",
                        help="whose mean precision the likely threshold reads: every selection set (all) or only those "
                             "written by independent authors (bench/sprawl_sets.py INDEPENDENT_SELECTION)")
    parser.add_argument("--temperatures", help="choose the catalogue placement's temperature from these (comma-"
                                               "separated), refitting on the tuning sets for each")
    args = parser.parse_args()
    archetypes = load_archetypes()  # sets Django up, whose settings name the embedder
    from governance.sprawl.engine.embeddings import get_embedder

    embedder = get_embedder()
    try:  # MiniLM, or a served model's (EMBEDDINGS_URL)
        calibrated = tuned_calibration(embedder.name, cosine=args.cosine)
    except ValueError as error:
        parser.error(str(error))
    if args.temperatures:
        chosen = choose_temperature(calibrated, archetypes, embedder.embed,
                                    [float(t) for t in args.temperatures.split(",") if t])
        print(f"{calibrated.encoder}: chosen: temperature {chosen} (shipped: {calibrated.params.temperature})")
        return
    index = calibrated.catalogue_index(archetypes, embedder.embed)
    scored_sets, labels = {}, {}
    for name in SELECTION:
        items = load_items(DATA / f"{name}_inventory.csv")
        labels[name] = load_labels(DATA / f"{name}_labels.csv")
        scored_sets[name] = scoring.score_items(items, embedder.embed([i.purpose for i in items]), index)
    likely, possible, _ = choose_thresholds(scored_sets, labels, calibrated.model,
                                            likely_over=INDEPENDENT_SELECTION if args.rule == "independent" else None)
    print(f"{calibrated.encoder}: chosen: likely threshold {likely}, possible threshold {possible} "
          f"(shipped: {calibrated.model.threshold}, {calibrated.model.possible})")


if __name__ == "__main__":
    main()
