"""How numbers read (tollgate/formatting.py): one format for money, unit prices, scores, percentages and quantities,
the currency from one setting, and no template naming a currency of its own."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django import forms
from django.template import Context, Template

from portfolio.choices import KpiKind
from portfolio.models import KPI
from portfolio.tables import AIModelTable
from tests.paths import REPO
from tollgate.formatting import (
    currency_symbol,
    format_evidence_value,
    format_money,
    format_number,
    format_percent,
    format_points,
    format_score,
    format_unit_price,
    money_label,
    money_per,
    reporting_currency,
)
from tollgate.ui.tables import CountColumn, MoneyColumn


@pytest.mark.parametrize(("value", "expected"), [
    (Decimal("189719.87"), "$189,719.87"),
    (Decimal("-1200"), "-$1,200.00"),
    (Decimal("0"), "$0.00"),
    (Decimal("0.005"), "$0.01"),  # half up, as every amount in Tollgate
    (Decimal("-0.004"), "$0.00"),  # no "-$0.00"
    (1234.5, "$1,234.50"),
    ("372408.425", "$372,408.43"),
    (None, "—"),
    ("", "—"),
])
def test_money_has_the_symbol_thousands_separators_and_two_decimals(value, expected):
    assert format_money(value) == expected


def test_money_of_a_change_carries_its_sign():
    assert format_money(Decimal("1200"), signed=True) == "+$1,200.00"
    assert format_money(Decimal("-1200"), signed=True) == "-$1,200.00"
    assert format_money(Decimal("0"), signed=True) == "$0.00"


def test_the_currency_comes_from_the_setting(settings):
    settings.REPORTING_CURRENCY = "eur"
    assert reporting_currency() == "EUR"
    assert format_money(Decimal("-5")) == "-€5.00"
    settings.REPORTING_CURRENCY = "CHF"  # no symbol of its own: the code
    assert currency_symbol() == "CHF "
    assert format_money(Decimal("1200")) == "CHF 1,200.00"
    assert format_money(Decimal("1200"), currency="GBP") == "£1,200.00"


def test_labels_name_the_currency_when_they_are_shown(settings):
    label, unit = money_label("Declared monthly cost"), money_per("month")
    assert (str(label), str(unit)) == ("Declared monthly cost (USD)", "USD / month")
    settings.REPORTING_CURRENCY = "EUR"
    assert (str(label), str(unit)) == ("Declared monthly cost (EUR)", "EUR / month")
    assert KPI(kind=KpiKind.RATIO).value_per_unit_label == "value per point (EUR)"


def test_a_form_declared_at_import_follows_the_setting(settings):
    class CostForm(forms.Form):
        cost = forms.DecimalField(label=money_label("Cost"))

    settings.REPORTING_CURRENCY = "GBP"
    assert 'for="id_cost">Cost (GBP)' in str(CostForm())


@pytest.mark.parametrize(("value", "expected"), [
    (Decimal("0.0831"), "$0.0831"),
    (Decimal("0.9500"), "$0.95"),
    (Decimal("6.8"), "$6.80"),
    (Decimal("0.00004"), "$0.00"),
    (Decimal("1234.56789"), "$1,234.5679"),
])
def test_a_unit_price_keeps_the_decimals_it_has_up_to_four(value, expected):
    assert format_unit_price(value) == expected


def test_a_column_of_unit_prices_has_four_decimals_in_every_row():
    """The forecast's "Per 1M tokens" read $0.7274, $0.73, $0.7326: the second is 0.7300 with its zeros dropped."""
    column = [Decimal("0.727412"), Decimal("0.729963"), Decimal("0.289966"), Decimal("0.29"), Decimal("12")]
    assert [format_unit_price(v, fixed=True) for v in column] == ["$0.7274", "$0.7300", "$0.2900", "$0.2900",
                                                                  "$12.0000"]
    assert Template("{{ p|unit_price_column }} {{ n|unit_price_column }}").render(
        Context({"p": Decimal("0.73"), "n": None})) == "$0.7300 —"


@pytest.mark.parametrize(("value", "expected"), [
    (Decimal("3.5000"), "3.5"),
    (Decimal("4"), "4.0"),
    (Decimal("3.46"), "3.4"),  # cut, not rounded: just under a 3.5 threshold never reads as 3.5
    (Decimal("3.99"), "3.9"),
    (None, "—"),
])
def test_scores_have_one_decimal(value, expected):
    assert format_score(value) == expected


