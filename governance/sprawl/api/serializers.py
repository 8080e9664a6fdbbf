"""Shapes of the sprawl API. They validate input and render output; writes go through governance.sprawl.services."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from governance.choices import DuplicateVerdict
from governance.models import (
    DuplicatePairDecision,
    SprawlCluster,
    SprawlClusterMember,
    SprawlLabelCheck,
    SprawlRun,
    UseCase,
)
from governance.sprawl.selectors import right_elsewhere
from governance.sprawl.services.label_checks import label_check_steps
from governance.sprawl.services.recompute import recompute_steps
from tollgate import jobs
from tollgate.api_fields import ChoiceField, ModelSerializer, Serializer
from tollgate.ui.tables import person_name


class UseCaseSerializer(ModelSerializer):
    """A use case of the catalogue; `catalogue_version` is blank for those added by an administrator."""

    initiative_count = serializers.IntegerField(read_only=True, required=False)
    monthly_spend = serializers.DecimalField(max_digits=None, decimal_places=2, read_only=True, required=False)

    class Meta:
        model = UseCase
        fields = ["code", "name", "job", "functions", "inputs", "outputs", "synonyms", "vendor_products",
                  "catalogue_version", "is_active", "initiative_count", "monthly_spend", "created_at", "updated_at"]
        read_only_fields = ["catalogue_version", "created_at", "updated_at"]


# Fields a use case no longer has, with why: a client still sending one is told, not silently ignored.
USE_CASE_REMOVED_FIELDS = {
    "not_this": "Removed in catalogue 2026.12: the scorer never used it. Leave the field out.",
}


class UseCaseWriteSerializer(Serializer):
    """What an administrator sends to add (code, name, job required) or edit a use case; a field it does not have is
    refused by name (tollgate.api_fields), a removed one saying so, and the rest of the use case as a GET shows it may
    be sent back unchanged."""

    read_as = UseCaseSerializer
    removed_fields = USE_CASE_REMOVED_FIELDS
    read_only_hints = {"code": "a use case keeps its code"}

    code = serializers.SlugField(max_length=80, required=False)
    name = serializers.CharField(max_length=200, required=False)
    job = serializers.CharField(required=False)
    functions = serializers.ListField(child=serializers.CharField(max_length=400), required=False, max_length=100)
    inputs = serializers.ListField(child=serializers.CharField(max_length=400), required=False, max_length=100)
    outputs = serializers.ListField(child=serializers.CharField(max_length=400), required=False, max_length=100)
    synonyms = serializers.ListField(child=serializers.CharField(max_length=400), required=False, max_length=100)
    vendor_products = serializers.ListField(child=serializers.CharField(max_length=400), required=False,
                                            max_length=100)
    is_active = serializers.BooleanField(required=False)


class SprawlMemberSerializer(serializers.Serializer):
    initiative = serializers.IntegerField(source="initiative_id")
    external_id = serializers.CharField(source="initiative.external_id")
    name = serializers.CharField(source="initiative.name")
    department = serializers.CharField(source="initiative.department.name")
    removed = serializers.BooleanField()
    removed_reason = serializers.CharField()
    joined_at = serializers.DateTimeField(
        source="created_at", help_text="When it joined the cluster: after the cluster's decided_at, a recomputation "
        "placed it with members a reviewer had already confirmed.")


class SprawlRemovedMemberSerializer(SprawlMemberSerializer):
    """A member a reviewer took out of the cluster: who, when and why (the cluster's page shows the same)."""

    removed_by = serializers.SerializerMethodField()
    removed_at = serializers.DateTimeField()

    def get_removed_by(self, member: SprawlClusterMember) -> str | None:
        return person_name(member.removed_by) or None


class SprawlClusterSerializer(ModelSerializer):
    """A cluster with its active members (`members`), the members reviewers took out (`removed_members`: the API
    listed none, though the page shows who removed them and why), and the saving with its stated basis."""

    # A cluster whose members share no one use case strongly enough has none.
    use_case: serializers.SlugRelatedField[UseCase] = serializers.SlugRelatedField(slug_field="code", read_only=True,
                                                                                    allow_null=True)
    members = SprawlMemberSerializer(source="active_members", many=True, read_only=True)
    removed_members = SprawlRemovedMemberSerializer(many=True, read_only=True)
    decided_by = serializers.SerializerMethodField()
    evidence = serializers.ListField(child=serializers.CharField(), read_only=True,
                                     help_text="Why the members look like one job, in words.")
    right_elsewhere = serializers.SerializerMethodField(help_text=(
        "The share of pairs right among clusters of this score on the labelled inventories of other companies that "
        "nobody tuned on (README, 'How often a cluster of a given score was right'); null for an encoder whose "
        "clusters were not measured."))

    class Meta:
        model = SprawlCluster
        fields = ["id", "title", "status", "confidence", "score", "right_elsewhere", "use_case", "evidence", "members",
                  "removed_members", "monthly_spend", "estimated_saving", "saving_basis", "decision_reason",
                  "decided_by", "decided_at", "first_seen_at", "last_seen_at"]

    def get_decided_by(self, cluster: SprawlCluster) -> str | None:
        return person_name(cluster.decided_by) or None

    def get_right_elsewhere(self, cluster: SprawlCluster) -> float | None:
        return right_elsewhere(cluster.score)


class TrackRecordRowSerializer(serializers.Serializer):
    """The decided clusters of one confidence and how many of their proposed pairs reviewers found right."""

    confidence = serializers.CharField()
    decided = serializers.IntegerField()
    confirmed_whole = serializers.IntegerField(help_text="Confirmed with every proposed member.")
    confirmed_trimmed = serializers.IntegerField(help_text="Confirmed after removing members.")
    dismissed = serializers.IntegerField()
    pairs = serializers.IntegerField(help_text="Proposed pairs of the decided clusters.")
    right = serializers.IntegerField(help_text="Of them, pairs of two members a reviewer confirmed together.")
    precision = serializers.FloatField(allow_null=True, help_text="right / pairs; null before any decision.")
    interval = serializers.ListField(child=serializers.FloatField(), allow_null=True, min_length=2, max_length=2,
                                     help_text="[low, high]: the 95% Wilson interval of precision; null before "
                                               "any decision.")


class PairVerdictsSerializer(serializers.Serializer):
    duplicate = serializers.IntegerField()
    not_duplicate = serializers.IntegerField()


class TrackRecordSerializer(serializers.Serializer):
    """The detector's record in this company, from its reviewers' decisions."""

    clusters = TrackRecordRowSerializer(many=True)
    pair_verdicts = PairVerdictsSerializer()


class SprawlDecisionSerializer(Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=4000)


class SprawlMemberRemoveSerializer(Serializer):
    initiative = serializers.IntegerField()
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=4000)


