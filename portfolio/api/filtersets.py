"""Query-string filters of the portfolio API: declared here so the viewsets only name them."""

from __future__ import annotations

import django_filters
from django.contrib.auth import get_user_model

from portfolio.choices import Category, KpiDirection, ModelTier, Stage
from portfolio.models import KPI, AIModel, BusinessCase, CostCenter, Department, Initiative, LicencePool, Vendor


class InitiativeFilterSet(django_filters.FilterSet):
    """?department=<id>&department__code=<code>&stage=a&stage=b&category=...&vendor=<id>&owner=<id>&owner_email=..."""

    department = django_filters.ModelChoiceFilter(queryset=Department.objects.all())
    department__code = django_filters.CharFilter(field_name="department__code", lookup_expr="iexact")
    stage = django_filters.MultipleChoiceFilter(choices=Stage.choices)
    category = django_filters.MultipleChoiceFilter(choices=Category.choices)
    vendor = django_filters.ModelChoiceFilter(field_name="vendors", queryset=Vendor.objects.all(), distinct=True)
    model = django_filters.ModelChoiceFilter(field_name="ai_models", queryset=AIModel.objects.all(), distinct=True)
    owner = django_filters.ModelChoiceFilter(queryset=get_user_model().objects.all())
    owner_email = django_filters.CharFilter(field_name="owner__email", lookup_expr="iexact")
    cost_center = django_filters.ModelChoiceFilter(queryset=CostCenter.objects.all())

    class Meta:
        model = Initiative
        fields = ["department", "department__code", "stage", "category", "vendor", "model", "owner", "owner_email",
                  "cost_center"]


class BusinessCaseFilterSet(django_filters.FilterSet):
    initiative = django_filters.ModelChoiceFilter(queryset=Initiative.objects.all())

    class Meta:
        model = BusinessCase
        fields = ["initiative"]


class KPIFilterSet(django_filters.FilterSet):
    initiative = django_filters.ModelChoiceFilter(queryset=Initiative.objects.all())
    direction = django_filters.ChoiceFilter(choices=KpiDirection.choices)

    class Meta:
        model = KPI
        fields = ["initiative", "direction"]


class DepartmentFilterSet(django_filters.FilterSet):
    code = django_filters.CharFilter(lookup_expr="iexact")

    class Meta:
        model = Department
        fields = ["code"]


class CostCenterFilterSet(django_filters.FilterSet):
    department = django_filters.ModelChoiceFilter(queryset=Department.objects.all())
    department__code = django_filters.CharFilter(field_name="department__code", lookup_expr="iexact")

    class Meta:
        model = CostCenter
        fields = ["department", "department__code"]


class VendorFilterSet(django_filters.FilterSet):
    name = django_filters.CharFilter(lookup_expr="iexact")

    class Meta:
        model = Vendor
        fields = ["name"]


class AIModelFilterSet(django_filters.FilterSet):
    provider = django_filters.ModelChoiceFilter(queryset=Vendor.objects.all())
    tier = django_filters.MultipleChoiceFilter(choices=ModelTier.choices)
    open_weights = django_filters.BooleanFilter()

    class Meta:
        model = AIModel
        fields = ["provider", "tier", "open_weights"]


class LicencePoolFilterSet(django_filters.FilterSet):
    initiative = django_filters.ModelChoiceFilter(queryset=Initiative.objects.all())
    vendor = django_filters.ModelChoiceFilter(queryset=Vendor.objects.all())

    class Meta:
        model = LicencePool
        fields = ["initiative", "vendor"]
