"""Shapes of the governance API. They validate input and render output; writes go through governance.services."""

from __future__ import annotations

from typing import Any

from auditlog.models import LogEntry
from rest_framework import serializers

from governance.calculations import plain_number
from governance.lifecycle import TRANSITIONS
from governance.models import RubricCriterion, SprawlCluster, SprawlRun, UseCase
from governance.selectors import IntakePanel
from governance.tables import audit_changes_text, audit_event_label, audit_reason
from tollgate.ui.tables import person_name


class TransitionRequestSerializer(serializers.Serializer):
    transition = serializers.ChoiceField(choices=list(TRANSITIONS))
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=4000)


class TransitionResultSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    external_id = serializers.CharField()
    stage = serializers.CharField()
    transition = serializers.CharField()


class ScoreItemSerializer(serializers.Serializer):
    criterion = serializers.IntegerField()
    score = serializers.IntegerField(min_value=1, max_value=5)
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=4000)


class ScoresRequestSerializer(serializers.Serializer):
    scores = ScoreItemSerializer(many=True, allow_empty=False)


class RubricCriterionSerializer(serializers.ModelSerializer):
    class Meta:
        model = RubricCriterion
        fields = ["id", "name", "description", "weight", "active", "order"]


def intake_panel_data(panel: IntakePanel) -> dict[str, Any]:
    """The current round as JSON: criteria, each reviewer's scores and weighted score, the panel's score, quorum."""
    return {
        "round": panel.submission.round if panel.submission else None,
        "submitted_at": panel.submission.submitted_at if panel.submission else None,
        "criteria": RubricCriterionSerializer(panel.criteria, many=True).data,
        "reviewers": [
            {
                "reviewer": r.reviewer.pk,
                "reviewer_name": person_name(r.reviewer),
                "complete": r.complete,
                "weighted_score": f"{r.weighted_score:.2f}" if r.weighted_score is not None else None,
                "scores": [{"criterion": s.criterion_id, "score": s.score, "comment": s.comment}
                           for s in r.scores.values()],
            }
            for r in panel.reviewers
        ],
        "weighted_score": f"{panel.weighted_score:.2f}" if panel.weighted_score is not None else None,
        "quorum": panel.quorum,
        "complete_reviewers": panel.complete_count,
        "quorum_met": panel.quorum_met,
        "approval_threshold": plain_number(panel.threshold),
    }


class PolicySerializer(serializers.Serializer):
    """A policy with its value in force, default and allowed range (values as decimal strings)."""

    key = serializers.CharField(read_only=True)
    # The serializer metaclass moves declared fields off the class; the stubs still see Field.label.
    label = serializers.CharField(source="definition.label", read_only=True)  # type: ignore[assignment]
    kind = serializers.CharField(source="definition.kind", read_only=True)
    value = serializers.SerializerMethodField()
    # Not get_default: that would override Field.get_default, which DRF calls on a nested serializer.
    default = serializers.SerializerMethodField(method_name="get_default_value")
    minimum = serializers.SerializerMethodField()
    maximum = serializers.SerializerMethodField()
    unit = serializers.CharField(source="definition.unit", read_only=True)
    help = serializers.CharField(source="definition.help", read_only=True)
    is_default = serializers.BooleanField(read_only=True)
    updated_by = serializers.SerializerMethodField()
    updated_at = serializers.DateTimeField(read_only=True, allow_null=True)

    def get_value(self, row) -> str:
        return plain_number(row.value)

    def get_default_value(self, row) -> str:
        return plain_number(row.default)

    def get_minimum(self, row) -> str:
        return plain_number(row.definition.minimum)

    def get_maximum(self, row) -> str:
        return plain_number(row.definition.maximum)

    def get_updated_by(self, row) -> str | None:
        return getattr(row.updated_by, "email", None)


class PolicyUpdateSerializer(serializers.Serializer):
    value = serializers.CharField(max_length=32)


class AuditEntrySerializer(serializers.ModelSerializer):
    actor_name = serializers.SerializerMethodField()
    object_type = serializers.SerializerMethodField()
    event = serializers.SerializerMethodField()
    summary = serializers.SerializerMethodField()
    reason = serializers.SerializerMethodField()

    class Meta:
        model = LogEntry
        fields = ["id", "timestamp", "actor", "actor_name", "actor_email", "object_type", "object_id", "object_pk",
                  "object_repr", "action", "event", "changes", "summary", "reason", "additional_data"]

    def get_actor_name(self, entry: LogEntry) -> str:
        return person_name(entry.actor)

    def get_object_type(self, entry: LogEntry) -> str:
        return f"{entry.content_type.app_label}.{entry.content_type.model}"

    def get_event(self, entry: LogEntry) -> str:
        return audit_event_label(entry)

    def get_summary(self, entry: LogEntry) -> str:
        return audit_changes_text(entry)

    def get_reason(self, entry: LogEntry) -> str:
        return audit_reason(entry)


