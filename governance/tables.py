"""django-tables2 tables of the governance pages; the same columns are exported as CSV."""

from __future__ import annotations

import re
from typing import Any

import django_tables2 as tables
from auditlog.models import LogEntry
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.text import capfirst

from governance.calculations import plain_number
from governance.choices import AuditEvent
from governance.models import RubricCriterion
from governance.selectors import (
    HIDDEN_HISTORY_FIELDS,
    AuditNames,
    User,
    audit_field,
    audit_field_label,
    audit_number,
    audit_person,
    audit_reference,
    audit_reference_names,
    relations_seen_from_the_other_side,
)
from tollgate.formatting import format_number
from tollgate.jobs import RunStatus
from tollgate.roles import Role
from tollgate.ui.tables import NUM, PersonColumn, YesNoColumn, ordered_ignoring_case, person_name

ACTIONS = {LogEntry.Action.CREATE: "Created", LogEntry.Action.UPDATE: "Changed", LogEntry.Action.DELETE: "Deleted",
           LogEntry.Action.ACCESS: "Accessed"}


# Each declared event's label, resolved once: `AuditEvent.values` rebuilds its list on every call (a CSV of the
# trail asked it once a row).
_EVENT_LABELS = {event.value: event.label for event in AuditEvent}


def audit_event_label(entry: LogEntry) -> str:
    data = entry.additional_data or {}
    event = data.get("event") if isinstance(data, dict) else None
    if event:
        label = _EVENT_LABELS[event] if event in _EVENT_LABELS else event.replace("_", " ").capitalize()
        transition = data.get("transition")
        return f"{label}: {transition.replace('_', ' ')}" if transition else label
    if isinstance(data, dict) and data.get("source") == "inventory_import":
        return f"Inventory import ({ACTIONS.get(entry.action, '').lower()})"
    return f"Field change ({ACTIONS.get(entry.action, '').lower()})"


# An ingestion run's text carried its status once ("aws-focus 2024-09 (Pending)"): a row keeps the text of when it
# was written, so that status went stale as the run went on. Rows written since name the run without it.
_RUN_STATUS_SUFFIX = re.compile(r" \((?:{})\)$".format("|".join(re.escape(str(label)) for label in RunStatus.labels)))


def audit_object_label(entry: LogEntry) -> str:
    """What a row is about: the kind of record and its text as written (an ingestion run without the status it had
    then)."""
    text = entry.object_repr
    if (entry.content_type.app_label, entry.content_type.model) == ("portfolio", "ingestionrun"):
        text = _RUN_STATUS_SUFFIX.sub("", text)
    return f"{capfirst(entry.content_type.name)}: {text}"


def _short(value: Any) -> str:
    text = "—" if value in (None, "", "None") else str(value)
    return text if len(text) <= 80 else text[:77] + "…"


def _shown(model: Any, field_name: str, value: Any, names: AuditNames) -> str:
    if field_name == "roles" and isinstance(value, list):  # a "Roles changed" row: the roles by their labels
        return ", ".join(str(Role(v).label) if v in Role.values else str(v) for v in value) or "none"
    return (audit_reference(model, field_name, value, names) or audit_number(model, field_name, value)
            or _choice_label(model, field_name, value) or _short(value))


def _choice_label(model: Any, field_name: str, value: Any) -> str | None:
    """A choice by its label ("In review", not "in_review"), as the initiative's History reads it; None for a field
    without choices or a value that is none of them (kept as stored)."""
    model_field = audit_field(model, field_name)
    if value is None or not getattr(model_field, "choices", None):
        return None
    label = {str(k): v for k, v in dict(model_field.flatchoices).items()}.get(str(value))
    return None if label is None else str(label)


