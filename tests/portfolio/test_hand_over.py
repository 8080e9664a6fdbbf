"""Someone leaves: what they own that still runs or is planned goes to another owner, each change audited."""

from __future__ import annotations

import pytest
from auditlog.models import LogEntry
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from governance.tables import audit_reason
from portfolio.choices import Stage
from portfolio.models import Initiative
from portfolio.services import initiatives_hand_over, person_deactivate
from tests.factories import InitiativeFactory, UserFactory
from tollgate.roles import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def owned(owner):
    return {stage: InitiativeFactory(owner=owner, stage=stage, name=f"{stage} one")
            for stage in (Stage.PROPOSED, Stage.IN_REVIEW, Stage.PILOT, Stage.PRODUCTION, Stage.KILLED)}


def test_running_and_planned_initiatives_go_to_the_new_owner_ended_ones_stay(admin_user, owner, other_owner, owned):
    person_deactivate(actor=admin_user, user=owner)
    handover = initiatives_hand_over(actor=admin_user, from_user=owner, to_user=other_owner)
    handed = handover.initiatives
    assert handover.no_longer_delegate == []
    assert {i.stage for i in handed} == {Stage.PROPOSED, Stage.IN_REVIEW, Stage.PILOT, Stage.PRODUCTION}
    owners = dict(Initiative.objects.values_list("stage", "owner_id"))
    assert owners[Stage.KILLED] == owner.pk  # its history is its owner's
    assert {owners[stage] for stage in owners if stage != Stage.KILLED} == {other_owner.pk}
    pilot = owned[Stage.PILOT]
    change = LogEntry.objects.get_for_object(pilot).latest("pk")
    assert change.actor == admin_user and set(change.changes_dict) == {"owner"}
    row = LogEntry.objects.get_for_object(owner).get(additional_data__event="initiatives_handed_over")
    assert row.actor == admin_user and row.additional_data["to"] == other_owner.username
    assert row.changes_dict == {"initiatives_owned": [4, 0]}
    assert sorted(row.additional_data["initiatives"]) == sorted(i.external_id for i in handed)
    assert audit_reason(row) == f"To {other_owner.get_full_name()}: {', '.join(i.external_id for i in handed)}."
    # Nothing left to hand over: nothing written.
    rows = LogEntry.objects.count()
    assert initiatives_hand_over(actor=admin_user, from_user=owner, to_user=other_owner).initiatives == []
    assert LogEntry.objects.count() == rows


def test_a_hand_over_goes_only_to_an_active_owner_and_only_by_an_administrator(admin_user, owner, other_owner,
                                                                              executive, reviewer, owned):
    with pytest.raises(PermissionDenied):
        initiatives_hand_over(actor=reviewer, from_user=owner, to_user=other_owner)
    for to, says in ((owner, "someone else"), (executive, "not an initiative owner")):
        with pytest.raises(ValidationError, match=says):
            initiatives_hand_over(actor=admin_user, from_user=owner, to_user=to)
    person_deactivate(actor=admin_user, user=other_owner)
    with pytest.raises(ValidationError, match="has left"):
        initiatives_hand_over(actor=admin_user, from_user=owner, to_user=other_owner)
    assert set(Initiative.objects.values_list("owner_id", flat=True)) == {owner.pk}


def test_the_person_s_page_hands_over_in_one_go(login, admin_user, owner, other_owner, reviewer, owned):
    client = login(admin_user)
    url = reverse("portfolio:person_edit", args=[owner.pk])
    page = client.get(url).content.decode()
    assert "4 still running or planned" in page and "Hand over 4 initiatives" in page
    options = page.split('id="hand-over-form"', 1)[1].split("</select>", 1)[0]
    assert other_owner.email in options and reviewer.email not in options and owner.email not in options
    response = client.post(reverse("portfolio:person_hand_over", args=[owner.pk]), {})
    assert response.status_code == 200 and "This field is required" in response.content.decode()
    # The first post shows what would move, and moves nothing.
    confirm = client.post(reverse("portfolio:person_hand_over", args=[owner.pk]), {"to": other_owner.pk})
    page = confirm.content.decode()
    name = other_owner.get_full_name()
    assert confirm.status_code == 200 and f"Hand over 4 initiatives to {name}?" in page
    table = page.split('id="hand-over-table"', 1)[1].split("</table>", 1)[0]
    assert all(owned[stage].name in table for stage in (Stage.PROPOSED, Stage.IN_REVIEW, Stage.PILOT,
                                                         Stage.PRODUCTION))
    assert owned[Stage.KILLED].name not in table
    assert "the review goes on with" in table
    assert set(Initiative.objects.values_list("owner_id", flat=True)) == {owner.pk}
    response = client.post(reverse("portfolio:person_hand_over", args=[owner.pk]),
                           {"to": other_owner.pk, "confirm": "on"}, follow=True)
    assert f"4 initiatives handed over to {name}." in response.content.decode()
    assert "None still running or planned." in response.content.decode()


def test_the_confirm_page_names_whose_initiatives_move_in_a_plural_possessive(login, admin_user, owner,
                                                                            other_owner, owned):
    """"Hand over Chris Jones' initiatives", not "Chris Jones's" (the possessive filter, tollgate.text)."""
    owner.first_name, owner.last_name = "Chris", "Jones"
    owner.save(update_fields=["first_name", "last_name"])
    confirm = login(admin_user).post(reverse("portfolio:person_hand_over", args=[owner.pk]), {"to": other_owner.pk})
    page = confirm.content.decode()
    assert "<title>Hand over Chris Jones' initiatives" in page and "Jones's" not in page


