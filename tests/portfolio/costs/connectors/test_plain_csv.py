"""Plain CSV connector: the documented columns, initiative or key, categories, and the errors it names."""

from __future__ import annotations

import gzip
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from portfolio.costs.connectors.base import ConnectorError, CostCategory, Period
from portfolio.costs.connectors.plain_csv import PlainCsvConnector
from tests import paths

FIXTURES = paths.FIXTURES / "costs"
JUNE = Period.month(2025, 6)
HEADER = "date,initiative,key,category,amount,currency,quantity,unit\n"


def read(path: Path, **settings) -> list:
    return list(PlainCsvConnector(settings=settings).read(JUNE, path=path))


def write(tmp_path: Path, body: str, header: str = HEADER) -> Path:
    path = tmp_path / "costs.csv"
    path.write_text(header + body)
    return path


def test_reads_the_documented_columns():
    rows = read(FIXTURES / "plain_costs.csv")
    assert len(rows) == 4
    oversight, maintenance, gpu, other = rows
    assert oversight.keys == {"initiative": "INV-0001"}
    assert (oversight.category, oversight.amount, oversight.currency) == (CostCategory.OVERSIGHT, Decimal("3900.00"),
                                                                          "USD")
    assert (oversight.quantity, oversight.unit, oversight.charge_date) == (Decimal("60"), "hours", date(2025, 6, 30))
    assert maintenance.keys == {"tag:project": "contract-review"} and maintenance.currency == "EUR"
    assert maintenance.quantity is None
    assert gpu.keys == {"namespace": "ml-training"} and gpu.gpu_hours == Decimal("96")
    assert other.location == "plain_costs.csv row 5"


def test_column_order_is_free_and_blank_currency_takes_the_setting(tmp_path):
    path = write(tmp_path, "4.5,compute,namespace=a,2025-06-02,\n", header="amount,category,key,date,currency\n")
    (row,) = read(path, currency="eur")
    assert row.currency == "EUR" and row.amount == Decimal("4.5") and row.keys == {"namespace": "a"}


def test_gzip(tmp_path):
    path = tmp_path / "costs.csv.gz"
    path.write_bytes(gzip.compress((FIXTURES / "plain_costs.csv").read_bytes()))
    assert len(read(path)) == 4


@pytest.mark.parametrize(("body", "location", "message"), [
    ("2025-07-01,INV-1,,other,1,USD,,\n", "row 2 column date", "outside the period"),
    ("30/06/2025,INV-1,,other,1,USD,,\n", "row 2 column date", "not a date"),
    ("2025-06-01,,,other,1,USD,,\n", "row 2 column initiative", "give an initiative or a key"),
    ("2025-06-01,,project,other,1,USD,,\n", "row 2 column key", "<key>=<value>"),
    ("2025-06-01,INV-1,,travel,1,USD,,\n", "row 2 column category", "not a category"),
    ("2025-06-01,INV-1,,other,,USD,,\n", "row 2 column amount", "blank"),
    ("2025-06-01,INV-1,,other,1.2.3,USD,,\n", "row 2 column amount", "not a number"),
    ("2025-06-01,INV-1,,other,1,USD,lots,\n", "row 2 column quantity", "not a number"),
    ("2025-06-01,INV-1,,other,1,USD\n", "row 2", "expected 8 columns"),
])
def test_bad_rows_name_row_and_column(tmp_path, body, location, message):
    with pytest.raises(ConnectorError) as caught:
        read(write(tmp_path, body))
    assert caught.value.location == f"costs.csv {location}"
    assert message in caught.value.message


def test_missing_columns(tmp_path):
    with pytest.raises(ConnectorError, match="missing column\\(s\\): amount, initiative or key"):
        read(write(tmp_path, "", header="date,category,currency\n"))


def test_empty_file(tmp_path):
    path = tmp_path / "costs.csv"
    path.write_bytes(b"")
    with pytest.raises(ConnectorError, match="empty"):
        read(path)


def test_blank_lines_are_ignored(tmp_path):
    assert len(read(write(tmp_path, "2025-06-01,INV-1,,other,1,USD,,\n\n,,,,,,,\n"))) == 1


@pytest.mark.parametrize(("column", "value"), [
    ("amount", "1000000000000.00"), ("amount", "-1000000000000"), ("amount", "999999999999.995"),
    ("amount", "99999999999999999999.99"), ("amount", "1e30"), ("quantity", "1e18"),
])
def test_a_value_beyond_its_column_is_too_large(tmp_path, column, value):
    amount, quantity = (value, "") if column == "amount" else ("1", value)
    with pytest.raises(ConnectorError) as caught:
        read(write(tmp_path, f"2025-06-01,INV-1,,other,{amount},USD,{quantity},\n"))
    assert caught.value.location == f"costs.csv row 2 column {column}"
    assert f"{value!r} is too large" in caught.value.message


