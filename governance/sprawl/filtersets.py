"""Filters of the sprawl resources (django-filter): clusters, use cases and verdicts on possible-duplicate pairs, one
FilterSet per resource for its list page and its API."""

from __future__ import annotations

from decimal import Decimal

import django_filters
from django import forms
from django.db.models import Q, QuerySet

from governance.choices import SPRAWL_CONFIDENCES, DuplicateVerdict, SprawlConfidence, SprawlStatus
from governance.models import DuplicatePairDecision, SprawlCluster, SprawlClusterMember, UseCase
from portfolio.models import Department
from tollgate.ui.filtersets import ANY, ListFilterSet, YesNoSelect
from tollgate.ui.ids import record_id


class SprawlClusterFilterSet(ListFilterSet):
    """Any status unless asked (the API); the page opens on the open clusters, those that still need a decision."""

    status = django_filters.ChoiceFilter(choices=SprawlStatus.choices, empty_label="Any status")
    confidence = django_filters.ChoiceFilter(
        choices=SprawlConfidence.choices, empty_label="Any confidence", method="filter_confidence",
        help_text="likely: the clusters shown as sprawl, the detector's likely ones and those reviewers linked, and "
                  "every cluster a reviewer decided.")
    use_case = django_filters.ModelChoiceFilter(
        queryset=UseCase.objects.filter(clusters__isnull=False).distinct().order_by("name"), empty_label=ANY)
    department = django_filters.ModelChoiceFilter(
        queryset=Department.objects.order_by("name"), empty_label=ANY, method="filter_department",
        label="Department")
    q = django_filters.CharFilter(method="filter_text", label="Search",
                                  widget=forms.TextInput(attrs={"type": "search", "placeholder": "Title or member"}))

    class Meta:
        model = SprawlCluster
        fields = ("status", "confidence", "use_case", "department", "q")

    def filter_confidence(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        """Likely clusters come with those reviewers linked (held together by their decisions): both are sprawl. So
        does every decided cluster: a "possible" one a reviewer confirmed is sprawl on the dashboard at once, and
        the page's default filter hid it until the next recomputation relabelled it."""
        if value == SprawlConfidence.LIKELY:
            return queryset.filter(Q(confidence__in=SPRAWL_CONFIDENCES) | ~Q(status=SprawlStatus.OPEN))
        return queryset.filter(confidence=value)

    def filter_department(self, queryset: QuerySet, name: str, value: Department) -> QuerySet:
        ids = SprawlClusterMember.objects.filter(removed=False, initiative__department=value).values("cluster_id")
        return queryset.filter(pk__in=ids)

    def filter_text(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        ids = SprawlClusterMember.objects.filter(
            Q(initiative__name__icontains=value) | Q(initiative__external_id__iexact=value)).values("cluster_id")
        return queryset.filter(Q(title__icontains=value) | Q(pk__in=ids))


class UseCaseFilterSet(ListFilterSet):
    q = django_filters.CharFilter(method="filter_text", label="Search",
                                  widget=forms.TextInput(attrs={"type": "search", "placeholder": "Name, job, synonym"}))
    used = django_filters.BooleanFilter(method="filter_used", label="Done by an initiative",
                                        widget=YesNoSelect())
    is_active = django_filters.BooleanFilter(label="Active",
                                             widget=YesNoSelect())

    class Meta:
        model = UseCase
        fields = ("q", "used", "is_active")

    def filter_text(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        return queryset.filter(Q(name__icontains=value) | Q(code__icontains=value) | Q(job__icontains=value)
                               | Q(synonyms__icontains=value) | Q(vendor_products__icontains=value))

    def filter_used(self, queryset: QuerySet, name: str, value: bool | None) -> QuerySet:
        if value is None:
            return queryset
        return queryset.filter(initiative_count__gt=0) if value else queryset.filter(initiative_count=0)


class DuplicatePairDecisionFilterSet(ListFilterSet):
    """?initiative=<id> (either side of the pair), ?verdict=duplicate|not_duplicate, ?since=<date>."""

    initiative = django_filters.NumberFilter(method="filter_initiative", label="Initiative (id)")
    verdict = django_filters.ChoiceFilter(choices=DuplicateVerdict.choices, empty_label=ANY)
    since = django_filters.DateFilter(field_name="decided_at", lookup_expr="date__gte", label="Decided since")

    class Meta:
        model = DuplicatePairDecision
        fields = ("initiative", "verdict", "since")

    def filter_initiative(self, queryset: QuerySet, name: str, value: Decimal) -> QuerySet:
        initiative_id = record_id(value)  # beyond the id column, as for an unknown id: no pair
        if initiative_id is None:
            return queryset.none()
        return queryset.filter(Q(initiative_a_id=initiative_id) | Q(initiative_b_id=initiative_id))
