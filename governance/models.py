"""Governance records: the intake rubric, submission rounds and their scores, the policy values, sprawl detection
(the use-case catalogue, initiatives' use cases, cached embeddings, sprawl clusters), signals, and the alerts sent
about stale cost sources."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse

from governance.choices import (
    LIVE_SIGNAL_STATUSES,
    DuplicateVerdict,
    Score,
    SignalRunTrigger,
    SignalSeverity,
    SignalStatus,
    SignalType,
    SprawlConfidence,
    SprawlRunTrigger,
    SprawlStatus,
    UseCaseOrigin,
)
from governance.policies import DEFINITIONS
from portfolio.models.base import SMALL_INTEGER_MAX, at_most
from tollgate.jobs import Run

USER = settings.AUTH_USER_MODEL


class RubricCriterion(models.Model):
    """One weighted criterion reviewers score an intake on; administrators edit the rubric in the Django admin."""

    name = models.CharField(max_length=120, unique=True)
    description = models.TextField(blank=True, help_text="What a reviewer looks at, and what a 5 looks like.")
    weight = models.DecimalField(
        max_digits=6, decimal_places=2, validators=[MinValueValidator(Decimal("0.01"))],
        help_text="Relative weight; the weighted score divides by the sum of active weights.",
    )
    active = models.BooleanField(default=True, help_text="Only active criteria are scored and counted.")
    order = models.PositiveSmallIntegerField(default=0, validators=at_most(SMALL_INTEGER_MAX, "A criterion's order"))

    class Meta:
        ordering = ["order", "name"]
        verbose_name = "rubric criterion"
        verbose_name_plural = "rubric criteria"
        constraints = [models.CheckConstraint(condition=models.Q(weight__gt=0), name="rubric_weight_positive")]

    def __str__(self) -> str:
        return self.name


class IntakeSubmission(models.Model):
    """One round of review: each submit starts a new round, so scores of an earlier round stop counting.

    A round is closed by the transition that takes the intake out of review (approve, reject, request changes,
    withdraw); scores of a closed round never count towards an approval.
    """

    initiative = models.ForeignKey("portfolio.Initiative", on_delete=models.CASCADE, related_name="submissions")
    round = models.PositiveSmallIntegerField()
    submitted_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    submitted_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by_transition = models.CharField(max_length=30, blank=True,
                                            help_text="The transition that closed the round, e.g. withdraw.")

    class Meta:
        ordering = ["initiative_id", "-round"]
        constraints = [models.UniqueConstraint(fields=["initiative", "round"], name="unique_submission_round")]

    def __str__(self) -> str:
        return f"{self.initiative} · round {self.round}"

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


class IntakeScore(models.Model):
    """A reviewer's 1-5 mark with a comment for one criterion in one submission round."""

    submission = models.ForeignKey(IntakeSubmission, on_delete=models.CASCADE, related_name="scores")
    reviewer = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="intake_scores")
    criterion = models.ForeignKey(RubricCriterion, on_delete=models.PROTECT, related_name="scores")
    score = models.PositiveSmallIntegerField(
        choices=Score.choices, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["submission_id", "reviewer_id", "criterion__order"]
        constraints = [
            models.UniqueConstraint(fields=["submission", "reviewer", "criterion"], name="unique_intake_score"),
            models.CheckConstraint(condition=models.Q(score__gte=1, score__lte=5), name="intake_score_1_to_5"),
        ]

    def __str__(self) -> str:
        return f"{self.criterion}: {self.score} by {self.reviewer}"


class Policy(models.Model):
    """The value an administrator set for a threshold declared in governance.policies; absent means the default."""

    key = models.CharField(max_length=80, unique=True, choices=[(d.key, d.label) for d in DEFINITIONS])
    value = models.DecimalField(max_digits=14, decimal_places=4)
    updated_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["key"]
        verbose_name_plural = "policies"

    def __str__(self) -> str:
        return f"{self.key} = {self.value.normalize():f}"  # 100, not 1E+2

    def get_absolute_url(self) -> str:
        return reverse("governance:policy_edit", args=[self.key])


# Sprawl detection (issue 6) ------------------------------------------------------------------------------------------


class UseCase(models.Model):
    """An archetype ("job") an AI initiative does, from the shipped catalogue or added by an administrator.

    Catalogue entries carry the catalogue version that last wrote them; a blank version marks one added by an
    administrator, which catalogue loads never touch. The portfolio is reported by use case ("spend by use case").
    """

    code = models.SlugField(max_length=80, unique=True)
    name = models.CharField(max_length=200)
    job = models.TextField(help_text="The job it does, in one or two sentences.")
    functions = models.JSONField(default=list, blank=True, help_text="Business functions it serves.")
    inputs = models.JSONField(default=list, blank=True, help_text="Typical inputs.")
    outputs = models.JSONField(default=list, blank=True, help_text="Typical outputs.")
    synonyms = models.JSONField(default=list, blank=True, help_text="Other names people use for it.")
    vendor_products = models.JSONField(default=list, blank=True, help_text="Typical vendor products doing it.")
    catalogue_version = models.CharField(
        max_length=20, blank=True, help_text="Catalogue version that last wrote it; blank = added by an administrator."
    )
    is_active = models.BooleanField(default=True, help_text="Inactive use cases are no longer suggested.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("governance:usecase_detail", args=[self.code])


class InitiativeUseCase(models.Model):
    """An initiative does this use case, with a confidence; suggested links are replaced on every recomputation,
    confirmed ones (set by a person) never are."""

    initiative = models.ForeignKey("portfolio.Initiative", on_delete=models.CASCADE, related_name="use_case_links")
    use_case = models.ForeignKey(UseCase, on_delete=models.PROTECT, related_name="initiative_links")
    confidence = models.DecimalField(
        max_digits=4, decimal_places=3, validators=[MinValueValidator(0), MaxValueValidator(1)]
    )
    origin = models.CharField(max_length=20, choices=UseCaseOrigin.choices, default=UseCaseOrigin.SUGGESTED)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["initiative_id", "-confidence"]
        constraints = [
            models.UniqueConstraint(fields=["initiative", "use_case"], name="unique_initiative_use_case"),
            models.CheckConstraint(condition=models.Q(confidence__gte=0, confidence__lte=1),
                                   name="use_case_confidence_0_to_1"),
        ]

    def __str__(self) -> str:
        return f"{self.initiative} · {self.use_case} ({self.confidence})"


class InitiativeEmbedding(models.Model):
    """Cached sentence embedding of an initiative's text; recomputed only when the text (its hash) changes."""

    initiative = models.OneToOneField("portfolio.Initiative", on_delete=models.CASCADE, related_name="embedding")
    model_name = models.CharField(max_length=120)
    text_hash = models.CharField(max_length=64)
    vector = models.BinaryField(help_text="float32, little-endian.")
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.initiative} · {self.model_name}"


class TextEmbedding(models.Model):
    """Cached embedding of a catalogue text (a use case's job, a synonym), keyed by the hash of model and text, so a
    new process reads the catalogue's few thousand vectors in one query instead of embedding them again."""

    text_hash = models.CharField(max_length=64, unique=True)
    model_name = models.CharField(max_length=120)
    vector = models.BinaryField(help_text="float32, little-endian.")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.model_name} · {self.text_hash[:12]}"


