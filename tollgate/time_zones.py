"""Pages show dates and times in the signed-in person's own time zone (their account's setting, else the server's
TIME_ZONE), as a company spread over several offices expects: "submitted at 09:12" means 09:12 where the reader is.

The zone is read from the profile when the person signs in and kept in the session, so a page costs no query for it
(a session from before this existed reads it once); the account page updates it when the person changes it. A
request authenticated by an API token has no session user when this middleware runs and keeps the server's zone
(every API time carries its offset either way).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from portfolio.selectors import profile_of

SESSION_KEY = "tollgate_time_zone"


def time_zone_remember(request: HttpRequest, time_zone: str) -> bool:
    """The person chose `time_zone` ("" for the server's): their next page shows it. Whether it changed."""
    changed = request.session.get(SESSION_KEY) != time_zone
    request.session[SESSION_KEY] = time_zone
    return changed


def time_zone_on_login(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    """On signing in (user_logged_in): the new session starts with the person's zone, so no page looks it up."""
    if request is not None and hasattr(request, "session"):
        profile = profile_of(user)
        request.session[SESSION_KEY] = profile.time_zone if profile else ""


def person_time_zone(request: HttpRequest) -> ZoneInfo | None:
    """The signed-in person's zone, None for the server's (nobody signed in, none chosen, or one no longer known)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    if SESSION_KEY not in request.session:
        profile = profile_of(user)
        request.session[SESSION_KEY] = profile.time_zone if profile else ""
    name = request.session[SESSION_KEY]
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):  # a zone the server's tz database has dropped since it was chosen
        return None


class PersonTimeZoneMiddleware:
    """Activates the person's zone for the request (after authentication), and the server's again after it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        zone = person_time_zone(request)
        if zone is None:
            return self.get_response(request)
        timezone.activate(zone)
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
