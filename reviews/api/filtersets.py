"""Query-string filters of the reviews API."""

from __future__ import annotations

import django_filters

from portfolio.models import Department, Initiative
from reviews.choices import ReportStatus
from reviews.models import Notification, ReviewCycle, ValueReport


class ValueReportFilterSet(django_filters.FilterSet):
    """?cycle=<id>&cycle__name=2026-Q3&initiative=<id>&status=draft&department=<id>&awaiting_verdict=true"""

    cycle = django_filters.ModelChoiceFilter(queryset=ReviewCycle.objects.all())
    cycle__name = django_filters.CharFilter(field_name="cycle__name", lookup_expr="iexact")
    initiative = django_filters.ModelChoiceFilter(queryset=Initiative.objects.all())
    department = django_filters.ModelChoiceFilter(field_name="initiative__department",
                                                  queryset=Department.objects.all())
    status = django_filters.ChoiceFilter(choices=ReportStatus.choices)
    awaiting_verdict = django_filters.BooleanFilter(method="filter_awaiting_verdict")

    class Meta:
        model = ValueReport
        fields = ["cycle", "cycle__name", "initiative", "department", "status", "awaiting_verdict"]

    def filter_awaiting_verdict(self, queryset, name, value):
        awaiting = queryset.filter(status=ReportStatus.SUBMITTED, verdict__isnull=True)
        return awaiting if value else queryset.exclude(pk__in=awaiting.values("pk"))


class NotificationFilterSet(django_filters.FilterSet):
    unread = django_filters.BooleanFilter(field_name="read_at", lookup_expr="isnull")

    class Meta:
        model = Notification
        fields = ["unread"]
