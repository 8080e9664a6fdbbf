"""Case-insensitive text on SQLite as on PostgreSQL: Unicode letters fold too.

SQLite's LIKE (behind Django's icontains, iexact, istartswith... and plain contains) and its lower() and upper() fold
ASCII letters only, so a search for "évaluation" missed "Évaluation des sinistres" on the embedded default while
PostgreSQL's ILIKE and UPPER found it. Each new SQLite connection gets Python versions of like() (with and without
ESCAPE), lower() and upper() that fold every letter; PostgreSQL is left as it is. Registered as deterministic, as the
built-ins are, so SQLite may still use them wherever it used the built-ins.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.signals import connection_created


@functools.lru_cache(maxsize=1024)
def like_pattern(pattern: str, escape: str | None) -> re.Pattern[str]:
    """A LIKE pattern as a regular expression on case-folded text: % any run of characters, _ one character, the
    escape character taking the next one literally."""
    if escape is not None and len(escape) != 1:
        raise ValueError("ESCAPE expression must be a single character")
    parts: list[str] = []
    characters = iter(pattern)
    for character in characters:
        if character == escape:
            character = next(characters, "")  # an escape at the very end escapes nothing
            parts.append(re.escape(character.casefold()))
        elif character == "%":
            parts.append(".*")
        elif character == "_":
            parts.append(".")
        else:
            parts.append(re.escape(character.casefold()))
    return re.compile("".join(parts), re.DOTALL)


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def like(pattern: Any, value: Any, escape: Any = None) -> bool | None:
    """SQLite's like(X, Y[, Z]), which is `Y LIKE X [ESCAPE Z]`, folding every letter's case; NULL stays NULL."""
    if pattern is None or value is None:
        return None
    return like_pattern(_text(pattern), None if escape is None else _text(escape)).fullmatch(
        _text(value).casefold()) is not None


def lower(value: Any) -> Any:
    return None if value is None else _text(value).lower()


def upper(value: Any) -> Any:
    return None if value is None else _text(value).upper()


def fold_unicode(connection: BaseDatabaseWrapper) -> None:
    """Register the folding like(), lower() and upper() on a SQLite connection."""
    raw: Any = connection.connection
    raw.create_function("like", 2, like, deterministic=True)
    raw.create_function("like", 3, like, deterministic=True)
    raw.create_function("lower", 1, lower, deterministic=True)
    raw.create_function("upper", 1, upper, deterministic=True)


def on_connection_created(sender: Any, connection: BaseDatabaseWrapper, **kwargs: Any) -> None:
    if connection.vendor == "sqlite":
        fold_unicode(connection)


def install() -> None:
    """Every SQLite connection from now on folds Unicode, and so does any already open."""
    from django.db import connections

    connection_created.connect(on_connection_created, dispatch_uid="tollgate.sqlite_text")
    for connection in connections.all(initialized_only=True):
        if connection.vendor == "sqlite" and connection.connection is not None:
            fold_unicode(connection)
