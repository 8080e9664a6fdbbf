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
        assert response.json() == {"detail": "You may not change an initiative."}


def test_a_change_of_a_person_names_what_was_refused(api_client, executive, owner):
    api_client.force_authenticate(executive)
    response = api_client.patch(reverse("api:person-detail", args=[owner.pk]), {}, format="json")
    assert response.status_code == 403
    assert response.json() == {"detail": "You may not manage people, their roles and delegates."}
