"""Building blocks of the role matrix; each app adds its rows in tests/<app>/matrix_rows.py."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

ANON, OWNER, OWNER_OTHER, REVIEWER, EXECUTIVE, ADMIN = "anon", "owner", "owner_other", "reviewer", "executive", "admin"
ROLES = (ANON, OWNER, OWNER_OTHER, REVIEWER, EXECUTIVE, ADMIN)

LOGIN = 302  # anonymous page requests are redirected to the login page
DENIED = 403
API_ANON = 401  # the API answers anonymous calls with 401 (token auth offers WWW-Authenticate)


def everyone(status: int, anon: int = LOGIN) -> dict[str, int]:
    return {ANON: anon, OWNER: status, OWNER_OTHER: status, REVIEWER: status, EXECUTIVE: status, ADMIN: status}


def only(allowed: dict[str, int], anon: int = LOGIN, denied: int = DENIED) -> dict[str, int]:
    return {role: allowed.get(role, denied) for role in ROLES} | {ANON: anon}


@dataclass
class Case:
    """One request: `obj` names the fixture object whose pk goes into the URL ('own' is the owner's initiative)."""

    expected: dict[str, int] | May
    method: str = "get"
    obj: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    query: str = ""


PAGE_READ = everyone(200)
OWN_EDIT = only({OWNER: 200, ADMIN: 200})
ADMIN_ONLY = only({ADMIN: 200})
API_READ = everyone(200, anon=API_ANON)
# API writes send an empty body: a permitted caller gets past permissions to validation (400), others get 403.
API_ADMIN_WRITE = only({ADMIN: 400}, anon=API_ANON)
API_OWN_PATCH = only({OWNER: 200, ADMIN: 200}, anon=API_ANON)
API_ADMIN_PATCH = only({ADMIN: 200}, anon=API_ANON)


@dataclass(frozen=True)
class May:
    """Expected statuses computed from the role declarations (tollgate/roles.py): `status` for a role granted `perm`
    (on the case's object when `on_object`, as the API's object check asks), `denied` for the others."""

    perm: str
    status: int
    on_object: bool = True
    anon: int = API_ANON
    denied: int = DENIED

    def status_for(self, user: Any, target: Any) -> int:
        if user is None:
            return self.anon
        return self.status if user.has_perm(self.perm, target if self.on_object else None) else self.denied


UNSAFE_METHODS = ("post", "put", "patch", "delete")
NOT_ALLOWED = 405  # a method the endpoint does not offer, to a caller who passed the permission check
