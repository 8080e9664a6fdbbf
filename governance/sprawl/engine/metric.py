"""How to compare two purposes: a metric on the sentence embeddings learnt from how duplicates' descriptions differ.

Two teams describing one job differ in ways a general-purpose encoder weighs as much as the job itself: the vendor
they bought, their department's vocabulary, how much they wrote. Within-class covariance normalisation (as speaker
verification uses it) estimates those directions from the labelled duplicates of the tuning sets (the differences of
every duplicate pair's vectors) and shrinks them: `x -> (S_w + r I)^(-1/2) x`, then L2-normalised, so the cosine of two
purposes counts more what duplicates share and less what they differ by. The regulariser `r` keeps the metric near the
encoder's own cosine where the duplicates say little. A second step does the opposite for near misses (two look-alike
initiatives that are not duplicates: a gas demand forecast and a power price forecast): the directions they differ in,
in the first step's space, are stretched by `(S_n + r I)^(1/2)`, as KISSME-style metric learning weighs dissimilar
pairs against similar ones.

It is fitted per encoder by `bench/sprawl_tune.py --fit` (the tuning sets only) and shipped beside the calibration
(`governance/data/purpose_metric_<encoder>.npy`); the pair model's weights are then fitted on features computed with
a metric each tuning set had no part in (learnt from the other three), so they trust it as much as it earns on a
company it has never seen. Pure; no ORM.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parents[2] / "data"

# Chosen on the selection sets (docs/sprawl-quality.md, "The learnt metric, how it was chosen"): the regulariser, as
# a share of the mean variance of the duplicates' differences, and the power of the normalisation (1/2: whitening of
# those differences).
REGULARISER = 0.3
POWER = 0.5
# Then the near misses (each item's 5 nearest that are not its duplicates): their differences' covariance to the power
# 1/2, the same regulariser.
NEAR = 5
SHARPEN = 0.5


def duplicate_differences(vectors: np.ndarray, keys: Sequence[str], labels: Mapping[str, str]) -> np.ndarray:
    """(pairs, d) the difference of the vectors of every labelled duplicate pair (both members in one cluster)."""
    groups: dict[str, list[int]] = {}
    for position, key in enumerate(keys):
        if labels.get(key):
            groups.setdefault(labels[key], []).append(position)
    rows = [vectors[a] - vectors[b] for members in groups.values()
            for n, a in enumerate(members) for b in members[n + 1:]]
    return np.asarray(rows, dtype=np.float64).reshape(-1, vectors.shape[1])


def covariance_power(differences: np.ndarray, exponent: float, *, regulariser: float = REGULARISER) -> np.ndarray:
    """(d, d) `(S + r I)^exponent`, S being the covariance of `differences` scaled to a mean variance of 1 (so `r`
    means the same for any encoder); the identity when there are no differences."""
    dimension = differences.shape[1]
    if not len(differences):
        return np.eye(dimension, dtype=np.float32)
    covariance = differences.T @ differences / len(differences)
    covariance *= dimension / max(float(np.trace(covariance)), 1e-12)
    values, vectors = np.linalg.eigh(covariance + regulariser * np.eye(dimension))
    return ((vectors * values ** exponent) @ vectors.T).astype(np.float32)


def within_duplicate_metric(differences: np.ndarray, *, regulariser: float = REGULARISER,
                            power: float = POWER) -> np.ndarray:
    """(d, d) the first step, `(S_w + r I)^(-power)` over the duplicates' differences: what they differ by shrinks."""
    return covariance_power(differences, -power, regulariser=regulariser)


def near_miss_differences(vectors: np.ndarray, keys: Sequence[str], labels: Mapping[str, str],
                          metric: np.ndarray, *, near: int = NEAR) -> np.ndarray:
    """(pairs, d) in the metric's space, the difference of every near miss: two items, one among the other's `near`
    nearest by the metric, that are not duplicates (each pair once)."""
    moved = apply(vectors, metric)
    n = len(moved)
    near = min(near, n - 1)
    if near < 1:
        return np.zeros((0, vectors.shape[1]))
    similarity = moved @ moved.T
    np.fill_diagonal(similarity, -np.inf)
    nearest = np.argpartition(-similarity, near - 1, axis=1)[:, :near]
    cluster = [labels.get(key) or None for key in keys]
    found = {(min(i, int(j)), max(i, int(j))) for i in range(n) for j in nearest[i]
             if cluster[i] is None or cluster[i] != cluster[int(j)]}
    rows = [moved[i] - moved[j] for i, j in sorted(found)]
    return np.asarray(rows, dtype=np.float64).reshape(-1, vectors.shape[1])


def sharpened(metric: np.ndarray, near_misses: np.ndarray, *, power: float = SHARPEN,
              regulariser: float = REGULARISER) -> np.ndarray:
    """`metric` followed by `(S_n + r I)^power`, S_n being the near misses' covariance in the metric's space scaled to
    a mean variance of 1: the directions in which look-alikes that are not duplicates differ count more (the object
    of a forecast, the audience of a chatbot). `metric` itself when there are no near misses."""
    if not len(near_misses):
        return metric
    return (metric @ covariance_power(near_misses, power, regulariser=regulariser)).astype(np.float32)


def learn(sets: Sequence[tuple[np.ndarray, Sequence[str], Mapping[str, str]]]) -> np.ndarray:
    """The metric from labelled sets ((vectors, keys, labels) each): shrink what duplicates differ by, then stretch
    what near misses differ by."""
    dimension = sets[0][0].shape[1]
    differences = [duplicate_differences(*one) for one in sets]
    learnt = within_duplicate_metric(np.vstack(differences) if differences else np.zeros((0, dimension)))
    misses = [near_miss_differences(*one, learnt) for one in sets]
    return sharpened(learnt, np.vstack(misses) if misses else np.zeros((0, dimension)))


def apply(vectors: np.ndarray, metric: np.ndarray | None) -> np.ndarray:
    """Vectors in the metric's space, L2-normalised (their products are the metric's cosines); as they are without
    one."""
    if metric is None:
        return np.asarray(vectors, dtype=np.float32)
    if np.shape(vectors)[-1] != metric.shape[0]:
        # A served model other than the one EMBEDDINGS_MODEL names: say so rather than fail in a matrix product.
        raise ValueError(f"the purpose metric is for {metric.shape[0]}-dimensional vectors and these have "
                         f"{np.shape(vectors)[-1]}: is the embedding model the one its calibration is for "
                         f"(EMBEDDINGS_MODEL)?")
    moved = np.asarray(vectors, dtype=np.float32) @ metric
    return (moved / np.maximum(np.linalg.norm(moved, axis=-1, keepdims=True), 1e-12)).astype(np.float32)


def path_of(name: str) -> Path:
    return DATA / f"purpose_metric_{name}.npy"


@functools.cache
def load(name: str) -> np.ndarray:
    """A shipped metric by name (read once per process)."""
    metric = np.load(path_of(name), allow_pickle=False)
    metric.setflags(write=False)
    return metric


def save(name: str, metric: np.ndarray) -> Path:
    path = path_of(name)
    np.save(path, np.asarray(metric, dtype=np.float32), allow_pickle=False)
    return path
