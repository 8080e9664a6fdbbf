"""Role matrix: every URL pattern and API endpoint, for every role, with the status it must answer.

The table below is the specification. A URL pattern that is not in it fails `test_every_url_is_in_the_matrix`,
so a new page or endpoint cannot arrive without deciding who may use it.
"""

from __future__ import annotations

import importlib
import importlib.util
from types import SimpleNamespace
from typing import Any

import pytest
from django.contrib import admin
from django.db import transaction
from django.test import RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from rest_framework.permissions import IsAuthenticated
from rest_framework.views import APIView

from tests.factories import BusinessCaseFactory, KPIFactory, LicencePoolFactory
from tests.matrix import (
    ADMIN,
    ADMIN_ONLY,
    ANON,
    API_ADMIN_PATCH,
    API_ADMIN_WRITE,
    API_ANON,
    API_OWN_PATCH,
    API_READ,
    DENIED,
    EXECUTIVE,
    LOGIN,
    NOT_ALLOWED,
    OWN_EDIT,
    OWNER,
    OWNER_OTHER,
    PAGE_READ,
    REVIEWER,
    ROLES,
    UNSAFE_METHODS,
    Case,
    May,
    everyone,
    only,
)
from tollgate.permissions import RolePermission, required_perm

COST_READ = only({REVIEWER: 200, EXECUTIVE: 200, ADMIN: 200})
API_COST_READ = only({REVIEWER: 200, EXECUTIVE: 200, ADMIN: 200}, anon=API_ANON)

