"""What the body of an API action without a serializer may hold: the keys it reads, and nothing else.

A serializer refuses a body field it would drop (tollgate.api_fields). An action that reads no serializer never looked
at its body, and answered as if it had been honoured: `POST /api/auth/token/ {"read_only": true}` issued a read-write
token to a script that believed it held a read-only one, and `POST /api/people/invite-all/ {"people": [50]}` invited
everyone. So every API view derives from `DeclaredBodyMixin` below, which refuses (400, before the action runs, after
the permission check) a write whose body holds a key the action does not read:
"“people” is not a field of this request; it takes no body." (or "...; it accepts: username, password.").
An action says what it reads with `reads_body`: the keys it takes (default: none), or that its serializer reads the
body (`reads_body(serializer=True)`), which then refuses as tollgate.api_fields says. A view's create, update and
partial_update read their serializer unless they say otherwise."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from rest_framework import exceptions, permissions
from rest_framework.settings import api_settings
from rest_framework.utils import html

from tollgate.api_fields import FORM_NESTED_KEY, NOT_BODY_FIELDS
from tollgate.api_query import documented_query_check

Handler = TypeVar("Handler", bound=Callable[..., Any])

# The actions a viewset answers with its serializer (DRF's mixins, and the views' own versions of them).
SERIALIZER_ACTIONS = frozenset({"create", "update", "partial_update"})


class BodyDeclaration:
    """What an action reads of its body: `keys` (and, by key, what to do instead of sending one it does not), or the
    whole body through its serializer."""

    def __init__(self, keys: tuple[str, ...] = (), *, serializer: bool = False,
                 hints: Mapping[str, str] | None = None, note: str = "") -> None:
        self.keys = keys
        self.serializer = serializer
        self.hints = dict(hints or {})
        self.note = note

    def unknown_key_message(self, name: str) -> str:
        accepted = f"it accepts: {', '.join(self.keys)}." if self.keys else "it takes no body."
        extra = " ".join(part for part in (self.hints.get(name, ""), self.note) if part)
        return f"“{name[:60]}” is not a field of this request; {accepted}" + (f" {extra}" if extra else "")

    def errors(self, data: Any) -> dict[str, list[str]]:
        """A message under each key of `data` the action does not read; under non_field_errors for a body that is
        not an object at all (a list, a number)."""
        if self.serializer:
            return {}
        if not isinstance(data, Mapping):
            if not data:
                return {}
            return {api_settings.NON_FIELD_ERRORS_KEY: [
                "This request takes no body." if not self.keys else
                f"The body must be an object; it accepts: {', '.join(self.keys)}."]}
        names = [str(key) for key in data]
        if html.is_html_input(data):  # a form: the parts of a nested field are named after it
            names = [match["name"] if (match := FORM_NESTED_KEY.match(name)) else name for name in names]
        ignored = NOT_BODY_FIELDS | {api_settings.URL_FORMAT_OVERRIDE} | set(self.keys)
        return {name: [self.unknown_key_message(name)] for name in dict.fromkeys(names) if name not in ignored}


def reads_body(*keys: str, serializer: bool = False, hints: Mapping[str, str] | None = None,
               note: str = "") -> Callable[[Handler], Handler]:
    """Declares what an API action reads of its body: these keys (none without any), or all of it through its
    serializer (`serializer=True`). `hints` adds, for a key sent in vain, what to do instead; `note` follows every
    refusal (say, that nothing was done)."""
    declaration = BodyDeclaration(keys, serializer=serializer, hints=hints, note=note)

    def declare(handler: Handler) -> Handler:
        handler.body_declaration = declaration  # type: ignore[attr-defined]
        return handler

    return declare


TAKES_NO_BODY = BodyDeclaration()
READS_SERIALIZER = BodyDeclaration(serializer=True)


def body_declaration(view: Any, method: str) -> BodyDeclaration | None:
    """What the handler of `method` on `view` reads of a body; None when the view has no such handler (405)."""
    action = getattr(view, "action", None)
    name = action if action is not None else method.lower()
    handler = getattr(view, name, None)
    if handler is None:
        return None
    declared = getattr(handler, "body_declaration", None)
    if declared is not None:
        return declared
    return READS_SERIALIZER if name in SERIALIZER_ACTIONS else TAKES_NO_BODY


class DeclaredBodyMixin:
    """An API view refusing a write's body keys its action does not read (the module's docstring says why), and a
    read's query parameters it does not document (tollgate.api_query.documented_query_check)."""

    def initial(self, request: Any, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)  # type: ignore[misc]
        if request.method in permissions.SAFE_METHODS:
            # A read's query string, as a write's body: what it does not read is refused by name (tollgate.api_query).
            documented_query_check(request, self)  # type: ignore[arg-type]
            return
        declaration = body_declaration(self, request.method)
        if declaration is None or declaration.serializer:
            return
        errors = declaration.errors(request.data)
        if errors:
            raise exceptions.ValidationError(errors)
