"""Filters of the portfolio list pages (django-filter); every list has a free-text `q`."""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django_filters.fields import ModelChoiceField

from portfolio import selectors
from portfolio.choices import Category, ModelTier, Stage
from portfolio.forms import person_label
from portfolio.models import AIModel, CostCenter, Department, Initiative, LicencePool, Vendor

ANY = "Any"
SEARCH_WIDGET = forms.TextInput(attrs={"type": "search", "placeholder": "Search…"})


def _search(queryset: QuerySet, fields: tuple[str, ...], value: str) -> QuerySet:
    """Every word must match one of the fields (case-insensitive substring)."""
    for word in value.split():
        condition = Q()
        for field in fields:
            condition |= Q(**{f"{field}__icontains": word})
        queryset = queryset.filter(condition)
    return queryset


class SearchFilterSet(django_filters.FilterSet):
    search_fields: tuple[str, ...] = ()

    q = django_filters.CharFilter(method="filter_q", label="Search", widget=SEARCH_WIDGET)

    def filter_q(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return _search(queryset, self.search_fields, value)


class PersonModelChoiceField(ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return person_label(obj)


class OwnerChoiceFilter(django_filters.ModelChoiceFilter):
    """Offers only people who own an initiative, evaluated per request."""

    field_class = PersonModelChoiceField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("queryset", lambda request: selectors.owner_choices())
        kwargs.setdefault("empty_label", ANY)
        super().__init__(*args, **kwargs)


class InitiativeFilterSet(SearchFilterSet):
    search_fields = ("name", "description", "external_id")

    q = django_filters.CharFilter(
        method="filter_q",
        label="Search",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Name, purpose or id"}),
    )
    department = django_filters.ModelChoiceFilter(empty_label=ANY, queryset=Department.objects.order_by("name"))
    stage = django_filters.ChoiceFilter(empty_label=ANY, choices=Stage.choices)
    category = django_filters.ChoiceFilter(empty_label=ANY, choices=Category.choices)
    vendor = django_filters.ModelChoiceFilter(
        empty_label=ANY, field_name="vendors", queryset=Vendor.objects.order_by("name")
    )
    owner = OwnerChoiceFilter()

    class Meta:
        model = Initiative
        fields = ("q", "department", "stage", "category", "vendor", "owner")


class DepartmentFilterSet(SearchFilterSet):
    search_fields = ("name", "code")

    class Meta:
        model = Department
        fields = ("q",)


class CostCenterFilterSet(SearchFilterSet):
    search_fields = ("code", "name")

    department = django_filters.ModelChoiceFilter(empty_label=ANY, queryset=Department.objects.order_by("name"))

    class Meta:
        model = CostCenter
        fields = ("q", "department")


class VendorFilterSet(SearchFilterSet):
    search_fields = ("name",)

    class Meta:
        model = Vendor
        fields = ("q",)


class AIModelFilterSet(SearchFilterSet):
    search_fields = ("name", "provider__name")

    provider = django_filters.ModelChoiceFilter(
        empty_label=ANY, queryset=Vendor.objects.filter(models__isnull=False).distinct()
    )
    tier = django_filters.ChoiceFilter(empty_label=ANY, choices=ModelTier.choices)
    open_weights = django_filters.BooleanFilter(
        widget=forms.Select(choices=[("", "Any"), ("true", "Yes"), ("false", "No")])
    )

    class Meta:
        model = AIModel
        fields = ("q", "provider", "tier", "open_weights")


class LicencePoolFilterSet(SearchFilterSet):
    search_fields = ("tool", "vendor__name", "initiative__name")

    vendor = django_filters.ModelChoiceFilter(
        empty_label=ANY, queryset=Vendor.objects.filter(licence_pools__isnull=False).distinct()
    )

    class Meta:
        model = LicencePool
        fields = ("q", "vendor")
