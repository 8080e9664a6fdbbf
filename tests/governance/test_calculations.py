"""The rubric arithmetic on numbers."""

from decimal import Decimal

from governance.calculations import panel_weighted_score, reviewer_weighted_score

WEIGHTS = {1: Decimal("25"), 2: Decimal("25"), 3: Decimal("15"), 4: Decimal("15"), 5: Decimal("10"), 6: Decimal("10")}


def test_reviewer_weighted_score_is_the_weighted_mean():
    scores = {1: 5, 2: 4, 3: 3, 4: 2, 5: 1, 6: 1}
    # (125 + 100 + 45 + 30 + 10 + 10) / 100 = 3.2
    assert reviewer_weighted_score(scores, WEIGHTS) == Decimal("3.2")


def test_a_partial_scoring_has_no_weighted_score():
    assert reviewer_weighted_score({1: 5, 2: 5}, WEIGHTS) is None
    assert reviewer_weighted_score({}, {}) is None


def test_scores_of_inactive_criteria_are_ignored():
    assert reviewer_weighted_score({1: 5, 2: 1, 99: 1}, {1: Decimal("3"), 2: Decimal("1")}) == Decimal("4")


def test_panel_score_is_the_mean_of_complete_reviewers():
    assert panel_weighted_score([Decimal("3.2"), Decimal("2.8"), None]) == Decimal("3.0")
    assert panel_weighted_score([None]) is None
