"""How good the sprawl detector is against labelled duplicate clusters: the figures `make bench` prints."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations


def pairs(groups: Iterable[Sequence[str]]) -> set[frozenset[str]]:
    """Every unordered pair of members that share a group."""
    return {frozenset(pair) for group in groups for pair in combinations(sorted(set(group)), 2)}


@dataclass(frozen=True)
class Quality:
    precision: float
    recall: float
    f1: float
    top_k_hit_rate: float
    predicted_pairs: int
    true_pairs: int
    correct_pairs: int
    duplicate_members: int

    def as_dict(self) -> dict[str, float | int]:
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in self.__dict__.items()}


def measure(predicted: Iterable[Sequence[str]], labelled: Mapping[str, str],
            top: Mapping[str, Sequence[str]] | None = None, *,
            exclude: Iterable[frozenset[str]] = ()) -> Quality:
    """Pairwise precision / recall / F1 of the predicted clusters against `labelled` (member -> cluster label), and
    the share of labelled members with a true partner among their top candidates. Pairs in `exclude` (decided by a
    reviewer) count on neither side."""
    truth_groups: dict[str, list[str]] = {}
    for member, label in labelled.items():
        truth_groups.setdefault(label, []).append(member)
    excluded = set(exclude)
    truth = pairs(truth_groups.values()) - excluded
    found = pairs(predicted) - excluded
    correct = len(found & truth)
    precision = correct / len(found) if found else 0.0
    recall = correct / len(truth) if truth else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    hits = 0
    for member, label in labelled.items():
        candidates = (top or {}).get(member, [])
        if any(labelled.get(other) == label for other in candidates if other != member):
            hits += 1
    hit_rate = hits / len(labelled) if labelled else 0.0
    return Quality(precision=precision, recall=recall, f1=f1, top_k_hit_rate=hit_rate, predicted_pairs=len(found),
                   true_pairs=len(truth), correct_pairs=correct, duplicate_members=len(labelled))
