"""Intake scores, policies and the append-only audit trail."""

from __future__ import annotations

from decimal import Decimal

import pytest
from auditlog.models import LogEntry
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, transaction

from governance.models import IntakeScore, Policy
from governance.selectors import intake_panel, policy_value
from governance.services import intake_scores_save, policy_set
from portfolio.choices import Stage
from portfolio.models import Initiative
from tests.factories import UserFactory
from tests.governance.conftest import score_all
from tollgate.roles import Role

pytestmark = pytest.mark.django_db


# Scores ------------------------------------------------------------------------------------------------------------


def test_a_reviewer_scores_every_criterion_and_the_score_is_audited(reviewer, in_review, rubric):
    saved = score_all(reviewer, in_review, rubric, [5, 4, 3, 2, 1, 1])
    assert len(saved) == 6 and IntakeScore.objects.filter(reviewer=reviewer).count() == 6
    entry = LogEntry.objects.filter(object_id=in_review.pk, additional_data__event="score").get()
    assert entry.actor == reviewer
    assert entry.additional_data["round"] == 1 and entry.additional_data["weighted_score"] == "3.20"
    assert entry.changes["score: Strategic fit"] == [None, 5]
    panel = intake_panel(in_review)
    assert panel.weighted_score == Decimal("3.2") and panel.complete_count == 1 and not panel.quorum_met


def test_revising_scores_replaces_them_and_audits_before_and_after(reviewer, in_review, rubric):
    score_all(reviewer, in_review, rubric, 3)
    score_all(reviewer, in_review, rubric, [4, 3, 3, 3, 3, 3])
    assert IntakeScore.objects.filter(reviewer=reviewer).count() == 6
    entry = LogEntry.objects.filter(additional_data__event="score").latest("pk")
    assert entry.changes == {"score: Strategic fit": [3, 4]}


@pytest.mark.parametrize("who", ["owner", "other_owner", "executive", "admin_user"])
def test_only_reviewers_score(request, in_review, rubric, who):
    with pytest.raises(PermissionDenied):
        score_all(request.getfixturevalue(who), in_review, rubric)
    assert not IntakeScore.objects.exists()


def test_a_reviewer_who_owns_or_is_delegate_may_not_score(in_review, rubric):
    owning_reviewer = UserFactory(role=Role.REVIEWER)
    Initiative.objects.filter(pk=in_review.pk).update(owner=owning_reviewer)
    with pytest.raises(PermissionDenied):
        score_all(owning_reviewer, in_review, rubric)
    delegate_reviewer = UserFactory(role=Role.REVIEWER)
    in_review.delegates.add(delegate_reviewer)
    with pytest.raises(PermissionDenied):
        score_all(delegate_reviewer, in_review, rubric)
    profile_delegate = UserFactory(role=Role.REVIEWER)
    owning_reviewer.profile.delegates.add(profile_delegate)
    with pytest.raises(PermissionDenied):
        score_all(profile_delegate, in_review, rubric)
    assert not IntakeScore.objects.exists()


def test_scores_only_while_in_review(reviewer, ready, rubric):
    with pytest.raises(ValidationError, match="only intakes in review"):
        score_all(reviewer, ready, rubric)


def test_every_active_criterion_is_required_and_scores_are_1_to_5(reviewer, in_review, rubric):
    with pytest.raises(ValidationError) as info:
        intake_scores_save(actor=reviewer, initiative=in_review, scores=[
            {"criterion": rubric[0].pk, "score": 6},
            {"criterion": rubric[1].pk, "score": "x"},
            {"criterion": 999999, "score": 3},
        ])
    messages = info.value.message_dict["scores"]
    assert any("Strategic fit" in m and "1 to 5" in m for m in messages)
    assert any("Strength of the value case" in m and "1 to 5" in m for m in messages)
    assert any("999999" in m for m in messages)
    assert any(m.startswith("Score every criterion; missing:") and "Cost realism" in m for m in messages)
    assert not IntakeScore.objects.exists()
    assert not LogEntry.objects.filter(additional_data__event="score").exists()


