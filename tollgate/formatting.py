"""How numbers read, everywhere: money, unit prices, scores, percentages and plain quantities.

One module so a page, a table column, a chart and a generated sentence print the same amount the same way:
money with the reporting currency's symbol, thousands separators and two decimals ("$189,719.87", "-$1,200.00");
scores with one decimal ("3.5"); percentages with one decimal and a % sign ("59.3%"). The reporting currency is
one setting (settings.REPORTING_CURRENCY). CSV exports and the API keep plain numbers and say the currency apart.

Plain Python that loads no ORM, so pure modules (the sprawl engine, the chart builders) use it too; the template
filters calling it (tollgate/ui/format_filters.py) are built into every template.
"""

from __future__ import annotations

from decimal import ROUND_DOWN, ROUND_HALF_UP, Context, Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.utils.functional import lazy

# Rounding context wide enough for any figure Tollgate holds (Decimal's default 28 digits are not, for a product of
# large KPI figures and counts): rounding to the cent must never fail a page.
WIDE = Context(prec=80)

EMPTY = "—"

# The symbol of the codes Tollgate is likely to report in; any other code is printed as its code ("CHF 1,200.00").
CURRENCY_SYMBOLS: dict[str, str] = {
    "USD": "$",
    "EUR": "€",
    "GBP": "£",
    "JPY": "¥",
    "INR": "₹",
    "CAD": "CA$",
    "AUD": "A$",
}


def reporting_currency() -> str:
    """The one currency amounts are reported in (ISO 4217 code, upper case)."""
    return str(settings.REPORTING_CURRENCY).strip().upper()


def currency_symbol(code: str | None = None) -> str:
    """What goes before an amount: "$" for USD, "CHF " (the code and a space) for a code without a known symbol."""
    code = (code or reporting_currency()).strip().upper()
    return CURRENCY_SYMBOLS.get(code, f"{code} ")


def _money_label(label: str) -> str:
    return f"{label} ({reporting_currency()})"


# "Declared monthly cost (USD)": a label or header naming the reporting currency, read when shown (so a form or table
# declared at import time follows the setting). Not for model fields: the currency would end up in a migration.
money_label = lazy(_money_label, str)


def _money_per(unit: str) -> str:
    return f"{reporting_currency()} / {unit}"


# "USD / month": the unit of a policy or an axis that is an amount per something.
money_per = lazy(_money_per, str)


def _decimal(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    if isinstance(value, Decimal):
        return value
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def _fixed(value: Decimal, places: int) -> str:
    """Thousands separators and exactly `places` decimals, rounded half up (as money is everywhere in Tollgate)."""
    rounded = value.quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP, context=WIDE)
    return f"{rounded:,.{places}f}"


def _sign(value: Decimal, signed: bool) -> str:
    if value < 0:
        return "-"
    return "+" if signed and value > 0 else ""


def format_money(value: Any, places: int = 2, *, currency: str | None = None, signed: bool = False) -> str:
    """"$189,719.87", "-$1,200.00" ("+$1,200.00" when `signed`, for a change); an unknown amount is "—"."""
    amount = _decimal(value)
    if amount is None:
        return EMPTY
    amount = amount.quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP, context=WIDE)
    return f"{_sign(amount, signed)}{currency_symbol(currency)}{_fixed(abs(amount), places)}"


UNIT_PRICE_PLACES = 4


def format_unit_price(value: Any, *, currency: str | None = None, fixed: bool = False) -> str:
    """A price per unit (per outcome, per 1M tokens): money, with up to four decimals when the price has them
    ("$0.0831", "$0.95", "$6.80"), since cents alone would round small prices away. `fixed`: always four
    ("$0.7300"), for a column of prices read down, where "$0.73" under "$0.7274" looks like another precision."""
    amount = _decimal(value)
    if amount is None:
        return EMPTY
    amount = amount.quantize(Decimal(1).scaleb(-UNIT_PRICE_PLACES), ROUND_HALF_UP, context=WIDE)
    if fixed:
        return format_money(amount, UNIT_PRICE_PLACES, currency=currency)
    exponent = amount.normalize().as_tuple().exponent
    places = min(max(2, -exponent), UNIT_PRICE_PLACES) if isinstance(exponent, int) else 2
    return format_money(amount, places, currency=currency)


def format_score(value: Any) -> str:
    """A rubric score or weighted score: one decimal ("3.5", "4.0"), cut rather than rounded, so a score just under a
    threshold (3.46 against 3.5) never reads as reaching it."""
    number = _decimal(value)
    if number is None:
        return EMPTY
    return _fixed(number.quantize(Decimal("0.1"), ROUND_DOWN, context=WIDE), 1)


def round_half_up(value: Any, places: int = 1) -> Decimal | None:
    """`value` rounded half up to `places` through its decimal text (a float -4.55 is -4.6, not Python's -4.5), as
    every page prints it; for a CSV cell that must read as the page does. None for no value."""
    number = _decimal(value)
    if number is None:
        return None
    return number.quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP, context=WIDE)


def _with_unit(value: Any, places: int, signed: bool, unit: str) -> str:
    """`value` rounded half up to `places`, signed when asked, then `unit`."""
    number = round_half_up(value, places)
    if number is None:
        return EMPTY
    return f"{_sign(number, signed)}{_fixed(abs(number), places)}{unit}"


def format_percent(value: Any, places: int = 1, *, signed: bool = False) -> str:
    """`value` in percent ("59.3%"; "+4.2%" when `signed`, for a change). One decimal unless told otherwise."""
    return _with_unit(value, places, signed, "%")


def format_points(value: Any, places: int = 1, *, signed: bool = False) -> str:
    """A change of a share in percentage points ("+0.1 pt"; "-2.0 pt"): not a percent of the share."""
    return _with_unit(value, places, signed, " pt")


def format_number(value: Any, max_places: int = 4) -> str:
    """A quantity that is neither money nor a score (a KPI's baseline, a volume): thousands separators and only the
    decimals it has ("14,266", "403.2", "0.25"), at most `max_places`."""
    number = _decimal(value)
    if number is None:
        return EMPTY
    number = number.quantize(Decimal(1).scaleb(-max_places), ROUND_HALF_UP, context=WIDE).normalize()
    exponent = number.as_tuple().exponent
    places = max(0, -exponent) if isinstance(exponent, int) else 0
    return _fixed(number, places)


def format_evidence_value(value: Any, unit: str = "") -> str:
    """One number of a signal's evidence as a reader expects it: money as money, a bare quantity with thousands
    separators ("1,048,127,988"), and what is not a number (a date, "1 of 1", a name) as written. The evidence keeps
    plain strings so that a change of currency or format never rewrites a recorded signal."""
    if unit == "money":
        return format_money(value)
    if unit == "ratio":  # a value per dollar: two decimals, as the reports and the dashboard print it ("9.50")
        return _with_unit(value, 2, False, "")
    number = _decimal(value)
    return format_number(number) if number is not None and number.is_finite() else str(value)
