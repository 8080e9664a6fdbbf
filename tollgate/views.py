"""Project-wide view pieces: the page permission mixin, CSV export of tables, health check."""

from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django_tables2.export.views import ExportMixin
from rules.contrib.views import PermissionRequiredMixin as RulesPermissionRequiredMixin

from tollgate.roles import may


class PermissionRequiredMixin(RulesPermissionRequiredMixin):
    """Pages check the same permissions as the API (tollgate.roles); logged-in users without one get 403."""

    raise_exception = True

    def has_permission(self) -> bool:
        # tollgate.roles.may, not user.has_perms: the role rules decide for superusers too.
        obj = self.get_permission_object()
        return all(may(self.request.user, perm, obj) for perm in self.get_permission_required())


class CsvExportMixin(ExportMixin):
    """Every list page exports its filtered, sorted rows as CSV with ?_export=csv."""

    export_formats = ("csv",)

    def get_export_filename(self, export_format: str) -> str:
        return f"{self.export_name}.{export_format}"


@login_not_required
def health(request: HttpRequest) -> JsonResponse:
    """Liveness for load balancers: the app answers and the database is reachable."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