class RunStepSerializer(serializers.Serializer):
    """Where a running job is: step `number` of `of`, doing `name`, `done` percent of it."""

    number = serializers.IntegerField()
    of = serializers.IntegerField()
    name = serializers.CharField()
    done = serializers.IntegerField(help_text="Percent of this step done, where the step can tell (the embedding); "
                                              "0 otherwise.")


def _step(run: Any, steps: tuple[str, ...]) -> dict[str, Any] | None:
    step = jobs.run_step(run, steps)
    return None if step is None else {"number": step.number, "of": step.of, "name": step.label, "done": step.done}


class SprawlRunSerializer(ModelSerializer):
    # Plain text in the schema: the run-status enum is already named by the import and ingestion runs.
    status = serializers.CharField(read_only=True, help_text="pending, running, succeeded or failed")
    step = serializers.SerializerMethodField(help_text="While running: the step it is at; null otherwise.")

    class Meta:
        model = SprawlRun
        fields = ["id", "status", "step", "trigger", "created_at", "started_at", "finished_at", "initiatives",
                  "clusters_found", "clusters_created", "clusters_updated", "clusters_unchanged", "clusters_closed",
                  "error"]
        read_only_fields = fields

    @extend_schema_field(RunStepSerializer(allow_null=True))
    def get_step(self, run: SprawlRun) -> dict[str, Any] | None:
        return _step(run, recompute_steps())


