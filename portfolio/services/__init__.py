"""Writes of the portfolio app. Each service takes a keyword-only acting user and runs in one transaction."""

from portfolio.services.business_cases import business_case_version_record, plan_edit
from portfolio.services.initiatives import (
    business_case_delete,
    business_case_save,
    initiative_create,
    initiative_next_external_id,
    initiative_update,
    kpi_delete,
    kpi_save,
    kpis_replace,
)
from portfolio.services.inventory_import import (
    import_run_create,
    import_run_submit,
    inventory_import_run,
    inventory_parse,
)
from portfolio.services.licences import licence_pool_delete, licence_pool_save
from portfolio.services.passwords import password_set, people_invite_all, person_invite
from portfolio.services.people import (
    initiatives_hand_over,
    login_history_remove,
    login_lock_clear,
    person_create,
    person_deactivate,
    person_get_or_create,
    person_reactivate,
    person_set_role,
    person_set_roles,
    person_sign_in_with_sso,
    person_update,
    profile_notifications_set,
)
from portfolio.services.reference import (
    ai_model_get_or_create,
    ai_model_substitute_set,
    cost_center_get_or_create,
    department_get_or_create,
    vendor_get_or_create,
)
from portfolio.services.tokens import (
    api_token_issue,
    api_token_obtain,
    api_token_revoke,
    api_tokens_expired_remove,
    api_tokens_revoke_all,
)

__all__ = [
    "ai_model_get_or_create",
    "ai_model_substitute_set",
    "api_token_issue",
    "api_token_obtain",
    "api_token_revoke",
    "api_tokens_expired_remove",
    "api_tokens_revoke_all",
    "business_case_delete",
    "business_case_save",
    "business_case_version_record",
    "cost_center_get_or_create",
    "department_get_or_create",
    "initiative_create",
    "initiative_next_external_id",
    "initiative_update",
    "import_run_create",
    "import_run_submit",
    "inventory_import_run",
    "inventory_parse",
    "kpi_delete",
    "kpi_save",
    "kpis_replace",
    "licence_pool_delete",
    "licence_pool_save",
    "initiatives_hand_over",
    "login_history_remove",
    "login_lock_clear",
    "person_create",
    "person_deactivate",
    "person_get_or_create",
    "person_reactivate",
    "person_set_role",
    "person_set_roles",
    "person_sign_in_with_sso",
    "person_update",
    "profile_notifications_set",
    "person_invite",
    "people_invite_all",
    "password_set",
    "plan_edit",
    "vendor_get_or_create",
]
