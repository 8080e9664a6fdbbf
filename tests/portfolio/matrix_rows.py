"""Role-matrix rows of the cost pages and API added after the first cut (merged into tests/test_roles_matrix.py).

The cost source, rule and run objects themselves are built by the matrix's own fixture.
"""

from __future__ import annotations

from typing import Any

from tests.matrix import ADMIN, ADMIN_ONLY, API_ADMIN_WRITE, API_ANON, Case, only

# Deleting: a POST without the confirmation box re-shows the page (200) to an administrator and deletes nothing;
# the API's DELETE deletes (204).
API_ADMIN_DELETE = only({ADMIN: 204}, anon=API_ANON)

ROWS: dict[str, list[Case]] = {
    "portfolio:allocationrule_delete": [Case(ADMIN_ONLY, obj="allocation_rule"),
                                        Case(ADMIN_ONLY, method="post", obj="allocation_rule")],
    "api:allocationrule-reorder": [Case(API_ADMIN_WRITE, method="post")],
}

# Rows that add a case to a URL the main table already lists.
EXTRA_CASES: dict[str, list[Case]] = {
    "api:allocationrule-detail": [Case(API_ADMIN_DELETE, method="delete", obj="allocation_rule")],
}


def build_objects(built: dict[str, Any], users: dict[str, Any]) -> dict[str, Any]:
    return {}
