"""Django admin of governance: administrators edit the rubric here (audited); everything else is read-only.

auditlog's LogEntry admin is replaced by a fully read-only one: the audit trail is append-only everywhere.
"""

from __future__ import annotations

from typing import Any

from auditlog.admin import LogEntryAdmin
from auditlog.models import LogEntry
from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest

from governance import models
from governance.sprawl.services.use_cases import (
    USE_CASE_EDITABLE,
    use_case_create,
    use_case_deletable,
    use_case_delete,
    use_case_update,
)
from tollgate.types import request_actor
from tollgate.ui.admin import ReadOnlyAdmin, ReadOnlyInline, ServiceAdmin

admin.site.unregister(LogEntry)


@admin.register(LogEntry)
class AppendOnlyLogEntryAdmin(ReadOnlyAdmin, LogEntryAdmin):
    """The audit log, read-only for everyone including superusers (the database refuses edits anyway)."""

    actions = None


@admin.register(models.RubricCriterion)
class RubricCriterionAdmin(admin.ModelAdmin):
    list_display = ["name", "weight", "active", "order"]
    list_editable = ["weight", "active", "order"]
    list_filter = ["active"]
    search_fields = ["name", "description"]

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        # A criterion that was scored is kept for the record; deactivate it instead.
        if obj is not None and obj.scores.exists():
            return False
        return super().has_delete_permission(request, obj)


class IntakeScoreInline(ReadOnlyInline):
    model = models.IntakeScore
    fields = ("reviewer", "criterion", "score", "comment", "updated_at")
    readonly_fields = fields
    show_change_link = False


@admin.register(models.IntakeSubmission)
class IntakeSubmissionAdmin(ReadOnlyAdmin):
    list_display = ["initiative", "round", "submitted_by", "submitted_at"]
    list_select_related = ["initiative", "submitted_by"]
    search_fields = ["initiative__name", "initiative__external_id"]
    inlines = [IntakeScoreInline]


@admin.register(models.IntakeScore)
class IntakeScoreAdmin(ReadOnlyAdmin):
    list_display = ["submission", "reviewer", "criterion", "score", "updated_at"]
    list_select_related = ["submission__initiative", "reviewer", "criterion"]
    list_filter = ["criterion"]


@admin.register(models.Policy)
class PolicyAdmin(ReadOnlyAdmin):
    """Values are changed on the Policies page, which validates the type and range and audits the change."""

    list_display = ["key", "value", "updated_by", "updated_at"]


# Sprawl detection ----------------------------------------------------------------------------------------------------


@admin.register(models.UseCase)
class UseCaseAdmin(ServiceAdmin):
    """Administrators add their own use cases and edit the catalogue's, through the same services as the API (audited).
    Deactivate rather than delete: initiatives and clusters point at use cases."""

    list_display = ["name", "code", "catalogue_version", "is_active", "updated_at"]
    list_filter = ["is_active", "catalogue_version"]
    search_fields = ["name", "code", "job"]
    fields = ["code", "name", "job", "functions", "inputs", "outputs", "synonyms", "vendor_products", "is_active",
              "catalogue_version", "created_at", "updated_at"]
    service_fields = ("code", *USE_CASE_EDITABLE)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # The code is what catalogue loads and the API match on: set once.
        return ["catalogue_version", "created_at", "updated_at", *(["code"] if obj is not None else [])]

    def service_create(self, request: HttpRequest, values: dict[str, Any]) -> Model:
        return use_case_create(actor=request_actor(request), **values)

    def service_update(self, request: HttpRequest, obj: Any, values: dict[str, Any]) -> Model:
        return use_case_update(actor=request_actor(request), use_case=obj, **values)

    def service_delete(self, request: HttpRequest, obj: Any) -> None:
        use_case_delete(actor=request_actor(request), use_case=obj)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        if obj is not None and not use_case_deletable(obj):
            return False
        return super().has_delete_permission(request, obj)


@admin.register(models.SprawlCluster)
class SprawlClusterAdmin(ReadOnlyAdmin):
    """Clusters are decided on the Sprawl pages (audited, with segregation of duties), not here."""

    list_display = ["title", "status", "score", "monthly_spend", "estimated_saving", "last_seen_at"]
    list_filter = ["status"]
    list_select_related = ["use_case"]
    search_fields = ["title"]


@admin.register(models.DuplicatePairDecision)
class DuplicatePairDecisionAdmin(ReadOnlyAdmin):
    """Verdicts on possible duplicates are given on the initiative and scoring pages (audited, with segregation of
    duties), not here."""

    list_display = ["initiative_a", "initiative_b", "verdict", "decided_by", "decided_at"]
    list_filter = ["verdict"]
    list_select_related = ["initiative_a", "initiative_b", "decided_by"]
    search_fields = ["initiative_a__name", "initiative_b__name", "reason"]


@admin.register(models.InitiativeUseCase)
class InitiativeUseCaseAdmin(ReadOnlyAdmin):
    list_display = ["initiative", "use_case", "confidence", "origin"]
    list_filter = ["origin"]
    list_select_related = ["initiative", "use_case"]
    search_fields = ["initiative__name", "use_case__name"]


@admin.register(models.SprawlRun)
class SprawlRunAdmin(ReadOnlyAdmin):
    list_display = ["pk", "status", "trigger", "actor", "created_at", "finished_at", "clusters_found"]
    list_filter = ["status", "trigger"]
    list_select_related = ["actor"]


@admin.register(models.SprawlLabelCheck)
class SprawlLabelCheckAdmin(ReadOnlyAdmin):
    """Measurements of the detector against uploaded labels: made and read on the Sprawl pages."""

    list_display = ["pk", "status", "filename", "actor", "created_at", "finished_at"]
    list_filter = ["status"]
    list_select_related = ["actor"]


@admin.register(models.Signal)
class SignalAdmin(ReadOnlyAdmin):
    """Signals are raised by the computation and moved by people on their page or through the API (audited)."""

    list_display = ["__str__", "type", "period", "severity", "monthly_saving", "status", "first_seen_at"]
    list_filter = ["type", "severity", "status"]
    search_fields = ["subject"]


@admin.register(models.SignalRun)
class SignalRunAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "trigger", "status", "created_at", "initiatives", "signals_live", "signals_raised",
                    "signals_resolved"]
    list_filter = ["status", "trigger"]
    list_select_related = ["actor"]
