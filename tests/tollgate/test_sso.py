"""Single sign-on against a real OpenID Connect provider (tests/oidc_provider: the npm package oidc-provider, started
by Node.js on loopback): the whole authorization-code flow with PKCE, Tollgate's side through the test client, the
person's side at the provider through requests. Tollgate itself calls the provider's discovery, token, JWKS and
userinfo endpoints over HTTP."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from auditlog.models import LogEntry
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from portfolio.models import ApiToken
from portfolio.services.people import person_deactivate, person_get_or_create
from tests import oidc
from tests.factories import PASSWORD, UserFactory
from tollgate import settings as tollgate_settings
from tollgate.roles import Role, group_names
from tollgate.sso import groups_in, roles_from_groups

User = get_user_model()
TOLLGATE = "http://testserver"


@pytest.fixture(scope="module")
def provider() -> Iterator[oidc.Provider]:
    reason = oidc.missing()
    if reason is not None:
        pytest.skip(reason)  # the oidc marker fails instead in CI (tests/conftest.py)
    with oidc.running_provider(redirect_uris=[f"{TOLLGATE}/oidc/callback/"],
                               post_logout_redirect_uris=[f"{TOLLGATE}/accounts/login/"]) as running:
        yield running


@pytest.fixture
def sso(settings, provider):
    for name, value in provider.settings().items():
        setattr(settings, name, value)
    return settings


def sign_in(client: Client, login: str, groups: list[str], *, next_url: str = "",
            browser: requests.Session | None = None):
    """A person signs in with SSO (in a fresh browser unless given one): Tollgate's answer to the callback."""
    start = client.get(reverse("oidc_authentication_init") + (f"?next={next_url}" if next_url else ""))
    assert start.status_code == 302
    authorize = start["Location"]
    query = parse_qs(urlsplit(authorize).query)
    assert query["code_challenge_method"] == ["S256"] and query["code_challenge"]  # PKCE
    callback = oidc.sign_in_at_provider(browser or requests.Session(), authorize, login=login, groups=groups,
                                        back_to=TOLLGATE)
    assert callback.startswith(f"{TOLLGATE}/oidc/callback/?")
    return client.get(callback.removeprefix(TOLLGATE))


def roles_of(user) -> set[str]:
    user.refresh_from_db()
    if hasattr(user, "_group_names_cache"):
        del user._group_names_cache
    return group_names(user) & {r.value for r in Role}


def events(user) -> list[str]:
    return [e.additional_data["event"] for e in LogEntry.objects.get_for_object(user).order_by("timestamp", "pk")]


@pytest.mark.oidc
@pytest.mark.django_db
def test_first_sign_in_creates_the_person_with_the_role_their_group_maps_to(sso):
    client = Client()
    response = sign_in(client, "pat.lee", ["tollgate-coe", "all-staff"], next_url="/reviews/")
    assert response.status_code == 302 and response["Location"] == "/reviews/"
    user = User.objects.get(email="pat.lee@example.com")
    assert (user.username, user.first_name, user.last_name) == ("pat.lee@example.com", "Pat", "Lee")
    assert roles_of(user) == {"reviewer"} and not user.has_usable_password() and not user.is_staff
    assert events(user) == ["person_created_by_sso", "roles_changed"]
    assert LogEntry.objects.get_for_object(user).order_by("pk").last().changes == {"roles": [[], ["reviewer"]]}
    assert int(client.session["_auth_user_id"]) == user.pk
    assert client.get(reverse("portfolio:initiative_list")).status_code == 200


