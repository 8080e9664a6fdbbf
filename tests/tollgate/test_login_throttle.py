"""Login throttling on every login path: per account and per address, reset by a success, unlocked by an admin."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from portfolio.models import ApiToken
from tests.factories import PASSWORD, UserFactory
from tollgate.roles import Role

pytestmark = pytest.mark.django_db
LIMIT = 5


def form_login(client: Client, username: str, password: str):
    return client.post(reverse("login"), {"username": username, "password": password})


def token_login(client: Client, username: str, password: str):
    return client.post(reverse("api_token"), {"username": username, "password": password})


def admin_login(client: Client, username: str, password: str):
    return client.post(reverse("admin:login"), {"username": username, "password": password, "next": "/admin/"})


@pytest.mark.parametrize("attempt", [form_login, token_login, admin_login])
def test_an_account_is_locked_after_the_failure_limit_on_every_login_path(attempt):
    user = UserFactory(role=Role.ADMIN, is_staff=True)
    guesser = Client(REMOTE_ADDR="203.0.113.7")
    for _ in range(LIMIT - 1):
        assert attempt(guesser, user.username, "wrong").status_code in (200, 400)
    assert attempt(guesser, user.username, "wrong").status_code == 429
    # The right password does not get in while locked, from another address either.
    owner = Client(REMOTE_ADDR="198.51.100.1")
    locked = attempt(owner, user.username, PASSWORD)
    assert locked.status_code == 429
    assert "_auth_user_id" not in owner.session and not ApiToken.objects.filter(user=user).exists()


def test_the_api_s_token_login_answers_a_lockout_in_json_with_when_to_retry():
    user = UserFactory()
    client = Client(REMOTE_ADDR="203.0.113.9")
    for _ in range(LIMIT):
        response = token_login(client, user.username, "wrong")
    assert response.status_code == 429 and response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Too many failed login attempts: logins for this account or from this "
                                         "address are paused for 15 minutes after 5 failed attempts. Try again later, "
                                         "or ask an administrator to unlock it now."}
    assert response["Retry-After"] == "900"


def test_the_lockout_page_says_what_happened_and_what_to_do():
    user = UserFactory()
    client = Client(REMOTE_ADDR="203.0.113.8")
    for _ in range(LIMIT):
        response = form_login(client, user.username, "wrong")
    html = response.content.decode()
    assert response.status_code == 429 and "Too many failed login attempts" in html and "administrator" in html


def test_an_address_guessing_many_accounts_is_locked():
    users = [UserFactory() for _ in range(LIMIT + 1)]
    guesser = Client(REMOTE_ADDR="203.0.113.9")
    for user in users[:LIMIT]:
        form_login(guesser, user.username, "wrong")
    assert form_login(guesser, users[LIMIT].username, PASSWORD).status_code == 429
    elsewhere = Client(REMOTE_ADDR="198.51.100.2")
    assert form_login(elsewhere, users[LIMIT].username, PASSWORD).status_code == 302


def test_a_success_resets_the_count():
    user = UserFactory()
    client = Client(REMOTE_ADDR="203.0.113.10")
    for _ in range(LIMIT - 1):
        form_login(client, user.username, "wrong")
    assert form_login(client, user.username, PASSWORD).status_code == 302
    client.logout()
    for _ in range(LIMIT - 1):
        form_login(client, user.username, "wrong")
    assert form_login(client, user.username, PASSWORD).status_code == 302


def test_an_administrator_unlocks_an_account():
    user = UserFactory()
    guesser = Client(REMOTE_ADDR="203.0.113.11")
    for _ in range(LIMIT):
        form_login(guesser, user.username, "wrong")
    owner = Client(REMOTE_ADDR="198.51.100.3")
    assert form_login(owner, user.username, PASSWORD).status_code == 429
    call_command("axes_reset_username", user.username, verbosity=0)
    assert form_login(owner, user.username, PASSWORD).status_code == 302


def test_administrators_see_and_clear_attempts_in_the_admin(client):
    user = UserFactory()
    for _ in range(LIMIT):
        form_login(Client(REMOTE_ADDR="203.0.113.12"), user.username, "wrong")
    admin = UserFactory(role=Role.ADMIN, is_staff=True, is_superuser=True)
    client.force_login(admin)
    page = client.get(reverse("admin:axes_accessattempt_changelist"))
    assert page.status_code == 200 and user.username in page.content.decode()
