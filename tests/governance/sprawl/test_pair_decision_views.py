"""Verdicts on possible duplicates from the pages: the initiative page's fragment and the scoring page show the
"Duplicate of" / "Not a duplicate" forms to independent reviewers and administrators only, the verdict instead once
given, and the forms come back to the page they were sent from."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from governance.choices import DuplicateVerdict
from governance.models import DuplicatePairDecision
from governance.sprawl.analysis import Duplicate
from governance.sprawl.services.pair_decisions import duplicate_pair_decide
from portfolio.choices import Stage
from tests.factories import InitiativeFactory
from tests.governance.sprawl.factories import SprawlClusterFactory

pytestmark = pytest.mark.django_db


def fragment(client, initiative) -> str:
    return client.get(reverse("governance:initiative_duplicates", args=[initiative.pk])).content.decode()


@pytest.fixture
def candidate(engine, other_initiative):
    engine["state"]["duplicates"] = [Duplicate(other_initiative.pk, 0.7, ["similar purpose"])]
    return other_initiative


@pytest.mark.parametrize("who", ["reviewer", "admin_user"])
def test_reviewers_and_administrators_get_both_forms(request, login, who, initiative, candidate):
    body = fragment(login(request.getfixturevalue(who)), initiative)
    assert f'id="pair-decide-{candidate.pk}"' in body
    assert 'value="duplicate"' in body and 'value="not_duplicate"' in body and 'name="csrfmiddlewaretoken"' in body
    assert reverse("governance:duplicate_pair_decide", args=[initiative.pk]) in body
    assert "onclick" not in body and "<script" not in body


def test_a_candidate_already_in_a_cluster_with_the_initiative_links_it(login, executive, initiative, candidate):
    cluster = SprawlClusterFactory(initiatives=[initiative, candidate], title="Meeting notes")
    body = fragment(login(executive), initiative)
    assert 'class="shared-clusters"' in body
    assert f'<a href="{cluster.get_absolute_url()}">Meeting notes #{cluster.pk}</a> (open; ' in body
    # Its score, said to be the members' average: the pair's own likelihood is shown beside the rank.
    assert f"this pair's own when they are its only two.\">score {cluster.score}</span>)" in body


def test_a_candidate_in_no_shared_cluster_says_nothing_of_clusters(login, executive, initiative, candidate):
    SprawlClusterFactory(initiatives=[candidate, InitiativeFactory()])
    assert "shared-clusters" not in fragment(login(executive), initiative)


@pytest.mark.parametrize("who", ["owner", "other_owner", "executive"])
def test_owners_and_executives_see_the_list_without_forms(request, login, who, initiative, candidate):
    body = fragment(login(request.getfixturevalue(who)), initiative)
    assert candidate.name in body and "pair-decide" not in body


def test_a_reviewer_owning_the_candidate_gets_no_form_for_it(login, reviewer, engine, initiative, candidate):
    own = InitiativeFactory(owner=reviewer, name="Reviewer's own bot")
    engine["state"]["duplicates"].append(Duplicate(own.pk, 0.6, ["shared vendor"]))
    body = fragment(login(reviewer), initiative)
    assert f'id="pair-decide-{candidate.pk}"' in body and f'id="pair-decide-{own.pk}"' not in body
    response = login(reviewer).post(reverse("governance:duplicate_pair_decide", args=[initiative.pk]),
                                    {"other": own.pk, "verdict": "duplicate", "reason": "Same job."})
    assert response.status_code == 403 and not DuplicatePairDecision.objects.exists()


def test_duplicate_of_from_the_initiative_page_is_pinned_with_who_and_undo(login, reviewer, initiative, candidate):
    client = login(reviewer)
    back = initiative.get_absolute_url() + "#use-cases"
    form = fragment(client, initiative)
    assert f'id="pair-reason-{candidate.pk}"' in form and 'name="verdict" value="duplicate"' in form
    response = client.post(reverse("governance:duplicate_pair_decide", args=[initiative.pk]),
                           {"other": candidate.pk, "verdict": "duplicate", "next": back}, follow=True)
    assert "Say in a few words why they do the same job." in response.content.decode()
    assert not DuplicatePairDecision.objects.exists()
    response = client.post(reverse("governance:duplicate_pair_decide", args=[initiative.pk]),
                           {"other": candidate.pk, "verdict": "duplicate", "reason": "Same job.", "next": back})
    assert response.status_code == 302 and response["Location"] == back
    # Said as the button beside the candidate reads: this initiative is a duplicate of the candidate.
    said = [str(m) for m in get_messages(response.wsgi_request)]
    assert said == [f"“{initiative.name}” is recorded as a duplicate of “{candidate.name}”: the two do the same job."]
    decision = DuplicatePairDecision.objects.get()
    assert decision.verdict == DuplicateVerdict.DUPLICATE and decision.decided_by == reviewer
    body = fragment(client, initiative)
    assert f'id="pair-decision-{candidate.pk}"' in body and "Duplicate of" in body
    assert decision.decided_by_name in body
    assert reverse("governance:duplicate_pair_undo", args=[decision.pk]) in body


def test_not_a_duplicate_leaves_the_list_and_is_listed_apart_to_undo(login, reviewer, initiative, candidate):
    client = login(reviewer)
    url = reverse("governance:duplicate_pair_decide", args=[initiative.pk])
    response = client.post(url, {"other": candidate.pk, "verdict": "not_duplicate"}, follow=True)
    assert "Say in a few words why" in response.content.decode() and not DuplicatePairDecision.objects.exists()
    client.post(url, {"other": candidate.pk, "verdict": "not_duplicate", "reason": "Reads invoices, not notes."})
    decision = DuplicatePairDecision.objects.get()
    body = fragment(client, initiative)
    assert 'id="possible-duplicates"' not in body and 'id="no-duplicates"' in body
    assert 'id="not-duplicates"' in body and "Reads invoices, not notes." in body
    response = client.post(reverse("governance:duplicate_pair_undo", args=[decision.pk]),
                           {"next": initiative.get_absolute_url()})
    assert response.status_code == 302 and response["Location"] == initiative.get_absolute_url()
    assert not DuplicatePairDecision.objects.exists()
    assert f'id="pair-decide-{candidate.pk}"' in fragment(client, initiative)


def test_a_form_never_sends_people_off_the_site(login, reviewer, initiative, candidate):
    response = login(reviewer).post(reverse("governance:duplicate_pair_decide", args=[initiative.pk]),
                                    {"other": candidate.pk, "verdict": "duplicate", "reason": "Same job.", "next": "https://evil.example/"})
    assert response["Location"] == initiative.get_absolute_url() + "#use-cases"


def test_the_scoring_page_has_the_verdicts_outside_the_score_form(login, reviewer, in_review, candidate):
    client = login(reviewer)
    body = client.get(reverse("governance:score", args=[in_review.pk])).content.decode()
    card = body[body.index('id="intake-duplicates"'):body.index('id="score-form"')]
    assert f'id="pair-decide-{candidate.pk}"' in card
    back = reverse("governance:score", args=[in_review.pk]) + "#intake-duplicates"
    assert f'value="{back}"' in card
    response = client.post(reverse("governance:duplicate_pair_decide", args=[in_review.pk]),
                           {"other": candidate.pk, "verdict": "duplicate", "reason": "Same job.", "next": back})
    assert response["Location"] == back
    body = client.get(back).content.decode()
    card = body[body.index('id="intake-duplicates"'):body.index('id="score-form"')]
    assert f'id="pair-decision-{candidate.pk}"' in card
    criterion = body[body.index('id="score-duplicates"'):]
    assert "pair-verdict-duplicate" in criterion[:2000]


def test_the_possible_duplicates_api_follows_the_verdicts(api_client, reviewer, engine, initiative, other_initiative):
    hidden = InitiativeFactory()
    engine["state"]["duplicates"] = [Duplicate(hidden.pk, 0.9, ["a"]), Duplicate(other_initiative.pk, 0.7, ["b"])]
    duplicate_pair_decide(actor=reviewer, initiative=initiative, other=hidden, verdict="not_duplicate", reason="No.")
    duplicate_pair_decide(actor=reviewer, initiative=initiative, other=other_initiative, verdict="duplicate",
                          reason="Same job.")
    api_client.force_authenticate(reviewer)
    data = api_client.get(reverse("governance_api:possible_duplicates", args=[initiative.pk])).json()
    assert [(d["initiative"], d["verdict"]) for d in data] == [(other_initiative.pk, "duplicate")]


@pytest.mark.parametrize("ended", ["initiative", "candidate"])
def test_a_pair_holding_an_ended_initiative_offers_no_verdict(request, login, reviewer, initiative, candidate, ended):
    """The service refuses a verdict on an ended initiative's pairs; the page says so instead of offering buttons."""
    gone = request.getfixturevalue(ended)
    gone.stage = Stage.KILLED
    gone.save()
    body = fragment(login(reviewer), initiative)
    assert candidate.name in body and 'value="duplicate"' not in body
    assert f"“{gone.name}” is killed" in body


def test_undoing_a_verdict_undone_meanwhile_says_so(login, reviewer, initiative, candidate, api_client):
    """A second tab's undo, or a second reviewer's, answered a bare 404 page (and the API a query's wording)."""
    decision = duplicate_pair_decide(actor=reviewer, initiative=initiative, other=candidate,
                                     verdict=DuplicateVerdict.DUPLICATE, reason="Same job.")
    client = login(reviewer)
    url = reverse("governance:duplicate_pair_undo", args=[decision.pk])
    back = initiative.get_absolute_url()
    assert client.post(url, {"next": back}).status_code == 302
    response = client.post(url, {"next": back}, follow=True)
    assert response.redirect_chain[0] == (back, 302)
    assert "This verdict was already undone" in response.content.decode()
    api_client.force_authenticate(reviewer)
    response = api_client.delete(reverse("governance_api:duplicatepairdecision-detail", args=[decision.pk]))
    assert response.status_code == 404 and "already undone" in str(response.data)
