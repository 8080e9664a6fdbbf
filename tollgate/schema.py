"""The OpenAPI schema's error responses, which drf-spectacular leaves out.

drf-spectacular documents only the success code of each operation, so a client reading the schema learns nothing of
the 400 with field errors a bad request gets, the 401 without a valid token, the 403 a role without the permission
gets, the 404 for an object that does not exist, the 412 of a write whose If-Match is stale, or the 429 past the
rate limit; a client generated from it treats them as unknown. Every API view answers them through DRF's exception
handler (tollgate.ui.errors.api_exception_handler), so they are documented here once, with their bodies, for every
operation that can give them; with the ETag and If-Match headers of the records that honour them.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import serializers

from tollgate.conditional import SAFE_METHODS, TAGGED_ACTIONS, ConditionalWritesMixin


class ErrorSerializer(serializers.Serializer):
    """DRF's body for 401, 403 and 404 (and any error that is not about fields)."""

    detail = serializers.CharField()


# A 400's body: field name -> list of messages (nested for nested fields), "non_field_errors" for the rest.
VALIDATION_ERROR = OpenApiResponse(
    response={"type": "object", "additionalProperties": {}, "description": "Messages by field name."},
    description="The request is invalid: messages by field (non_field_errors for the rest); nothing was written.",
)
NOT_AUTHENTICATED = OpenApiResponse(ErrorSerializer, description="No valid token (or session) came with the request.")
PERMISSION_DENIED = OpenApiResponse(ErrorSerializer, description="The user's role may not do this (to this object).")
NOT_FOUND = OpenApiResponse(ErrorSerializer, description="No such object (or page of results).")
THROTTLED = OpenApiResponse(ErrorSerializer, description="Too many requests with this token (or session) for "
                           "API_RATE_LIMIT: wait the seconds the Retry-After header gives.")
CHANGED_SINCE_READ = OpenApiResponse(ErrorSerializer, description="If-Match named a version the record no longer has: "
                                     "it changed since it was read. Nothing was written; read it again.")
IF_MATCH = OpenApiParameter(
    "If-Match", OpenApiTypes.STR, OpenApiParameter.HEADER, required=False,
    description="The ETag of the record as you read it: the write is refused (412) if the record has changed since. "
                "Without it the write goes through whatever changed (the last write wins).")
ETAG = OpenApiParameter(
    "ETag", OpenApiTypes.STR, OpenApiParameter.HEADER, response=[200],
    description="This version of the record: send it as If-Match with a write to it.")
ETAG_CREATED = OpenApiParameter(
    "ETag", OpenApiTypes.STR, OpenApiParameter.HEADER, response=[201],
    description="The new record's version, as a GET of it answers: send it as If-Match with a write to it.")
STILL_REFERENCED = OpenApiResponse(ErrorSerializer, description="Other records still refer to it: nothing was deleted.")


def decimal_pattern(field: serializers.DecimalField) -> str:
    """The pattern of a decimal sent as a string, as the server checks it: drf-spectacular derives it from the digits
    alone, so it allowed a sign on a field that refuses negatives, and 12 digits before the point on a KPI figure
    bounded at 11. The field's min_value and max_value narrow it."""
    whole = int(field.max_whole_digits or 0)
    bounds = [abs(Decimal(value)) for value in (field.min_value, field.max_value) if value is not None]
    if bounds and field.min_value is not None and field.max_value is not None:
        whole = min(whole, len(str(int(max(bounds))).lstrip("0")))
    sign = "" if field.min_value is not None and Decimal(field.min_value) >= 0 else "-?"
    return fr"^{sign}\d{{0,{whole}}}(?:\.\d{{0,{field.decimal_places}}})?$"


class TollgateAutoSchema(AutoSchema):
    """drf-spectacular's schema, plus the error responses each operation can give, and decimal patterns that follow
    the fields' bounds."""

    def _map_serializer_field(self, field: Any, direction: Any, bypass_extensions: bool = False) -> dict[str, Any]:
        content = super()._map_serializer_field(field, direction, bypass_extensions)
        if isinstance(field, serializers.DecimalField) and "pattern" in content and field.max_whole_digits:
            content["pattern"] = decimal_pattern(field)
        return content

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        for code, response in self._error_responses().items():
            if code not in responses:
                responses[code] = self._get_response_for_code(response, code, direction=direction)
        return responses

    def get_override_parameters(self) -> list[Any]:
        parameters = list(super().get_override_parameters())
        if isinstance(self.view, ConditionalWritesMixin):
            action = getattr(self.view, "action", None)
            if action in getattr(self.view, "tagged_actions", TAGGED_ACTIONS):
                parameters.append(ETAG)
            elif action == "create":
                parameters.append(ETAG_CREATED)
        if self._conditional_write():
            parameters.append(IF_MATCH)
        return parameters

    def _conditional_write(self) -> bool:
        """A write to one record (its path names it) of a view that honours If-Match."""
        honours = isinstance(self.view, ConditionalWritesMixin) or getattr(self.view, "honours_if_match", False)
        return honours and self.method not in SAFE_METHODS and "{" in self.path

    def _error_responses(self) -> dict[str, OpenApiResponse]:
        from portfolio.api.views import PortfolioViewSet  # the API's views import this module's settings user

        errors: dict[str, OpenApiResponse] = {}
        parameters = self._get_parameters()
        # DELETE too: a service may refuse it (the last business case of an initiative, say), with its reason.
        # A read refuses a query parameter it does not read (tollgate.api_query.documented_query_check), a detail
        # read's `?foo=1` included: every read of the API's views may answer 400.
        from tollgate.api_body import DeclaredBodyMixin

        takes_input = (self.method in ("POST", "PUT", "PATCH", "DELETE") or any(p["in"] == "query" for p in parameters)
                       or (self.method == "GET" and isinstance(self.view, DeclaredBodyMixin)))
        if takes_input:
            errors["400"] = VALIDATION_ERROR
        # Any authentication class may refuse a bad token, even on a view that lets anonymous users in (the token
        # endpoint): DRF answers 401 before the view runs.
        if self.view.authentication_classes:
            errors["401"] = NOT_AUTHENTICATED
        if self.view.permission_classes:
            errors["403"] = PERMISSION_DENIED
        paginated_list = self._is_list_view() and self._get_paginator() is not None
        if any(p["in"] == "path" for p in parameters) or paginated_list:
            errors["404"] = NOT_FOUND
        if self.view.throttle_classes:
            errors["429"] = THROTTLED
        if self._conditional_write():
            errors["412"] = CHANGED_SINCE_READ
        if self.method == "DELETE" and isinstance(self.view, PortfolioViewSet):
            errors["409"] = STILL_REFERENCED
        return errors
