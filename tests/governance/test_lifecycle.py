"""Every transition of the lifecycle table, allowed and refused: wrong stage, wrong role, missing reason, guards."""

from __future__ import annotations

import pytest
from auditlog.models import LogEntry
from django.core.exceptions import PermissionDenied

from governance import evidence, guards, lifecycle
from governance.guards import complete_business_case
from governance.lifecycle import TRANSITIONS
from governance.models import IntakeSubmission
from governance.selectors import available_transitions
from governance.services import TransitionError, initiative_transition
from portfolio.choices import Stage
from portfolio.models import BusinessCase, Initiative
from tests.factories import InitiativeFactory, KPIFactory, UserFactory
from tests.governance.conftest import score_all
from tollgate.roles import Role

pytestmark = pytest.mark.django_db

# name -> (a source stage, the fixture allowed to do it, a reason to give)
ALLOWED = {
    "submit": (Stage.PROPOSED, "owner"),
    "withdraw": (Stage.IN_REVIEW, "owner"),
    "request_changes": (Stage.IN_REVIEW, "reviewer"),
    "approve": (Stage.IN_REVIEW, "reviewer"),
    "reject": (Stage.IN_REVIEW, "reviewer"),
    "start_pilot": (Stage.APPROVED, "owner"),
    "promote": (Stage.PILOT, "owner"),
    "retire": (Stage.PRODUCTION, "owner"),
    "kill": (Stage.PILOT, "reviewer"),
}
# Who may not, though they have a role: the owner may not decide on their own intake, a reviewer may not edit it.
REFUSED = {
    "submit": ["reviewer", "other_owner", "executive"],
    "withdraw": ["reviewer", "other_owner", "executive"],
    "request_changes": ["owner", "other_owner", "executive", "admin_user"],
    "approve": ["owner", "other_owner", "executive", "admin_user"],
    "reject": ["owner", "other_owner", "executive", "admin_user"],
    "start_pilot": ["reviewer", "other_owner", "executive"],
    "promote": ["other_owner", "executive"],
    "retire": ["reviewer", "other_owner", "executive"],
    "kill": ["owner", "other_owner", "executive"],
}


@pytest.fixture
def no_guards(monkeypatch):
    """Guards are tested on their own below; here only stage, role and reason matter."""
    for name, step in TRANSITIONS.items():
        monkeypatch.setitem(TRANSITIONS, name, lifecycle.Transition(**{**step.__dict__, "guards": ()}))


def test_the_table_lists_every_transition_once():
    assert set(TRANSITIONS) == set(ALLOWED)
    targets = {t.target for t in TRANSITIONS.values()}
    assert targets == set(Stage)
    assert {name for name, t in TRANSITIONS.items() if t.needs_reason} == {"withdraw", "request_changes", "reject",
                                                                          "retire", "kill"}


@pytest.mark.parametrize("name", list(ALLOWED))
def test_transition_allowed_moves_the_stage_and_writes_one_audit_row(request, no_guards, initiative, name):
    stage, who = ALLOWED[name]
    actor = request.getfixturevalue(who)
    Initiative.objects.filter(pk=initiative.pk).update(stage=stage)
    initiative.refresh_from_db()
    before = LogEntry.objects.count()
    result = initiative_transition(actor=actor, initiative=initiative, transition=name, reason="Because.")
    target = TRANSITIONS[name].target
    assert result.stage == target and initiative.stage == target
    assert Initiative.objects.get(pk=initiative.pk).stage == target
    assert LogEntry.objects.count() == before + 1
    entry = LogEntry.objects.latest("pk")
    assert entry.actor == actor and entry.object_id == initiative.pk
    assert entry.additional_data["event"] == "transition" and entry.additional_data["transition"] == name
    assert entry.additional_data["reason"] == "Because."
    assert entry.changes == {"stage": [stage, target]}