def test_the_page_says_why_someone_cannot_take_over(login, admin_user, owner, executive, owned):
    """Not "Select a valid choice": the service's reason, and nothing moves or is offered for confirmation."""
    client = login(admin_user)
    url = reverse("portfolio:person_hand_over", args=[owner.pk])
    for to, says in ((owner, f"{owner.get_full_name()} already owns these"),
                     (executive, f"{executive.get_full_name()} is not an initiative owner (executive)")):
        for confirm in ("", "on"):
            page = client.post(url, {"to": to.pk, "confirm": confirm}).content.decode()
            assert says in page and "Select a valid choice" not in page and "hand-over-confirm" not in page
    assert "Select a valid choice" in client.post(url, {"to": 99999}).content.decode()
    assert set(Initiative.objects.values_list("owner_id", flat=True)) == {owner.pk}


def test_both_owners_are_told_what_moved_but_not_the_administrator(admin_user, owner, other_owner, owned, mailoutbox,
                                                                   django_capture_on_commit_callbacks):
    from reviews.models import Notification

    with django_capture_on_commit_callbacks(execute=True):
        handed = initiatives_hand_over(actor=admin_user, from_user=owner, to_user=other_owner).initiatives
    mine = Notification.objects.filter(user=other_owner)
    assert mine.count() == 4 and {n.url for n in mine} == {i.get_absolute_url() for i in handed}
    assert all(n.message.startswith("You now own ") and f"from {owner.get_full_name()} by "
               f"{admin_user.get_full_name()}" in n.message for n in mine)
    theirs = Notification.objects.filter(user=owner)
    assert theirs.count() == 4 and all(f"now belongs to {other_owner.get_full_name()}" in n.message for n in theirs)
    assert not Notification.objects.filter(user=admin_user).exists()
    assert sorted(message.to[0] for message in mailoutbox) == sorted([owner.email, other_owner.email])
    # Someone who left is not told; nor is an administrator who hands over to themselves.
    initiatives_hand_over(actor=admin_user, from_user=other_owner, to_user=owner)
    Notification.objects.all().delete()
    person_deactivate(actor=admin_user, user=owner)
    initiatives_hand_over(actor=admin_user, from_user=owner, to_user=admin_user)
    assert not Notification.objects.exists()


def test_the_api_hands_over(api_client, admin_user, owner, owned):
    newcomer = UserFactory(role=Role.OWNER)
    api_client.force_authenticate(admin_user)
    response = api_client.post(f"/api/people/{owner.pk}/hand-over/", {"to": newcomer.pk}, format="json")
    assert response.status_code == 200 and response.json()["to"] == newcomer.pk
    assert len(response.json()["initiatives"]) == 4 and response.json()["no_longer_delegate"] == []
    refused = api_client.post(f"/api/people/{owner.pk}/hand-over/", {"to": owner.pk}, format="json")
    assert refused.status_code == 400 and "someone else" in refused.json()["to"][0]


def test_a_hand_over_or_someone_leaving_queues_the_signals_again(admin_user, owner, other_owner, owned):
    """The "no active owner" signal is computed again at once, not at the nightly run."""
    from governance.choices import SignalRunTrigger
    from governance.models import SignalRun

    person_deactivate(actor=admin_user, user=owner)
    assert SignalRun.objects.filter(trigger=SignalRunTrigger.PEOPLE).count() == 1  # one pending run, shared
    initiatives_hand_over(actor=admin_user, from_user=owner, to_user=other_owner)
    assert SignalRun.objects.filter(trigger=SignalRunTrigger.PEOPLE).count() == 1
    nobody = UserFactory(role=Role.OWNER)
    SignalRun.objects.all().delete()
    person_deactivate(actor=admin_user, user=nobody)  # owns nothing running: nothing to compute again
    assert not SignalRun.objects.exists()


def test_a_new_owner_who_was_a_delegate_stops_being_one(login, admin_user, owner, other_owner, owned):
    """An owner is not also its delegate: the hand-over drops them from the delegates, audited, and says so."""
    pilot, proposed = owned[Stage.PILOT], owned[Stage.PROPOSED]
    colleague = UserFactory(role=Role.OWNER)
    pilot.delegates.set([other_owner, colleague])
    client = login(admin_user)
    response = client.post(reverse("portfolio:person_hand_over", args=[owner.pk]),
                           {"to": other_owner.pk, "confirm": "on"}, follow=True)
    name = other_owner.get_full_name()
    assert (f"4 initiatives handed over to {name}. {name} is no longer a delegate on {pilot.external_id}, now its "
            "owner: an owner is not also its delegate.") in response.content.decode()
    pilot.refresh_from_db()
    assert pilot.owner == other_owner and list(pilot.delegates.all()) == [colleague]
    assert proposed.delegates.count() == 0
    change = LogEntry.objects.get_for_object(pilot).filter(changes__icontains="delegates").latest("pk")
    assert change.actor == admin_user and change.changes_dict["delegates"]["objects"] == [str(other_owner)]
    row = LogEntry.objects.get_for_object(owner).get(additional_data__event="initiatives_handed_over")
    assert row.additional_data["no_longer_delegate"] == [pilot.external_id]
    assert f"{name} is no longer a delegate on {pilot.external_id} (now its owner)." in audit_reason(row)


def test_the_api_says_where_the_new_owner_is_no_longer_a_delegate(api_client, admin_user, owner, other_owner, owned):
    owned[Stage.IN_REVIEW].delegates.set([other_owner])
    api_client.force_authenticate(admin_user)
    response = api_client.post(f"/api/people/{owner.pk}/hand-over/", {"to": other_owner.pk}, format="json")
    assert response.status_code == 200
    assert response.json()["no_longer_delegate"] == [owned[Stage.IN_REVIEW].external_id]
    assert not owned[Stage.IN_REVIEW].delegates.exists()
