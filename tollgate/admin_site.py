"""The Django admin site, whose login page follows PASSWORD_LOGIN: with passwords off it sends people to the login
page (single sign-on) instead of showing a password form that could not succeed."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache


class TollgateAdminSite(admin.AdminSite):
    @method_decorator(never_cache)
    @login_not_required
    def login(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        if settings.PASSWORD_LOGIN:
            return super().login(request, extra_context)
        from django.contrib.auth.views import redirect_to_login  # not at import: this module configures an app

        return redirect_to_login(request.GET.get(REDIRECT_FIELD_NAME) or reverse("admin:index", current_app=self.name))


class TollgateAdminConfig(AdminConfig):
    default_site = "tollgate.admin_site.TollgateAdminSite"
