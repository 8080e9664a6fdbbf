"""Telling a lost database connection, or SQLite busy writing, from every other database error; API writes in one
transaction.

PostgreSQL restarting or failing over, an administrator terminating a backend, the network going: the statement
fails and so does the transaction, which the server rolls back. Such a failure is worth trying again as it is (a run
retries, a request answers 503 with Retry-After); an error the data caused (a constraint, a division by zero) or a
deadlock or timeout (their own SQLSTATE) is not this.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.db import DatabaseError, InterfaceError, OperationalError, connection, transaction

if TYPE_CHECKING:
    from django.http import HttpRequest, HttpResponse

logger = logging.getLogger(__name__)

# Class 08: connection exceptions; 57P01-57P03: the server shut the connection down (admin, crash, starting up).
CONNECTION_LOST_SQLSTATES = ("08", "57P01", "57P02", "57P03")


def connection_lost(exc: BaseException | None) -> bool:
    """Whether `exc` is the database connection failing (PostgreSQL only), Django's error or the driver's own (a
    COPY raises psycopg's): a connection-class SQLSTATE, or an operational error the server sent no code for (the
    client found the connection closed or could not open one)."""
    if exc is None or connection.vendor != "postgresql":
        return False
    driver = exc.__cause__ if isinstance(exc, OperationalError | InterfaceError) and exc.__cause__ else exc
    database: Any = connection.Database  # type: ignore[attr-defined]  # the driver module (psycopg)
    if not isinstance(driver, database.OperationalError | database.InterfaceError):
        return False
    sqlstate = getattr(driver, "sqlstate", None)
    return sqlstate is None or sqlstate.startswith(CONNECTION_LOST_SQLSTATES)


def database_busy(exc: BaseException | None) -> bool:
    """Whether `exc` is SQLite's "database is locked": another request held the write lock (a long inventory import
    writing in one transaction) for longer than the busy timeout (settings: 20 s). Nothing of the request was
    written (its statement or transaction never started) and sending it again later works: a 503, not a 500."""
    return (exc is not None and connection.vendor == "sqlite" and isinstance(exc, OperationalError)
            and "locked" in str(exc).lower())


class DatabaseBusyMiddleware:
    """A view that meets SQLite's write lock held by a long import answers 503 "busy" (Retry-After), not 500; also
    with DEBUG on, where handler500 (tollgate.views.server_error, which says the same for an error met elsewhere in
    the request, a session saved on the way out) is not used. Logged as a warning: a load condition, not a bug."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not database_busy(exception):
            return None
        from tollgate.views import database_busy_response

        logger.warning("Database busy (%s) answering %s %s: 503", exception, request.method, request.path)
        return database_busy_response(request)


class ApiWriteAtomicMiddleware:
    """Each API write (POST, PUT, PATCH, DELETE under /api/) in one transaction, rolled back when it answers 5xx.

    Services are atomic on their own, but a request can fail after its service committed: rendering the answer
    (a figure too large for its field, say) or a second service call. The 500's "nothing you sent was half-written"
    is then true. 4xx answers keep what they wrote on purpose (a failed password counted by django-axes). Inside
    in MIDDLEWARE, so the session and other middleware write outside it; pages keep their own transactions."""

    SAFE = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method in self.SAFE or not request.path.startswith("/api/"):
            return self.get_response(request)
        response: HttpResponse | None = None
        try:
            with transaction.atomic():
                response = self.get_response(request)
                if response.status_code >= 500:
                    transaction.set_rollback(True)
        except DatabaseError:
            if response is None or response.status_code < 500:
                raise  # the commit failed: the answer must not say it worked
            # Rolling back failed too (the connection died under the request: its transaction went with it); the
            # 5xx already says so.
        return response
