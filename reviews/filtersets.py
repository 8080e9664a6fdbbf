"""Filters of the review list pages (django-filter)."""

from __future__ import annotations

import django_filters
from django import forms

from portfolio.filtersets import ANY, SearchFilterSet
from portfolio.models import Department
from reviews.choices import ReportStatus
from reviews.models import Notification, ReviewCycle, ValueReport


class ValueReportFilterSet(SearchFilterSet):
    search_fields = ("initiative__name", "initiative__external_id")

    department = django_filters.ModelChoiceFilter(
        field_name="initiative__department", empty_label=ANY, queryset=Department.objects.order_by("name")
    )
    status = django_filters.ChoiceFilter(empty_label=ANY, choices=ReportStatus.choices)

    class Meta:
        model = ValueReport
        fields = ("q", "department", "status")


class ReviewCycleFilterSet(SearchFilterSet):
    search_fields = ("name",)

    class Meta:
        model = ReviewCycle
        fields = ("q",)


class NotificationFilterSet(SearchFilterSet):
    search_fields = ("message",)

    unread = django_filters.BooleanFilter(
        field_name="read_at", lookup_expr="isnull", label="Unread",
        widget=forms.Select(choices=[("", "Any"), ("true", "Unread"), ("false", "Read")]),
    )

    class Meta:
        model = Notification
        fields = ("q", "unread")