MATRIX: dict[str, list[Case]] = {
    "home": [Case(everyone(302))],
    "login": [Case(everyone(200, anon=200))],
    "logout": [Case(everyone(302, anon=302), method="post")],
    # One's own password: every signed-in role (an empty POST re-shows the form with its errors). Setting one from an
    # e-mailed link is how someone who cannot sign in gets back in, so anyone may open those pages; a link that is
    # not a valid one says so (200). tests/tollgate/test_passwords.py runs the flows.
    "password_change": [Case(everyone(200)), Case(everyone(200), method="post")],
    # One's own account: everyone signed in, about themselves only (a new API token is shown on the answering page,
    # an empty POST answers 400 naming what is missing; revoking none and saving the notification box redirect
    # back). tests/tollgate/test_account.py runs them.
    "account": [Case(everyone(200))],
    "account_token": [Case(everyone(400), method="post")],
    "account_token_revoke": [Case(everyone(302), method="post")],
    "account_notifications": [Case(everyone(302), method="post")],
    "password_reset": [Case(everyone(200, anon=200)), Case(everyone(200, anon=200), method="post")],
    "password_reset_done": [Case(everyone(200, anon=200))],
    "password_reset_confirm": [Case(everyone(200, anon=200), obj="reset_link"),
                               Case(everyone(200, anon=200), method="post", obj="reset_link")],
    # Single sign-on: 404 while it is not configured (as here); configured, tests/tollgate/test_sso.py runs the flow
    # against a real provider (anyone may start it: it is how one logs in).
    "oidc_authentication_init": [Case(everyone(404, anon=404))],
    "oidc_authentication_callback": [Case(everyone(404, anon=404))],
    "health": [Case(everyone(200, anon=200))],
    "health_live": [Case(everyone(200, anon=200))],
    "health_ready": [Case(everyone(200, anon=200))],
    # Not by role but by address or token (METRICS_ALLOWED_IPS, METRICS_TOKEN): the test client calls from 127.0.0.1,
    # allowed by default; tests/tollgate/test_metrics.py refuses other addresses.
    "metrics": [Case(everyone(200, anon=200))],
    "admin:index": [Case(only({ADMIN: 200}, anon=302, denied=302))],
    "api_token": [Case(everyone(400, anon=400), method="post")],
    # Revoking the token a request came with: signed in with a session there is none to revoke (400).
    "api_token_revoke": [Case(everyone(400, anon=401), method="post")],
    "api_me": [Case(API_READ)],
    "schema": [Case(API_READ)],
    "api_docs": [Case(API_READ)],
    "api_redoc": [Case(API_READ)],
    # Pages
    "portfolio:dashboard": [Case(PAGE_READ), Case(PAGE_READ, query="_export=kill_candidates"),
                            Case(PAGE_READ, query="quarter=2026-Q3&_export=departments")],
    "portfolio:board_pack": [Case(PAGE_READ, obj="quarter")],
    "portfolio:board_pack_pdf": [Case(PAGE_READ, obj="quarter")],
    "api:dashboard": [Case(API_READ), Case(API_READ, query="quarter=2026-Q3")],
    "portfolio:initiative_list": [Case(PAGE_READ), Case(PAGE_READ, query="_export=csv")],
    "portfolio:initiative_create": [Case(only({OWNER: 200, OWNER_OTHER: 200, ADMIN: 200}))],
    "portfolio:initiative_detail": [Case(PAGE_READ, obj="own")],
    "portfolio:initiative_edit": [Case(OWN_EDIT, obj="own")],
    "portfolio:department_list": [Case(PAGE_READ), Case(PAGE_READ, query="_export=csv")],
    "portfolio:department_detail": [Case(PAGE_READ, obj="department")],
    "portfolio:costcenter_list": [Case(PAGE_READ), Case(PAGE_READ, query="_export=csv")],
    "portfolio:costcenter_detail": [Case(PAGE_READ, obj="cost_center")],
    "portfolio:vendor_list": [Case(PAGE_READ), Case(PAGE_READ, query="_export=csv")],
    "portfolio:aimodel_list": [Case(PAGE_READ), Case(PAGE_READ, query="_export=csv")],
    "portfolio:licencepool_list": [Case(PAGE_READ), Case(PAGE_READ, query="_export=csv")],
    "portfolio:import_list": [Case(ADMIN_ONLY), Case(ADMIN_ONLY, query="_export=csv")],
    "portfolio:import_create": [Case(ADMIN_ONLY)],
    "portfolio:import_detail": [Case(ADMIN_ONLY, obj="import_run")],
    # Cost ingestion (issue 5): admins, reviewers and executives read; admins run sources and write rules.
    # An empty POST re-shows the form with its errors (200) to an administrator.
    "portfolio:ingestion_health": [Case(COST_READ)],
    "portfolio:costsource_list": [Case(COST_READ), Case(COST_READ, query="_export=csv")],
    "portfolio:costsource_detail": [Case(COST_READ, obj="cost_source")],
    "portfolio:costsource_run": [Case(ADMIN_ONLY, obj="cost_source"),
                                 Case(ADMIN_ONLY, method="post", obj="cost_source")],
    "portfolio:ingestionrun_list": [Case(COST_READ), Case(COST_READ, query="_export=csv"),
                                    Case(COST_READ, query="status=failed&period=2025-06&sort=-period")],
    "portfolio:ingestionrun_detail": [Case(COST_READ, obj="ingestion_run")],
    "portfolio:allocationrule_list": [Case(COST_READ), Case(COST_READ, query="_export=csv")],
    "portfolio:allocationrule_create": [Case(ADMIN_ONLY), Case(ADMIN_ONLY, method="post")],
    "portfolio:allocationrule_edit": [Case(ADMIN_ONLY, obj="allocation_rule"),
                                      Case(ADMIN_ONLY, method="post", obj="allocation_rule")],
    # Spend forecast (issue 11): every role reads it and its CSV; anonymous callers go to the login page.
    "portfolio:cost_forecast": [Case(PAGE_READ), Case(PAGE_READ, query="_export=csv"),
                                Case(PAGE_READ, query="q=search&method=spend_trend&sort=-backtest_mape")],
    # API
    "api:api-root": [Case(API_READ)],
    # The governance and reviews APIs' own indexes (tollgate/api_root.py): links only, for anyone signed in.
    "governance_api:api-root": [Case(API_READ)],
    "reviews_api:api-root": [Case(API_READ)],
    "api:initiative-list": [
        Case(API_READ),
        Case(only({OWNER: 400, OWNER_OTHER: 400, ADMIN: 400}, anon=API_ANON), method="post"),
    ],
    "api:initiative-detail": [Case(API_READ, obj="own"), Case(API_OWN_PATCH, method="patch", obj="own")],
    "api:businesscase-list": [
        Case(API_READ),
        Case(only({OWNER: 400, OWNER_OTHER: 400, ADMIN: 400}, anon=API_ANON), method="post"),
    ],
    "api:businesscase-detail": [Case(API_READ, obj="business_case"),
                                Case(API_OWN_PATCH, method="patch", obj="business_case")],
    "api:kpi-list": [
        Case(API_READ),
        Case(only({OWNER: 400, OWNER_OTHER: 400, ADMIN: 400}, anon=API_ANON), method="post"),
    ],
    "api:kpi-detail": [Case(API_READ, obj="kpi"), Case(API_OWN_PATCH, method="patch", obj="kpi")],
    "api:department-list": [Case(API_READ), Case(API_ADMIN_WRITE, method="post")],
    "api:department-detail": [Case(API_READ, obj="department"),
                              Case(API_ADMIN_PATCH, method="patch", obj="department")],
    "api:costcenter-list": [Case(API_READ), Case(API_ADMIN_WRITE, method="post")],
    "api:costcenter-detail": [Case(API_READ, obj="cost_center"),
                              Case(API_ADMIN_PATCH, method="patch", obj="cost_center")],
    "api:vendor-list": [Case(API_READ), Case(API_ADMIN_WRITE, method="post")],
    "api:vendor-detail": [Case(API_READ, obj="vendor"), Case(API_ADMIN_PATCH, method="patch", obj="vendor")],
    # People: administrators only, reading too (an empty POST is refused by validation, an empty PATCH changes
    # nothing; an invitation is e-mailed to the other owner).
    "api:person-list": [Case(only({ADMIN: 200}, anon=API_ANON)), Case(API_ADMIN_WRITE, method="post")],
    "api:person-detail": [Case(only({ADMIN: 200}, anon=API_ANON), obj="person"),
                          Case(API_ADMIN_PATCH, method="patch", obj="person")],
    "api:person-invite": [Case(only({ADMIN: 200}, anon=API_ANON), method="post", obj="person")],
    "api:person-hand-over": [Case(API_ADMIN_WRITE, method="post", obj="person")],
    "api:person-invite-all": [Case(only({ADMIN: 200}, anon=API_ANON), method="post")],
    "api:person-revoke-tokens": [Case(only({ADMIN: 200}, anon=API_ANON), method="post", obj="person")],
    "api:aimodel-list": [Case(API_READ), Case(API_ADMIN_WRITE, method="post")],
    "api:aimodel-detail": [Case(API_READ, obj="ai_model"), Case(API_ADMIN_PATCH, method="patch", obj="ai_model")],
    "api:licencepool-list": [Case(API_READ), Case(API_ADMIN_WRITE, method="post")],
    "api:licencepool-detail": [Case(API_READ, obj="licence_pool"),
                               Case(API_OWN_PATCH, method="patch", obj="licence_pool")],
    "api:costsource-list": [Case(API_COST_READ), Case(API_ADMIN_WRITE, method="post")],
    "api:costsource-detail": [Case(API_COST_READ, obj="cost_source"),
                              Case(API_ADMIN_PATCH, method="patch", obj="cost_source")],
    "api:allocationrule-list": [Case(API_COST_READ), Case(API_ADMIN_WRITE, method="post")],
    "api:allocationrule-detail": [Case(API_COST_READ, obj="allocation_rule"),
                                  Case(API_ADMIN_PATCH, method="patch", obj="allocation_rule")],
    "api:ingestionrun-list": [Case(API_COST_READ), Case(API_ADMIN_WRITE, method="post")],
    "api:ingestionrun-detail": [Case(API_COST_READ, obj="ingestion_run")],
}

