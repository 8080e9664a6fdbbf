"""The password pages: change one's own, "Forgot your password?", and set one from an e-mailed link (a reset or an
administrator's invitation). Django's forms and tokens; each password set is an audit row by its owner."""

from __future__ import annotations

import re

import pytest
from auditlog.models import LogEntry
from django.core import mail
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from portfolio.services import person_create, person_deactivate, person_invite, person_reactivate
from tests.factories import PASSWORD
from tollgate.passwords import LINKS_PER_ADDRESS_PER_HOUR, REQUESTS_PER_CLIENT_PER_HOUR
from tollgate.roles import Role

pytestmark = pytest.mark.django_db

NEW = "correct-horse-battery-staple"
LINK = re.compile(r"https?://[^/\s]+(/accounts/password/reset/[^/\s]+/[^/\s]+/)")


def changed(user) -> list[str]:
    return [e.additional_data["source"] for e in
            LogEntry.objects.get_for_object(user).filter(additional_data__event="password_changed").order_by("pk")]


def set_from_link(client: Client, path: str, password: str = NEW):
    """Follow an e-mailed link as a browser does (Django swaps the token for a session and redirects), then set."""
    form_page = client.get(path, follow=True)
    assert form_page.status_code == 200 and 'id="password-set-form"' in form_page.content.decode()
    return client.post(form_page.redirect_chain[-1][0], {"new_password1": password, "new_password2": password})


def test_changing_one_s_own_password(login, owner):
    client = login(owner)
    assert 'id="change-password"' in client.get(reverse("account")).content.decode()
    url = reverse("password_change")
    wrong = client.post(url, {"old_password": "not-it", "new_password1": NEW, "new_password2": NEW})
    assert wrong.status_code == 200 and "Your old password was entered incorrectly" in wrong.content.decode()
    weak = client.post(url, {"old_password": PASSWORD, "new_password1": "1234", "new_password2": "1234"})
    assert "This password is too short" in weak.content.decode()
    assert changed(owner) == []
    other_session = Client()
    assert other_session.login(username=owner.username, password=PASSWORD)
    response = client.post(url, {"old_password": PASSWORD, "new_password1": NEW, "new_password2": NEW}, follow=True)
    assert "Your password was changed." in response.content.decode()
    owner.refresh_from_db()
    assert owner.check_password(NEW) and changed(owner) == ["password_page"]
    # This session stays signed in; the other is signed out.
    assert client.get(reverse("portfolio:initiative_list")).status_code == 200
    assert other_session.get(reverse("portfolio:initiative_list")).status_code == 302


def obtained_token(user, password: str = PASSWORD) -> str:
    response = Client().post(reverse("api_token"), {"username": user.username, "password": password})
    assert response.status_code == 200
    return response.json()["token"]


def works(key: str) -> bool:
    return Client().get(reverse("api_me"), HTTP_AUTHORIZATION=f"Token {key}").status_code == 200


def test_changing_one_s_password_revokes_the_tokens_obtained_with_the_old_one(login, owner):
    key = obtained_token(owner)
    assert works(key)
    client = login(owner)
    page = client.get(reverse("password_change")).content.decode()
    assert "revokes the API tokens obtained with your password" in page
    client.post(reverse("password_change"), {"old_password": PASSWORD, "new_password1": NEW, "new_password2": NEW})
    assert not works(key) and works(obtained_token(owner, NEW))


def test_a_password_set_from_a_reset_link_revokes_the_tokens_obtained_with_the_old_one(client, owner):
    key = obtained_token(owner)
    client.post(reverse("password_reset"), {"email": owner.email})
    assert set_from_link(client, LINK.search(mail.outbox[0].body).group(1)).status_code == 302
    assert not works(key)


def test_an_account_without_a_password_is_told_how_to_get_one(admin_user):
    person = person_create(actor=admin_user, email="sso.only@example.com", first_name="S", last_name="O",
                           roles={Role.OWNER}, department=None, title="", invite=False)
    client = Client()
    client.force_login(person)
    page = client.get(reverse("password_change")).content.decode()
    assert 'id="no-password"' in page and 'name="old_password"' not in page


def test_forgot_password_emails_a_link_that_works_once(client, owner):
    login_page = client.get(reverse("login")).content.decode()
    assert reverse("password_reset") in login_page
    response = client.post(reverse("password_reset"), {"email": owner.email.upper()})
    assert response.status_code == 302 and response["Location"] == reverse("password_reset_done")
    (message,) = mail.outbox
    assert message.subject == "Set a new Tollgate password" and message.to == [owner.email]
    path = LINK.search(message.body).group(1)
    response = set_from_link(client, path)
    assert response.status_code == 302 and response["Location"] == reverse("login")
    owner.refresh_from_db()
    assert owner.check_password(NEW) and changed(owner) == ["link"]
    assert client.login(username=owner.username, password=NEW)
    client.logout()
    # Used once, the link says so and offers a new one.
    page = client.get(path, follow=True).content.decode()
    assert 'id="invalid-link"' in page and 'name="new_password1"' not in page


