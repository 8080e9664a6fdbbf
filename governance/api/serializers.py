"""Shapes of the governance API. They validate input and render output; writes go through governance.services."""

from __future__ import annotations

from typing import Any

from auditlog.models import LogEntry
from rest_framework import serializers

from governance.calculations import plain_number
from governance.lifecycle import TRANSITIONS
from governance.models import RubricCriterion
from governance.selectors import IntakePanel
from governance.services import COMMENT_MAX, REASON_MAX
from governance.tables import AUDIT_ADDRESS_KEYS, audit_changes_text, audit_event_label, audit_reason
from tollgate.api_fields import ChoiceField, ModelSerializer, Serializer
from tollgate.roles import may
from tollgate.ui.tables import person_name


class TransitionRequestSerializer(Serializer):
    transition = ChoiceField(choices=list(TRANSITIONS))
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=REASON_MAX)


class TransitionResultSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    external_id = serializers.CharField()
    stage = serializers.CharField()
    transition = serializers.CharField()


class ScoreItemSerializer(Serializer):
    criterion = serializers.IntegerField()
    score = serializers.IntegerField(min_value=1, max_value=5)
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=COMMENT_MAX)


class ScoresRequestSerializer(Serializer):
    scores = ScoreItemSerializer(many=True, allow_empty=False)


class RubricCriterionSerializer(ModelSerializer):
    class Meta:
        model = RubricCriterion
        fields = ["id", "name", "description", "weight", "active", "order"]


class IntakeScoreSerializer(serializers.Serializer):
    criterion = serializers.IntegerField(help_text="the rubric criterion's id")
    score = serializers.IntegerField(help_text="1 to 5")
    comment = serializers.CharField()


class IntakeReviewerSerializer(serializers.Serializer):
    """One reviewer's scoring of the current round."""

    reviewer = serializers.IntegerField(help_text="the reviewer's user id")
    reviewer_name = serializers.CharField()
    complete = serializers.BooleanField(help_text="they scored every active criterion")
    counts = serializers.BooleanField(help_text=(
        "counted in the quorum and the weighted score; false once the reviewer became the owner or a delegate"))
    not_counted = serializers.CharField(help_text="why it does not count; empty when it does")
    weighted_score = serializers.DecimalField(max_digits=4, decimal_places=2, allow_null=True, help_text=(
        "their weighted score (a decimal string); null until they scored every active criterion"))
    scores = IntakeScoreSerializer(many=True)


class IntakePanelSerializer(serializers.Serializer):
    """The current intake round of an initiative, as GET and POST /api/governance/initiatives/<id>/scores/ answer it
    (intake_panel_data builds it; this describes it for the schema)."""

    round = serializers.IntegerField(allow_null=True, help_text="the review round; null before it was submitted")
    submitted_at = serializers.DateTimeField(allow_null=True, help_text=(
        "when the round was submitted for review; null before it was"))
    criteria = RubricCriterionSerializer(many=True, help_text="the rubric's active criteria, in order")
    reviewers = IntakeReviewerSerializer(many=True)
    weighted_score = serializers.DecimalField(max_digits=4, decimal_places=2, allow_null=True, help_text=(
        "the panel's weighted score over the counted complete scorings (a decimal string); null before any"))
    quorum = serializers.IntegerField(help_text="complete scorings needed before a decision")
    complete_reviewers = serializers.IntegerField(help_text="counted complete scorings so far")
    quorum_met = serializers.BooleanField()
    approval_threshold = serializers.CharField(help_text="the weighted score an approval needs, as a decimal string")


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
                # False for a scoring whose reviewer has since become the owner or a delegate (`not_counted` says
                # which): shown, but left out of the quorum and the weighted score.
                "counts": r.counts,
                "not_counted": r.not_counted,
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


class PolicyUpdateSerializer(Serializer):
    """A new value; the rest of the policy as a GET shows it may be sent back unchanged."""

    read_as = PolicySerializer
    read_only_hints = {"default": "it is the value Tollgate ships with; set `value` instead",
                       "minimum": "the allowed range is Tollgate's", "maximum": "the allowed range is Tollgate's"}
    value = serializers.CharField(max_length=32)


class AuditEntrySerializer(ModelSerializer):
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
        return audit_changes_text(entry, self.context.get("audit_names"))

    def get_reason(self, entry: LogEntry) -> str:
        return audit_reason(entry)

    def to_representation(self, entry: LogEntry) -> dict[str, Any]:
        """additional_data without a sign-in address unless the reader is an administrator (personal data)."""
        data = super().to_representation(entry)
        request = self.context.get("request")
        extra = data.get("additional_data")
        if isinstance(extra, dict) and not (request and may(request.user, "governance.view_audit_addresses")):
            data["additional_data"] = {k: v for k, v in extra.items() if k not in AUDIT_ADDRESS_KEYS}
        return data
