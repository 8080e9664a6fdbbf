"""Microsoft 365 Copilot usage report: the CSV export (BOM, CRLF, empty dates) and the Graph JSON form."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from portfolio.costs.connectors.base import ConnectorError, Period
from portfolio.costs.connectors.m365_copilot import M365CopilotConnector
from tests.portfolio.costs.connectors.conftest import FIXTURES

JUNE = Period.month(2025, 6)
M365 = FIXTURES / "m365"


def read(path: Path) -> list:
    return list(M365CopilotConnector(settings={}).read(JUNE, path=path))


def test_csv_export_with_bom_and_crlf():
    raw = (M365 / "usage_user_detail.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw  # the fixture really is what the export looks like

    seats = read(M365 / "usage_user_detail.csv")

    assert [(seat.user, seat.assigned, seat.last_activity) for seat in seats] == [
        ("jane.doe@contoso.com", True, date(2025, 6, 13)),
        ("raj.patel@contoso.com", True, date(2025, 5, 28)),  # a quoted display name with a comma
        ("new.starter@contoso.com", True, None),  # "" : never active
        ("old.export@contoso.com", True, None),  # "null" in older exports
    ]
    assert seats[0].location == "usage_user_detail.csv, row 2"


def test_json_form():
    seats = read(M365 / "usage_user_detail.json")

    assert [(seat.user, seat.last_activity) for seat in seats] == [
        ("jane.doe@contoso.com", date(2025, 6, 13)),
        ("new.starter@contoso.com", None),
    ]


def test_columns_are_found_by_name_not_position(tmp_path):
    path = tmp_path / "reordered.csv"
    path.write_text("Last Activity Date,Display Name,User Principal Name\n2025-06-01,Ann,ann@contoso.com\n")

    (seat,) = read(path)
    assert (seat.user, seat.last_activity) == ("ann@contoso.com", date(2025, 6, 1))


def test_missing_header_column_is_named():
    with pytest.raises(ConnectorError) as caught:
        read(M365 / "bad_header.csv")

    assert caught.value.location == "bad_header.csv, header"
    assert "'Last Activity Date'" in str(caught.value)


def test_bad_date_names_row_and_column():
    with pytest.raises(ConnectorError) as caught:
        read(M365 / "bad_date.csv")

    assert caught.value.location == "bad_date.csv, row 3, column 'Last Activity Date'"
    assert "06/13/2025" in str(caught.value)


def test_bad_date_in_json_names_the_entry(tmp_path):
    path = tmp_path / "report.json"
    path.write_text('{"value": [{"userPrincipalName": "a@contoso.com", "lastActivityDate": "yesterday"}]}')

    with pytest.raises(ConnectorError) as caught:
        read(path)
    assert caught.value.location == "report.json, value[0].lastActivityDate"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"\xff\xfeU\x00s\x00e\x00r\x00", "not UTF-8"),
        (b"User Principal Name,Last Activity Date\n,2025-06-01\n", "empty user"),
    ],
)
def test_bad_files(tmp_path, content, message):
    path = tmp_path / "report.csv"
    path.write_bytes(content)

    with pytest.raises(ConnectorError, match=message):
        read(path)


def test_json_that_is_not_a_report(tmp_path):
    path = tmp_path / "report.json"
    path.write_text('{"error": {"code": "Forbidden"}}')

    with pytest.raises(ConnectorError, match="value"):
        read(path)


def test_a_file_is_required():
    assert M365CopilotConnector.reads_files is True
    with pytest.raises(ConnectorError, match="from a file"):
        list(M365CopilotConnector(settings={}).read(JUNE))
