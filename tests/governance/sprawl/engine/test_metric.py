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


def test_the_shipped_metric_is_minilms_and_read_once():
    shipped = metric.load("minilm")
    assert shipped is metric.load("minilm") and shipped.shape == (384, 384) and shipped.dtype == np.float32
    assert np.all(np.isfinite(shipped)) and np.allclose(shipped, shipped.T, atol=1e-4)
    with pytest.raises(ValueError):
        shipped[0, 0] = 1.0  # shared by every index of the process: read-only
