"""Governance API: transitions, scores, policies, rubric and audit entries; status and effect."""

from __future__ import annotations

import pytest
from auditlog.models import LogEntry
from django.urls import reverse

from governance.models import IntakeScore
from governance.selectors import policy_value
from portfolio.choices import Stage
from portfolio.models import Initiative
from tests.governance.conftest import score_all

pytestmark = pytest.mark.django_db


def transition(api_client, user, initiative, name, reason=""):
    api_client.force_authenticate(user)
    url = reverse("governance_api:transitions", args=[initiative.pk])
    return api_client.post(url, {"transition": name, "reason": reason}, format="json")


def test_submit_through_the_api(api_client, owner, ready, rubric):
    response = transition(api_client, owner, ready, "submit")
    assert response.status_code == 200, response.data
    assert response.data["stage"] == "in_review"
    assert Initiative.objects.get(pk=ready.pk).stage == Stage.IN_REVIEW


def test_guard_failures_are_a_400_with_every_message(api_client, owner, initiative):
    response = transition(api_client, owner, initiative, "submit")
    assert response.status_code == 400
    messages = response.data["non_field_errors"]
    assert "The initiative has no business case." in messages
    assert "At least one KPI with a baseline and a target is needed." in messages


def test_an_approval_refused_for_segregation_says_why(api_client, reviewer, in_review):
    in_review.delegates.add(reviewer)
    response = transition(api_client, reviewer, in_review, "approve")
    assert response.status_code == 403 and response.data["detail"] == (
        f"You may not approve {in_review}: you are its delegate, and nobody scores, approves or decides on an "
        "initiative they own or act for (someone else does).")
    assert Initiative.objects.get(pk=in_review.pk).stage == Stage.IN_REVIEW


def test_missing_reason_is_a_400_on_reason(api_client, reviewer, in_review):
    response = transition(api_client, reviewer, in_review, "reject")
    assert response.status_code == 400 and "reason" in response.data
    assert Initiative.objects.get(pk=in_review.pk).stage == Stage.IN_REVIEW


def test_the_owner_withdraws_through_the_api_with_a_reason_and_then_edits(api_client, owner, reviewer, in_review):
    case_url = reverse("api:businesscase-detail", args=[in_review.business_case.pk])
    api_client.force_authenticate(owner)
    locked = api_client.patch(case_url, {"expected_monthly_volume": 2_000_000}, format="json")
    assert locked.status_code == 400 and "Withdraw it from review" in locked.data["non_field_errors"][0]
    assert transition(api_client, owner, in_review, "withdraw").status_code == 400  # no reason
    assert transition(api_client, reviewer, in_review, "withdraw", "Not mine.").status_code == 403
    response = transition(api_client, owner, in_review, "withdraw", "The volume was a guess.")
    assert response.status_code == 200 and response.data["stage"] == Stage.PROPOSED
    api_client.force_authenticate(owner)
    assert api_client.patch(case_url, {"expected_monthly_volume": 2_000}, format="json").status_code == 200


def test_wrong_role_is_a_403(api_client, owner, executive, in_review):
    assert transition(api_client, owner, in_review, "approve").status_code == 403
    assert transition(api_client, executive, in_review, "approve").status_code == 403
    assert Initiative.objects.get(pk=in_review.pk).stage == Stage.IN_REVIEW


def test_unknown_transition_is_a_400(api_client, owner, initiative):
    response = transition(api_client, owner, initiative, "teleport")
    assert response.status_code == 400 and "transition" in response.data


def test_scores_get_and_post(api_client, reviewer, second_reviewer, in_review, rubric):
    url = reverse("governance_api:scores", args=[in_review.pk])
    api_client.force_authenticate(reviewer)
    body = {"scores": [{"criterion": c.pk, "score": 4, "comment": "fine"} for c in rubric]}
    response = api_client.post(url, body, format="json")
    assert response.status_code == 200, response.data
    assert response.data["complete_reviewers"] == 1 and response.data["weighted_score"] == "4.00"
    assert not response.data["quorum_met"]
    score_all(second_reviewer, in_review, rubric, 2)
    data = api_client.get(url).data
    assert data["weighted_score"] == "3.00" and data["quorum_met"] and data["round"] == 1
    assert len(data["reviewers"]) == 2 and len(data["criteria"]) == 6
    assert transition(api_client, reviewer, in_review, "approve").status_code == 200


