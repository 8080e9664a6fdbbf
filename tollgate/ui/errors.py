"""What a service refused, told once for pages and once for the API.

Services speak one vocabulary: Django's ValidationError (what is wrong, by field when they can say) and
PermissionDenied (who may not). Pages put a ValidationError on the form's fields (or in a message) and let
PermissionDenied answer 403; the API answers 400 with the same field errors, or 403.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import (
    NON_FIELD_ERRORS,
    ObjectDoesNotExist,
    RequestDataTooBig,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.forms import BaseForm
from django.http import HttpRequest
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler

from tollgate.api_errors import explained
from tollgate.throttling import throttled_detail

T = TypeVar("T")


# Pages ---------------------------------------------------------------------------------------------------------------


def form_add_service_errors(
    form: BaseForm, error: DjangoValidationError, aliases: Mapping[str, str] | None = None
) -> None:
    """Put a service's ValidationError on the form fields it names (or their `aliases` on the form); anything else
    becomes a form-wide error."""
    aliases = aliases or {}
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            field = aliases.get(field, field)
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


def message_service_errors(request: HttpRequest, error: DjangoValidationError, prefix: str = "",
                           suffix: str = "") -> None:
    """A page without a form to re-show: the service's messages as one error message."""
    messages.error(request, prefix + " ".join(error.messages) + suffix)


# API -----------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ApiErrorFields:
    """Where one endpoint's 400 puts a service's error keys that are not its own field names (a service speaks for
    pages too, whose forms name things otherwise), so that every key names a field of the request.

    `renamed` maps a service key to the API field. `rows` maps a service key to (list field, row key, row field): a
    message whose params name the row (`params={"kpi": 12}`) goes to that row of the request's list field
    `given[list field]`, by index as DRF nests a list's errors (`{"kpi_actuals": [{}, {"stated_value": [...]}]}`);
    one naming no row given goes under the list field itself."""

    renamed: Mapping[str, str] = field(default_factory=dict)
    rows: Mapping[str, tuple[str, str, str]] = field(default_factory=dict)
    given: Mapping[str, Sequence[Mapping[str, Any]]] = field(default_factory=dict)

    def detail(self, error: DjangoValidationError) -> Any:
        """The service's error as this endpoint's 400 body."""
        if not hasattr(error, "error_dict"):
            return validation_error_detail(error)
        flat: dict[str, list[DjangoValidationError]] = {}
        nested: dict[str, dict[int, dict[str, list[str]]]] = {}
        for key, errors in error.error_dict.items():
            if key not in self.rows:
                flat.setdefault(self.renamed.get(key, key), []).extend(errors)
                continue
            list_field, row_key, row_field = self.rows[key]
            index = {row.get(row_key): i for i, row in enumerate(self.given.get(list_field, ()))}
            for item in errors:
                row = index.get((item.params or {}).get(row_key))
                if row is None:
                    flat.setdefault(list_field, []).append(item)
                else:
                    nested.setdefault(list_field, {}).setdefault(row, {}).setdefault(row_field, []).extend(
                        item.messages)
        detail = validation_error_detail(DjangoValidationError(flat)) if flat else {}
        for list_field, by_row in nested.items():  # the rows' messages, by index; the list's own give way to them
            detail[list_field] = [by_row.get(i, {}) for i in range(len(self.given.get(list_field, ())))]
        return detail


def validation_error_detail(error: DjangoValidationError) -> Any:
    """A Django ValidationError as DRF's error body: field errors by field, the rest under non_field_errors."""
    detail = as_serializer_error(error)
    if NON_FIELD_ERRORS in detail:
        detail[api_settings.NON_FIELD_ERRORS_KEY] = detail.pop(NON_FIELD_ERRORS)
    return detail


def call_service(service: Callable[..., T], *, api_fields: ApiErrorFields | None = None, **kwargs: Any) -> T:
    """Run a service for a viewset: ValidationError -> 400 with field errors (placed on the API's fields by
    `api_fields`), PermissionDenied -> 403."""
    try:
        return service(**kwargs)
    except DjangoValidationError as exc:
        detail = api_fields.detail(exc) if api_fields else validation_error_detail(exc)
        raise exceptions.ValidationError(detail) from exc
    except DjangoPermissionDenied as exc:
        raise exceptions.PermissionDenied(str(exc) or None) from exc


def request_over_limit_detail(exc: RequestDataTooBig | TooManyFieldsSent | TooManyFilesSent) -> str:
    """What a request past one of Django's upload limits is told, naming the limit."""
    if isinstance(exc, RequestDataTooBig):
        return (f"The request body is larger than the {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes the API accepts "
                "(files uploaded apart): nothing was written. Send less at once.")
    if isinstance(exc, TooManyFilesSent):
        return (f"The request sends more than the {settings.DATA_UPLOAD_MAX_NUMBER_FILES} files the API accepts at "
                "once: nothing was written.")
    return (f"The request has more than the {settings.DATA_UPLOAD_MAX_NUMBER_FIELDS} fields the API accepts (query "
            "parameters and form fields together): nothing was written.")


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler, plus Django's ValidationError from a service called outside call_service: 400 with field
    errors rather than 500 (Django's PermissionDenied is already 403 in DRF's own handler); a record that a
    concurrent request deleted while this one waited for its lock (the service's locked read finds nothing): 404;
    the rate limit's 429 saying which token reached it; a request past Django's upload limits (DATA_UPLOAD_MAX_*),
    which Django would answer with its HTML 400 page, a 400 naming the limit; and a 400 whose messages name no field
    under "non_field_errors", as every other 400 is an object; a record that does not exist and a method the endpoint
    does not answer named (tollgate.api_errors)."""
    exc = explained(exc, context)
    if isinstance(exc, RequestDataTooBig | TooManyFieldsSent | TooManyFilesSent):
        exc = exceptions.ValidationError([request_over_limit_detail(exc)])
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(validation_error_detail(exc))
    elif isinstance(exc, ObjectDoesNotExist):
        what = type(exc).__qualname__.rsplit(".", 1)[0]
        exc = exceptions.NotFound(f"This {what} no longer exists: it may have been deleted by someone else meanwhile.")
    elif isinstance(exc, exceptions.Throttled):
        exc = throttled_detail(exc, context.get("request"))
    if isinstance(exc, exceptions.ValidationError) and isinstance(exc.detail, list):
        # Every 400 is messages by field name (the schema says so); one that names no field is the request's own.
        exc = exceptions.ValidationError({api_settings.NON_FIELD_ERRORS_KEY: exc.detail})
    return exception_handler(exc, context)
