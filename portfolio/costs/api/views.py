"""Viewsets of the cost API: viewers read, administrators write, always through the cost services."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from portfolio.api.views import PortfolioViewSet
from portfolio.choices import RunTrigger
from portfolio.costs.api.serializers import (
    AllocationRuleOrderSerializer,
    AllocationRuleSerializer,
    CostSourceSerializer,
    CurrencyRateSerializer,
    IngestionRunSerializer,
    IngestionRunStartSerializer,
    IngestionRunUploadSerializer,
)
from portfolio.costs.filtersets import (
    AllocationRuleFilterSet,
    CostSourceFilterSet,
    CurrencyRateFilterSet,
    IngestionRunFilterSet,
)
from portfolio.costs.selectors import currency_rates, ingestion_runs
from portfolio.costs.services.allocation import (
    allocation_rule_create,
    allocation_rule_delete,
    allocation_rule_update,
    allocation_rules_reorder,
)
from portfolio.costs.services.currency_rates import currency_rate_create, currency_rate_update
from portfolio.costs.services.runs import ingestion_run_submit
from portfolio.costs.services.sources import (
    cost_source_create,
    cost_source_delete,
    cost_source_delete_summary,
    cost_source_update,
)
from portfolio.costs.uploads import run_upload_error, stream_uploads_to_disk, upload_too_large_message
from portfolio.models import AllocationRule, CostSource, CurrencyRate
from tollgate.api_body import DeclaredBodyMixin, reads_body
from tollgate.ui.errors import call_service
from tollgate.ui.tables import ignoring_case


class CostSourceViewSet(PortfolioViewSet):
    """Cost sources: everyone who may see costs reads them; administrators create, change and delete them."""

    queryset = CostSource.objects.order_by(*ignoring_case("name"))
    serializer_class = CostSourceSerializer
    filterset_class = CostSourceFilterSet
    search_fields = ["name"]
    ordering_fields = ["name", "type", "created_at"]
    ordering_ignoring_case = ["name"]

    def perform_create(self, serializer) -> None:
        serializer.instance = call_service(cost_source_create, actor=self.request.user, **serializer.validated_data)

    def perform_update(self, serializer) -> None:
        serializer.instance = call_service(cost_source_update, actor=self.request.user, source=serializer.instance,
                                           **serializer.validated_data)

    @extend_schema(
        parameters=[OpenApiParameter(
            "confirm", OpenApiTypes.STR, OpenApiParameter.QUERY, required=True,
            description="The source's name, confirming that its runs and ingested cost go with it.")],
        responses={204: None, 400: OpenApiResponse(OpenApiTypes.OBJECT, description=(
            "`confirm` is missing or is not the source's name: the answer says what the delete would remove "
            "(runs, cost lines, months, amount) and nothing is deleted."))},
    )
    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Delete a source with everything it ingested, once `?confirm=<its name>` confirms it."""
        return super().destroy(request, *args, **kwargs)

    def perform_destroy(self, instance: CostSource) -> None:
        if self.request.query_params.get("confirm") != instance.name:
            raise serializers.ValidationError({"confirm": [
                f"{cost_source_delete_summary(instance)} To confirm, repeat the request with "
                f"?confirm={instance.name}."]})
        call_service(cost_source_delete, actor=self.request.user, source=instance)


class AllocationRuleViewSet(PortfolioViewSet):
    """Allocation rules in order per source; every write re-allocates the source's existing records."""

    queryset = AllocationRule.objects.select_related("source", "initiative").order_by(
        *ignoring_case("source__name", then=("order",)))
    serializer_class = AllocationRuleSerializer
    filterset_class = AllocationRuleFilterSet
    search_fields = ["key", "value", "initiative__external_id", "initiative__name"]
    ordering_fields = ["order", "source__name", "created_at"]
    ordering_ignoring_case = ["source__name"]
    action_permissions = {"reorder": "change"}

    def perform_create(self, serializer) -> None:
        change = call_service(allocation_rule_create, actor=self.request.user, **serializer.validated_data)
        serializer.instance = change.rule

    def perform_update(self, serializer) -> None:
        values = dict(serializer.validated_data)
        source = values.pop("source", serializer.instance.source)
        if source != serializer.instance.source:
            raise serializers.ValidationError({"source": "A rule stays with its source; create a rule for the other."})
        change = call_service(allocation_rule_update, actor=self.request.user, rule=serializer.instance, **values)
        serializer.instance = change.rule

    def perform_destroy(self, instance: AllocationRule) -> None:
        call_service(allocation_rule_delete, actor=self.request.user, rule=instance)

    @extend_schema(request=AllocationRuleOrderSerializer, responses=AllocationRuleSerializer(many=True))
    @action(detail=False, methods=["post"], url_path="reorder")
    @reads_body(serializer=True)
    def reorder(self, request: Request) -> Response:
        """Put one source's rules in a new order: {"source": id, "rules": [every rule id of the source, in order]}."""
        order = AllocationRuleOrderSerializer(data=request.data)
        order.is_valid(raise_exception=True)
        rules = call_service(allocation_rules_reorder, actor=request.user, source=order.validated_data["source"],
                             rule_ids=order.validated_data["rules"])
        return Response(AllocationRuleSerializer(rules, many=True, context=self.get_serializer_context()).data)


