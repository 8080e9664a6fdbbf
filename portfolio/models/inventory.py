"""What exists: departments, people, vendors, models, initiatives and what they were meant to deliver."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models.functions import Lower
from django.urls import reverse

from portfolio import calculations
from portfolio.choices import (
    KPI_VALUE_PER_UNIT_LABELS,
    Category,
    KpiDirection,
    KpiKind,
    ModelTier,
    NotificationEmail,
    RunTrigger,
    Stage,
)
from portfolio.models.base import (
    INTEGER_MAX,
    KPI_FIGURE,
    KPI_FIGURE_LIMIT,
    NON_NEGATIVE,
    TimestampedModel,
    at_most,
    money_field,
    price_field,
)
from tollgate.jobs import Run


class Department(TimestampedModel):
    """A business unit; its head receives escalations for the unit's initiatives."""

    name = models.CharField(max_length=120, unique=True)
    code = models.SlugField(max_length=40, unique=True)
    head = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="headed_departments"
    )

    class Meta:
        ordering = ["name"]
        # Names are matched without regard to case (portfolio.services.reference.case_duplicate_errors).
        constraints = [models.UniqueConstraint(
            Lower("name"), name="department_name_unique_ignoring_case",
            violation_error_message="A department of this name, in some letter case, already exists.")]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("portfolio:department_detail", args=[self.pk])


class CostCenter(TimestampedModel):
    """The accounting unit that pays; initiatives are billed to one."""

    code = models.CharField(max_length=40, unique=True)
    name = models.CharField(max_length=160)
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="cost_centers")
    budget_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="budgeted_cost_centers"
    )

    class Meta:
        ordering = ["code"]
        constraints = [models.UniqueConstraint(
            Lower("code"), name="cost_center_code_unique_ignoring_case",
            violation_error_message="A cost center of this code, in some letter case, already exists.")]

    def __str__(self) -> str:
        return f"{self.code} · {self.name}"

    def get_absolute_url(self) -> str:
        return reverse("portfolio:costcenter_detail", args=[self.pk])


class Profile(TimestampedModel):
    """What Tollgate knows about a person beyond the Django user: where they sit and who acts for them."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile")
    department = models.ForeignKey(Department, null=True, blank=True, on_delete=models.SET_NULL, related_name="people")
    title = models.CharField(max_length=160, blank=True)
    delegates = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="delegate_for_profiles")
    # How decisions, lifecycle steps, verdicts and signals are e-mailed: each as it happens, in one daily digest, or
    # not at all (reminders of a report they owe are e-mailed either way: an obligation is not a notification).
    notification_email = models.CharField(max_length=8, choices=NotificationEmail.choices,
                                          default=NotificationEmail.EACH)
    # When the last daily digest went (the next one lists what came after).
    digest_sent_at = models.DateTimeField(null=True, blank=True)
    # The hour of the day the daily digest is sent at, in the person's time zone (blank: the server's TIME_ZONE).
    digest_hour = models.PositiveSmallIntegerField(default=7, db_default=7, validators=[MaxValueValidator(23)])
    time_zone = models.CharField(max_length=64, blank=True, db_default="")
    # When the account was last deactivated (kept after a reactivation): part of what an e-mailed password link is
    # signed with, so a link sent before someone left does not work again when they come back.
    deactivated_at = models.DateTimeField(null=True, blank=True)
    # A script or tool uses the account and nobody signs in to it: an administrator issues its API tokens (nobody
    # else's), it has no password and holds no role that scores or approves (portfolio.services.people). Set only
    # through person_integration_account_set / integration_account_create, each an explicit audit row.
    integration_account = models.BooleanField(default=False, db_default=False)

    def __str__(self) -> str:
        return f"Profile of {self.user}"


class Vendor(TimestampedModel):
    """A company Tollgate's customers buy AI from (a model provider, a SaaS tool, a cloud)."""

    name = models.CharField(max_length=120, unique=True)
    website = models.URLField(blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(
            Lower("name"), name="vendor_name_unique_ignoring_case",
            violation_error_message="A vendor of this name, in some letter case, already exists.")]

    def __str__(self) -> str:
        return self.name


