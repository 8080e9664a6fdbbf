"""Optimistic concurrency for the API's records: an `ETag` on each record's answer, `If-Match` on its writes.

Two scripts (or a script and a person) that read the same initiative and each write it back would otherwise have the
second one silently undo the first's change. A client that sends the `ETag` it read as `If-Match` with its write
(PUT, PATCH, DELETE, or an action on the record such as submit) gets 412 instead when the record has changed since,
and nothing is written. Without `If-Match` a write goes through as before (the last write wins).

The tag is a digest of the record's answer as a GET gives it, so it changes whenever anything the client could have
seen changes, a figure the nightly cost jobs compute included: the client then reads again. A viewset may leave out
fields that change without anyone editing the record (`untagged_fields`: a person's last sign-in), so that a
client's If-Match does not fail because the person merely signed in. The check and the write
run in one transaction (tollgate.database.ApiWriteAtomicMiddleware) with the row locked first on PostgreSQL, so two
writes sent with the same tag cannot both pass.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.db import connection
from django.http import HttpRequest
from rest_framework import status
from rest_framework.exceptions import APIException
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

if TYPE_CHECKING:
    from rest_framework.viewsets import GenericViewSet as _ViewSet
else:
    _ViewSet = object

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
# The answers that are the record itself as a GET gives it (an update answers with the same serializer).
TAGGED_ACTIONS = frozenset({"retrieve", "update", "partial_update"})


class PreconditionFailed(APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = "The record has changed since you read it: read it again and apply your change to it."
    default_code = "precondition_failed"


def representation_tag(data: Any, request: HttpRequest | Request | None = None) -> str:
    """A strong entity tag for an answer's data: the same JSON gives the same tag, on every server and whichever
    host name the client used (the record's links are absolute: the request's own origin is left out)."""
    rendered = JSONRenderer().render(data)
    if request is not None:
        rendered = rendered.replace(request.build_absolute_uri("/").rstrip("/").encode(), b"")
    return '"' + hashlib.sha256(rendered).hexdigest()[:32] + '"'


def if_match_check(request: HttpRequest | Request, current: Callable[[], str], what: str) -> None:
    """Refuse (412) a write whose If-Match names none of the record's current tag (`current()`, computed only when
    needed); nothing to check without the header, or with `*` (the record exists)."""
    tags = if_match_tags(request)
    if tags is None or "*" in tags:
        return
    now = current()
    if now in tags:
        return
    sent = f"you sent {', '.join(tags)[:200]}" if tags else "your If-Match was empty"
    raise PreconditionFailed(f"This {what} has changed since you read it (its ETag is now {now}, {sent}): nothing "
                             "was written. Read it again and apply your change to it.")


def if_match_tags(request: HttpRequest | Request) -> list[str] | None:
    """The tags of the request's If-Match header (["*"] for any), None without the header."""
    header = request.headers.get("If-Match")
    if header is None:
        return None
    return [tag.strip() for tag in header.split(",") if tag.strip()]


def lock_row(model: Any, **lookup: Any) -> None:
    """Lock the row before reading it (PostgreSQL, inside the request's transaction), so that the tag compared is
    the one the write will replace: a second write with the same tag waits, then finds it changed."""
    if not connection.in_atomic_block or not connection.features.has_select_for_update:
        return
    try:
        list(model._default_manager.select_for_update().filter(**lookup).values("pk"))
    except (ValueError, TypeError):  # not a key at all: the view answers 404
        return


class ConditionalWritesMixin(_ViewSet):
    """For a viewset: `ETag` on a record's answer; a write to the record with `If-Match` is refused with 412 unless
    one of its tags is the record's current one (strong comparison: a weak `W/` tag never matches)."""

    # The actions whose answer is the record as a GET gives it, and so carry its ETag (a create's 201 carries the new
    # record's too).
    tagged_actions: frozenset[str] = TAGGED_ACTIONS
    # What a 412 calls the record ("This person has changed…"): the model's verbose name unless set.
    record_name: str | None = None
    # Fields of the answer left out of the tag: they change without the record being edited (a sign-in, a count of
    # other records), and a write does not set them, so a client's If-Match should not fail because of them.
    untagged_fields: frozenset[str] = frozenset()

    def get_object(self) -> Any:
        if self.request.method in SAFE_METHODS or if_match_tags(self.request) is None:
            return super().get_object()
        self._lock_the_row()
        instance = super().get_object()
        if_match_check(self.request, lambda: self.record_tag(instance),
                       self.record_name or str(instance._meta.verbose_name))
        return instance

    def _lock_the_row(self) -> None:
        lookup = self.lookup_url_kwarg or self.lookup_field
        lock_row(self.get_queryset().model, **{self.lookup_field: self.kwargs.get(lookup)})

    def _retrieve_serializer_class(self) -> Any:
        """The serializer a GET of the record uses, whatever this action's own is: an action's `serializer_class`
        (its input, as a verdict's) is set on the view instance, the retrieve one is the class's."""
        action, own = self.action, self.__dict__.pop("serializer_class", None)
        self.action = "retrieve"
        try:
            return self.get_serializer_class()
        finally:
            self.action = action
            if own is not None:
                self.serializer_class = own

    def record_tag(self, instance: Any) -> str:
        """The tag of `instance` as a GET of it answers."""
        serializer = self._retrieve_serializer_class()(instance, context=self.get_serializer_context())
        return self.answer_tag(serializer.data, self.request)

    def answer_tag(self, data: dict[str, Any], request: HttpRequest | Request) -> str:
        """The tag of a record's answer, without its untagged fields."""
        if self.untagged_fields:
            data = {name: value for name, value in data.items() if name not in self.untagged_fields}
        return representation_tag(data, request)

    def _answers_as_retrieve(self, response: Response) -> bool:
        if self.action == "retrieve" or self.action not in TAGGED_ACTIONS:
            return True  # retrieve itself, or an action declared in tagged_actions as answering with the record
        # An update whose input has its own serializer may still answer with the record as read (people's PATCH):
        # the serializer that rendered the answer decides, else the action's.
        rendered_by = getattr(response.data, "serializer", None)
        used = type(rendered_by) if rendered_by is not None else self.get_serializer_class()
        return used is self._retrieve_serializer_class()

    def _created_record(self, response: Response) -> Any:
        """The record a create answered with, read again as a GET reads it (None if the answer names none)."""
        pk = getattr(getattr(getattr(response.data, "serializer", None), "instance", None), "pk", None)
        return None if pk is None else self.get_queryset().filter(pk=pk).first()

    def finalize_response(self, request: Request, response: Response, *args: Any, **kwargs: Any) -> Response:
        response = super().finalize_response(request, response, *args, **kwargs)
        if not isinstance(getattr(response, "data", None), dict):
            return response
        if (self.action in self.tagged_actions and response.status_code == status.HTTP_200_OK
                and self._answers_as_retrieve(response)):
            response["ETag"] = self.answer_tag(response.data, request)
        elif self.action == "create" and response.status_code == status.HTTP_201_CREATED:
            # The tag a GET of the new record gives, so that a client may write to it conditionally at once; computed
            # from the record read back, since a create's answer may come from its own input serializer.
            created = self._created_record(response)
            if created is not None:
                response["ETag"] = self.record_tag(created)
        return response