class CurrencyRateViewSet(DeclaredBodyMixin, mixins.CreateModelMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                          mixins.UpdateModelMixin, viewsets.GenericViewSet):
    """Currency rates: viewers read, administrators add and change them (portfolio.costs.services.currency_rates, which
    converts the records of the rate's window again). Rates are not deleted: add a later one to replace a rate."""

    queryset = CurrencyRate.objects.all()
    serializer_class = CurrencyRateSerializer
    filterset_class = CurrencyRateFilterSet
    ordering_fields = ["currency", "valid_from", "rate_to_reporting"]

    def get_queryset(self) -> QuerySet[CurrencyRate]:
        return currency_rates()

    def perform_create(self, serializer) -> None:
        change = call_service(currency_rate_create, actor=self.request.user, **serializer.validated_data)
        serializer.instance = currency_rates().get(pk=change.rate.pk)

    def perform_update(self, serializer) -> None:
        change = call_service(currency_rate_update, actor=self.request.user, rate=serializer.instance,
                              **serializer.validated_data)
        serializer.instance = currency_rates().get(pk=change.rate.pk)


@extend_schema_view(create=extend_schema(
    request={"multipart/form-data": IngestionRunUploadSerializer, "application/json": IngestionRunStartSerializer},
    responses={201: IngestionRunSerializer},
))
class IngestionRunViewSet(DeclaredBodyMixin, mixins.CreateModelMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                          viewsets.GenericViewSet):
    """Runs are read-only records; a POST starts a new one ("run now", administrators only): JSON for a source with
    a configured path or an API, multipart/form-data with the export as `file` otherwise. 201 with the queued run, or
    400 naming what is wrong (the period; a missing, empty or oversized file; a file whose header the source cannot
    read, e.g. the mandatory FOCUS columns it lacks, by name) and nothing stored. Only the file's header is checked
    here (a CSV's first row, a Parquet file's schema); a bad row fails the run, naming file, row and column."""

    queryset = ingestion_runs().order_by("-created_at", "-id")
    serializer_class = IngestionRunSerializer
    filterset_class = IngestionRunFilterSet
    ordering_fields = ["created_at", "period", "status", "source__name"]
    ordering_ignoring_case = ["source__name"]

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        # Before anything reads the body (the session's CSRF check does): an export streams to disk, within the limit.
        if self.action == "create":
            self.uploads = stream_uploads_to_disk(request._request)
        super().initial(request, *args, **kwargs)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Start a run, as "Run now" on the source's page does (portfolio.costs.views.CostSourceRunView: the same
        checks, then ingestion_run_submit). 201 with the queued run. 400 with nothing stored (no run, no file) when
        the period is wrong, or under `file` when the export is missing, empty, over INGESTION_MAX_FILE_MB, or has a
        header the source does not read: the message is the one the run would fail with, naming the file as uploaded
        and the columns missing, e.g. "june.csv row 1: missing mandatory FOCUS column(s): BilledCost, ...". Only the
        header is read here (a CSV's first row, a Parquet file's schema); a bad row fails the run, naming file, row
        and column."""
        body = IngestionRunUploadSerializer(data=request.data)
        valid = body.is_valid()
        if self.uploads.refused:  # the file never arrived: what is wrong is its size
            raise serializers.ValidationError({**(body.errors if not valid else {}), "file": [
                upload_too_large_message(name, None, self.uploads.limit) for name in self.uploads.refused]})
        if not valid:
            raise serializers.ValidationError(body.errors)
        problem = run_upload_error(body.validated_data["source"], body.validated_data.get("file"))
        if problem:
            raise serializers.ValidationError({"file": [problem]})
        data = body.validated_data
        upload = data.get("file")
        run = call_service(
            ingestion_run_submit, source=data["source"], period=data["period"], trigger=RunTrigger.API,
            actor=request.user, filename=upload.name if upload else "", content=upload,
            replace_with_nothing=data["replace_with_nothing"],
        )
        response = self.get_serializer(run).data
        return Response(response, status=status.HTTP_201_CREATED, headers=self.get_success_headers(response))
