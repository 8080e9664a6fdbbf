"""The signals API: list with the page's filters, one signal, acknowledge / dismiss (reason required) / resolve,
signal runs; the schema names the actions."""

from __future__ import annotations

from decimal import Decimal

import pytest
from auditlog.models import LogEntry
from django.urls import reverse
from rest_framework.test import APIClient

from governance.choices import SignalStatus
from governance.models import SignalRun
from tests.governance.signals.factories import SignalFactory

pytestmark = pytest.mark.django_db


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def own(initiative):
    return SignalFactory(initiatives=[initiative])


@pytest.fixture
def other(other_initiative):
    return SignalFactory(initiatives=[other_initiative], type="right_size", severity="medium",
                         monthly_saving=Decimal("1880.00"))


def test_the_list_filters_like_the_page(reviewer, own, other, initiative):
    client = api(reviewer)
    url = reverse("governance_api:signal-list")
    everything = client.get(url).json()
    assert {row["id"] for row in everything["results"]} == {own.pk, other.pk}
    row = next(r for r in everything["results"] if r["id"] == own.pk)
    assert row["initiatives"] == [initiative.external_id]
    assert (row["type"], row["period"], row["severity"], row["status"], row["monthly_saving"]) == (
        "cost_overrun", "2026-Q3", "high", "open", "1200.00")
    assert row["evidence"]["policies"] == {"kill.cost_overrun_pct": "25"}
    assert [r["id"] for r in client.get(url, {"type": "right_size"}).json()["results"]] == [other.pk]
    assert [r["id"] for r in client.get(url, {"initiative": initiative.external_id}).json()["results"]] == [own.pk]
    assert client.get(url, {"status": "dismissed"}).json()["results"] == []
    assert client.get(url, {"type": "no_such_type"}).status_code == 400


def test_the_list_starts_on_the_live_signals_as_the_page_does(login, reviewer, own, other, initiative):
    """The page opens on open and acknowledged signals; the API listed every status, so an integrator counted
    dismissed and resolved ones the page did not (93 against 88)."""
    closed = [SignalFactory(initiatives=[initiative], status=status, type="kpi_targets_missed")
              for status in (SignalStatus.DISMISSED, SignalStatus.RESOLVED)]
    acknowledged = SignalFactory(initiatives=[initiative], status=SignalStatus.ACKNOWLEDGED,
                                 type="kpi_targets_missed")
    url = reverse("governance_api:signal-list")
    live = {own.pk, other.pk, acknowledged.pk}
    client = api(reviewer)
    assert {r["id"] for r in client.get(url).json()["results"]} == live
    assert client.get(url).json()["count"] == login(reviewer).get(reverse("governance:signal_list")).context[
        "signal_count"] == 3
    kpi = {r["id"] for r in client.get(url, {"type": "kpi_targets_missed"}).json()["results"]}
    assert kpi == {acknowledged.pk}
    assert {r["id"] for r in client.get(url, {"status": ""}).json()["results"]} == live | {s.pk for s in closed}
    assert {r["id"] for r in client.get(url, {"status": "resolved"}).json()["results"]} == {closed[1].pk}
    # One signal is found whatever its status: the list's start is not a filter on it.
    dismissed = client.get(reverse("governance_api:signal-detail", args=[closed[0].pk]))
    assert dismissed.status_code == 200 and dismissed.json()["status"] == "dismissed"
    refused = client.post(reverse("governance_api:signal-resolve", args=[closed[1].pk]), {}, format="json")
    assert refused.status_code == 400 and "already resolved" in str(refused.json())


def test_an_owner_lists_their_own_and_may_not_read_another(owner, own, other):
    client = api(owner)
    assert [r["id"] for r in client.get(reverse("governance_api:signal-list")).json()["results"]] == [own.pk]
    assert client.get(reverse("governance_api:signal-detail", args=[other.pk])).status_code == 403


def test_an_owner_acting_on_a_signal_not_theirs_is_told_it_is_not_theirs(owner, other):
    """The refusal gave segregation of duties ("nobody ... decides on an initiative they own") as the reason, the
    opposite of why: the signal is not theirs."""
    refused = api(owner).post(reverse("governance_api:signal-acknowledge", args=[other.pk]), {}, format="json")
    assert refused.status_code == 403
    assert refused.json()["detail"] == (
        "Your role allows this, but not on this one: an owner acts only on the signals of the initiatives they own "
        "or act for, and this one is not yours.")


def test_acknowledge_dismiss_and_resolve(owner, reviewer, own, other):
    acknowledged = api(owner).post(reverse("governance_api:signal-acknowledge", args=[own.pk]),
                                   {"note": "Talking to finance."}, format="json")
    assert acknowledged.status_code == 200 and acknowledged.json()["status"] == SignalStatus.ACKNOWLEDGED
    assert LogEntry.objects.get_for_object(own).get(
        additional_data__event="signal_acknowledged").additional_data["reason"] == "Talking to finance."
    again = api(owner).post(reverse("governance_api:signal-acknowledge", args=[own.pk]))
    assert again.status_code == 400
    no_reason = api(reviewer).post(reverse("governance_api:signal-dismiss", args=[other.pk]), {}, format="json")
    assert no_reason.status_code == 400 and "reason" in no_reason.json()
    dismissed = api(reviewer).post(reverse("governance_api:signal-dismiss", args=[other.pk]),
                                   {"reason": "The substitute fails the legal review."}, format="json")
    assert dismissed.json()["status"] == "dismissed"
    assert dismissed.json()["dismissal_reason"] == "The substitute fails the legal review."
    resolved = api(reviewer).post(reverse("governance_api:signal-resolve", args=[own.pk]),
                                  {"note": "Budget re-baselined."}, format="json")
    assert (resolved.json()["status"], resolved.json()["resolution"]) == ("resolved", "Budget re-baselined.")
    assert api(owner).post(reverse("governance_api:signal-resolve", args=[own.pk])).status_code == 403


def test_signal_runs_are_queued_by_reviewers(reviewer, owner, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        response = api(reviewer).post(reverse("governance_api:signalrun-list"))
    assert response.status_code == 202 and response.json()["status"] == "pending"
    assert SignalRun.objects.get().trigger == "api"
    assert api(owner).post(reverse("governance_api:signalrun-list")).status_code == 403


def test_the_schema_names_the_lifecycle_actions(reviewer):
    schema = api(reviewer).get(reverse("schema"), {"format": "json"}).json()
    paths = schema["paths"]
    for action in ("acknowledge", "dismiss", "resolve"):
        assert f"/api/governance/signals/{{id}}/{action}/" in paths


def test_the_schema_says_a_signal_run_is_accepted_not_created(reviewer):
    """The run is queued and answered 202; the schema said 201, so a client checking codes refused the answer."""
    responses = api(reviewer).get(reverse("schema"), {"format": "json"}).json()["paths"][
        "/api/governance/signal-runs/"]["post"]["responses"]
    assert "202" in responses and "201" not in responses
