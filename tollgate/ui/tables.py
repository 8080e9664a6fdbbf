"""Columns every app's tables share: money, counts and people, shown for people on the page and plain in the CSV."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import django_tables2 as tables

NUM = {"th": {"class": "num"}, "td": {"class": "num"}}


def person_name(user: Any) -> str:
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


def _places(value: Decimal) -> int:
    """Cents at least, more only when the amount has them (a price of 0.0125 per token stays exact)."""
    exponent = Decimal(value).normalize().as_tuple().exponent
    return max(2, -exponent) if isinstance(exponent, int) else 2


class MoneyColumn(tables.Column):
    """Right-aligned amount with thousands separators on the page, the plain number in the CSV."""

    def __init__(self, *args: Any, places: int | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("attrs", NUM)
        self.places = places  # fixed decimals (totals in cents); by default as many as the amount has
        super().__init__(*args, **kwargs)

    def render(self, value: Decimal) -> str:
        return f"{value:,.{self.places or _places(value)}f}"

    def value(self, value: Decimal) -> str:
        return f"{value:.{self.places or _places(value)}f}"


class CountColumn(tables.Column):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("attrs", NUM)
        super().__init__(*args, **kwargs)


class PersonColumn(tables.Column):
    def render(self, value: Any) -> str:
        return person_name(value)

    def value(self, value: Any) -> str:
        return person_name(value)
