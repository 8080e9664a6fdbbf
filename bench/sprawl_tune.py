"""Tune the sprawl scorer's constants on the labelled tuning sets, never on the holdout half.

    .venv/bin/python bench/sprawl_tune.py [--grid] [--verbose] [--sets design,validation] [--fit [--save-metric]]
    .venv/bin/python bench/sprawl_tune.py --cosine --fit

It fits for the configured encoder: the in-process MiniLM (alone, or with USE beside it:
EMBEDDINGS_BACKEND=onnx-minilm+use), or a served model with a calibration of its own (EMBEDDINGS_URL +
EMBEDDINGS_MODEL, e.g. all-mpnet-base-v2 served by bench/embeddings_server.py), on that
calibration's cosine constants. `--cosine` fits MiniLM's pair model on its own cosine, without the learnt metric
(`pairs.COSINE`, what an encoder without a calibration of its own starts from: calibration.MINILM_COSINE).

The design half (Halvorsen Group) and the validation set (Meridian Health & Insurance, another company written by
another author) are for tuning; bench/sprawl_quality.py reports on the untouched holdout half.

Pure functions only (no database): the catalogue YAML, the inventory CSV and the labels CSV.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import itertools
import os
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from bench.sprawl_sets import DATA, TUNING  # noqa: E402
from governance.sprawl.engine import calibration, metric, pairs, scoring  # noqa: E402
from governance.sprawl.engine.quality import measure  # noqa: E402
from tollgate.text import possessive  # noqa: E402

CATALOGUE = ROOT / "governance" / "data" / "use_case_catalogue.yaml"


def load_archetypes(path: Path = CATALOGUE) -> list[scoring.Archetype]:
    """The catalogue as `load_use_cases` reads it (Django is set up for the models; no database is used)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tollgate.settings")
    import django

    django.setup()
    from governance.sprawl.analysis import archetypes_from_file

    return archetypes_from_file(path)


def load_items(path: Path) -> list[scoring.Item]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        return [
            scoring.Item(
                key=row["external_id"], name=row["name"], description=row["description"],
                vendors=tuple(v.strip() for v in row["vendors"].split(";") if v.strip()),
                models=tuple(m.strip() for m in row["models"].split(";") if m.strip()),
                category=row["category"], department=row["department"], owner=row.get("owner_email", "").lower(),
            )
            for row in csv.DictReader(handle)
        ]


def tuned_calibration(encoder: str, *, cosine: bool = False) -> calibration.Calibration:
    """The calibration a bench script fits or chooses for: the configured encoder's, or with `cosine` MiniLM's pair
    model on its own cosine (`pairs.COSINE`), which only the in-process MiniLM can be measured for."""
    calibrated = calibration.calibration_for(encoder)
    if not cosine:
        return calibrated
    if calibrated is not calibration.MINILM:
        raise ValueError(f"--cosine is MiniLM's model on its own cosine; the configured encoder is "
                         f"{calibrated.encoder}")
    return calibration.MINILM_COSINE


def load_labels(path: Path) -> dict[str, str]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        return {row["external_id"]: row["cluster"] for row in csv.DictReader(handle)}


def evaluate(items, vectors, index, labels, params, verbose=False, model=pairs.SHIPPED):
    scored = scoring.score_items(items, vectors, index, params)
    keys = [i.key for i in items]
    found = [[keys[m] for m in c.members] for c in scoring.clusters(scored, model, possible=False)]
    top = {keys[i]: [keys[j] for j, _ in row] for i, row in enumerate(scoring.top_duplicates(scored, top=5))}
    quality = measure(found, labels, top)
    if verbose:
        names = {i.key: i.name for i in items}
        truth: dict[str, list[str]] = {}
        for k, v in labels.items():
            truth.setdefault(v, []).append(k)
        print("\n-- predicted clusters")
        for group in found:
            tags = {labels.get(m, "-") for m in group}
            mark = "OK " if len(tags) == 1 and "-" not in tags else "BAD"
            print(mark, [f"{m}:{names[m][:28]}({labels.get(m, '-')})" for m in group])
        print("\n-- missed true clusters (members split or absent)")
        position = {k: n for n, k in enumerate(keys)}
        sugg = scoring.suggestions(scored.distribution, index.codes)
        for label, members in truth.items():
            if not any(set(members) <= set(g) for g in found):
                print(label, [(m, names[m][:30], sugg[position[m]][:2]) for m in members])
    return quality


def labelled_pairs(items, vectors, index, labels, params=None):
    """Every pair of a labelled set: its features (pairs.FEATURES order) and whether it is a true duplicate."""
    scored = scoring.score_items(items, vectors, index, params)
    features = scored.features(slice(None))
    upper = np.triu_indices(len(items), 1)
    x = np.stack([features[name][upper] for name in pairs.FEATURES], axis=1)
    label = [labels.get(item.key) for item in items]
    y = np.asarray([1.0 if label[a] and label[a] == label[b] else 0.0 for a, b in zip(*upper, strict=True)])
    return x, y


def unseen_metrics(sets: dict) -> tuple[np.ndarray, dict[str, np.ndarray | None]]:
    """The purpose metric learnt from every set's duplicates and near misses, and for each set the one learnt from
    the other sets (what the set looks like to a metric that never saw it; None when there is no other set)."""
    labelled = {name: (vectors, [i.key for i in items], labels) for name, (items, vectors, labels) in sets.items()}
    learnt = metric.learn(list(labelled.values()))
    unseen = {name: metric.learn([one for other, one in labelled.items() if other != name]) if len(labelled) > 1
              else None for name in labelled}
    return learnt, unseen


