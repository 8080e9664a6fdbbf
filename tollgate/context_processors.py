"""Navigation per role, built from the permissions in tollgate.roles."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.context_processors import PermLookupDict, PermWrapper
from django.http import HttpRequest
from django.urls import reverse

from tollgate.roles import group_names, may, role_of

NAV = [
    ("Dashboard", "portfolio:dashboard", "portfolio.view_dashboard"),
    ("Portfolio", "portfolio:initiative_list", "portfolio.view_initiative"),
    ("Register initiative", "portfolio:initiative_create", "portfolio.add_initiative"),
    ("Departments", "portfolio:department_list", "portfolio.view_department"),
    ("Cost centers", "portfolio:costcenter_list", "portfolio.view_costcenter"),
    ("Vendors", "portfolio:vendor_list", "portfolio.view_vendor"),
    ("Models", "portfolio:aimodel_list", "portfolio.view_aimodel"),
    ("Licences", "portfolio:licencepool_list", "portfolio.view_licencepool"),
    ("Imports", "portfolio:import_list", "portfolio.view_importrun"),
    ("People", "portfolio:person_list", "portfolio.manage_people"),
    ("My reports", "reviews:mine", "reviews.fill_valuereport"),
    ("Review cycles", "reviews:cycle_list", "reviews.view_reviewcycle"),
    ("Review queue", "governance:queue", "governance.view_reviewqueue"),
    ("Audit trail", "governance:audit", "governance.view_audittrail"),
    ("Signals", "governance:signal_list", "governance.view_signal"),
    ("Sprawl", "governance:sprawl_list", "governance.view_sprawlcluster"),
    ("Use cases", "governance:usecase_list", "governance.view_usecase"),
    ("Policies", "governance:policy_list", "governance.view_policy"),
    ("Cost ingestion", "portfolio:ingestion_health", "portfolio.view_costsource"),
    ("Forecast", "portfolio:cost_forecast", "portfolio.view_costforecast"),
]


class RolePermLookupDict(PermLookupDict):
    def __getitem__(self, perm_name: str) -> bool:
        return may(self.user, f"{self.app_label}.{perm_name}")


class RolePerms(PermWrapper):
    """`{{ perms.app.codename }}` in templates, answered by tollgate.roles.may like every other check (Django's own
    wrapper says yes to any superuser, whatever the role rules say)."""

    def __getitem__(self, app_label: str) -> RolePermLookupDict:
        return RolePermLookupDict(self.user, app_label)

    def __contains__(self, perm_name: object) -> bool:
        if not isinstance(perm_name, str) or "." not in perm_name:
            return False
        return may(self.user, perm_name)


# The links a user sees, per what the navigation's checks depend on: the checks are asked without an object, so
# the rules answer from the groups and the superuser flag alone (tests/tollgate/test_navigation.py holds them to it).
# Asking the rules for every link on every page cost more than serving a cached dashboard.
_links_by_roles: dict[tuple[frozenset[str], bool, bool], list[tuple[str, str]]] = {}


def nav_key(user: Any) -> tuple[frozenset[str], bool, bool]:
    return frozenset(group_names(user)), bool(user.is_superuser), bool(user.is_active)


def nav_links(user: Any) -> list[tuple[str, str]]:
    """(label, url) of the pages `user` may open, computed once per combination of roles."""
    key = nav_key(user)
    links = _links_by_roles.get(key)
    if links is None:
        links = [(label, reverse(url_name)) for label, url_name, perm in NAV if may(user, perm)]
        _links_by_roles[key] = links
    return links


def navigation(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": [], "user_role": None}
    path = request.path
    urls = nav_links(user)
    # Only the most specific match is the current page (the forecast lives under the cost ingestion pages).
    current = max((url for _, url in urls if path.startswith(url) and url != "/"), key=len, default=None)
    items = [{"label": label, "url": url, "active": url == current} for label, url in urls]
    role = role_of(user)
    return {"nav_items": items, "user_role": role.label if role else "No role", "is_admin_user": user.is_staff,
            "perms": RolePerms(user), "password_login": settings.PASSWORD_LOGIN}
