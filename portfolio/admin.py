"""Django admin for administrators: every portfolio model, searchable, with its relations inline.

Models whose writes have consequences (initiatives, business cases and KPIs: the locks of the lifecycle and the
business-case versions; licence pools, cost sources, allocation rules, currency rates: roll-ups, re-allocation, the
audit row) are written through their services, as on the pages and in the API; runs, raw records, roll-ups and
business-case versions are read-only. Reference data without a service of its own (departments, cost centers,
vendors, the model catalogue, accounts) is saved by the admin and recorded as field history under the
administrator's name (auditlog, registered in portfolio.apps); people's roles and profiles go through their services.
"""

from __future__ import annotations

import copy
from typing import Any

from axes.admin import AccessAttemptAdmin, AccessFailureLogAdmin, AccessLogAdmin
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm, AdminUserCreationForm
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Model, URLField
from django.forms.models import construct_instance
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html_join

from portfolio import models
from portfolio.costs.services.allocation import (
    RULE_FIELDS,
    allocation_rule_create,
    allocation_rule_delete,
    allocation_rule_update,
)
from portfolio.costs.services.currency_rates import RATE_FIELDS, currency_rate_create, currency_rate_update
from portfolio.costs.services.sources import (
    SOURCE_FIELDS,
    cost_source_create,
    cost_source_delete,
    cost_source_update,
)
from portfolio.models import BUSINESS_CASE_FIELDS, KPI_FIELDS
from portfolio.models.base import KPI_FIGURE_MESSAGES
from portfolio.selectors import is_integration_account, login_attempts_expired
from portfolio.services.initiatives import (
    EDITABLE_FIELDS,
    business_case_delete,
    business_case_save,
    initiative_create,
    initiative_delete,
    initiative_update,
    kpi_delete,
    kpi_save,
)
from portfolio.services.licences import POOL_FIELDS, licence_pool_delete, licence_pool_save, this_month
from portfolio.services.passwords import (
    no_password_for_integration_account,
    password_set_by_administrator,
    password_set_by_administrator_check,
)
from portfolio.services.people import (
    NO_ROLE_GIVEN,
    integration_role_errors,
    login_history_remove,
    login_lock_clear,
    no_role_errors,
    person_deactivate,
    person_reactivate,
    person_set_roles,
    person_superuser_revoke,
    profile_notifications_set,
    profile_update,
    self_lockout_errors,
)
from portfolio.services.reference import (
    AI_MODEL_FIELDS,
    CASE_UNIQUE,
    ai_model_save,
    case_duplicate_errors,
    cost_center_move_errors,
    reference_delete,
    reference_in_use,
    vendor_save,
)
from portfolio.services.tokens import api_token_issue, api_token_revoke, default_lifetime, lifetime_choices
from tollgate.formatting import format_unit_price
from tollgate.roles import Role
from tollgate.types import request_actor
from tollgate.ui.admin import ReadOnlyAdmin, ReadOnlyInline, ServiceAdmin


