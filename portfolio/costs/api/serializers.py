"""Serializers of the cost API; a source's credential is only ever the NAME of its environment variable."""

from __future__ import annotations

import os
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers
from rest_framework.serializers import as_serializer_error

from portfolio.choices import RunStatus
from portfolio.costs.connectors.base import Period
from portfolio.costs.models import server_variable
from portfolio.costs.services.runs import period_check
from portfolio.models import AllocationRule, CostSource, CurrencyRate, IngestionRun, reporting_currency
from tollgate.api_fields import IdField, ModelSerializer, Serializer


class CostSourceSerializer(ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:costsource-detail")
    credential_configured = serializers.SerializerMethodField()

    class Meta:
        model = CostSource
        fields = ["id", "url", "name", "type", "settings", "credential_env", "credential_configured", "schedule",
                  "enabled", "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]

    def get_credential_configured(self, obj: CostSource) -> bool:
        """Whether the named environment variable is set here; its value is never read into a response. A server
        variable is never a credential (a source saved before that rule): no probing which ones are set."""
        return (bool(obj.credential_env) and not server_variable(obj.credential_env)
                and bool(os.environ.get(obj.credential_env)))

    def validate_settings(self, value: Any) -> dict[str, Any]:
        """A JSON object; secret-looking keys are refused by the model field's own validator."""
        if not isinstance(value, dict):
            raise serializers.ValidationError("Settings are a JSON object.")
        return value


class AllocationRuleSerializer(ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:allocationrule-detail")
    source_name = serializers.CharField(source="source.name", read_only=True)
    initiative_external_id = serializers.CharField(source="initiative.external_id", read_only=True)

    class Meta:
        model = AllocationRule
        fields = ["id", "url", "source", "source_name", "order", "key", "match", "value", "initiative",
                  "initiative_external_id", "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]
        # One rule per order of a source: the service says so naming the rule that holds it (and the order stays
        # optional on create, after the source's last rule).
        validators: list = []

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        """The model's own checks (key form, a regular expression that compiles) answer 400, not 500."""
        current = {f: getattr(self.instance, f) for f in ("key", "match", "value")} if self.instance else {}
        rule = AllocationRule(**{**current, **{k: v for k, v in attrs.items() if k in ("key", "match", "value")}})
        try:
            rule.clean()
        except DjangoValidationError as exc:
            raise serializers.ValidationError(as_serializer_error(exc)) from exc
        return attrs


class AllocationRuleOrderSerializer(Serializer):
    """A source and all its rule ids in the order they should be tried."""

    # The serializer metaclass moves declared fields off the class; the stubs still see Field.source.
    source = IdField(queryset=CostSource.objects.all())  # type: ignore[assignment]
    rules = serializers.ListField(child=serializers.IntegerField(min_value=1), allow_empty=False)


class CurrencyRateSerializer(ModelSerializer):
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


def run_period(value: str) -> Period:
    """A run's month, YYYY-MM from 1990-01 to the current month, or a 400 naming it."""
    try:
        period = Period.parse(value)
    except ValueError as exc:
        raise serializers.ValidationError(str(exc)) from None
    try:
        period_check(period)
    except DjangoValidationError as exc:
        raise serializers.ValidationError(exc.message_dict["period"]) from None
    return period


class IngestionRunStartSerializer(Serializer):
    """What starts a run (JSON or a form): the source, the month and the starter's "replace with nothing"."""

    source = IdField(queryset=CostSource.objects.all())  # type: ignore[assignment]  # as AllocationRuleOrderSerializer
    period = serializers.CharField(max_length=7, help_text="YYYY-MM, from 1990-01 to the current month.")
    replace_with_nothing = serializers.BooleanField(
        default=False, help_text="Let a read that finds no records empty a month holding records of the source.")

    def validate_period(self, value: str) -> Period:
        return run_period(value)


class IngestionRunUploadSerializer(IngestionRunStartSerializer):
    """Starting a run with the export to read (multipart/form-data), as "Run now" on the source's page."""

    file = serializers.FileField(
        required=False, allow_empty_file=True,  # an empty file is refused with its name (run_upload_error)
        help_text="The export to read (CSV, gzip CSV or Parquet for FOCUS; CSV or JSON for the Microsoft 365 report), "
                  "at most INGESTION_MAX_FILE_MB (500 MB by default). Required for a file source without a configured "
                  "path; refused for a source that reads its provider's API.")


# What a run measures: null for a failed run, which measured nothing.
RUN_FIGURES = ("rows_read", "rows_written", "rows_skipped", "skipped_by_reason", "unallocated_amount")


class IngestionRunSerializer(ModelSerializer):
    """A run as recorded. To start one, POST {"source": id, "period": "YYYY-MM"} (from 1990-01 to the current month);
    it is queued with trigger "api". For a file source, send the export as multipart/form-data `file` (required when
    the source has no configured path). A read that finds no records fails when the month holds records of the source,
    and they are kept, unless the POST says "replace_with_nothing": true. `warning` says when a run read no records."""

    url = serializers.HyperlinkedIdentityField(view_name="api:ingestionrun-detail")
    source_name = serializers.CharField(source="source.name", read_only=True)
    period = serializers.CharField(max_length=7, read_only=True, help_text="YYYY-MM")
    actor_email = serializers.EmailField(source="actor.email", read_only=True, allow_null=True)
    unallocated_now = serializers.DecimalField(
        max_digits=20, decimal_places=2, read_only=True, allow_null=True,
        help_text="The unallocated spend of the run's source and month today, after the allocation rules added or "
                  "changed since the run re-allocated its records (its share of cost_report's unallocated); null for "
                  "a run that did not succeed.")

    class Meta:
        model = IngestionRun
        fields = ["id", "url", "source", "source_name", "period", "trigger", "actor", "actor_email", "filename",
                  "status", "created_at", "started_at", "finished_at", "rows_read", "rows_written", "rows_skipped",
                  "skipped_by_reason", "progress", "unallocated_amount", "unallocated_now", "error", "warning",
                  "replace_with_nothing"]
        read_only_fields = fields  # a run is started with IngestionRunStartSerializer and never edited
        extra_kwargs = {
            **{name: {"allow_null": True} for name in RUN_FIGURES},
            "unallocated_amount": {"allow_null": True, "help_text": (
                "The spend no allocation rule mapped when the run read the file (at reading): rules added or changed "
                "since re-allocate the month, see unallocated_now. Null for a failed run, as are the row counts.")},
        }

    def to_representation(self, instance: IngestionRun) -> dict[str, Any]:
        data = super().to_representation(instance)
        data["period"] = f"{instance.period:%Y-%m}"
        if instance.status == RunStatus.FAILED:  # it measured nothing: its zeros would read "read nothing"
            data.update(dict.fromkeys(RUN_FIGURES))
        return data
