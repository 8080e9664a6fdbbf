"""API filters of the cost resources."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import Q, QuerySet

from portfolio.choices import RunStatus, RunTrigger, SourceType
from portfolio.costs.filtersets import PeriodFilter
from portfolio.models import AllocationRule, CostSource, CurrencyRate, IngestionRun, Initiative


class CostSourceFilterSet(django_filters.FilterSet):
    type = django_filters.MultipleChoiceFilter(choices=SourceType.choices)
    name = django_filters.CharFilter(lookup_expr="iexact")

    class Meta:
        model = CostSource
        fields = ["type", "enabled", "name"]


class AllocationRuleFilterSet(django_filters.FilterSet):
    source = django_filters.ModelChoiceFilter(queryset=CostSource.objects.all())
    initiative = django_filters.ModelChoiceFilter(queryset=Initiative.objects.all())

    class Meta:
        model = AllocationRule
        fields = ["source", "initiative", "match"]


class CurrencyRateFilterSet(django_filters.FilterSet):
    currency = django_filters.CharFilter(lookup_expr="iexact")
    on = django_filters.DateFilter(method="filter_on", help_text="Rates in effect on this day (YYYY-MM-DD).")

    class Meta:
        model = CurrencyRate
        fields = ["currency", "on"]

    def filter_on(self, queryset: QuerySet, name: str, value: Any) -> QuerySet:
        return queryset.filter(Q(valid_until__isnull=True) | Q(valid_until__gt=value), valid_from__lte=value)


class IngestionRunFilterSet(django_filters.FilterSet):
    source = django_filters.ModelChoiceFilter(queryset=CostSource.objects.all())
    status = django_filters.MultipleChoiceFilter(choices=RunStatus.choices)
    trigger = django_filters.MultipleChoiceFilter(choices=RunTrigger.choices)
    period = PeriodFilter(field_name="period")

    class Meta:
        model = IngestionRun
        fields = ["source", "status", "trigger", "period"]
