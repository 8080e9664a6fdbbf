"""Filters of the cost resources (django-filter): sources, allocation rules, ingestion runs and currency rates, one
FilterSet per resource for its page and its API (the page's filter bar shows `page_filters`)."""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.db.models import Q, QuerySet

from portfolio.choices import RuleMatch, RunStatus, RunTrigger, SourceType
from portfolio.costs.connectors.base import Period
from portfolio.costs.forecasting import METHOD_NAMES, Method
from portfolio.models import (
    AllocationRule,
    CostSource,
    CurrencyRate,
    Department,
    IngestionRun,
    Initiative,
    InitiativeForecast,
)
from tollgate.ui.filtersets import (
    ANY,
    ListFilterSet,
    OfferedModelChoiceFilter,
    OneOrMoreChoiceFilter,
    SearchFilterSet,
    YesNoSelect,
)


class PeriodFilter(django_filters.CharFilter):
    """?period=YYYY-MM: runs (or records) of that month; `period` is stored as the month's first day."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label", "Period")
        kwargs.setdefault("widget", forms.TextInput(attrs={"type": "month", "placeholder": "YYYY-MM"}))
        super().__init__(*args, **kwargs)

    def filter(self, qs: QuerySet, value: str) -> QuerySet:
        if not value:
            return qs
        try:
            period = Period.parse(value)
        except ValueError:
            return qs.none()
        return qs.filter(**{self.field_name: period.start})


class CostSourceFilterSet(SearchFilterSet):
    search_fields = ("name",)
    page_filters = ("q", "type", "enabled")

    type = OneOrMoreChoiceFilter(choices=SourceType.choices)
    enabled = django_filters.BooleanFilter(widget=YesNoSelect())
    name = django_filters.CharFilter(lookup_expr="iexact")

    class Meta:
        model = CostSource
        fields = ("q", "type", "enabled", "name")


class AllocationRuleFilterSet(SearchFilterSet):
    search_fields = ("key", "value", "initiative__name", "initiative__external_id")
    page_filters = ("q", "source", "initiative")

    source = django_filters.ModelChoiceFilter(empty_label=ANY, queryset=CostSource.objects.order_by("name"))
    initiative = OfferedModelChoiceFilter(
        queryset=Initiative.objects.all(),
        offered=Initiative.objects.filter(allocation_rules__isnull=False).distinct().order_by("name"),
    )
    match = django_filters.ChoiceFilter(choices=RuleMatch.choices)

    class Meta:
        model = AllocationRule
        fields = ("q", "source", "initiative", "match")


class IngestionRunFilterSet(ListFilterSet):
    """?source=<id>&status=a&status=b&trigger=...&period=YYYY-MM"""

    source = django_filters.ModelChoiceFilter(empty_label=ANY, queryset=CostSource.objects.order_by("name"))
    status = OneOrMoreChoiceFilter(choices=RunStatus.choices)
    trigger = OneOrMoreChoiceFilter(choices=RunTrigger.choices)
    period = PeriodFilter(field_name="period")

    class Meta:
        model = IngestionRun
        fields = ("source", "status", "trigger", "period")


class CurrencyRateFilterSet(ListFilterSet):
    """By currency, and the rates in effect on a day (uses the `valid_until` of cost_selectors.currency_rates)."""

    currency = django_filters.CharFilter(lookup_expr="iexact", label="Currency",
                                         widget=forms.TextInput(attrs={"placeholder": "EUR", "maxlength": 3}))
    on = django_filters.DateFilter(method="filter_on", label="In effect on",
                                   widget=forms.DateInput(attrs={"type": "date"}))

    class Meta:
        model = CurrencyRate
        fields = ("currency", "on")

    def filter_on(self, queryset: QuerySet, name: str, value: Any) -> QuerySet:
        return queryset.filter(Q(valid_until__isnull=True) | Q(valid_until__gt=value), valid_from__lte=value)


class InitiativeForecastFilterSet(SearchFilterSet):
    """The forecast page's initiatives: ?q=<name or id>&department=<id>&method=volume_x_price"""

    search_fields = ("initiative__name", "initiative__external_id")
    page_filters = ("q", "department", "method")

    department = django_filters.ModelChoiceFilter(field_name="initiative__department", label="Department",
                                                  empty_label=ANY,
                                                  queryset=Department.objects.order_by("name"))
    method = django_filters.ChoiceFilter(
        choices=[(m.value, METHOD_NAMES[m]) for m in (Method.VOLUME_X_PRICE, Method.SPEND_TREND, Method.SHORT_FLAT)],
        empty_label=ANY)

    class Meta:
        model = InitiativeForecast
        fields = ("q", "department", "method")