class SprawlCluster(models.Model):
    """Initiatives that look like one job done several times, with its own review lifecycle.

    A confirmed or dismissed cluster keeps its status and decision across recomputation.
    """

    status = models.CharField(max_length=20, choices=SprawlStatus.choices, default=SprawlStatus.OPEN, db_index=True)
    score = models.DecimalField(max_digits=4, decimal_places=3)
    use_case = models.ForeignKey(UseCase, null=True, blank=True, on_delete=models.SET_NULL, related_name="clusters")
    title = models.CharField(max_length=200)
    monthly_spend = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0"))
    estimated_saving = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0"))
    saving_basis = models.TextField(blank=True, help_text="The consolidation assumption and the numbers.")
    confidence = models.CharField(max_length=10, choices=SprawlConfidence.choices, default=SprawlConfidence.LIKELY,
                                  db_index=True)
    evidence = models.JSONField(default=list, blank=True, help_text="Why the members look like one job, in words.")
    decision_reason = models.TextField(blank=True)
    decided_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    first_seen_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-estimated_saving", "-score", "pk"]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("governance:sprawl_detail", args=[self.pk])


class SprawlClusterMember(models.Model):
    """An initiative in a cluster; a reviewer may remove it (with a reason), and it is never re-added."""

    cluster = models.ForeignKey(SprawlCluster, on_delete=models.CASCADE, related_name="members")
    initiative = models.ForeignKey("portfolio.Initiative", on_delete=models.CASCADE, related_name="sprawl_memberships")
    removed = models.BooleanField(default=False)
    removed_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    removed_reason = models.TextField(blank=True)
    removed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    # Not stored: governance.sprawl.selectors.sprawl_cluster_members sets them for the cluster page.
    monthly_spend: Decimal
    spend_is_allocated: bool
    users: int | None
    joined_after_decision: bool

    class Meta:
        ordering = ["cluster_id", "initiative_id"]
        constraints = [models.UniqueConstraint(fields=["cluster", "initiative"], name="unique_sprawl_member")]

    def __str__(self) -> str:
        return f"{self.cluster} · {self.initiative}"


