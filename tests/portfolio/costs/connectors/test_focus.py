"""FOCUS connector: CSV, gzip CSV and Parquet; 1.0-1.2 and 1.3 column names; NULL tokens, credits, tags; bad files."""

from __future__ import annotations

import csv
import gzip
import io
from datetime import date
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from portfolio.costs.connectors.base import ConnectorError, CostCategory, Period
from portfolio.costs.connectors.focus import FocusConnector, cost_category
from tests import paths

FIXTURES = paths.FIXTURES / "costs"
REAL_SAMPLE = paths.SHARED_DATA / "focus-1.0-sample.csv"
JUNE = Period.month(2025, 6)


def read(path: Path, period: Period = JUNE, **settings) -> tuple[list, FocusConnector]:
    connector = FocusConnector(settings=settings)
    return list(connector.read(period, path=path)), connector


def rewrite(tmp_path: Path, name: str, edit) -> Path:
    """A copy of the 1.2 fixture with `edit(header, rows)` applied."""
    with (FIXTURES / "focus_1_2.csv").open(newline="") as handle:
        header, *rows = list(csv.reader(handle))
    edit(header, rows)
    path = tmp_path / name
    with path.open("w", newline="") as handle:
        csv.writer(handle).writerows([header, *rows])
    return path


def test_reads_ai_rows_of_a_focus_1_2_csv():
    rows, connector = read(FIXTURES / "focus_1_2.csv")

    assert [r.service_name for r in rows] == [
        "Azure OpenAI", "Azure OpenAI", "Amazon Bedrock", "Azure Machine Learning", "Azure AI Search"
    ]
    assert (connector.rows_read, connector.rows_skipped) == (9, 4)
    first = rows[0]
    assert first.amount == Decimal("12.50") and first.billed_amount == Decimal("12.50")
    assert first.currency == "USD" and first.charge_date == date(2025, 6, 14)
    assert first.category == CostCategory.INFERENCE
    assert first.model == "gpt-4o" and first.quantity == Decimal("5000") and first.unit == "1000 Tokens"
    assert first.keys == {
        "tag:project": "search-assistant", "tag:env": "prod", "billing_account_id": "8611-2201",
        "sub_account_id": "3f2a9c1e-0001", "resource_id": "/subscriptions/3f2a9c1e-0001/accounts/aoai-east",
        "service_name": "Azure OpenAI",
    }
    assert first.location == "focus_1_2.csv row 2"


def test_null_tokens_credits_and_valueless_tags():
    rows, _ = read(FIXTURES / "focus_1_2.csv")
    ml, credit = rows[3], rows[4]
    assert ml.category == CostCategory.COMPUTE
    assert not any(k.startswith("tag:") for k in ml.keys)  # Tags NULL
    assert ml.model == ""  # x_Model NULL
    assert credit.amount == Decimal("-5.00")
    assert credit.quantity is None and "resource_id" not in credit.keys
    assert credit.keys["tag:untagged-flag"] == "true"  # a tag without value is 'true' (FOCUS tags.md)


def test_configured_service_names_count_as_ai_spend_and_effective_cost_is_the_amount():
    rows, connector = read(FIXTURES / "focus_1_2.csv", ai_service_names=["Amazon EC2"])
    gpu = [r for r in rows if r.service_name == "Amazon EC2"]
    assert len(gpu) == 1 and connector.rows_skipped == 3
    assert gpu[0].amount == Decimal("100.00") and gpu[0].billed_amount == Decimal("120.00")
    assert gpu[0].category == CostCategory.COMPUTE


def test_configured_categories_replace_the_default():
    rows, _ = read(FIXTURES / "focus_1_2.csv", ai_service_categories=["Storage"])
    assert [(r.service_name, r.category) for r in rows] == [("Storage", CostCategory.STORAGE)]


def test_focus_1_3_service_provider_name_is_accepted():
    rows, connector = read(FIXTURES / "focus_1_3.csv")
    assert len(rows) == 5 and connector.rows_skipped == 0
    assert sum(r.amount for r in rows) == Decimal("85.75")