def test_forgot_password_tells_nobody_who_has_an_account(client, owner):
    for email in ("nobody@example.com", owner.email):
        response = client.post(reverse("password_reset"), {"email": email}, follow=True)
        assert 'id="reset-sent"' in response.content.decode()
    assert len(mail.outbox) == 1  # only the real account was written to


def test_an_invitation_s_link_sets_the_first_password(client, admin_user):
    person_create(actor=admin_user, email="nina@example.com", first_name="Nina", last_name="Novak",
                  roles={Role.OWNER}, department=None, title="", invite=True)
    path = LINK.search(mail.outbox[0].body).group(1)
    mismatched = client.get(path, follow=True)
    response = client.post(mismatched.redirect_chain[-1][0], {"new_password1": NEW, "new_password2": NEW + "x"})
    assert response.status_code == 200 and "didn’t match" in response.content.decode()
    assert set_from_link(client, path).status_code == 302
    assert client.login(username="nina@example.com", password=NEW)


def test_every_link_sent_stops_working_once_a_password_is_set(client, admin_user, owner):
    person_invite(actor=admin_user, user=owner)
    person_invite(actor=admin_user, user=owner)
    first, second = (LINK.search(m.body).group(1) for m in mail.outbox)
    assert set_from_link(client, second).status_code == 302
    assert 'id="invalid-link"' in Client().get(first, follow=True).content.decode()  # the password changed


@pytest.mark.parametrize("name", ["password_change", "password_reset", "password_reset_done"])
def test_without_passwords_there_are_no_password_pages(client, owner, settings, name):
    settings.PASSWORD_LOGIN = False
    client.force_login(owner)
    assert client.get(reverse(name)).status_code == 404
    assert 'id="change-password"' not in client.get(reverse("account")).content.decode()


def test_forgot_password_sends_a_few_links_an_hour_and_answers_the_same_past_them(client, owner, other_owner):
    cache.clear()
    for _ in range(LINKS_PER_ADDRESS_PER_HOUR + 2):
        response = client.post(reverse("password_reset"), {"email": owner.email})
        assert response.status_code == 302 and response["Location"] == reverse("password_reset_done")
    assert len(mail.outbox) == LINKS_PER_ADDRESS_PER_HOUR
    # Another address still gets its link, until the client has asked too often.
    assert client.post(reverse("password_reset"), {"email": other_owner.email}).status_code == 302
    assert mail.outbox[-1].to == [other_owner.email]
    for _ in range(REQUESTS_PER_CLIENT_PER_HOUR):
        client.post(reverse("password_reset"), {"email": f"someone.{_}@example.com"})
    sent = len(mail.outbox)
    client.post(reverse("password_reset"), {"email": other_owner.email})
    assert len(mail.outbox) == sent
    # From another client address, the limit on one address still holds; the hour over, it sends again.
    other_client = Client(REMOTE_ADDR="198.51.100.7")
    other_client.post(reverse("password_reset"), {"email": owner.email})
    assert len(mail.outbox) == sent
    cache.clear()
    other_client.post(reverse("password_reset"), {"email": owner.email})
    assert len(mail.outbox) == sent + 1


def test_a_link_stops_working_when_its_account_is_deactivated(client, admin_user, owner):
    person_invite(actor=admin_user, user=owner)
    path = LINK.search(mail.outbox[0].body).group(1)
    person_deactivate(actor=admin_user, user=owner)
    assert 'id="invalid-link"' in client.get(path, follow=True).content.decode()


@pytest.mark.parametrize("how", ["forgot", "invitation"])
def test_a_link_sent_before_a_deactivation_stays_dead_after_a_reactivation(client, admin_user, owner, how):
    if how == "forgot":
        client.post(reverse("password_reset"), {"email": owner.email})
    else:
        person_invite(actor=admin_user, user=owner)
    path = LINK.search(mail.outbox[0].body).group(1)
    person_deactivate(actor=admin_user, user=owner)
    person_reactivate(actor=admin_user, user=owner)
    assert 'id="invalid-link"' in client.get(path, follow=True).content.decode()
    # A link sent after the reactivation works.
    person_invite(actor=admin_user, user=owner)
    assert set_from_link(Client(), LINK.search(mail.outbox[-1].body).group(1)).status_code == 302