def test_scores_post_validation(api_client, reviewer, in_review, rubric):
    url = reverse("governance_api:scores", args=[in_review.pk])
    api_client.force_authenticate(reviewer)
    response = api_client.post(url, {"scores": [{"criterion": rubric[0].pk, "score": 4}]}, format="json")
    assert response.status_code == 400 and "missing" in str(response.data["scores"])
    response = api_client.post(url, {"scores": [{"criterion": rubric[0].pk, "score": 9}]}, format="json")
    assert response.status_code == 400
    assert not IntakeScore.objects.exists()


@pytest.mark.parametrize("who", ["owner", "executive", "admin_user", "other_owner"])
def test_only_independent_reviewers_post_scores(request, api_client, in_review, rubric, who):
    api_client.force_authenticate(request.getfixturevalue(who))
    body = {"scores": [{"criterion": c.pk, "score": 4} for c in rubric]}
    response = api_client.post(reverse("governance_api:scores", args=[in_review.pk]), body, format="json")
    assert response.status_code == 403
    assert not IntakeScore.objects.exists()


def test_reviewer_who_owns_cannot_post_scores(api_client, reviewer, in_review, rubric):
    Initiative.objects.filter(pk=in_review.pk).update(owner=reviewer)
    api_client.force_authenticate(reviewer)
    body = {"scores": [{"criterion": c.pk, "score": 4} for c in rubric]}
    response = api_client.post(reverse("governance_api:scores", args=[in_review.pk]), body, format="json")
    assert response.status_code == 403


def test_the_scores_say_which_scoring_no_longer_counts_and_why(api_client, client, executive, reviewer,
                                                              second_reviewer, in_review, rubric):
    score_all(reviewer, in_review, rubric, 5)
    score_all(second_reviewer, in_review, rubric, 3)
    in_review.delegates.add(reviewer)
    api_client.force_authenticate(executive)
    body = api_client.get(reverse("governance_api:scores", args=[in_review.pk])).json()
    former = next(r for r in body["reviewers"] if r["reviewer"] == reviewer.pk)
    assert (former["complete"], former["counts"], former["not_counted"]) == (
        True, False, "no longer counts: now a delegate of the initiative")
    assert (body["complete_reviewers"], body["weighted_score"], body["quorum_met"]) == (1, "3.00", False)
    client.force_login(executive)
    page = client.get(reverse("portfolio:initiative_detail", args=[in_review.pk])).content.decode()
    assert "no longer counts: now a delegate of the initiative" in page


def test_policies(api_client, admin_user, reviewer):
    api_client.force_authenticate(reviewer)
    listed = api_client.get(reverse("governance_api:policy-list")).data
    quorum = next(p for p in listed if p["key"] == "intake.quorum")
    assert quorum["value"] == "2" and quorum["is_default"] and quorum["minimum"] == "1"
    url = reverse("governance_api:policy-detail", args=["intake.quorum"])
    assert api_client.patch(url, {"value": "3"}, format="json").status_code == 403
    api_client.force_authenticate(admin_user)
    response = api_client.patch(url, {"value": "11"}, format="json")
    assert response.status_code == 400 and "between 1 and 10" in str(response.data["value"])
    response = api_client.patch(url, {"value": "3"}, format="json")
    assert response.status_code == 200 and response.data["value"] == "3"
    assert response.data["updated_by"] == admin_user.email and policy_value("intake.quorum") == 3
    assert api_client.get(reverse("governance_api:policy-detail", args=["no.such"])).status_code == 404


def test_a_second_reminder_before_the_first_is_refused_naming_the_first(api_client, admin_user):
    api_client.force_authenticate(admin_user)
    url = reverse("governance_api:policy-detail", args=["reviews.second_reminder_days"])
    response = api_client.patch(url, {"value": "30"}, format="json")
    assert response.status_code == 400
    assert "must be less than the first reminder (14 days before due)" in str(response.data["value"])
    assert policy_value("reviews.second_reminder_days") == 3


def test_rubric_criteria(api_client, owner, rubric):
    api_client.force_authenticate(owner)
    data = api_client.get(reverse("governance_api:rubriccriterion-list")).data
    assert [c["name"] for c in data["results"]][:2] == ["Strategic fit", "Strength of the value case"]


