"""The API's rate limit: at most API_RATE_LIMIT requests per token (per person for a browser session), counted in the
cache. A script that loops by mistake is told to wait (429, Retry-After) instead of slowing Tollgate for everyone;
the answer names the token, so its person knows which script to fix."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from portfolio.models import ApiToken

logger = logging.getLogger(__name__)


class ApiRateThrottle(SimpleRateThrottle):
    """DRF's sliding-window count, keyed by the token (each script its own allowance) or else the signed-in person;
    nobody signed in is not counted here (the token endpoint's passwords are django-axes' to count)."""

    scope = "api"

    def get_rate(self) -> str | None:
        return settings.API_RATE_LIMIT or None  # read per request, so a test or a settings change takes effect

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        if isinstance(request.auth, ApiToken):
            ident = f"token:{request.auth.pk}"
        elif request.user and request.user.is_authenticated:
            ident = f"user:{request.user.pk}"
        else:
            return None
        return self.cache_format % {"scope": self.scope, "ident": ident}


def throttled_detail(exc: exceptions.Throttled, request: Request | None) -> exceptions.Throttled:
    """DRF's 429 with the limit and who reached it: the token's name and first characters, or the person."""
    token = getattr(request, "auth", None)
    who = (f"the API token {token.name!r} ({token.shown_key})" if isinstance(token, ApiToken)
           else f"{getattr(request, 'user', 'this person')}")
    logger.warning("API rate limit reached by %s (%s)", who, settings.API_RATE_LIMIT)
    detail = f"Too many requests with {who}: at most {settings.API_RATE_LIMIT} (API_RATE_LIMIT)."
    return exceptions.Throttled(getattr(exc, "wait", None), detail=detail)