def test_inactive_criteria_are_not_scored(reviewer, in_review, rubric):
    rubric[-1].active = False
    rubric[-1].save()
    score_all(reviewer, in_review, rubric[:-1], 4)
    with pytest.raises(ValidationError, match="not an active criterion"):
        score_all(reviewer, in_review, rubric, 4)


def test_an_imported_intake_in_review_gets_its_first_round_when_scored(reviewer, initiative, rubric):
    Initiative.objects.filter(pk=initiative.pk).update(stage=Stage.IN_REVIEW)
    score_all(reviewer, initiative, rubric)
    assert initiative.submissions.get().round == 1


# Policies ------------------------------------------------------------------------------------------------------------


def test_policy_defaults_and_types():
    assert policy_value("intake.quorum") == 2 and isinstance(policy_value("intake.quorum"), int)
    assert policy_value("intake.approval_score") == Decimal("3.0")


def test_policy_set_changes_the_value_and_audits_it(admin_user):
    policy = policy_set(actor=admin_user, key="intake.quorum", value="3")
    assert policy_value("intake.quorum") == 3 and policy.updated_by == admin_user
    entry = LogEntry.objects.get(additional_data__event="policy_change")
    assert entry.actor == admin_user and entry.additional_data["key"] == "intake.quorum"
    assert entry.changes == {"value": ["2", "3"]}
    policy_set(actor=admin_user, key="intake.quorum", value=4)
    assert Policy.objects.count() == 1 and policy_value("intake.quorum") == 4


def test_a_policy_is_named_plainly_and_its_value_saved_again_writes_nothing(admin_user):
    """1e2 is 100 in the trail's object column, not 1E+2; saving the value in force is not a change."""
    policy = policy_set(actor=admin_user, key="licence.utilisation_floor_pct", value="1e2")
    assert str(policy) == "licence.utilisation_floor_pct = 100"
    (entry,) = LogEntry.objects.filter(additional_data__event="policy_change")
    assert entry.object_repr == "licence.utilisation_floor_pct = 100"
    for same in ("100", "100.00", "1e2", 100):
        policy_set(actor=admin_user, key="licence.utilisation_floor_pct", value=same)
    policy_set(actor=admin_user, key="intake.quorum", value="2")  # the default in force, with no row yet
    assert LogEntry.objects.filter(additional_data__event="policy_change").count() == 1
    assert list(Policy.objects.values_list("key", flat=True)) == ["licence.utilisation_floor_pct"]
    assert str(policy_set(actor=admin_user, key="intake.approval_score", value="3.25")) == \
        "intake.approval_score = 3.25"


@pytest.mark.parametrize(("key", "value", "message"), [
    ("intake.quorum", "2.5", "whole number"),
    ("intake.quorum", "0", "between 1 and 10"),
    ("intake.quorum", "11", "between 1 and 10"),
    ("intake.approval_score", "abc", "not a number"),
    ("intake.approval_score", "5.5", "between 1 and 5"),
    ("intake.approval_score", "NaN", "finite"),
    ("intake.approval_score", "3.12345", "4 decimal places"),
])
def test_policy_validation(admin_user, key, value, message):
    with pytest.raises(ValidationError, match=message) as info:
        policy_set(actor=admin_user, key=key, value=value)
    assert "value" in info.value.message_dict
    assert not Policy.objects.exists() and not LogEntry.objects.filter(additional_data__event="policy_change").exists()


