"""A person's own account page: who they are in Tollgate (roles, department, who acts for them and for whom they
act), their password, whether notifications are e-mailed to them, and their own API tokens. Every write goes through
its service and is audited; an API token's key is shown once, on the page that created it (only its digest is stored,
so nothing can show it again)."""

from __future__ import annotations

from typing import Any
from zoneinfo import available_timezones

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views import View
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import permissions, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from portfolio.choices import NotificationEmail
from portfolio.models import ApiToken
from portfolio.selectors import account_overview, api_tokens_of, profile_of
from portfolio.services import api_token_issue, api_token_revoke, profile_notifications_set
from portfolio.services.tokens import default_lifetime, lifetime_choices
from tollgate.api_body import DeclaredBodyMixin
from tollgate.roles import held_roles, roles_shown
from tollgate.time_zones import time_zone_remember
from tollgate.types import request_actor


def account_page(request: HttpRequest, *, new_token: str | None = None, status: int = 200) -> HttpResponse:
    user = request_actor(request)
    held = held_roles(user)
    roles = [role.label if role in held else f"{role.label} (superuser)" for role in roles_shown(user)]
    lifetimes = lifetime_choices()
    refused = request.method == "POST" and not new_token  # a refused token form keeps what was typed
    typed = request.POST if refused else {}
    days = int(typed["days"]) if typed.get("days", "").isdigit() and int(typed["days"]) in lifetimes else None
    return render(request, "registration/account.html", {
        "account": account_overview(user), "roles": roles, "new_token": new_token,
        "password_login": settings.PASSWORD_LOGIN, "has_password": user.has_usable_password(),
        "notification_choices": NotificationEmail.choices, "digest_hours": range(24), "time_zone": settings.TIME_ZONE,
        "time_zones": time_zone_choices(),
        "token_lifetimes": lifetimes,
        "token_default_days": days or default_lifetime(),
        "token_name": typed.get("name", ""), "read_only_checked": typed.get("read_only") == "on"},
        status=status)


# The tz database's regions: its other names (US/Eastern, Etc/GMT+5, EST5EDT...) are old aliases nobody looks for.
TIME_ZONE_REGIONS = {"Africa", "America", "Antarctica", "Arctic", "Asia", "Atlantic", "Australia", "Europe", "Indian",
                     "Pacific"}


def time_zone_choices() -> list[str]:
    """The zones the account page offers: UTC and each region's cities, sorted (an alias chosen before stays valid,
    the service accepts every zone the server knows)."""
    return ["UTC", *sorted(z for z in available_timezones() if z.split("/", 1)[0] in TIME_ZONE_REGIONS)]


def _whole_number(text: str) -> int | str:
    """The number typed, or the text itself for the service to name as wrong."""
    try:
        return int(text)
    except ValueError:
        return repr(text)


class AccountView(View):
    def get(self, request: HttpRequest) -> HttpResponse:
        return account_page(request)


class AccountTokenView(View):
    """POST name, days and read_only: a new API token for oneself, its key shown on the answering page only."""

    http_method_names = ["post"]

    def post(self, request: HttpRequest) -> HttpResponse:
        user = request_actor(request)
        try:
            _token, key = api_token_issue(actor=user, user=user, name=request.POST.get("name", ""),
                                          days=_whole_number(request.POST.get("days", "").strip()),
                                          read_only=request.POST.get("read_only") == "on")
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return account_page(request, status=400)
        response = account_page(request, new_token=key)
        response["Cache-Control"] = "no-store"  # the key must not stay in a cache or the browser's history
        return response


class AccountTokenRevokeView(View):
    """POST `token` (the token's id on the page): it stops working at once."""

    http_method_names = ["post"]

    def post(self, request: HttpRequest) -> HttpResponse:
        user = request_actor(request)
        token = api_tokens_of(user).filter(pk=request.POST.get("token", "")).first()
        if token is None:
            messages.info(request, "You have no such API token (it may have been revoked already).")
        else:
            api_token_revoke(actor=user, token=token)
            messages.success(request, f"Your API token {token.name} ({token.shown_key}) was revoked: it no longer "
                                      "works.")
        return HttpResponseRedirect(reverse("account"))


class AccountNotificationsView(View):
    """POST: how notifications are e-mailed (each, a daily digest, never)."""

    http_method_names = ["post"]

    def post(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        user = request_actor(request)
        try:
            hour = request.POST.get("digest_hour", "").strip()
            profile = profile_notifications_set(actor=user, user=user,
                                                email=request.POST.get("notification_email", ""),
                                                digest_hour=_whole_number(hour) if hour else None,
                                                time_zone=request.POST.get("time_zone"))
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            if time_zone_remember(request, profile.time_zone):
                shown = profile.time_zone or f"{settings.TIME_ZONE}, the server's time zone"
                messages.success(request, f"Dates and times are now shown in {shown}.")
            messages.success(request, {
                NotificationEmail.EACH: "Each notification is e-mailed to you as it happens.",
                NotificationEmail.DAILY: f"Your notifications are e-mailed to you once a day, in one digest, at "
                                         f"{profile.digest_hour:02d}:00 ({profile.time_zone or settings.TIME_ZONE}).",
                NotificationEmail.OFF: "Notifications are no longer e-mailed to you; they stay on the Notifications "
                                       "page.",
            }[NotificationEmail(profile.notification_email)])
        return HttpResponseRedirect(reverse("account"))


class MeAPIView(DeclaredBodyMixin, APIView):
    """GET /api/me/: who the caller is to Tollgate, and with which token, so a script can check it runs as whom it
    should (and whether its token is read only) before it writes anything."""

    permission_classes = (permissions.IsAuthenticated,)

    @extend_schema(responses={200: inline_serializer("Me", {
        "id": serializers.IntegerField(), "username": serializers.CharField(), "email": serializers.CharField(),
        "name": serializers.CharField(), "roles": serializers.ListField(child=serializers.CharField()),
        "department": serializers.CharField(allow_null=True),
        "token": inline_serializer("MeToken", {
            "name": serializers.CharField(), "key_starts": serializers.CharField(),
            "read_only": serializers.BooleanField(), "expiry": serializers.DateTimeField(allow_null=True),
        }, allow_null=True, help_text="The token the request came with; null with a session."),
    })})
    def get(self, request: Request) -> Response:
        user = request_actor(request)
        profile = profile_of(user)
        token = request.auth if isinstance(request.auth, ApiToken) else None
        return Response({
            "id": user.pk, "username": user.get_username(), "email": user.email,
            "name": user.get_full_name() or user.get_username(), "roles": [role.value for role in roles_shown(user)],
            "department": profile.department.name if profile and profile.department else None,
            "token": None if token is None else {"name": token.name, "key_starts": token.shown_key.rstrip("…"),
                                                 "read_only": token.read_only, "expiry": token.expiry},
        })
