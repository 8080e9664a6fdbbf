"""Verdicts on possible-duplicate pairs (governance.sprawl.services.pair_decisions and the selectors that read them):
who may decide, one row per pair in a fixed order, a new verdict replacing the old, undo, the audit rows, and what the
possible-duplicates list makes of them."""

from __future__ import annotations

import pytest
from auditlog.models import LogEntry
from django.core.exceptions import PermissionDenied, ValidationError

from governance.choices import AuditEvent, DuplicateVerdict
from governance.models import DuplicatePairDecision
from governance.sprawl import selectors
from governance.sprawl.analysis import Duplicate
from governance.sprawl.services.clusters import sprawl_cluster_confirm, sprawl_cluster_dismiss, sprawl_member_remove
from governance.sprawl.services.pair_decisions import duplicate_pair_decide, duplicate_pair_undo
from portfolio.choices import Stage
from tests.factories import InitiativeFactory, UserFactory
from tests.governance.sprawl.factories import SprawlClusterFactory
from tollgate.roles import Role

pytestmark = pytest.mark.django_db

DUP, NOT = DuplicateVerdict.DUPLICATE, DuplicateVerdict.NOT_DUPLICATE


def trail(event: str) -> list[LogEntry]:
    return list(LogEntry.objects.filter(additional_data__event=event).order_by("pk"))


# The service ---------------------------------------------------------------------------------------------------------


def test_a_verdict_is_stored_once_per_pair_lower_id_first_with_an_audit_row(reviewer, initiative, other_initiative):
    low, high = sorted((initiative, other_initiative), key=lambda i: i.pk)
    decision = duplicate_pair_decide(actor=reviewer, initiative=high, other=low, verdict=NOT,
                                     reason="  Invoices, not receipts. ")
    assert (decision.initiative_a_id, decision.initiative_b_id) == (low.pk, high.pk)
    assert decision.reason == "Invoices, not receipts." and decision.decided_by == reviewer
    [row] = trail(AuditEvent.DUPLICATE_PAIR_DECIDED)
    assert row.action == LogEntry.Action.CREATE and row.actor == reviewer
    assert row.changes_dict == {"verdict": [None, "not_duplicate"]}
    assert row.additional_data["initiatives"] == [low.pk, high.pk]
    assert row.additional_data["reason"] == "Invoices, not receipts."


def test_a_new_verdict_replaces_the_old_and_the_trail_keeps_both(reviewer, admin_user, initiative, other_initiative):
    first = duplicate_pair_decide(actor=reviewer, initiative=initiative, other=other_initiative, verdict=DUP,
                                  reason="Same job.")
    second = duplicate_pair_decide(actor=admin_user, initiative=other_initiative, other=initiative, verdict=NOT,
                                   reason="Different customers, different job.")
    assert second.pk == first.pk and DuplicatePairDecision.objects.count() == 1
    second.refresh_from_db()
    assert second.verdict == NOT and second.decided_by == admin_user
    rows = trail(AuditEvent.DUPLICATE_PAIR_DECIDED)
    assert [r.changes_dict["verdict"] for r in rows] == [[None, "duplicate"], ["duplicate", "not_duplicate"]]
    assert rows[1].action == LogEntry.Action.UPDATE


def test_the_same_verdict_again_writes_nothing(reviewer, initiative, other_initiative):
    duplicate_pair_decide(actor=reviewer, initiative=initiative, other=other_initiative, verdict=DUP,
                          reason="Same job.")
    duplicate_pair_decide(actor=reviewer, initiative=other_initiative, other=initiative, verdict=DUP,
                          reason="Same job.")
    assert len(trail(AuditEvent.DUPLICATE_PAIR_DECIDED)) == 1


@pytest.mark.parametrize(("verdict", "reason", "field"), [
    (NOT, "", "reason"),
    (NOT, "   ", "reason"),
    (DUP, "", "reason"),  # "duplicate of" says why too: a later reviewer reads it, the cluster's evidence quotes it
    (DUP, "  ", "reason"),
    (NOT, "x" * 501, "reason"),
    ("maybe", "", "verdict"),
])
def test_bad_input_names_the_field_and_writes_nothing(reviewer, initiative, other_initiative, verdict, reason, field):
    with pytest.raises(ValidationError) as error:
        duplicate_pair_decide(actor=reviewer, initiative=initiative, other=other_initiative, verdict=verdict,
                              reason=reason)
    assert field in error.value.message_dict
    assert not DuplicatePairDecision.objects.exists() and not trail(AuditEvent.DUPLICATE_PAIR_DECIDED)