@pytest.mark.oidc
@pytest.mark.django_db
def test_each_sign_in_sets_the_roles_the_groups_give_now(sso):
    sign_in(Client(), "sam.ortiz", ["tollgate-admins", "tollgate-coe"])
    user = User.objects.get(email="sam.ortiz@example.com")
    assert roles_of(user) == {"admin", "reviewer"} and user.is_staff

    # Removed from the administrators' group at the provider: the next sign-in takes the role (and the admin) away.
    response = sign_in(Client(), "sam.ortiz", ["tollgate-coe", "tollgate-owners"])
    assert response.status_code == 302
    assert roles_of(user) == {"reviewer", "owner"} and not user.is_staff
    assert LogEntry.objects.get_for_object(user).order_by("pk").last().changes == {
        "roles": [["admin", "reviewer"], ["owner", "reviewer"]], "is_staff": [True, False]}
    # The same groups again change nothing and write no audit row.
    rows = LogEntry.objects.get_for_object(user).count()
    sign_in(Client(), "sam.ortiz", ["tollgate-owners", "tollgate-coe"])
    assert LogEntry.objects.get_for_object(user).count() == rows
    assert User.objects.filter(email__iexact="sam.ortiz@example.com").count() == 1


@pytest.mark.oidc
@pytest.mark.django_db
def test_someone_in_no_mapped_group_is_refused_with_the_reason(sso):
    client = Client()
    response = sign_in(client, "max.stranger", ["marketing"])
    assert response.status_code == 302 and response["Location"] == reverse("login")
    assert "_auth_user_id" not in client.session
    assert not User.objects.filter(email="max.stranger@example.com").exists()  # no account that sees nothing
    page = client.get(reverse("login")).content.decode()
    assert "none of the groups that give a role in Tollgate" in page and "tollgate-admins" in page

    # Someone who had a role and was removed from every mapped group loses it and is refused too.
    sign_in(Client(), "lee.leaver", ["tollgate-execs"])
    leaver = User.objects.get(email="lee.leaver@example.com")
    assert roles_of(leaver) == {"executive"}
    client = Client()
    sign_in(client, "lee.leaver", [])
    assert roles_of(leaver) == set() and "_auth_user_id" not in client.session


@pytest.mark.oidc
@pytest.mark.django_db
def test_the_default_role_admits_someone_in_no_mapped_group(sso):
    sso.OIDC_DEFAULT_ROLE = "owner"
    sign_in(Client(), "dana.default", ["marketing"])
    assert roles_of(User.objects.get(email="dana.default@example.com")) == {"owner"}


@pytest.mark.oidc
@pytest.mark.django_db
def test_without_a_mapping_the_provider_admits_and_tollgate_keeps_the_roles(sso):
    """Google Workspace sends no groups: newcomers get the default role, administrators set the others."""
    sso.OIDC_ROLE_GROUPS = {}
    sso.OIDC_DEFAULT_ROLE = "owner"
    sign_in(Client(), "gina.google", [])
    user = User.objects.get(email="gina.google@example.com")
    assert roles_of(user) == {"owner"}
    from portfolio.services.people import person_set_roles

    person_set_roles(user=user, roles={Role.REVIEWER}, actor=None, source="admin")
    client = Client()
    sign_in(client, "gina.google", ["tollgate-admins"])  # groups mean nothing without a mapping
    assert roles_of(user) == {"reviewer"} and int(client.session["_auth_user_id"]) == user.pk


@pytest.mark.oidc
@pytest.mark.django_db
def test_an_imported_person_signs_in_to_their_account(sso):
    """People imported from the inventory (no password) are found by e-mail, case-insensitively."""
    imported, _ = person_get_or_create(email="Ann.Imported@Example.com", role=Role.OWNER)
    client = Client()
    sign_in(client, "ann.imported", ["tollgate-owners"])
    assert int(client.session["_auth_user_id"]) == imported.pk
    assert User.objects.filter(email__iexact="ann.imported@example.com").count() == 1


