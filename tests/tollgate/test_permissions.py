"""The API's permission class refuses in words: what the person may not do, never DRF's generic sentence."""

from __future__ import annotations

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_a_collection_refusal_names_what_was_refused(api_client, executive):
    api_client.force_authenticate(executive)
    response = api_client.post(reverse("api:department-list"), {}, format="json")
    assert response.status_code == 403
    assert response.json() == {"detail": "You may not add a department."}
    response = api_client.get(reverse("api:person-list"))
    assert response.status_code == 403
    assert response.json() == {"detail": "You may not manage people, their roles and delegates."}


def test_an_object_refusal_names_what_was_refused(api_client, executive, other_owner, initiative):
    for user in (executive, other_owner):  # read-only everywhere; an owner, but not of this one
        api_client.force_authenticate(user)
        response = api_client.patch(reverse("api:initiative-detail", args=[initiative.pk]), {"name": "Mine now"},
                                    format="json")
        assert response.status_code == 403
        assert response.json() == {"detail": "You may not change an initiative." if user == executive else (
            "Your role allows this, but not on this one: an owner acts only on the initiatives they own or act "
            "for, and this one is not yours.")}


def test_a_change_of_a_person_names_what_was_refused(api_client, executive, owner):
    api_client.force_authenticate(executive)
    response = api_client.patch(reverse("api:person-detail", args=[owner.pk]), {}, format="json")
    assert response.status_code == 403
    assert response.json() == {"detail": "You may not manage people, their roles and delegates."}


def test_an_owner_refused_on_someone_else_s_record_is_not_sent_for_a_role(login, owner, other_initiative, executive,
                                                                          api_client):
    """The owner's role allows editing, on their own initiatives: the 403 says this one is not theirs, and does not
    tell them to ask an administrator for a role they hold. An executive, whose role never edits, is told the role."""
    from django.urls import reverse

    page = login(owner).get(reverse("portfolio:initiative_edit", args=[other_initiative.pk]))
    text = page.content.decode()
    assert page.status_code == 403
    assert "Your role allows this, but not on this one" in text and "this one is not yours" in text
    assert "ask an administrator to give you the role" not in text
    api_client.force_authenticate(owner)
    refused = api_client.patch(f"/api/initiatives/{other_initiative.pk}/", {"name": "Mine now"}, format="json")
    assert refused.status_code == 403 and "Your role allows this, but not on this one" in refused.json()["detail"]
    page = login(executive).get(reverse("portfolio:initiative_edit", args=[other_initiative.pk]))
    assert page.status_code == 403 and "ask an administrator to give you the role" in page.content.decode()
