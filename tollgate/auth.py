"""Password logins: django-axes' throttling backend for the logins that come with a request, the password backend
that PASSWORD_LOGIN switches off, and the API token endpoint (how a token authenticates: tollgate.api_tokens)."""

from __future__ import annotations

from typing import Any

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import parsers, permissions, renderers, serializers, status
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from tollgate.api_body import DeclaredBodyMixin, reads_body
from tollgate.api_fields import JSONParser

PASSWORD_LOGIN_OFF = ("Password login is switched off here: sign in with single sign-on. For an API token, create "
                      "one on your account page (/accounts/).")


class LoginThrottleBackend(AxesStandaloneBackend):
    """Refuses a locked-out login before any password is checked.

    Every login from outside (the login page, the admin's, the API token endpoint, a session or token API call) comes
    with its request; an authentication without one is made by the code itself (a management command, the test
    client's login) and has no address or attacker to throttle, where axes would raise instead.
    """

    def authenticate(self, request: HttpRequest | None, username: str | None = None, password: str | None = None,
                     **kwargs: Any) -> None:
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


class PasswordBackend(ModelBackend):
    """Django's username-and-password check, whatever the letter case of the username typed, refused when
    PASSWORD_LOGIN is off (single sign-on only).

    Only `authenticate` is switched off: the backend still answers the Django admin's model permissions (from the
    administrators' group) for everyone, however they signed in.
    """

    def authenticate(self, request: HttpRequest | None, username: str | None = None, password: str | None = None,
                     **kwargs: Any):
        """Not for an integration account: a script uses one with API tokens, nobody signs in to it (should a
        password reach it after all, through a door nobody foresaw, it still does not sign in). Checked here, not in
        user_can_authenticate, which Django also asks on every request of a session (one query per page)."""
        from portfolio.selectors import is_integration_account

        if not settings.PASSWORD_LOGIN:
            return None
        user = super().authenticate(request, username=stored_username(username), password=password, **kwargs)
        return None if user is None or is_integration_account(user) else user


def stored_username(typed: str | None) -> str | None:
    """The username as stored for one typed in any letter case: a username is an e-mail address, which people type
    as their mailbox shows it, and every other door (reset, import, Add person) ignores case. Usernames are unique
    ignoring case (portfolio migration 0028); should two differ only in case all the same, only the exact one signs
    in."""
    if not typed:
        return typed
    user_model = get_user_model()
    matches = list(user_model._default_manager.filter(**{f"{user_model.USERNAME_FIELD}__iexact": typed})
                   .values_list(user_model.USERNAME_FIELD, flat=True)[:2])
    return matches[0] if len(matches) == 1 else typed


def lockout_username(request: HttpRequest | None, credentials: dict[str, Any] | None = None) -> str | None:
    """The account django-axes counts failed logins against (AXES_USERNAME_CALLABLE): the username typed, in lower
    case, so that guesses at one account in different letter cases are counted, locked and unlocked together, as the
    login finds one account for all of them."""
    field = getattr(settings, "AXES_USERNAME_FORM_FIELD", "username")
    if credentials:
        typed = credentials.get(field)
    else:
        data = getattr(request, "data", None) or getattr(request, "POST", None) or {}
        typed = data.get(field)
    return typed.strip().lower() if isinstance(typed, str) else None


def client_address(request: HttpRequest) -> str | None:
    """The client's address as the configured header gives it: REMOTE_ADDR, or the header a trusted proxy sets
    (LOGIN_CLIENT_IP_HEADER); never a header a client could set itself unless the operator says the proxy sets it.
    Of a list (X-Forwarded-For) the last address: the one the proxy in front of Tollgate appended. Those before it
    came with the request, so a client could name itself 127.0.0.1 (opening /metrics) or a fresh address per login
    guess."""
    value = request.META.get(settings.LOGIN_CLIENT_IP_HEADER) or request.META.get("REMOTE_ADDR")
    return value.split(",")[-1].strip() or None if value else None


class ThrottledAuthTokenSerializer(AuthTokenSerializer):
    """DRF's token login, authenticating with Django's request: axes marks a locked-out attempt on the request it is
    given, and only Django's request reaches the middleware that answers it with 429 (DRF's wrapper would keep the
    mark to itself and answer 400)."""

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        request = self.context.get("request")
        self.context["request"] = getattr(request, "_request", request)
        try:
            return super().validate(attrs)
        finally:
            self.context["request"] = request


