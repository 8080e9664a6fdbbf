"""Password pages: change one's own password, and set one from an e-mailed link ("Forgot your password?" at the login
page, or an administrator's invitation). Django's views and forms (its password validators, its single-use signed
tokens), with the write going through portfolio.services.passwords.password_set so that it is audited. With
PASSWORD_LOGIN off (single sign-on only) every one of these pages is a 404: there are no local passwords."""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.forms import PasswordChangeForm, SetPasswordForm
from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse_lazy
from django.utils.decorators import method_decorator

from portfolio.selectors import is_integration_account
from portfolio.services.passwords import password_link_tokens, password_set
from tollgate.auth import client_address
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
    success_url = reverse_lazy("account")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {**super().get_context_data(**kwargs), "has_password": request_actor(self.request).has_usable_password()}

    def form_valid(self, form: PasswordChangeForm) -> HttpResponse:
        if not form.user.has_usable_password():
            raise Http404("This account has no password to change.")
        password_set(user=form.user, password=form.cleaned_data["new_password1"], source="password_page")
        update_session_auth_hash(self.request, form.user)  # stay signed in here; other sessions are signed out
        messages.success(self.request, "Your password was changed.")
        return HttpResponseRedirect(self.get_success_url())


# "Forgot your password?" sends at most this many links an hour to one address, and answers this many requests an
# hour from one client address: nobody can flood a colleague's mailbox or the mail server through it. Past either,
# the page answers as always and sends nothing (a hand-written counter: django-ratelimit refuses the embedded
# default's local-memory cache outright).
LINKS_PER_ADDRESS_PER_HOUR = 3
REQUESTS_PER_CLIENT_PER_HOUR = 20
logger = logging.getLogger(__name__)


def over_limit(key: str, limit: int) -> bool:
    """Count one more request under `key` in the current hour; whether that is past `limit`. The first request
    starts the hour (cache.add); incr is atomic on Redis, the production cache shared by every process."""
    cache.add(key, 0, timeout=3600)
    try:
        return cache.incr(key) > limit
    except ValueError:  # the hour ended between the two calls
        cache.set(key, 1, timeout=3600)
        return False


@method_decorator(login_not_required, name="dispatch")
class PasswordResetView(PasswordsOnMixin, auth_views.PasswordResetView):
    """"Forgot your password?": a link by e-mail to an active account with a password, and the same answer whether
    or not the address has one (nobody learns who has an account), within the hourly limits above."""

    template_name = "registration/password_reset_form.html"
    email_template_name = "registration/password_reset_email.txt"
    subject_template_name = "registration/password_reset_subject.txt"
    success_url = reverse_lazy("password_reset_done")
    token_generator = password_link_tokens  # the links stay dead after a deactivation, as invitations' do

    @property
    def extra_email_context(self) -> dict[str, Any]:
        # Links in e-mails are absolute, to the address people reach Tollgate at (not the host this request named).
        return {"site_url": settings.SITE_URL, "days": max(1, settings.PASSWORD_RESET_TIMEOUT // 86400)}

    def form_valid(self, form: Any) -> HttpResponse:
        email = hashlib.sha256(form.cleaned_data["email"].strip().lower().encode()).hexdigest()
        client = client_address(self.request) or "unknown"
        if (over_limit(f"password-link:client:{client}", REQUESTS_PER_CLIENT_PER_HOUR)
                or over_limit(f"password-link:address:{email}", LINKS_PER_ADDRESS_PER_HOUR)):
            logger.warning("Password link not sent: over the hourly limit (client %s).", client)
            return HttpResponseRedirect(self.get_success_url())
        return super().form_valid(form)


@method_decorator(login_not_required, name="dispatch")
class PasswordResetDoneView(PasswordsOnMixin, auth_views.PasswordResetDoneView):
    template_name = "registration/password_reset_done.html"


@method_decorator(login_not_required, name="dispatch")
class PasswordResetConfirmView(PasswordsOnMixin, auth_views.PasswordResetConfirmView):
    """The e-mailed link (a reset or an invitation): a new password, then the login page. A used, expired or altered
    link says so and offers a new one."""

    template_name = "registration/password_reset_confirm.html"
    success_url = reverse_lazy("login")
    token_generator = password_link_tokens

    def get_user(self, uidb64: str) -> Any:
        # A link sent before someone left stops working with their account; an integration account has no password.
        user = super().get_user(uidb64)
        if user is None or not user.is_active or is_integration_account(user):  # nobody signs in to one
            return None
        return user

    def form_valid(self, form: SetPasswordForm) -> HttpResponse:
        password_set(user=form.user, password=form.cleaned_data["new_password1"], source="link")
        del self.request.session[auth_views.INTERNAL_RESET_SESSION_TOKEN]
        messages.success(self.request, "Your password is set: log in with it.")
        return HttpResponseRedirect(self.get_success_url())
