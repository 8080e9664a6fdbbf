"""Password pages: change one's own password, and set one from an e-mailed link ("Forgot your password?" at the login
page, or an administrator's invitation). Django's views and forms (its password validators, its single-use signed
tokens), with the write going through portfolio.services.passwords.password_set so that it is audited. With
PASSWORD_LOGIN off (single sign-on only) every one of these pages is a 404: there are no local passwords."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.forms import PasswordChangeForm, SetPasswordForm
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse_lazy
from django.utils.decorators import method_decorator

from portfolio.services.passwords import password_set
from tollgate.types import request_actor


class PasswordsOnMixin:
    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not settings.PASSWORD_LOGIN:
            raise Http404("Password login is switched off: sign in with single sign-on.")
        return super().dispatch(request, *args, **kwargs)  # type: ignore[misc]


class PasswordChangeView(PasswordsOnMixin, auth_views.PasswordChangeView):
    """One's own password, with the current one. An account without one (single sign-on, or never set) is told how
    to get one instead of being asked for a password it does not have."""

    template_name = "registration/password_change_form.html"
    success_url = reverse_lazy("home")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {**super().get_context_data(**kwargs), "has_password": request_actor(self.request).has_usable_password()}

    def form_valid(self, form: PasswordChangeForm) -> HttpResponse:
        if not form.user.has_usable_password():
            raise Http404("This account has no password to change.")
        password_set(user=form.user, password=form.cleaned_data["new_password1"], source="password_page")
        update_session_auth_hash(self.request, form.user)  # stay signed in here; other sessions are signed out
        messages.success(self.request, "Your password was changed.")
        return HttpResponseRedirect(self.get_success_url())


@method_decorator(login_not_required, name="dispatch")
class PasswordResetView(PasswordsOnMixin, auth_views.PasswordResetView):
    """"Forgot your password?": a link by e-mail to an active account with a password, and the same answer whether
    or not the address has one (nobody learns who has an account)."""

    template_name = "registration/password_reset_form.html"
    email_template_name = "registration/password_reset_email.txt"
    subject_template_name = "registration/password_reset_subject.txt"
    success_url = reverse_lazy("password_reset_done")

    @property
    def extra_email_context(self) -> dict[str, Any]:
        # Links in e-mails are absolute, to the address people reach Tollgate at (not the host this request named).
        return {"site_url": settings.SITE_URL, "days": max(1, settings.PASSWORD_RESET_TIMEOUT // 86400)}


@method_decorator(login_not_required, name="dispatch")
class PasswordResetDoneView(PasswordsOnMixin, auth_views.PasswordResetDoneView):
    template_name = "registration/password_reset_done.html"


@method_decorator(login_not_required, name="dispatch")
class PasswordResetConfirmView(PasswordsOnMixin, auth_views.PasswordResetConfirmView):
    """The e-mailed link (a reset or an invitation): a new password, then the login page. A used, expired or altered
    link says so and offers a new one."""

    template_name = "registration/password_reset_confirm.html"
    success_url = reverse_lazy("login")

    def form_valid(self, form: SetPasswordForm) -> HttpResponse:
        password_set(user=form.user, password=form.cleaned_data["new_password1"], source="link")
        del self.request.session[auth_views.INTERNAL_RESET_SESSION_TOKEN]
        messages.success(self.request, "Your password is set: log in with it.")
        return HttpResponseRedirect(self.get_success_url())