class SprawlLabelCheckSerializer(ModelSerializer):
    """A measurement of the detector against uploaded labels; `result` is what `sprawl_quality --json` prints, once
    the check has succeeded."""

    status = serializers.CharField(read_only=True, help_text="pending, running, succeeded or failed")
    result = serializers.JSONField(read_only=True, help_text=(
        'Once succeeded: {"precision", "recall", "f1", "top", "top_hit_rate", "predicted_pairs", "true_pairs", '
        '"correct_pairs", "intervals": {"precision": [low, high], ...}, "listed_only", "unlisted_pairs", '
        '"wrong_pairs": [[external_id, external_id], ...], "missed_pairs", "without_partner", "names", ...}; {} '
        'before.'))
    step = serializers.SerializerMethodField(help_text="While running: the step it is at; null otherwise.")

    class Meta:
        model = SprawlLabelCheck
        fields = ["id", "status", "step", "filename", "top", "possible", "undecided", "listed_only", "created_at",
                  "started_at", "finished_at", "error", "result"]
        read_only_fields = fields

    @extend_schema_field(RunStepSerializer(allow_null=True))
    def get_step(self, check: SprawlLabelCheck) -> dict[str, Any] | None:
        return _step(check, label_check_steps())


class SprawlLabelCheckWriteSerializer(Serializer):
    """A labels CSV (multipart `file`: header external_id,cluster) and how to measure against it."""

    file = serializers.FileField(help_text="UTF-8 CSV with the header external_id,cluster; at most 2 MB.")
    top = serializers.IntegerField(default=5, min_value=1, max_value=50,
                                   help_text="Possible duplicates ranked per initiative.")
    possible = serializers.BooleanField(default=False, help_text="Count the possible clusters as found too.")
    undecided = serializers.BooleanField(default=False,
                                         help_text="Leave out the pairs reviewers have decided, on both sides.")
    listed_only = serializers.BooleanField(default=False, help_text=(
        "The file lists every initiative checked (a label of its own for one that duplicates nothing): pairs with "
        "an initiative it leaves out count on neither side."))


class DuplicatePairDecisionSerializer(ModelSerializer):
    """A verdict on a possible-duplicate pair; `initiative_a` is always the lower id."""

    initiative_a_name = serializers.CharField(source="initiative_a.name", read_only=True)
    initiative_b_name = serializers.CharField(source="initiative_b.name", read_only=True)
    decided_by = serializers.SerializerMethodField()

    class Meta:
        model = DuplicatePairDecision
        fields = ["id", "initiative_a", "initiative_a_name", "initiative_b", "initiative_b_name", "verdict", "reason",
                  "decided_by", "decided_at"]
        read_only_fields = fields

    def get_decided_by(self, decision: DuplicatePairDecision) -> str | None:
        return person_name(decision.decided_by) or None


class DuplicatePairDecisionWriteSerializer(Serializer):
    """A verdict on `initiative` and its possible duplicate `other` (either order); a reason is required for either
    verdict. A verdict on a decided pair replaces it."""

    initiative = serializers.IntegerField()
    other = serializers.IntegerField()
    verdict = ChoiceField(choices=DuplicateVerdict.choices)
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=500,
                                   help_text="Why, in a few words: required for either verdict.")


class SharedClusterSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    title = serializers.CharField()
    status = serializers.CharField()
    confidence = serializers.CharField()


class PossibleDuplicateSerializer(serializers.Serializer):
    initiative = serializers.IntegerField(source="initiative.pk")
    external_id = serializers.CharField(source="initiative.external_id")
    name = serializers.CharField(source="initiative.name")
    department = serializers.CharField(source="initiative.department.name")
    score = serializers.FloatField(allow_null=True, help_text=(
        "How strongly the three rankings agree, 0 to 1 (1: first by every ranking). None for a decided duplicate no "
        "longer ranked."))
    probability = serializers.FloatField(allow_null=True, help_text=(
        "The pair model's probability that the two do the same job, 0 to 1: the score a sprawl cluster of the two "
        "shows. `score` only orders the list. None for a decided duplicate no longer ranked."))
    reasons = serializers.ListField(child=serializers.CharField())
    verdict = serializers.CharField(source="decision.verdict", allow_null=True, default=None,
                                    help_text="duplicate when a reviewer decided so (listed first), else null.")
    clusters = SharedClusterSerializer(many=True, read_only=True, help_text=(
        "The open and confirmed sprawl clusters that already hold both initiatives."))


class InitiativeUseCaseSerializer(serializers.Serializer):
    use_case = serializers.CharField(source="use_case.code")
    name = serializers.CharField(source="use_case.name")
    confidence = serializers.DecimalField(max_digits=4, decimal_places=3)
    origin = serializers.CharField()


class InitiativeUseCasesWriteSerializer(Serializer):
    use_cases = serializers.ListField(child=serializers.CharField(max_length=80), allow_empty=True, max_length=5)
