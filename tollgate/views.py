"""Site pages of the project itself (shared list and page pieces are in tollgate.ui.views)."""

from __future__ import annotations

import sys

from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect
from django.template import loader
from django.views.decorators.cache import never_cache
from django.views.defaults import page_not_found
from prometheus_client import CONTENT_TYPE_LATEST

from tollgate import health as checks
from tollgate.api_errors import path_not_found
from tollgate.database import connection_lost, database_busy
from tollgate.metrics import metrics_access_allowed, metrics_exposition
from tollgate.roles import Role, role_of
from tollgate.ui.views import RoleMissing


@login_not_required
def health(request: HttpRequest) -> JsonResponse:
    """For load balancers: the app answers and the database is reachable."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


@login_not_required
@never_cache
def health_live(request: HttpRequest) -> JsonResponse:
    """Liveness: the process answers. Nothing else is asked, so a database outage never gets web processes killed."""
    return JsonResponse({"status": "ok"})


@login_not_required
@never_cache
def health_ready(request: HttpRequest) -> JsonResponse:
    """Readiness: 200 when the database and broker answer and every migration is applied, else 503; each check's
    outcome in the body."""
    ready, outcomes = checks.readiness()
    return JsonResponse({"status": "ok" if ready else "unavailable", "checks": outcomes}, status=200 if ready else 503)


@login_not_required
@never_cache
def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus' scrape, for the addresses of METRICS_ALLOWED_IPS or the METRICS_TOKEN bearer token only."""
    if not metrics_access_allowed(request):
        return HttpResponseForbidden("Metrics are read from an address in METRICS_ALLOWED_IPS or with the "
                                     "METRICS_TOKEN bearer token.\n", content_type="text/plain")
    return HttpResponse(metrics_exposition(), content_type=CONTENT_TYPE_LATEST)


def home(request: HttpRequest) -> HttpResponseRedirect:
    """Executives land on the dashboard, everyone else on the portfolio list."""
    if role_of(request.user) == Role.EXECUTIVE:
        return redirect("portfolio:dashboard")
    return redirect("portfolio:initiative_list")


DATABASE_RETRY_AFTER_SECONDS = 10


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: the site's error page, JSON under /api/. A lost database connection (PostgreSQL restarted or
    failed over, the connection dropped mid-request) answers 503 with Retry-After: the request's transaction died
    with the connection, so nothing was written, and sending it again shortly works. SQLite busy writing a large
    change (an import holding its write lock past the busy timeout) answers 503 "busy" (database_busy_response).

    Rendered without the request's context, as Django's own handler does: context processors may need the database.
    """
    if database_busy(sys.exc_info()[1]):
        return database_busy_response(request)
    unavailable = connection_lost(sys.exc_info()[1])
    status = 503 if unavailable else 500
    if request.path.startswith("/api/"):
        detail = ("The database is unavailable for a moment; nothing was changed. Send the request again shortly."
                  if unavailable else
                  "Server error: it was recorded for the administrators; nothing you sent was half-written.")
        response: HttpResponse = JsonResponse({"detail": detail}, status=status)
    else:
        template = loader.get_template("503.html" if unavailable else "500.html")
        response = HttpResponse(template.render(), status=status)
    if unavailable:
        response["Retry-After"] = str(DATABASE_RETRY_AFTER_SECONDS)
    return response


# How long a client is asked to wait when SQLite is busy writing a large change (an import holds its write lock).
BUSY_RETRY_AFTER_SECONDS = 60
BUSY_MESSAGE = "Tollgate is busy writing a large change; try again in a minute."


def database_busy_response(request: HttpRequest) -> HttpResponse:
    """503 with Retry-After for a request that met SQLite's write lock held too long (tollgate.database.database_busy):
    JSON under /api/, else a short page rendered without the request's context (which would read the database)."""
    if request.path.startswith("/api/"):
        response: HttpResponse = JsonResponse({"detail": f"{BUSY_MESSAGE} Nothing was changed."}, status=503)
    else:
        response = HttpResponse(loader.get_template("503_busy.html").render(), status=503)
    response["Retry-After"] = str(BUSY_RETRY_AFTER_SECONDS)
    return response


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    """handler403: the refusal's words on the site's page (Django's own handler shows them too); when the role is
    what is missing, also that an administrator gives roles."""
    template = loader.get_template("403.html")
    context = {"exception": str(exception), "role_missing": isinstance(exception, RoleMissing)}
    return HttpResponseForbidden(template.render(context, request))


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """404 for a URL nothing answers: under /api/ a JSON body naming the path (an API client, and the schema, expect
    JSON from every API path), elsewhere the site's page."""
    if request.path.startswith("/api/"):
        return path_not_found(request)
    return page_not_found(request, exception)