class DuplicatePairDecision(models.Model):
    """A reviewer's verdict on a possible-duplicate pair, one row per pair (stored with initiative_a.pk <
    initiative_b.pk). A new decision replaces the verdict; the audit trail keeps the earlier ones. Recomputation reads
    them (governance.sprawl.selectors.duplicate_pair_decisions) as must-link and cannot-link pairs."""

    initiative_a = models.ForeignKey("portfolio.Initiative", on_delete=models.CASCADE, related_name="+")
    initiative_b = models.ForeignKey("portfolio.Initiative", on_delete=models.CASCADE, related_name="+")
    verdict = models.CharField(max_length=20, choices=DuplicateVerdict.choices)
    reason = models.CharField(max_length=500, blank=True)
    decided_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    decided_at = models.DateTimeField()

    class Meta:
        ordering = ["-decided_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["initiative_a", "initiative_b"], name="unique_duplicate_pair"),
            models.CheckConstraint(condition=models.Q(initiative_a__lt=models.F("initiative_b")),
                                   name="duplicate_pair_ordered"),
        ]

    def __str__(self) -> str:
        return f"{self.initiative_a} / {self.initiative_b}: {self.get_verdict_display().lower()}"

    @property
    def decided_by_name(self) -> str:
        """Who decided, for the pages ("someone" once their account is gone)."""
        user = self.decided_by
        return (user.get_full_name() or user.get_username()) if user is not None else "someone"

    @property
    def is_duplicate(self) -> bool:
        return self.verdict == DuplicateVerdict.DUPLICATE

    def other_than(self, initiative_id: int) -> int:
        """The id of the pair's other initiative."""
        return self.initiative_b_id if initiative_id == self.initiative_a_id else self.initiative_a_id


class SprawlRun(Run):
    """One recomputation of sprawl (from the page, the API, an import or the nightly schedule), for its progress."""

    trigger = models.CharField(max_length=20, choices=SprawlRunTrigger.choices, default=SprawlRunTrigger.USER)
    actor = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    initiatives = models.PositiveIntegerField(default=0, help_text="Initiatives analysed.")
    # found = created + updated + unchanged: what this run found among running initiatives, and what became of each.
    clusters_found = models.PositiveIntegerField(default=0, help_text="Groups found among running initiatives.")
    clusters_created = models.PositiveIntegerField(default=0, help_text="Found groups stored as new open clusters.")
    clusters_updated = models.PositiveIntegerField(default=0, help_text="Found groups that changed a stored cluster.")
    clusters_unchanged = models.PositiveIntegerField(default=0,
                                                     help_text="Found groups that match a stored cluster as it is.")
    clusters_closed = models.PositiveIntegerField(default=0, help_text="Open clusters no longer found, closed.")
    pair_model = models.JSONField(default=dict, blank=True,
                                  help_text="The pair model this run grouped with: its weights and the decisions "
                                            "it was refit on.")

    stale_after = timedelta(hours=1)
    lost_hint = "The clusters and decisions are unchanged; recompute again."

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Sprawl run {self.pk} ({self.get_status_display().lower()})"

    def get_absolute_url(self) -> str:
        return reverse("governance:sprawl_run_detail", args=[self.pk])


class SprawlLabelCheck(Run):
    """One measurement of the sprawl detector against a company's own labelled duplicates (uploaded as a labels
    CSV): what `manage.py sprawl_quality` prints, run by a worker because a large portfolio takes a while to detect.
    The labels are checked when uploaded and kept with the run; the figures and pairs are its `result`."""

    actor = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    filename = models.CharField(max_length=255)
    labels = models.JSONField(default=dict, help_text="external_id -> cluster label, as uploaded.")
    label_rows = models.JSONField(default=dict, help_text="external_id -> the row of the file it was read from.")
    top = models.PositiveSmallIntegerField(default=5, validators=[MinValueValidator(1), MaxValueValidator(50)])
    possible = models.BooleanField(default=False, help_text="Possible clusters counted as found too.")
    undecided = models.BooleanField(default=False, help_text="Pairs a reviewer decided left out on both sides.")
    listed_only = models.BooleanField(
        default=False, help_text="Only the initiatives the file lists measured: pairs with any other left out.")
    result = models.JSONField(default=dict, blank=True,
                              help_text="The figures (sprawl_quality --json) and the wrong and missed pairs.")

    stale_after = timedelta(hours=1)
    lost_hint = "Nothing was changed; measure again."

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Label check {self.pk} of {self.filename} ({self.get_status_display().lower()})"

    def get_absolute_url(self) -> str:
        return reverse("governance:sprawl_check_detail", args=[self.pk])


