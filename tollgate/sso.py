"""Single sign-on with OpenID Connect (mozilla-django-oidc): the provider's endpoints, the backend that turns the
provider's claims into a Tollgate person with roles, the views of the authorization-code flow, and the login and
logout pages that offer it.

On only when OIDC_RP_CLIENT_ID is set (settings.py). The person is written by portfolio.services.people
(person_sign_in_with_sso); this module reads claims and decides nothing about people itself.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlencode

import requests
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.core.exceptions import ImproperlyConfigured, PermissionDenied, SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import resolve_url
from django.urls import reverse
from django.views.generic import View
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.utils import import_from_settings
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from tollgate.auth import PASSWORD_LOGIN_OFF
from tollgate.roles import Role, role_of

logger = logging.getLogger(__name__)

# Setting -> the discovery document's key it is read from when not set explicitly.
DISCOVERED = {
    "OIDC_OP_AUTHORIZATION_ENDPOINT": "authorization_endpoint",
    "OIDC_OP_TOKEN_ENDPOINT": "token_endpoint",
    "OIDC_OP_USER_ENDPOINT": "userinfo_endpoint",
    "OIDC_OP_JWKS_ENDPOINT": "jwks_uri",
    "OIDC_OP_END_SESSION_ENDPOINT": "end_session_endpoint",
}
_discovery_documents: dict[str, dict[str, Any]] = {}


def sso_enabled() -> bool:
    return bool(settings.OIDC_RP_CLIENT_ID)


def discovery(issuer: str) -> dict[str, Any]:
    """The provider's discovery document, fetched once per process (an issuer's endpoints do not move)."""
    if issuer not in _discovery_documents:
        url = f"{issuer}/.well-known/openid-configuration"
        try:
            response = requests.get(url, timeout=settings.OIDC_TIMEOUT)
            response.raise_for_status()
            document = response.json()
        except (requests.RequestException, ValueError) as error:
            raise ImproperlyConfigured(f"OIDC_OP_ISSUER: could not read {url}: {error}") from error
        if document.get("issuer", "").rstrip("/") != issuer:
            raise ImproperlyConfigured(
                f"OIDC_OP_ISSUER is {issuer} but {url} names the issuer {document.get('issuer')!r}: set OIDC_OP_ISSUER "
                "to exactly the provider's issuer.")
        _discovery_documents[issuer] = document
    return _discovery_documents[issuer]


def oidc_setting(attr: str, *default: Any) -> Any:
    """A mozilla-django-oidc setting; an OP endpoint not set explicitly comes from the issuer's discovery document."""
    if attr in DISCOVERED and not getattr(settings, attr, "") and settings.OIDC_OP_ISSUER:
        value = discovery(settings.OIDC_OP_ISSUER).get(DISCOVERED[attr])
        if value:
            return value
    if attr in DISCOVERED and not getattr(settings, attr, ""):
        if default:
            return default[0]
        raise ImproperlyConfigured(f"Single sign-on needs OIDC_OP_ISSUER (discovery) or {attr}.")
    return import_from_settings(attr, *default)


def groups_in(claims: Mapping[str, Any]) -> set[str]:
    """The group names (or ids) the provider sent: a list, or one string (some providers send one group so)."""
    value = claims.get(settings.OIDC_GROUPS_CLAIM)
    if value is None:
        return set()
    if isinstance(value, str):
        return {value}
    if isinstance(value, Iterable):
        return {str(group) for group in value}
    return set()


def roles_from_groups(groups: Iterable[str], mapping: Mapping[str, str]) -> set[Role]:
    return {Role(mapping[group]) for group in groups if group in mapping}


def refusal_message(groups: set[str]) -> str:
    mapped = ", ".join(sorted(settings.OIDC_ROLE_GROUPS)) or "none configured"
    return (f"Your identity provider signed you in, but your account is in none of the groups that give a role in "
            f"Tollgate ({mapped}), so Tollgate did not let you in. Ask your administrator to add you to one of them "
            f"at the identity provider, then sign in again.")