@pytest.mark.parametrize(("value", "kwargs", "expected"), [
    (Decimal("59.26"), {}, "59.3%"),
    (Decimal("59"), {}, "59.0%"),
    (Decimal("-12.44"), {}, "-12.4%"),
    (Decimal("4.2"), {"signed": True}, "+4.2%"),
    (Decimal("-4.2"), {"signed": True}, "-4.2%"),
    (Decimal("1234.5"), {}, "1,234.5%"),
    (None, {}, "—"),
])
def test_percentages_have_one_decimal_and_the_sign(value, kwargs, expected):
    assert format_percent(value, **kwargs) == expected


@pytest.mark.parametrize(("value", "expected"), [
    (Decimal("0.1"), "+0.1 pt"), (Decimal("-2"), "-2.0 pt"), (Decimal("0"), "0.0 pt"), (None, "—"),
])
def test_a_change_of_a_share_reads_in_points(value, expected):
    assert format_points(value, signed=True) == expected


@pytest.mark.parametrize(("value", "expected"), [
    (Decimal("403.2000"), "403.2"),
    (Decimal("14266"), "14,266"),
    (Decimal("0.2500"), "0.25"),
    (Decimal("7000.0000"), "7,000"),
    (Decimal("1E+3"), "1,000"),
    (None, "—"),
])
def test_quantities_show_only_the_decimals_they_have(value, expected):
    assert format_number(value) == expected


@pytest.mark.parametrize(("value", "unit", "expected"), [
    ("11760.00", "money", "$11,760.00"),
    ("9.50", "ratio", "9.50"),  # a value per dollar: two decimals, as the reports print it (was "9.5")
    ("0.4", "ratio", "0.40"),
    ("1234.5", "ratio", "1,234.50"),
    ("1048127988", "", "1,048,127,988"),
    ("35.1", "", "35.1"),
    ("2026-10-26", "", "2026-10-26"),  # a date, as written
    ("1 of 1", "", "1 of 1"),
    ("NaN", "", "NaN"),
    ("none in any submitted value report", "", "none in any submitted value report"),
])
def test_an_evidence_number_reads_as_money_as_a_quantity_or_as_written(value, unit, expected):
    assert format_evidence_value(value, unit) == expected


def test_every_template_has_the_filters_without_loading_them():
    rendered = Template(
        "{{ a|money }} {{ a|signed_money }} {{ p|unit_price }} {{ s|score }} {{ c|percent }} {{ c|signed_percent }} "
        "{{ q|number }} {{ t|evidence_value }} {{ a|evidence_value:'money' }} {% currency_code %}"
    ).render(Context({"a": Decimal("1234.5"), "p": Decimal("0.0831"), "s": Decimal("3.46"), "c": Decimal("5"),
                      "q": Decimal("403.2000"), "t": "1558"}))
    assert rendered == "$1,234.50 +$1,234.50 $0.0831 3.4 5.0% +5.0% 403.2 1,558 $1,234.50 USD"


def test_a_money_column_prints_money_on_the_page_and_the_plain_number_in_the_csv():
    column = MoneyColumn("Monthly cost")
    assert (column.render(Decimal("1234.5")), column.value(Decimal("1234.5"))) == ("$1,234.50", "1234.50")
    price = MoneyColumn("Price", unit_price=True)
    assert (price.render(Decimal("0.0125")), price.value(Decimal("0.0125"))) == ("$0.0125", "0.0125")
    change = MoneyColumn("Variance", signed=True)
    assert change.render(Decimal("250")) == "+$250.00"


def test_a_count_column_separates_thousands_on_the_page_and_keeps_the_plain_number_in_the_csv():
    column = CountColumn("Outcomes")
    assert (column.render(1173119), column.value(1173119)) == ("1,173,119", 1173119)
    assert column.render(Decimal("403.2")) == "403.2" and column.render("—") == "—"


def test_table_headers_name_the_reporting_currency(settings):
    settings.REPORTING_CURRENCY = "EUR"
    headers = {column.name: str(column.header) for column in AIModelTable([]).columns}
    assert headers["input_price_per_mtok"] == "Input / 1M tokens (EUR)"


def test_no_template_hard_codes_a_currency():
    """Amounts go through the filters and labels through {% currency_code %}: a template naming USD or putting a
    dollar sign before a number would disagree with the setting."""
    offenders = []
    for path in sorted(REPO.glob("**/templates/**/*.html")):
        if ".venv" in path.parts:
            continue
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            if re.search(r"\bUSD\b|\$\{\{|\$\d", line):
                offenders.append(f"{path.relative_to(REPO)}:{number}: {line.strip()[:100]}")
    assert not offenders, "Templates naming a currency:\n" + "\n".join(offenders)