def test_gzip_csv_by_suffix_and_by_magic_bytes(tmp_path):
    content = (FIXTURES / "focus_1_2.csv").read_bytes()
    suffixed = tmp_path / "export.csv.gz"
    suffixed.write_bytes(gzip.compress(content))
    unsuffixed = tmp_path / "export-download"
    unsuffixed.write_bytes(gzip.compress(content))
    plain, _ = read(FIXTURES / "focus_1_2.csv")
    for path in (suffixed, unsuffixed):
        rows, _ = read(path)
        assert [(r.amount, r.keys) for r in rows] == [(r.amount, r.keys) for r in plain]


def test_parquet_is_read_in_record_batches(tmp_path, monkeypatch):
    monkeypatch.setattr("portfolio.costs.connectors.focus.PARQUET_BATCH_ROWS", 2)  # several batches from a small file
    with (FIXTURES / "focus_1_2.csv").open(newline="") as handle:
        records = list(csv.DictReader(handle))
    columns = {name: [r[name] for r in records] for name in records[0]}
    columns["EffectiveCost"] = [Decimal(v) for v in columns["EffectiveCost"]]  # typed, as real exports are
    columns["BilledCost"] = [Decimal(v) for v in columns["BilledCost"]]
    columns["Tags"] = [None if v == "NULL" else v for v in columns["Tags"]]
    path = tmp_path / "export.parquet"
    pq.write_table(pa.table(columns), path, row_group_size=3)

    rows, connector = read(path)

    plain, _ = read(FIXTURES / "focus_1_2.csv")
    assert [(r.amount, r.billed_amount, r.keys, r.category) for r in rows] == [
        (r.amount, r.billed_amount, r.keys, r.category) for r in plain
    ]
    assert rows[0].location == "export.parquet row 2" and connector.rows_read == 9


def test_parquet_without_the_magic_suffix_is_detected(tmp_path):
    path = tmp_path / "export.bin"
    with (FIXTURES / "focus_1_2.csv").open(newline="") as handle:
        records = list(csv.DictReader(handle))
    pq.write_table(pa.Table.from_pylist(records), path)
    rows, _ = read(path)
    assert len(rows) == 5


@pytest.mark.skipif(not REAL_SAMPLE.exists(), reason=f"the real FOCUS 1.0 sample is not at {REAL_SAMPLE}")
def test_the_real_focus_1_0_sample_reads_cleanly():
    rows, connector = read(REAL_SAMPLE, Period.month(2024, 9))
    assert connector.rows_read == 1000
    assert len(rows) == 9 and connector.rows_skipped == 991
    # Each row skipped once, under its reason: the October row is not counted as non-AI spend too.
    assert connector.skipped_by_reason == {"not AI spend": 990, "billed in another period": 1}
    assert {r.service_name for r in rows} == {"Azure Machine Learning"}
    assert sum(r.amount for r in rows) == Decimal("-0.15189756178")
    assert any(r.amount < 0 for r in rows)  # credits
    assert all(r.keys["tag:CostAllocationTest"] == "Sameer" for r in rows)  # JSON tags
    assert all(r.currency == "USD" and Period.month(2024, 9).contains(r.charge_date) for r in rows)
    # One Oracle line of 30 September is billed in October: October's export holds it, and the run says so.
    assert connector.notes == ["1 row billed in another period (2024-10) skipped: it belongs to that month's "
                               "export."]


# Bad input -----------------------------------------------------------------------------------------------------------


def error_of(path: Path, period: Period = JUNE) -> ConnectorError:
    with pytest.raises(ConnectorError) as caught:
        read(path, period)
    assert not caught.value.transient  # malformed data is never worth retrying
    return caught.value


