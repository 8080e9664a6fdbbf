"""What the API says when a path, a record or a method is not there: JSON, naming what was not found.

A path under /api/ that no route matches answered Django's 404 page (its debug page with DEBUG on), and a record that
does not exist answered "Not found." or "No BusinessCase matches the given query.": a script learned neither what
it had asked for nor where to look. So under /api/ every 404 is JSON naming the path ("Nothing at /api/governance/x/
...") or the record ("No business case with id 'abc'."), and a method an endpoint does not answer is a 405 naming the
methods it does.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from rest_framework import exceptions

API_PREFIX = "/api/"
# Django's get_object_or_404 ("No BusinessCase matches the given query."), which DRF's get_object raises too.
_GENERIC_NOT_FOUND = re.compile(r"^No (?P<model>\w+) matches the given query\.$")


def path_not_found_detail(path: str) -> str:
    """The 404 of a path under /api/ that no endpoint answers."""
    return (f"Nothing at {path[:200]}: it is not an endpoint of the API. GET {API_PREFIX} lists the endpoints "
            f"(dashboard, me, governance, reviews and the portfolio's records).")


def path_not_found(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"detail": path_not_found_detail(request.path)}, status=404)


class ApiErrorsAsJsonMiddleware:
    """Under /api/, a 404 that is not JSON (Django's page, or its debug page with DEBUG on, for a path no route
    matches) is answered as JSON naming the path: API clients and the schema expect JSON from every API path."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (response.status_code == 404 and request.path.startswith(API_PREFIX)
                and not response.get("Content-Type", "").startswith("application/json")):
            return path_not_found(request)
        return response


def _words(model_name: str) -> str:
    """"BusinessCase" -> "business case"; "AIModel" -> "AI model"."""
    words = re.findall(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+", model_name)
    return " ".join(word if word.isupper() and len(word) > 1 else word.lower() for word in words)


def record_not_found(exc: Http404, view: Any) -> exceptions.NotFound | None:
    """A record of the view's path that does not exist, named with the value asked for ("No business case with id
    'abc'."); None when the 404 already says something of its own (a page past the end, "No such policy.")."""
    message = str(exc)
    generic = _GENERIC_NOT_FOUND.match(message)
    if message and generic is None:
        return None
    kwargs = {key: value for key, value in (getattr(view, "kwargs", None) or {}).items() if key != "format"}
    if len(kwargs) != 1:
        return None
    (key, value), = kwargs.items()
    model = None
    queryset = getattr(view, "queryset", None)
    if queryset is not None:
        model = queryset.model
    elif generic is None and hasattr(view, "get_queryset"):
        try:
            model = view.get_queryset().model
        except Exception:  # a view whose queryset needs more than its path: name nothing rather than fail
            return None
    if model is not None and (generic is None or generic["model"] == model._meta.object_name):
        noun = str(model._meta.verbose_name)
    elif generic is not None:
        noun = _words(generic["model"])
    else:
        return None
    lookup = getattr(view, "lookup_field", "pk")
    named = "id" if key in ("pk", "id") or lookup in ("pk", "id") else key
    return exceptions.NotFound(f"No {noun} with {named} '{str(value)[:60]}'.")


def method_not_allowed(exc: exceptions.MethodNotAllowed, request: Any, view: Any) -> exceptions.MethodNotAllowed:
    """405 naming the methods the endpoint answers, so that a script sees what it may send there."""
    allowed = [method for method in getattr(view, "allowed_methods", []) if method not in ("HEAD", "OPTIONS")]
    if not allowed or request is None:
        return exc
    return exceptions.MethodNotAllowed(
        request.method, detail=f"{request.method} is not an action of {request.path[:200]}; it answers "
                               f"{', '.join(allowed)}.")


def explained(exc: Exception, context: dict[str, Any]) -> Exception:
    """The exception as the API's handler answers it: a record's 404 and a 405 named (see the module's docstring)."""
    view, request = context.get("view"), context.get("request")
    if isinstance(exc, Http404):
        return record_not_found(exc, view) or exc
    if isinstance(exc, exceptions.MethodNotAllowed):
        return method_not_allowed(exc, request, view)
    return exc

