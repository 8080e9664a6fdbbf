"""What an API list reads from its query string, refused by name when it cannot be honoured.

DRF and django-filter ignore a parameter they do not know and drop an ordering field that is not allowed: a script
that filters on `?tags=pilot` or sorts on `?ordering=-start_date` gets the whole list back, unsorted, and cannot tell.
So a list answers 400 naming each parameter it does not know, with the ones it accepts (its filterset's, `search`,
`ordering`, `page`, `page_size`, `format`), and 400 naming an ordering field it does not sort by, with those it does.

Both are filter backends (the settings' DEFAULT_FILTER_BACKENDS), so every list gets them without a word in its view.
Every other read (a record's detail, `/api/me/`, `/api/dashboard/?quarter=`, `/api/initiatives/<id>/costs/?from=&to=`)
answers the same 400 for a parameter it does not read: it accepts those its OpenAPI schema documents
(`extend_schema(parameters=...)`, none for a plain detail read) and `format`, so the schema and the check cannot
disagree (`documented_query_check`, run by every API view through tollgate.api_body.DeclaredBodyMixin).
A view may sort by a name its answer shows rather than the database path (`department_name` for
`department__name`): `ordering_aliases` maps such a name to the fields it sorts by.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django import forms
from django.db.models import QuerySet
from django_filters.rest_framework import DjangoFilterBackend
from django_filters.widgets import SuffixedMultiWidget
from drf_spectacular.utils import OpenApiParameter
from rest_framework import filters, mixins
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from tollgate.ui.tables import ignoring_case


def _form_parameters(form: forms.Form) -> list[str]:
    """The query parameters a filterset's form reads: a field's name, or one name per part of a split widget."""
    names: list[str] = []
    for name, field in form.fields.items():
        widget = field.widget
        if isinstance(widget, SuffixedMultiWidget):
            names += [widget.suffixed(name, suffix) for suffix in widget.suffixes]
        elif isinstance(widget, forms.MultiWidget):
            names += [f"{name}_{index}" for index in range(len(widget.widgets))]
        else:
            names.append(name)
    return names


def accepted_parameters(request: Request, view: APIView, queryset: QuerySet | None = None) -> list[str]:
    """Every query parameter the view's list reads: its filter backends', its paginator's and `format`, in that
    order. A backend of another kind is asked for the parameters it documents in the OpenAPI schema."""
    names: list[str] = []
    for backend_class in getattr(view, "filter_backends", ()):
        backend = backend_class()
        if isinstance(backend, KnownParametersFilter):
            continue
        if isinstance(backend, DjangoFilterBackend):
            filterset = backend.get_filterset(request, queryset, view) if queryset is not None else None
            if filterset is not None:
                names += _form_parameters(filterset.form)
        elif isinstance(backend, filters.SearchFilter):
            if backend.get_search_fields(view, request):
                names.append(backend.search_param)
        elif isinstance(backend, filters.OrderingFilter):
            names.append(backend.ordering_param)
        elif hasattr(backend, "get_schema_operation_parameters"):
            names += [parameter["name"] for parameter in backend.get_schema_operation_parameters(view)]
    paginator = getattr(view, "paginator", None)
    if paginator is not None:
        names += [name for name in (getattr(paginator, "page_query_param", None),
                                    getattr(paginator, "page_size_query_param", None)) if name]
    names += list(getattr(view, "extra_query_parameters", ()))
    if api_settings.URL_FORMAT_OVERRIDE:
        names.append(api_settings.URL_FORMAT_OVERRIDE)
    return list(dict.fromkeys(names))


def query_parameters_check(request: Request, accepted: Iterable[str], *, what: str = "this list") -> None:
    """400 naming each parameter of the request that is not among `accepted`, and listing those that are."""
    accepted = list(accepted)
    unknown = [name for name in request.query_params if name not in accepted]
    if unknown:
        listed = ", ".join(accepted)
        raise ValidationError({name: [f"“{name[:60]}” is not a parameter of {what}; it accepts: {listed}."]
                               for name in unknown})


def documented_query_parameters(request: Request, view: APIView) -> list[str]:
    """The query parameters the schema documents for the view's handler of this request (its `extend_schema`
    parameters), in their order; [] when it documents none."""
    action = getattr(view, "action", None)
    handler = getattr(view, action or str(request.method).lower(), None)
    schema_class = (getattr(handler, "kwargs", None) or {}).get("schema")
    if schema_class is None:
        return []
    schema = schema_class()
    schema.view = view
    schema.method = request.method
    schema.path = request.path
    return [parameter.name for parameter in schema.get_override_parameters()
            if isinstance(parameter, OpenApiParameter) and parameter.location == OpenApiParameter.QUERY]


def documented_query_check(request: Request, view: APIView) -> None:
    """Every read that is not a list (lists are KnownParametersFilter's): 400 naming a parameter it does not read.
    `?qaurter=2025-Q1` on the dashboard answered 200 with the default quarter, and `/api/initiatives/<id>/?fields=id`
    answered the whole record: a read with no parameters of its own accepts only `format`, as a list refuses what
    it does not read."""
    if request.method not in ("GET", "HEAD") or is_list(view):
        return
    documented = documented_query_parameters(request, view)
    if api_settings.URL_FORMAT_OVERRIDE:
        documented.append(api_settings.URL_FORMAT_OVERRIDE)
    query_parameters_check(request, documented, what="this endpoint")


def is_list(view: APIView) -> bool:
    """A viewset's list action, or a generic list view's GET (no action: not a viewset)."""
    action = getattr(view, "action", None)
    if action is not None:
        return action == "list"
    request = getattr(view, "request", None)
    return isinstance(view, mixins.ListModelMixin) and request is not None and request.method in ("GET", "HEAD")


class KnownParametersFilter(filters.BaseFilterBackend):
    """First of the filter backends: a list request with a parameter nothing reads is refused before any filtering.

    Only lists are checked: a record's page or an action on it (`/api/initiatives/<id>/costs/?from=`) reads
    parameters of its own, and filters do not apply to it."""

    def filter_queryset(self, request: Request, queryset: QuerySet, view: APIView) -> QuerySet:
        if is_list(view):
            query_parameters_check(request, accepted_parameters(request, view, queryset))
        return queryset


class OrderingFilter(filters.OrderingFilter):
    """DRF's `?ordering=`, refusing a field the list does not sort by (DRF drops it and serves the list unsorted),
    sorting by the names of `ordering_aliases` as by the fields each stands for, and the text fields a view names in
    `ordering_ignoring_case` as people read them, whatever their case (the list pages sort them so too): SQLite
    compares bytes, so "apple" came after "Zebra". Every ordering ends on the key, so that pages never overlap."""

    def filter_queryset(self, request: Request, queryset: QuerySet, view: APIView) -> QuerySet:
        ordering = self.get_ordering(request, queryset, view)
        if not ordering:
            return queryset
        folded = set(getattr(view, "ordering_ignoring_case", ()))
        terms: list[Any] = []
        for term in ordering:
            name = term.lstrip("-")
            if name in folded:
                terms += ignoring_case(name, descending=term.startswith("-"), key=False)
            else:
                terms.append(term)
        # Rows that tie on the fields asked for (every initiative of one stage) come in the database's whim, which may
        # differ from one page's query to the next: a script paging through would see some rows twice and others
        # never. The key breaks the tie, so the pages partition the list.
        if not any(term in ("pk", "-pk", "id", "-id") for term in ordering):
            terms.append("pk")
        return queryset.order_by(*terms)

    def aliases(self, view: APIView) -> dict[str, Sequence[str]]:
        return dict(getattr(view, "ordering_aliases", {}))

    def get_valid_fields(self, queryset: QuerySet, view: APIView, context: Mapping[str, Any] | None = None
                         ) -> list[tuple[str, str]]:
        fields = super().get_valid_fields(queryset, view, context or {})
        known = {name for name, _ in fields}
        return fields + [(alias, alias) for alias in self.aliases(view) if alias not in known]

    def remove_invalid_fields(self, queryset: QuerySet, fields: Iterable[str], view: APIView, request: Request
                              ) -> list[str]:
        valid = [name for name, _ in self.get_valid_fields(queryset, view, {"request": request})]
        terms = [term for term in fields if term]
        invalid = [term for term in terms if term.removeprefix("-") not in valid]
        if invalid:
            named = ", ".join(f"“{term[:60]}”" for term in invalid)
            verb = "is not a field" if len(invalid) == 1 else "are not fields"
            example = f" (e.g. -{valid[0]})" if valid else ""
            raise ValidationError({self.ordering_param: [
                f"{named} {verb} this list sorts by. Sort by: {', '.join(valid)}; a “-” before one sorts it in "
                f"descending order{example}, a comma separates several."]})
        aliases = self.aliases(view)
        ordering: list[str] = []
        for term in terms:
            descending, name = term.startswith("-"), term.removeprefix("-")
            for field in aliases.get(name, (name,)):
                ordering.append(f"-{field}" if descending else field)
        return ordering

    def get_schema_operation_parameters(self, view: APIView) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        fields = getattr(view, "ordering_fields", None)
        if isinstance(fields, list | tuple):
            names = [field if isinstance(field, str) else field[0] for field in fields]
            names += [alias for alias in self.aliases(view) if alias not in names]
            for parameter in parameters:
                parameter["description"] = (
                    f"Sort by one of: {', '.join(names)}; “-” before it for descending order, a comma between "
                    "several. Any other field is a 400.")
        return parameters
