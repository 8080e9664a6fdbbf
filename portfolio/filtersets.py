"""Filters of the portfolio resources (django-filter), one FilterSet per resource for its list page and its API.

Each page's filter bar shows `page_filters`; the API accepts every filter (`?stage=a&stage=b`, `?owner_email=...`).
"""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet
from django.utils import timezone

from portfolio import selectors
from portfolio.choices import Category, KpiDirection, KpiKind, ModelTier, Stage
from portfolio.forms import person_label
from portfolio.models import (
    KPI,
    AIModel,
    ApiToken,
    BusinessCase,
    CostCenter,
    Department,
    Initiative,
    LicencePool,
    Vendor,
)
from tollgate.formatting import money_label
from tollgate.roles import Role
from tollgate.ui.filtersets import (
    ANY,
    ListFilterSet,
    OfferedModelChoiceField,
    OfferedModelChoiceFilter,
    OneOrMoreChoiceFilter,
    SearchFilterSet,
    YesNoSelect,
)


class PersonModelChoiceField(OfferedModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return person_label(obj)


class OwnerChoiceFilter(OfferedModelChoiceFilter):
    """Offers only people who own an initiative (evaluated per request); accepts anyone."""

    field_class = PersonModelChoiceField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("queryset", get_user_model().objects.all())
        kwargs.setdefault("offered", lambda request: selectors.owner_choices())
        super().__init__(*args, **kwargs)


class InitiativeFilterSet(SearchFilterSet):
    """?q=&department=<id>&department__code=<code>&stage=a&stage=b&category=...&vendor=<id>&model=<id>&owner=<id>
    &owner_email=...&cost_center=<id>&cost_quarter_min=&cost_quarter_max=&over_business_case_pct=

    The cost filters read the figures portfolio.selectors.initiative_cost_annotations adds (the page's and the API's
    querysets carry them): the last complete quarter's TCO, and how far it is above the business case in percent."""

    search_fields = ("name", "description", "external_id")
    page_filters = ("q", "department", "stage", "category", "vendor", "owner", "cost_quarter_min", "cost_quarter_max",
                    "over_business_case_pct")
    ranges = (("cost_quarter_min", "cost_quarter_max"),)

    q = django_filters.CharFilter(
        method="filter_q",
        label="Search",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Name, purpose or id"}),
    )
    department = django_filters.ModelChoiceFilter(empty_label=ANY, queryset=Department.objects.order_by("name"))
    department__code = django_filters.CharFilter(field_name="department__code", lookup_expr="iexact")
    stage = OneOrMoreChoiceFilter(choices=Stage.choices)
    category = OneOrMoreChoiceFilter(choices=Category.choices)
    vendor = django_filters.ModelChoiceFilter(
        empty_label=ANY, field_name="vendors", queryset=Vendor.objects.order_by("name")
    )
    model = django_filters.ModelChoiceFilter(field_name="ai_models", queryset=AIModel.objects.all(), distinct=True)
    owner = OwnerChoiceFilter()
    owner_email = django_filters.CharFilter(field_name="owner__email", lookup_expr="iexact")
    cost_center = django_filters.ModelChoiceFilter(queryset=CostCenter.objects.all())
    cost_quarter_min = django_filters.NumberFilter(
        field_name="cost_last_quarter", lookup_expr="gte", label=money_label("Cost last quarter from"), min_value=0,
        widget=forms.NumberInput(attrs={"min": 0, "step": "any", "placeholder": "0"}))
    cost_quarter_max = django_filters.NumberFilter(
        field_name="cost_last_quarter", lookup_expr="lte", label=money_label("Cost last quarter up to"), min_value=0,
        widget=forms.NumberInput(attrs={"min": 0, "step": "any"}))
    over_business_case_pct = django_filters.NumberFilter(
        field_name="cost_variance_pct", lookup_expr="gt", label="Over business case by more than (%)",
        widget=forms.NumberInput(attrs={"step": "any", "placeholder": "e.g. 25"}))

    class Meta:
        model = Initiative
        fields = ("q", "department", "department__code", "stage", "category", "vendor", "model", "owner",
                  "owner_email", "cost_center", "cost_quarter_min", "cost_quarter_max", "over_business_case_pct")


class BusinessCaseFilterSet(ListFilterSet):
    initiative = django_filters.ModelChoiceFilter(queryset=Initiative.objects.all())

    class Meta:
        model = BusinessCase
        fields = ("initiative",)


class KPIFilterSet(ListFilterSet):
    initiative = django_filters.ModelChoiceFilter(queryset=Initiative.objects.all())
    direction = django_filters.ChoiceFilter(choices=KpiDirection.choices)
    kind = django_filters.ChoiceFilter(choices=KpiKind.choices)

    class Meta:
        model = KPI
        fields = ("initiative", "direction", "kind")


class DepartmentFilterSet(SearchFilterSet):
    search_fields = ("name", "code")
    page_filters = ("q",)

    code = django_filters.CharFilter(lookup_expr="iexact")

    class Meta:
        model = Department
        fields = ("q", "code")


class CostCenterFilterSet(SearchFilterSet):
    search_fields = ("code", "name")
    page_filters = ("q", "department")

    department = django_filters.ModelChoiceFilter(empty_label=ANY, queryset=Department.objects.order_by("name"))
    department__code = django_filters.CharFilter(field_name="department__code", lookup_expr="iexact")

    class Meta:
        model = CostCenter
        fields = ("q", "department", "department__code")


class VendorFilterSet(SearchFilterSet):
    search_fields = ("name",)
    page_filters = ("q",)

    name = django_filters.CharFilter(lookup_expr="iexact")

    class Meta:
        model = Vendor
        fields = ("q", "name")


class AIModelFilterSet(SearchFilterSet):
    search_fields = ("name", "provider__name")

    provider = OfferedModelChoiceFilter(
        queryset=Vendor.objects.all(), offered=Vendor.objects.filter(models__isnull=False).distinct()
    )
    tier = OneOrMoreChoiceFilter(choices=ModelTier.choices)
    open_weights = django_filters.BooleanFilter(widget=YesNoSelect())

    class Meta:
        model = AIModel
        fields = ("q", "provider", "tier", "open_weights")


class LicencePoolFilterSet(SearchFilterSet):
    search_fields = ("tool", "vendor__name", "initiative__name")
    page_filters = ("q", "vendor")

    vendor = OfferedModelChoiceFilter(
        queryset=Vendor.objects.all(), offered=Vendor.objects.filter(licence_pools__isnull=False).distinct()
    )
    initiative = django_filters.ModelChoiceFilter(queryset=Initiative.objects.all())

    class Meta:
        model = LicencePool
        fields = ("q", "vendor", "initiative")


class PersonFilterSet(SearchFilterSet):
    """The People page: ?q=<name or e-mail>&role=reviewer&department=<id>&active=true&sign_in=not_invited
    &integration_account=true"""

    search_fields = ("first_name", "last_name", "email", "username", "profile__title")
    page_filters = ("q", "role", "department", "active", "sign_in", "integration_account")

    role = django_filters.ChoiceFilter(choices=Role.choices, method="filter_role",
                                       empty_label=ANY, label="Role")
    department = django_filters.ModelChoiceFilter(field_name="profile__department", label="Department",
                                                  empty_label=ANY, queryset=Department.objects.order_by("name"))
    active = django_filters.BooleanFilter(field_name="is_active", label="Active", widget=YesNoSelect())
    sign_in = django_filters.ChoiceFilter(choices=selectors.SIGN_IN_CHOICES, method="filter_sign_in", empty_label=ANY,
                                          label="Signs in with")
    integration_account = django_filters.BooleanFilter(method="filter_integration_account",
                                                       label="Integration account", widget=YesNoSelect())

    class Meta:
        model = get_user_model()
        fields = ("q", "role", "department", "active", "sign_in", "integration_account")

    def filter_integration_account(self, queryset: QuerySet, name: str, value: bool | None) -> QuerySet:
        # Someone without a profile row is a person: "no" keeps them.
        if value is None:
            return queryset
        return queryset.filter(selectors.INTEGRATION_Q) if value else queryset.exclude(selectors.INTEGRATION_Q)

    def filter_sign_in(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(selectors.sign_in_q(value))

    def filter_role(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        if value == Role.ADMIN:  # a superuser is an administrator whatever their groups
            return queryset.filter(Q(groups__name=value) | Q(is_superuser=True)).distinct()
        return queryset.filter(groups__name=value).distinct()


class ApiTokenFilterSet(SearchFilterSet):
    """The API tokens page: ?q=<person, token name or first characters>&state=unused&read_only=true&kind=named"""

    search_fields = ("name", "token_key", "user__first_name", "user__last_name", "user__email", "user__username")
    page_filters = ("q", "state", "read_only", "kind")

    state = django_filters.ChoiceFilter(choices=selectors.TOKEN_STATES, method="filter_state", empty_label=ANY,
                                        label="State")
    read_only = django_filters.BooleanFilter(label="Read only", widget=YesNoSelect())
    kind = django_filters.ChoiceFilter(choices=[("named", "Named (account page or admin)"),
                                                ("password", "Obtained with a password")],
                                       method="filter_kind", empty_label=ANY, label="Kind")

    class Meta:
        model = ApiToken
        fields = ("q", "state", "read_only", "kind")

    def filter_state(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(selectors.api_token_state_q(value, now=timezone.now()))

    def filter_kind(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(from_password=value == "password")
