"""The base of every list's filterset: one FilterSet per resource serves its page and its API.

A page shows a filter bar with the filters people use (`page_filters`); the API accepts every filter, including those
meant for scripts (an e-mail, a code). The pieces below let one filter satisfy both: a choice filter that renders as
one select on the page but accepts several values from the API (`?stage=pilot&stage=production`), a model choice
filter that offers a short list on the page but accepts any row from the API, and a yes/no select that reads what
both send.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from typing import Any

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.forms import BoundField
from django.http import HttpRequest
from django.utils.formats import date_format
from django_filters.fields import ChoiceField, ModelChoiceField, ModelChoiceIterator
from rest_framework import filters
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request

from tollgate.ui.forms import NamedChoiceErrorsForm

ANY = "Any"
SEARCH_WIDGET = forms.TextInput(attrs={"type": "search", "placeholder": "Search…"})
# Each word of a search is one more condition in the query: a thousand would exceed what the database parses.
MAX_SEARCH_WORDS = 20


def search_words_check(value: str) -> None:
    count = len(value.split())
    if count > MAX_SEARCH_WORDS:
        raise forms.ValidationError(f"Search for at most {MAX_SEARCH_WORDS} words at once, not {count}.")


def search(queryset: QuerySet, fields: Iterable[str], value: str) -> QuerySet:
    """Every word must match one of the fields (case-insensitive substring)."""
    for word in value.split():
        condition = Q()
        for field in fields:
            condition |= Q(**{f"{field}__icontains": word})
        queryset = queryset.filter(condition)
    return queryset


def range_crossed(low_label: Any, start: Any, high_label: Any, end: Any) -> str:
    """What a range whose lower bound is above its upper one says, in the words of the filter bar: "From (1 Dec 2026)
    is after To (1 Nov 2026)", dates as the pages print them."""
    if isinstance(start, date) and isinstance(end, date):
        return (f"{low_label} ({date_format(start, 'j M Y')}) is after {high_label} ({date_format(end, 'j M Y')}): "
                f"nothing can match both.")
    return f"{low_label} ({start}) is above {high_label} ({end}): nothing can match both."


class ListFilterSet(django_filters.FilterSet):
    """A resource's filters; `page_filters` names those of the page's filter bar, in order (None: all of them).
    `ranges` pairs a lower and an upper bound: one above the other is refused by name (the page and the API's 400),
    rather than silently matching nothing; so is a yes/no filter given something else than yes or no, and a search
    (`q`) of more words than the database can take. A choice not among the filter's says what was sent and what is
    expected (tollgate.ui.forms.named_choice_errors): "No department with id 9999.", not "Select a valid choice."."""

    page_filters: tuple[str, ...] | None = None
    ranges: tuple[tuple[str, str], ...] = ()

    def page_fields(self) -> list[BoundField]:
        names = self.page_filters if self.page_filters is not None else tuple(self.filters)
        return [self.form[name] for name in names]

    def get_form_class(self) -> type[forms.Form]:
        base = super().get_form_class()
        ranges = self.ranges
        yes_no = tuple(name for name, filter_ in self.base_filters.items()
                       if isinstance(filter_, django_filters.BooleanFilter))
        searched = "q" in self.base_filters

        class CheckedForm(NamedChoiceErrorsForm, base):  # type: ignore[valid-type,misc]
            def clean(self) -> dict[str, Any]:
                cleaned: dict[str, Any] = super().clean() or self.cleaned_data
                if searched and cleaned.get("q"):
                    try:
                        search_words_check(cleaned["q"])
                    except forms.ValidationError as refused:
                        self.add_error("q", refused)
                for name in yes_no:
                    # Django's yes/no field reads anything else as "any": `?active=maybe` would list everyone.
                    raw = self.data.get(name)
                    if raw not in (None, "") and raw not in YesNoSelect.VALUES:
                        self.add_error(name, f"“{self.fields[name].label}” is true or false (or empty for any), "
                                             f"not “{str(raw)[:40]}”.")
                for low, high in ranges:
                    start, end = cleaned.get(low), cleaned.get(high)
                    if start is not None and end is not None and start > end:
                        self.add_error(high, range_crossed(self.fields[low].label, start, self.fields[high].label,
                                                           end))
                return cleaned

        return CheckedForm


