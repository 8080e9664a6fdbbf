"""Shapes of the signals API. They render signals and validate what a lifecycle action sends; writes go through
governance.signals.services."""

from __future__ import annotations

from rest_framework import serializers

from governance.choices import SignalSeverity, SignalStatus, SignalType
from governance.models import Signal, SignalRun
from tollgate.api_fields import ModelSerializer, Serializer
from tollgate.ui.tables import person_name


def _values(choices: type) -> str:
    return ", ".join(choices.values)  # type: ignore[attr-defined]


class SignalSerializer(ModelSerializer):
    # Plain text in the schema (its values in the help): several resources share the names type, status, severity.
    type = serializers.CharField(read_only=True, help_text=_values(SignalType))
    type_label = serializers.CharField(source="get_type_display", read_only=True)
    initiatives = serializers.SerializerMethodField(help_text="External ids of the initiatives it is about.")
    severity = serializers.CharField(read_only=True, help_text=_values(SignalSeverity))
    status = serializers.CharField(read_only=True, help_text=_values(SignalStatus))
    acknowledged_by = serializers.SerializerMethodField()
    resolved_by = serializers.SerializerMethodField()
    dismissed_by = serializers.SerializerMethodField()
    page = serializers.CharField(source="get_absolute_url", read_only=True)

    class Meta:
        model = Signal
        fields = ["id", "type", "type_label", "subject", "initiatives", "period", "severity", "monthly_saving",
                  "metric", "evidence", "status", "acknowledged_by", "acknowledged_at", "resolved_by", "resolved_at",
                  "resolution", "dismissed_by", "dismissed_at", "dismissal_reason", "first_seen_at",
                  "evidence_changed_at", "page"]
        read_only_fields = fields

    def get_initiatives(self, signal: Signal) -> list[str]:
        return [i.external_id for i in signal.initiatives.all()]

    def get_acknowledged_by(self, signal: Signal) -> str | None:
        return person_name(signal.acknowledged_by) or None

    def get_resolved_by(self, signal: Signal) -> str | None:
        return person_name(signal.resolved_by) or None

    def get_dismissed_by(self, signal: Signal) -> str | None:
        return person_name(signal.dismissed_by) or None


class SignalDismissSerializer(Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=4000,
                                   help_text="Required: why the signal is not acted on.")


class SignalAcknowledgeSerializer(Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=4000,
                                 help_text="What is being done about it (optional).")


class SignalResolveSerializer(Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=4000,
                                 help_text="How it was resolved (optional).")


class SignalRunSerializer(ModelSerializer):
    status = serializers.CharField(read_only=True, help_text="pending, running, succeeded or failed")

    class Meta:
        model = SignalRun
        fields = ["id", "status", "trigger", "created_at", "started_at", "finished_at", "initiatives", "signals_live",
                  "signals_raised", "signals_updated", "signals_resolved", "error"]
        read_only_fields = fields
