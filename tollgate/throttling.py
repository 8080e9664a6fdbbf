"""The API's rate limit: at most API_RATE_LIMIT requests per token (per person for a browser session), counted in the
cache. A script that loops by mistake is told to wait (429, Retry-After) instead of slowing Tollgate for everyone;
the answer names the token, so its person knows which script to fix, and every counted answer says how many
requests are left (RateLimit-* headers)."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from portfolio.models import ApiToken

logger = logging.getLogger(__name__)
RATE_ATTRIBUTE = "tollgate_rate"  # on the Django request: where the throttle leaves its RateState for the middleware


@dataclass(frozen=True)
class RateState:
    """Where a token stands against the limit after this request: the limit, requests left in the window, and the
    seconds until the oldest counted request leaves it."""

    limit: int
    remaining: int
    reset: int


class ApiRateThrottle(SimpleRateThrottle):
    """DRF's sliding-window count, keyed by the named token (each script its own allowance), the person's tokens
    obtained with a password together, or else the signed-in person; nobody signed in is not counted here (the token
    endpoint's passwords are django-axes' to count)."""

    scope = "api"
    # Set by DRF's throttle (parse_rate, allow_request); declared for the type checker.
    num_requests: int
    duration: int
    history: list[float]
    now: float

    def get_rate(self) -> str | None:
        return settings.API_RATE_LIMIT or None  # read per request, so a test or a settings change takes effect

    def allow_request(self, request: Request, view: Any) -> bool:
        allowed = super().allow_request(request, view)
        if self.rate is not None and getattr(self, "key", None) is not None:
            # What RateLimitHeadersMiddleware writes on the answer, so a script can pace itself before a 429.
            oldest = self.history[-1] if self.history else self.now
            setattr(request._request, RATE_ATTRIBUTE, RateState(
                limit=self.num_requests, remaining=max(0, self.num_requests - len(self.history)),
                reset=max(1, math.ceil(self.duration - (self.now - oldest)))))
        return allowed

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        if isinstance(request.auth, ApiToken):
            # Tokens obtained with a password share their person's one allowance: a script that signs in again on
            # every loop must not get a fresh allowance each time. A named token has its own (at most
            # API_TOKENS_PER_PERSON of them).
            token = request.auth
            ident = f"password-tokens:{token.user_id}" if token.from_password else f"token:{token.pk}"
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


class RateLimitHeadersMiddleware:
    """`RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset` (seconds) on every counted API answer, 429s
    included: the IETF draft's names, so a script can slow down before it is refused."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        state: RateState | None = getattr(request, RATE_ATTRIBUTE, None)
        if state is not None:
            response["RateLimit-Limit"] = str(state.limit)
            response["RateLimit-Remaining"] = str(state.remaining)
            response["RateLimit-Reset"] = str(state.reset)
        return response