@pytest.mark.parametrize(("name", "who"), [(n, w) for n, ws in REFUSED.items() for w in ws])
def test_transition_refused_for_the_wrong_role(request, no_guards, initiative, name, who):
    stage, _ = ALLOWED[name]
    Initiative.objects.filter(pk=initiative.pk).update(stage=stage)
    initiative.refresh_from_db()
    actor = request.getfixturevalue(who)  # made first: creating an account is itself in the audit trail
    count = LogEntry.objects.count()
    with pytest.raises(PermissionDenied) as refusal:
        initiative_transition(actor=actor, initiative=initiative, transition=name, reason="Because.")
    assert Initiative.objects.get(pk=initiative.pk).stage == stage
    assert LogEntry.objects.count() == count
    # A sentence naming the initiative: "You may not request changes on …", not "request changes …".
    wanted = {"submit": "submit {} for review", "withdraw": "withdraw {} from review",
              "request_changes": "request changes on {}", "approve": "approve {}", "reject": "reject {}",
              "start_pilot": "start the pilot of {}", "promote": "promote {} to production", "retire": "retire {}",
              "kill": "kill {}"}[name]
    assert str(refusal.value) == f"You may not {wanted.format(initiative)}."


@pytest.mark.parametrize("name", list(ALLOWED))
def test_transition_refused_from_a_wrong_stage(request, no_guards, initiative, name):
    _, who = ALLOWED[name]
    wrong = next(s for s in Stage if s not in TRANSITIONS[name].sources)
    Initiative.objects.filter(pk=initiative.pk).update(stage=wrong)
    initiative.refresh_from_db()
    with pytest.raises(TransitionError, match="only possible from"):
        initiative_transition(actor=request.getfixturevalue(who), initiative=initiative, transition=name,
                              reason="Because.")
    assert Initiative.objects.get(pk=initiative.pk).stage == wrong


@pytest.mark.parametrize("name", ["withdraw", "request_changes", "reject", "retire", "kill"])
def test_transition_refused_without_a_reason(request, no_guards, initiative, name):
    stage, who = ALLOWED[name]
    Initiative.objects.filter(pk=initiative.pk).update(stage=stage)
    initiative.refresh_from_db()
    with pytest.raises(TransitionError) as info:
        initiative_transition(actor=request.getfixturevalue(who), initiative=initiative, transition=name,
                              reason="   ")
    assert "reason" in info.value.message_dict
    assert Initiative.objects.get(pk=initiative.pk).stage == stage


def test_a_reason_longer_than_a_verdict_rationale_is_refused_and_one_that_long_is_taken(reviewer, initiative):
    Initiative.objects.filter(pk=initiative.pk).update(stage=Stage.PILOT)
    initiative.refresh_from_db()
    with pytest.raises(TransitionError) as info:
        initiative_transition(actor=reviewer, initiative=initiative, transition="kill", reason="z" * 5001)
    assert info.value.message_dict["reason"] == ["Keep the reason to 5000 characters (it has 5001)."]
    assert Initiative.objects.get(pk=initiative.pk).stage == Stage.PILOT
    initiative_transition(actor=reviewer, initiative=initiative, transition="kill", reason="z" * 5000)
    assert Initiative.objects.get(pk=initiative.pk).stage == Stage.KILLED


def test_unknown_transition_is_refused(owner, initiative):
    with pytest.raises(TransitionError, match="Unknown transition"):
        initiative_transition(actor=owner, initiative=initiative, transition="teleport")


def test_delegate_may_submit_but_executive_owner_may_not(ready, rubric):
    delegate = UserFactory(role=Role.OWNER)
    ready.delegates.add(delegate)
    initiative_transition(actor=delegate, initiative=ready, transition="submit")
    assert ready.stage == Stage.IN_REVIEW

    boss = UserFactory(role=Role.EXECUTIVE)
    own = InitiativeFactory(owner=boss)
    with pytest.raises(PermissionDenied):
        initiative_transition(actor=boss, initiative=own, transition="submit")


def test_admin_who_is_not_involved_may_kill(admin_user, initiative):
    Initiative.objects.filter(pk=initiative.pk).update(stage=Stage.PRODUCTION)
    initiative.refresh_from_db()
    initiative_transition(actor=admin_user, initiative=initiative, transition="kill", reason="No value after 3 Qs.")
    assert initiative.stage == Stage.KILLED