def audit_changes_text(entry: LogEntry, names: AuditNames | None = None) -> str:
    """Field: before → after; … (fields by their verbose names, as the initiative page's History names them;
    many-to-many changes as +added / −removed, people by name; relations seen from the other side and bookkeeping
    fields (id, created and updated times) left out). Values as stored, but numbers with their separators (and money
    and unit prices as money), as on every other page, and related records by name (`names`: audit_reference_names of
    the page's entries; read for this entry alone when not given)."""
    changes = entry.changes if isinstance(entry.changes, dict) else (entry.changes_dict or {})
    if names is None:
        names = audit_reference_names([entry])
    hidden = relations_seen_from_the_other_side(entry)
    model = entry.content_type.model_class() if entry.content_type_id else None
    parts = []
    for field_name, change in changes.items():
        if field_name in hidden or field_name in HIDDEN_HISTORY_FIELDS:
            continue
        model_field = audit_field(model, field_name)
        label = audit_field_label(model_field, field_name)
        if isinstance(change, dict) and change.get("type") == "m2m":
            sign = "+" if change.get("operation") == "add" else "−"
            objects = change.get("objects", [])
            if getattr(model_field, "related_model", None) is User:
                objects = [audit_person(o, names) for o in objects]
            parts.append(f"{label}: {sign}{', '.join(map(str, objects))}")
        elif isinstance(change, list | tuple) and len(change) == 2:
            before, after = (_shown(model, field_name, value, names) for value in change)
            parts.append(f"{label}: {before} → {after}")
        else:
            parts.append(f"{label}: {_shown(model, field_name, change, names)}")
    return "; ".join(parts)


def audit_reason(entry: LogEntry) -> str:
    data = entry.additional_data
    return str(data.get("reason") or "") if isinstance(data, dict) else ""


# The keys of additional_data holding a sign-in address (an unlock's), shown to administrators only.
AUDIT_ADDRESS_KEYS = ("ip_address",)


def audit_address(entry: LogEntry) -> str:
    data = entry.additional_data
    return str(data.get("ip_address") or "") if isinstance(data, dict) else ""


class ReviewQueueTable(tables.Table):
    name = tables.Column("Initiative", linkify=lambda record: reverse("governance:score", args=[record.pk]))
    external_id = tables.Column("External id")
    department = tables.Column()
    owner = PersonColumn()
    current_round = tables.Column("Round", attrs=NUM, default="1")
    submitted_at = tables.DateColumn(format="Y-m-d", verbose_name="Submitted", default="—")
    days_waiting = tables.Column("Days waiting", attrs=NUM, order_by=("-submitted_at",), empty_values=())
    reviewers_scored = tables.Column("Reviewers who scored", attrs=NUM)
    my_scored = tables.Column("Criteria I scored", attrs=NUM)

    class Meta:
        empty_text = "No intake is waiting for your score."
        order_by = ("-days_waiting",)

    def _days(self, record: Any) -> int:
        started = record.submitted_at or record.updated_at
        return (timezone.now() - started).days

    def render_days_waiting(self, record: Any) -> int:
        return self._days(record)

    def value_days_waiting(self, record: Any) -> int:
        return self._days(record)

    order_name = ordered_ignoring_case("name")
    order_department = ordered_ignoring_case("department__name")
    order_owner = ordered_ignoring_case("owner__last_name", "owner__first_name", "owner__username")


