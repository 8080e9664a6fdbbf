"""The purpose metric learnt from duplicates (engine/metric.py)."""

from __future__ import annotations

import numpy as np
import pytest

from governance.sprawl.engine import metric


def _unit(rows: list[list[float]]) -> np.ndarray:
    matrix = np.asarray(rows, dtype=np.float32)
    return matrix / np.linalg.norm(matrix, axis=1, keepdims=True)


def test_the_differences_are_those_of_every_labelled_duplicate_pair():
    vectors = np.arange(12, dtype=np.float32).reshape(4, 3)
    labels = {"a": "one", "b": "one", "c": "one", "z": ""}
    differences = metric.duplicate_differences(vectors, ["a", "b", "c", "z"], labels)
    assert differences.shape == (3, 3)  # a-b, a-c, b-c; z is in no cluster
    assert np.allclose(differences[0], vectors[0] - vectors[1])
    assert metric.duplicate_differences(vectors, ["a", "b", "c", "z"], {}).shape == (0, 3)


def test_without_duplicates_the_metric_is_the_encoders_own_cosine():
    assert np.array_equal(metric.within_duplicate_metric(np.zeros((0, 4))), np.eye(4, dtype=np.float32))
    vectors = _unit([[1, 0.2, 0], [0.3, 1, 0.1]])
    assert np.array_equal(metric.apply(vectors, None), vectors)


def test_the_direction_duplicates_differ_in_counts_less():
    # Duplicates differ along the first axis (the vendor's name, say), never along the second (the job).
    rng = np.random.default_rng(7)
    differences = np.column_stack([rng.normal(0, 1.0, 200), rng.normal(0, 0.05, 200), rng.normal(0, 0.3, 200)])
    learnt = metric.within_duplicate_metric(differences, regulariser=0.3)
    assert learnt.shape == (3, 3) and np.allclose(learnt, learnt.T, atol=1e-6)
    same_job = _unit([[0.2, 1, 0.1], [0.9, 1, 0.1]])  # apart along the first axis only
    other_job = _unit([[0.2, 1, 0.1], [0.2, 0.4, 0.9]])
    before = (same_job[0] @ same_job[1], other_job[0] @ other_job[1])
    moved_same, moved_other = metric.apply(same_job, learnt), metric.apply(other_job, learnt)
    after = (moved_same[0] @ moved_same[1], moved_other[0] @ moved_other[1])
    assert after[0] > before[0]  # what duplicates differ by is discounted
    assert after[0] - after[1] > before[0] - before[1]
    assert np.allclose(np.linalg.norm(moved_same, axis=1), 1.0, atol=1e-6)


def test_a_large_regulariser_keeps_the_encoders_cosine():
    rng = np.random.default_rng(3)
    differences = rng.normal(0, 1, (50, 4)) * np.asarray([3.0, 1.0, 0.5, 0.1])
    vectors = _unit(rng.normal(0, 1, (6, 4)).tolist())
    moved = metric.apply(vectors, metric.within_duplicate_metric(differences, regulariser=1e6))
    assert np.allclose(moved @ moved.T, vectors @ vectors.T, atol=1e-4)


@pytest.mark.parametrize(("name", "dimension"), [("minilm", 384), ("mpnet", 768)])
def test_the_shipped_metrics_are_each_encoders_and_read_once(name, dimension):
    shipped = metric.load(name)
    assert shipped is metric.load(name) and shipped.shape == (dimension, dimension) and shipped.dtype == np.float32
    assert np.all(np.isfinite(shipped)) and np.linalg.matrix_rank(shipped) == dimension  # nothing projected away
    with pytest.raises(ValueError):
        shipped[0, 0] = 1.0  # shared by every index of the process: read-only


def test_near_misses_are_look_alikes_that_are_not_duplicates():
    vectors = _unit([[1, 0, 0], [0.95, 0.3, 0], [0.9, 0, 0.4], [0, 0, 1]])
    keys = ["a", "b", "c", "d"]
    identity = np.eye(3, dtype=np.float32)
    misses = metric.near_miss_differences(vectors, keys, {"a": "x", "b": "x"}, identity, near=1)
    # a's nearest is b, its duplicate: no near miss; c's nearest is a, d's nearest is c.
    assert misses.shape == (2, 3)
    assert np.allclose(misses[0], vectors[0] - vectors[2]) and np.allclose(misses[1], vectors[2] - vectors[3])
    assert metric.near_miss_differences(vectors[:1], keys[:1], {}, identity).shape == (0, 3)


def test_the_direction_near_misses_differ_in_counts_more():
    # Look-alikes that are not duplicates differ along the third axis (the object of a forecast, say).
    rng = np.random.default_rng(11)
    misses = np.column_stack([rng.normal(0, 0.05, 200), rng.normal(0, 0.05, 200), rng.normal(0, 1.0, 200)])
    identity = np.eye(3, dtype=np.float32)
    sharp = metric.sharpened(identity, misses)
    pair = _unit([[1, 1, 0.2], [1, 1, -0.2]])  # apart along the third axis only
    moved = metric.apply(pair, sharp)
    assert moved[0] @ moved[1] < pair[0] @ pair[1]
    assert metric.sharpened(identity, np.zeros((0, 3))) is identity


def test_learning_from_labelled_sets_shrinks_what_duplicates_differ_by_and_stretches_near_misses():
    rng = np.random.default_rng(5)
    jobs = _unit(rng.normal(0, 1, (12, 8)).tolist())
    vectors, keys, labels = [], [], {}
    for job, centre in enumerate(jobs):
        for member in range(3):  # three teams per job, differing along the first axis (their vendor)
            noise = np.zeros(8)
            noise[0] = rng.normal(0, 0.6)
            vectors.append(centre + noise)
            keys.append(f"{job}-{member}")
            labels[keys[-1]] = f"job {job}"
    vectors = np.asarray(vectors, dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    learnt = metric.learn([(vectors, keys, labels)])
    before, after = vectors @ vectors.T, metric.apply(vectors, learnt) @ metric.apply(vectors, learnt).T
    same = np.asarray([[labels[a] == labels[b] and a != b for b in keys] for a in keys])
    other = np.asarray([[labels[a] != labels[b] for b in keys] for a in keys])
    # Duplicates come closer than before, relative to the other pairs.
    assert after[same].mean() - after[other].mean() > before[same].mean() - before[other].mean()


def test_vectors_of_another_dimension_are_refused_with_the_reason():
    """A served model other than the one its calibration is for would otherwise fail in a matrix product."""
    with pytest.raises(ValueError, match="for 384-dimensional vectors and these have 3.*EMBEDDINGS_MODEL"):
        metric.apply(_unit([[1, 0, 0]]), metric.load("minilm"))
