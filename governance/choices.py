"""Enumerations of governance, in the business's words."""

from django.db import models


class AuditEvent(models.TextChoices):
    """What an audit-trail row records. Explicit rows carry it in `additional_data["event"]`; plain field
    changes written by django-auditlog carry none and are listed as "Field change"; inventory imports carry
    `additional_data["source"] == "inventory_import"`."""

    TRANSITION = "transition", "Transition"
    SCORE = "score", "Intake score"
    POLICY_CHANGE = "policy_change", "Policy change"
    VERDICT = "verdict", "Verdict"
    REPORT_SUBMITTED = "value_report_submitted", "Value report submitted"
    REPORT_REOPENED = "value_report_reopened", "Value report reopened"
    CYCLE_OPENED = "review_cycle_opened", "Review cycle opened"
    CYCLE_CLOSED = "review_cycle_closed", "Review cycle closed"
    IMPORT = "import", "Inventory import"
    FIELD_CHANGE = "field_change", "Field change"
    SPRAWL_FOUND = "sprawl_cluster_found", "Sprawl cluster found"
    SPRAWL_CLOSED = "sprawl_cluster_closed", "Sprawl cluster no longer found"
    SPRAWL_CONFIRMED = "sprawl_cluster_confirmed", "Sprawl cluster confirmed"
    SPRAWL_DISMISSED = "sprawl_cluster_dismissed", "Sprawl cluster dismissed"
    SPRAWL_MEMBER_REMOVED = "sprawl_member_removed", "Sprawl cluster member removed"
    SPRAWL_MEMBER_JOINED = "sprawl_member_joined", "Sprawl cluster member joined"
    SPRAWL_MEMBER_ENDED = "sprawl_member_ended", "Sprawl cluster member ended (retired, rejected or killed)"
    DUPLICATE_PAIR_DECIDED = "duplicate_pair_decided", "Possible duplicate decided"
    DUPLICATE_PAIR_UNDONE = "duplicate_pair_undone", "Possible duplicate decision undone"
    USE_CASES_SET = "use_cases_set", "Use cases set"
    CATALOGUE_LOADED = "use_case_catalogue_loaded", "Use-case catalogue loaded"
    USE_CASE_EDITED = "use_case_edited", "Use case added or edited"
    SIGNAL_RAISED = "signal_raised", "Signal raised"
    SIGNAL_ACKNOWLEDGED = "signal_acknowledged", "Signal acknowledged"
    SIGNAL_RESOLVED = "signal_resolved", "Signal resolved"
    SIGNAL_DISMISSED = "signal_dismissed", "Signal dismissed"
    SIGNAL_REOPENED = "signal_reopened", "Signal reopened (its condition holds again)"
    ROLES_CHANGED = "roles_changed", "Roles changed"
    PERSON_DEACTIVATED = "person_deactivated", "Account deactivated"
    PERSON_REACTIVATED = "person_reactivated", "Account reactivated"
    PERSON_CREATED_BY_SSO = "person_created_by_sso", "Account created at single sign-on"
    PERSON_CREATED = "person_created", "Account created"
    INTEGRATION_ACCOUNT_CREATED = "integration_account_created", "Integration account created"
    INTEGRATION_ACCOUNT_MARKED = "integration_account_marked", "Marked as an integration account"
    INTEGRATION_ACCOUNT_UNMARKED = "integration_account_unmarked", "No longer an integration account"
    INVITATION_SENT = "invitation_sent", "Invitation sent"
    PASSWORD_CHANGED = "password_changed", "Password changed"
    INITIATIVES_HANDED_OVER = "initiatives_handed_over", "Initiatives handed over"
    API_TOKEN_ISSUED = "api_token_issued", "API token issued"
    API_TOKEN_REVOKED = "api_token_revoked", "API token revoked"
    API_TOKEN_EXPIRED = "api_token_expired", "API token expired"
    LOGIN_LOCK_CLEARED = "login_lock_cleared", "Login lock cleared"
    LOGIN_HISTORY_REMOVED = "login_history_removed", "Login history removed"
    MODEL_SUBSTITUTE_SET = "ai_model_substitute_set", "Model substitute set"
    AMOUNTS_CURRENCY_RECORDED = "amounts_currency_recorded", "Currency of the amounts recorded"


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
