"""Enumerations of the reviews domain, in the business's words."""

from django.db import models


class CycleStatus(models.TextChoices):
    """Derived from the dates and closed_at, never stored: a cycle opens by itself on its open date."""

    UPCOMING = "upcoming", "Upcoming"
    OPEN = "open", "Open"
    CLOSED = "closed", "Closed"


class ReportStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted"


class ReportState(models.TextChoices):
    """What a page shows for a report: a draft is 'due' until its due date and 'overdue' after it."""

    DUE = "due", "Due"
    OVERDUE = "overdue", "Overdue"
    SUBMITTED = "submitted", "Submitted"
    REVIEWED = "reviewed", "Verdict given"


class Decision(models.TextChoices):
    """A reviewer's verdict on a quarter's evidence; KILL starts the kill transition of the initiative."""

    CONTINUE = "continue", "Continue"
    OPTIMISE = "optimise", "Optimise"
    SCALE = "scale", "Scale"
    KILL = "kill", "Kill"


class ReminderKind(models.TextChoices):
    FIRST_REMINDER = "first_reminder", "First reminder"
    SECOND_REMINDER = "second_reminder", "Second reminder"
    ESCALATION = "escalation", "Escalation"


class ValueSource(models.TextChoices):
    KPIS = "kpis", "Computed from KPI actuals"
    STATED = "stated", "Stated by the owner"
