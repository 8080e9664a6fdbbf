"""Every event an explicit audit-trail row can name: one registry for every app that writes one (tollgate.audit
refuses a name it does not hold), so the audit page's Event filter offers whatever the trail shows.

Explicit rows carry the value in `additional_data["event"]`; plain field changes written by django-auditlog carry
none and are listed as "Field change"; inventory imports carry `additional_data["source"] == "inventory_import"`.
"""

from django.db import models


class AuditEvent(models.TextChoices):
    """What an audit-trail row records, in the business's words (the filter's options, in this order)."""

    # Intake, lifecycle, policies
    TRANSITION = "transition", "Transition"
    SCORE = "score", "Intake score"
    POLICY_CHANGE = "policy_change", "Policy change"
    START_DATE_CHANGED = "start_date_changed", "Start date changed"
    INITIATIVE_DELETED = "initiative_deleted", "Initiative deleted"
    EMPTY_BUSINESS_CASE_REMOVED = "empty_business_case_removed", "Empty business case removed"
    IMPORT = "import", "Inventory import"
    FIELD_CHANGE = "field_change", "Field change"
    # Reviews
    VERDICT = "verdict", "Verdict"
    REPORT_SUBMITTED = "value_report_submitted", "Value report submitted"
    REPORT_REOPENED = "value_report_reopened", "Value report reopened"
    CYCLE_OPENED = "review_cycle_opened", "Review cycle opened"
    CYCLE_RESCHEDULED = "review_cycle_rescheduled", "Review cycle rescheduled"
    CYCLE_CLOSED = "review_cycle_closed", "Review cycle closed"
    # Sprawl and use cases
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
    # Signals
    SIGNAL_RAISED = "signal_raised", "Signal raised"
    SIGNAL_ACKNOWLEDGED = "signal_acknowledged", "Signal acknowledged"
    SIGNAL_RESOLVED = "signal_resolved", "Signal resolved"
    SIGNAL_REOPENED = "signal_reopened", "Signal reopened (its condition holds again)"
    SIGNAL_DISMISSED = "signal_dismissed", "Signal dismissed"
    SIGNAL_MERGED = "signal_merged", "Signal merged (a duplicate row of the same subject and period)"
    # People and accounts
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
    # Reference data and licences
    MODEL_SUBSTITUTE_SET = "ai_model_substitute_set", "Model substitute set"
    VENDOR_DELETED = "vendor_deleted", "Vendor deleted"
    AI_MODEL_DELETED = "ai_model_deleted", "Model deleted"
    DEPARTMENT_DELETED = "department_deleted", "Department deleted"
    COST_CENTER_DELETED = "cost_center_deleted", "Cost center deleted"
    LICENCE_POOL_CREATED = "licence_pool_created", "Licence pool created"
    LICENCE_POOL_CHANGED = "licence_pool_changed", "Licence pool changed"
    LICENCE_POOL_DELETED = "licence_pool_deleted", "Licence pool deleted"
    # Costs
    AMOUNTS_CURRENCY_RECORDED = "amounts_currency_recorded", "Currency of the amounts recorded"
    COST_SOURCE_CREATED = "cost_source_created", "Cost source created"
    COST_SOURCE_CHANGED = "cost_source_changed", "Cost source changed"
    COST_SOURCE_DELETED = "cost_source_deleted", "Cost source deleted"
    ALLOCATION_RULE_CREATED = "allocation_rule_created", "Allocation rule created"
    ALLOCATION_RULE_CHANGED = "allocation_rule_changed", "Allocation rule changed"
    ALLOCATION_RULE_DELETED = "allocation_rule_deleted", "Allocation rule deleted"
    ALLOCATION_RULES_REORDERED = "allocation_rules_reordered", "Allocation rules reordered"
    CURRENCY_RATE_CREATED = "currency_rate_created", "Currency rate created"
    CURRENCY_RATE_CHANGED = "currency_rate_changed", "Currency rate changed"
    INGESTION_RUN_STARTED = "ingestion_run_started", "Ingestion run started"
    INGESTION_RUN_REPLACED_MONTH = "ingestion_run_replaced_month", "Ingestion run replaced month"
    INGESTION_RUN_FAILED = "ingestion_run_failed", "Ingestion run failed"
    COST_FORECAST_COMPUTED = "cost_forecast_computed", "Cost forecast computed"


def audit_event_check(event: str) -> None:
    """ValueError for an event the registry does not hold: a writer's new event must be declared above, or the trail
    would show a row its Event filter cannot find."""
    if event not in AuditEvent.values or event in (AuditEvent.IMPORT, AuditEvent.FIELD_CHANGE):
        raise ValueError(f"{event!r} is not an audit event declared in tollgate/audit_events.py")
