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
    """What a page shows for a report (ValueReport.state_on). A draft is owed ('due' until its due date, 'overdue'
    after it) only while its cycle takes reports and its initiative runs: before the cycle opens and its period has
    ended it is 'not open yet'; in a closed cycle it was 'not submitted'; once its initiative ended (killed, retired,
    rejected) it is 'not expected'."""

    DUE = "due", "Due"
    OVERDUE = "overdue", "Overdue"
    SUBMITTED = "submitted", "Submitted"
    REVIEWED = "reviewed", "Verdict given"
    NOT_OPEN = "not_open", "Not open yet"
    NOT_SUBMITTED = "not_submitted", "Not submitted (cycle closed)"
    NOT_EXPECTED = "not_expected", "Not expected (initiative ended)"


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