# Guards ------------------------------------------------------------------------------------------------------------


def test_submit_guard_lists_every_missing_item(owner, initiative, rubric):
    with pytest.raises(TransitionError) as info:
        initiative_transition(actor=owner, initiative=initiative, transition="submit")
    messages = info.value.messages
    assert "The initiative has no business case." in messages
    assert "At least one KPI with a baseline and a target is needed." in messages

    BusinessCase.objects.create(initiative=initiative, problem="Slow triage")
    KPIFactory(initiative=initiative, baseline=None)
    problems = complete_business_case(initiative)
    for label in ("process it replaces", "baseline cost per outcome", "outcome unit", "expected outcomes per month",
                  "expected value per month", "minimum viable scale", "success criteria"):
        assert any(label in p for p in problems), label
    assert any("cost estimate" in p for p in problems)
    assert any("KPI" in p for p in problems)
    assert not any("problem it solves" in p for p in problems)
    assert Initiative.objects.get(pk=initiative.pk).stage == Stage.PROPOSED


def test_submit_guard_passes_with_a_complete_case(ready):
    assert complete_business_case(ready) == []


def test_submit_from_changes_requested_starts_a_new_round(owner, reviewer, in_review):
    initiative_transition(actor=reviewer, initiative=in_review, transition="request_changes",
                          reason="Quantify the baseline.")
    assert in_review.stage == Stage.CHANGES_REQUESTED
    initiative_transition(actor=owner, initiative=in_review, transition="submit")
    rounds = list(IntakeSubmission.objects.filter(initiative=in_review).order_by("round").values_list("round",
                                                                                                        flat=True))
    assert rounds == [1, 2]


def test_approve_needs_the_quorum(reviewer, second_reviewer, in_review, rubric):
    score_all(reviewer, in_review, rubric, 5)
    with pytest.raises(TransitionError, match="Quorum not reached: 1 of 2"):
        initiative_transition(actor=reviewer, initiative=in_review, transition="approve")
    score_all(second_reviewer, in_review, rubric, 4)
    initiative_transition(actor=reviewer, initiative=in_review, transition="approve")
    assert in_review.stage == Stage.APPROVED


def test_approve_needs_the_threshold(admin_user, reviewer, second_reviewer, in_review, rubric):
    score_all(reviewer, in_review, rubric, 3)
    score_all(second_reviewer, in_review, rubric, 2)  # mean 2.5 < 3.0
    with pytest.raises(TransitionError, match=r"2\.5 is below the approval threshold"):
        initiative_transition(actor=reviewer, initiative=in_review, transition="approve")
    from governance.services import policy_set

    policy_set(actor=admin_user, key="intake.approval_score", value="2.5")
    initiative_transition(actor=second_reviewer, initiative=in_review, transition="approve")
    assert in_review.stage == Stage.APPROVED


def test_a_quorum_of_one_is_a_policy(admin_user, reviewer, in_review, rubric):
    from governance.services import policy_set

    policy_set(actor=admin_user, key="intake.quorum", value=1)
    score_all(reviewer, in_review, rubric, 4)
    initiative_transition(actor=reviewer, initiative=in_review, transition="approve")
    assert in_review.stage == Stage.APPROVED


def test_scores_of_an_earlier_round_do_not_count(owner, reviewer, second_reviewer, in_review, rubric):
    score_all(reviewer, in_review, rubric, 5)
    score_all(second_reviewer, in_review, rubric, 5)
    initiative_transition(actor=reviewer, initiative=in_review, transition="request_changes", reason="Add a KPI.")
    initiative_transition(actor=owner, initiative=in_review, transition="submit")
    with pytest.raises(TransitionError, match="Quorum not reached: 0 of 2"):
        initiative_transition(actor=reviewer, initiative=in_review, transition="approve")


