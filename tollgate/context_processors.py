"""Navigation per role, built from the permissions in tollgate.roles."""

from __future__ import annotations

from django.http import HttpRequest
from django.urls import reverse

from tollgate.roles import role_of

NAV = [
    ("Portfolio", "portfolio:initiative_list", "portfolio.view_initiative"),
    ("Register initiative", "portfolio:initiative_create", "portfolio.add_initiative"),
    ("Departments", "portfolio:department_list", "portfolio.view_department"),
    ("Cost centers", "portfolio:costcenter_list", "portfolio.view_costcenter"),
    ("Vendors", "portfolio:vendor_list", "portfolio.view_vendor"),
    ("Models", "portfolio:aimodel_list", "portfolio.view_aimodel"),
    ("Licences", "portfolio:licencepool_list", "portfolio.view_licencepool"),
    ("Imports", "portfolio:import_list", "portfolio.view_importrun"),
    ("My reports", "reviews:mine", "reviews.view_valuereport"),
    ("Review cycles", "reviews:cycle_list", "reviews.view_reviewcycle"),
    ("Review queue", "governance:queue", "governance.view_reviewqueue"),
    ("Audit trail", "governance:audit", "governance.view_audittrail"),
    ("Sprawl", "governance:sprawl_list", "governance.view_sprawlcluster"),
    ("Use cases", "governance:usecase_list", "governance.view_usecase"),
    ("Policies", "governance:policy_list", "governance.view_policy"),
    ("Cost ingestion", "portfolio:ingestion_health", "portfolio.view_costsource"),
]


def navigation(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": [], "user_role": None}
    path = request.path
    items = []
    for label, url_name, perm in NAV:
        if user.has_perm(perm):
            url = reverse(url_name)
            items.append({"label": label, "url": url, "active": path.startswith(url) and url != "/"})
    role = role_of(user)
    return {"nav_items": items, "user_role": role.label if role else "No role", "is_admin_user": user.is_staff}