class AIModel(TimestampedModel):
    """An entry of the model catalogue; prices drive right-sizing and forecasts."""

    provider = models.ForeignKey(Vendor, on_delete=models.PROTECT, related_name="models")
    name = models.CharField(max_length=160)
    tier = models.CharField(max_length=20, choices=ModelTier.choices, default=ModelTier.OTHER)
    input_price_per_mtok = price_field(
        "input price per 1M tokens", null=True, blank=True, validators=NON_NEGATIVE
    )
    output_price_per_mtok = price_field(
        "output price per 1M tokens", null=True, blank=True, validators=NON_NEGATIVE
    )
    open_weights = models.BooleanField(default=False)
    context_window = models.PositiveIntegerField(null=True, blank=True, help_text="tokens",
                                                 validators=at_most(INTEGER_MAX, "The context window"))
    substitute = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="substitute_for",
        verbose_name="acceptable cheaper substitute",
        help_text="A cheaper model of a lower tier that administrators accept for this model's work; usage of this "
                  "model is then a right-sizing candidate.",
    )

    class Meta:
        ordering = ["provider__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["provider", "name"], name="unique_model_per_provider"),
            models.UniqueConstraint(
                "provider", Lower("name"), name="model_name_per_provider_unique_ignoring_case",
                violation_error_message="This provider already has a model of this name, in some letter case."),
        ]
        verbose_name = "AI model"

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        super().clean()
        if self.substitute_id is not None and self.substitute is not None:
            problem = calculations.substitute_problem(tier=self.tier, substitute_tier=self.substitute.tier,
                                                      same_model=self.substitute_id == self.pk)
            if problem:
                raise ValidationError({"substitute": f"{self.substitute.name}: {problem}"})


