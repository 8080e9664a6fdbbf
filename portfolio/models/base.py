"""What every portfolio model shares: timestamps and the money field shapes."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal, overload

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.expressions import Combinable

NON_NEGATIVE = [MinValueValidator(Decimal("0"))]

# A KPI figure (baseline, target, actual): its column holds 16 digits, 4 after the point, but SQLite (the embedded
# default) keeps a decimal as a 15-digit float, and a 16-digit figure read back from it no longer fits its column (the
# page that shows it fails). So at most 15 digits are taken, wherever the data lives: 11 before the point.
KPI_FIGURE_LIMIT = Decimal("99999999999.9999")
_KPI_FIGURE_MESSAGE = ("A KPI figure is between -99,999,999,999.9999 and 99,999,999,999.9999 "
                       "(11 digits before the point).")
KPI_FIGURE = [MinValueValidator(-KPI_FIGURE_LIMIT, message=_KPI_FIGURE_MESSAGE),
              MaxValueValidator(KPI_FIGURE_LIMIT, message=_KPI_FIGURE_MESSAGE)]
# DRF's decimal field checks the column's digits and range first, in its own words: the API says the same as the pages.
KPI_FIGURE_API_MESSAGES: dict[str, Any] = {key: _KPI_FIGURE_MESSAGE for key in (
    "max_value", "min_value", "max_digits", "max_whole_digits")}

_DecimalInput = str | float | Decimal | Combinable


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
        return models.DecimalField(
            verbose_name, max_digits=self.max_digits, decimal_places=self.decimal_places, null=null, **options
        )


money_field = DecimalShape(14, 2)  # US dollars to the cent
price_field = DecimalShape(12, 4)  # unit prices (per seat, per 1M tokens, per outcome) below the cent


class TimestampedModel(models.Model):
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True