class AuditTable(tables.Table):
    timestamp = tables.DateTimeColumn(format="Y-m-d H:i", verbose_name="Time")
    actor = tables.Column(empty_values=())
    object_repr = tables.Column("Object")
    event = tables.Column(empty_values=(), orderable=False)
    changes = tables.Column("Changes", empty_values=(), orderable=False)
    reason = tables.Column(empty_values=(), orderable=False)
    address = tables.Column("Sign-in address", empty_values=(), orderable=False)  # administrators only (the view)

    class Meta:
        empty_text = "No audit entries match these filters."
        attrs = {"class": "table audit"}

    def render_actor(self, record: LogEntry) -> str:
        return person_name(record.actor) or record.actor_email or "system"

    value_actor = render_actor

    def render_object_repr(self, record: LogEntry) -> str:
        return audit_object_label(record)

    value_object_repr = render_object_repr

    def render_event(self, record: LogEntry) -> str:
        return audit_event_label(record)

    value_event = render_event

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._page_names: AuditNames | None = None
        self._all_names: AuditNames | None = None

    def _reference_names(self) -> AuditNames:
        """The related records named in the page's rows' changes, read once: the rows' own query result is reused,
        so a page costs one more query per related model, not one per row."""
        if self._page_names is None:
            rows = self.page.object_list if hasattr(self, "page") else self.rows
            self._page_names = audit_reference_names(rows.data)
        return self._page_names

    def _every_reference_name(self) -> AuditNames:
        """The same for every row of the CSV: the export's table is paginated too, and names read for its first page
        alone left every later row's records "#10 (deleted)"."""
        if self._all_names is None:
            self._all_names = audit_reference_names(self.rows.data)
        return self._all_names

    def render_changes(self, record: LogEntry) -> str:
        return audit_changes_text(record, self._reference_names())

    def value_changes(self, record: LogEntry) -> str:
        return audit_changes_text(record, self._every_reference_name())

    def render_reason(self, record: LogEntry) -> str:
        return audit_reason(record)

    value_reason = render_reason

    def render_address(self, record: LogEntry) -> str:
        return audit_address(record)

    value_address = render_address

    def value_timestamp(self, record: LogEntry) -> str:
        return record.timestamp.isoformat()

    order_actor = ordered_ignoring_case("actor__last_name", "actor__first_name", "actor_email")
    order_object_repr = ordered_ignoring_case("content_type__model", "object_repr")


class PolicyTable(tables.Table):
    label = tables.Column("Policy", accessor="definition__label")
    key = tables.Column("Key")
    value = tables.Column("Value", attrs=NUM)
    unit = tables.Column("Unit", accessor="definition__unit")
    default = tables.Column("Default", attrs=NUM)
    range = tables.Column("Allowed", empty_values=(), orderable=False)
    updated_by = PersonColumn("Changed by", default="")
    updated_at = tables.DateTimeColumn(format="Y-m-d H:i", verbose_name="Changed", default="")
    help = tables.Column("Meaning", accessor="definition__help", orderable=False)
    edit = tables.Column("", empty_values=(), orderable=False, exclude_from_export=True)

    class Meta:
        empty_text = "No policies declared."

    def __init__(self, *args: Any, can_edit: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not can_edit:
            self.columns.hide("edit")

    # On the page with thousands separators ("10,000,000"), as the edit page prints the value in force; plain in the
    # CSV.
    def render_value(self, value: Any) -> str:
        return format_number(value)

    def value_value(self, value: Any) -> str:
        return plain_number(value)

    render_default = render_value
    value_default = value_value

    def render_range(self, record: Any) -> str:
        return f"{format_number(record.definition.minimum)} – {format_number(record.definition.maximum)}"

    def value_range(self, record: Any) -> str:
        return f"{plain_number(record.definition.minimum)} – {plain_number(record.definition.maximum)}"

    def render_edit(self, record: Any) -> str:
        return format_html('<a class="button" href="{}">Edit</a>', reverse("governance:policy_edit",
                                                                           args=[record.key]))


class RubricTable(tables.Table):
    order = tables.Column("#", attrs=NUM)
    name = tables.Column("Criterion")
    description = tables.Column(orderable=False)
    weight = tables.Column(attrs=NUM)
    share = tables.Column("Share of the score", empty_values=(), orderable=False, attrs=NUM)
    active = YesNoColumn()

    class Meta:
        model = RubricCriterion
        fields = ("order", "name", "description", "weight", "active")
        sequence = ("order", "name", "description", "weight", "share", "active")

    def __init__(self, *args: Any, total_weight: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.total_weight = total_weight

    def render_weight(self, value: Any) -> str:
        return plain_number(value)

    value_weight = render_weight

    def render_share(self, record: RubricCriterion) -> str:
        if not record.active or not self.total_weight:
            return "—"
        return f"{record.weight / self.total_weight * 100:.0f}%"

    value_share = render_share

    order_name = ordered_ignoring_case("name")
