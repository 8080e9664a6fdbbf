"""Reads: policy values, the intake panel, available transitions and initiative history."""

from __future__ import annotations

from decimal import Decimal

import pytest

from governance.selectors import available_transitions, initiative_history, intake_panel, policy_rows
from governance.services import initiative_transition, policy_set
from portfolio.choices import Stage
from portfolio.services import business_case_save
from tests.governance.conftest import score_all

pytestmark = pytest.mark.django_db


def test_policy_rows_cover_every_definition(admin_user):
    policy_set(actor=admin_user, key="intake.approval_score", value="3.5")
    rows = {r.key: r for r in policy_rows()}
    assert rows["intake.quorum"].is_default and rows["intake.quorum"].value == 2
    assert not rows["intake.approval_score"].is_default
    score = rows["intake.approval_score"]
    assert score.value == Decimal("3.5") and score.updated_by == admin_user


def test_intake_panel(reviewer, second_reviewer, in_review, rubric):
    panel = intake_panel(in_review)
    assert panel.submission.round == 1 and panel.weighted_score is None and panel.quorum == 2
    score_all(reviewer, in_review, rubric, [5, 5, 5, 5, 5, 5])
    score_all(second_reviewer, in_review, rubric, [3, 3, 3, 3, 1, 1])  # (75+75+45+45+10+10)/100 = 2.6
    panel = intake_panel(in_review)
    assert panel.quorum_met and panel.weighted_score == Decimal("3.8")
    assert [c.score if c else None for c in panel.reviewers[0].cells] in ([5] * 6, [3, 3, 3, 3, 1, 1])


def test_available_transitions_per_role(owner, reviewer, executive, admin_user, in_review):
    assert [t.name for t in available_transitions(reviewer, in_review)] == ["request_changes", "approve", "reject"]
    assert [t.name for t in available_transitions(owner, in_review)] == ["withdraw"]
    assert available_transitions(executive, in_review) == []
    assert [t.name for t in available_transitions(admin_user, in_review)] == ["withdraw"]
    in_review.stage = Stage.PILOT
    assert [t.name for t in available_transitions(owner, in_review)] == ["promote", "retire"]
    assert [t.name for t in available_transitions(admin_user, in_review)] == ["promote", "retire", "kill"]


def test_history_includes_business_case_changes_and_transitions(owner, reviewer, in_review):
    initiative_transition(actor=reviewer, initiative=in_review, transition="request_changes", reason="More data.")
    business_case_save(actor=owner, initiative=in_review, problem="A sharper problem statement")
    history = initiative_history(in_review)
    assert history[0].content_type.model == "businesscase"
    transition = next(e for e in history if (e.additional_data or {}).get("event") == "transition")
    assert transition.additional_data["reason"] == "More data."
    assert len(initiative_history(in_review, limit=2)) == 2
