"""The signals' one filterset, for the list page and the API: type, severity, department, status (the page opens on
the signals still live), an initiative's external id, and a search over initiatives."""

from __future__ import annotations

from typing import Any, ClassVar

import django_filters
from django.db.models import Q, QuerySet
from django.http import QueryDict

from governance.choices import LIVE_SIGNAL_STATUSES, SignalSeverity, SignalStatus, SignalType
from governance.models import Signal
from portfolio.models import Department, Initiative
from tollgate.ui.filtersets import ANY, SEARCH_WIDGET, ListFilterSet, OneOrMoreChoiceFilter

LIVE = "live"
STATUS_CHOICES = [(LIVE, "Open or acknowledged"), *SignalStatus.choices]


class SignalFilterSet(ListFilterSet):
    page_filters = ("q", "type", "severity", "department", "status")
    # Where the page and the API both start when the query does not name a status: the signals still waiting for
    # someone. Without it here the API listed dismissed and resolved ones too, and counted more than the page
    # (93 against 88). `?status=` (empty) lists every status, on both.
    defaults: ClassVar[dict[str, str]] = {"status": LIVE}

    q = django_filters.CharFilter(method="filter_q", label="Search", widget=SEARCH_WIDGET)
    type = OneOrMoreChoiceFilter(choices=SignalType.choices)
    severity = OneOrMoreChoiceFilter(choices=SignalSeverity.choices)
    department = django_filters.ModelChoiceFilter(
        queryset=Department.objects.order_by("name"), empty_label=ANY, method="filter_department", label="Department")
    status = OneOrMoreChoiceFilter(choices=STATUS_CHOICES, method="filter_status", empty_label="Any status")
    initiative = django_filters.CharFilter(method="filter_initiative", label="Initiative (external id)")

    class Meta:
        model = Signal
        fields = ("q", "type", "severity", "department", "status", "initiative")

    def __init__(self, data: QueryDict | dict[str, Any] | None = None, *args: Any, **kwargs: Any) -> None:
        if data is not None and any(name not in data for name in self.defaults):
            data = data.copy()
            for name, value in self.defaults.items():
                data.setdefault(name, value)
        super().__init__(data, *args, **kwargs)

    def _about(self, queryset: QuerySet, initiatives: QuerySet) -> QuerySet:
        ids = Signal.initiatives.through.objects.filter(initiative__in=initiatives).values("signal_id")
        return queryset.filter(pk__in=ids)

    def filter_q(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        for word in value.split():
            initiatives = Initiative.objects.filter(Q(name__icontains=word) | Q(external_id__icontains=word))
            queryset = self._about(queryset, initiatives)
        return queryset

    def filter_department(self, queryset: QuerySet, name: str, value: Department) -> QuerySet:
        return self._about(queryset, Initiative.objects.filter(department=value))

    def filter_initiative(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return self._about(queryset, Initiative.objects.filter(external_id__iexact=value.strip()))

    def filter_status(self, queryset: QuerySet, name: str, value: list[str]) -> QuerySet:
        if not value:
            return queryset
        statuses = {s for v in value for s in (LIVE_SIGNAL_STATUSES if v == LIVE else (v,))}
        return queryset.filter(status__in=statuses)
