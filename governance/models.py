"""Governance records: the intake rubric, submission rounds and their scores, and the policy values."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse

from .choices import Score
from .policies import DEFINITIONS

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
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["order", "name"]
        verbose_name = "rubric criterion"
        verbose_name_plural = "rubric criteria"
        constraints = [models.CheckConstraint(condition=models.Q(weight__gt=0), name="rubric_weight_positive")]

    def __str__(self) -> str:
        return self.name


class IntakeSubmission(models.Model):
    """One round of review: each submit starts a new round, so scores of an earlier round stop counting."""

    initiative = models.ForeignKey("portfolio.Initiative", on_delete=models.CASCADE, related_name="submissions")
    round = models.PositiveSmallIntegerField()
    submitted_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    submitted_at = models.DateTimeField()

    class Meta:
        ordering = ["initiative_id", "-round"]
        constraints = [models.UniqueConstraint(fields=["initiative", "round"], name="unique_submission_round")]

    def __str__(self) -> str:
        return f"{self.initiative} · round {self.round}"


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
        return f"{self.key} = {self.value.normalize()}"

    def get_absolute_url(self) -> str:
        return reverse("governance:policy_edit", args=[self.key])