def test_the_largest_amount_and_quantity_are_read(tmp_path):
    (row,) = read(write(tmp_path, "2025-06-01,INV-1,,other,-999999999999.99,USD,999999999999999999.999999,\n"))
    assert row.amount == Decimal("-999999999999.99") and row.quantity == Decimal("999999999999999999.999999")


@pytest.mark.parametrize(("separator", "named"), [(";", "';'"), ("\t", "a tab")])
def test_a_header_with_another_separator_says_so(tmp_path, separator, named):
    header = separator.join(["date", "initiative", "key", "category", "amount", "currency", "quantity", "unit"])
    with pytest.raises(ConnectorError) as caught:
        read(write(tmp_path, "2025-06-01;INV-1;;other;1;USD;;\n", header=header + "\n"))
    assert caught.value.message == (f"missing column(s): date, category, amount, initiative or key; the file seems to "
                                    f"use {named} as separator: save it comma-separated (a comma is expected)")


# The header check: an upload is refused for it before its run is created --------------------------------------------


def test_the_header_check_passes_the_documented_columns_in_any_order(tmp_path):
    assert PlainCsvConnector.check_header(FIXTURES / "plain_costs.csv") == [
        "date", "initiative", "key", "category", "amount", "currency", "quantity", "unit"]
    assert PlainCsvConnector.check_header(write(tmp_path, "", header="Amount,Key,Category,Date\n")) == [
        "amount", "key", "category", "date"]


@pytest.mark.parametrize(("name", "content", "message"), [
    ("focus.csv", (FIXTURES / "focus_1_2.csv").read_bytes(),
     "focus.csv row 1: missing column(s): date, category, amount, initiative or key"),
    ("no-amount.csv", b"date,initiative,category\n2025-06-01,INV-1,other\n",
     "no-amount.csv row 1: missing column(s): amount"),
    ("semi.csv", HEADER.replace(",", ";").encode(),
     "semi.csv row 1: missing column(s): date, category, amount, initiative or key; the file seems to use ';' as "
     "separator: save it comma-separated (a comma is expected)"),
    ("excel.csv", HEADER.encode("utf-16"),
     "excel.csv row 1: the file is not UTF-8 text (byte 0xff); export it as UTF-8"),
], ids=["focus-export", "no-amount", "semicolons", "utf-16"])
def test_the_header_check_refuses_a_wrong_file_as_its_run_would(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ConnectorError) as checked:
        PlainCsvConnector.check_header(path)
    with pytest.raises(ConnectorError) as ran:
        read(path)
    assert str(checked.value) == str(ran.value) == message


def test_a_column_named_twice_is_refused_at_the_header(tmp_path):
    """With two amount columns one value was kept without a word (the last): which one was meant is not ours to say."""
    path = tmp_path / "dupcol.csv"
    path.write_text("date,initiative,key,category,amount,Amount\n2025-06-03,INV-0001,,inference,10,20\n")
    with pytest.raises(ConnectorError) as caught:
        PlainCsvConnector.check_header(path)
    assert caught.value.location == "dupcol.csv row 1"
    assert caught.value.message == "duplicate column(s): amount: keep one of each"


@pytest.mark.parametrize("unit", ["GPU-hours", "gpu hour", "GPU hours (A100)"])
def test_negative_gpu_hours_are_refused_naming_row_and_column(tmp_path, unit):
    path = write(tmp_path, "2025-06-15,,namespace=ml-training,compute,812.40,USD,96,GPU-hours\n"
                           f"2025-06-16,,namespace=ml-training,compute,-812.40,USD,-96,{unit}\n")

    with pytest.raises(ConnectorError) as caught:
        read(path)

    assert caught.value.location == "costs.csv row 3 column quantity"
    assert caught.value.message == ("'-96' GPU-hours is negative: a credit or refund is a negative amount with the "
                                    "hours it refunds as a positive quantity (or none)")


def test_a_gpu_credit_is_a_negative_amount_with_positive_or_no_hours(tmp_path):
    gpu, credit, blank = read(write(tmp_path, "2025-06-15,,namespace=ml-training,compute,812.40,USD,96,GPU-hours\n"
                                              "2025-06-20,,namespace=ml-training,compute,-81.24,USD,9.6,GPU-hours\n"
                                              "2025-06-21,,namespace=ml-training,compute,-10.00,USD,,GPU-hours\n"))

    assert (credit.amount, credit.gpu_hours) == (Decimal("-81.24"), Decimal("9.6"))
    assert (blank.amount, blank.gpu_hours) == (Decimal("-10.00"), None)
    assert gpu.gpu_hours == Decimal("96")


def test_a_negative_quantity_in_another_unit_is_still_read(tmp_path):
    """Only GPU-hours are checked: an oversight correction of -2 hours is a quantity, not GPU usage."""
    (row,) = read(write(tmp_path, "2025-06-30,INV-0001,,oversight,-130.00,USD,-2,hours\n"))
    assert (row.quantity, row.gpu_hours) == (Decimal("-2"), None)