@pytest.mark.oidc
@pytest.mark.django_db
def test_an_address_that_is_another_account_s_username_is_refused_with_the_reason_not_an_error(sso):
    """Usernames are unique ignoring case and a newcomer is named by their address: an account already named so (in
    any case) but with another e-mail address is not signed in to, nor doubled; an address differing only in case
    from someone's is that person."""
    named = UserFactory(username="Kim.Clash@example.com", email="kim.c@corp.example", role=Role.OWNER)
    client = Client()
    response = sign_in(client, "kim.clash", ["tollgate-owners"])
    assert response.status_code == 302 and response["Location"] == reverse("login")
    assert "_auth_user_id" not in client.session
    page = client.get(reverse("login")).content.decode().replace("&#x27;", "'")
    assert "Tollgate already has an account named kim.clash@example.com that is not yours" in page
    assert list(User.objects.filter(username__iexact="kim.clash@example.com")) == [named]

    same = UserFactory(username="kimberly", email="Kim.Case@Example.com", role=Role.OWNER)
    client = Client()
    sign_in(client, "kim.case", ["tollgate-owners"])
    assert int(client.session["_auth_user_id"]) == same.pk
    assert User.objects.filter(email__iexact="kim.case@example.com").count() == 1


@pytest.mark.oidc
@pytest.mark.django_db
def test_a_deactivated_person_cannot_sign_in(sso):
    sign_in(Client(), "del.gone", ["tollgate-owners"])
    person_deactivate(actor=None, user=User.objects.get(email="del.gone@example.com"))
    client = Client()
    response = sign_in(client, "del.gone", ["tollgate-owners"])
    assert response["Location"] == reverse("login") and "_auth_user_id" not in client.session
    assert "Your Tollgate account is deactivated" in client.get(reverse("login")).content.decode()


@pytest.mark.oidc
@pytest.mark.django_db
def test_an_unverified_e_mail_address_is_refused(sso):
    """A person is found by e-mail: an address the provider says it has not verified could be anyone's."""
    UserFactory(username="unverified.admin@example.com", role=Role.ADMIN)
    client = Client()
    response = sign_in(client, "unverified.admin", ["tollgate-admins"])
    assert response["Location"] == reverse("login") and "_auth_user_id" not in client.session
    assert "has not verified your e-mail address" in client.get(reverse("login")).content.decode()


@pytest.mark.oidc
@pytest.mark.django_db
def test_logout_ends_the_tollgate_session_and_the_providers(sso, provider):
    client, browser = Client(), requests.Session()
    sign_in(client, "lou.out", ["tollgate-owners"], browser=browser)
    response = client.post(reverse("logout"))
    assert "_auth_user_id" not in client.session
    assert response.status_code == 302 and response["Location"].startswith(f"{provider.issuer}/session/end?")
    query = parse_qs(urlsplit(response["Location"]).query)
    assert query["post_logout_redirect_uri"] == [f"{TOLLGATE}/accounts/login/"] and query["id_token_hint"]

    # At the provider: its confirmation form, then back to Tollgate's login page.
    page = browser.get(response["Location"])
    assert page.status_code == 200 and 'id="op.logoutForm"' in page.text
    action = re.search(r'action="([^"]+)"', page.text).group(1)
    xsrf = re.search(r'name="xsrf" value="([^"]+)"', page.text).group(1)
    back = browser.post(requests.compat.urljoin(page.url, action), data={"xsrf": xsrf, "logout": "yes"},
                        allow_redirects=False)
    assert back.status_code in (302, 303) and back.headers["Location"] == f"{TOLLGATE}/accounts/login/"


