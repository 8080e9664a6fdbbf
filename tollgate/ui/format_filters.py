"""The number formats of tollgate/formatting.py as template filters, built into every template (settings.TEMPLATES
"builtins"), so no page needs `{% load %}` to print an amount the way every other page does."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe

from tollgate.formatting import (
    format_evidence_value,
    format_money,
    format_number,
    format_percent,
    format_points,
    format_score,
    format_unit_price,
    reporting_currency,
)
from tollgate.text import possessive as possessive_of

register = template.Library()


@register.filter
def money(value: Any) -> str:
    """{{ amount|money }} → "$1,234.50"."""
    return format_money(value)


@register.filter
def signed_money(value: Any) -> str:
    """{{ variance|signed_money }} → "+$1,234.50" or "-$1,234.50"."""
    return format_money(value, signed=True)


@register.filter
def unit_price(value: Any) -> str:
    """{{ cost_per_outcome|unit_price }} → "$0.0831"."""
    return format_unit_price(value)


@register.filter
def unit_price_column(value: Any) -> str:
    """{{ row.unit_cost|unit_price_column }} → "$0.7300": always four decimals, for a column of unit prices."""
    return format_unit_price(value, fixed=True)


@register.filter
def score(value: Any) -> str:
    """{{ weighted_score|score }} → "3.5"."""
    return format_score(value)


@register.filter(needs_autoescape=True)
def possessive(value: Any, autoescape: bool = True) -> str:
    """{{ department.name|possessive }} → "Finance's", "Digital Channels'" (tollgate.text.possessive). The name is
    escaped, the apostrophe the filter adds is not, so the page reads as the literal "'s" it replaces did."""
    text = possessive_of(value)
    name = str(value).rstrip()
    ending = text[len(name):]
    return mark_safe((conditional_escape(name) if autoescape else name) + ending)


@register.filter
def percent(value: Any, places: int = 1) -> str:
    """{{ share|percent }} → "59.3%" (the value already in percent)."""
    return format_percent(value, int(places))


@register.filter
def signed_percent(value: Any) -> str:
    """{{ change|signed_percent }} → "+4.2%" or "-12.4%"."""
    return format_percent(value, signed=True)


@register.filter
def signed_points(value: Any) -> str:
    """{{ change|signed_points }} → "+0.1 pt" or "-2.0 pt" (a share's change in percentage points)."""
    return format_points(value, signed=True)


@register.filter
def number(value: Any) -> str:
    """{{ kpi.baseline|number }} → "403.2"."""
    return format_number(value)


@register.filter
def evidence_value(value: Any, unit: str = "") -> str:
    """{{ number.value|evidence_value:number.unit }} → "$11,760.00", "1,558" or "2026-10-26" as written."""
    return format_evidence_value(value, unit)


@register.simple_tag
def currency_code() -> str:
    """{% currency_code %} → "USD": the reporting currency, for a label that names it."""
    return reporting_currency()
