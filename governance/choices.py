"""Enumerations of governance, in the business's words."""

from django.db import models

from tollgate.audit_events import AuditEvent as AuditEvent  # declared once for every app: re-exported here


class Score(models.IntegerChoices):
    """A reviewer's mark for one rubric criterion."""

    POOR = 1, "1 · poor"
    WEAK = 2, "2 · weak"
    ADEQUATE = 3, "3 · adequate"
    GOOD = 4, "4 · good"
    EXCELLENT = 5, "5 · excellent"


class UseCaseOrigin(models.TextChoices):
    """Where an initiative's use case came from; a confirmed one is never overwritten by recomputation."""

    SUGGESTED = "suggested", "Suggested"
    CONFIRMED = "confirmed", "Confirmed"


class SprawlStatus(models.TextChoices):
    """A sprawl cluster's review state: found, then confirmed as sprawl or dismissed with a reason."""

    OPEN = "open", "Open"
    CONFIRMED = "confirmed", "Confirmed"
    DISMISSED = "dismissed", "Dismissed"


class SprawlConfidence(models.TextChoices):
    """How sure the detector is that a cluster's members do one job: likely ones are shown as sprawl, possible ones
    apart, for a reviewer to look at (governance/sprawl/engine/pairs.py thresholds). A cluster that only reviewers'
    decisions ("Duplicate of", a confirmation) hold together, its members' average below the likely threshold, is
    linked by reviewers: shown as sprawl with the likely ones, its score no claim of the detector."""

    LIKELY = "likely", "Likely"
    LINKED = "linked", "Linked by reviewers"
    POSSIBLE = "possible", "Possible"


# The confidences shown, counted and signalled as sprawl (the list's "likely" filter, totals, dashboard, signals).
SPRAWL_CONFIDENCES = (SprawlConfidence.LIKELY, SprawlConfidence.LINKED)


class DuplicateVerdict(models.TextChoices):
    """A reviewer's verdict on a possible-duplicate pair: a must-link or a cannot-link pair for the next
    recomputation."""

    DUPLICATE = "duplicate", "Duplicate of"
    NOT_DUPLICATE = "not_duplicate", "Not a duplicate"


class SprawlRunTrigger(models.TextChoices):
    """What started a sprawl recomputation."""

    USER = "user", "User (page)"
    API = "api", "API"
    IMPORT = "import", "Inventory import"
    SCHEDULE = "schedule", "Nightly schedule"
    COMMAND = "command", "Command line"
    LIFECYCLE = "lifecycle", "Initiative ended (killed, retired or rejected)"


# Signals (issue 11) ---------------------------------------------------------------------------------------------------


class SignalType(models.TextChoices):
    """What a signal says; the values are fixed (the API, the command and governance.signals.rules use them)."""

    VALUE_PER_DOLLAR_LOW = "value_per_dollar_low", "Value per dollar below the floor"
    KPI_TARGETS_MISSED = "kpi_targets_missed", "KPI targets missed"
    REPORT_OVERDUE = "report_overdue", "Value report overdue"
    PILOT_STALE = "pilot_stale", "Pilot without minimum viable scale"
    COST_OVERRUN = "cost_overrun", "Cost over the business case"
    LICENCE_WASTE = "licence_waste", "Licence waste"
    NO_ACTIVE_OWNER = "no_active_owner", "No active owner"
    SCALE_CANDIDATE = "scale_candidate", "Scale candidate"
    RIGHT_SIZE = "right_size", "Right-size the model"
    SELF_HOST = "self_host", "Self-host on rented GPUs"
    SPRAWL = "sprawl", "Sprawl"


class SignalSeverity(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"


class SignalStatus(models.TextChoices):
    """open -> acknowledged -> resolved, or dismissed (with a reason) from open or acknowledged."""

    OPEN = "open", "Open"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    RESOLVED = "resolved", "Resolved"
    DISMISSED = "dismissed", "Dismissed"


LIVE_SIGNAL_STATUSES = (SignalStatus.OPEN, SignalStatus.ACKNOWLEDGED)


class SignalRunTrigger(models.TextChoices):
    """What started a signal computation."""

    USER = "user", "User (page)"
    API = "api", "API"
    INGESTION = "ingestion", "Cost ingestion"
    REPORT = "report", "Value report or verdict"
    SCHEDULE = "schedule", "Nightly schedule"
    PEOPLE = "people", "Owners changed (a hand-over, someone left)"
    SPRAWL = "sprawl", "Sprawl decision or recomputation"
    COMMAND = "command", "Command line"
    LIFECYCLE = "lifecycle", "Initiative ended (killed, retired or rejected)"