# Each app declares the rows of its own URLs, and the objects they need, beside its tests.
APP_ROW_MODULES = [importlib.import_module(f"tests.{app}.matrix_rows") for app in ("governance", "reviews", "portfolio")
                   if importlib.util.find_spec(f"tests.{app}.matrix_rows")]
for _module in APP_ROW_MODULES:
    MATRIX.update(_module.ROWS)
    for _name, _cases in getattr(_module, "EXTRA_CASES", {}).items():
        MATRIX[_name] = [*MATRIX[_name], *_cases]

# Patterns served by a framework with its own permission model (Django admin), or static helpers.
EXCLUDED_PREFIXES = ("admin:",)


def _walk(resolver: URLResolver, namespace: str = "") -> list[tuple[str, URLPattern]]:
    found = []
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            found.extend(_walk(entry, ns))
        elif isinstance(entry, URLPattern):
            found.append((f"{namespace}{entry.name or ''}", entry))
    return found


def all_url_names() -> set[str]:
    names = set()
    for name, entry in _walk(get_resolver()):
        if name.startswith(EXCLUDED_PREFIXES):
            continue
        pattern = str(entry.pattern)
        assert name and not name.endswith(":"), f"URL pattern {pattern!r} has no name: the matrix cannot cover it"
        names.add(name)
    return names


