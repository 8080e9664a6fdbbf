"""The signals table of the list page; the same columns are exported as CSV."""

from __future__ import annotations

from typing import Any

import django_tables2 as tables
from django.db.models import F, QuerySet
from django.utils.html import format_html, format_html_join

from governance.signals.selectors import PERIOD_ORDER
from tollgate.ui.tables import MoneyColumn


class SignalTable(tables.Table):
    """Signals with their prefetched initiatives (governance.signals.selectors.signal_list)."""

    type = tables.Column("Signal", linkify=True)
    initiatives = tables.Column(empty_values=(), orderable=False)
    departments = tables.Column(empty_values=(), orderable=False)
    period = tables.Column(order_by=PERIOD_ORDER)  # chronologically, months and quarters alike
    severity = tables.Column(order_by=("severity_rank",))
    monthly_saving = MoneyColumn("Saving / month", default="—")
    status = tables.Column()
    first_seen_at = tables.DateColumn(format="Y-m-d", verbose_name="First seen")

    class Meta:
        empty_text = "No signals match these filters."
        # No default column sort: the page's selector orders by severity, then saving (signal_list_by_severity).

    def order_monthly_saving(self, queryset: QuerySet, is_descending: bool) -> tuple[QuerySet, bool]:
        """Signals without a saving last, whichever way (PostgreSQL puts NULL first when descending, SQLite last)."""
        saving = F("monthly_saving")
        order = saving.desc(nulls_last=True) if is_descending else saving.asc(nulls_last=True)
        return queryset.order_by(order, "-pk"), True

    def render_type(self, record: Any) -> str:
        return record.get_type_display()

    value_type = render_type  # the CSV says what the page says: labels, not codes

    def render_initiatives(self, record: Any) -> Any:
        return format_html_join(", ", '<a href="{}">{}</a>', (
            (i.get_absolute_url(), i.external_id) for i in record.initiatives.all())) or "—"

    def value_initiatives(self, record: Any) -> str:
        return "; ".join(i.external_id for i in record.initiatives.all())

    def _departments(self, record: Any) -> list[str]:
        return sorted({i.department.name for i in record.initiatives.all()})

    def render_departments(self, record: Any) -> str:
        return ", ".join(self._departments(record)) or "—"

    def value_departments(self, record: Any) -> str:
        return "; ".join(self._departments(record))

    def render_severity(self, record: Any) -> Any:
        return format_html('<span class="severity severity-{}">{}</span>', record.severity,
                           record.get_severity_display())

    def value_severity(self, record: Any) -> str:
        return record.get_severity_display()

    def render_status(self, record: Any) -> Any:
        return format_html('<span class="signal-status status-{}">{}</span>', record.status,
                           record.get_status_display())

    def value_status(self, record: Any) -> str:
        return record.get_status_display()
