"""Shapes of the reviews API. They validate input and render output; writes go through reviews.services."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from portfolio.models.base import KPI_FIGURE, KPI_FIGURE_LIMIT, KPI_FIGURE_MESSAGES
from reviews.choices import Decision, ReportState
from reviews.models import Notification, ReportAttachment, ReviewCycle, ValueReport, Verdict
from reviews.selectors import report_figures
from reviews.services import (
    EVIDENCE_MAX_CHARS,
    NARRATIVE_MAX_CHARS,
    RATIONALE_MAX_CHARS,
    REOPEN_REASON_MAX_CHARS,
    REPORT_FIELDS,
)
from tollgate.api_fields import ChoiceField, IdField, ModelSerializer, Serializer

# A stated value is money delivered: at least 0, as reviews.services refuses otherwise (said before the service).
STATED_VALUE_MESSAGES: dict[str, Any] = {
    "min_value": "A stated value is at least 0. Leave it empty when the KPIs express the value."}


def _as_str(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


class ReviewCycleSerializer(ModelSerializer):
    """A cycle; creating one opens it (idempotent: an existing name only gets its missing reports)."""

    url = serializers.HyperlinkedIdentityField(view_name="reviews_api:cycle-detail")
    status = serializers.SerializerMethodField()
    months = serializers.IntegerField(read_only=True)
    opens_on = serializers.DateField(required=False, help_text="Defaults to today.")

    class Meta:
        model = ReviewCycle
        fields = ["id", "url", "name", "period_start", "period_end", "opens_on", "due_on", "closed_at", "status",
                  "months", "created_by", "created_at"]
        read_only_fields = ["closed_at", "created_by", "created_at"]
        extra_kwargs: dict[str, dict[str, Any]] = {"name": {"validators": []}}

    def get_status(self, obj: ReviewCycle) -> str:
        return obj.status.value


class ReviewCycleDatesSerializer(ReviewCycleSerializer):
    """PATCH on a cycle: its due date, or the opening date of a cycle not yet open (services.review_cycle_reschedule).
    Its name and period are read-only: they say which quarter the reports cover."""

    opens_on = serializers.DateField(required=False, help_text="Changes only while the cycle has not opened.")
    due_on = serializers.DateField(required=False, help_text="From today on; the owners of drafts still owed are "
                                                             "told of a new date.")
    read_only_hints = {
        "name": "a cycle keeps the name of the period it reviews; open a cycle for another period with POST",
        "period_start": "a cycle's period does not change; open a cycle for another period with POST",
        "period_end": "a cycle's period does not change; open a cycle for another period with POST",
        "closed_at": "close the cycle with POST /api/reviews/cycles/{id}/close/",
    }

    class Meta(ReviewCycleSerializer.Meta):
        read_only_fields = ["name", "period_start", "period_end", "closed_at", "created_by", "created_at"]


class KpiActualSerializer(Serializer):
    """One KPI's entry: `actual` (null removes it); for a stated KPI, `stated_value` and `evidence`, written together.
    A key left out leaves that part as it is."""

    kpi = serializers.IntegerField()
    actual = serializers.DecimalField(max_digits=16, decimal_places=4, allow_null=True, required=False,
                                      min_value=-KPI_FIGURE_LIMIT, max_value=KPI_FIGURE_LIMIT,
                                      validators=KPI_FIGURE, error_messages=KPI_FIGURE_MESSAGES)
    stated_value = serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True, required=False,
                                            min_value=Decimal("0"), error_messages=STATED_VALUE_MESSAGES,
                                            help_text="Stated KPIs only: the period's value (reporting currency), "
                                                      "at least 0.")
    evidence = serializers.CharField(allow_blank=True, required=False, max_length=EVIDENCE_MAX_CHARS,
                                     help_text="Stated KPIs only: how the stated value was measured.")


class AttachmentSerializer(ModelSerializer):
    download = serializers.SerializerMethodField()

    class Meta:
        model = ReportAttachment
        fields = ["id", "original_name", "size", "uploaded_at", "download"]

    def get_download(self, obj: ReportAttachment) -> str:
        request = self.context.get("request")
        url = obj.get_absolute_url()
        return request.build_absolute_uri(url) if request else url


class ReportAttachmentSerializer(AttachmentSerializer):
    """An attachment with the report it evidences and who uploaded it."""

    url = serializers.HyperlinkedIdentityField(view_name="reviews_api:attachment-detail")
    uploaded_by_email = serializers.EmailField(source="uploaded_by.email", read_only=True, allow_null=True)

    class Meta(AttachmentSerializer.Meta):
        fields = ["id", "url", "report", "original_name", "size", "uploaded_by", "uploaded_by_email", "uploaded_at",
                  "download"]
        read_only_fields = fields


class ReportAttachmentWriteSerializer(Serializer):
    """POST /api/reviews/attachments/ (multipart): the draft report and the file; the service checks type, size and
    content (reviews.services.attachment_add). The fields a GET shows beside them are read-only, accepted empty."""

    read_as = ReportAttachmentSerializer
    report = IdField(queryset=ValueReport.objects.all())
    file = serializers.FileField(allow_empty_file=True,
                                 help_text="pdf, png, jpg, csv, xlsx, docx or txt, at most 10 MB.")


class VerdictSerializer(ModelSerializer):
    """POST .../verdict/ takes decision and rationale; the reviewer is the caller."""

    decision = ChoiceField(choices=Decision.choices)
    rationale = serializers.CharField(max_length=RATIONALE_MAX_CHARS)

    class Meta:
        model = Verdict
        fields = ["decision", "rationale", "reviewer", "decided_at"]
        read_only_fields = ["reviewer", "decided_at"]


class ReopenSerializer(Serializer):
    reason = serializers.CharField(max_length=REOPEN_REASON_MAX_CHARS)


class KpiFigureSerializer(serializers.Serializer):
    """One KPI's line of a report's figures."""

    kpi = serializers.IntegerField()
    name = serializers.CharField()
    kind = serializers.CharField(help_text="count, ratio, per_outcome or stated.")
    value = serializers.DecimalField(max_digits=30, decimal_places=2, allow_null=True,
                                     help_text="What the KPI was worth in the period; null when it has no value.")
    no_value_reason = serializers.CharField(allow_null=True, help_text="Why the KPI has no value, if it has none.")
    target_met = serializers.BooleanField(allow_null=True)


class ReportFiguresSerializer(serializers.Serializer):
    """What a report computes (reviews.selectors.report_figures): read-only."""

    value = serializers.DecimalField(max_digits=30, decimal_places=2, allow_null=True,
                                     help_text="The period's value: the KPIs' sum, or the owner-stated value.")
    value_source = serializers.CharField()
    kpis = KpiFigureSerializer(many=True)
    cost = serializers.DecimalField(max_digits=30, decimal_places=2, allow_null=True)
    cost_estimated = serializers.BooleanField(
        help_text="The run cost is estimated (from the business case, or the declared monthly cost without one): no "
                  "run-cost records (compute, inference, licences...) exist for the period. See cost_label for any "
                  "part that is actual.")
    cost_partly_estimated = serializers.BooleanField(
        help_text="Some part of the cost is estimated from the business case: the run cost without records (whenever "
                  "cost_estimated is true), or oversight or maintenance without records. What the dashboard's * marks.")
    cost_label = serializers.CharField(help_text="Where the cost comes from, as the report page says it.")
    cost_per_outcome = serializers.DecimalField(max_digits=30, decimal_places=4, allow_null=True)
    baseline_cost_per_outcome = serializers.DecimalField(max_digits=30, decimal_places=4, allow_null=True)
    value_per_dollar = serializers.DecimalField(max_digits=30, decimal_places=4, allow_null=True)
    monthly_outcomes = serializers.DecimalField(max_digits=30, decimal_places=4, allow_null=True)
    months = serializers.IntegerField(help_text="Months of the cycle the initiative ran (from its start date to its "
                                      "end): the months its cost and outcomes per month cover.")
    cycle_months = serializers.IntegerField(help_text="Months of the cycle's period.")
    cost_unread_months = serializers.ListField(
        child=serializers.CharField(), help_text=(
            "Months it ran that no cost source read (YYYY-MM; [] when there are none): left out of cost, neither $0 "
            "nor their estimates, as GET /api/initiatives/<id>/costs/ leaves them out (data \"unread\"), so cost, "
            "cost_per_outcome and value_per_dollar cover the months read only and cost_label says how many. Empty "
            "when no month of the cycle was read: cost is then the estimate."))


class ValueReportSerializer(ModelSerializer):
    """A report with its KPI actuals and what it computes. PATCH (owner, draft only) takes the report's fields and
    `kpi_actuals: [{kpi, actual}]` (actual null removes one). Status changes go through submit / reopen / verdict."""

    url = serializers.HyperlinkedIdentityField(view_name="reviews_api:report-detail")
    cycle_name = serializers.CharField(source="cycle.name", read_only=True)
    initiative_name = serializers.CharField(source="initiative.name", read_only=True)
    due_on = serializers.DateField(source="cycle.due_on", read_only=True)
    state = serializers.SerializerMethodField()
    submitted_late = serializers.BooleanField(
        read_only=True, help_text="Submitted after the cycle's due date (false for a draft: see `state`).")
    kpi_actuals = KpiActualSerializer(many=True, required=False)
    figures = serializers.SerializerMethodField()
    verdict = VerdictSerializer(read_only=True, allow_null=True)
    attachments = AttachmentSerializer(many=True, read_only=True)
    read_only_hints = {
        "status": "submit the report with POST /api/reviews/reports/{id}/submit/ (reviewers reopen it with .../reopen/ "
                  "or decide it with .../verdict/)",
        "verdict": "a reviewer gives it with POST /api/reviews/reports/{id}/verdict/",
        "cycle": "a report stays in the cycle it was opened for", "initiative": "a report stays with its initiative",
        "submitted_for": "submitting the report records the initiative's owner of the time",
    }

    def validate_kpi_actuals(self, rows: list[dict]) -> list[dict]:
        """One row per KPI: two would leave which one counts to the order of the list."""
        seen: set[int] = set()
        missing = {str(i): {"kpi": ["Which KPI: this field is required."]}
                   for i, row in enumerate(rows) if "kpi" not in row}
        if missing:  # a PATCH makes nested fields optional; a row without its KPI says nothing
            raise serializers.ValidationError(missing)
        for row in rows:
            if row["kpi"] in seen:
                raise serializers.ValidationError(f"KPI {row['kpi']} appears twice: give each KPI once.")
            seen.add(row["kpi"])
        return rows

    class Meta:
        model = ValueReport
        fields = ["id", "url", "cycle", "cycle_name", "initiative", "initiative_name", "status", "state", "due_on",
                  "submitted_late", *REPORT_FIELDS, "kpi_actuals", "figures", "submitted_by", "submitted_for",
                  "submitted_at", "reopened_by", "reopened_at", "reopened_reason", "verdict", "attachments",
                  "created_at", "updated_at"]
        read_only_fields = ["cycle", "initiative", "status", "submitted_by", "submitted_for", "submitted_at",
                            "reopened_by", "reopened_at", "reopened_reason", "created_at", "updated_at"]
        extra_kwargs: dict[str, dict[str, Any]] = {
            "stated_value": {"min_value": Decimal("0"), "error_messages": STATED_VALUE_MESSAGES},
            "narrative": {"max_length": NARRATIVE_MAX_CHARS},
            "stated_value_evidence": {"max_length": EVIDENCE_MAX_CHARS}}

    @extend_schema_field(serializers.ChoiceField(
        choices=ReportState.choices,
        help_text="What the pages show: a draft is `due`, then `overdue`, while owed; `not_open` before its cycle "
                  "takes reports (it has not opened, or the period it reviews has not ended); `not_submitted` once its "
                  "cycle closed; `not_expected` once its initiative ended (killed, retired, rejected). A submitted "
                  "report is `submitted`, then `reviewed` with a verdict."))
    def get_state(self, obj: ValueReport) -> str:
        return obj.state_on(timezone.localdate()).value

    def to_representation(self, instance: ValueReport) -> dict[str, Any]:
        data = super().to_representation(instance)
        data["kpi_actuals"] = [
            {"kpi": a.kpi_id, "actual": _as_str(a.actual), "stated_value": _as_str(a.stated_value),
             "evidence": a.evidence}
            for a in instance.actuals.all()
        ]
        return data

    @extend_schema_field(ReportFiguresSerializer)
    def get_figures(self, obj: ValueReport) -> dict[str, Any]:
        figures = report_figures(obj)
        return {
            "value": _as_str(figures.value.amount),
            "value_source": figures.value.source,
            "kpis": [{"kpi": row.kpi.pk, "name": row.kpi.name, "kind": row.kind, "value": _as_str(row.value),
                      "no_value_reason": row.no_value_reason or None, "target_met": row.target_met}
                     for row in figures.rows],
            "cost": _as_str(figures.cost.amount),
            "cost_estimated": figures.cost.estimated,
            "cost_partly_estimated": figures.cost.partly_estimated,
            "cost_label": figures.cost.label,
            "cost_per_outcome": _as_str(figures.cost_per_outcome),
            "baseline_cost_per_outcome": _as_str(figures.baseline_cost_per_outcome),
            "value_per_dollar": _as_str(figures.value_per_dollar),
            "monthly_outcomes": _as_str(figures.monthly_outcomes),
            "months": figures.months,
            "cycle_months": figures.cycle_months,
            "cost_unread_months": [f"{m:%Y-%m}" for m in figures.cost.unread],
        }


class NotificationSerializer(ModelSerializer):
    class Meta:
        model = Notification
        fields = ["id", "message", "url", "created_at", "read_at"]
        read_only_fields = fields
