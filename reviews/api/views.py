"""Reviews API viewsets: they declare queryset, serializer, filters and the permission of each action, and hand
writes to reviews.services. The permissions are those of the pages (tollgate.roles)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view, inline_serializer
from rest_framework import fields as drf_fields
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from reviews import filtersets, selectors, services
from reviews.api import serializers
from reviews.models import ReportAttachment, ReviewCycle, ValueReport
from tollgate.api_body import DeclaredBodyMixin, reads_body
from tollgate.conditional import TAGGED_ACTIONS, ConditionalWritesMixin
from tollgate.permissions import RolePermission
from tollgate.types import request_actor
from tollgate.ui.errors import ApiErrorFields, call_service
from tollgate.ui.tables import ignoring_case

# The service names a stated KPI's entry as the page's form does (kpi_stated); the API has them in kpi_actuals.
REPORT_FIELDS = ApiErrorFields(renamed={"kpi_stated": "kpi_actuals"})


class ReviewsPermission(RolePermission):
    """RolePermission, with the report actions decided on the report: 'may change *this* report' has no answer
    without it (an owner may change only their own), so the collection check is left to the object check."""

    OBJECT_ACTIONS = ("update", "partial_update", "destroy", "submit", "reopen", "verdict")

    def has_permission(self, request, view) -> bool:
        if getattr(view, "action", None) in self.OBJECT_ACTIONS:
            return bool(request.user and request.user.is_authenticated)
        return super().has_permission(request, view)


class ReviewCycleViewSet(DeclaredBodyMixin, ConditionalWritesMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                         mixins.CreateModelMixin, mixins.UpdateModelMixin, viewsets.GenericViewSet):
    """Review cycles: everyone with a role reads them; reviewers and administrators open them (POST), change their
    due date (PATCH) and close them (POST .../close/)."""

    queryset = ReviewCycle.objects.select_related("created_by").order_by("-period_start", "pk")
    serializer_class = serializers.ReviewCycleSerializer
    permission_classes = [ReviewsPermission]
    permission_required = {"list": "reviews.view_reviewcycle", "retrieve": "reviews.view_reviewcycle",
                           "metadata": "reviews.view_reviewcycle", "create": "reviews.manage_reviewcycle",
                           "partial_update": "reviews.manage_reviewcycle", "close": "reviews.manage_reviewcycle"}
    http_method_names = ["get", "patch", "post", "head", "options"]
    tagged_actions = TAGGED_ACTIONS | {"close"}
    record_name = "review cycle"

    def get_serializer_class(self) -> Any:
        if self.action == "partial_update":
            return serializers.ReviewCycleDatesSerializer
        return super().get_serializer_class()

    @extend_schema(request=serializers.ReviewCycleDatesSerializer, responses=serializers.ReviewCycleSerializer,
                   description="Change a cycle's due date (extended or brought forward to a day not passed), or the "
                               "opening date of a cycle not yet open; the owners of drafts still owed are notified and "
                               "reminders follow the new due date. Unchanged dates write nothing. 400 naming the "
                               "field for a date refused, or for a closed cycle.")
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().partial_update(request, *args, **kwargs)

    def perform_update(self, serializer) -> None:
        call_service(services.review_cycle_reschedule, actor=self.request.user, cycle=serializer.instance,
                     **serializer.validated_data)
        serializer.instance = self.get_queryset().get(pk=serializer.instance.pk)

    @extend_schema(request=None, responses=serializers.ReviewCycleSerializer,
                   description="Close the cycle: its drafts can no longer be edited or submitted and are no longer "
                               "reminded. Takes no body. 400 for a cycle already closed.")
    @action(detail=True, methods=["post"])
    @reads_body(note="Close takes no body: the cycle was not closed.")
    def close(self, request: Request, pk: Any = None) -> Response:
        cycle = call_service(services.review_cycle_close, actor=request.user, cycle=self.get_object())
        return Response(serializers.ReviewCycleSerializer(
            self.get_queryset().get(pk=cycle.pk), context=self.get_serializer_context()).data)
    filterset_class = filtersets.ReviewCycleFilterSet
    search_fields = ["name"]
    ordering_fields = ["name", "period_start", "due_on"]
    ordering_ignoring_case = ["name"]

    @extend_schema(responses={201: serializers.ReviewCycleSerializer, 200: serializers.ReviewCycleSerializer},
                   description="Open a cycle: 201 Created with a new cycle; 200 OK when the cycle of that name "
                               "existed already with the same period and dates (only the reports it was missing are "
                               "added, idempotent; opens_on left out is not compared). 400 naming each field that "
                               "differs from the stored cycle (its dates are not changed), and 400 for a closed cycle.")
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        cycle, created, _ = call_service(services.review_cycle_get_or_open, actor=request.user,
                                         **serializer.validated_data)
        serializer.instance = cycle
        if not created:
            return Response(serializer.data, status=status.HTTP_200_OK)
        return Response(serializer.data, status=status.HTTP_201_CREATED, headers=self.get_success_headers(
            serializer.data))


class ValueReportViewSet(DeclaredBodyMixin, ConditionalWritesMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                         mixins.UpdateModelMixin, viewsets.GenericViewSet):
    """Value reports: read by every role; PATCH a draft (owner / delegate); submit; reopen and verdict (independent
    reviewers)."""

    queryset = ValueReport.objects.all()  # the model, for the router and the schema; get_queryset loads the figures
    serializer_class = serializers.ValueReportSerializer
    permission_classes = [ReviewsPermission]
    permission_required = {
        "list": "reviews.view_valuereport", "retrieve": "reviews.view_valuereport",
        "metadata": "reviews.view_valuereport", "partial_update": "reviews.change_valuereport",
        "update": "reviews.change_valuereport", "submit": "reviews.change_valuereport",
        "reopen": "reviews.reopen_valuereport", "verdict": "reviews.give_verdict",
    }
    http_method_names = ["get", "patch", "post", "head", "options"]
    tagged_actions = TAGGED_ACTIONS | {"submit", "reopen"}  # they answer with the report as a GET gives it
    filterset_class = filtersets.ValueReportFilterSet
    search_fields = ["initiative__name", "initiative__external_id"]
    ordering_fields = ["submitted_at", "cycle__period_start", "initiative__name", "outcome_count"]
    ordering_ignoring_case = ["initiative__name"]

    def get_queryset(self) -> QuerySet[ValueReport]:
        # Built per request: which months no cost source read (report_tco_annotations) changes with the data.
        return selectors.report_detail_loaded().order_by("-cycle__period_start", *ignoring_case("initiative__name"))

    def perform_update(self, serializer) -> None:
        data = dict(serializer.validated_data)
        rows = data.pop("kpi_actuals", [])
        actuals = {row["kpi"]: row["actual"] for row in rows if "actual" in row}
        stated = {row["kpi"]: services.StatedKpiValue(row.get("stated_value"), row.get("evidence", ""))
                  for row in rows if "stated_value" in row or "evidence" in row}
        call_service(services.value_report_save_draft, actor=self.request.user, report=serializer.instance,
                     fields=data, kpi_actuals=actuals, kpi_stated=stated,
                     api_fields=ApiErrorFields(rows={"kpi_stated": ("kpi_actuals", "kpi", "stated_value"),
                                                     "kpi_actuals": ("kpi_actuals", "kpi", "actual")},
                                               given={"kpi_actuals": rows}))
        serializer.instance = self.get_queryset().get(pk=serializer.instance.pk)

    def _answer(self, report: ValueReport, code: int = status.HTTP_200_OK) -> Response:
        """The report as stored after an action (actions with their own input serializer still answer with it)."""
        fresh = self.get_queryset().get(pk=report.pk)
        return Response(serializers.ValueReportSerializer(fresh, context=self.get_serializer_context()).data,
                        status=code)

    @extend_schema(request=None, responses=serializers.ValueReportSerializer,
                   description="Submit the draft as it is saved, answering with the report: it takes no body (save "
                               "the figures with PATCH first); a request with a body is refused (400).")
    @action(detail=True, methods=["post"])
    @reads_body(note="Submit takes no body: nothing was saved or submitted. Save the report's fields with PATCH, then "
                     "submit.")
    def submit(self, request: Request, pk: Any = None) -> Response:
        report = self.get_object()
        call_service(services.value_report_submit, actor=request.user, report=report, api_fields=REPORT_FIELDS)
        return self._answer(report)

    @extend_schema(request=serializers.ReopenSerializer, responses=serializers.ValueReportSerializer,
                   description="Reopen a submitted report for its owner, saying why; answers with the report.")
    @action(detail=True, methods=["post"], serializer_class=serializers.ReopenSerializer)
    @reads_body(serializer=True)
    def reopen(self, request: Request, pk: Any = None) -> Response:
        report = self.get_object()
        form = serializers.ReopenSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        call_service(services.value_report_reopen, actor=request.user, report=report, **form.validated_data)
        return self._answer(report)

    @extend_schema(request=serializers.VerdictSerializer, responses={201: serializers.VerdictSerializer})
    @action(detail=True, methods=["post"], serializer_class=serializers.VerdictSerializer)
    @reads_body(serializer=True)
    def verdict(self, request: Request, pk: Any = None) -> Response:
        report = self.get_object()
        form = serializers.VerdictSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        verdict = call_service(services.verdict_give, actor=request.user, report=report, **form.validated_data)
        return Response(serializers.VerdictSerializer(verdict).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    create=extend_schema(request={"multipart/form-data": serializers.ReportAttachmentWriteSerializer},
                         responses={201: serializers.ReportAttachmentSerializer}),
    destroy=extend_schema(responses={204: None}),
)
class ReportAttachmentViewSet(DeclaredBodyMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                              mixins.CreateModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet):
    """Evidence attached to value reports (?report=<id>, ?initiative=<id>): read by every role, as the reports are.
    The owner or a delegate (or an administrator) POSTs a file to a draft (multipart `report`, `file`): 201, or 400
    naming what is wrong with the file; DELETE takes one off a draft (204). A submitted report keeps its evidence."""

    queryset = ReportAttachment.objects.select_related("report", "uploaded_by").order_by("uploaded_at", "pk")
    serializer_class = serializers.ReportAttachmentSerializer
    permission_classes = [ReviewsPermission]
    permission_required = {
        "list": "reviews.view_valuereport", "retrieve": "reviews.view_valuereport",
        "metadata": "reviews.view_valuereport", "create": "reviews.add_reportattachment",
        "destroy": "reviews.delete_reportattachment",
    }
    filterset_class = filtersets.ReportAttachmentFilterSet
    ordering_fields = ["uploaded_at", "original_name", "size"]
    ordering_ignoring_case = ["original_name"]

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        body = serializers.ReportAttachmentWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        attachment = call_service(services.attachment_add, actor=request.user, report=body.validated_data["report"],
                                  file=body.validated_data["file"])
        data = self.get_serializer(attachment).data
        return Response(data, status=status.HTTP_201_CREATED, headers=self.get_success_headers(data))

    def perform_destroy(self, instance: ReportAttachment) -> None:
        call_service(services.attachment_remove, actor=self.request.user, attachment=instance)


class NotificationViewSet(DeclaredBodyMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The caller's own notifications; POST .../read/ marks one read, POST read-all/ all of them."""

    serializer_class = serializers.NotificationSerializer
    permission_classes = [ReviewsPermission]
    permission_required = "reviews.view_notification"
    filterset_class = filtersets.NotificationFilterSet
    ordering_fields = ["created_at", "read_at", "message", "url", "id"]  # what it sorted by before they were named

    def get_queryset(self):
        return selectors.notifications_of(user=self.request.user)

    @extend_schema(request=None)
    @action(detail=True, methods=["post"])
    def read(self, request: Request, pk: Any = None) -> Response:
        notification = self.get_object()
        services.notifications_mark_read(actor=request_actor(request), ids=[notification.pk])
        notification.refresh_from_db()
        return Response(self.get_serializer(notification).data)

    @extend_schema(request=None, responses=inline_serializer("MarkedRead", {"marked_read": drf_fields.IntegerField(
        help_text="How many unread notifications were marked read.")}))
    @action(detail=False, methods=["post"], url_path="read-all")
    def read_all(self, request: Request) -> Response:
        return Response({"marked_read": services.notifications_mark_read(actor=request_actor(request))})
