"""Review rounds and the plan: while in review the plan is locked; withdrawing to edit it closes the round, whose
scores stop counting; approval records the approved business-case version."""

from __future__ import annotations

from decimal import Decimal

import pytest
from auditlog.models import LogEntry
from django.core.exceptions import PermissionDenied, ValidationError

from governance.models import IntakeSubmission
from governance.selectors import intake_panel
from governance.services import TransitionError, initiative_transition
from portfolio import services as portfolio_services
from portfolio.choices import Stage
from portfolio.models import BusinessCaseVersion, Initiative
from portfolio.selectors import approved_plan
from tests.governance.conftest import score_all

pytestmark = pytest.mark.django_db


@pytest.fixture
def scored(in_review, reviewer, second_reviewer, rubric):
    """An intake in review that two reviewers scored above the threshold (the quorum): approvable as it stands."""
    score_all(reviewer, in_review, rubric, 4)
    score_all(second_reviewer, in_review, rubric, 4)
    assert intake_panel(in_review).quorum_met
    return in_review


def test_the_probe_an_owner_cannot_inflate_the_case_the_reviewers_scored(owner, scored):
    case = scored.business_case
    with pytest.raises(ValidationError, match="in review"):
        portfolio_services.business_case_save(actor=owner, initiative=scored,
                                              expected_monthly_value=(case.expected_monthly_value or 1) * 100)
    with pytest.raises(ValidationError, match="in review"):
        portfolio_services.initiative_update(actor=owner, initiative=scored, declared_monthly_cost=Decimal("1"))
    case.refresh_from_db()
    assert case.expected_monthly_value == scored.business_case.expected_monthly_value


def test_withdraw_then_edit_then_resubmit_is_a_new_round_where_old_scores_do_not_count(owner, reviewer, scored):
    initiative_transition(actor=owner, initiative=scored, transition="withdraw", reason="Volume was overstated.")
    assert scored.stage == Stage.PROPOSED
    entry = LogEntry.objects.filter(object_id=scored.pk, additional_data__transition="withdraw").get()
    assert entry.actor == owner and entry.additional_data["reason"] == "Volume was overstated."
    assert entry.additional_data["round"] == 1 and entry.changes == {"stage": [Stage.IN_REVIEW, Stage.PROPOSED]}
    first = IntakeSubmission.objects.get(initiative=scored, round=1)
    assert first.closed_at is not None and first.closed_by_transition == "withdraw"

    portfolio_services.business_case_save(actor=owner, initiative=scored, expected_monthly_volume=900)
    portfolio_services.initiative_update(actor=owner, initiative=scored, declared_monthly_cost=Decimal("1500"))

    initiative_transition(actor=owner, initiative=scored, transition="submit")
    panel = intake_panel(scored)
    assert panel.submission.round == 2 and panel.submission.is_open
    assert panel.reviewers == [] and panel.complete_count == 0 and not panel.quorum_met
    with pytest.raises(TransitionError, match="Quorum not reached: 0 of 2"):
        initiative_transition(actor=reviewer, initiative=scored, transition="approve")


def test_only_the_owner_side_withdraws_and_with_a_reason(owner, reviewer, scored):
    with pytest.raises(TransitionError) as refusal:
        initiative_transition(actor=owner, initiative=scored, transition="withdraw", reason=" ")
    assert "reason" in refusal.value.message_dict
    with pytest.raises(PermissionDenied):
        initiative_transition(actor=reviewer, initiative=scored, transition="withdraw", reason="Not mine to pull.")
    assert Initiative.objects.get(pk=scored.pk).stage == Stage.IN_REVIEW


def test_a_closed_round_never_counts_even_if_the_stage_is_set_back_to_review(owner, reviewer, second_reviewer, scored,
                                                                              rubric):
    """An import may set a stage directly: scores of a round that was sent back do not approve the intake."""
    initiative_transition(actor=reviewer, initiative=scored, transition="request_changes", reason="More data.")
    assert IntakeSubmission.objects.get(initiative=scored).closed_by_transition == "request_changes"
    Initiative.objects.filter(pk=scored.pk).update(stage=Stage.IN_REVIEW)
    scored.refresh_from_db()
    with pytest.raises(TransitionError, match="round is closed"):
        initiative_transition(actor=reviewer, initiative=scored, transition="approve")
    score_all(reviewer, scored, rubric, 5)  # scoring opens the next round
    assert intake_panel(scored).submission.round == 2 and intake_panel(scored).complete_count == 1


def test_approval_records_the_approved_version_and_closes_the_round(reviewer, scored):
    initiative_transition(actor=reviewer, initiative=scored, transition="approve", reason="Strong case.")
    version = BusinessCaseVersion.objects.get(initiative=scored)
    assert (version.number, version.approved_by, version.created_by, version.reason) == (1, reviewer, reviewer,
                                                                                       "Strong case.")
    assert version.is_approved and version.tco_monthly == scored.business_case.tco_monthly
    assert version.figures["expected_monthly_volume"] == scored.business_case.expected_monthly_volume
    assert version.figures["declared_monthly_cost"] == "1200.00"
    assert [k["id"] for k in version.kpis] == [k.pk for k in scored.kpis.all()]
    entry = LogEntry.objects.filter(object_id=scored.pk, additional_data__transition="approve").get()
    assert entry.additional_data["business_case_version"] == 1 and entry.additional_data["round"] == 1
    assert IntakeSubmission.objects.get(initiative=scored).closed_by_transition == "approve"
    assert approved_plan(scored).version == version


def test_edits_after_approval_keep_the_approved_version_as_the_yardstick(owner, reviewer, scored):
    initiative_transition(actor=reviewer, initiative=scored, transition="approve")
    approved_tco = scored.business_case.tco_monthly
    portfolio_services.business_case_save(actor=owner, initiative=scored, tco_inference=Decimal("80000"),
                                          min_viable_scale=1)
    versions = list(BusinessCaseVersion.objects.filter(initiative=scored).order_by("number"))
    assert [(v.number, v.is_approved) for v in versions] == [(1, True), (2, False)]
    assert versions[1].created_by == owner and versions[1].figures["min_viable_scale"] == 1
    plan = approved_plan(Initiative.objects.get(pk=scored.pk))
    assert plan.version == versions[0] and plan.tco_monthly == approved_tco
    assert plan.min_viable_scale == scored.business_case.min_viable_scale
