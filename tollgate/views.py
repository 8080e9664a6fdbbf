"""Site pages of the project itself (shared list and page pieces are in tollgate.ui.views)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import HttpRequest, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect

from tollgate.roles import Role, role_of


@login_not_required
def health(request: HttpRequest) -> JsonResponse:
    """Liveness for load balancers: the app answers and the database is reachable."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


def home(request: HttpRequest) -> HttpResponseRedirect:
    """Executives land on the dashboard, everyone else on the portfolio list."""
    if role_of(request.user) == Role.EXECUTIVE:
        return redirect("portfolio:dashboard")
    return redirect("portfolio:initiative_list")
