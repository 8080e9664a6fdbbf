"""Filters of the reviews resources (django-filter), one FilterSet per resource for its list page and its API.

Each page's filter bar shows `page_filters`; the API accepts every filter.
"""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet
from django.utils import timezone

from portfolio.models import Department, Initiative
from reviews.choices import ReportState, ReportStatus
from reviews.models import Notification, ReportAttachment, ReviewCycle, ValueReport
from reviews.selectors import report_state_q
from tollgate.ui.filtersets import ANY, SearchFilterSet, YesNoSelect


class ValueReportFilterSet(SearchFilterSet):
    """?q=&cycle=<id>&cycle__name=2026-Q3&initiative=<id>&status=draft&state=overdue&department=<id>
    &awaiting_verdict=true

    The page filters on `state`, what its Status column shows (due, overdue, submitted, verdict given); `status` (draft
    or submitted, as stored) stays for the API."""

    search_fields = ("initiative__name", "initiative__external_id")
    page_filters = ("q", "department", "state")

    department = django_filters.ModelChoiceFilter(
        field_name="initiative__department", empty_label=ANY, queryset=Department.objects.order_by("name")
    )
    status = django_filters.ChoiceFilter(empty_label=ANY, choices=ReportStatus.choices)
    state = django_filters.ChoiceFilter(label="Status", empty_label=ANY, choices=ReportState.choices,
                                        method="filter_state")
    cycle = django_filters.ModelChoiceFilter(queryset=ReviewCycle.objects.all())
    cycle__name = django_filters.CharFilter(field_name="cycle__name", lookup_expr="iexact")
    initiative = django_filters.ModelChoiceFilter(queryset=Initiative.objects.all())
    awaiting_verdict = django_filters.BooleanFilter(method="filter_awaiting_verdict", widget=YesNoSelect(),
                                                    label="Awaiting a verdict")

    class Meta:
        model = ValueReport
        fields = ("q", "department", "status", "state", "cycle", "cycle__name", "initiative", "awaiting_verdict")

    def filter_state(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(report_state_q(ReportState(value), timezone.localdate()))

    def filter_awaiting_verdict(self, queryset: QuerySet, name: str, value: bool) -> QuerySet:
        awaiting = queryset.filter(status=ReportStatus.SUBMITTED, verdict__isnull=True)
        return awaiting if value else queryset.exclude(pk__in=awaiting.values("pk"))


class ReportAttachmentFilterSet(django_filters.FilterSet):
    """?report=<id>&initiative=<id>: the evidence of one report, or of every report of one initiative."""

    report = django_filters.ModelChoiceFilter(queryset=ValueReport.objects.all())
    initiative = django_filters.ModelChoiceFilter(field_name="report__initiative", queryset=Initiative.objects.all())

    class Meta:
        model = ReportAttachment
        fields = ("report", "initiative")


class QueueFilterSet(ValueReportFilterSet):
    """The reviewer queue's: every report there is submitted, so its page filters by cycle, not by status."""

    page_filters = ("q", "department", "cycle")
    cycle = django_filters.ModelChoiceFilter(queryset=ReviewCycle.objects.order_by("-opens_on"), empty_label=ANY)


class MyInitiativeFilterSet(SearchFilterSet):
    """The owner's own initiatives on "my reports" (a page without an API: the portfolio's filters are too many)."""

    search_fields = ("name", "external_id")

    class Meta:
        model = Initiative
        fields = ("q",)


class ReviewCycleFilterSet(SearchFilterSet):
    search_fields = ("name",)

    class Meta:
        model = ReviewCycle
        fields = ("q",)


class NotificationFilterSet(SearchFilterSet):
    search_fields = ("message",)

    unread = django_filters.BooleanFilter(
        field_name="read_at", lookup_expr="isnull", label="Unread", widget=YesNoSelect(yes="Unread", no="Read")
    )

    class Meta:
        model = Notification
        fields = ("q", "unread")
