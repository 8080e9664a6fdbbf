"""django-tables2 tables of the sprawl pages (clusters, the use-case catalogue, a use case's initiatives); the same
columns are exported as CSV."""

from __future__ import annotations

from typing import Any

import django_tables2 as tables
from django.db.models import F, QuerySet
from django.urls import reverse
from django.utils.html import format_html

from governance.sprawl.selectors import right_elsewhere
from tollgate.ui.tables import NUM, MoneyColumn, PersonColumn, YesNoColumn, ignoring_case, ordered_ignoring_case


def _member_departments(record: Any) -> list[str]:
    return sorted({m.initiative.department.name for m in record.active_members})


def _member_vendors(record: Any) -> list[str]:
    return sorted({v.name for m in record.active_members for v in m.initiative.vendors.all()})


class SprawlClusterTable(tables.Table):
    """Clusters with their prefetched active members (governance.sprawl.selectors.sprawl_clusters)."""

    title = tables.Column("Cluster", linkify=True)
    use_case = tables.Column(default="—")
    member_count = tables.Column("Members", attrs=NUM)
    departments = tables.Column(empty_values=(), orderable=False)
    vendors = tables.Column(empty_values=(), orderable=False)
    monthly_spend = MoneyColumn("Monthly spend")
    estimated_saving = MoneyColumn("Estimated saving / month")
    score = tables.Column(attrs=NUM)
    right_elsewhere = tables.Column("Right elsewhere", empty_values=(), orderable=False, attrs=NUM)
    confidence = tables.Column()
    status = tables.Column()

    class Meta:
        empty_text = "No sprawl clusters match these filters."
        order_by = ("-estimated_saving",)

    def render_right_elsewhere(self, record: Any) -> str:
        """The share of pairs right among clusters of this score on the labelled inventories nobody tuned on."""
        share = right_elsewhere(record.score)
        return "—" if share is None else f"{share:.2f}"

    def value_right_elsewhere(self, record: Any) -> str:
        share = right_elsewhere(record.score)
        return "" if share is None else f"{share:.3f}"

    def render_departments(self, record: Any) -> str:
        return ", ".join(_member_departments(record))

    def value_departments(self, record: Any) -> str:
        return "; ".join(_member_departments(record))

    def render_vendors(self, record: Any) -> str:
        return ", ".join(_member_vendors(record)) or "—"

    def value_vendors(self, record: Any) -> str:
        return "; ".join(_member_vendors(record))

    def render_confidence(self, record: Any) -> Any:
        return format_html('<span class="confidence confidence-{}">{}</span>', record.confidence,
                           record.get_confidence_display())

    def value_confidence(self, record: Any) -> str:
        return record.get_confidence_display()

    def render_status(self, record: Any) -> Any:
        return format_html('<span class="sprawl-status status-{}">{}</span>', record.status,
                           record.get_status_display())

    def value_status(self, record: Any) -> str:
        return record.get_status_display()

    order_title = ordered_ignoring_case("title")
    order_use_case = ordered_ignoring_case("use_case__name")


