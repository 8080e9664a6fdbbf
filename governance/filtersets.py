"""Filters of the governance resources (django-filter): the audit trail; sprawl's are in governance.sprawl. One
FilterSet per resource for its list page and its API."""

from __future__ import annotations

import django_filters
from auditlog.models import LogEntry
from django import forms
from django.db.models import Q, QuerySet

from governance import selectors
from governance.choices import AuditEvent
from governance.models import RubricCriterion
from portfolio.filtersets import PersonModelChoiceField
from portfolio.models import Initiative
from tollgate.ui.filtersets import ANY, ListFilterSet, YesNoSelect

DATE = forms.DateInput(attrs={"type": "date"})


class ActorChoiceFilter(django_filters.ModelChoiceFilter):
    field_class = PersonModelChoiceField


class AuditFilterSet(ListFilterSet):
    initiative = django_filters.CharFilter(
        method="filter_initiative", label="Initiative",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "External id or name"}),
    )
    actor = ActorChoiceFilter(empty_label=ANY, queryset=lambda request: selectors.audit_actor_choices())
    event = django_filters.ChoiceFilter(empty_label=ANY, choices=AuditEvent.choices, method="filter_event",
                                       label="Event")
    record = django_filters.ChoiceFilter(
        empty_label=ANY, label="Record", method="filter_record",
        choices=[(kind, label) for kind, (label, _) in selectors.AUDIT_RECORDS.items()],
    )
    ranges = (("since", "until"),)
    since = django_filters.DateFilter(field_name="timestamp", lookup_expr="date__gte", label="From", widget=DATE)
    until = django_filters.DateFilter(field_name="timestamp", lookup_expr="date__lte", label="To", widget=DATE)

    class Meta:
        model = LogEntry
        fields = ("initiative", "actor", "event", "record", "since", "until")

    def filter_initiative(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        """Entries of initiatives whose external id is the value or whose name contains it (and their cases and
        KPIs), or whose object's text contains it."""
        value = value.strip()
        ids = Initiative.objects.filter(Q(external_id__iexact=value) | Q(name__icontains=value)).values_list(
            "pk", flat=True
        )
        return queryset.filter(selectors.initiative_audit_q(ids) | Q(object_repr__icontains=value))

    def filter_record(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(selectors.audit_record_q(value))

    def filter_event(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        if value == AuditEvent.IMPORT:
            return queryset.filter(additional_data__source="inventory_import")
        if value == AuditEvent.FIELD_CHANGE:
            return queryset.filter(Q(additional_data__isnull=True) | ~Q(additional_data__has_key="event")).exclude(
                additional_data__source="inventory_import"
            )
        return queryset.filter(additional_data__event=value)


class RubricCriterionFilterSet(ListFilterSet):
    active = django_filters.BooleanFilter(label="Active", widget=YesNoSelect())

    class Meta:
        model = RubricCriterion
        fields = ("active",)
