"""Role-matrix rows of the cost pages and API added after the first cut (merged into tests/test_roles_matrix.py).

The cost source, rule and run objects themselves are built by the matrix's own fixture; the rate is built here.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from tests.matrix import (
    ADMIN,
    ADMIN_ONLY,
    API_ADMIN_PATCH,
    API_ADMIN_WRITE,
    API_ANON,
    API_READ,
    EXECUTIVE,
    LOGIN,
    OWNER,
    OWNER_OTHER,
    REVIEWER,
    Case,
    May,
    everyone,
    only,
)

# Deleting: a POST without the confirmation box re-shows the page (200) to an administrator and deletes nothing;
# the API's DELETE deletes (204).
API_ADMIN_DELETE = only({ADMIN: 204}, anon=API_ANON)
# Currency rates: admins, reviewers and executives read; administrators add and change them.
COST_READ = only({REVIEWER: 200, EXECUTIVE: 200, ADMIN: 200})
API_COST_READ = only({REVIEWER: 200, EXECUTIVE: 200, ADMIN: 200}, anon=API_ANON)

ROWS: dict[str, list[Case]] = {
    # Changing an approved initiative's start date, with a reason: an independent CoE reviewer or an administrator
    # (tollgate.roles: portfolio.change_start_date), not its owner; an empty POST re-shows the form with its errors.
    "portfolio:initiative_start_date": [
        Case(May("portfolio.change_start_date", 200, anon=LOGIN), obj="approved"),
        Case(May("portfolio.change_start_date", 200, anon=LOGIN), method="post", obj="approved"),
    ],
    # People: administrators only. An empty POST is a valid form (no roles, not active, no profile): it saves and
    # redirects to the list (each request is rolled back before the next role's).
    "portfolio:person_list": [Case(ADMIN_ONLY), Case(ADMIN_ONLY, query="_export=csv"),
                              Case(ADMIN_ONLY, query="role=reviewer&active=true&q=o&sort=-last_login"),
                              Case(ADMIN_ONLY, query="integration_account=true&sign_in=integration"
                                                     "&sort=integration_account")],
    "portfolio:person_edit": [Case(ADMIN_ONLY, obj="person"), Case(only({ADMIN: 302}), method="post", obj="person")],
    # Adding someone: an empty POST re-shows the form with its errors. An invitation is sent and redirects back.
    "portfolio:person_create": [Case(ADMIN_ONLY), Case(ADMIN_ONLY, method="post")],
    # Adding an integration account: an empty POST re-shows the form with its errors.
    "portfolio:integration_account_create": [Case(ADMIN_ONLY), Case(ADMIN_ONLY, method="post")],
    "portfolio:person_invite": [Case(only({ADMIN: 302}), method="post", obj="person")],
    # A hand-over without anyone chosen re-shows the person's page with the error.
    "portfolio:person_hand_over": [Case(ADMIN_ONLY, method="post", obj="person")],
    "portfolio:person_invite_all": [Case(only({ADMIN: 302}), method="post")],
    "portfolio:person_tokens_revoke": [Case(only({ADMIN: 302}), method="post", obj="person")],
    "portfolio:apitoken_list": [Case(ADMIN_ONLY), Case(ADMIN_ONLY, query="_export=csv"),
                                Case(ADMIN_ONLY, query="state=unused&read_only=true&kind=named&q=a&sort=-expiry")],
    "portfolio:allocationrule_delete": [Case(ADMIN_ONLY, obj="allocation_rule"),
                                        Case(ADMIN_ONLY, method="post", obj="allocation_rule")],
    "api:allocationrule-reorder": [Case(API_ADMIN_WRITE, method="post")],
    # Moving a rule (a POST without a direction changes nothing) answers with a redirect back to the rules.
    "portfolio:allocationrule_move": [Case(only({ADMIN: 302}), method="post", obj="allocation_rule")],
    # An empty POST re-shows the rate form with its errors (200) to an administrator.
    "portfolio:currencyrate_list": [Case(COST_READ), Case(COST_READ, query="_export=csv"),
                                    Case(COST_READ, query="currency=eur&on=2025-06-01&sort=-rate_to_reporting")],
    "portfolio:currencyrate_create": [Case(ADMIN_ONLY), Case(ADMIN_ONLY, method="post")],
    # Cost sources are added and edited by administrators only; an empty POST re-shows the form with its errors.
    "portfolio:costsource_create": [Case(ADMIN_ONLY), Case(ADMIN_ONLY, method="post")],
    "portfolio:costsource_edit": [Case(ADMIN_ONLY, obj="cost_source"),
                                  Case(ADMIN_ONLY, method="post", obj="cost_source")],
    "portfolio:currencyrate_edit": [Case(ADMIN_ONLY, obj="currency_rate"),
                                    Case(ADMIN_ONLY, method="post", obj="currency_rate")],
    # Departments and cost centers: administrators add and edit them; an empty POST re-shows the form with its
    # errors (200).
    "portfolio:department_create": [Case(ADMIN_ONLY), Case(ADMIN_ONLY, method="post")],
    "portfolio:department_edit": [Case(ADMIN_ONLY, obj="department"),
                                  Case(ADMIN_ONLY, method="post", obj="department")],
    "portfolio:costcenter_create": [Case(ADMIN_ONLY), Case(ADMIN_ONLY, method="post")],
    "portfolio:costcenter_edit": [Case(ADMIN_ONLY, obj="cost_center"),
                                  Case(ADMIN_ONLY, method="post", obj="cost_center")],
    # Vendors, models and licence pools: administrators add and edit them (an owner adjusts their own pool through
    # the API only); an empty POST re-shows the form with its errors (200). Deleting a pool: a POST without the
    # confirmation box re-shows the page and deletes nothing.
    "portfolio:vendor_create": [Case(ADMIN_ONLY), Case(ADMIN_ONLY, method="post")],
    "portfolio:vendor_edit": [Case(ADMIN_ONLY, obj="vendor"), Case(ADMIN_ONLY, method="post", obj="vendor")],
    "portfolio:aimodel_create": [Case(ADMIN_ONLY), Case(ADMIN_ONLY, method="post")],
    "portfolio:aimodel_edit": [Case(ADMIN_ONLY, obj="ai_model"), Case(ADMIN_ONLY, method="post", obj="ai_model")],
    "portfolio:licencepool_create": [Case(ADMIN_ONLY), Case(ADMIN_ONLY, method="post")],
    "portfolio:licencepool_edit": [Case(ADMIN_ONLY, obj="licence_pool"),
                                   Case(ADMIN_ONLY, method="post", obj="licence_pool")],
    "portfolio:licencepool_delete": [Case(ADMIN_ONLY, obj="licence_pool"),
                                     Case(ADMIN_ONLY, method="post", obj="licence_pool")],
    "api:currencyrate-list": [Case(API_COST_READ), Case(API_ADMIN_WRITE, method="post")],
    "api:currencyrate-detail": [Case(API_COST_READ, obj="currency_rate"),
                                Case(API_ADMIN_PATCH, method="patch", obj="currency_rate")],
    # An initiative's actual cost month by month: every role reads it, like the initiative; a bad month is a 400.
    "api:initiative-costs": [Case(API_READ, obj="own"), Case(API_READ, obj="own", query="from=2026-01&to=2026-09"),
                             Case(everyone(400, anon=API_ANON), obj="own", query="from=2026-13")],
}

# The API's object writes, by whoever tollgate/roles.py grants the permission on that object: an empty PUT is refused
# by validation (400), except where every field is optional (a business case: 200); DELETE deletes (204), or answers
# 409 while other records still point at the object.
API_PUT_EMPTY = 400
API_PUT_OPTIONAL = 200
API_DELETED = 204
API_IN_USE = 409
API_UNCONFIRMED = 400  # a DELETE that needs a confirmation it was not given

# Rows that add a case to a URL the main table already lists.
EXTRA_CASES: dict[str, list[Case]] = {
    "api:allocationrule-detail": [Case(API_ADMIN_DELETE, method="delete", obj="allocation_rule"),
                                  Case(May("portfolio.change_allocationrule", API_PUT_EMPTY), method="put",
                                       obj="allocation_rule")],
    "api:currencyrate-detail": [Case(May("portfolio.change_currencyrate", API_PUT_EMPTY), method="put",
                                     obj="currency_rate")],
    **{
        f"api:{model}-detail": [
            Case(May(f"portfolio.change_{model}", put), method="put", obj=obj),
            Case(May(f"portfolio.delete_{model}", deleted), method="delete", obj=obj),
        ]
        for model, obj, put, deleted in (
            ("initiative", "own", API_PUT_EMPTY, API_DELETED),
            ("businesscase", "business_case", API_PUT_OPTIONAL, API_DELETED),
            ("kpi", "kpi", API_PUT_EMPTY, API_DELETED),
            ("department", "department", API_PUT_EMPTY, API_IN_USE),
            ("costcenter", "cost_center", API_PUT_EMPTY, API_IN_USE),
            ("vendor", "vendor", API_PUT_EMPTY, API_IN_USE),
            ("aimodel", "ai_model", API_PUT_EMPTY, API_IN_USE),  # an initiative names it
            ("licencepool", "licence_pool", API_PUT_EMPTY, API_DELETED),
        )
    },
    # A cost source's DELETE takes its spend with it, so it asks for the source's name as confirmation: without it, 400
    # and nothing deleted; with it, its rules and runs go with it.
    "api:costsource-detail": [
        Case(May("portfolio.change_costsource", API_PUT_EMPTY), method="put", obj="cost_source"),
        Case(May("portfolio.delete_costsource", API_UNCONFIRMED), method="delete", obj="cost_source"),
        Case(May("portfolio.delete_costsource", API_DELETED), method="delete", obj="cost_source",
             query="confirm=aws-focus"),
    ],
}


def build_objects(built: dict[str, Any], users: dict[str, Any]) -> dict[str, Any]:
    from portfolio.choices import Stage
    from portfolio.models import CurrencyRate
    from tests.factories import InitiativeFactory

    rate = CurrencyRate.objects.create(currency="EUR", valid_from=date(2025, 1, 1), rate_to_reporting=Decimal("1.08"))
    # The owner's approved initiative: its start date moves only by someone independent of it (a reviewer, an admin).
    approved = InitiativeFactory(owner=users[OWNER], stage=Stage.APPROVED, start_date=date(2026, 1, 1))
    return {"currency_rate": rate, "person": users[OWNER_OTHER], "approved": approved}