class SearchFilterSet(ListFilterSet):
    """Adds the free-text `q` over `search_fields`, which every list page has."""

    search_fields: tuple[str, ...] = ()

    q = django_filters.CharFilter(method="filter_q", label="Search", widget=SEARCH_WIDGET)

    def filter_q(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return search(queryset, self.search_fields, value)


# One select on the page, several values from the API -----------------------------------------------------------------


class OneOrMoreSelect(forms.Select):
    """Renders one select; reads every value of the parameter, ignoring the empty "Any"."""

    def value_from_datadict(self, data: Any, files: Any, name: str) -> list[str] | str:
        values = data.getlist(name) if hasattr(data, "getlist") else [data.get(name)]
        return [v for v in values if v not in (None, "")] or ""


class OneOrMoreChoiceField(ChoiceField):
    widget = OneOrMoreSelect

    def to_python(self, value: Any) -> list[str]:
        if value in self.empty_values:
            return []
        return [str(v) for v in (value if isinstance(value, list | tuple) else [value])]

    def validate(self, value: list[str]) -> None:
        for item in value:
            if not self.valid_value(item):
                raise forms.ValidationError(self.error_messages["invalid_choice"], code="invalid_choice",
                                            params={"value": item})


class OneOrMoreChoiceFilter(django_filters.MultipleChoiceFilter):
    """`?name=a&name=b` matches either; the page's select sends one value or the empty "Any"."""

    field_class = OneOrMoreChoiceField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("empty_label", ANY)
        kwargs.setdefault("distinct", False)  # a value of the row itself: no join, nothing to de-duplicate
        super().__init__(*args, **kwargs)


# A short list on the page, any row from the API -----------------------------------------------------------------------


class OfferedChoiceIterator(ModelChoiceIterator):
    def __init__(self, field: OfferedModelChoiceField) -> None:
        super().__init__(field)
        if field.offered is not None:
            self.queryset = field.offered


class OfferedModelChoiceField(ModelChoiceField):
    """Accepts any row of `queryset`; its select lists only `offered` (when given)."""

    iterator = OfferedChoiceIterator

    def __init__(self, *args: Any, offered: QuerySet | None = None, **kwargs: Any) -> None:
        self.offered = offered
        super().__init__(*args, **kwargs)

    def __deepcopy__(self, memo: dict[int, Any]) -> OfferedModelChoiceField:
        result = super().__deepcopy__(memo)
        if self.offered is not None:
            result.offered = self.offered.all()
            result.widget.choices = result.choices
        return result


class OfferedModelChoiceFilter(django_filters.ModelChoiceFilter):
    """A model choice whose page select offers `offered` (a queryset, or a callable taking the request) while the
    filter accepts any row of `queryset`, so a script may ask for a row the page does not list."""

    field_class = OfferedModelChoiceField

    def __init__(self, *args: Any, offered: QuerySet | Callable[[HttpRequest | None], QuerySet] | None = None,
                 **kwargs: Any) -> None:
        self.offered = offered
        kwargs.setdefault("empty_label", ANY)
        super().__init__(*args, **kwargs)

    @property
    def field(self) -> forms.Field:
        if not hasattr(self, "_field"):
            offered = self.offered(self.get_request()) if callable(self.offered) else self.offered
            if offered is not None:
                self.extra["offered"] = offered
        return super().field


# Yes / no ------------------------------------------------------------------------------------------------------------


class YesNoSelect(forms.Select):
    """A yes/no/any select that reads what the page sends ("true", "false", "") and what API clients send
    (also "True"/"False", "1"/"0" and the legacy "2"/"3" of Django's NullBooleanSelect)."""

    VALUES = {"true": True, "True": True, "1": True, "2": True, True: True,
              "false": False, "False": False, "0": False, "3": False, False: False}

    def __init__(self, attrs: dict[str, Any] | None = None, *, yes: str = "Yes", no: str = "No") -> None:
        super().__init__(attrs, choices=[("", ANY), ("true", yes), ("false", no)])

    def value_from_datadict(self, data: Any, files: Any, name: str) -> bool | None:
        return self.VALUES.get(data.get(name))

    # A choice widget formats its value as a list (as Django's does); the stubs ignore the same override for it.
    def format_value(self, value: Any) -> list[str]:  # type: ignore[override]
        return ["" if value is None else ("true" if value else "false")]


# The API's ?search= -------------------------------------------------------------------------------------------------


class ApiSearchFilter(filters.SearchFilter):
    """DRF's `?search=`, whose refusal (a null character, too many words) names the parameter like every other
    filter's 400, rather than answering a bare list of messages or failing in the database."""

    def get_search_terms(self, request: Request) -> list[str]:
        try:
            terms = super().get_search_terms(request)
        except ValidationError as refused:
            raise ValidationError({self.search_param: refused.detail}) from refused
        if len(terms) > MAX_SEARCH_WORDS:
            raise ValidationError({self.search_param: [
                f"Search for at most {MAX_SEARCH_WORDS} words at once, not {len(terms)}."]})
        return terms

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        """`search` only for a list that searches (has `search_fields`): DRF documents it for every list, so the
        schema offered it on lists that refuse it as a parameter they do not read (the audit entries')."""
        if not getattr(view, "search_fields", None):
            return []
        return super().get_schema_operation_parameters(view)