def test_an_initiative_is_not_its_own_duplicate(reviewer, initiative):
    with pytest.raises(ValidationError, match="not a possible duplicate of itself"):
        duplicate_pair_decide(actor=reviewer, initiative=initiative, other=initiative, verdict=DUP, reason="Same job.")
    assert not DuplicatePairDecision.objects.exists()


@pytest.mark.parametrize("role", [Role.OWNER, Role.EXECUTIVE])
def test_only_reviewers_and_administrators_decide(role, initiative, other_initiative):
    with pytest.raises(PermissionDenied):
        duplicate_pair_decide(actor=UserFactory(role=role), initiative=initiative, other=other_initiative,
                              verdict=DUP, reason="Same job.")
    assert not DuplicatePairDecision.objects.exists()


@pytest.mark.parametrize("role", [Role.REVIEWER, Role.ADMIN])
@pytest.mark.parametrize("tie", ["owns the initiative", "owns the other", "delegate of the other",
                                 "delegate of the other's owner"])
def test_nobody_decides_on_a_pair_they_own_or_act_for(role, tie, initiative, other_initiative):
    person = UserFactory(role=role)
    if tie == "owns the initiative":
        initiative.owner = person
        initiative.save()
    elif tie == "owns the other":
        other_initiative.owner = person
        other_initiative.save()
    elif tie == "delegate of the other":
        other_initiative.delegates.add(person)
    else:
        other_initiative.owner.profile.delegates.add(person)
    with pytest.raises(PermissionDenied, match="owns neither"):
        duplicate_pair_decide(actor=person, initiative=initiative, other=other_initiative, verdict=DUP,
                              reason="Same job.")
    decision = duplicate_pair_decide(actor=UserFactory(role=role), initiative=initiative, other=other_initiative,
                                     verdict=DUP, reason="Same job.")
    with pytest.raises(PermissionDenied):
        duplicate_pair_undo(actor=person, decision=decision)
    assert DuplicatePairDecision.objects.filter(pk=decision.pk).exists()


def test_undo_deletes_the_verdict_and_the_trail_keeps_it(reviewer, initiative, other_initiative):
    decision = duplicate_pair_decide(actor=reviewer, initiative=initiative, other=other_initiative, verdict=NOT,
                                     reason="Different job.")
    duplicate_pair_undo(actor=reviewer, decision=decision)
    assert not DuplicatePairDecision.objects.exists()
    [row] = trail(AuditEvent.DUPLICATE_PAIR_UNDONE)
    assert row.action == LogEntry.Action.DELETE and row.object_pk == str(decision.pk)
    assert row.changes_dict == {"verdict": ["not_duplicate", None]}
    assert row.additional_data["reason"] == "Different job."
    with pytest.raises(ValidationError, match="already undone"):
        duplicate_pair_undo(actor=reviewer, decision=decision)
    assert len(trail(AuditEvent.DUPLICATE_PAIR_UNDONE)) == 1


# Selectors -----------------------------------------------------------------------------------------------------------


def test_decisions_for_the_recomputation_and_for_one_pair(reviewer, initiative, other_initiative):
    third = InitiativeFactory()
    together = duplicate_pair_decide(actor=reviewer, initiative=third, other=initiative, verdict=DUP,
                                     reason="Same job.")
    apart = duplicate_pair_decide(actor=reviewer, initiative=other_initiative, other=third, verdict=NOT,
                                  reason="Different job.")
    found = selectors.duplicate_pair_decisions()
    assert sorted(found) == sorted([
        (min(initiative.pk, third.pk), max(initiative.pk, third.pk), True, together.decided_at),
        (min(other_initiative.pk, third.pk), max(other_initiative.pk, third.pk), False, apart.decided_at),
    ])
    assert all(a < b for a, b, _, _ in found)
    assert selectors.pair_decision_for(initiative, third) == together == selectors.pair_decision_for(third, initiative)
    assert selectors.pair_decision_for(initiative, other_initiative) is None