@pytest.mark.parametrize("becomes", ["delegate", "owners_delegate", "owner"])
def test_a_scoring_stops_counting_when_its_reviewer_becomes_owner_or_delegate(
        becomes, owner, reviewer, second_reviewer, third_reviewer, in_review, rubric):
    """Independence is judged when the decision is made, not only when the score was given: the high score of a
    reviewer who has since become a delegate (or the owner) would otherwise carry a weak intake over the threshold."""
    from governance.selectors import intake_panel

    score_all(reviewer, in_review, rubric, 5)
    score_all(second_reviewer, in_review, rubric, 2)
    if becomes == "delegate":
        in_review.delegates.add(reviewer)
    elif becomes == "owners_delegate":
        owner.profile.delegates.add(reviewer)
    else:
        Initiative.objects.filter(pk=in_review.pk).update(owner=reviewer)
        in_review.refresh_from_db()
    panel = intake_panel(in_review)
    assert (panel.complete_count, panel.weighted_score) == (1, 2)
    (former,) = [r for r in panel.reviewers if r.reviewer == reviewer]
    assert not former.counts and former.not_counted.startswith("no longer counts: now ")
    with pytest.raises(TransitionError, match="Quorum not reached: 1 of 2"):
        initiative_transition(actor=second_reviewer, initiative=in_review, transition="approve")
    score_all(third_reviewer, in_review, rubric, 2)
    with pytest.raises(TransitionError, match=r"weighted score 2\.0 is below the approval threshold"):
        initiative_transition(actor=second_reviewer, initiative=in_review, transition="approve")
    assert Initiative.objects.get(pk=in_review.pk).stage == Stage.IN_REVIEW


def test_promote_needs_scale_evidence(monkeypatch, owner, initiative):
    Initiative.objects.filter(pk=initiative.pk).update(stage=Stage.PILOT)
    initiative.refresh_from_db()
    monkeypatch.setattr(evidence.providers, "scale_evidence", lambda initiative: None)
    with pytest.raises(TransitionError, match="minimum viable scale"):
        initiative_transition(actor=owner, initiative=initiative, transition="promote")
    monkeypatch.setattr(evidence.providers, "scale_evidence", lambda initiative: "Q3: 6,000 outcomes/month")
    initiative_transition(actor=owner, initiative=initiative, transition="promote")
    assert initiative.stage == Stage.PRODUCTION


def test_scale_evidence_without_the_reviews_app_is_no_evidence(monkeypatch, initiative):
    monkeypatch.setattr(evidence, "providers", evidence.Providers())  # nothing registered
    assert evidence.scale_evidence(initiative) is None
    assert guards.minimum_viable_scale_reached(initiative) != []


def test_the_reviews_app_registers_its_evidence_at_start_up():
    from reviews import selectors as reviews_selectors

    assert evidence.providers.scale_evidence is reviews_selectors.scale_evidence
    assert evidence.providers.reported_users is reviews_selectors.reported_active_users
    assert evidence.providers.reviewer_backlog is reviews_selectors.reviewer_backlog


def test_every_guard_the_table_names_exists():
    named = {name for step in TRANSITIONS.values() for name in step.guards}
    assert named == set(guards.GUARDS)


def test_transitions_from_a_stage():
    assert [t.name for t in lifecycle.transitions_from(Stage.IN_REVIEW)] == ["withdraw", "request_changes", "approve",
                                                                             "reject"]
    assert lifecycle.transitions_from(Stage.KILLED) == []


# Who wrote a round is not independent of it ---------------------------------------------------------------------------


@pytest.fixture
def submitted_by_a_reviewer_delegate(owner, second_reviewer, ready, rubric):
    """The QA walk: the owner names a CoE reviewer as delegate, who submits for the owner; the owner then removes the
    delegation while the intake is in review."""
    from portfolio.services import initiative_update

    ready.delegates.add(second_reviewer)
    initiative_transition(actor=second_reviewer, initiative=ready, transition="submit")
    initiative_update(actor=owner, initiative=ready, delegates=[])
    assert not ready.delegates.exists()
    return ready