@pytest.mark.oidc
@pytest.mark.django_db
def test_with_passwords_switched_off_only_sso_gets_in(sso):
    sso.PASSWORD_LOGIN = False
    user = UserFactory(role=Role.ADMIN, is_staff=True)
    client = Client()
    page = client.get(reverse("login")).content.decode()
    assert "Sign in with SSO" in page and 'type="password"' not in page

    refused = client.post(reverse("login"), {"username": user.username, "password": PASSWORD})
    assert refused.status_code == 403 and "Password login is switched off" in refused.content.decode()
    token = client.post(reverse("api_token"), {"username": user.username, "password": PASSWORD})
    assert token.status_code == 403 and not ApiToken.objects.filter(user=user).exists()
    admin_get = client.get(reverse("admin:login"))
    assert admin_get.status_code == 302 and admin_get["Location"] == f"{reverse('login')}?next=/admin/"
    admin_post = client.post(reverse("admin:login"), {"username": user.username, "password": PASSWORD})
    assert admin_post.status_code == 302 and "_auth_user_id" not in client.session
    assert not client.login(username=user.username, password=PASSWORD)  # the password backend itself is off

    response = sign_in(client, "pia.sso", ["tollgate-admins"])
    assert response.status_code == 302 and int(client.session["_auth_user_id"]) == User.objects.get(
        email="pia.sso@example.com").pk
    assert client.get("/admin/").status_code == 200


@pytest.mark.django_db
def test_without_sso_configured_the_login_page_offers_passwords_only(settings, client):
    settings.OIDC_RP_CLIENT_ID = ""
    page = client.get(reverse("login")).content.decode()
    assert "Sign in with SSO" not in page and 'type="password"' in page
    assert client.get(reverse("oidc_authentication_init")).status_code == 404
    assert client.get(reverse("oidc_authentication_callback") + "?code=x&state=y").status_code == 404
    user = UserFactory()
    assert client.post(reverse("login"), {"username": user.username, "password": PASSWORD}).status_code == 302


@pytest.mark.django_db
def test_an_unreachable_provider_gets_a_clear_message_not_an_error_page(settings, client):
    from tests.oidc import _free_port

    settings.OIDC_RP_CLIENT_ID = "tollgate"
    settings.OIDC_OP_ISSUER = f"http://127.0.0.1:{_free_port()}"  # nothing listens there
    settings.OIDC_TIMEOUT = 2
    response = client.get(reverse("oidc_authentication_init"), follow=True)
    assert response.redirect_chain == [(reverse("login"), 302)]
    assert "Tollgate could not reach the identity provider" in response.content.decode()


def test_the_role_names_settings_accept_are_tollgates_roles():
    assert set(tollgate_settings._ROLE_NAMES) == {role.value for role in Role}


def test_groups_map_to_roles_and_unknown_groups_are_ignored(settings):
    settings.OIDC_GROUPS_CLAIM = "roles"
    assert groups_in({"roles": ["a", "b"]}) == {"a", "b"} and groups_in({"roles": "a"}) == {"a"}
    assert groups_in({"groups": ["a"]}) == set()
    assert roles_from_groups({"a", "x"}, {"a": "admin", "b": "owner"}) == {Role.ADMIN}


def test_a_mapping_to_an_unknown_role_refuses_to_start():
    from tests.tollgate.test_settings import start

    refused = start(SECRET_KEY="k" * 60, OIDC_ROLE_GROUPS="tollgate-admins=admin,tollgate-coe=reviewers")
    assert refused.returncode != 0 and "'reviewers' (for 'tollgate-coe') is not a role" in refused.stderr
    started = start(SECRET_KEY="k" * 60, OIDC_ROLE_GROUPS="tollgate-admins=admin", OIDC_DEFAULT_ROLE="owner")
    assert started.returncode == 0, started.stderr


def test_the_providers_origin_may_receive_the_logout_form():
    """The logout form's answer redirects to the provider: the Content-Security-Policy's form-action allows it."""
    from tests.tollgate.test_settings import ROOT

    script = ("import django; django.setup(); from django.conf import settings; "
              "print(settings.CONTENT_SECURITY_POLICY['DIRECTIVES']['form-action'])")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tollgate.settings", "SECRET_KEY": "k" * 60,
           "OIDC_RP_CLIENT_ID": "tollgate", "OIDC_OP_ISSUER": "https://login.example.com/tenant/v2.0"}
    started = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
                             timeout=120)
    assert started.stdout.strip() == "[\"'self'\", 'https://login.example.com']", started.stderr