# Sprawl detection ----------------------------------------------------------------------------------------------------

class UseCaseSerializer(serializers.ModelSerializer):
    """A use case of the catalogue; `catalogue_version` is blank for those added by an administrator."""

    initiative_count = serializers.IntegerField(read_only=True, required=False)
    monthly_spend = serializers.DecimalField(max_digits=16, decimal_places=2, read_only=True, required=False)

    class Meta:
        model = UseCase
        fields = ["code", "name", "job", "functions", "inputs", "outputs", "synonyms", "vendor_products", "not_this",
                  "catalogue_version", "is_active", "initiative_count", "monthly_spend", "created_at", "updated_at"]
        read_only_fields = ["catalogue_version", "created_at", "updated_at"]


class UseCaseWriteSerializer(serializers.Serializer):
    """What an administrator sends to add (code, name, job required) or edit a use case."""

    code = serializers.SlugField(max_length=80, required=False)
    name = serializers.CharField(max_length=200, required=False)
    job = serializers.CharField(required=False)
    functions = serializers.ListField(child=serializers.CharField(max_length=400), required=False, max_length=100)
    inputs = serializers.ListField(child=serializers.CharField(max_length=400), required=False, max_length=100)
    outputs = serializers.ListField(child=serializers.CharField(max_length=400), required=False, max_length=100)
    synonyms = serializers.ListField(child=serializers.CharField(max_length=400), required=False, max_length=100)
    vendor_products = serializers.ListField(child=serializers.CharField(max_length=400), required=False,
                                            max_length=100)
    not_this = serializers.ListField(child=serializers.CharField(max_length=400), required=False, max_length=100)
    is_active = serializers.BooleanField(required=False)


class SprawlMemberSerializer(serializers.Serializer):
    initiative = serializers.IntegerField(source="initiative_id")
    external_id = serializers.CharField(source="initiative.external_id")
    name = serializers.CharField(source="initiative.name")
    department = serializers.CharField(source="initiative.department.name")
    removed = serializers.BooleanField()
    removed_reason = serializers.CharField()


class SprawlClusterSerializer(serializers.ModelSerializer):
    """A cluster with its active members (`members`) and the saving with its stated basis."""

    use_case: serializers.SlugRelatedField[UseCase] = serializers.SlugRelatedField(slug_field="code", read_only=True)
    members = SprawlMemberSerializer(source="active_members", many=True, read_only=True)
    decided_by = serializers.SerializerMethodField()

    class Meta:
        model = SprawlCluster
        fields = ["id", "title", "status", "score", "use_case", "members", "monthly_spend", "estimated_saving",
                  "saving_basis", "decision_reason", "decided_by", "decided_at", "first_seen_at", "last_seen_at"]

    def get_decided_by(self, cluster: SprawlCluster) -> str | None:
        return person_name(cluster.decided_by) or None


class SprawlDecisionSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=4000)


class SprawlMemberRemoveSerializer(serializers.Serializer):
    initiative = serializers.IntegerField()
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=4000)


class SprawlRunSerializer(serializers.ModelSerializer):
    # Plain text in the schema: the run-status enum is already named by the import and ingestion runs.
    status = serializers.CharField(read_only=True, help_text="pending, running, succeeded or failed")

    class Meta:
        model = SprawlRun
        fields = ["id", "status", "trigger", "created_at", "started_at", "finished_at", "initiatives",
                  "clusters_found", "clusters_created", "clusters_updated", "clusters_closed", "error"]
        read_only_fields = fields


class PossibleDuplicateSerializer(serializers.Serializer):
    initiative = serializers.IntegerField(source="initiative.pk")
    external_id = serializers.CharField(source="initiative.external_id")
    name = serializers.CharField(source="initiative.name")
    department = serializers.CharField(source="initiative.department.name")
    score = serializers.FloatField()
    reasons = serializers.ListField(child=serializers.CharField())


class InitiativeUseCaseSerializer(serializers.Serializer):
    use_case = serializers.CharField(source="use_case.code")
    name = serializers.CharField(source="use_case.name")
    confidence = serializers.DecimalField(max_digits=4, decimal_places=3)
    origin = serializers.CharField()


class InitiativeUseCasesWriteSerializer(serializers.Serializer):
    use_cases = serializers.ListField(child=serializers.CharField(max_length=80), allow_empty=True, max_length=5)