# A token obtained with a password is its person's, read-write, for API_TOKEN_PASSWORD_HOURS: one with a name, a
# lifetime or read-only is a named token, created on the account page. Said to a client that asked for one here.
NAMED_TOKEN = ("A token obtained with a password reads and writes what its person may; for a read-only, named or "
               "longer-lived one, create a named token on your account page (/accounts/).")
TOKEN_HINTS = {"read_only": NAMED_TOKEN, "name": NAMED_TOKEN, "expiry": NAMED_TOKEN, "lifetime": NAMED_TOKEN,
               "days": NAMED_TOKEN}


class ObtainTokenView(DeclaredBodyMixin, APIView):
    """POST username and password, get a new API token that lasts API_TOKEN_PASSWORD_HOURS (throttled like every
    login). Only its digest is stored, so every call issues a new token; a script that needs a lasting one uses a
    named token from its person's account page."""

    throttle_classes = ()
    permission_classes = ()
    read_only_tokens_allowed = True  # a password gets a token whatever token the header still carries
    parser_classes = (parsers.FormParser, parsers.MultiPartParser, JSONParser)
    renderer_classes = (renderers.JSONRenderer,)

    @extend_schema(
        request=AuthTokenSerializer,
        responses={200: inline_serializer("IssuedToken", {
            "token": serializers.CharField(help_text="The key: send it as `Authorization: Token <key>`."),
            "expiry": serializers.DateTimeField(help_text="When the token stops working."),
        })})
    @reads_body("username", "password", hints=TOKEN_HINTS)
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        if not settings.PASSWORD_LOGIN:
            return Response({"detail": PASSWORD_LOGIN_OFF}, status=status.HTTP_403_FORBIDDEN)
        from portfolio.services.tokens import api_token_obtain

        serializer = ThrottledAuthTokenSerializer(data=request.data, context={"request": request, "view": self})
        serializer.is_valid(raise_exception=True)
        token, key = api_token_obtain(user=serializer.validated_data["user"])
        return Response({"token": key, "expiry": token.expiry})


class RevokeTokenView(DeclaredBodyMixin, APIView):
    """POST with a token: that token stops working at once (a script that obtained one for its run hands it back
    when done). Audited on its person like any revocation."""

    permission_classes = (permissions.IsAuthenticated,)
    read_only_tokens_allowed = True  # handing a token back changes no data: a read-only script may do it too

    @extend_schema(request=None, responses={204: None})
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        from portfolio.models import ApiToken
        from portfolio.services.tokens import api_token_revoke
        from tollgate.types import request_actor

        if not isinstance(request.auth, ApiToken):
            return Response({"detail": "This request did not come with an API token: send the one to revoke as "
                                       "`Authorization: Token <key>`."}, status=status.HTTP_400_BAD_REQUEST)
        api_token_revoke(actor=request_actor(request), token=request.auth)
        return Response(status=status.HTTP_204_NO_CONTENT)


def lockout_response(request: HttpRequest, original_response: HttpResponse | None = None,
                     credentials: dict[str, Any] | None = None) -> HttpResponse:
    """Axes' answer to a locked-out login (AXES_LOCKOUT_CALLABLE): the page for people, and for the API's token login
    JSON with a `detail` and `Retry-After`, as every other API refusal, where axes gave a script the HTML page."""
    from axes.helpers import get_client_username, get_cool_off, get_failure_limit

    limit, cool_off = get_failure_limit(request, credentials), get_cool_off(request)
    if request.path_info.startswith("/api/"):
        minutes = int(cool_off.total_seconds() // 60) if cool_off else 0
        pause = f"for {minutes} minute{'s' if minutes != 1 else ''}" if minutes else "for a while"
        response = JsonResponse({"detail": (
            f"Too many failed login attempts: logins for this account or from this address are paused {pause} after "
            f"{limit} failed attempts. Try again later, or ask an administrator to unlock it now.")},
            status=settings.AXES_HTTP_RESPONSE_CODE)
        if cool_off:
            response["Retry-After"] = str(int(cool_off.total_seconds()))
        return response
    context = {"failure_limit": limit, "cooloff_timedelta": cool_off,
               "username": get_client_username(request, credentials) or ""}
    return render(request, settings.AXES_LOCKOUT_TEMPLATE, context, status=settings.AXES_HTTP_RESPONSE_CODE)