def test_who_submitted_a_round_as_delegate_may_neither_score_nor_decide_it(
        second_reviewer, reviewer, third_reviewer, submitted_by_a_reviewer_delegate, rubric):
    from governance.models import IntakeScore
    from governance.selectors import review_queue

    initiative = submitted_by_a_reviewer_delegate
    with pytest.raises(PermissionDenied, match="you submitted this round for the owner, .*another reviewer decides"):
        score_all(second_reviewer, initiative, rubric, 5)
    assert not IntakeScore.objects.filter(reviewer=second_reviewer).exists()
    assert initiative not in review_queue(user=second_reviewer)
    assert initiative in review_queue(user=reviewer)
    score_all(reviewer, initiative, rubric, 5)
    score_all(third_reviewer, initiative, rubric, 5)
    for name in ("approve", "reject", "request_changes"):
        with pytest.raises(PermissionDenied, match="you submitted this round for the owner"):
            initiative_transition(actor=second_reviewer, initiative=initiative, transition=name, reason="Fine.")
    assert Initiative.objects.get(pk=initiative.pk).stage == Stage.IN_REVIEW
    assert "approve" not in [t.name for t in available_transitions(second_reviewer, initiative)]
    initiative_transition(actor=reviewer, initiative=initiative, transition="approve")
    assert Initiative.objects.get(pk=initiative.pk).stage == Stage.APPROVED


def test_a_score_of_who_submitted_the_round_does_not_count(
        second_reviewer, reviewer, submitted_by_a_reviewer_delegate, rubric):
    """A scoring saved before the rule (or by a path around it) stays on the panel, with the reason, uncounted."""
    from governance.models import IntakeScore
    from governance.selectors import current_submission, intake_panel

    initiative = submitted_by_a_reviewer_delegate
    submission = current_submission(initiative)
    IntakeScore.objects.bulk_create([IntakeScore(submission=submission, reviewer=second_reviewer, criterion=c,
                                                 score=5) for c in rubric])
    score_all(reviewer, initiative, rubric, 2)
    panel = intake_panel(initiative)
    (theirs,) = [r for r in panel.reviewers if r.reviewer == second_reviewer]
    assert (theirs.complete, theirs.counts, theirs.not_counted) == (
        True, False, "does not count: submitted this round for the owner")
    assert (panel.complete_count, panel.weighted_score) == (1, 2)
    with pytest.raises(TransitionError, match="Quorum not reached: 1 of 2"):
        initiative_transition(actor=reviewer, initiative=initiative, transition="approve")


def test_who_edited_the_intake_during_the_round_may_not_score_it(owner, second_reviewer, reviewer, in_review, rubric):
    """A delegate who changes the initiative while it is in review wrote the round too, even once no longer a
    delegate; a reviewer who sets its use cases (a decision about the intake, not writing of it) stays independent."""
    from governance.sprawl.services.use_cases import initiative_use_cases_set
    from portfolio.services import initiative_update

    in_review.delegates.add(second_reviewer)
    initiative_update(actor=second_reviewer, initiative=in_review, tags=["edited-in-review"])
    initiative_update(actor=owner, initiative=in_review, delegates=[])
    initiative_use_cases_set(actor=reviewer, initiative=in_review, use_case_codes=[])
    with pytest.raises(PermissionDenied, match="you edited the intake during this round"):
        score_all(second_reviewer, in_review, rubric, 5)
    score_all(reviewer, in_review, rubric, 4)


def test_who_submitted_an_earlier_round_may_score_the_next(owner, second_reviewer, reviewer, ready, rubric):
    """Authorship is of a round: the owner's own resubmission opens a round their former delegate did not write."""
    ready.delegates.add(second_reviewer)
    initiative_transition(actor=second_reviewer, initiative=ready, transition="submit")
    ready.delegates.remove(second_reviewer)
    initiative_transition(actor=reviewer, initiative=ready, transition="request_changes", reason="Add a KPI.")
    initiative_transition(actor=owner, initiative=ready, transition="submit")
    score_all(second_reviewer, ready, rubric, 4)
