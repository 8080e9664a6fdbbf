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
from collections.abc import Callable
from enum import Enum
from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.signals import connection_created


class Wildcard(Enum):
    ANY = "%"  # any run of characters
    ONE = "_"  # one character


def _tokens(pattern: str, escape: str | None) -> list[str | Wildcard]:
    """The pattern's pieces: each literal character case-folded, and the wildcards."""
    if escape is not None and len(escape) != 1:
        raise ValueError("ESCAPE expression must be a single character")
    tokens: list[str | Wildcard] = []
    characters = iter(pattern)
    for character in characters:
        if character == escape:
            tokens.append(next(characters, "").casefold())  # an escape at the very end escapes nothing
        elif character in ("%", "_"):
            tokens.append(Wildcard(character))
        else:
            tokens.append(character.casefold())
    return tokens


@functools.lru_cache(maxsize=1024)
def like_matcher(pattern: str, escape: str | None) -> Callable[[str], bool]:
    """Whether case-folded text matches a LIKE pattern: % any run of characters, _ one character, the escape character
    taking the next one literally. A pattern of text and % alone (what Django's contains, startswith and iexact
    lookups send) is matched with plain string operations, several times faster than a regular expression."""
    tokens = _tokens(pattern, escape)
    if Wildcard.ONE in tokens:
        regex = re.compile("".join(
            ".*" if token is Wildcard.ANY else "." if token is Wildcard.ONE else re.escape(str(token))
            for token in tokens), re.DOTALL)
        return lambda text: regex.fullmatch(text) is not None
    pieces: list[str] = [""]
    for token in tokens:
        if token is Wildcard.ANY:
            pieces.append("")
        else:
            pieces[-1] += str(token)
    if len(pieces) == 1:
        return pieces[0].__eq__
    first, middle, last = pieces[0], pieces[1:-1], pieces[-1]
    if not first and not last and len(middle) <= 1:  # "%text%" (contains) or "%"
        part = "".join(middle)
        return lambda text: part in text
    if not middle and not last:  # "text%" (startswith)
        return lambda text: text.startswith(first)
    if not middle and not first:  # "%text" (endswith)
        return lambda text: text.endswith(last)

    def matches(text: str) -> bool:
        if len(text) < len(first) + len(last) or not text.startswith(first) or not text.endswith(last):
            return False
        position, end = len(first), len(text) - len(last)
        for piece in middle:
            found = text.find(piece, position, end)
            if found < 0:
                return False
            position = found + len(piece)
        return True

    return matches


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def like(pattern: Any, value: Any, escape: Any = None) -> bool | None:
    """SQLite's like(X, Y[, Z]), which is `Y LIKE X [ESCAPE Z]`, folding every letter's case; NULL stays NULL."""
    if pattern is None or value is None:
        return None
    text = value if isinstance(value, str) else _text(value)
    return like_matcher(pattern if isinstance(pattern, str) else _text(pattern),
                        None if escape is None else _text(escape))(text.casefold())


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
