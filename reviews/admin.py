"""Django admin of the reviews app: read-only. Cycles, reports and verdicts change only through reviews.services
(pages and API), which check segregation of duties and write the audit trail."""

from django.contrib import admin
from django.utils import timezone

from reviews import models
from tollgate.ui.admin import ReadOnlyAdmin, ReadOnlyInline


class KpiActualInline(ReadOnlyInline):
    model = models.KpiActual
    readonly_fields = ["kpi", "actual", "stated_value", "evidence"]
    show_change_link = False


@admin.register(models.ReviewCycle)
class ReviewCycleAdmin(ReadOnlyAdmin):
    list_display = ["name", "period_start", "period_end", "opens_on", "due_on", "closed_at"]
    search_fields = ["name"]


@admin.register(models.ValueReport)
class ValueReportAdmin(ReadOnlyAdmin):
    list_display = ["initiative", "cycle", "status", "state", "outcome_count", "submitted_at"]
    list_filter = ["status", "cycle"]
    search_fields = ["initiative__name", "initiative__external_id"]
    list_select_related = ["initiative", "cycle", "verdict"]
    inlines = [KpiActualInline]

    @admin.display(description="State")
    def state(self, obj: models.ValueReport) -> str:
        """As the pages say it: a draft of a closed cycle or of an ended initiative is not shown as due."""
        return obj.state_text(timezone.localdate())


@admin.register(models.Verdict)
class VerdictAdmin(ReadOnlyAdmin):
    list_display = ["report", "decision", "reviewer", "decided_at"]
    list_filter = ["decision"]
    list_select_related = ["report__initiative", "report__cycle", "reviewer"]


@admin.register(models.ReminderLog)
class ReminderLogAdmin(ReadOnlyAdmin):
    list_display = ["report", "kind", "due_on", "sent_at"]
    list_filter = ["kind"]
    list_select_related = ["report__initiative", "report__cycle"]


@admin.register(models.ReportAttachment)
class ReportAttachmentAdmin(ReadOnlyAdmin):
    list_display = ["original_name", "report", "size", "uploaded_by", "uploaded_at"]
    list_select_related = ["report__initiative", "report__cycle", "uploaded_by"]


@admin.register(models.Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ["user", "message", "created_at", "read_at"]
    search_fields = ["message", "user__email"]
    list_select_related = ["user"]
