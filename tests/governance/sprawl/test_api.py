"""Sprawl API: use cases (read for all, write for admins), clusters and their review actions with segregation,
recompute runs, an initiative's use cases and possible duplicates; status and effect."""

from __future__ import annotations

from decimal import Decimal

import pytest
from auditlog.models import LogEntry
from django.urls import reverse

from governance.choices import AuditEvent, SprawlStatus, UseCaseOrigin
from governance.models import SprawlCluster, SprawlRun, UseCase
from governance.sprawl.analysis import Duplicate
from tests.factories import InitiativeFactory
from tests.governance.sprawl.factories import (
    InitiativeUseCaseFactory,
    SprawlClusterFactory,
    UseCaseFactory,
    decided_clusters,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def cluster(initiative, other_initiative):
    return SprawlClusterFactory(initiatives=[initiative, other_initiative, InitiativeFactory()], title="Notes")


def test_admin_adds_and_edits_a_use_case_with_audit_rows(api_client, admin_user):
    api_client.force_authenticate(admin_user)
    response = api_client.post(reverse("governance_api:usecase-list"), {
        "code": "claims-triage-test", "name": "Claims triage", "job": "Route insurance claims to the right desk.",
        "synonyms": ["FNOL routing"]}, format="json")
    assert response.status_code == 201, response.data
    assert response.data["catalogue_version"] == "" and response.data["initiative_count"] == 0
    url = reverse("governance_api:usecase-detail", args=["claims-triage-test"])
    response = api_client.patch(url, {"is_active": False, "functions": ["Insurance operations"]}, format="json")
    assert response.status_code == 200 and response.data["is_active"] is False
    use_case = UseCase.objects.get(code="claims-triage-test")
    assert use_case.functions == ["Insurance operations"]
    rows = LogEntry.objects.filter(additional_data__event=AuditEvent.USE_CASE_EDITED, object_pk=str(use_case.pk))
    assert rows.count() == 2


@pytest.mark.parametrize(("body", "field", "message"), [
    ({"code": "Not A Slug", "name": "N", "job": "J"}, "code", "slug"),
    ({"code": "no-job-test", "name": "N"}, "job", "'job' is required"),
    ({"code": "bad-list-test", "name": "N", "job": "J", "synonyms": [""]}, "synonyms", ""),
])
def test_bad_use_case_is_a_400_naming_the_field(api_client, admin_user, body, field, message):
    api_client.force_authenticate(admin_user)
    response = api_client.post(reverse("governance_api:usecase-list"), body, format="json")
    assert response.status_code == 400 and field in response.data
    assert message in " ".join(map(str, response.data[field]))
    assert not UseCase.objects.filter(code=body["code"]).exists()


def test_use_cases_no_longer_carry_not_this_and_a_write_sending_it_is_refused(api_client, admin_user):
    """`not_this` went in catalogue 2026.12 (the scorer never used it): not shown, and a client still sending it, or
    any field the API does not know, gets a 400 naming it rather than a 2xx that silently dropped it."""
    UseCaseFactory(code="kept-test", name="Kept")
    api_client.force_authenticate(admin_user)
    url = reverse("governance_api:usecase-detail", args=["kept-test"])
    shown = api_client.get(url)
    assert shown.status_code == 200 and "not_this" not in shown.data and "job" in shown.data

    response = api_client.post(reverse("governance_api:usecase-list"), {
        "code": "with-not-test", "name": "N", "job": "J", "not_this": ["fraud scoring"]}, format="json")
    assert response.status_code == 400
    assert "Removed in catalogue 2026.12" in str(response.data["not_this"])
    assert not UseCase.objects.filter(code="with-not-test").exists()

    before = UseCase.objects.values("name", "updated_at").get(code="kept-test")
    response = api_client.patch(url, {"name": "Renamed", "not_this": []}, format="json")
    assert response.status_code == 400 and "not_this" in response.data
    response = api_client.patch(url, {"name": "Renamed", "synonym": ["typo"]}, format="json")
    assert response.status_code == 400 and response.data["synonym"] == [
        "“synonym” is not a field of this record; it accepts: code, name, job, functions, inputs, outputs, synonyms, "
        "vendor_products, is_active."]
    assert UseCase.objects.values("name", "updated_at").get(code="kept-test") == before


def test_existing_code_is_refused(api_client, admin_user):
    UseCaseFactory(code="taken-test")
    api_client.force_authenticate(admin_user)
    response = api_client.post(reverse("governance_api:usecase-list"), {"code": "taken-test", "name": "N", "job": "J"},
                               format="json")
    assert response.status_code == 400 and "already exists" in str(response.data["code"])


def test_reviewer_cannot_write_use_cases(api_client, reviewer):
    api_client.force_authenticate(reviewer)
    assert api_client.post(reverse("governance_api:usecase-list"), {}, format="json").status_code == 403


def test_use_case_list_carries_spend_and_count(api_client, executive, initiative):
    use_case = UseCaseFactory(code="api-spend-test", name="Api spend")
    InitiativeUseCaseFactory(initiative=initiative, use_case=use_case)
    api_client.force_authenticate(executive)
    response = api_client.get(reverse("governance_api:usecase-list"), {"q": "api-spend"})
    assert response.status_code == 200
    rows = response.data["results"] if isinstance(response.data, dict) else response.data
    assert [(r["code"], r["initiative_count"], r["monthly_spend"]) for r in rows] == [
        ("api-spend-test", 1, "1200.00")]


def test_track_record_says_per_confidence_how_many_proposed_pairs_reviewers_found_right(api_client, reviewer,
                                                                                       executive):
    decided_clusters(reviewer)
    api_client.force_authenticate(executive)

    response = api_client.get(reverse("governance_api:sprawlcluster-track-record"))

    assert response.status_code == 200
    assert response.json() == {
        "clusters": [
            {"confidence": "likely", "decided": 3, "confirmed_whole": 1, "confirmed_trimmed": 1, "dismissed": 1,
             "pairs": 5, "right": 2, "precision": 0.4, "interval": [0.118, 0.769]},
            {"confidence": "possible", "decided": 1, "confirmed_whole": 1, "confirmed_trimmed": 0, "dismissed": 0,
             "pairs": 1, "right": 1, "precision": 1.0, "interval": [0.207, 1.0]},
        ],
        "pair_verdicts": {"duplicate": 0, "not_duplicate": 0},
    }


def test_clusters_list_with_members_and_saving(api_client, owner, cluster, initiative):
    api_client.force_authenticate(owner)
    response = api_client.get(reverse("governance_api:sprawlcluster-list"), {"status": "open"})
    rows = response.data["results"] if isinstance(response.data, dict) else response.data
    assert response.status_code == 200 and len(rows) == 1
    assert rows[0]["saving_basis"] and initiative.external_id in [m["external_id"] for m in rows[0]["members"]]
    assert all(m["joined_at"] for m in rows[0]["members"])  # compared with decided_at: who came after the decision
    from governance.sprawl.selectors import score_band

    assert rows[0]["right_elsewhere"] == round(score_band(cluster.score).share, 3)


def test_reviewer_confirms_dismiss_needs_reason_owner_of_a_member_is_refused(api_client, reviewer, owner, cluster):
    api_client.force_authenticate(owner)
    assert api_client.post(reverse("governance_api:sprawlcluster-confirm", args=[cluster.pk]), {},
                           format="json").status_code == 403
    api_client.force_authenticate(reviewer)
    response = api_client.post(reverse("governance_api:sprawlcluster-dismiss", args=[cluster.pk]), {"reason": ""},
                               format="json")
    assert response.status_code == 400 and "reason" in response.data
    response = api_client.post(reverse("governance_api:sprawlcluster-confirm", args=[cluster.pk]),
                               {"reason": "Same job"}, format="json")
    assert response.status_code == 200 and response.data["status"] == SprawlStatus.CONFIRMED
    assert response.data["decision_reason"] == "Same job" and response.data["decided_by"]


def test_remove_member_through_the_api(api_client, reviewer, cluster, other_initiative):
    api_client.force_authenticate(reviewer)
    url = reverse("governance_api:sprawlcluster-remove-member", args=[cluster.pk])
    assert api_client.post(url, {"initiative": 999999, "reason": "x"}, format="json").status_code == 400
    response = api_client.post(url, {"initiative": other_initiative.pk, "reason": "Different job"}, format="json")
    assert response.status_code == 200
    assert other_initiative.pk not in [m["initiative"] for m in response.data["members"]]
    assert SprawlCluster.objects.get(pk=cluster.pk).members.filter(removed=True).count() == 1
    # Who took it out, when and why, as the cluster's page shows: the API listed no removed member at all.
    [removed] = api_client.get(reverse("governance_api:sprawlcluster-detail", args=[cluster.pk])).data[
        "removed_members"]
    assert removed["initiative"] == other_initiative.pk and removed["removed"] is True
    assert removed["removed_reason"] == "Different job" and removed["removed_by"] and removed["removed_at"]


def test_refusing_remove_member_names_the_removal(api_client, executive, cluster, other_initiative):
    """The refusal said "You may not confirm or dismiss this sprawl cluster." to someone removing a member."""
    api_client.force_authenticate(executive)
    url = reverse("governance_api:sprawlcluster-remove-member", args=[cluster.pk])
    response = api_client.post(url, {"initiative": other_initiative.pk, "reason": "x"}, format="json")
    assert response.status_code == 403 and "remove a member of this sprawl cluster" in str(response.data)


def test_run_is_queued_once(api_client, reviewer, django_capture_on_commit_callbacks):
    api_client.force_authenticate(reviewer)
    with django_capture_on_commit_callbacks(execute=False):
        first = api_client.post(reverse("governance_api:sprawlrun-list"), format="json")
        second = api_client.post(reverse("governance_api:sprawlrun-list"), format="json")
    assert first.status_code == 202 and first.data["status"] == "pending" and first.data["id"] == second.data["id"]
    assert SprawlRun.objects.get().trigger == "api"
    SprawlRun.objects.filter(pk=first.data["id"]).update(status="running", progress=240)  # embedding, 40% through
    read = api_client.get(reverse("governance_api:sprawlrun-detail", args=[first.data["id"]])).json()
    assert read["step"] == {"number": 2, "of": 6, "done": 40,
                            "name": "Embedding what each initiative does (texts unchanged since the last run are read "
                                    "from the cache)"}


def test_initiative_use_cases_get_and_put(api_client, owner, other_owner, initiative):
    use_case = UseCaseFactory(code="api-put-test")
    api_client.force_authenticate(other_owner)
    url = reverse("governance_api:initiative_use_cases", args=[initiative.pk])
    assert api_client.put(url, {"use_cases": ["api-put-test"]}, format="json").status_code == 403
    api_client.force_authenticate(owner)
    response = api_client.put(url, {"use_cases": ["api-put-test", "missing-code"]}, format="json")
    assert response.status_code == 400 and "missing-code" in str(response.data["use_cases"])
    response = api_client.put(url, {"use_cases": ["api-put-test"]}, format="json")
    assert response.status_code == 200
    assert response.data == [{"use_case": "api-put-test", "name": use_case.name, "confidence": "1.000",
                              "origin": UseCaseOrigin.CONFIRMED}]


def test_putting_use_cases_on_a_killed_initiative_is_400_and_writes_nothing(api_client, owner, initiative):
    from portfolio.choices import Stage

    UseCaseFactory(code="api-put-test")
    initiative.stage = Stage.KILLED
    initiative.save()
    api_client.force_authenticate(owner)
    url = reverse("governance_api:initiative_use_cases", args=[initiative.pk])
    response = api_client.put(url, {"use_cases": ["api-put-test"]}, format="json")
    assert response.status_code == 400
    assert "an ended initiative is read-only" in str(response.data["non_field_errors"])
    assert not initiative.use_case_links.exists()


def test_possible_duplicates_of_an_initiative(api_client, executive, initiative, other_initiative, monkeypatch):
    monkeypatch.setattr("governance.sprawl.analysis.draft_duplicates",
                        lambda **kw: [Duplicate(other_initiative.pk, 0.734, ["similar purpose"], probability=0.2113)])
    api_client.force_authenticate(executive)
    response = api_client.get(reverse("governance_api:possible_duplicates", args=[initiative.pk]))
    assert response.status_code == 200
    # The rank's score and, beside it, the pair model's probability (the figure a cluster of the two would score).
    assert response.data == [{"initiative": other_initiative.pk, "external_id": other_initiative.external_id,
                              "name": other_initiative.name, "department": other_initiative.department.name,
                              "score": 0.734, "probability": 0.2113, "reasons": ["similar purpose"], "verdict": None,
                              "clusters": []}]
    assert Decimal(str(response.data[0]["score"])) == Decimal("0.734")


def test_the_api_gives_the_pair_probability_its_cluster_scores_beside_the_rank(api_client, executive, portfolio,
                                                                              images_cluster):
    """The added `probability` is the pair model's for the pair, the figure their two-member cluster scores; `score`
    stays the fused ranking's."""
    api_client.force_authenticate(executive)
    response = api_client.get(reverse("governance_api:possible_duplicates", args=[portfolio["A"].pk]))
    assert response.status_code == 200
    partner = next(row for row in response.data if row["initiative"] == portfolio["B"].pk)
    assert Decimal(str(round(partner["probability"], 3))) == images_cluster.score
    assert partner["clusters"] == [{"id": images_cluster.pk, "title": images_cluster.title, "status": "open",
                                    "confidence": images_cluster.confidence}]
    assert all(0 <= row["probability"] <= 1 and 0 < row["score"] <= 1 for row in response.data)


def test_a_possible_duplicate_names_the_cluster_it_already_shares(api_client, executive, initiative,
                                                                    other_initiative, cluster, monkeypatch):
    monkeypatch.setattr("governance.sprawl.analysis.draft_duplicates",
                        lambda **kw: [Duplicate(other_initiative.pk, 0.9, ["similar purpose"])])
    api_client.force_authenticate(executive)
    response = api_client.get(reverse("governance_api:possible_duplicates", args=[initiative.pk]))
    assert response.data[0]["clusters"] == [{"id": cluster.pk, "title": "Notes", "status": "open",
                                             "confidence": "likely"}]


def test_the_schema_says_a_sprawl_run_is_accepted_not_created(api_client, reviewer):
    """The run is queued and answered 202; the schema said 201, so a client checking codes refused the answer."""
    api_client.force_authenticate(reviewer)
    responses = api_client.get(reverse("schema"), {"format": "json"}).json()["paths"][
        "/api/governance/sprawl-runs/"]["post"]["responses"]
    assert "202" in responses and "201" not in responses


@pytest.mark.parametrize("method", ["patch", "put"])
def test_a_use_case_answers_with_an_etag_and_a_stale_edit_is_refused_writing_nothing(api_client, admin_user, method):
    UseCaseFactory(code="etag-test", name="Before")
    api_client.force_authenticate(admin_user)
    url = reverse("governance_api:usecase-detail", args=["etag-test"])
    tag = api_client.get(url)["ETag"]
    assert tag.startswith('"') and len(tag) == 34
    write = getattr(api_client, method)
    changed = write(url, {"name": "Renamed"}, format="json", HTTP_IF_MATCH=tag)
    assert changed.status_code == 200 and changed["ETag"] != tag
    assert api_client.get(url)["ETag"] == changed["ETag"]
    stale = write(url, {"name": "Someone else's"}, format="json", HTTP_IF_MATCH=tag)
    assert stale.status_code == 412 and "This use case has changed since you read it" in stale.json()["detail"]
    assert UseCase.objects.get(code="etag-test").name == "Renamed"
    assert write(url, {"name": "Again"}, format="json", HTTP_IF_MATCH=changed["ETag"]).status_code == 200


def test_an_initiative_s_use_cases_answer_with_an_etag_and_a_stale_put_is_refused(api_client, owner, initiative):
    UseCaseFactory(code="first-etag-test")
    UseCaseFactory(code="second-etag-test")
    api_client.force_authenticate(owner)
    url = reverse("governance_api:initiative_use_cases", args=[initiative.pk])
    tag = api_client.get(url)["ETag"]
    assert tag.startswith('"') and len(tag) == 34
    first = api_client.put(url, {"use_cases": ["first-etag-test"]}, format="json", HTTP_IF_MATCH=tag)
    assert first.status_code == 200 and first["ETag"] != tag and api_client.get(url)["ETag"] == first["ETag"]
    stale = api_client.put(url, {"use_cases": ["second-etag-test"]}, format="json", HTTP_IF_MATCH=tag)
    assert stale.status_code == 412
    assert "This initiative's use-case list has changed since you read it" in stale.json()["detail"]
    assert [link["use_case"] for link in api_client.get(url).json()] == ["first-etag-test"]
    fresh = api_client.put(url, {"use_cases": ["second-etag-test"]}, format="json", HTTP_IF_MATCH=first["ETag"])
    assert fresh.status_code == 200 and [link["use_case"] for link in fresh.json()] == ["second-etag-test"]


def test_the_schema_documents_the_etag_and_if_match_of_use_cases(api_client, admin_user):
    api_client.force_authenticate(admin_user)
    paths = api_client.get(reverse("schema"), {"format": "json"}).json()["paths"]
    use_case = paths["/api/governance/use-cases/{code}/"]
    linked = paths["/api/governance/initiatives/{id}/use-cases/"]
    for operation in (use_case["get"], linked["get"], use_case["patch"], linked["put"]):
        assert "ETag" in operation["responses"]["200"]["headers"]
    for operation in (use_case["patch"], use_case["put"], linked["put"]):
        assert "If-Match" in [p["name"] for p in operation["parameters"]] and "412" in operation["responses"]