class SSOBackend(OIDCAuthenticationBackend):
    """Signs a person in from the provider's ID token and userinfo, creating them on first sign-in with the roles
    their groups map to (portfolio.services.people.person_sign_in_with_sso)."""

    get_settings = staticmethod(oidc_setting)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Django builds every backend for every login: without single sign-on configured this one stays inert.
        if sso_enabled():
            super().__init__(*args, **kwargs)
        else:
            from django.contrib.auth import get_user_model

            self.UserModel = get_user_model()

    def authenticate(self, request: HttpRequest | None, **kwargs: Any):
        if not sso_enabled() or "username" in kwargs or "password" in kwargs:
            return None
        return super().authenticate(request, **kwargs)

    def verify_token(self, token: str, **kwargs: Any) -> dict[str, Any]:
        """The library checks signature and nonce; an ID token is also for this client, from this issuer."""
        payload = super().verify_token(token, **kwargs)
        audience = payload.get("aud")
        audiences = [audience] if isinstance(audience, str) else list(audience or [])
        if self.OIDC_RP_CLIENT_ID not in audiences:
            raise SuspiciousOperation("ID token is not for this client (aud).")
        if settings.OIDC_OP_ISSUER and payload.get("iss", "").rstrip("/") != settings.OIDC_OP_ISSUER:
            raise SuspiciousOperation("ID token is from another issuer (iss).")
        return payload

    def get_userinfo(self, access_token: str, id_token: str, payload: dict[str, Any]) -> dict[str, Any]:
        """The ID token's claims and userinfo's together: Entra ID puts groups in the ID token, Okta in either."""
        userinfo = super().get_userinfo(access_token, id_token, payload) if self.OIDC_OP_USER_ENDPOINT else {}
        if userinfo.get("sub", payload.get("sub")) != payload.get("sub"):
            raise SuspiciousOperation("userinfo is about another subject than the ID token.")
        return {**payload, **userinfo}

    def verify_claims(self, claims: dict[str, Any]) -> bool:
        return bool(str(claims.get(settings.OIDC_EMAIL_CLAIM) or "").strip())

    def filter_users_by_claims(self, claims: dict[str, Any]):
        raise NotImplementedError("people are found by person_sign_in_with_sso")

    def get_or_create_user(self, access_token: str, id_token: str, payload: dict[str, Any]):
        from portfolio.services.people import person_sign_in_with_sso

        claims = self.get_userinfo(access_token, id_token, payload)
        if not self.verify_claims(claims):
            raise SuspiciousOperation(f"The provider sent no {settings.OIDC_EMAIL_CLAIM!r} claim.")
        if claims.get("email_verified") is False:  # absent (Entra ID sends none) is the provider's own directory
            self.refuse("Your identity provider has not verified your e-mail address, which is how Tollgate knows "
                        "you: verify it there, then sign in again.")
        groups = groups_in(claims)
        mapping = settings.OIDC_ROLE_GROUPS
        name = str(claims.get("name") or "").split(" ", 1)
        try:
            user = person_sign_in_with_sso(
                email=str(claims[settings.OIDC_EMAIL_CLAIM]),
                first_name=str(claims.get("given_name") or name[0]),
                last_name=str(claims.get("family_name") or (name[1] if len(name) > 1 else "")),
                roles=roles_from_groups(groups, mapping) if mapping else None,
                default_role=Role(settings.OIDC_DEFAULT_ROLE) if settings.OIDC_DEFAULT_ROLE else None,
            )
        except PermissionDenied as refusal:
            self.refuse(str(refusal))
        if user is not None and not user.is_active:
            self.refuse("Your Tollgate account is deactivated. Ask an administrator if you need it again.")
        if user is None or role_of(user) is None:
            logger.info("single sign-on refused: no mapped group", extra={"groups": sorted(groups)})
            self.refuse(refusal_message(groups))
        return user

    def refuse(self, message: str):
        """Tell the person why on the login page; Django's authenticate() counts a failed login (django-axes)."""
        messages.error(self.request, message)
        raise PermissionDenied(message)


class SSOLoginView(OIDCAuthenticationRequestView):
    """Starts the authorization-code flow (with PKCE): redirects to the provider."""

    get_settings = staticmethod(oidc_setting)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        View.__init__(self, *args, **kwargs)  # the provider's endpoints are read per request, in get()

    def get(self, request: HttpRequest) -> HttpResponse:
        if not sso_enabled():
            raise Http404("Single sign-on is not configured.")
        try:
            self.OIDC_OP_AUTH_ENDPOINT = oidc_setting("OIDC_OP_AUTHORIZATION_ENDPOINT")
        except ImproperlyConfigured as error:
            logger.error("single sign-on unavailable: %s", error)
            messages.error(request, "Single sign-on is unavailable: Tollgate could not reach the identity provider. "
                                    "Try again in a few minutes; if it persists, tell your administrator.")
            return HttpResponseRedirect(resolve_url("login"))
        self.OIDC_RP_CLIENT_ID = settings.OIDC_RP_CLIENT_ID
        return super().get(request)


class SSOCallbackView(OIDCAuthenticationCallbackView):
    """The provider sends the person back here with a code; a refusal goes back to the login page, which says why."""

    get_settings = staticmethod(oidc_setting)

    @property
    def failure_url(self) -> str:
        return resolve_url("login")

    def get(self, request: HttpRequest) -> HttpResponse:
        if not sso_enabled():
            raise Http404("Single sign-on is not configured.")
        return super().get(request)


def provider_logout_url(request: HttpRequest, id_token: str | None) -> str | None:
    """Where to end the provider's session too (RP-initiated logout), coming back to the login page; None when the
    person did not sign in with the provider or it offers no end-session endpoint."""
    if not id_token or not sso_enabled():
        return None
    endpoint = oidc_setting("OIDC_OP_END_SESSION_ENDPOINT", "")
    if not endpoint:
        return None
    query = urlencode({"id_token_hint": id_token, "client_id": settings.OIDC_RP_CLIENT_ID,
                       "post_logout_redirect_uri": request.build_absolute_uri(reverse("login"))})
    return f"{endpoint}?{query}"


class LoginView(auth_views.LoginView):
    """The login page: "Sign in with SSO" when single sign-on is configured, the password form unless PASSWORD_LOGIN
    is off (then a password POST is refused, 403, before any password is checked)."""

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {**super().get_context_data(**kwargs), "sso_enabled": sso_enabled(),
                "password_login": settings.PASSWORD_LOGIN}

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not settings.PASSWORD_LOGIN:
            context = self.get_context_data(password_refused=PASSWORD_LOGIN_OFF)
            return self.render_to_response(context, status=403)
        return super().post(request, *args, **kwargs)


class LogoutView(auth_views.LogoutView):
    """Logs out of Tollgate and, for someone who signed in with the provider, of the provider too."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        id_token = request.session.get("oidc_id_token")
        provider_url = provider_logout_url(request, id_token)
        response = super().post(request, *args, **kwargs)
        return HttpResponseRedirect(provider_url) if provider_url else response