class Initiative(TimestampedModel):
    """An AI project, tool or licence: the unit Tollgate governs, costs and reviews."""

    external_id = models.CharField(max_length=64, unique=True, help_text="Identifier in the customer's inventory.")
    name = models.CharField(max_length=200)
    description = models.TextField("purpose", blank=True)
    category = models.CharField(max_length=40, choices=Category.choices, default=Category.OTHER)
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="initiatives")
    cost_center = models.ForeignKey(
        CostCenter, null=True, blank=True, on_delete=models.PROTECT, related_name="initiatives"
    )
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="owned_initiatives")
    delegates = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="delegated_initiatives")
    stage = models.CharField(max_length=20, choices=Stage.choices, default=Stage.PROPOSED, db_index=True)
    vendors = models.ManyToManyField(Vendor, blank=True, related_name="initiatives")
    ai_models = models.ManyToManyField(AIModel, blank=True, related_name="initiatives", verbose_name="models")
    start_date = models.DateField(null=True, blank=True)
    tags = models.JSONField(default=list, blank=True, help_text="Free labels, e.g. ['gdpr', 'customer-facing'].")
    declared_monthly_cost = money_field(
        "declared monthly cost", default=Decimal("0"), validators=NON_NEGATIVE
    )

    class Meta:
        ordering = ["name"]
        indexes = [
            models.Index(fields=["department", "stage"]), models.Index(fields=["category"]),
            # The inventory import finds initiatives by external_id whatever its letter case (in chunks of keys).
            models.Index(Lower("external_id"), name="initiative_external_id_lower"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("portfolio:initiative_detail", args=[self.pk])


# The business case's fields an owner writes, in the order the form shows them; and a KPI's.
BUSINESS_CASE_FIELDS = (
    "problem", "process_replaced", "baseline_cost_per_outcome", "outcome_unit", "expected_monthly_volume", "targets",
    "tco_inference", "tco_compute", "tco_storage", "tco_licences", "oversight_hours_per_month", "loaded_hourly_rate",
    "tco_maintenance", "expected_monthly_value", "min_viable_scale", "success_criteria",
)
KPI_FIELDS = ("name", "unit", "kind", "baseline", "target", "direction", "value_per_unit")


class BusinessCase(TimestampedModel):
    """What the initiative was meant to deliver and what it was expected to cost, before money is spent."""

    initiative = models.OneToOneField(Initiative, on_delete=models.CASCADE, related_name="business_case")
    problem = models.TextField(blank=True)
    process_replaced = models.TextField("process it replaces", blank=True)
    baseline_cost_per_outcome = price_field(
        "baseline cost per outcome", null=True, blank=True, validators=NON_NEGATIVE
    )
    outcome_unit = models.CharField(max_length=80, blank=True, help_text="What one outcome is, e.g. 'ticket resolved'.")
    expected_monthly_volume = models.PositiveIntegerField(
        "expected outcomes per month", null=True, blank=True,
        validators=at_most(INTEGER_MAX, "Expected outcomes per month"),
    )
    targets = models.TextField(blank=True)
    tco_inference = money_field("inference / API per month", default=0, validators=NON_NEGATIVE)
    tco_compute = money_field("compute / GPU per month", default=0, validators=NON_NEGATIVE)
    tco_storage = money_field("storage per month", default=0, validators=NON_NEGATIVE)
    tco_licences = money_field("licences per month", default=0, validators=NON_NEGATIVE)
    oversight_hours_per_month = models.DecimalField(
        "human oversight hours per month", max_digits=10, decimal_places=1, default=0, validators=NON_NEGATIVE
    )
    loaded_hourly_rate = money_field("loaded hourly rate", default=0, validators=NON_NEGATIVE)
    tco_maintenance = money_field("maintenance per month", default=0, validators=NON_NEGATIVE)
    expected_monthly_value = money_field(
        "expected value per month", null=True, blank=True, validators=NON_NEGATIVE
    )
    min_viable_scale = models.PositiveIntegerField(
        "minimum viable scale (outcomes per month)", null=True, blank=True,
        validators=at_most(INTEGER_MAX, "The minimum viable scale"),
        help_text="Below this volume the initiative cannot pay for itself.",
    )
    success_criteria = models.TextField(blank=True)

    def __str__(self) -> str:
        return f"Business case of {self.initiative}"

    @property
    def oversight_cost(self) -> Decimal:
        return calculations.oversight_cost(self.oversight_hours_per_month, self.loaded_hourly_rate)

    @property
    def tco_monthly(self) -> Decimal:
        return calculations.tco_monthly(
            inference=self.tco_inference,
            compute=self.tco_compute,
            storage=self.tco_storage,
            licences=self.tco_licences,
            oversight_hours=self.oversight_hours_per_month,
            loaded_hourly_rate=self.loaded_hourly_rate,
            maintenance=self.tco_maintenance,
        )

    @property
    def expected_cost_per_outcome(self) -> Decimal | None:
        return calculations.cost_per_outcome(self.tco_monthly, self.expected_monthly_volume)


class KPI(TimestampedModel):
    """An outcome metric with a baseline and a target; its kind says how its improvement becomes money
    (reviews.calculations.kpi_value)."""

    initiative = models.ForeignKey(Initiative, on_delete=models.CASCADE, related_name="kpis")
    name = models.CharField(max_length=160)
    unit = models.CharField(max_length=60, blank=True)
    kind = models.CharField(
        max_length=12, choices=KpiKind.choices, default=KpiKind.COUNT,
        help_text="Count: value = improvement x value per unit. Per outcome: improvement per outcome x the "
                  "report's outcomes x value per unit. Ratio or score: no money value unless a value per point is "
                  "given. Stated: the owner states the value with its evidence in each report.",
    )
    baseline = models.DecimalField(max_digits=16, decimal_places=4, null=True, blank=True, validators=KPI_FIGURE)
    target = models.DecimalField(max_digits=16, decimal_places=4, null=True, blank=True, validators=KPI_FIGURE)
    direction = models.CharField(max_length=10, choices=KpiDirection.choices, default=KpiDirection.INCREASE)
    value_per_unit = price_field(
        "value per unit of improvement", null=True, blank=True, validators=NON_NEGATIVE,
        help_text="In the reporting currency. Count: per unit (e.g. per ticket deflected). Per outcome: per unit "
                  "saved on each outcome (e.g. per minute of handle time). Ratio or score: per point over the "
                  "report's period; empty when it has no money value. Stated: empty. Empty or 0 contributes no "
                  "money, and the report says why.",
    )

    class Meta:
        ordering = ["initiative_id", "id"]
        verbose_name = "KPI"
        verbose_name_plural = "KPIs"

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        super().clean()
        if self.kind == KpiKind.STATED and self.value_per_unit is not None:
            raise ValidationError({"value_per_unit": (
                "A stated KPI takes no value per unit: its owner states the value, with its evidence, in each "
                "value report.")})
        figures = (self.baseline, self.target)
        # A figure out of range has its own error (KPI_FIGURE); comparing it too would say the same twice.
        in_range = all(value is None or abs(value) <= KPI_FIGURE_LIMIT for value in figures)
        percent_errors = {what: error for what, value in (("baseline", self.baseline), ("target", self.target))
                          if in_range and (error := calculations.kpi_percent_error(
                              name=self.name, unit=self.unit, what=what, value=value))}
        if percent_errors:
            raise ValidationError(percent_errors)
        target_error = calculations.kpi_target_error(*figures, self.direction) if in_range else None
        if target_error:
            raise ValidationError({"target": target_error})

    @property
    def value_per_unit_label(self) -> str:
        """What value_per_unit means for this KPI's kind: "value per point (USD)" for a ratio, USD being the reporting
        currency."""
        return str(KPI_VALUE_PER_UNIT_LABELS.get(self.kind, ""))


class BusinessCaseVersion(models.Model):
    """A snapshot of an initiative's plan: its business case, declared monthly cost and KPIs.

    Approving an intake records the approved version; an edit after approval records a new, unapproved one. The
    latest approved version is what cost overrun and value are measured against (portfolio.selectors.approved_plan),
    so changing the plan after approval does not move the yardstick.
    """

    initiative = models.ForeignKey(Initiative, on_delete=models.CASCADE, related_name="business_case_versions")
    number = models.PositiveIntegerField()
    figures = models.JSONField(
        default=dict, blank=True,
        help_text="The business case's fields and the declared monthly cost; amounts as strings, e.g. \"1200.00\".",
    )
    kpis = models.JSONField(default=list, blank=True, help_text="[{id, name, unit, kind, baseline, target, ...}]")
    tco_monthly = money_field(
        "monthly TCO of the business case", null=True, blank=True,
        help_text="A column, so portfolio lists sort and filter on the approved plan.",
    )
    reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["initiative_id", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["initiative", "number"], name="unique_business_case_version_number"),
        ]

    def __str__(self) -> str:
        return f"{self.initiative} · business case v{self.number}"

    @property
    def is_approved(self) -> bool:
        return self.approved_at is not None


class LicencePool(TimestampedModel):
    """Seats of a seat-based tool bought in bulk (e.g. 2,000 Copilot seats)."""

    tool = models.CharField(max_length=160)
    vendor = models.ForeignKey(Vendor, on_delete=models.PROTECT, related_name="licence_pools")
    seats_purchased = models.PositiveIntegerField(validators=[MaxValueValidator(10_000_000)])
    price_per_seat_month = price_field(
        "price per seat per month", default=0, validators=NON_NEGATIVE
    )
    initiative = models.ForeignKey(
        Initiative, null=True, blank=True, on_delete=models.SET_NULL, related_name="licence_pools"
    )

    class Meta:
        ordering = ["tool"]

    def __str__(self) -> str:
        return f"{self.tool} ({self.seats_purchased} seats)"

    @property
    def monthly_cost(self) -> Decimal:
        return calculations.licence_pool_monthly_cost(self.seats_purchased, self.price_per_seat_month)


class LicencePoolTerms(models.Model):
    """A pool's terms (seats, price, initiative served) from a month on, until its next row: a contract change
    applies from its month, so the roll-ups of earlier months keep the terms they had. The pool's first row is the
    month it charges from; its own fields repeat the latest row (the current terms). Written by licence_pool_save."""

    pool = models.ForeignKey(LicencePool, on_delete=models.CASCADE, related_name="terms")
    effective_from = models.DateField(help_text="First day of the month these terms apply from.")
    seats_purchased = models.PositiveIntegerField(validators=[MaxValueValidator(10_000_000)])
    price_per_seat_month = price_field("price per seat per month", default=0, validators=NON_NEGATIVE)
    initiative = models.ForeignKey(
        Initiative, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pool", "effective_from"]
        verbose_name = "licence pool terms"
        verbose_name_plural = "licence pool terms"
        constraints = [
            models.UniqueConstraint(fields=["pool", "effective_from"], name="licence_pool_terms_unique_month"),
        ]

    def __str__(self) -> str:
        return f"{self.pool_id} from {self.effective_from:%Y-%m}: {self.seats_purchased} seats"


class ImportRun(Run):
    """One inventory import: who ran it, on what, and what it did or why it failed (row by row, in `errors`)."""

    filename = models.CharField(max_length=255)
    file = models.FileField(upload_to="imports/%Y/%m/", blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    trigger = models.CharField(max_length=20, choices=RunTrigger.choices, default=RunTrigger.USER)
    dry_run = models.BooleanField(default=False)
    rows_total = models.PositiveIntegerField(default=0)
    rows_created = models.PositiveIntegerField(default=0)
    rows_updated = models.PositiveIntegerField(default=0)
    rows_unchanged = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True, help_text="[{row, column, message}, ...]")
    new_references = models.JSONField(
        default=dict, blank=True,
        help_text="The departments, cost centers, vendors, models and people it created (a dry run: would create): "
                  '{kind: {"total": n, "names": [{"name", "did_you_mean"}, ...]}}.',
    )

    stale_after = timedelta(hours=1)
    lost_hint = "Nothing was written; upload the file again."
    counted_rows = {"created": "rows_created", "updated": "rows_updated", "unchanged": "rows_unchanged"}

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Import of {self.filename} ({self.get_status_display()})"

    def get_absolute_url(self) -> str:
        return reverse("portfolio:import_detail", args=[self.pk])

    @classmethod
    def failure_fields(cls, message: str) -> dict[str, Any]:
        """The import page lists `errors`; a failure of the run as a whole is one error without row or column."""
        return {"error": message, "errors": [{"row": None, "column": "", "message": message}]}
