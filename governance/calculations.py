"""Pure arithmetic of the intake rubric: no ORM here, so it is tested on numbers alone."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal


def reviewer_weighted_score(scores: Mapping[int, int], weights: Mapping[int, Decimal]) -> Decimal | None:
    """sum(score x weight) / sum(weight) over the criteria in `weights` (the active ones).

    None when the reviewer has not scored every one of them: a partial scoring does not count.
    """
    if not weights or any(criterion not in scores for criterion in weights):
        return None
    total_weight = sum(weights.values(), Decimal("0"))
    weighted = sum((Decimal(scores[c]) * w for c, w in weights.items()), Decimal("0"))
    return weighted / total_weight


def panel_weighted_score(reviewer_scores: Iterable[Decimal | None]) -> Decimal | None:
    """Mean of the complete reviewers' weighted scores, unrounded (the threshold compares the exact figure);
    None while nobody has scored everything."""
    complete = [s for s in reviewer_scores if s is not None]
    if not complete:
        return None
    return sum(complete, Decimal("0")) / len(complete)


def plain_number(value: Decimal | int) -> str:
    """10, 2.5, 0.25: no exponent, no trailing zeros (Decimal.normalize() alone gives 1E+1)."""
    if isinstance(value, int):
        return str(value)
    return f"{value.normalize():f}"
