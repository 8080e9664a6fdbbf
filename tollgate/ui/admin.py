"""Django admin bases shared by every app: read-only records, and writes through the services.

The admin is one more caller of the services, like the pages and the API: a write that bypasses its service skips the
re-allocation, the roll-ups and the audit row that live there.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import Model, QuerySet
from django.forms import ModelForm
from django.http import HttpRequest

from tollgate.ui.errors import form_add_service_errors


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records of what happened (runs, roll-ups, raw records, the audit trail): viewable, never added, changed or
    deleted here; the services that write them keep them consistent."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyInline(admin.TabularInline):
    """Rows shown beside their parent, edited on their own admin page (the "Change" link), where the service runs."""

    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ServiceAdmin(admin.ModelAdmin):
    """An admin whose add, change and delete call the model's services with the logged-in user as actor.

    The service runs when the form is validated, so what it refuses comes back on the form's fields like any other
    error (the admin's view holds one transaction around it). Subclasses name the fields the service takes
    (`service_fields`, those shown on the form are passed) and implement `service_create`, `service_update` and
    `service_delete`.
    """

    service_fields: tuple[str, ...] = ()

    def service_create(self, request: HttpRequest, values: dict[str, Any]) -> Model:
        raise NotImplementedError

    def service_update(self, request: HttpRequest, obj: Model, values: dict[str, Any]) -> Model:
        raise NotImplementedError

    def service_delete(self, request: HttpRequest, obj: Model) -> None:
        raise NotImplementedError

    def get_form(self, request: HttpRequest, obj: Model | None = None, change: bool = False, **kwargs: Any) -> Any:
        base = super().get_form(request, obj, change=change, **kwargs)
        model_admin = self
        stored = obj

        class ServiceForm(base):  # type: ignore[misc, valid-type]
            def _post_clean(self) -> None:
                super()._post_clean()
                if self.errors:
                    return
                values = {name: self.cleaned_data[name] for name in model_admin.service_fields
                          if name in self.cleaned_data}
                try:
                    if stored is None:
                        self.instance = model_admin.service_create(request, values)
                    else:  # every value: the services write (and audit) only what differs from the stored row
                        self.instance = model_admin.service_update(request, stored, values)
                except ValidationError as exc:
                    form_add_service_errors(self, exc)

        return ServiceForm

    def save_form(self, request: HttpRequest, form: ModelForm, change: bool) -> Model:
        return form.instance  # already saved by the service during validation

    def save_model(self, request: HttpRequest, obj: Model, form: ModelForm, change: bool) -> None:
        pass

    def save_related(self, request: HttpRequest, form: ModelForm, formsets: Any, change: bool) -> None:
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def get_deleted_objects(self, objs: Any, request: HttpRequest) -> Any:
        # What goes with the object (a source's runs and records, a pool's seat roll-ups) is the service's to delete:
        # their read-only admins must not block it. The service checks the actor's permission itself.
        deleted, model_count, _perms_needed, protected = super().get_deleted_objects(objs, request)
        return deleted, model_count, set(), protected

    def delete_model(self, request: HttpRequest, obj: Model) -> None:
        self.service_delete(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        for obj in queryset:
            self.service_delete(request, obj)
