"""Types every app shares: who acts, who reads, and the one way a page or endpoint gets its acting account."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from rest_framework.request import Request

Actor = User
"""The signed-in account a service acts for, whichever door it came through (page, API, admin, command, demo).
Services take `actor: Actor | None`, None being the system itself (the demo load, a scheduled job, configuration as
code)."""

Viewer = User | AnonymousUser
"""Whoever reads a page or calls a selector; selectors decide what an anonymous visitor may see."""


def request_actor(request: HttpRequest | Request) -> Actor:
    """The signed-in account behind a request. LoginRequiredMiddleware (pages) and RolePermission (API) turn
    anonymous callers away first, so refusing here only guards a view that forgot to."""
    user = request.user
    if not user.is_authenticated:
        raise PermissionDenied
    return user
