"""Columns every app's tables share: money, counts and people, shown for people on the page and plain in the CSV."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

import django_tables2 as tables
from django.db.models import F, OrderBy, QuerySet, Value
from django.db.models.functions import Lower, NullIf

from tollgate.formatting import format_money, format_number, format_unit_price

NUM = {"th": {"class": "num"}, "td": {"class": "num"}}


def ignoring_case(*fields: str, descending: bool = False, then: Sequence[str] = (), key: bool = True) -> list[OrderBy]:
    """Order by text fields as people read them, whatever their case, the same on every database: SQLite compares
    bytes, so "apple" came after "Zebra", where PostgreSQL's collation put it first. Each field lower-cased in turn,
    then the `then` fields as they are (a rule's order number), all in the one direction; a row without a value
    comes last either way (SQLite would put NULL first, PostgreSQL last). The key last keeps names equal but for
    their case in one order, page after page (`key=False` leaves the tie to the caller)."""
    terms = [NullIf(Lower(field), Value("")) for field in fields] + [F(field) for field in then]
    ordered = [term.desc(nulls_last=True) if descending else term.asc(nulls_last=True) for term in terms]
    if key:
        ordered.append(F("pk").desc() if descending else F("pk").asc())
    return ordered


TableOrder = Callable[[Any, QuerySet, bool], tuple[QuerySet, bool]]


def ordered_ignoring_case(*fields: str, then: Sequence[str] = ()) -> TableOrder:
    """A table's `order_<column>` sorting a text column by `fields` whatever their case (ignoring_case), e.g.
    `order_name = ordered_ignoring_case("last_name", "first_name", "username")`. django-tables2 calls it for the page
    and its CSV export alike, for a table of a QuerySet only (a list is sorted in Python, by the column's value)."""

    def order(table: Any, queryset: QuerySet, is_descending: bool) -> tuple[QuerySet, bool]:
        return queryset.order_by(*ignoring_case(*fields, descending=is_descending, then=then)), True

    return order


def person_name(user: Any) -> str:
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


def _places(value: Decimal) -> int:
    """Cents at least, more only when the amount has them (a price of 0.0125 per token stays exact)."""
    exponent = Decimal(value).normalize().as_tuple().exponent
    return max(2, -exponent) if isinstance(exponent, int) else 2


class MoneyColumn(tables.Column):
    """An amount in the reporting currency: "$1,234.50" on the page (tollgate.formatting), the plain number in the
    CSV. A unit price (per 1M tokens, per seat) keeps up to four decimals on the page and all of them in the CSV."""

    def __init__(self, *args: Any, unit_price: bool = False, signed: bool = False, **kwargs: Any) -> None:
        kwargs.setdefault("attrs", NUM)
        self.unit_price = unit_price
        self.signed = signed  # a change: "+$1,234.50"
        super().__init__(*args, **kwargs)

    def render(self, value: Decimal) -> str:
        return format_unit_price(value) if self.unit_price else format_money(value, signed=self.signed)

    def value(self, value: Decimal) -> str:
        return f"{value:.{_places(value) if self.unit_price else 2}f}"


class CountColumn(tables.Column):
    """A count or a quantity (rows read, outcomes): "1,173,119" on the page, the plain number in the CSV."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("attrs", NUM)
        super().__init__(*args, **kwargs)

    def render(self, value: Any) -> str:
        return format_number(value) if isinstance(value, int | Decimal | float) else str(value)

    def value(self, value: Any) -> Any:
        return value


class PersonColumn(tables.Column):
    def render(self, value: Any) -> str:
        return person_name(value)

    def value(self, value: Any) -> str:
        return person_name(value)


class YesNoColumn(tables.BooleanColumn):
    """A yes-or-no field: ticks on the page as django-tables2 draws them, "Yes" or "No" in the CSV (not "True")."""

    def value(self, record: Any, value: Any, bound_column: Any) -> str:
        return "Yes" if self._get_bool_value(record, value, bound_column) else "No"
