"""Evidence of value over time: review cycles, the value report each owner submits, the verdict and the reminders."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone

from portfolio.choices import ENDED_STAGES, Stage
from portfolio.models.base import KPI_FIGURE, money_field
from reviews import calculations
from reviews.choices import CycleStatus, Decision, ReminderKind, ReportState, ReportStatus

NON_NEGATIVE = [MinValueValidator(Decimal("0"))]
USER = settings.AUTH_USER_MODEL


class ReviewCycle(models.Model):
    """A quarter under review: every initiative in pilot or production owes one value report by `due_on`."""

    name = models.CharField(max_length=20, unique=True, help_text="e.g. 2026-Q3, the quarter reviewed.")
    period_start = models.DateField()
    period_end = models.DateField()
    opens_on = models.DateField()
    due_on = models.DateField()
    closed_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-period_start", "name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("reviews:cycle_detail", args=[self.pk])

    @property
    def takes_reports_from(self) -> date:
        """The first day its reports take figures and submissions: its opening day, and never before the period it
        reviews has ended (a quarter's actuals exist only once it is over)."""
        return max(self.opens_on, self.period_end + timedelta(days=1))

    def not_open_reason(self, today: date) -> str | None:
        """Why the cycle's reports take no figures on `today` (it has not opened, or its period has not ended), or
        None when they do."""
        if today >= self.takes_reports_from:
            return None
        if today <= self.period_end:
            return (f"The cycle {self.name} reviews {self.period_start:%Y-%m-%d} to {self.period_end:%Y-%m-%d}, which "
                    f"has not ended: its reports take figures from {self.takes_reports_from:%Y-%m-%d}.")
        return (f"The cycle {self.name} opens on {self.opens_on:%Y-%m-%d}: its reports take figures from that "
                "day.")

    def status_on(self, today: date) -> CycleStatus:
        if self.closed_at is not None:
            return CycleStatus.CLOSED
        return CycleStatus.UPCOMING if today < self.takes_reports_from else CycleStatus.OPEN

    @property
    def status(self) -> CycleStatus:
        return self.status_on(timezone.localdate())

    @property
    def months(self) -> int:
        return calculations.months_in_period(self.period_start, self.period_end)


# PostgreSQL's integer column stops at 2,147,483,647; SQLite (the embedded default) would take up to 2^63 - 1. One
# bound on both, checked before the database, so a count a page accepts is one every deployment stores.
COUNT_MAX = 2_147_483_647
COUNT_LIMIT = [MaxValueValidator(COUNT_MAX, message=f"A count is at most {COUNT_MAX:,}.")]


class ValueReport(models.Model):
    """What one initiative delivered in one cycle, stated by its owner or a delegate and judged by a reviewer."""

    cycle = models.ForeignKey(ReviewCycle, on_delete=models.CASCADE, related_name="reports")
    initiative = models.ForeignKey("portfolio.Initiative", on_delete=models.CASCADE, related_name="value_reports")
    status = models.CharField(max_length=20, choices=ReportStatus.choices, default=ReportStatus.DRAFT, db_index=True)
    outcome_count = models.PositiveIntegerField("outcomes in the period", null=True, blank=True,
                                                validators=COUNT_LIMIT)
    active_users = models.PositiveIntegerField(null=True, blank=True, validators=COUNT_LIMIT)
    oversight_hours = models.DecimalField(
        "human oversight hours", max_digits=10, decimal_places=1, null=True, blank=True, validators=NON_NEGATIVE
    )
    narrative = models.TextField(blank=True)
    stated_value = money_field(
        "owner-stated value", null=True, blank=True,
        help_text="Only when the KPIs cannot express the value; replaces the computed value and needs evidence.",
    )
    stated_value_evidence = models.TextField(blank=True)
    submitted_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    submitted_for = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="The initiative's owner when it was submitted: whom it was submitted for, whoever owns it since.",
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    reopened_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    reopened_at = models.DateTimeField(null=True, blank=True)
    reopened_reason = models.TextField(blank=True)
    authors = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="value_reports_written",
        help_text="Who entered its figures or evidence, or submitted it: none of them may judge or reopen it.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["cycle", "initiative__name"]
        constraints = [models.UniqueConstraint(fields=["cycle", "initiative"], name="one_report_per_cycle")]

    def __str__(self) -> str:
        return f"{self.initiative} · {self.cycle}"

    def get_absolute_url(self) -> str:
        return reverse("reviews:report_detail", args=[self.pk])

    def state_on(self, today: date) -> ReportState:
        """Submitted reports by their verdict; a draft is owed (due, then overdue) only while its initiative runs,
        its cycle is not closed and takes reports (selectors.report_state_q says the same in SQL)."""
        if self.status == ReportStatus.SUBMITTED:
            return ReportState.REVIEWED if hasattr(self, "verdict") else ReportState.SUBMITTED
        if self.initiative.stage in ENDED_STAGES:
            return ReportState.NOT_EXPECTED
        if self.cycle.closed_at is not None:
            return ReportState.NOT_SUBMITTED
        if today < self.cycle.takes_reports_from:
            return ReportState.NOT_OPEN
        return ReportState.OVERDUE if today > self.cycle.due_on else ReportState.DUE

    @property
    def state(self) -> ReportState:
        return self.state_on(timezone.localdate())

    @property
    def submitted_late(self) -> bool:
        """Submitted after the cycle's due date (on the server's calendar day); a draft is not late, but overdue."""
        return self.submitted_at is not None and timezone.localdate(self.submitted_at) > self.cycle.due_on

    def state_label(self, today: date) -> str:
        """The state's label, naming how the initiative ended for a draft no longer expected: "Not expected
        (initiative killed)"."""
        state = self.state_on(today)
        if state == ReportState.NOT_EXPECTED:
            return f"Not expected (initiative {Stage(self.initiative.stage).label.lower()})"
        return str(state.label)

    @property
    def state_display(self) -> str:
        return self.state_label(timezone.localdate())

    def state_text(self, today: date) -> str:
        """The state as lists and their CSV say it, late submissions flagged: "Submitted late"."""
        label = self.state_label(today)
        if not self.submitted_late:
            return label
        return "Submitted late" if self.state_on(today) == ReportState.SUBMITTED else f"{label} (submitted late)"


class KpiActual(models.Model):
    """What a KPI reached in the report's period, and for a stated KPI the value its owner states with evidence.

    The actual may be empty only for a stated KPI (its value is the stated amount; an actual, when given, still
    tells whether the target was met)."""

    report = models.ForeignKey(ValueReport, on_delete=models.CASCADE, related_name="actuals")
    kpi = models.ForeignKey("portfolio.KPI", on_delete=models.CASCADE, related_name="actuals")
    actual = models.DecimalField(max_digits=16, decimal_places=4, null=True, blank=True, validators=KPI_FIGURE)
    stated_value = money_field(
        "owner-stated value", null=True, blank=True,
        help_text="Stated KPIs only: the value of the period, which needs its evidence.",
    )
    evidence = models.TextField(blank=True, help_text="How the stated value was measured.")

    class Meta:
        ordering = ["kpi_id"]
        constraints = [models.UniqueConstraint(fields=["report", "kpi"], name="one_actual_per_kpi")]
        verbose_name = "KPI actual"

    def __str__(self) -> str:
        return f"{self.kpi}: {self.actual}"


class ReportAttachment(models.Model):
    """Evidence attached to a report; type- and size-limited (reviews.services.attachment_add)."""

    report = models.ForeignKey(ValueReport, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to="reviews/%Y/%m/")
    original_name = models.CharField(max_length=255)
    size = models.PositiveIntegerField(help_text="bytes")
    uploaded_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["uploaded_at", "pk"]

    def __str__(self) -> str:
        return self.original_name

    def get_absolute_url(self) -> str:
        return reverse("reviews:attachment_download", args=[self.pk])


class Verdict(models.Model):
    """A reviewer's decision on a submitted report, with the rationale; one per report."""

    report = models.OneToOneField(ValueReport, on_delete=models.CASCADE, related_name="verdict")
    reviewer = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    decision = models.CharField(max_length=20, choices=Decision.choices)
    rationale = models.TextField()
    decided_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-decided_at"]

    def __str__(self) -> str:
        return f"{self.get_decision_display()} · {self.report}"


class ReminderLog(models.Model):
    """One reminder or escalation sent for a report and the due date it was about; the unique triple makes a re-run
    of the job a no-op, and a cycle whose due date moved reminds (and escalates) once more against the new date."""

    report = models.ForeignKey(ValueReport, on_delete=models.CASCADE, related_name="reminders")
    kind = models.CharField(max_length=20, choices=ReminderKind.choices)
    due_on = models.DateField(help_text="The cycle's due date the reminder or escalation was about.")
    sent_at = models.DateTimeField(default=timezone.now)
    recipients = models.JSONField(default=list, blank=True, help_text="E-mail addresses written to.")

    class Meta:
        ordering = ["-sent_at"]
        constraints = [models.UniqueConstraint(fields=["report", "kind", "due_on"],
                                               name="one_reminder_per_kind_and_due_date")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.report}"


class Notification(models.Model):
    """An in-app message to one person (reminders, reopened reports, verdicts); read_at set when seen."""

    user = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="notifications")
    message = models.CharField(max_length=500)
    url = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["user", "read_at"])]

    def __str__(self) -> str:
        return self.message