def fit_model(sets: dict, index: scoring.CatalogueIndex, *, learn_metric: bool = True,
              ) -> tuple[np.ndarray | None, tuple[float, ...], float]:
    """The purpose metric learnt from every set's labels, and the pair model's weights fitted on features whose
    metric each set had no part in (learnt from the other sets): a metric compares its own sets' duplicates far too
    well (average precision near 1), and weights fitted on that would trust it beyond what it earns elsewhere.
    Without `learn_metric`, no metric: the weights on the encoder's own cosine."""
    learnt, unseen = unseen_metrics(sets) if learn_metric else (None, dict.fromkeys(sets))
    x, y = [], []
    for name, (items, vectors, labels) in sets.items():
        features, same = labelled_pairs(items, vectors, dataclasses.replace(index, purpose_metric=unseen[name]),
                                        labels)
        x.append(features)
        y.append(same)
    weights, bias = pairs.fit(np.vstack(x), np.concatenate(y), fixed_zero=pairs.SHIPPED_ZERO)
    return learnt, weights, bias


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sets", default=",".join(TUNING), help="labelled sets to tune on (tuning sets only)")
    parser.add_argument("--grid", action="store_true")
    parser.add_argument("--fit", action="store_true",
                        help="fit the encoder's purpose metric and the pair model's weights on the sets' pairs")
    parser.add_argument("--save-metric", action="store_true",
                        help="with --fit: write the encoder's metric the product ships, under the name its "
                             "calibration gives it (governance/data/purpose_metric_<name>.npy)")
    parser.add_argument("--cosine", action="store_true",
                        help="MiniLM's pair model on its own cosine, without the learnt metric (pairs.COSINE)")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()
    names = [name for name in args.sets.split(",") if name]
    refused = [name for name in names if name not in TUNING]
    if refused:
        parser.error(f"{', '.join(refused)}: not a tuning set. Selection sets choose thresholds once "
                     f"(bench/sprawl_select.py) and reporting sets only report (bench/sprawl_quality.py); "
                     f"tuning sets: {', '.join(TUNING)}")
    started = time.perf_counter()
    archetypes = load_archetypes()  # sets Django up, whose settings name the embedder
    from governance.sprawl.engine.embeddings import get_embedder

    embedder = get_embedder()
    if args.cosine and args.save_metric:
        parser.error("--cosine fits no metric to save")
    try:
        calibrated = tuned_calibration(embedder.name, cosine=args.cosine)
    except ValueError as error:
        parser.error(str(error))
    if calibrated.adapt:
        parser.error(f"{calibrated.encoder} has no calibration of its own (engine/calibration.py) to fit for")
    if args.save_metric and not calibrated.purpose_metric:
        parser.error(f"{possessive(calibrated.encoder)} calibration names no purpose metric to write "
                     "(engine/calibration.py)")
    # The encoder as shipped: its constants and its purpose metric (learnt on these sets: their own figures flatter
    # it); the fit starts from the encoder's own cosine.
    plain = dataclasses.replace(calibrated, purpose_metric="").catalogue_index(archetypes, embedder.embed)
    index = dataclasses.replace(plain, purpose_metric=metric.load(calibrated.purpose_metric)) \
        if calibrated.purpose_metric and metric.path_of(calibrated.purpose_metric).exists() else plain
    print(f"{calibrated.encoder}: catalogue of {len(index.archetypes)} archetypes indexed in "
          f"{time.perf_counter() - started:.1f}s")
    sets = {}
    for name in names:
        items = load_items(DATA / f"{name}_inventory.csv")
        sets[name] = (items, embedder.embed([i.purpose for i in items]), load_labels(DATA / f"{name}_labels.csv"))

    def run(params, verbose=False):
        return {name: evaluate(items, vectors, index, labels, params, verbose=verbose,
                                 model=calibrated.model)
                for name, (items, vectors, labels) in sets.items()}

    def line(qualities):
        return " | ".join(f"{name}: F1 {q.f1:.3f} P {q.precision:.3f} R {q.recall:.3f} top5 {q.top_k_hit_rate:.3f}"
                          for name, q in qualities.items())

    print("shipped constants:", line(run(index.params, verbose=args.verbose)))
    if len(sets) > 1 and index.purpose_metric is not None:
        # The shipped metric has seen these sets' duplicates, which flatters them: each set again with the metric
        # learnt from the other sets only (fairer, though the weights were still fitted on every set).
        _, unseen = unseen_metrics(sets)
        print("each set's metric learnt from the others:", line({
            name: evaluate(items, vectors, dataclasses.replace(index, purpose_metric=unseen[name]), labels,
                           index.params, model=calibrated.model) for name, (items, vectors, labels) in sets.items()}))
    if args.fit:
        fitted_metric, weights, bias = fit_model(sets, plain, learn_metric=bool(calibrated.purpose_metric))
        print("fitted pair model:", dict(zip(pairs.FEATURES, weights, strict=True)), "bias", bias)
        if args.save_metric and fitted_metric is not None:
            print("purpose metric written to", metric.save(calibrated.purpose_metric, fitted_metric))
    if not args.grid:
        return
    grid = {
        "w_lexical": [1.0, 2.0],
        "temperature": [0.15, 0.2],
        "kernel_floor": [0.2, 0.3, 1.0],
        "w_archetype": [0.6, 0.7, 0.8],
        "threshold": [0.45, 0.5, 0.55],
    }
    results = []
    for values in itertools.product(*grid.values()):
        chosen: dict[str, Any] = dict(zip(grid, values, strict=True))
        qualities = run(dataclasses.replace(index.params, **chosen))
        results.append((min(q.f1 for q in qualities.values()), values, line(qualities)))
    results.sort(key=lambda row: row[0], reverse=True)
    print("best by the worst set's F1:", list(grid))
    for worst, values, text in results[:15]:
        print(f"{worst:.3f}", values, text)


if __name__ == "__main__":
    main()