def test_the_list_hides_not_duplicates_and_pins_duplicates_first(reviewer, engine, initiative):
    ranked = [InitiativeFactory(name=f"Candidate {n}") for n in range(7)]
    unranked = InitiativeFactory(name="Decided long ago")
    engine["state"]["duplicates"] = [Duplicate(c.pk, 0.9 - n / 20, [f"reason {n}"]) for n, c in enumerate(ranked)]
    duplicate_pair_decide(actor=reviewer, initiative=initiative, other=ranked[0], verdict=NOT, reason="Other job.")
    duplicate_pair_decide(actor=reviewer, initiative=initiative, other=ranked[3], verdict=DUP, reason="Same job.")
    duplicate_pair_decide(actor=reviewer, initiative=initiative, other=unranked, verdict=DUP, reason="Same job.")

    listed = selectors.initiative_possible_duplicates(initiative)

    names = [d.initiative.name for d in listed]
    assert names == ["Candidate 3", "Decided long ago", "Candidate 1", "Candidate 2", "Candidate 4"]
    assert listed[0].score == pytest.approx(0.75) and listed[0].decision.verdict == DUP
    assert listed[1].score is None and listed[1].decision.verdict == DUP
    assert all(d.decision is None for d in listed[2:])
    # The engine was asked for as many more as there are decided pairs, so the list stays five long.
    assert engine["calls"]["draft_duplicates"][0]["top"] == 5 + 3
    assert [d.other_than(initiative.pk) for d in selectors.not_duplicates_of(initiative)] == [ranked[0].pk]


def test_a_draft_of_a_new_initiative_is_not_filtered(reviewer, engine, initiative, other_initiative):
    duplicate_pair_decide(actor=reviewer, initiative=initiative, other=other_initiative, verdict=NOT, reason="No.")
    engine["state"]["duplicates"] = [Duplicate(other_initiative.pk, 0.8, ["similar purpose"])]
    listed = selectors.draft_possible_duplicates(name="Notes", description="Meeting notes")
    assert [d.initiative for d in listed] == [other_initiative]
    assert selectors.draft_possible_duplicates(name="Notes", description="", exclude_id=initiative.pk) == []


# Verdicts that would contradict a stage or a cluster decision --------------------------------------------------------


@pytest.mark.parametrize("stage", [Stage.KILLED, Stage.RETIRED, Stage.REJECTED])
@pytest.mark.parametrize("verdict", [DUP, NOT])
def test_a_verdict_on_a_pair_holding_an_ended_initiative_is_refused(reviewer, initiative, other_initiative, stage,
                                                                    verdict):
    """Ended initiatives are left out of clusters: a "duplicate of" with one chained the live initiatives it was
    decided with into one cluster."""
    other_initiative.stage = stage
    other_initiative.save()
    with pytest.raises(ValidationError) as refused:
        duplicate_pair_decide(actor=reviewer, initiative=initiative, other=other_initiative, verdict=verdict,
                              reason="Same job.")
    assert "other" in refused.value.message_dict and str(other_initiative) in str(refused.value)
    with pytest.raises(ValidationError, match="initiative"):
        duplicate_pair_decide(actor=reviewer, initiative=other_initiative, other=initiative, verdict=verdict,
                              reason="Same job.")
    assert not DuplicatePairDecision.objects.exists() and not trail(AuditEvent.DUPLICATE_PAIR_DECIDED)


def test_not_a_duplicate_inside_a_confirmed_cluster_is_refused_until_a_member_is_removed(reviewer, admin_user):
    a, b, c = InitiativeFactory.create_batch(3)
    cluster = SprawlClusterFactory(initiatives=[a, b, c])
    sprawl_cluster_confirm(actor=admin_user, cluster=cluster)
    with pytest.raises(ValidationError, match="remove one of them from it first"):
        duplicate_pair_decide(actor=reviewer, initiative=a, other=b, verdict=NOT, reason="Different data.")
    assert not DuplicatePairDecision.objects.exists()
    duplicate_pair_decide(actor=reviewer, initiative=a, other=b, verdict=DUP, reason="Same job.")  # agrees: taken
    sprawl_member_remove(actor=admin_user, cluster=cluster, initiative=b, reason="Scores home, not motor, fraud.")
    decision = duplicate_pair_decide(actor=reviewer, initiative=a, other=b, verdict=NOT, reason="Different data.")
    assert decision.verdict == NOT


def test_duplicate_of_inside_a_dismissed_cluster_is_refused(reviewer, admin_user):
    a, b = InitiativeFactory.create_batch(2)
    cluster = SprawlClusterFactory(initiatives=[a, b])
    sprawl_cluster_dismiss(actor=admin_user, cluster=cluster, reason="A deliberate bake-off.")
    with pytest.raises(ValidationError, match="dismissed"):
        duplicate_pair_decide(actor=reviewer, initiative=b, other=a, verdict=DUP, reason="Same job.")
    assert not DuplicatePairDecision.objects.exists()
    assert duplicate_pair_decide(actor=reviewer, initiative=b, other=a, verdict=NOT, reason="Bake-off.").verdict == NOT