def test_audit_entries(api_client, executive, owner, in_review):
    api_client.force_authenticate(owner)
    assert api_client.get(reverse("governance_api:auditentry-list")).status_code == 403
    api_client.force_authenticate(executive)
    url = reverse("governance_api:auditentry-list")
    data = api_client.get(url, {"event": "transition", "initiative": in_review.external_id}).data
    assert data["count"] == 1
    entry = data["results"][0]
    assert entry["event"] == "Transition: submit" and entry["changes"] == {"stage": ["proposed", "in_review"]}
    assert entry["actor"] == owner.pk


def test_audit_entries_summarise_references_by_name_in_one_query_per_model(api_client, executive, admin_user, owner,
                                                                            other_owner):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from portfolio.services.initiatives import initiative_update
    from tests.factories import InitiativeFactory, UserFactory
    from tollgate.roles import Role

    api_client.force_authenticate(executive)
    url = reverse("governance_api:auditentry-list")

    def summaries() -> tuple[list[str], int]:
        with CaptureQueriesContext(connection) as captured:
            data = api_client.get(url, {"event": "field_change"}).data
        return [entry["summary"] for entry in data["results"]], len(captured)

    initiative = InitiativeFactory(owner=owner)
    initiative_update(actor=admin_user, initiative=initiative, owner=other_owner)
    texts, few = summaries()
    assert any(f"Owner: {owner.get_full_name()} → {other_owner.get_full_name()}" in text for text in texts)
    for _ in range(3):
        initiative_update(actor=admin_user, initiative=InitiativeFactory(), owner=UserFactory(role=Role.OWNER))
    assert summaries()[1] <= few  # more rows, the same kinds of records named: no query per row


def test_audit_entries_have_no_write_endpoints(api_client, admin_user, in_review):
    api_client.force_authenticate(admin_user)
    url = reverse("governance_api:auditentry-list")
    assert api_client.post(url, {}, format="json").status_code == 405
    assert api_client.delete(url).status_code == 405
    assert LogEntry.objects.exists()


def test_the_schema_offers_search_only_on_lists_that_search(api_client, admin_user):
    """The audit entries' list refuses `?search=` (a parameter it does not read), yet the schema offered it: DRF's
    search filter documents itself on every list. A list with search fields keeps it."""
    api_client.force_authenticate(admin_user)
    paths = api_client.get("/api/schema/", {"format": "json"}).json()["paths"]

    def parameters(path: str) -> set[str]:
        return {parameter["name"] for parameter in paths[path]["get"]["parameters"]}

    audit = parameters("/api/governance/audit-entries/")
    assert "search" not in audit and {"initiative", "event", "ordering", "page"} <= audit
    assert api_client.get("/api/governance/audit-entries/", {"search": "sprawl"}).status_code == 400
    assert "search" in parameters("/api/initiatives/")
    assert api_client.get("/api/initiatives/", {"search": "assistant"}).status_code == 200


def test_the_audit_api_names_a_backwards_date_range(api_client, admin_user):
    api_client.force_authenticate(admin_user)
    response = api_client.get(reverse("governance_api:auditentry-list"), {"since": "2026-12-01", "until": "2026-11-01"})
    assert response.status_code == 400
    assert response.json() == {"until": ["From (1 Dec 2026) is after To (1 Nov 2026): nothing can match both."]}


def test_who_submitted_the_round_as_delegate_is_refused_scores_and_decisions(
        api_client, owner, reviewer, second_reviewer, third_reviewer, ready, rubric):
    """The QA walk through the API: a CoE reviewer submits as delegate, the delegation is removed, and they try to
    score and approve what they put forward."""
    from portfolio.services import initiative_update

    ready.delegates.add(second_reviewer)
    assert transition(api_client, second_reviewer, ready, "submit").status_code == 200
    initiative_update(actor=owner, initiative=ready, delegates=[])
    body = {"scores": [{"criterion": c.pk, "score": 5} for c in rubric]}
    response = api_client.post(reverse("governance_api:scores", args=[ready.pk]), body, format="json")
    assert response.status_code == 403
    assert "you submitted this round for the owner" in str(response.data["detail"])
    assert not IntakeScore.objects.exists()
    score_all(reviewer, ready, rubric, 5)
    score_all(third_reviewer, ready, rubric, 5)
    response = transition(api_client, second_reviewer, ready, "approve")
    assert response.status_code == 403
    assert "you submitted this round for the owner" in str(response.data["detail"])
    assert Initiative.objects.get(pk=ready.pk).stage == Stage.IN_REVIEW
    assert transition(api_client, reviewer, ready, "approve").status_code == 200
