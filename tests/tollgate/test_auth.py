"""Password login on both doors (the login page, the API's token endpoint): the username in any letter case."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from portfolio.models import ApiToken
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db
TYPED = ["Dana.Leaver@Example.com", "DANA.LEAVER@EXAMPLE.COM", "dana.leaver@example.com"]


@pytest.mark.parametrize("typed", TYPED)
def test_the_login_page_finds_the_account_whatever_the_letter_case_typed(typed):
    user = UserFactory(username="dana.leaver@example.com")
    client = Client()
    response = client.post(reverse("login"), {"username": typed, "password": PASSWORD})
    assert response.status_code == 302 and client.session["_auth_user_id"] == str(user.pk)


@pytest.mark.parametrize("typed", TYPED)
def test_the_token_login_finds_the_account_whatever_the_letter_case_typed(typed):
    user = UserFactory(username="dana.leaver@example.com")
    response = Client().post(reverse("api_token"), {"username": typed, "password": PASSWORD})
    assert response.status_code == 200, response.content
    assert ApiToken.objects.get(user=user).from_password


def test_a_wrong_password_still_fails_in_any_letter_case():
    UserFactory(username="dana.leaver@example.com")
    response = Client().post(reverse("api_token"), {"username": "Dana.Leaver@Example.com", "password": "wrong"})
    assert response.status_code == 400


@pytest.mark.parametrize("path", ["login", "api_token"])
def test_failures_in_different_letter_cases_lock_the_one_account(path):
    user = UserFactory(username="dana.leaver@example.com")
    for n, typed in enumerate(["Dana.Leaver@Example.com", "DANA.LEAVER@EXAMPLE.COM", "dana.Leaver@example.com",
                               "Dana.leaver@example.com", "dana.leaver@EXAMPLE.com"]):
        Client(REMOTE_ADDR=f"203.0.113.{n + 1}").post(reverse(path), {"username": typed, "password": "wrong"})
    # Locked whatever the case typed next, from an address that never failed: the count was the account's.
    locked = Client(REMOTE_ADDR="198.51.100.20").post(reverse(path), {"username": user.username, "password": PASSWORD})
    assert locked.status_code == 429