# --- The API's unsafe methods -----------------------------------------------------------------------------------------
# Every API route answers POST, PUT, PATCH and DELETE for every role. A method the route routes to an action has a
# hand-written row (above or in tests/<app>/matrix_rows.py). A method it does not offer is refused the same way
# everywhere, so its row is derived here from the route's permission declarations: anonymous 401, a role the
# collection permission (tollgate/roles.py) is not granted to 403, the others 405; everyone 405 where the route declares
# no permission for the method.


def api_routes() -> dict[str, Any]:
    """Every named URL served by a DRF view (format-suffix twins share the name): name -> its view callback."""
    routes = {}
    for name, entry in _walk(get_resolver()):
        view_class = getattr(entry.callback, "cls", None) or getattr(entry.callback, "view_class", None)
        if view_class is not None and issubclass(view_class, APIView):
            routes.setdefault(name, entry.callback)
    return routes


def routed_methods(callback) -> set[str]:
    """Methods the route hands to an action or handler (a viewset's action map, an APIView's handlers)."""
    actions = getattr(callback, "actions", None)
    if actions is not None:
        return set(actions)
    view_class = getattr(callback, "view_class", None) or callback.cls
    return {method for method in view_class.http_method_names if hasattr(view_class, method)}


def unrouted_method_expectation(callback, method: str) -> dict[str, int] | May:
    """How a route refuses a method it does not offer, from its permission classes and declared permissions."""
    view_class = getattr(callback, "cls", None) or callback.view_class
    permissions = list(view_class.permission_classes)
    if not permissions:
        return everyone(NOT_ALLOWED, anon=NOT_ALLOWED)
    if permissions == [IsAuthenticated]:
        return everyone(NOT_ALLOWED, anon=API_ANON)
    assert all(issubclass(p, RolePermission) for p in permissions), f"{view_class}: unknown permission classes"
    view = view_class(**(getattr(callback, "initkwargs", None) or {}))
    view.action = None  # DRF's viewsets set the action of an unrouted method to None
    perm = required_perm(view, SimpleNamespace(method=method.upper()))
    # No permission declared for it: 405 to every role (it answered 403 "You may not do this." even to administrators).
    return May(perm, NOT_ALLOWED, on_object=False) if perm else everyone(NOT_ALLOWED, anon=API_ANON)


def _object_of(name: str) -> str | None:
    """The fixture object a route's URL takes, as its hand-written rows name it."""
    return next((case.obj for case in MATRIX.get(name, []) if case.obj), None)


for _name, _callback in api_routes().items():
    _covered = {case.method for case in MATRIX.get(_name, [])}
    for _method in sorted(set(UNSAFE_METHODS) - routed_methods(_callback) - _covered):
        MATRIX.setdefault(_name, []).append(
            Case(unrouted_method_expectation(_callback, _method), method=_method, obj=_object_of(_name))
        )