def test_empty_file(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    assert "empty" in str(error_of(path))


def test_truncated_gzip(tmp_path):
    path = tmp_path / "cut.csv.gz"
    data = gzip.compress((FIXTURES / "focus_1_2.csv").read_bytes() * 20)
    path.write_bytes(data[: len(data) // 2])
    error = error_of(path)
    assert "truncated or corrupt" in error.message and error.location.startswith("cut.csv.gz row ")


def test_wrong_encoding(tmp_path):
    path = rewrite(tmp_path, "latin.csv", lambda header, rows: None)
    text = path.read_text().replace("Contoso EA", "Contoso Müller EA", 1)
    path.write_bytes(text.encode("latin-1"))
    error = error_of(path)
    assert "not UTF-8" in error.message and error.location == "latin.csv row 2"


def test_missing_mandatory_columns_are_named(tmp_path):
    def drop(header, rows):
        for name in ("EffectiveCost", "BillingCurrency"):
            index = header.index(name)
            del header[index]
            for row in rows:
                del row[index]

    error = error_of(rewrite(tmp_path, "missing.csv", drop))
    assert "EffectiveCost" in error.message and "BillingCurrency" in error.message
    assert error.location == "missing.csv row 1"


def test_missing_provider_column_names_both_versions(tmp_path):
    def drop(header, rows):
        index = header.index("ProviderName")
        del header[index]
        for row in rows:
            del row[index]

    assert "ServiceProviderName (1.3)" in error_of(rewrite(tmp_path, "noprovider.csv", drop)).message


@pytest.mark.parametrize(("value", "expected"), [("twelve", "'twelve' is not a number"), ("NULL", "blank"),
                                                 ("", "blank"), ("NaN", "not a finite number")])
def test_non_numeric_or_blank_cost_names_row_and_column(tmp_path, value, expected):
    def spoil(header, rows):
        rows[2][header.index("EffectiveCost")] = value

    error = error_of(rewrite(tmp_path, "bad.csv", spoil))
    assert expected in error.message
    assert error.location == "bad.csv row 4 column EffectiveCost"


@pytest.mark.parametrize(("column", "value"), [
    ("EffectiveCost", "99999999999999.99"), ("BilledCost", "123456789012345678901234567890"),
    ("EffectiveCost", "-1000000000000"), ("ConsumedQuantity", "1e19"),
])
def test_a_value_beyond_its_column_is_too_large(tmp_path, column, value):
    def spoil(header, rows):
        rows[2][header.index(column)] = value

    error = error_of(rewrite(tmp_path, "big.csv", spoil))
    assert f"{value!r} is too large" in error.message
    assert error.location == f"big.csv row 4 column {column}"


def test_a_parquet_value_beyond_its_column_is_too_large(tmp_path):
    table = pa.table({"ChargePeriodStart": ["2025-06-14T00:00:00Z"], "BilledCost": [1.0], "EffectiveCost": [1e13],
                      "ServiceCategory": ["AI and Machine Learning"], "ServiceName": ["Azure OpenAI"],
                      "ProviderName": ["Microsoft"], "BillingCurrency": ["USD"]})
    pq.write_table(table, tmp_path / "big.parquet")
    error = error_of(tmp_path / "big.parquet")
    assert "is too large" in error.message and error.location == "big.parquet row 2 column EffectiveCost"


def test_charge_date_outside_the_period_names_the_row(tmp_path):
    def spoil(header, rows):
        rows[6][header.index("ChargePeriodStart")] = "2025-07-01T00:00:00Z"  # a non-AI row: still wrong

    error = error_of(rewrite(tmp_path, "july.csv", spoil))
    assert "outside the period 2025-06" in error.message
    assert error.location == "july.csv row 8 column ChargePeriodStart"


def test_a_whole_file_of_another_billing_period_fails():
    error = error_of(FIXTURES / "focus_1_2.csv", Period.month(2025, 5))
    assert error.location == "focus_1_2.csv row 2 column BillingPeriodStart"
    assert error.message == "no row is billed in 2025-05: this is the export of billing period 2025-06; read it for " \
                            "that month"


def test_a_file_without_billing_period_is_a_month_by_its_charge_dates(tmp_path):
    """Hand-made files may lack BillingPeriodStart: their charge dates say the month, and one outside it is wrong."""
    def drop_billing_period(header, rows):
        index = header.index("BillingPeriodStart")
        for cells in (header, *rows):
            del cells[index]

    path = rewrite(tmp_path, "nobilling.csv", drop_billing_period)
    assert len(read(path)[0]) == 5
    error = error_of(path, Period.month(2025, 5))
    assert error.location == "nobilling.csv row 2 column ChargePeriodStart"
    assert "charge date 2025-06-14 is outside the period 2025-05" in error.message


def correction_of_may(header, rows):
    """The June export with a correction of a May charge, billed in June (ChargeClass Correction)."""
    correction = list(rows[0])
    correction[header.index("ChargePeriodStart")] = "2025-05-20T00:00:00Z"
    correction[header.index("ChargePeriodEnd")] = "2025-05-21T00:00:00Z"
    correction[header.index("ChargeClass")] = "Correction"
    correction[header.index("ChargeDescription")] = "Correction of May GPT-4o input"
    for column in ("BilledCost", "EffectiveCost", "ListCost", "ContractedCost"):
        correction[header.index(column)] = "-2.00"
    rows.insert(3, correction)


def test_a_correction_of_an_earlier_charge_period_belongs_to_the_month_it_is_billed_in(tmp_path):
    """FOCUS exports are cut by billing period: a correction (or late charge) of May billed in June is June's."""
    rows, connector = read(rewrite(tmp_path, "june.csv", correction_of_may))
    correction = [r for r in rows if r.amount == Decimal("-2.00")]
    assert len(rows) == 6 and len(correction) == 1
    assert correction[0].charge_date == date(2025, 5, 20) and correction[0].location == "june.csv row 5"
    assert all(r.billed_in_period for r in rows) and connector.notes == []
    # Read for May it is refused whole: every row is billed in June.
    error = error_of(tmp_path / "june.csv", Period.month(2025, 5))
    assert "no row is billed in 2025-05" in error.message


def test_rows_billed_in_another_period_are_left_to_that_months_export(tmp_path):
    def late_july_row(header, rows):
        rows[1][header.index("BillingPeriodStart")] = "2025-07-01T00:00:00Z"
        rows[1][header.index("BillingPeriodEnd")] = "2025-08-01T00:00:00Z"

    rows, connector = read(rewrite(tmp_path, "june.csv", late_july_row))
    assert len(rows) == 4 and Decimal("30.00") not in {r.amount for r in rows}
    assert connector.rows_read == 9 and connector.rows_skipped == 5
    assert connector.skipped_by_reason == {"not AI spend": 4, "billed in another period": 1}
    assert connector.notes == ["1 row billed in another period (2025-07) skipped: it belongs to that month's export."]


def test_a_charge_after_its_billing_period_fails(tmp_path):
    def spoil(header, rows):
        rows[2][header.index("ChargePeriodStart")] = "2025-07-02T00:00:00Z"

    error = error_of(rewrite(tmp_path, "june.csv", spoil))
    assert error.location == "june.csv row 4 column ChargePeriodStart"
    assert error.message == "charge date 2025-07-02 is outside the period 2025-06"


@pytest.mark.parametrize(("cell", "period", "expected"), [
    ("2025-06-01T02:00:00+05:00", Period.month(2025, 5), date(2025, 5, 31)),  # 31 May 21:00 UTC
    ("2025-06-30T23:00:00-05:00", Period.month(2025, 7), date(2025, 7, 1)),
])
def test_a_time_with_an_offset_is_placed_by_its_utc_date(tmp_path, cell, period, expected):
    """FOCUS times are UTC: one written with an offset is converted before it is placed in a month."""
    label = period.label

    def shift(header, rows):
        del rows[1:]
        rows[0][header.index("BillingPeriodStart")] = f"{label}-01T00:00:00Z"
        rows[0][header.index("ChargePeriodStart")] = cell

    path = rewrite(tmp_path, "tz.csv", shift)
    rows, _ = read(path, period)
    assert [r.charge_date for r in rows] == [expected]


def test_a_date_cell_with_trailing_text_is_refused(tmp_path):
    def spoil(header, rows):
        rows[0][header.index("ChargePeriodStart")] = "2025-06-14garbage"

    error = error_of(rewrite(tmp_path, "garbage.csv", spoil))
    assert error.location == "garbage.csv row 2 column ChargePeriodStart"
    assert error.message == "'2025-06-14garbage' is not an ISO 8601 date"


def test_invalid_tags_json_is_named(tmp_path):
    def spoil(header, rows):
        rows[0][header.index("Tags")] = '{"project": '

    error = error_of(rewrite(tmp_path, "tags.csv", spoil))
    assert error.location == "tags.csv row 2 column Tags"


def test_ragged_row(tmp_path):
    def spoil(header, rows):
        rows[1].append("extra")

    assert error_of(rewrite(tmp_path, "ragged.csv", spoil)).location == "ragged.csv row 3"


def test_not_a_parquet_file(tmp_path):
    path = tmp_path / "broken.parquet"
    path.write_bytes(b"PAR1 this is not parquet")
    assert "Parquet" in error_of(path).message


def test_no_file_given():
    with pytest.raises(ConnectorError, match="reads an export file"):
        list(FocusConnector(settings={}).read(JUNE))


def test_path_setting_with_period_placeholder(tmp_path):
    (tmp_path / "focus-2025-06.csv").write_bytes((FIXTURES / "focus_1_2.csv").read_bytes())
    connector = FocusConnector(settings={"path": str(tmp_path / "focus-{period}.csv")})
    assert len(list(connector.read(JUNE))) == 5


@pytest.mark.parametrize(("category", "sub", "expected"), [
    ("AI and Machine Learning", "Generative AI", CostCategory.INFERENCE),
    ("AI and Machine Learning", "Natural Language Processing", CostCategory.INFERENCE),
    ("AI and Machine Learning", "Bots", CostCategory.INFERENCE),
    ("AI and Machine Learning", "AI Platforms", CostCategory.INFERENCE),
    ("AI and Machine Learning", "Machine Learning", CostCategory.COMPUTE),
    ("Compute", None, CostCategory.COMPUTE),
    ("Storage", "Object Storage", CostCategory.STORAGE),
    ("AI and Machine Learning", None, CostCategory.OTHER),
    ("Networking", "Network Infrastructure", CostCategory.OTHER),
])
def test_category_mapping(category, sub, expected):
    assert cost_category(category, sub) == expected


def test_bom_is_tolerated(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbf" + (FIXTURES / "focus_1_2.csv").read_bytes())
    rows, _ = read(path)
    assert len(rows) == 5


def test_stream_does_not_need_the_whole_file(tmp_path):
    """Reading stops where the consumer stops: the reader is a generator over the file, not a list."""
    path = tmp_path / "big.csv"
    with (FIXTURES / "focus_1_2.csv").open(newline="") as handle:
        header, *rows = list(csv.reader(handle))
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    for _ in range(2000):
        writer.writerows(rows)
    path.write_text(buffer.getvalue())
    connector = FocusConnector(settings={})
    stream = connector.read(JUNE, path=path)
    first = [next(stream) for _ in range(3)]
    assert len(first) == 3 and connector.rows_read < 20


# The column-wise reader: batches, row numbers, and the reference reader that pins down errors ------------------------


def test_many_small_blocks_read_the_same_rows_with_the_same_row_numbers(tmp_path, monkeypatch):
    path = rewrite(tmp_path, "long.csv", lambda header, rows: rows.extend(rows * 30))  # 279 rows
    plain, _ = read(path)
    monkeypatch.setattr("portfolio.costs.connectors.focus.CSV_BLOCK_BYTES", 4096)  # a dozen blocks, split mid-file
    rows, connector = read(path)
    assert [(r.location, r.amount, r.keys) for r in rows] == [(r.location, r.amount, r.keys) for r in plain]
    assert rows[-1].location == "long.csv row 276"  # rows 277-280 of the last copy are not AI spend
    assert (connector.rows_read, connector.rows_skipped) == (279, 124)


def test_rows_sharing_tags_get_their_own_keys():
    rows, _ = read(FIXTURES / "focus_1_2.csv")
    rows[0].keys["tag:project"] = "changed"
    assert rows[1].keys["tag:project"] == "search-assistant"  # same Tags text, parsed once, not shared


def test_quoted_newlines_padding_and_null_tokens_in_values(tmp_path):
    def edit(header, rows):
        rows[0][header.index("ChargeDescription")] = "GPT-4o input\nsecond line"
        rows[0][header.index("EffectiveCost")] = "  12.50 "
        rows[0][header.index("x_Model")] = " null "
        rows[1][header.index("ConsumedQuantity")] = "NULL"
        rows[1][header.index("PricingQuantity")] = "7"

    rows, _ = read(rewrite(tmp_path, "quoted.csv", edit))
    assert rows[0].description == "GPT-4o input\nsecond line" and rows[0].amount == Decimal("12.50")
    assert rows[0].model == "" and rows[1].location == "quoted.csv row 3"
    assert rows[1].quantity == Decimal("7") and rows[1].unit == "1000 Tokens"


def test_a_blank_line_counts_as_a_row_in_error_locations(tmp_path):
    path = rewrite(tmp_path, "blank.csv", lambda header, rows: rows[4].__setitem__(header.index("BilledCost"), "x"))
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[:3] + ["\n"] + lines[3:]))  # a blank line 4; the bad row moves to line 7
    error = error_of(path)
    assert error.location == "blank.csv row 7 column BilledCost" and "'x' is not a number" in error.message


def test_the_first_problem_in_row_order_wins_over_a_later_malformed_line(tmp_path):
    def spoil(header, rows):
        rows[1][header.index("EffectiveCost")] = "abc"  # row 3, same block as the ragged row 9
        rows[7].append("extra")

    error = error_of(rewrite(tmp_path, "both.csv", spoil))
    assert error.location == "both.csv row 3 column EffectiveCost"


def test_a_bad_cost_before_a_bad_date_in_the_same_batch_is_named_first(tmp_path):
    def spoil(header, rows):
        rows[0][header.index("EffectiveCost")] = ""
        rows[6][header.index("ChargePeriodStart")] = "2025-07-01T00:00:00Z"

    assert error_of(rewrite(tmp_path, "order.csv", spoil)).location == "order.csv row 2 column EffectiveCost"


def test_bad_values_in_skipped_rows_are_not_errors(tmp_path):
    def spoil(header, rows):
        rows[5][header.index("EffectiveCost")] = "n/a"  # row 7 is Amazon EC2 (Compute), not AI spend

    rows, connector = read(rewrite(tmp_path, "nonai.csv", spoil))
    assert len(rows) == 5 and connector.rows_skipped == 4


def test_a_non_utf8_byte_deep_in_a_gzip_file_names_its_row(tmp_path):
    content = (FIXTURES / "focus_1_2.csv").read_bytes()
    header, *lines = content.splitlines(keepends=True)
    body = b"".join(lines * 500)  # 4,500 rows, several blocks
    bad = body.replace(b"Contoso EA", b"Contoso M\xfcller EA", 1)
    path = tmp_path / "latin.csv.gz"
    path.write_bytes(gzip.compress(header + body + bad))
    error = error_of(path)
    assert "not UTF-8" in error.message and error.location == "latin.csv.gz row 4502"


def test_parquet_timestamps_outside_the_period_name_the_row(tmp_path):
    with (FIXTURES / "focus_1_2.csv").open(newline="") as handle:
        records = list(csv.DictReader(handle))
    table = pa.Table.from_pylist(records)
    starts = pc.strptime(table.column("ChargePeriodStart"), format="%Y-%m-%dT%H:%M:%SZ", unit="s")
    starts = starts.to_pylist()
    starts[3] = starts[3].replace(month=7)
    table = table.set_column(table.schema.get_field_index("ChargePeriodStart"), "ChargePeriodStart",
                             pa.array(starts, type=pa.timestamp("s", tz="UTC")))
    path = tmp_path / "typed.parquet"
    pq.write_table(table, path)
    error = error_of(path)
    assert error.location == "typed.parquet row 5 column ChargePeriodStart" and "outside the period" in error.message


def test_concatenated_gzip_members_and_crlf_lines_are_read_to_the_end(tmp_path):
    header, rest = (FIXTURES / "focus_1_2.csv").read_bytes().split(b"\n", 1)
    path = tmp_path / "parts.csv.gz"  # some exporters append gzip members rather than recompress
    path.write_bytes(gzip.compress(header + b"\n" + rest) + gzip.compress(rest.replace(b"\n", b"\r\n")))
    rows, connector = read(path)
    assert len(rows) == 10 and (connector.rows_read, connector.rows_skipped) == (18, 8)
    assert rows[-1].location == "parts.csv.gz row 15" and rows[-1].model == ""


def test_memos_starting_over_change_nothing(monkeypatch):
    plain, _ = read(FIXTURES / "focus_1_2.csv")
    monkeypatch.setattr("portfolio.costs.connectors.focus.MEMO_LIMIT", 1)  # every new tag set / date / category clears
    rows, _ = read(FIXTURES / "focus_1_2.csv")
    assert [(r.keys, r.charge_date, r.category) for r in rows] == [(r.keys, r.charge_date, r.category) for r in plain]


def test_a_month_in_several_files_is_listed_by_a_glob_pattern_or_a_folder_and_read_in_name_order(tmp_path):
    from tests.portfolio.costs.focus_data import write_parts

    folder = tmp_path / "2025-06"
    write_parts(folder, 90, 3)
    (folder / ".part-0.csv.tmp").write_text("not an export")  # hidden files in a folder are left alone
    june = Period.month(2025, 6)
    by_glob = FocusConnector(settings={"path": str(tmp_path / "{period}" / "part-*.csv")})
    by_folder = FocusConnector(settings={"path": str(tmp_path / "{period}")})

    assert [p.name for p in by_glob.resolve_paths(june, None)] == ["part-1.csv", "part-2.csv", "part-3.csv"]
    assert by_folder.resolve_paths(june, None) == by_glob.resolve_paths(june, None)
    assert by_glob.resolve_paths(june, folder / "part-2.csv") == [folder / "part-2.csv"]  # a file given: that one
    locations = [row.location for row in by_folder.read(june)]
    assert len(locations) == 60 and locations[0] == "part-1.csv row 2" and locations[-1] == "part-3.csv row 30"
    with pytest.raises(ConnectorError, match="no export file matches"):
        FocusConnector(settings={"path": str(tmp_path / "{period}" / "*.parquet")}).resolve_paths(june, None)


def test_a_semicolon_separated_export_says_so(tmp_path):
    path = tmp_path / "semi.csv"
    path.write_text("BilledCost;EffectiveCost;ChargePeriodStart\n1;1;2025-06-01\n")
    assert "the file seems to use ';' as separator" in error_of(path).message


# The header check: an upload is refused for it before its run is created --------------------------------------------

FOCUS_MISSING = ("missing mandatory FOCUS column(s): BilledCost, EffectiveCost, ChargePeriodStart, ServiceCategory, "
                 "ServiceName, BillingCurrency, ProviderName (1.0-1.2) or ServiceProviderName (1.3)")


def header_error(path: Path) -> ConnectorError:
    """The header check's error, which must be the one a run of the file fails with."""
    with pytest.raises(ConnectorError) as caught:
        FocusConnector.check_header(path)
    assert str(caught.value) == str(error_of(path))
    return caught.value


def focus_parquet(path: Path) -> Path:
    with (FIXTURES / "focus_1_2.csv").open(newline="") as handle:
        pq.write_table(pa.Table.from_pylist(list(csv.DictReader(handle))), path)
    return path


def test_the_header_check_passes_focus_exports_as_csv_gzip_and_parquet(tmp_path):
    gzipped = tmp_path / "focus.csv.gz"
    gzipped.write_bytes(gzip.compress((FIXTURES / "focus_1_2.csv").read_bytes()))
    for path in (FIXTURES / "focus_1_2.csv", FIXTURES / "focus_1_3.csv", gzipped,
                 focus_parquet(tmp_path / "focus.parquet")):
        assert FocusConnector.check_header(path) is None


def test_the_header_check_reads_the_header_not_the_rows(tmp_path, monkeypatch):
    """Rows a run would refuse (here megabytes of bytes that are not text) are the run's to find."""
    path = tmp_path / "big.csv"
    path.write_bytes((FIXTURES / "focus_1_2.csv").read_bytes().splitlines(keepends=True)[0] + b"\xff" * (3 << 20))
    FocusConnector.check_header(path)
    assert "not UTF-8" in error_of(path).message

    def no_rows(*args, **kwargs):
        raise AssertionError("the header check read the Parquet file's rows")

    monkeypatch.setattr(pq.ParquetFile, "iter_batches", no_rows)
    monkeypatch.setattr(pq.ParquetFile, "read", no_rows)
    FocusConnector.check_header(focus_parquet(tmp_path / "focus.parquet"))


def test_the_header_check_refuses_a_plain_cost_csv_naming_the_missing_columns():
    error = header_error(FIXTURES / "plain_costs.csv")
    assert (error.location, error.message) == ("plain_costs.csv row 1", FOCUS_MISSING)


def test_the_header_check_refuses_a_parquet_file_that_is_not_focus(tmp_path):
    path = tmp_path / "usage.parquet"
    pq.write_table(pa.table({"day": ["2025-06-01"], "project": ["search"], "cost": [1.5]}), path)
    error = header_error(path)
    assert (error.location, error.message) == ("usage.parquet row 1", FOCUS_MISSING)


def test_the_header_check_names_the_missing_columns_of_an_almost_focus_export(tmp_path):
    def drop(header, rows):
        for name in ("EffectiveCost", "ProviderName"):
            index = header.index(name)
            del header[index]
            for row in rows:
                del row[index]

    error = header_error(rewrite(tmp_path, "azure.csv", drop))
    assert error.message == ("missing mandatory FOCUS column(s): EffectiveCost, ProviderName (1.0-1.2) or "
                             "ServiceProviderName (1.3)")


@pytest.mark.parametrize(("name", "content", "location", "message"), [
    ("logo.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "logo.csv row 1",
     "the file is not UTF-8 text (byte 0x89); export it as UTF-8"),
    ("unicode.csv", "BilledCost,EffectiveCost\n".encode("utf-16"), "unicode.csv row 1",
     "the file is not UTF-8 text (byte 0xff); export it as UTF-8"),
    ("blob.csv", b"BilledCost\x00\x01\x02,x\n", "blob.csv row 1",
     "not a CSV file: its header row holds NUL bytes (a binary file?)"),
    ("dump.csv", b"x" * (2 << 20), "dump.csv row 1", "not a CSV file: no line ends within its first 1 MB"),
    ("export.csv.gz", b"BilledCost,EffectiveCost\n", "export.csv.gz row 1",
     "the gzip file is truncated or corrupt (Not a gzipped file (b'Bi'))"),
    ("export.parquet", b"BilledCost,EffectiveCost\n", "export.parquet", "not a readable Parquet file"),
], ids=["png", "utf-16", "nul-bytes", "no-line-break", "not-gzip", "not-parquet"])
def test_the_header_check_refuses_what_is_not_a_csv_or_parquet_export(tmp_path, name, content, location, message):
    path = tmp_path / name
    path.write_bytes(content)
    error = header_error(path)
    assert error.location == location and error.message.startswith(message)


def test_a_column_named_twice_is_refused_at_the_header(tmp_path):
    """pyarrow and csv.DictReader keep one of two same-named cells: the other would be ignored, or read blank."""
    def second_effective_cost(header, rows):
        header.append("EffectiveCost")
        for cells in rows:
            cells.append("1.00")

    path = rewrite(tmp_path, "dupcol.csv", second_effective_cost)
    for check in (lambda: FocusConnector.check_header(path), lambda: read(path)):
        with pytest.raises(ConnectorError) as caught:
            check()
        assert caught.value.location == "dupcol.csv row 1"
        assert caught.value.message == "duplicate column(s): EffectiveCost: keep one of each"
