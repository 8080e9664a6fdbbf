"""Exports uploaded to the file sources in the tests of the upload check (the API and the "Run now" page): for each
connector that reads files, good exports and realistic wrong ones, each wrong one with the message it is refused with
(the one its run would have failed with), naming the file as uploaded."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from portfolio.choices import SourceType
from tests import paths
from tests.portfolio.costs.factories import CostSourceFactory

FIXTURES = paths.FIXTURES / "costs"
M365 = FIXTURES / "http" / "m365"
FOCUS_MISSING = ("missing mandatory FOCUS column(s): BilledCost, EffectiveCost, ChargePeriodStart, ServiceCategory, "
                 "ServiceName, BillingCurrency, ProviderName (1.0-1.2) or ServiceProviderName (1.3)")
M365_QUESTION = "is this the Microsoft 365 Copilot usage user detail report?"


@dataclass(frozen=True)
class Export:
    source_type: str
    name: str
    content: bytes
    message: str = ""  # why the upload is refused; blank for a good export


def parquet(columns: dict[str, list]) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(pa.table(columns), buffer)
    return buffer.getvalue()


def focus_parquet() -> bytes:
    with (FIXTURES / "focus_1_2.csv").open(newline="") as handle:
        records = list(csv.DictReader(handle))
    return parquet({name: [record[name] for record in records] for name in records[0]})


def without_column(content: bytes, column: bytes) -> bytes:
    """A CSV export with one column's header renamed, as an export of another report would have it."""
    return content.replace(column, b"Last Activity", 1)


def upload_source(source_type: str):
    """A file source without a configured path: its exports are uploaded."""
    settings = {"licence_pool": "INV-0001"} if source_type == SourceType.M365_COPILOT else {}
    return CostSourceFactory(name=f"{source_type}-uploads", type=source_type, settings=settings)


GOOD_EXPORTS = [
    Export(SourceType.FOCUS, "focus_1_2.csv", (FIXTURES / "focus_1_2.csv").read_bytes()),
    Export(SourceType.FOCUS, "focus_1_3.csv", (FIXTURES / "focus_1_3.csv").read_bytes()),
    Export(SourceType.FOCUS, "focus.parquet", focus_parquet()),
    Export(SourceType.CSV, "plain_costs.csv", (FIXTURES / "plain_costs.csv").read_bytes()),
    Export(SourceType.M365_COPILOT, "usage_user_detail.csv", (M365 / "usage_user_detail.csv").read_bytes()),
    Export(SourceType.M365_COPILOT, "usage_user_detail.json", (M365 / "usage_user_detail.json").read_bytes()),
]

WRONG_EXPORTS = [
    # A plain cost CSV given to a FOCUS source, a Parquet file that is not FOCUS, a picture, a CSV named .parquet.
    Export(SourceType.FOCUS, "plain_costs.csv", (FIXTURES / "plain_costs.csv").read_bytes(),
           f"plain_costs.csv row 1: {FOCUS_MISSING}"),
    Export(SourceType.FOCUS, "usage.parquet",
           parquet({"day": ["2025-06-01"], "project": ["search"], "BilledCost": [1.5], "EffectiveCost": [1.5]}),
           "usage.parquet row 1: missing mandatory FOCUS column(s): ChargePeriodStart, ServiceCategory, ServiceName, "
           "BillingCurrency, ProviderName (1.0-1.2) or ServiceProviderName (1.3)"),
    Export(SourceType.FOCUS, "invoice.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x02",
           "invoice.csv row 1: the file is not UTF-8 text (byte 0x89); export it as UTF-8"),
    Export(SourceType.FOCUS, "focus.parquet", (FIXTURES / "focus_1_2.csv").read_bytes(),
           "focus.parquet: not a readable Parquet file"),
    # A FOCUS export given to a plain CSV source, a spreadsheet saved with ';', one saved as "Unicode text".
    Export(SourceType.CSV, "focus_1_2.csv", (FIXTURES / "focus_1_2.csv").read_bytes(),
           "focus_1_2.csv row 1: missing column(s): date, category, amount, initiative or key"),
    Export(SourceType.CSV, "costs.csv", (FIXTURES / "plain_costs.csv").read_bytes().replace(b",", b";"),
           "costs.csv row 1: missing column(s): date, category, amount, initiative or key; the file seems to use ';' "
           "as separator: save it comma-separated (a comma is expected)"),
    Export(SourceType.CSV, "costs.csv", (FIXTURES / "plain_costs.csv").read_text().encode("utf-16"),
           "costs.csv row 1: the file is not UTF-8 text (byte 0xff); export it as UTF-8"),
    # A Copilot report without its last-activity column, a sign-in page saved as the JSON report.
    Export(SourceType.M365_COPILOT, "copilot.csv",
           without_column((M365 / "usage_user_detail.csv").read_bytes(), b"Last Activity Date"),
           f"copilot.csv, header: missing column(s) 'Last Activity Date'; {M365_QUESTION}"),
    Export(SourceType.M365_COPILOT, "copilot.json", b"<!DOCTYPE html><html>Sign in to your account</html>",
           "copilot.json, line 1: not valid JSON: Expecting value"),
]


def exports(items: list[Export]) -> list:
    return [pytest.param(item, id=f"{item.source_type}-{item.name}-{index}") for index, item in enumerate(items)]
