"""The API of verdicts on possible-duplicate pairs: list with filters, create (new 201, replacing 200), undo (DELETE),
segregation of duties, clear 400s, and the schema."""

from __future__ import annotations

import pytest
from auditlog.models import LogEntry
from django.urls import reverse

from governance.choices import AuditEvent
from governance.models import DuplicatePairDecision
from governance.sprawl.services.pair_decisions import duplicate_pair_decide
from portfolio.choices import Stage
from tests.factories import InitiativeFactory

pytestmark = pytest.mark.django_db

LIST = "governance_api:duplicatepairdecision-list"


def test_create_then_replace_then_undo(api_client, reviewer, initiative, other_initiative):
    api_client.force_authenticate(reviewer)
    body = {"initiative": other_initiative.pk, "other": initiative.pk, "verdict": "duplicate", "reason": "Same job."}
    response = api_client.post(reverse(LIST), body, format="json")
    assert response.status_code == 201, response.data
    low, high = sorted((initiative.pk, other_initiative.pk))
    assert (response.data["initiative_a"], response.data["initiative_b"]) == (low, high)
    assert response.data["verdict"] == "duplicate" and response.data["decided_by"]
    response = api_client.post(reverse(LIST), {**body, "verdict": "not_duplicate", "reason": "Other job."},
                               format="json")
    assert response.status_code == 200 and response.data["verdict"] == "not_duplicate"
    assert DuplicatePairDecision.objects.count() == 1
    url = reverse("governance_api:duplicatepairdecision-detail", args=[response.data["id"]])
    assert api_client.get(url).data["reason"] == "Other job."
    assert api_client.delete(url).status_code == 204
    assert not DuplicatePairDecision.objects.exists()
    assert LogEntry.objects.filter(additional_data__event=AuditEvent.DUPLICATE_PAIR_UNDONE).count() == 1


@pytest.mark.parametrize(("change", "field"), [
    ({"verdict": "not_duplicate", "reason": None}, "reason"),
    ({"verdict": "duplicate", "reason": "  "}, "reason"),  # either verdict says why
    ({"verdict": "duplicate", "reason": None}, "reason"),
    ({"verdict": "perhaps"}, "verdict"),
    ({"other": "same"}, "other"),
    ({"other": 999_999}, "other"),
    ({"other": 99999999999999999999}, "other"),  # past the 64-bit id column: an unknown id, not a 500
    ({"initiative": 99999999999999999999}, "initiative"),
])
def test_bad_input_is_a_400_naming_the_field(api_client, reviewer, initiative, other_initiative, change, field):
    api_client.force_authenticate(reviewer)
    body = {"initiative": initiative.pk, "other": other_initiative.pk, "verdict": "duplicate", "reason": "Same job.",
            **change}
    if body["reason"] is None:
        del body["reason"]
    if body["other"] == "same":
        body["other"] = initiative.pk
    response = api_client.post(reverse(LIST), body, format="json")
    assert response.status_code == 400 and field in response.data, response.data
    assert not DuplicatePairDecision.objects.exists()


def test_a_reviewer_owning_either_initiative_is_refused(api_client, reviewer, initiative, admin_user):
    own = InitiativeFactory(owner=reviewer)
    api_client.force_authenticate(reviewer)
    response = api_client.post(reverse(LIST), {"initiative": initiative.pk, "other": own.pk, "verdict": "duplicate",
                                               "reason": "Same job."}, format="json")
    assert response.status_code == 403 and not DuplicatePairDecision.objects.exists()
    decision = duplicate_pair_decide(actor=admin_user, initiative=initiative, other=own, verdict="duplicate",
                                     reason="Same job.")
    url = reverse("governance_api:duplicatepairdecision-detail", args=[decision.pk])
    assert api_client.delete(url).status_code == 403
    assert DuplicatePairDecision.objects.filter(pk=decision.pk).exists()


def test_list_filters_by_initiative_either_side_and_verdict(api_client, reviewer, executive, initiative,
                                                            other_initiative):
    third = InitiativeFactory()
    duplicate_pair_decide(actor=reviewer, initiative=initiative, other=third, verdict="duplicate", reason="Same job.")
    duplicate_pair_decide(actor=reviewer, initiative=other_initiative, other=third, verdict="not_duplicate",
                          reason="No.")
    api_client.force_authenticate(executive)

    def pairs(query: dict) -> set[tuple[int, int]]:
        response = api_client.get(reverse(LIST), query)
        assert response.status_code == 200
        return {(row["initiative_a"], row["initiative_b"]) for row in response.json()["results"]}

    pair = tuple(sorted((initiative.pk, third.pk)))
    assert pairs({}) == {pair, tuple(sorted((other_initiative.pk, third.pk)))}
    assert pairs({"initiative": initiative.pk}) == {pair}
    assert len(pairs({"initiative": third.pk})) == 2
    assert pairs({"initiative": third.pk, "verdict": "duplicate"}) == {pair}
    assert pairs({"since": "2999-01-01"}) == set()
    for beyond in ("99999999999999999999", "-99999999999999999999", "0"):  # as an unknown id: no pair, not a 500
        assert pairs({"initiative": beyond}) == set()


def test_the_schema_has_the_endpoints(api_client, reviewer):
    api_client.force_authenticate(reviewer)
    paths = api_client.get(reverse("schema"), {"format": "json"}).json()["paths"]
    assert set(paths["/api/governance/duplicate-pair-decisions/"]) >= {"get", "post"}
    assert set(paths["/api/governance/duplicate-pair-decisions/{id}/"]) >= {"get", "delete"}
    params = {p["name"] for p in paths["/api/governance/duplicate-pair-decisions/"]["get"]["parameters"]}
    assert {"initiative", "verdict", "since"} <= params


def test_a_verdict_on_an_ended_initiative_is_a_400_naming_it(api_client, reviewer, initiative, other_initiative):
    other_initiative.stage = Stage.REJECTED
    other_initiative.save()
    api_client.force_authenticate(reviewer)
    response = api_client.post(reverse(LIST), {"initiative": initiative.pk, "other": other_initiative.pk,
                                               "verdict": "duplicate", "reason": "Same job."}, format="json")
    assert response.status_code == 400 and "rejected" in str(response.data["other"]), response.data
    assert not DuplicatePairDecision.objects.exists()