# Signals (issue 11) ---------------------------------------------------------------------------------------------------


class Signal(models.Model):
    """Something to stop, fix or scale, found by a rule of governance.signals.rules, with its evidence and its own
    lifecycle: open -> acknowledged -> resolved, or dismissed with a reason.

    `subject` identifies what the signal is about across computations (type and external ids, or the cluster or
    pool): at most one open or acknowledged signal per subject; resolved and dismissed ones stay as history.
    `metric` is the figure the rule measures, compared when a dismissed signal might be raised again. A computation
    that finds the same evidence leaves the row untouched (so no "last seen" stamp: the last successful run says
    when the live signals last held).
    """

    type = models.CharField(max_length=30, choices=SignalType.choices, db_index=True)
    subject = models.CharField(max_length=300, db_index=True)
    initiatives = models.ManyToManyField("portfolio.Initiative", blank=True, related_name="signals")
    period = models.CharField(max_length=20, help_text="The quarter (2026-Q3) or month (2026-11) it is about.")
    severity = models.CharField(max_length=10, choices=SignalSeverity.choices)
    monthly_saving = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True,
                                         help_text="Estimated saving per month, where one applies.")
    metric = models.DecimalField(max_digits=20, decimal_places=4, help_text="The figure the rule measures.")
    higher_is_worse = models.BooleanField(default=True)
    evidence = models.JSONField(default=dict, blank=True,
                                help_text='{"rule": text, "policies": {key: value}, "numbers": [{label, value, url}]}')
    status = models.CharField(max_length=20, choices=SignalStatus.choices, default=SignalStatus.OPEN, db_index=True)
    acknowledged_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution = models.TextField(blank=True, help_text="How it was resolved (automatically: the condition cleared).")
    dismissed_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    dismissed_at = models.DateTimeField(null=True, blank=True)
    dismissal_reason = models.TextField(blank=True)
    first_seen_at = models.DateTimeField(help_text="When it was raised.")
    evidence_changed_at = models.DateTimeField(help_text="When it was raised or its evidence last changed.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-first_seen_at", "-pk"]
        indexes = [models.Index(fields=["status", "type"])]
        constraints = [
            models.UniqueConstraint(fields=["subject"], condition=models.Q(status__in=LIVE_SIGNAL_STATUSES),
                                    name="one_live_signal_per_subject"),
        ]

    def __str__(self) -> str:
        return f"{self.get_type_display()} · {self.period}"

    def get_absolute_url(self) -> str:
        return reverse("governance:signal_detail", args=[self.pk])

    @property
    def is_live(self) -> bool:
        return self.status in LIVE_SIGNAL_STATUSES


class SignalRun(Run):
    """One computation of the signals (nightly, after an ingestion or a value report, "recompute now", the command),
    for its progress page."""

    trigger = models.CharField(max_length=20, choices=SignalRunTrigger.choices, default=SignalRunTrigger.USER)
    actor = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    initiatives = models.PositiveIntegerField(default=0, help_text="Initiatives examined.")
    signals_live = models.PositiveIntegerField(default=0, help_text="Open and acknowledged signals after the run.")
    signals_raised = models.PositiveIntegerField(default=0)
    signals_updated = models.PositiveIntegerField(default=0)
    signals_resolved = models.PositiveIntegerField(default=0)

    stale_after = timedelta(hours=1)
    lost_hint = "The signals are unchanged; compute them again."

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Signal run {self.pk} ({self.get_status_display().lower()})"

    def get_absolute_url(self) -> str:
        return reverse("governance:signal_run_detail", args=[self.pk])


class StaleSourceAlert(models.Model):
    """Administrators were told that a cost source owes a month (missing, or a late read of it); the unique pair
    makes the nightly check tell them once per source and month, not on every run."""

    source = models.ForeignKey("portfolio.CostSource", on_delete=models.CASCADE, related_name="stale_alerts")
    month = models.DateField(help_text="First day of the month the source owes.")
    reason = models.CharField(max_length=300, blank=True)
    sent_at = models.DateTimeField(auto_now_add=True)
    recipients = models.JSONField(default=list, blank=True, help_text="E-mail addresses written to.")

    class Meta:
        ordering = ["-sent_at", "source_id", "month"]
        constraints = [models.UniqueConstraint(fields=["source", "month"], name="one_stale_alert_per_source_month")]

    def __str__(self) -> str:
        return f"{self.source} owes {self.month:%Y-%m}"
