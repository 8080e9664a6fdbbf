"""django-tables2 tables of the review pages; the same columns are exported as CSV."""

from __future__ import annotations

from typing import Any

import django_tables2 as tables
from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString

from reviews.models import Notification, ReviewCycle, ValueReport
from tollgate.ui.tables import CountColumn, PersonColumn, ignoring_case, ordered_ignoring_case


def _state_badge(report: ValueReport) -> SafeString:
    today = timezone.localdate()
    badge = format_html('<span class="stage report-state state-{}">{}</span>', report.state_on(today).value,
                        report.state_label(today))
    if report.submitted_late:
        badge = format_html('{} <span class="stage report-state state-late submitted-late">Submitted late</span>',
                            badge)
    return badge


def ordered_by_key(key: str, *then: str):
    """A table's `order_<column>` sorting by an annotated number (the state a Status column shows, annotated by the
    selector), rows of the same state by `then` whatever their case: the page, its CSV and every page of it agree."""

    def order(table: Any, queryset: QuerySet, is_descending: bool) -> tuple[QuerySet, bool]:
        term = F(key).desc() if is_descending else F(key).asc()
        return queryset.order_by(term, *ignoring_case(*then)), True

    return order


class ValueReportTable(tables.Table):
    initiative = tables.Column(linkify=lambda record: record.get_absolute_url())
    department = tables.Column(accessor="initiative__department__name", verbose_name="Department")
    owner = PersonColumn(accessor="initiative__owner")
    # Sorted by the state it shows (selectors.report_state_order), not the stored status (draft / submitted).
    state = tables.Column("Status", accessor="status")
    outcome_count = CountColumn("Outcomes")
    submitted_at = tables.DateTimeColumn(format="Y-m-d H:i")
    verdict = tables.Column("Verdict", accessor="verdict__decision", default="")

    class Meta:
        model = ValueReport
        fields = ()
        sequence: tuple[str, ...] = (
            "initiative", "department", "owner", "state", "outcome_count", "submitted_at", "verdict"
        )
        empty_text = "No reports."

    def render_state(self, record: ValueReport) -> SafeString:
        return _state_badge(record)

    def value_state(self, record: ValueReport) -> str:
        return record.state_text(timezone.localdate())

    def render_verdict(self, record: ValueReport) -> str:
        return record.verdict.get_decision_display()

    order_state = ordered_by_key("state_order", "initiative__name")
    order_initiative = ordered_ignoring_case("initiative__name")
    order_department = ordered_ignoring_case("initiative__department__name")
    order_owner = ordered_ignoring_case("initiative__owner__last_name", "initiative__owner__first_name",
                                        "initiative__owner__username")


class QueueTable(ValueReportTable):
    cycle = tables.Column(order_by=("cycle__period_start",))

    class Meta(ValueReportTable.Meta):
        sequence = ("initiative", "cycle", "department", "owner", "outcome_count", "submitted_at")
        exclude = ("state", "verdict")
        empty_text = "No report awaits your verdict."


class ReviewCycleTable(tables.Table):
    name = tables.Column(linkify=True)
    period_start = tables.DateColumn(format="Y-m-d")
    period_end = tables.DateColumn(format="Y-m-d")
    opens_on = tables.DateColumn(format="Y-m-d")
    due_on = tables.DateColumn(format="Y-m-d")
    # Computed from the dates and closed_at: empty_values=() so an open cycle (closed_at empty) shows its status too.
    status = tables.Column(accessor="closed_at", verbose_name="Status", empty_values=())
    reports_count = CountColumn("Reports")
    submitted_count = CountColumn("Submitted")
    overdue_count = CountColumn("Overdue")

    class Meta:
        model = ReviewCycle
        fields = ("name", "period_start", "period_end", "opens_on", "due_on")
        sequence = (*fields, "status", "reports_count", "submitted_count", "overdue_count")
        order_by = ("-period_start",)
        empty_text = "No review cycles yet."

    def render_status(self, record: ReviewCycle) -> str:
        return record.status.label

    def value_status(self, record: ReviewCycle) -> str:
        return record.status.label

    order_name = ordered_ignoring_case("name")
    order_status = ordered_by_key("status_order", "name")  # what it shows (selectors.cycle_status_order)


# An initiative that owes no report this cycle (not in pilot or production when it opened), on the page and in the CSV.
NONE_EXPECTED = "none expected"


class MyInitiativeTable(tables.Table):
    """The user's initiatives with the report of the current cycle (prefetched as cycle_reports)."""

    name = tables.Column("Initiative", linkify=True)
    stage = tables.Column()
    department = tables.Column(accessor="department__name", verbose_name="Department")
    report = tables.Column("Current report", accessor="pk", orderable=False)
    due_on = tables.Column("Due", accessor="pk", orderable=False)

    class Meta:
        fields = ()
        sequence = ("name", "stage", "department", "report", "due_on")
        empty_text = "You own no initiative and are delegate for none."

    @staticmethod
    def _report(record) -> ValueReport | None:
        return record.cycle_reports[0] if record.cycle_reports else None

    def render_stage(self, record) -> SafeString:
        return format_html('<span class="stage stage-{}">{}</span>', record.stage, record.get_stage_display())

    def value_stage(self, record) -> str:
        return record.get_stage_display()

    def render_report(self, record) -> SafeString | str:
        report = self._report(record)
        if report is None:
            return NONE_EXPECTED
        return format_html('<a href="{}">{}</a>', report.get_absolute_url(), _state_badge(report))

    def value_report(self, record) -> str:
        report = self._report(record)
        return report.state_text(timezone.localdate()) if report else NONE_EXPECTED

    def render_due_on(self, record) -> str:
        report = self._report(record)
        return f"{report.cycle.due_on:%Y-%m-%d}" if report else "—"

    def value_due_on(self, record) -> str:
        report = self._report(record)
        return f"{report.cycle.due_on:%Y-%m-%d}" if report else ""

    order_name = ordered_ignoring_case("name")
    order_department = ordered_ignoring_case("department__name")


class NotificationTable(tables.Table):
    created_at = tables.DateTimeColumn(format="Y-m-d H:i", verbose_name="When")
    message = tables.Column()
    read_at = tables.DateTimeColumn(format="Y-m-d H:i", verbose_name="Read", default="unread")

    class Meta:
        model = Notification
        fields = ("created_at", "message", "read_at")
        order_by = ("-created_at",)
        empty_text = "No notifications."

    def value_message(self, record: Notification) -> str:
        return record.message  # the CSV: the text, not the link's HTML

    def render_message(self, record: Notification) -> SafeString:
        if record.url:
            return format_html('<a href="{}">{}</a>', record.url, record.message)
        return format_html("{}", record.message)
