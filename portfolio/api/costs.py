"""Cost ingestion API: sources, allocation rules and ingestion runs ("run now" is a POST of a run).

Viewers (admin, reviewer, executive) read; administrators write. A source's credential is never in the database: the
API reads and writes only the NAME of the environment variable that holds it, and whether that variable is set.
Creating, changing, deleting or reordering rules goes through portfolio.services.allocation, which re-allocates the
source's existing records and writes the audit row.
"""

from __future__ import annotations

import os
from typing import Any

import django_filters
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Q, QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error

from ..choices import RunStatus, RunTrigger, SourceType
from ..connectors.base import Period
from ..cost_filtersets import PeriodFilter
from ..cost_selectors import currency_rates
from ..models import AllocationRule, CostSource, CurrencyRate, IngestionRun, Initiative, reporting_currency
from ..services.allocation import (
    allocation_rule_create,
    allocation_rule_delete,
    allocation_rule_update,
    allocation_rules_reorder,
)
from ..services.currency_rates import currency_rate_create, currency_rate_update
from ..services.ingestion import ingestion_run_submit
from .views import PortfolioViewSet, call_service

# Serializers ---------------------------------------------------------------------------------------------------------


class CostSourceSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:costsource-detail")
    credential_configured = serializers.SerializerMethodField()

    class Meta:
        model = CostSource
        fields = ["id", "url", "name", "type", "settings", "credential_env", "credential_configured", "schedule",
                  "enabled", "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]

    def get_credential_configured(self, obj: CostSource) -> bool:
        """Whether the named environment variable is set here; its value is never read into a response."""
        return bool(obj.credential_env) and bool(os.environ.get(obj.credential_env))

    def validate_settings(self, value: Any) -> dict[str, Any]:
        """A JSON object; secret-looking keys are refused by the model field's own validator."""
        if not isinstance(value, dict):
            raise serializers.ValidationError("Settings are a JSON object.")
        return value


class AllocationRuleSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:allocationrule-detail")
    source_name = serializers.CharField(source="source.name", read_only=True)
    initiative_external_id = serializers.CharField(source="initiative.external_id", read_only=True)

    class Meta:
        model = AllocationRule
        fields = ["id", "url", "source", "source_name", "order", "key", "match", "value", "initiative",
                  "initiative_external_id", "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        """The model's own checks (key form, a regular expression that compiles) answer 400, not 500."""
        current = {f: getattr(self.instance, f) for f in ("key", "match", "value")} if self.instance else {}
        rule = AllocationRule(**{**current, **{k: v for k, v in attrs.items() if k in ("key", "match", "value")}})
        try:
            rule.clean()
        except DjangoValidationError as exc:
            raise serializers.ValidationError(as_serializer_error(exc)) from exc
        return attrs


class AllocationRuleOrderSerializer(serializers.Serializer):
    """A source and all its rule ids in the order they should be tried."""

    source = serializers.PrimaryKeyRelatedField(queryset=CostSource.objects.all())
    rules = serializers.ListField(child=serializers.IntegerField(min_value=1), allow_empty=False)


class CurrencyRateSerializer(serializers.ModelSerializer):
    """1 unit of `currency` = `rate_to_reporting` units of the reporting currency, from `valid_from` until the
    currency's next rate (`valid_until`, exclusive; null while it is the latest)."""

    url = serializers.HyperlinkedIdentityField(view_name="api:currencyrate-detail")
    valid_until = serializers.DateField(read_only=True, allow_null=True)
    reporting_currency = serializers.SerializerMethodField()

    class Meta:
        model = CurrencyRate
        fields = ["id", "url", "currency", "valid_from", "valid_until", "rate_to_reporting", "reporting_currency",
                  "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]
        validators: list = []  # one rate per currency and day: the service says so, naming the day

    def get_reporting_currency(self, obj: CurrencyRate) -> str:
        return reporting_currency()


class IngestionRunSerializer(serializers.ModelSerializer):
    """A run as recorded. To start one, POST {"source": id, "period": "YYYY-MM"}; it is queued with trigger "api"."""

    url = serializers.HyperlinkedIdentityField(view_name="api:ingestionrun-detail")
    source_name = serializers.CharField(source="source.name", read_only=True)
    period = serializers.CharField(max_length=7, help_text="YYYY-MM")
    actor_email = serializers.EmailField(source="actor.email", read_only=True, allow_null=True)

    class Meta:
        model = IngestionRun
        fields = ["id", "url", "source", "source_name", "period", "trigger", "actor", "actor_email", "filename",
                  "status", "created_at", "started_at", "finished_at", "rows_read", "rows_written", "rows_skipped",
                  "progress", "unallocated_amount", "error"]
        read_only_fields = [f for f in fields if f not in ("source", "period")]

    def to_representation(self, instance: IngestionRun) -> dict[str, Any]:
        data = super().to_representation(instance)
        data["period"] = f"{instance.period:%Y-%m}"
        return data

    def validate_period(self, value: str) -> Period:
        try:
            return Period.parse(value)
        except ValueError as exc:
            raise serializers.ValidationError(str(exc)) from None


# Filters -------------------------------------------------------------------------------------------------------------


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


# Viewsets ------------------------------------------------------------------------------------------------------------


class CostSourceViewSet(PortfolioViewSet):
    """Cost sources: everyone who may see costs reads them; administrators create, change and delete them."""

    queryset = CostSource.objects.order_by("name")
    serializer_class = CostSourceSerializer
    filterset_class = CostSourceFilterSet
    search_fields = ["name"]
    ordering_fields = ["name", "type", "created_at"]


class AllocationRuleViewSet(PortfolioViewSet):
    """Allocation rules in order per source; every write re-allocates the source's existing records."""

    queryset = AllocationRule.objects.select_related("source", "initiative").order_by("source__name", "order", "pk")
    serializer_class = AllocationRuleSerializer
    filterset_class = AllocationRuleFilterSet
    search_fields = ["key", "value", "initiative__external_id", "initiative__name"]
    ordering_fields = ["order", "source__name", "created_at"]
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
    def reorder(self, request: Request) -> Response:
        """Put one source's rules in a new order: {"source": id, "rules": [every rule id of the source, in order]}."""
        order = AllocationRuleOrderSerializer(data=request.data)
        order.is_valid(raise_exception=True)
        rules = call_service(allocation_rules_reorder, actor=request.user, source=order.validated_data["source"],
                             rule_ids=order.validated_data["rules"])
        return Response(AllocationRuleSerializer(rules, many=True, context=self.get_serializer_context()).data)


class CurrencyRateViewSet(mixins.CreateModelMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                          mixins.UpdateModelMixin, viewsets.GenericViewSet):
    """Currency rates: viewers read, administrators add and change them (portfolio.services.currency_rates, which
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


class IngestionRunViewSet(mixins.CreateModelMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                          viewsets.GenericViewSet):
    """Runs are read-only records; a POST starts a new one ("run now", administrators only)."""

    queryset = IngestionRun.objects.select_related("source", "actor").order_by("-created_at", "-id")
    serializer_class = IngestionRunSerializer
    filterset_class = IngestionRunFilterSet
    ordering_fields = ["created_at", "period", "status", "source__name"]

    def perform_create(self, serializer) -> None:
        serializer.instance = call_service(
            ingestion_run_submit, source=serializer.validated_data["source"],
            period=serializer.validated_data["period"], trigger=RunTrigger.API, actor=self.request.user,
        )
