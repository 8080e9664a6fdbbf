"""What every portfolio model shares: timestamps and the money field shapes."""

from __future__ import annotations

import decimal
from decimal import Decimal
from typing import Any, Literal, overload

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.expressions import Combinable
from django.utils.functional import cached_property

NON_NEGATIVE = [MinValueValidator(Decimal("0"))]

# A KPI figure (baseline, target, actual): its column holds 16 digits, 4 after the point, but SQLite (the embedded
# default) keeps a decimal as a 15-digit float, and a 16-digit figure read back from it no longer fits its column (the
# page that shows it fails). So at most 15 digits are taken, wherever the data lives: 11 before the point.
KPI_FIGURE_LIMIT = Decimal("99999999999.9999")
_KPI_FIGURE_MESSAGE = ("A KPI figure is between -99,999,999,999.9999 and 99,999,999,999.9999 "
                       "(11 digits before the point).")
KPI_FIGURE = [MinValueValidator(-KPI_FIGURE_LIMIT, message=_KPI_FIGURE_MESSAGE),
              MaxValueValidator(KPI_FIGURE_LIMIT, message=_KPI_FIGURE_MESSAGE)]
# Django's and DRF's decimal fields check the column's digits first, in their own words (12 digits before the point,
# 16 in all: the column's, not the limit above): every door (page, Django admin, API) gives the one sentence instead.
KPI_FIGURE_MESSAGES: dict[str, Any] = {key: _KPI_FIGURE_MESSAGE for key in (
    "max_value", "min_value", "max_digits", "max_whole_digits")}

# PostgreSQL's integer column stops at 2,147,483,647 (a small integer at 32,767); SQLite (the embedded default) takes
# up to 2^63 - 1. Whole numbers people type are bounded by their column on both, checked before the database, so what
# a page, the API or an import accepts is what every deployment stores (the bound of reviews.models.COUNT_MAX).
INTEGER_MAX = 2_147_483_647
SMALL_INTEGER_MAX = 32_767


def at_most(limit: int, what: str) -> list[MaxValueValidator]:
    """A whole number's upper bound, refused in a sentence naming the field (`what`, as a page labels it)."""
    return [MaxValueValidator(limit, message=f"{what} is at most {limit:,}.")]


_DecimalInput = str | float | Decimal | Combinable


# Enough digits for any number SQLite holds (a float below 1.8e308) with a column's places after the point.
READ_PRECISION = 330


class ShapedDecimalField(models.DecimalField):
    """A DecimalField that still reads back a value beyond its digits which an older version stored on SQLite (SQLite
    keeps any number, whatever the column says; PostgreSQL refuses it): Django's SQLite converter rounds what it reads
    in the field's `context`, and at max_digits that raised InvalidOperation, taking every page that lists the row
    down. Writes are checked as before (the validators, and the services' limits); a float given to the field is
    still rounded to max_digits. It deconstructs as a plain DecimalField: no migration."""

    @cached_property
    def context(self) -> decimal.Context:
        return decimal.Context(prec=READ_PRECISION)

    def to_python(self, value: Any) -> Any:
        if isinstance(value, float):
            value = decimal.Context(prec=self.max_digits).create_decimal_from_float(value)
        return super().to_python(value)

    def deconstruct(self) -> Any:
        name, _, args, kwargs = super().deconstruct()
        return name, "django.db.models.DecimalField", args, kwargs


class DecimalShape:
    """One decimal column shape (digits and places), named once and used by every field of that kind.

    Calling it builds the `models.DecimalField`; the overloads tell the type checker whether the column is nullable,
    as django-stubs would for a direct `DecimalField(...)` call."""

    def __init__(self, max_digits: int, decimal_places: int) -> None:
        self.max_digits = max_digits
        self.decimal_places = decimal_places

    @overload
    def __call__(
        self, verbose_name: str | None = None, *, null: Literal[False] = False, **options: Any
    ) -> models.DecimalField[_DecimalInput, Decimal]: ...

    @overload
    def __call__(
        self, verbose_name: str | None = None, *, null: Literal[True], **options: Any
    ) -> models.DecimalField[_DecimalInput | None, Decimal | None]: ...

    def __call__(self, verbose_name: str | None = None, *, null: bool = False, **options: Any) -> models.DecimalField:
        return ShapedDecimalField(
            verbose_name, max_digits=self.max_digits, decimal_places=self.decimal_places, null=null, **options
        )


money_field = DecimalShape(14, 2)  # US dollars to the cent
price_field = DecimalShape(12, 4)  # unit prices (per seat, per 1M tokens, per outcome) below the cent


class TimestampedModel(models.Model):
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True
