"""The pair model's words for what weighed most (engine/pairs.py); its fit and refit are tested with the scorer
(test_scoring.py)."""

from __future__ import annotations

from governance.sprawl.engine import pairs


def test_the_catalogues_agreements_are_said_once_with_their_qualifiers():
    contributions = dict.fromkeys(pairs.FEATURES, 0.0) | {
        "archetype_exact": 2.6, "archetype_rare": 3.7, "purpose": 1.0, "purpose_local": 0.4, "same_owner": -1.6}
    assert pairs.weighed_most(contributions) == [
        "the same job in the catalogue, one few initiatives here do",
        pairs.FEATURE_LABELS["purpose"],
    ]
    contributions |= {"archetype_specific": 2.2}
    assert pairs.weighed_most(contributions, limit=3) == [
        "the same job in the catalogue, one few initiatives here do, described by its tasks",
        pairs.FEATURE_LABELS["purpose"], pairs.FEATURE_LABELS["purpose_local"]]


def test_only_what_pushed_towards_the_same_job_is_named_largest_first():
    contributions = dict.fromkeys(pairs.FEATURES, 0.0) | {
        "archetype_exact": 0.5, "job_and_purpose": 1.9, "wording": 0.04, "same_department": -0.7}
    assert pairs.weighed_most(contributions, limit=5) == [pairs.FEATURE_LABELS["job_and_purpose"],
                                                          "the same job in the catalogue"]
    assert pairs.weighed_most(dict.fromkeys(pairs.FEATURES, 0.0)) == []
