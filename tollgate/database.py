"""Telling a lost database connection from every other database error.

PostgreSQL restarting or failing over, an administrator terminating a backend, the network going: the statement
fails and so does the transaction, which the server rolls back. Such a failure is worth trying again as it is (a run
retries, a request answers 503 with Retry-After); an error the data caused (a constraint, a division by zero) or a
deadlock or timeout (their own SQLSTATE) is not this.
"""

from __future__ import annotations

from typing import Any

from django.db import InterfaceError, OperationalError, connection

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