class ProfileInline(admin.StackedInline):
    """People are Django users; their department, title and delegates live on the profile, shown here and edited on
    its own page (the "Change" link, or the People page), where profile_update checks the delegates."""

    model = models.Profile
    fk_name = "user"
    can_delete = False
    show_change_link = True
    fields = ["department", "title", "delegates", "notification_email", "digest_hour", "time_zone", "digest_sent_at",
              "deactivated_at", "integration_account"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


admin.site.unregister(get_user_model())


def _roles_of(groups: Any) -> set[Role]:
    """The roles among the groups chosen on the form (other groups are not roles)."""
    role_names = {role.value for role in Role}
    return {Role(group.name) for group in groups if group.name in role_names}


class PersonCreationForm(AdminUserCreationForm):
    """The admin's "Add user", asking for the person's roles too: an account saved without one would be active and
    see nothing (person_create refuses that on the People page and in the API). The roles are given through
    person_set_roles when the account is saved, in the same transaction."""

    roles = forms.TypedMultipleChoiceField(
        choices=Role.choices, coerce=Role, widget=forms.CheckboxSelectMultiple,
        error_messages={"required": NO_ROLE_GIVEN})


def administrator_password_form(actor: Any) -> type[AdminPasswordChangeForm]:
    """Django admin's password form, writing through password_set_by_administrator as `actor`."""

    class AdministratorPasswordForm(AdminPasswordChangeForm):
        def clean(self) -> dict[str, Any]:
            cleaned: dict[str, Any] = super().clean() or {}
            try:
                password_set_by_administrator_check(actor=actor, user=self.user)
            except ValidationError as refused:  # under the password: Django's page shows no form-wide error
                self.add_error("password1", refused.messages)
            except PermissionDenied as refused:
                self.add_error("password1", str(refused))
            return cleaned

        def save(self, commit: bool = True) -> Any:
            usable = self.cleaned_data["set_usable_password"]
            return password_set_by_administrator(actor=actor, user=self.user,
                                                 password=self.cleaned_data["password1"] if usable else None)

    return AdministratorPasswordForm


@admin.register(get_user_model())
class PersonAdmin(UserAdmin):
    """Accounts, their roles and profile. The account's fields and the profile are field history in the audit trail;
    roles (the role groups) are given through person_set_roles, which audits them and keeps staff status with the
    administrator role, and an account switched off or on through person_deactivate / person_reactivate. As on the
    People page, administrators cannot take away their own administrator role or deactivate their own account, and
    an active person keeps at least one role.
    Per-user Django permissions are not offered: roles are declared once, in tollgate.roles. Staff and superuser
    status are shown, not edited: staff status follows the administrator role, and superuser status (an administrator
    whatever the groups) is never given here, only taken away (person_superuser_revoke, a "Roles changed" row), so
    that no grant of the administrator role escapes the trail's "Roles changed" events."""

    inlines = [ProfileInline]
    list_display = ["username", "email", "first_name", "last_name", "is_staff", "is_active"]
    list_filter = ["groups", "is_staff", "is_active", "profile__integration_account"]
    fieldsets = tuple(
        (name, {**options, "fields": tuple(f for f in options["fields"] if f != "user_permissions")})
        for name, options in UserAdmin.fieldsets or ()
    )
    add_form = PersonCreationForm
    add_fieldsets = tuple(
        (name, {**options, "fields": (*options["fields"], "roles")}) for name, options in UserAdmin.add_fieldsets
    )

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ()
        return ("is_staff",) if obj.is_superuser else ("is_staff", "is_superuser")

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        form_class = super().get_form(request, obj, change=change, **kwargs)
        if obj is None:
            return form_class
        actor = request_actor(request)

        class PersonChangeForm(form_class):  # type: ignore[misc, valid-type]
            """Refuses what would lock the administrator out, leave an active person without a role or make an
            integration account a reviewer or an administrator, as the People page and the services do."""

            def clean_username(self) -> str:
                # People sign in whatever the letter case they type: two usernames differing only in case would be
                # one login for two accounts (the database refuses it too, portfolio migration 0028).
                username: str = self.cleaned_data["username"]
                clash = type(obj).objects.filter(username__iexact=username).exclude(pk=obj.pk).first()
                if clash is not None:
                    raise ValidationError(f"{clash.get_full_name() or clash} already has the username "
                                          f"{clash.username}, in some letter case.")
                return username

            def clean(self) -> dict[str, Any]:
                cleaned: dict[str, Any] = super().clean()
                groups = cleaned.get("groups")
                is_active = cleaned.get("is_active", obj.is_active)
                is_superuser = cleaned.get("is_superuser", obj.is_superuser)
                errors = self_lockout_errors(
                    actor=actor, user=obj, roles=None if groups is None else _roles_of(groups), is_active=is_active,
                    is_superuser=is_superuser)
                if groups is not None and "roles" not in errors:
                    errors.update(no_role_errors(user=obj, roles=_roles_of(groups), is_active=is_active,
                                                 is_superuser=is_superuser))
                if groups is not None and "roles" not in errors and is_integration_account(obj):
                    errors.update(integration_role_errors(user=obj, roles=_roles_of(groups)))
                for field, message in errors.items():
                    self.add_error("groups" if field == "roles" else field, message)
                return cleaned

        return PersonChangeForm

    def user_change_password(self, request: HttpRequest, id: str, form_url: str = "") -> HttpResponse:
        """Nobody signs in to an integration account: the admin's password form refuses it, as invitations and
        password links do (portfolio.services.passwords). Any other password is set through its service, so the trail
        says which administrator set it and the tokens obtained with the old one stop working: Django's form wrote
        it directly, without either. The form is this request's (the admin is shared between requests)."""
        account = self.get_object(request, unquote(id))
        if account is not None and is_integration_account(account):
            messages.error(request, no_password_for_integration_account(account))
            return HttpResponseRedirect(reverse("admin:auth_user_change", args=[account.pk]))
        this_request = copy.copy(self)
        this_request.change_password_form = administrator_password_form(request_actor(request))
        return super(PersonAdmin, this_request).user_change_password(request, id, form_url)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        # An account switched off or on here goes through its service, under the same event as everywhere else: one
        # switched off at once (its roles may then all go), one switched on after its roles are saved (save_related),
        # since an account is not turned back on without a role.
        switched = change and "is_active" in form.changed_data
        if switched:
            obj.is_active = not obj.is_active
        if change and "is_superuser" in form.changed_data:  # taken away after the roles, by its service
            obj.is_superuser = True
        super().save_model(request, obj, form, change)
        form.reactivate_after_roles = switched and not obj.is_active
        if switched and obj.is_active:
            person_deactivate(actor=request_actor(request), user=obj, source="admin")

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        if not change:  # the add form: a username, a password and the roles
            super().save_related(request, form, formsets, change)
            person_set_roles(user=form.instance, roles=set(form.cleaned_data["roles"]), actor=request_actor(request),
                             source="admin")
            profile_update(actor=request_actor(request), user=form.instance, department=None, title="", delegates=[])
            return
        chosen = form.cleaned_data["groups"]
        role_names = {role.value for role in Role}
        user = form.instance
        held = list(user.groups.filter(name__in=role_names))
        # Other groups are saved as chosen; the role groups stay as they are until the service changes them.
        form.cleaned_data["groups"] = [group for group in chosen if group.name not in role_names] + held
        super().save_related(request, form, formsets, change)
        person_set_roles(user=user, roles=_roles_of(chosen), actor=request_actor(request), source="admin")
        if "is_superuser" in form.changed_data:
            person_superuser_revoke(actor=request_actor(request), user=user, source="admin")
        if getattr(form, "reactivate_after_roles", False):
            person_reactivate(actor=request_actor(request), user=user, source="admin")


admin.site.unregister(Group)


@admin.register(Group)
class RoleGroupAdmin(ReadOnlyAdmin, GroupAdmin):
    """The role groups, shown read-only: roles and the administrators' admin permissions are declared once, in
    tollgate.roles, and made again at every migrate, so an edit here would be silently undone (and not audited)."""


class ApiTokenForm(forms.ModelForm):
    days = forms.TypedChoiceField(label="Works for (days)", coerce=int, choices=())

    class Meta:
        model = models.ApiToken
        fields = ["user", "name", "read_only"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        days = self.fields["days"]
        assert isinstance(days, forms.TypedChoiceField)
        days.choices = [(d, f"{d} days") for d in lifetime_choices()]
        days.initial = default_lifetime()


@admin.register(models.ApiToken)
class ApiTokenAdmin(ServiceAdmin):
    """API tokens, issued and revoked through their services so that each is in the audit trail (on the person,
    never with the key). Only a digest of each key is stored: the key of a token issued here is shown once, on the
    page that answers the form. A token is not changed or handed to someone else: revoke it and issue another. Keys
    are issued here only for the accounts marked as integration accounts (People page): a person issues their own
    (the service refuses the rest, on the form's user field), while anyone's may be revoked here."""

    form = ApiTokenForm
    service_fields = ("user", "name", "days", "read_only")
    list_display = ("name", "user", "shown_key", "read_only", "created", "expiry", "last_used_at", "from_password")
    list_filter = ("read_only", "from_password")
    search_fields = ("name", "token_key", "user__username", "user__email")
    list_select_related = ("user",)
    autocomplete_fields = ("user",)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ["user", "name", "days", "read_only"]
        return ["user", "name", "shown_key", "read_only", "created", "expiry", "last_used_at", "from_password"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return () if obj is None else self.get_fields(request, obj)

    def service_create(self, request: HttpRequest, values: dict[str, Any]) -> Model:
        token, key = api_token_issue(actor=request_actor(request), user=values["user"], name=values["name"],
                                     days=values["days"], read_only=values.get("read_only", False))
        request._issued_api_key = key  # type: ignore[attr-defined]  # for response_add, this response only
        return token

    def response_add(self, request: HttpRequest, obj: Any, post_url_continue: str | None = None) -> HttpResponse:
        """The key is shown on the answer to the form itself, never in a message (which may wait in a cookie)."""
        key = getattr(request, "_issued_api_key", None)
        if key is None:
            return super().response_add(request, obj, post_url_continue)
        response = TemplateResponse(request, "admin/portfolio/apitoken/issued.html", {
            **self.admin_site.each_context(request), "token": obj, "key": key, "title": "API token issued"})
        response["Cache-Control"] = "no-store"
        return response

    def service_delete(self, request: HttpRequest, obj: Any) -> None:
        api_token_revoke(actor=request_actor(request), token=obj)


admin.site.unregister(AccessAttempt)
admin.site.unregister(AccessLog)
admin.site.unregister(AccessFailureLog)


@admin.register(AccessAttempt)
class LoginAttemptAdmin(AccessAttemptAdmin):
    """django-axes' failed logins; deleting a row unlocks the account or address, through login_lock_clear, which
    puts each unlock in the audit trail, and so does axes' "Clean up expired attempts" action. Its change page is
    read-only, as axes makes it."""

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        login_lock_clear(actor=request_actor(request), attempts=[obj], source="admin")

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        login_lock_clear(actor=request_actor(request), attempts=list(queryset), source="admin")

    @admin.action(description="Clean up expired attempts")
    def cleanup_expired_attempts(self, request: HttpRequest, queryset: Any) -> None:
        """axes' own action, as axes does it (every attempt whose cool-off is over, whichever rows were ticked), but
        each in the audit trail; axes' failed on a request that was not a login (no attempt time on it)."""
        count = login_lock_clear(actor=request_actor(request), attempts=list(login_attempts_expired()),
                                 source="admin", reason="Its cool-off was over: the admin's clean-up.")
        self.message_user(request, f"Cleaned up {count} expired access attempts.")


class LoginHistoryAdmin:
    """django-axes' records of logins and of failed logins; deleting rows goes through login_history_remove, one
    audit row saying how many and of when."""

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        login_history_remove(actor=request_actor(request), records=type(obj).objects.filter(pk=obj.pk),
                             source="admin")

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        login_history_remove(actor=request_actor(request), records=queryset, source="admin")


@admin.register(AccessLog)
class LoginLogAdmin(LoginHistoryAdmin, AccessLogAdmin):
    pass


@admin.register(AccessFailureLog)
class LoginFailureLogAdmin(LoginHistoryAdmin, AccessFailureLogAdmin):
    pass


class CaseUniqueForm(forms.ModelForm):
    """Reference data whose key is unique whatever its letter case: refused next to the field, naming the record that
    holds it (portfolio.services.reference.case_duplicate_errors), as the API does."""

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        candidate = construct_instance(self, copy.copy(self.instance))
        for field, message in case_duplicate_errors(candidate).items():
            self.add_error(field if field in self.fields else None, message)
        return cleaned


class CaseUniqueInlineFormSet(forms.BaseInlineFormSet):
    """Rows of one inline form whose keys differ only in letter case: each passes CaseUniqueForm (neither is stored
    yet), so the second row is refused here, naming the first, before the database's constraint would answer 500."""

    def clean(self) -> None:
        super().clean()
        field, noun, _within = CASE_UNIQUE[self.model]
        seen: dict[str, str] = {}  # the lower-cased key (the constraint's Lower) -> the first row's value
        for form in self.forms:
            if (form.instance.pk is None and not form.has_changed()) or form.cleaned_data.get("DELETE"):
                continue
            value = (form.cleaned_data.get(field) or "").strip()
            if not value:
                continue
            first = seen.get(value.lower())
            if first is None:
                seen[value.lower()] = value
            else:
                form.add_error(field, f"The {noun} “{first}” is already in this form: a {field} that differs only "
                                      f"in letter case is the same {noun}.")


class CostCenterInline(admin.TabularInline):
    model = models.CostCenter
    form = CaseUniqueForm
    formset = CaseUniqueInlineFormSet
    extra = 0
    autocomplete_fields = ["budget_owner"]


class ReferenceDeleteAdmin(admin.ModelAdmin):
    """Deletes a vendor, model, department or cost center through reference_delete, as the API does: audited under its
    own event, and refused while anything uses it. The confirmation page lists what uses it as protected, so the
    administrator is told before, rather than a deletion that drops the record from initiatives or fails half-way."""

    def get_deleted_objects(self, objs: Any, request: HttpRequest) -> Any:
        deleted, model_count, perms_needed, protected = super().get_deleted_objects(objs, request)
        in_use = [f"{obj}: used by {use}" for obj in objs for use in reference_in_use(obj)]
        return deleted, model_count, perms_needed, [*protected, *in_use] if in_use else protected

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        reference_delete(actor=request_actor(request), record=obj)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        for obj in queryset:
            reference_delete(actor=request_actor(request), record=obj)


@admin.register(models.Department)
class DepartmentAdmin(ReferenceDeleteAdmin):
    form = CaseUniqueForm
    list_display = ["name", "code", "head"]
    search_fields = ["name", "code"]
    autocomplete_fields = ["head"]
    inlines = [CostCenterInline]


class CostCenterAdminForm(CaseUniqueForm):
    """A cost center that initiatives are billed to does not move to another department here: the Cost centers page
    and the API move it with its initiatives, through cost_center_save."""

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        department = cleaned.get("department")
        if self.instance.pk is not None and department is not None:
            stored = models.CostCenter.objects.get(pk=self.instance.pk)
            for field, message in cost_center_move_errors(stored, department).items():
                self.add_error(field, f"{message} Do it on the cost center's page in Tollgate, which can.")
        return cleaned


@admin.register(models.CostCenter)
class CostCenterAdmin(ReferenceDeleteAdmin):
    form = CostCenterAdminForm
    list_display = ["code", "name", "department", "budget_owner"]
    list_filter = ["department"]
    search_fields = ["code", "name"]
    autocomplete_fields = ["department", "budget_owner"]


@admin.register(models.Profile)
class ProfileAdmin(ServiceAdmin):
    """Through profile_update and profile_notifications_set, like the People page and the API: nobody is their own
    delegate and someone who left is not newly named one. A profile comes and goes with its person; the digest's and
    the deactivation's times are bookkeeping, shown only."""

    list_display = ["user", "department", "title", "integration_account"]
    list_filter = ["department", "integration_account"]
    search_fields = ["user__email", "user__first_name", "user__last_name", "title"]
    autocomplete_fields = ["department", "delegates"]
    fields = ["user", "department", "title", "delegates", "notification_email", "digest_hour", "time_zone",
              "digest_sent_at", "deactivated_at", "integration_account"]
    # Marked and unmarked on the People page (person_integration_account_set: its checks and its audit row).
    readonly_fields = ["user", "digest_sent_at", "deactivated_at", "integration_account"]
    service_fields = ("department", "title", "delegates", "notification_email", "digest_hour", "time_zone")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def service_update(self, request: HttpRequest, obj: Any, values: dict[str, Any]) -> Model:
        actor = request_actor(request)
        # The form's instance already carries the posted values: the services get the stored row.
        user = models.Profile.objects.select_related("user").get(pk=obj.pk).user
        profile_update(actor=actor, user=user, department=values["department"], title=values["title"],
                       delegates=values["delegates"])
        return profile_notifications_set(actor=actor, user=user, email=values["notification_email"],
                                         digest_hour=values["digest_hour"], time_zone=values["time_zone"])


@admin.register(models.Vendor)
class VendorAdmin(ServiceAdmin, ReferenceDeleteAdmin):
    """Through vendor_save, like the Vendors page and the API."""

    form = CaseUniqueForm
    list_display = ["name", "website"]
    search_fields = ["name"]
    # A website typed without a scheme is taken as https (Django 6's default, said here rather than by the
    # deprecated transitional setting).
    formfield_overrides = {URLField: {"assume_scheme": "https"}}
    service_fields = ("name", "website")

    def service_create(self, request: HttpRequest, values: dict[str, Any]) -> Model:
        return vendor_save(actor=request_actor(request), **values)

    def service_update(self, request: HttpRequest, obj: Any, values: dict[str, Any]) -> Model:
        return vendor_save(actor=request_actor(request), vendor=obj, **values)

    def service_delete(self, request: HttpRequest, obj: Any) -> None:
        reference_delete(actor=request_actor(request), record=obj)


@admin.register(models.AIModel)
class AIModelAdmin(ServiceAdmin, ReferenceDeleteAdmin):
    """Through ai_model_save, like the Models page and the API (a new substitute audited under its own event)."""

    form = CaseUniqueForm
    list_display = ["name", "provider", "tier", "input_price_per_mtok", "output_price_per_mtok", "open_weights",
                    "context_window", "substitute"]
    list_filter = ["tier", "open_weights", "provider"]
    search_fields = ["name", "provider__name"]
    autocomplete_fields = ["provider", "substitute"]
    list_select_related = ["provider", "substitute"]
    service_fields = AI_MODEL_FIELDS

    def service_create(self, request: HttpRequest, values: dict[str, Any]) -> Model:
        return ai_model_save(actor=request_actor(request), **values)

    def service_update(self, request: HttpRequest, obj: Any, values: dict[str, Any]) -> Model:
        return ai_model_save(actor=request_actor(request), model=obj, **values)

    def service_delete(self, request: HttpRequest, obj: Any) -> None:
        reference_delete(actor=request_actor(request), record=obj)


class BusinessCaseInline(ReadOnlyInline):
    """Shown with the initiative; changed on its own page, through business_case_save (locks, versions, TCO)."""

    model = models.BusinessCase
    fields = ["outcome_unit", "expected_monthly_volume", "expected_monthly_value", "min_viable_scale"]


class KPIInline(ReadOnlyInline):
    """Shown with the initiative; changed on each KPI's own page, through kpi_save (locks and versions)."""

    model = models.KPI
    fields = ["name", "unit", "kind", "baseline", "target", "direction", "value_per_unit"]


class LicencePoolInline(ReadOnlyInline):
    """Shown with the initiative; changed on the pool's own page, where licence_pool_save recomputes the roll-ups."""

    model = models.LicencePool
    fields = ["tool", "vendor", "seats_purchased", "price_per_seat_month"]


@admin.register(models.Initiative)
class InitiativeAdmin(ServiceAdmin):
    """Through initiative_create / initiative_update, like the pages: an ended initiative is read-only and the
    declared monthly cost of one in review is locked (portfolio.services.business_cases)."""

    list_display = ["external_id", "name", "department", "owner", "stage", "category", "declared_monthly_cost"]
    list_filter = ["stage", "category", "department"]
    search_fields = ["external_id", "name", "description", "owner__email"]
    autocomplete_fields = ["department", "cost_center", "owner", "delegates", "vendors", "ai_models"]
    list_select_related = ["department", "owner"]
    inlines = [BusinessCaseInline, KPIInline, LicencePoolInline]
    service_fields = ("external_id", *EDITABLE_FIELDS, "vendors", "ai_models", "delegates")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # The stage moves only through governed transitions (governance app), never by editing the field; the
        # external id is the inventory's key, given once.
        return ["stage", "created_at", "updated_at", *(["external_id"] if obj is not None else [])]

    def service_create(self, request: HttpRequest, values: dict[str, Any]) -> Model:
        return initiative_create(actor=request_actor(request), **values)

    def service_update(self, request: HttpRequest, obj: Any, values: dict[str, Any]) -> Model:
        values.pop("external_id", None)
        # The form's instance already carries the posted values (ModelForm validation): the service gets the stored
        # row, so it sees, checks and audits the real changes.
        stored = models.Initiative.objects.select_for_update().get(pk=obj.pk)
        return initiative_update(actor=request_actor(request), initiative=stored, **values)

    def service_delete(self, request: HttpRequest, obj: Any) -> None:
        initiative_delete(actor=request_actor(request), initiative=obj)


@admin.register(models.BusinessCase)
class BusinessCaseAdmin(ServiceAdmin):
    """Through business_case_save / business_case_delete: locked in review, read-only once ended, versioned after
    approval."""

    list_display = ["initiative", "baseline_cost_per_outcome", "expected_monthly_volume", "min_viable_scale"]
    search_fields = ["initiative__name", "initiative__external_id"]
    autocomplete_fields = ["initiative"]
    service_fields = ("initiative", *BUSINESS_CASE_FIELDS)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return ["initiative"] if obj is not None else []  # a business case stays with its initiative

    def service_create(self, request: HttpRequest, values: dict[str, Any]) -> Model:
        initiative = values.pop("initiative")
        return business_case_save(actor=request_actor(request), initiative=initiative, **values)

    def service_update(self, request: HttpRequest, obj: Any, values: dict[str, Any]) -> Model:
        values.pop("initiative", None)
        return business_case_save(actor=request_actor(request), initiative=obj.initiative, **values)

    def service_delete(self, request: HttpRequest, obj: Any) -> None:
        business_case_delete(actor=request_actor(request), case=obj)


class KPIAdminForm(forms.ModelForm):
    class Meta:
        model = models.KPI
        fields = ["initiative", *KPI_FIELDS]
        error_messages = {"baseline": KPI_FIGURE_MESSAGES, "target": KPI_FIGURE_MESSAGES}  # as on the page and API


@admin.register(models.KPI)
class KPIAdmin(ServiceAdmin):
    """Through kpi_save / kpi_delete: locked in review, read-only once ended, versioned after approval."""

    form = KPIAdminForm
    list_display = ["name", "initiative", "unit", "kind", "baseline", "target", "direction", "value_per_unit"]
    list_filter = ["kind", "direction"]
    search_fields = ["name", "initiative__name"]
    autocomplete_fields = ["initiative"]
    service_fields = ("initiative", *KPI_FIELDS)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return ["initiative"] if obj is not None else []  # a KPI stays with its initiative

    def service_create(self, request: HttpRequest, values: dict[str, Any]) -> Model:
        initiative = values.pop("initiative")
        return kpi_save(actor=request_actor(request), initiative=initiative, **values)

    def service_update(self, request: HttpRequest, obj: Any, values: dict[str, Any]) -> Model:
        values.pop("initiative", None)
        return kpi_save(actor=request_actor(request), initiative=obj.initiative, kpi=obj, **values)

    def service_delete(self, request: HttpRequest, obj: Any) -> None:
        kpi_delete(actor=request_actor(request), kpi=obj)


@admin.register(models.BusinessCaseVersion)
class BusinessCaseVersionAdmin(ReadOnlyAdmin):
    """Versions are a record: written by approval and by edits after it, never here."""

    list_display = ["initiative", "number", "created_at", "created_by", "approved_at", "approved_by", "tco_monthly"]
    list_filter = [("approved_at", admin.EmptyFieldListFilter)]
    search_fields = ["initiative__name", "initiative__external_id"]
    list_select_related = ["initiative", "created_by", "approved_by"]


class LicencePoolForm(forms.ModelForm):
    """The pool with the month its new terms apply from (an HTML month input, YYYY-MM)."""

    effective_from = forms.DateField(
        label="Effective from", required=False, input_formats=["%Y-%m", "%Y-%m-%d"],
        widget=forms.DateInput(format="%Y-%m", attrs={"type": "month"}),
        help_text="The month new seats, price or initiative apply from (default: this month); earlier months keep "
                  "their terms. Choose the pool's first month to correct a mistake throughout. For a new pool: the "
                  "month it charges from.",
    )

    class Meta:
        model = models.LicencePool
        fields = [*POOL_FIELDS]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["effective_from"].initial = this_month()


@admin.register(models.LicencePoolTerms)
class LicencePoolTermsAdmin(ReadOnlyAdmin):
    """A pool's terms history: written by licence_pool_save (the pool's page sets new terms from a month)."""

    list_display = ["pool", "effective_from", "seats_purchased", "price_per_seat_month", "initiative"]
    list_select_related = ["pool", "initiative"]
    search_fields = ["pool__tool"]


@admin.register(models.LicencePool)
class LicencePoolAdmin(ServiceAdmin):
    """Through licence_pool_save / licence_pool_delete: the licence cost in the roll-ups follows, audited."""

    form = LicencePoolForm
    readonly_fields = ["terms_history"]
    list_display = ["tool", "vendor", "seats_purchased", "price_per_seat_month", "initiative"]
    list_filter = ["vendor"]
    search_fields = ["tool", "vendor__name", "initiative__name"]
    autocomplete_fields = ["vendor", "initiative"]
    list_select_related = ["vendor", "initiative"]
    service_fields = (*POOL_FIELDS, "effective_from")

    @admin.display(description="Terms history")
    def terms_history(self, obj: models.LicencePool) -> str:
        """What each month is charged: each row from its month until the next (written by licence_pool_save)."""
        rows = obj.terms.select_related("initiative") if obj.pk else []
        return format_html_join(
            "", "<div>From {}: {} seats at {} per seat / month, {}</div>",
            ((f"{row.effective_from:%Y-%m}", row.seats_purchased, format_unit_price(row.price_per_seat_month),
              row.initiative or "no initiative") for row in rows),
        ) or "—"

    def service_create(self, request: HttpRequest, values: dict[str, Any]) -> Model:
        return licence_pool_save(actor=request_actor(request), **values)

    def service_update(self, request: HttpRequest, obj: Any, values: dict[str, Any]) -> Model:
        return licence_pool_save(actor=request_actor(request), pool=obj, **values)

    def service_delete(self, request: HttpRequest, obj: Any) -> None:
        licence_pool_delete(actor=request_actor(request), pool=obj)


@admin.register(models.ImportRun)
class ImportRunAdmin(ReadOnlyAdmin):
    """Runs are a record of what happened: read-only here."""

    list_display = ["created_at", "filename", "actor", "trigger", "dry_run", "status", "rows_created", "rows_updated"]
    list_filter = ["status", "trigger", "dry_run"]
    list_select_related = ["actor"]
    readonly_fields = [f.name for f in models.ImportRun._meta.fields]


# Cost and usage ingestion (issue 5) ----------------------------------------------------------------------------------


class AllocationRuleInline(ReadOnlyInline):
    """The source's rules in order; each is changed on its own page (the "Change" link), which re-allocates."""

    model = models.AllocationRule
    fields = ["order", "key", "match", "value", "initiative"]
    ordering = ["order", "id"]


@admin.register(models.CostSource)
class CostSourceAdmin(ServiceAdmin):
    """Only the NAME of the credential's environment variable is stored and shown, never the secret. Written through
    portfolio.costs.services.sources (deleting a source recomputes the roll-ups its records were in)."""

    list_display = ["name", "type", "schedule", "enabled", "credential_env", "updated_at"]
    list_filter = ["type", "enabled"]
    search_fields = ["name"]
    inlines = [AllocationRuleInline]
    service_fields = SOURCE_FIELDS

    def service_create(self, request: HttpRequest, values: dict[str, Any]) -> Model:
        return cost_source_create(actor=request_actor(request), **values)

    def service_update(self, request: HttpRequest, obj: Any, values: dict[str, Any]) -> Model:
        return cost_source_update(actor=request_actor(request), source=obj, **values)

    def service_delete(self, request: HttpRequest, obj: Any) -> None:
        cost_source_delete(actor=request_actor(request), source=obj)


@admin.register(models.AllocationRule)
class AllocationRuleAdmin(ServiceAdmin):
    """Through the allocation-rule services: the source's records are re-allocated and the roll-ups follow."""

    list_display = ["source", "order", "key", "match", "value", "initiative"]
    list_filter = ["source", "match"]
    search_fields = ["key", "value", "initiative__name", "initiative__external_id"]
    autocomplete_fields = ["initiative"]
    ordering = ["source__name", "order", "id"]
    service_fields = ("source", *RULE_FIELDS)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # A rule stays with its source; create a rule for the other.
        return ["source"] if obj is not None else []

    def service_create(self, request: HttpRequest, values: dict[str, Any]) -> Model:
        return allocation_rule_create(actor=request_actor(request), **values).rule

    def service_update(self, request: HttpRequest, obj: Any, values: dict[str, Any]) -> Model:
        return allocation_rule_update(actor=request_actor(request), rule=obj, **values).rule

    def service_delete(self, request: HttpRequest, obj: Any) -> None:
        allocation_rule_delete(actor=request_actor(request), rule=obj)


class IngestionRunPartInline(ReadOnlyInline):
    """The files of a month read in parts by the workers, with who read each and what it found."""

    model = models.IngestionRunPart
    fields = ["number", "path", "done", "worker", "rows_read", "rows_skipped", "rows_written", "error", "finished_at"]


@admin.register(models.IngestionRun)
class IngestionRunAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "source", "period", "trigger", "status", "rows_read", "rows_written", "rows_skipped",
                    "unallocated_amount"]
    list_filter = ["status", "trigger", "source"]
    readonly_fields = [f.name for f in models.IngestionRun._meta.fields]
    inlines = [IngestionRunPartInline]


@admin.register(models.IngestionRunPart)
class IngestionRunPartAdmin(ReadOnlyAdmin):
    """A part of a run read in parts: read-only, a record of what happened."""

    list_display = ["run", "number", "path", "done", "worker", "rows_read", "rows_written", "finished_at"]
    list_filter = ["done"]
    list_select_related = ["run__source"]
    readonly_fields = [f.name for f in models.IngestionRunPart._meta.fields]


@admin.register(models.CostRecord)
class CostRecordAdmin(ReadOnlyAdmin):
    list_display = ["charge_date", "source", "amount", "currency", "amount_reporting", "category", "service_name",
                    "initiative"]
    list_filter = ["source", "category", "currency"]
    search_fields = ["service_name", "model", "description"]
    list_select_related = ["source", "initiative"]


@admin.register(models.UsageRecord)
class UsageRecordAdmin(ReadOnlyAdmin):
    list_display = ["usage_date", "source", "model", "input_tokens", "output_tokens", "cached_tokens", "requests",
                    "initiative"]
    list_filter = ["source"]
    list_select_related = ["source", "initiative"]
    search_fields = ["model"]


@admin.register(models.SeatActivity)
class SeatActivityAdmin(ReadOnlyAdmin):
    list_display = ["period", "source", "licence_pool", "user", "assigned", "last_activity"]
    list_filter = ["source", "licence_pool"]
    list_select_related = ["source", "licence_pool"]
    search_fields = ["user"]


@admin.register(models.AmountsCurrency)
class AmountsCurrencyAdmin(ReadOnlyAdmin):
    """The currency the stored amounts are in, recorded by migrate: read-only here, since changing it would relabel
    every amount without converting it (`manage.py amounts_currency --relabel`, audited, is for amounts that really
    are in REPORTING_CURRENCY already)."""

    list_display = ["code", "recorded_at"]


@admin.register(models.CurrencyRate)
class CurrencyRateAdmin(ServiceAdmin):
    """Through the currency-rate services: the records of the rate's window are converted again and their months'
    roll-ups recomputed. Rates are not deleted: add a later one to replace a rate."""

    list_display = ["currency", "valid_from", "rate_to_reporting"]
    list_filter = ["currency"]
    service_fields = RATE_FIELDS

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def service_create(self, request: HttpRequest, values: dict[str, Any]) -> Model:
        return currency_rate_create(actor=request_actor(request), **values).rate

    def service_update(self, request: HttpRequest, obj: Any, values: dict[str, Any]) -> Model:
        return currency_rate_update(actor=request_actor(request), rate=obj, **values).rate


@admin.register(models.MonthlyCost)
class MonthlyCostAdmin(ReadOnlyAdmin):
    list_display = ["month", "initiative", "category", "amount"]
    list_filter = ["month", "category"]
    list_select_related = ["initiative"]


@admin.register(models.MonthlyTokenUsage)
class MonthlyTokenUsageAdmin(ReadOnlyAdmin):
    list_display = ["month", "initiative", "model", "input_tokens", "output_tokens", "cached_tokens", "requests"]
    list_filter = ["month"]
    list_select_related = ["initiative"]


@admin.register(models.MonthlyGpuUsage)
class MonthlyGpuUsageAdmin(ReadOnlyAdmin):
    list_display = ["month", "initiative", "gpu_hours", "cost", "cost_basis"]
    list_filter = ["month"]
    list_select_related = ["initiative"]


@admin.register(models.LicencePoolActivity)
class LicencePoolActivityAdmin(ReadOnlyAdmin):
    list_display = ["month", "licence_pool", "purchased", "assigned", "active_30d"]
    list_filter = ["month"]
    list_select_related = ["licence_pool"]


@admin.register(models.InitiativeMonthlyTco)
class InitiativeMonthlyTcoAdmin(ReadOnlyAdmin):
    """Rebuilt by portfolio.costs.services.tco.tco_recompute from the roll-ups, business cases and value reports."""

    list_display = ["month", "initiative", "category", "amount", "actual"]
    list_filter = ["month", "category", "actual"]
    list_select_related = ["initiative"]


@admin.register(models.CostForecast)
class CostForecastAdmin(ReadOnlyAdmin):
    list_display = ["as_of", "generated_at", "months", "price_decline_pct", "backtest_mape"]
    date_hierarchy = "as_of"


@admin.register(models.InitiativeForecast)
class InitiativeForecastAdmin(ReadOnlyAdmin):
    list_display = ["forecast", "initiative", "method", "next_quarter", "next_year", "backtest_mape"]
    list_filter = ["forecast", "method"]
    list_select_related = ["forecast", "initiative"]


@admin.register(models.AuditEntryInitiative)
class AuditEntryInitiativeAdmin(ReadOnlyAdmin):
    """Which initiative each audit entry is about, written with the entry: part of the trail, read-only here."""

    list_display = ["entry", "initiative"]
    list_select_related = ["entry", "initiative"]
    search_fields = ["initiative__name", "initiative__external_id"]