class UseCaseTable(tables.Table):
    """The catalogue with initiative count and monthly spend (governance.sprawl.selectors.use_cases_with_figures)."""

    name = tables.Column("Use case", linkify=True)
    code = tables.Column()
    functions = tables.Column(orderable=False)
    initiative_count = tables.Column("Initiatives", attrs=NUM)
    monthly_spend = MoneyColumn("Monthly spend")
    origin = tables.Column("Source", accessor="catalogue_version", order_by=("catalogue_version",))
    is_active = YesNoColumn("Active")

    class Meta:
        empty_text = "No use cases match these filters."
        order_by = ("-monthly_spend",)  # equal spends by name (order_monthly_spend)

    def __init__(self, *args: Any, spend_heading: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if spend_heading:  # the month and basis of the spend (sprawl selectors.spend_by_use_case_heading)
            self.columns["monthly_spend"].column.verbose_name = spend_heading

    def render_functions(self, value: list[str]) -> str:
        return ", ".join(value) or "—"

    def value_functions(self, value: list[str]) -> str:
        return "; ".join(value)

    def render_origin(self, value: str) -> str:
        return f"Catalogue {value}" if value else "Added by an administrator"

    def value_origin(self, value: str) -> str:
        return self.render_origin(value)

    order_name = ordered_ignoring_case("name")

    def order_monthly_spend(self, queryset: QuerySet, is_descending: bool) -> tuple[QuerySet, bool]:
        """Use cases of equal spend (most of the catalogue spends nothing) by name, whatever its case. Not a second
        column in Meta.order_by: django-tables2 orders by the name alone when the name column orders itself."""
        spend = F("monthly_spend").desc() if is_descending else F("monthly_spend").asc()
        return queryset.order_by(spend, *ignoring_case("name")), True


class UseCaseInitiativeTable(tables.Table):
    """Initiatives of one use case (InitiativeUseCase rows)."""

    initiative = tables.Column(linkify=lambda record: record.initiative.get_absolute_url())
    department = tables.Column(accessor="initiative__department")
    owner = PersonColumn(accessor="initiative__owner")
    stage = tables.Column(accessor="initiative__stage")
    confidence = tables.Column(attrs=NUM)
    origin = tables.Column()
    declared = MoneyColumn("Declared monthly cost", accessor="initiative__declared_monthly_cost")

    class Meta:
        empty_text = "No initiative does this use case yet."
        order_by = ("-confidence",)

    def render_stage(self, record: Any) -> Any:
        return format_html('<span class="stage stage-{}">{}</span>', record.initiative.stage,
                           record.initiative.get_stage_display())

    def value_stage(self, record: Any) -> str:
        return record.initiative.get_stage_display()

    order_initiative = ordered_ignoring_case("initiative__name")
    order_department = ordered_ignoring_case("initiative__department__name")
    order_owner = ordered_ignoring_case("initiative__owner__last_name", "initiative__owner__first_name",
                                        "initiative__owner__username")


class LabelCheckPairTable(tables.Table):
    """What a label check found wrong (governance.sprawl.selectors.label_check_rows): pairs put together that the
    labels keep apart, labelled pairs left apart, and duplicates with no true partner among their top candidates."""

    kind = tables.Column("What")
    first = tables.Column("Initiative", accessor="first_id")
    second = tables.Column("With", accessor="second_id", default="—")
    labels = tables.Column("Their labels in the file", empty_values=(), orderable=False)

    class Meta:
        empty_text = "Nothing of this kind: the detector agreed with the labels."
        order_by = ("kind", "first")

    def render_first(self, record: dict[str, Any]) -> str:
        return _initiative_link(record["first_pk"], record["first_id"], record["first_name"])

    def render_second(self, record: dict[str, Any]) -> str:
        return _initiative_link(record["second_pk"], record["second_id"], record["second_name"])

    def value_first(self, record: dict[str, Any]) -> str:
        return f"{record['first_id']} {record['first_name']}"

    def value_second(self, record: dict[str, Any]) -> str:
        return f"{record['second_id']} {record['second_name']}".strip()

    def render_labels(self, record: dict[str, Any]) -> str:
        """Each initiative's label, or that the file does not list it (a wrong pair's usual cause when the file
        labels only part of the portfolio)."""
        shown = [record["first_label"] or "not in the file"]
        if record["second_id"]:
            shown.append(record["second_label"] or "not in the file")
        return " · ".join(shown)


def _initiative_link(pk: int | None, external_id: str, name: str) -> str:
    if pk is None:  # deleted since the check
        return format_html("{} {}", external_id, name)
    return format_html('<a href="{}">{}</a> {}', reverse("portfolio:initiative_detail", args=[pk]), external_id, name)
