"""The People page: administrators see who has an account and set their roles, whether they may sign in and their
profile, through portfolio.services.people (each change in the audit trail)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views import View

from portfolio import filtersets, selectors, tables
from portfolio.forms import HandOverForm, IntegrationAccountCreateForm, PersonCreateForm, PersonForm
from portfolio.services.passwords import people_awaiting_invitation, people_invite_all, person_invite
from portfolio.services.people import (
    initiatives_hand_over,
    initiatives_hand_over_check,
    integration_account_create,
    person_create,
    person_update,
)
from portfolio.services.tokens import api_tokens_revoke_all
from tollgate.mail import NOT_CONFIGURED, mail_goes_to_log
from tollgate.roles import Role
from tollgate.types import request_actor
from tollgate.ui.errors import form_add_service_errors
from tollgate.ui.views import ListPageView, PermissionRequiredMixin


class PersonListView(ListPageView):
    permission_required = "portfolio.manage_people"
    list_selector = staticmethod(selectors.people_list)
    filterset_class = filtersets.PersonFilterSet
    table_class = tables.PersonTable
    export_name = "people"
    template_name = "portfolio/person_list.html"
    title = "People"
    intro = ("Everyone with an account: their roles, where they sit, who acts for them and what they own. People "
             "come from imports (as owners), single sign-on or are added here; roles and accounts are changed "
             "here, each change in the audit trail.")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        if settings.PASSWORD_LOGIN:
            context["awaiting_invitation"] = people_awaiting_invitation().count()
        return context


class PersonInviteAllView(PermissionRequiredMixin, View):
    """POST: invite everyone who has no password and never signed in (after an inventory import, say)."""

    permission_required = "portfolio.manage_people"
    http_method_names = ["post"]

    def post(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        try:
            invited = people_invite_all(actor=request_actor(request))
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            n = len(invited)
            people = f"{n} {'person' if n == 1 else 'people'}"
            if n and mail_goes_to_log():
                messages.warning(request, f"{NOT_CONFIGURED}: the invitations to {people} were written to the "
                                          "server log.")
            else:
                messages.success(request, f"Invitations e-mailed to {people}." if n else
                                 "Nobody is awaiting an invitation.")
        return HttpResponseRedirect(reverse("portfolio:person_list"))


class PersonCreateView(PermissionRequiredMixin, View):
    """Add someone by hand, with an e-mailed invitation to set their password (unless single sign-on only)."""

    permission_required = "portfolio.manage_people"
    template_name = "portfolio/person_create.html"

    def page(self, form: PersonCreateForm) -> HttpResponse:
        return render(self.request, self.template_name, {"form": form})

    def get(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        return self.page(PersonCreateForm(passwords=settings.PASSWORD_LOGIN))

    def post(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        form = PersonCreateForm(request.POST, passwords=settings.PASSWORD_LOGIN)
        if not form.is_valid():
            return self.page(form)
        data = form.cleaned_data
        try:
            person = person_create(actor=request_actor(request), email=data["email"], first_name=data["first_name"],
                                   last_name=data["last_name"], roles=set(data["roles"]),
                                   department=data["department"], title=data["title"],
                                   invite=data.get("invite", False))
        except ValidationError as exc:
            form_add_service_errors(form, exc)
            return self.page(form)
        name = person.get_full_name() or person
        if data.get("invite") and mail_goes_to_log():
            messages.warning(request, f"{name} added. {NOT_CONFIGURED}: the invitation was written to the server "
                                      "log.")
        else:
            sent = f", and an invitation was e-mailed to {person.email}" if data.get("invite") else ""
            messages.success(request, f"{name} added{sent}.")
        return HttpResponseRedirect(reverse("portfolio:person_edit", args=[person.pk]))


class IntegrationAccountCreateView(PermissionRequiredMixin, View):
    """Add an account for a script or tool: nobody signs in to it, and administrators issue its API tokens."""

    permission_required = "portfolio.manage_people"
    template_name = "portfolio/integration_account_create.html"

    def page(self, form: IntegrationAccountCreateForm) -> HttpResponse:
        return render(self.request, self.template_name, {"form": form})

    def get(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        return self.page(IntegrationAccountCreateForm())

    def post(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        form = IntegrationAccountCreateForm(request.POST)
        if not form.is_valid():
            return self.page(form)
        data = form.cleaned_data
        try:
            account = integration_account_create(actor=request_actor(request), username=data["username"],
                                                 name=data["name"], roles=set(data["roles"]),
                                                 department=data["department"], title=data["title"])
        except ValidationError as exc:
            form_add_service_errors(form, exc)
            return self.page(form)
        messages.success(request, f"Integration account {account.get_full_name()} added: issue its API token from "
                                  "its page.")
        return HttpResponseRedirect(reverse("portfolio:person_edit", args=[account.pk]))


class PersonInviteView(PermissionRequiredMixin, View):
    """POST: e-mail the person a link to set their password (an invitation, or a new link for a forgotten one)."""

    permission_required = "portfolio.manage_people"
    http_method_names = ["post"]

    def post(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        person = get_object_or_404(get_user_model(), pk=self.kwargs["pk"])
        try:
            person_invite(actor=request_actor(request), user=person)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            if mail_goes_to_log():
                messages.warning(request, f"{NOT_CONFIGURED}: the invitation was written to the server log.")
            else:
                messages.success(request, f"A link to set a password was e-mailed to {person.email}.")
        return HttpResponseRedirect(reverse("portfolio:person_edit", args=[person.pk]))


class ApiTokenListView(ListPageView):
    permission_required = "portfolio.manage_people"
    list_selector = staticmethod(selectors.api_token_list)
    filterset_class = filtersets.ApiTokenFilterSet
    table_class = tables.ApiTokenTable
    export_name = "api-tokens"
    title = "API tokens"
    intro = ("Every API token and whose it is: what it may do, when it ends and when it was last used (keys are not "
             "stored: each shows its first characters). People make and revoke their own on their account page; "
             "a person's page revokes all of theirs. A token unused for a month may be one its person forgot.")


class PersonTokensRevokeView(PermissionRequiredMixin, View):
    """POST: every API token of the person stops working (a key that may have leaked)."""

    permission_required = "portfolio.manage_people"
    http_method_names = ["post"]

    def post(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        person = get_object_or_404(get_user_model(), pk=self.kwargs["pk"])
        count = api_tokens_revoke_all(actor=request_actor(request), user=person)
        name = person.get_full_name() or person
        messages.success(request, f"{count} API token{'s' if count != 1 else ''} of {name} revoked." if count
                         else f"{name} has no API token.")
        return HttpResponseRedirect(reverse("portfolio:person_edit", args=[person.pk]))


class PersonUpdateView(PermissionRequiredMixin, View):
    permission_required = "portfolio.manage_people"
    template_name = "portfolio/person_form.html"

    def get_person(self) -> Any:
        if not hasattr(self, "_person"):
            self._person = get_object_or_404(get_user_model().objects.select_related("profile__department"),
                                             pk=self.kwargs["pk"])
        return self._person

    def initial(self) -> dict[str, Any]:
        settings_now = selectors.person_settings(self.get_person())
        return {**settings_now, "roles": [role for role in Role if role in settings_now["roles"]]}

    def page(self, form: PersonForm, handover: HandOverForm | None = None) -> HttpResponse:
        person = self.get_person()
        return render(self.request, self.template_name, {
            "form": form, "person": person, "password_login": settings.PASSWORD_LOGIN,
            "integration_account": selectors.is_integration_account(person),
            "running": list(selectors.initiatives_running_of(person)),
            "handover": handover or HandOverForm(person=person), "tokens": list(selectors.api_tokens_of(person))})

    def get(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        return self.page(PersonForm(initial=self.initial()))

    def post(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        form = PersonForm(request.POST, initial=self.initial())
        if not form.is_valid():
            return self.page(form)
        person = self.get_person()
        try:
            person_update(actor=request_actor(request), user=person, roles=set(form.cleaned_data["roles"]),
                          is_active=form.cleaned_data["is_active"], department=form.cleaned_data["department"],
                          title=form.cleaned_data["title"], delegates=form.cleaned_data["delegates"],
                          integration_account=form.cleaned_data["integration_account"])
        except ValidationError as exc:
            form_add_service_errors(form, exc)
            return self.page(form)
        messages.success(request, f"{person.get_full_name() or person} saved.")
        return HttpResponseRedirect(reverse("portfolio:person_list"))


class PersonHandOverView(PersonUpdateView):
    """POST: everything the person owns that still runs or is planned goes to another owner (someone left)."""

    http_method_names = ["post"]

    def post(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        person = self.get_person()
        handover = HandOverForm(request.POST, person=person)
        if handover.is_valid():
            to = handover.cleaned_data["to"]
            try:
                if not handover.cleaned_data["confirm"]:
                    # A hand-over moves everything at once: show what would move, and to whom, before it does.
                    initiatives_hand_over_check(actor=request_actor(request), from_user=person, to_user=to)
                    return render(request, "portfolio/person_hand_over_confirm.html", {
                        "person": person, "to": to, "running": selectors.hand_over_preview(person)})
                handed = initiatives_hand_over(actor=request_actor(request), from_user=person, to_user=to)
            except ValidationError as exc:
                form_add_service_errors(handover, exc)
            else:
                count, name = len(handed.initiatives), to.get_full_name() or str(to)
                dropped = ", ".join(initiative.external_id for initiative in handed.no_longer_delegate)
                messages.success(request, f"{count} initiative{'s' if count != 1 else ''} handed over to {name}."
                                          + (f" {name} is no longer a delegate on {dropped}, now its owner: an owner "
                                             "is not also its delegate." if dropped else ""))
                return HttpResponseRedirect(reverse("portfolio:person_edit", args=[person.pk]))
        return self.page(PersonForm(initial=self.initial()), handover)
