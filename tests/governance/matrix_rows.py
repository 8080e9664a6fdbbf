"""Role-matrix rows of the governance pages and API (merged into tests/test_roles_matrix.py)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from tests.matrix import (
    ADMIN,
    ADMIN_ONLY,
    API_ANON,
    API_READ,
    EXECUTIVE,
    OWNER,
    PAGE_READ,
    REVIEWER,
    Case,
    only,
)

REVIEWER_ONLY = only({REVIEWER: 200})
AUDIT_READERS = only({REVIEWER: 200, EXECUTIVE: 200, ADMIN: 200})
OWNER_OR_ADMIN = only({OWNER: 200, ADMIN: 200})

ROWS: dict[str, list[Case]] = {
    "governance:queue": [Case(REVIEWER_ONLY), Case(REVIEWER_ONLY, query="_export=csv")],
    # Owners, delegates and executives never score; an empty POST re-shows the form with errors (200).
    "governance:score": [Case(REVIEWER_ONLY, obj="own_in_review"),
                         Case(REVIEWER_ONLY, method="post", obj="own_in_review")],
    # Transition pages: GET shows the guard status; an empty POST fails the guard or the reason (200, form errors).
    "governance:transition_submit": [Case(OWNER_OR_ADMIN, obj="own"), Case(OWNER_OR_ADMIN, method="post", obj="own")],
    "governance:transition_request_changes": [Case(REVIEWER_ONLY, obj="own_in_review"),
                                              Case(REVIEWER_ONLY, method="post", obj="own_in_review")],
    "governance:transition_approve": [Case(REVIEWER_ONLY, obj="own_in_review"),
                                      Case(REVIEWER_ONLY, method="post", obj="own_in_review")],
    "governance:transition_reject": [Case(REVIEWER_ONLY, obj="own_in_review"),
                                     Case(REVIEWER_ONLY, method="post", obj="own_in_review")],
    "governance:transition_start_pilot": [Case(OWNER_OR_ADMIN, obj="own")],
    "governance:transition_promote": [Case(only({OWNER: 200, REVIEWER: 200, ADMIN: 200}), obj="own")],
    "governance:transition_retire": [Case(OWNER_OR_ADMIN, obj="own")],
    "governance:transition_kill": [Case(only({REVIEWER: 200, ADMIN: 200}), obj="own"),
                                   Case(only({REVIEWER: 200, ADMIN: 200}), method="post", obj="own")],
    "governance:audit": [Case(AUDIT_READERS), Case(AUDIT_READERS, query="_export=csv"),
                         Case(AUDIT_READERS, query="event=transition&initiative=EXT&since=2020-01-01")],
    "governance:policy_list": [Case(PAGE_READ), Case(PAGE_READ, query="_export=csv")],
    "governance:policy_edit": [Case(ADMIN_ONLY, obj="policy"), Case(ADMIN_ONLY, method="post", obj="policy")],
    "governance:rubric": [Case(PAGE_READ)],
    # API
    "governance_api:transitions": [
        Case(only({OWNER: 400, REVIEWER: 400, ADMIN: 400}, anon=API_ANON), method="post", obj="own"),
    ],
    "governance_api:scores": [
        Case(API_READ, obj="own_in_review"),
        Case(only({REVIEWER: 400}, anon=API_ANON), method="post", obj="own_in_review"),
    ],
    "governance_api:policy-list": [Case(API_READ)],
    "governance_api:policy-detail": [Case(API_READ, obj="policy")],
    "governance_api:rubriccriterion-list": [Case(API_READ)],
    "governance_api:rubriccriterion-detail": [Case(API_READ, obj="criterion")],
    "governance_api:auditentry-list": [Case(only({REVIEWER: 200, EXECUTIVE: 200, ADMIN: 200}, anon=API_ANON))],
}


def build_objects(objects: dict[str, Any], users: dict[str, Any]) -> dict[str, Any]:
    from portfolio.choices import Stage
    from tests.factories import InitiativeFactory, RubricCriterionFactory

    return {
        "own_in_review": InitiativeFactory(owner=users[OWNER], stage=Stage.IN_REVIEW),
        # Policies are addressed by key; the matrix puts `.pk` into the URL.
        "policy": SimpleNamespace(pk="intake.quorum"),
        "criterion": RubricCriterionFactory(name="Strategic fit"),
    }
