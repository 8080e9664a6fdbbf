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
    USE_CASES_SET = "use_cases_set", "Use cases set"
    CATALOGUE_LOADED = "use_case_catalogue_loaded", "Use-case catalogue loaded"
    USE_CASE_EDITED = "use_case_edited", "Use case added or edited"


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


class SprawlRunTrigger(models.TextChoices):
    """What started a sprawl recomputation."""

    USER = "user", "User (page)"
    API = "api", "API"
    IMPORT = "import", "Inventory import"
    SCHEDULE = "schedule", "Nightly schedule"
    COMMAND = "command", "Command line"