def test_the_second_reminder_stays_after_the_first_naming_the_other_policy(admin_user):
    with pytest.raises(ValidationError) as refused:
        policy_set(actor=admin_user, key="reviews.second_reminder_days", value="30")
    assert refused.value.message_dict["value"] == [
        "Second reminder must be less than the first reminder (14 days before due): the second reminder comes after "
        "the first, nearer the due date."]
    policy_set(actor=admin_user, key="reviews.second_reminder_days", value="10")
    with pytest.raises(ValidationError) as refused:
        policy_set(actor=admin_user, key="reviews.first_reminder_days", value="10")
    assert "First reminder must be more than the second reminder (10 days before due)" in str(refused.value)
    policy_set(actor=admin_user, key="reviews.first_reminder_days", value="11")
    assert (policy_value("reviews.first_reminder_days"), policy_value("reviews.second_reminder_days")) == (11, 10)


def test_unknown_policy_is_refused(admin_user):
    with pytest.raises(ValidationError, match="Unknown policy"):
        policy_set(actor=admin_user, key="intake.nonsense", value=1)


@pytest.mark.parametrize("who", ["owner", "reviewer", "executive"])
def test_only_administrators_change_policies(request, who):
    with pytest.raises(PermissionDenied):
        policy_set(actor=request.getfixturevalue(who), key="intake.quorum", value=3)
    assert policy_value("intake.quorum") == 2


# Append-only audit trail -------------------------------------------------------------------------------------------


@pytest.fixture
def entry(admin_user):
    policy_set(actor=admin_user, key="intake.quorum", value=3)
    return LogEntry.objects.get(additional_data__event="policy_change")


@pytest.mark.postgres
def test_audit_entries_cannot_be_updated(entry):
    with pytest.raises(DatabaseError), transaction.atomic():
        LogEntry.objects.filter(pk=entry.pk).update(object_repr="tampered")
    with pytest.raises(DatabaseError), transaction.atomic():
        entry.changes = {"value": ["2", "9"]}
        entry.save()
    with pytest.raises(DatabaseError), transaction.atomic():
        # Only setting the actor to NULL is allowed, and only alone.
        LogEntry.objects.filter(pk=entry.pk).update(actor=None, object_repr="tampered")
    assert LogEntry.objects.get(pk=entry.pk).object_repr == entry.object_repr


@pytest.mark.postgres
def test_audit_entries_cannot_be_deleted(entry):
    with pytest.raises(DatabaseError), transaction.atomic():
        LogEntry.objects.filter(pk=entry.pk).delete()
    with pytest.raises(DatabaseError), transaction.atomic():
        entry.delete()
    assert LogEntry.objects.filter(pk=entry.pk).exists()


def test_deleting_a_user_keeps_their_entries_with_their_email():
    someone = UserFactory(role=Role.ADMIN, email="gone@example.com")
    policy_set(actor=someone, key="intake.quorum", value=3)
    someone.delete()
    kept = LogEntry.objects.get(additional_data__event="policy_change")
    assert kept.actor is None and kept.actor_email == "gone@example.com"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_flushing_the_database_is_not_refused(admin_user):
    """Test teardown flushes every table with TRUNCATE, which the row trigger does not see."""
    from django.core.management import call_command

    policy_set(actor=admin_user, key="intake.quorum", value=3)
    with pytest.raises(DatabaseError), transaction.atomic():
        LogEntry.objects.all().delete()
    call_command("flush", interactive=False, verbosity=0)
    assert not LogEntry.objects.exists()


def test_the_log_entry_admin_is_read_only_even_for_superusers(client, entry):
    from django.contrib import admin
    from django.test import RequestFactory
    from django.urls import reverse

    superuser = UserFactory(username="root@example.com", is_superuser=True, is_staff=True)
    request = RequestFactory().get("/")
    request.user = superuser
    model_admin = admin.site._registry[LogEntry]
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request, entry)
    assert not model_admin.has_delete_permission(request, entry)
    client.force_login(superuser)
    assert client.get(reverse("admin:auditlog_logentry_change", args=[entry.pk])).status_code == 200
    response = client.post(reverse("admin:auditlog_logentry_delete", args=[entry.pk]), {"post": "yes"})
    assert response.status_code == 403
    assert LogEntry.objects.filter(pk=entry.pk).exists()