def test_every_unsafe_method_of_every_api_route_is_in_the_matrix():
    missing = sorted(
        f"{method.upper()} {name}"
        for name, callback in api_routes().items()
        for method in UNSAFE_METHODS
        if method not in {case.method for case in MATRIX.get(name, [])}
    )
    assert not missing, f"API methods without a row in the role matrix: {missing}"
    assert len(api_routes()) >= 40  # the walk finds the API at all


def test_every_url_is_in_the_matrix():
    missing = all_url_names() - set(MATRIX)
    assert not missing, f"URLs without a row in the role matrix: {sorted(missing)}"
    stale = set(MATRIX) - all_url_names() - {"admin:index"}
    assert not stale, f"Matrix rows for URLs that no longer exist: {sorted(stale)}"


@pytest.fixture
def objects(users, initiative, other_initiative):
    from portfolio.models import AllocationRule, CostSource, ImportRun, IngestionRun

    business_case = BusinessCaseFactory(initiative=initiative)
    kpi = KPIFactory(initiative=initiative)
    pool = LicencePoolFactory(initiative=initiative)
    model = initiative.ai_models.create(provider=pool.vendor, name="gpt-4o-mini", tier="small")
    built = {
        "own": initiative,
        "other": other_initiative,
        "business_case": business_case,
        "kpi": kpi,
        "licence_pool": pool,
        "vendor": pool.vendor,
        "ai_model": model,
        "department": initiative.department,
        "cost_center": initiative.cost_center,
        "import_run": ImportRun.objects.create(filename="inventory.csv", actor=None),
        "quarter": "2026-Q3",
        "reset_link": ("MQ", "c1s3kx-0123456789abcdef0123456789abcdef"),  # a user id and a token that is not valid
    }
    source = CostSource.objects.create(name="aws-focus", type="focus", credential_env="MATRIX_UNUSED_KEY")
    built["cost_source"] = source
    built["allocation_rule"] = AllocationRule.objects.create(source=source, key="tag:project", value="search",
                                                             initiative=initiative)
    built["ingestion_run"] = IngestionRun.objects.create(source=source, period="2025-06-01", status="failed",
                                                         error="focus.csv row 3 column BilledCost: not a number")
    for module in APP_ROW_MODULES:
        built.update(module.build_objects(built, users))
    return built


@pytest.fixture
def users(owner, other_owner, reviewer, executive, admin_user):
    # OWNER_OTHER is the owner of the *other* initiative looking at the owner's one.
    return {ANON: None, OWNER: owner, OWNER_OTHER: other_owner, REVIEWER: reviewer, EXECUTIVE: executive,
            ADMIN: admin_user}


def _cases():
    for name, cases in MATRIX.items():
        for index, case in enumerate(cases):
            yield pytest.param(name, index, id=f"{name}[{index}]-{case.method}")


def _request_as(client, role: str, user, case: Case, url_name: str, target) -> list[str]:
    """One role's request of the case; what it got wrong (empty when it answered as the matrix says)."""
    client.logout()
    if user is not None:
        client.force_login(user)
    # An object gives its pk; a plain value (e.g. a policy key) is the URL argument itself; a tuple, the arguments.
    args = ([] if target is None else list(target) if isinstance(target, tuple)
            else [target if isinstance(target, str | int) else target.pk])
    url = reverse(url_name, args=args) + (f"?{case.query}" if case.query else "")
    method = getattr(client, case.method)
    if case.method in ("post", "patch", "put", "delete"):
        is_api = url_name.startswith(("api:", "api_token")) or "_api:" in url_name
        kwargs = {"content_type": "application/json"} if is_api else {}
        response = method(url, data=case.data, **kwargs)
    else:
        response = method(url)
    expected = case.expected[role] if isinstance(case.expected, dict) else case.expected.status_for(user, target)
    if response.status_code != expected:
        return [f"{case.method.upper()} {url} as {role}: expected {expected}, got {response.status_code}"]
    if role == ANON and expected == LOGIN and url_name != "home":
        login_url = reverse("admin:login") if url_name.startswith("admin:") else reverse("login")
        if login_url not in response["Location"]:
            return [f"{case.method.upper()} {url} as {role}: redirected to {response['Location']}, not {login_url}"]
    return []


