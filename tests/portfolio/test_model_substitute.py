"""An administrator marks a cheaper model of a lower tier as an acceptable substitute (the right-sizing signal reads
it); the model refuses anything else, in the admin and the API alike."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from rest_framework.test import APIClient

from portfolio.calculations import substitute_problem, tier_rank
from tests.factories import AIModelFactory

pytestmark = pytest.mark.django_db


def test_tier_ranks_and_substitute_rules_on_plain_values():
    assert [tier_rank(t) for t in ("frontier", "mid", "small", "embedding", "other")] == [3, 2, 1, None, None]
    assert substitute_problem(tier="frontier", substitute_tier="small", same_model=False) is None
    assert substitute_problem(tier="mid", substitute_tier="small", same_model=False) is None
    assert "lower tier" in substitute_problem(tier="mid", substitute_tier="mid", same_model=False)
    assert "lower tier" in substitute_problem(tier="small", substitute_tier="frontier", same_model=False)
    assert "embedding" in substitute_problem(tier="embedding", substitute_tier="small", same_model=False)
    assert "own substitute" in substitute_problem(tier="frontier", substitute_tier="frontier", same_model=True)


def test_the_model_validates_its_substitute():
    mini = AIModelFactory(name="gpt-4o-mini", tier="small")
    frontier = AIModelFactory(name="gpt-4o", tier="frontier", substitute=mini)
    frontier.full_clean()
    mini.substitute = frontier
    with pytest.raises(ValidationError) as error:
        mini.full_clean()
    assert "substitute" in error.value.message_dict


def test_administrators_set_it_through_the_api(admin_user):
    mini = AIModelFactory(name="gpt-4o-mini", tier="small")
    frontier = AIModelFactory(name="gpt-4o", tier="frontier")
    client = APIClient()
    client.force_authenticate(admin_user)
    url = reverse("api:aimodel-detail", args=[frontier.pk])
    assert client.patch(url, {"substitute": mini.pk}, format="json").json()["substitute"] == mini.pk
    refused = client.patch(reverse("api:aimodel-detail", args=[mini.pk]), {"substitute": frontier.pk}, format="json")
    assert refused.status_code == 400 and "lower tier" in str(refused.json()["substitute"])


def test_the_models_page_shows_it(login, executive):
    mini = AIModelFactory(name="gpt-4o-mini", tier="small")
    AIModelFactory(name="gpt-4o", tier="frontier", substitute=mini)
    body = login(executive).get(reverse("portfolio:aimodel_list")).content.decode()
    assert "Acceptable substitute" in body
