"""One id per request (or Celery task), on every log line it causes and on the response, so a user's "it failed at
10:02" and the server's log lines of that request can be found together (and across a proxy that sets the header)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from contextvars import ContextVar, Token
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported by tollgate.celery before Django is set up
    from django.http import HttpRequest, HttpResponse

HEADER = "X-Request-ID"
# What a proxy or client may hand in: a plain token (a UUID, a trace id), never text that could forge a log line.
SANE_ID = re.compile(r"[A-Za-z0-9._:=-]{1,128}")

_request_id: ContextVar[str | None] = ContextVar("request_id", default=None)


def current_request_id() -> str | None:
    """The id of the request or task being handled in this thread or task, None outside of one."""
    return _request_id.get()


def request_id_bind(value: str | None) -> Token[str | None]:
    """Make `value` the current id; returns the token that `request_id_unbind` takes to restore the previous one."""
    return _request_id.set(value)


def request_id_unbind(token: Token[str | None]) -> None:
    _request_id.reset(token)


def request_id_from(request: HttpRequest) -> str:
    """The caller's X-Request-ID when it is a sane token, else a new one."""
    given = request.headers.get(HEADER, "")
    return given if SANE_ID.fullmatch(given) else uuid.uuid4().hex


class RequestIdMiddleware:
    """Binds the request's id for the log lines of the request and returns it in the X-Request-ID header."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = request_id_from(request)
        token = request_id_bind(request_id)
        try:
            response = self.get_response(request)
        finally:
            request_id_unbind(token)
        response[HEADER] = request_id
        return response
