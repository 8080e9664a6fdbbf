"""The portfolio tables' columns: a CSV cell reads as the page's cell does."""

from __future__ import annotations

import pytest

from portfolio.tables import PercentColumn


@pytest.mark.parametrize("value", [-4.55, 4.55, 0.05, -0.05, 12.25, 8.849999, 100.0, -0.04, 2.675])
def test_percent_column_csv_rounds_as_the_page(value: float) -> None:
    """The departments page showed Finance's variance as -4.6% and its CSV as -4.5: a float -4.55 formatted with
    :.1f rounds down (its binary value is just under), the page rounds the decimal text half up."""
    column = PercentColumn()
    shown = column.render(value)
    exported = column.value(value)
    assert shown.lstrip("+").rstrip("%") == exported
    if value == -4.55:
        assert (shown, exported) == ("-4.6%", "-4.6")