@pytest.mark.django_db
@pytest.mark.parametrize(("url_name", "index"), list(_cases()))
def test_role_matrix(client, users, objects, url_name, index):
    """Every role in turn, each request in a savepoint rolled back after it (a permitted DELETE or POST changes
    nothing the next role sees); the objects are built once for the six requests."""
    case = MATRIX[url_name][index]
    target = objects[case.obj] if case.obj else None
    wrong = []
    for role in ROLES:
        with transaction.atomic():
            wrong += _request_as(client, role, users[role], case, url_name, target)
            transaction.set_rollback(True)
    assert not wrong, "\n".join(wrong)


# --- The Django admin site ------------------------------------------------------------------------------------------
# Administrators keep every registered model in the Django admin; every other role is sent to the admin's login
# page, anonymous callers to the site's. What an administrator may do there is what tollgate/roles.py gives the admin
# group (the model permissions of ADMIN_APPS), narrowed where a ModelAdmin is read-only (roll-ups, runs, the audit log).


def _admin_site_pages():
    for model in admin.site._registry:
        opts = model._meta
        for page in ("changelist", "add"):
            yield pytest.param(model, page, id=f"admin:{opts.app_label}_{opts.model_name}_{page}")


@pytest.mark.django_db
@pytest.mark.parametrize(("model", "page"), list(_admin_site_pages()))
def test_admin_site_matrix(client, users, model, page):
    opts = model._meta
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_{page}")
    model_admin = admin.site._registry[model]
    wrong = []
    for role in ROLES:
        client.logout()
        user = users[role]
        if user is not None:
            client.force_login(user)
        response = client.get(url)
        if role == ADMIN:
            request = RequestFactory().get(url)
            request.user = user
            assert user.has_perm(f"{opts.app_label}.view_{opts.model_name}"), "roles.py gives admins every model"
            granted = (model_admin.has_view_or_change_permission(request) if page == "changelist"
                       else model_admin.has_add_permission(request))
            expected = 200 if granted else DENIED
        else:
            expected = LOGIN
        if response.status_code != expected:
            wrong.append(f"GET {url} as {role}: expected {expected}, got {response.status_code}")
        elif expected == LOGIN:
            # Anonymous callers meet the site's login first; a logged-in non-administrator the admin's.
            login_url = reverse("login" if user is None else "admin:login")
            if login_url not in response["Location"]:
                wrong.append(f"GET {url} as {role}: redirected to {response['Location']}, not {login_url}")
    assert not wrong, "\n".join(wrong)


# --- A refusal in words ---------------------------------------------------------------------------------------------
# Every 403 the API answers says what was refused ("You may not add a department."), never DRF's generic sentence.
# Executives read everything and change nothing, so walking every API row as one meets each endpoint's refusal.

GENERIC_REFUSAL = "You do not have permission to perform this action."


@pytest.mark.django_db
def test_no_api_refusal_is_the_generic_sentence(client, users, objects):
    executive = users[EXECUTIVE]
    said, refused = [], 0
    for url_name, cases in MATRIX.items():
        if not (url_name.startswith("api:") or "_api:" in url_name):
            continue
        for case in cases:
            target = objects[case.obj] if case.obj else None
            args = ([] if target is None else list(target) if isinstance(target, tuple)
                    else [target if isinstance(target, str | int) else target.pk])
            url = reverse(url_name, args=args) + (f"?{case.query}" if case.query else "")
            with transaction.atomic():
                client.force_login(executive)
                response = getattr(client, case.method)(url, data=case.data, content_type="application/json")
                transaction.set_rollback(True)
            if response.status_code != DENIED:
                continue
            refused += 1
            detail = response.json().get("detail", "")
            if not detail or detail == GENERIC_REFUSAL:
                said.append(f"{case.method.upper()} {url}: {detail!r}")
    assert refused >= 40  # the walk meets the API's refusals at all
    assert not said, "403s that do not say what was refused:\n" + "\n".join(said)
