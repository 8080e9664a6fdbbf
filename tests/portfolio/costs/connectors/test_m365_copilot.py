"""Microsoft 365 Copilot usage report: the CSV export (BOM, CRLF, empty dates) and the Graph JSON form."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest
from django.utils import timezone

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


def test_without_a_file_the_path_setting_is_read(tmp_path):
    """As the other file sources: a scheduled source reads the export dropped where its settings say."""
    export(tmp_path, "2025-06-30,30,a@x.com,A,2025-06-10,,,,,,,,", name="copilot-2025-06.csv")
    connector = M365CopilotConnector(settings={"path": str(tmp_path / "copilot-{period}.csv")})

    assert [seat.user for seat in connector.read(JUNE)] == ["a@x.com"]


HEADER = (
    "Report Refresh Date,Report Period,User Principal Name,Display Name,Last Activity Date,"
    "Microsoft Teams Copilot Last Activity Date,Word Copilot Last Activity Date,Excel Copilot Last Activity Date,"
    "PowerPoint Copilot Last Activity Date,Outlook Copilot Last Activity Date,OneNote Copilot Last Activity Date,"
    "Loop Copilot Last Activity Date,Copilot Chat Last Activity Date\r\n"
)


def export(tmp_path: Path, *rows: str, name: str = "report.csv") -> Path:
    """The admin center's CSV export (BOM, CRLF, the 13 documented columns) with `rows`."""
    path = tmp_path / name
    path.write_bytes(("\ufeff" + HEADER + "".join(f"{row}\r\n" for row in rows)).encode())
    return path


def json_report(tmp_path: Path, *users: tuple[str, str | None], refreshed: str | None = "2025-06-30") -> Path:
    """The Graph JSON form: {"value": [...]} with a user per (UPN, last activity)."""
    path = tmp_path / "report.json"
    path.write_text(json.dumps({"value": [
        {"reportRefreshDate": refreshed, "userPrincipalName": upn, "displayName": upn.split("@")[0],
         "lastActivityDate": activity, "copilotChatLastActivityDate": activity,
         "copilotActivityUserDetailsByPeriod": [{"reportPeriod": 30}]} for upn, activity in users]}))
    return path


def test_upns_differing_in_case_are_one_seat_with_the_latest_activity(tmp_path):
    path = export(tmp_path, "2025-06-30,30,a@x.com,A,2025-06-10,,,,,,,,",
                  "2025-06-30,30,B@x.com,B,,,,,,,,,",
                  "2025-06-30,30,A@X.com,A,2025-06-11,,,,,,,,",
                  "2025-06-30,30,b@x.com,B,2025-06-02,,,,,,,,")
    connector = M365CopilotConnector(settings={})

    seats = list(connector.read(JUNE, path=path))

    assert [(seat.user, seat.last_activity, seat.location) for seat in seats] == [
        ("a@x.com", date(2025, 6, 11), "report.csv, row 2"),  # the first spelling, the latest activity
        ("B@x.com", date(2025, 6, 2), "report.csv, row 3"),
    ]
    assert (connector.rows_read, connector.rows_skipped) == (4, 2)


def test_json_upns_differing_in_case_are_one_seat(tmp_path):
    connector = M365CopilotConnector(settings={})
    seats = list(connector.read(JUNE, path=json_report(
        tmp_path, ("jane.doe@contoso.com", "2025-06-13"), ("Jane.Doe@Contoso.com", None))))

    assert [(seat.user, seat.last_activity) for seat in seats] == [("jane.doe@contoso.com", date(2025, 6, 13))]
    assert (connector.rows_read, connector.rows_skipped) == (2, 1)


def test_activity_after_the_report_refresh_date_is_refused_naming_row_and_column(tmp_path):
    path = export(tmp_path, "2025-06-30,30,a@x.com,A,2025-06-10,,,,,,,,",
                  "2025-06-30,30,b@x.com,B,2026-06-10,,,,,,,,")

    with pytest.raises(ConnectorError) as caught:
        read(path)

    assert caught.value.location == "report.csv, row 3, column 'Last Activity Date'"
    assert caught.value.message == ("2026-06-10 is after the report's refresh date 2025-06-30 (column 'Report Refresh "
                                    "Date'): a report cannot show activity after it was made")


def test_activity_on_the_refresh_date_is_accepted(tmp_path):
    (seat,) = read(export(tmp_path, "2025-06-30,30,a@x.com,A,2025-06-30,,,,,,,,"))
    assert seat.last_activity == date(2025, 6, 30)


def test_json_activity_after_the_refresh_date_is_refused_naming_the_entry(tmp_path):
    path = json_report(tmp_path, ("a@x.com", "2025-06-10"), ("b@x.com", "2025-07-01"))

    with pytest.raises(ConnectorError) as caught:
        read(path)

    assert caught.value.location == "report.json, value[1].lastActivityDate"
    assert "after the report's refresh date 2025-06-30 (reportRefreshDate)" in caught.value.message


def test_without_a_refresh_date_activity_after_today_is_refused(tmp_path):
    tomorrow = timezone.localdate() + timedelta(days=1)
    path = tmp_path / "report.csv"
    path.write_text(f"User Principal Name,Last Activity Date\na@x.com,{timezone.localdate()}\nb@x.com,{tomorrow}\n")

    with pytest.raises(ConnectorError) as caught:
        read(path)
    assert caught.value.location == "report.csv, row 3, column 'Last Activity Date'"
    assert f"is after today, {timezone.localdate()}" in caught.value.message

    with pytest.raises(ConnectorError, match="after today"):
        read(json_report(tmp_path, ("b@x.com", tomorrow.isoformat()), refreshed=None))


def test_a_bad_refresh_date_is_named(tmp_path):
    with pytest.raises(ConnectorError) as caught:
        read(export(tmp_path, "30/06/2025,30,a@x.com,A,2025-06-10,,,,,,,,"))
    assert caught.value.location == "report.csv, row 2, column 'Report Refresh Date'"


# The header check: an upload is refused for it before its run is created --------------------------------------------


def test_the_header_check_passes_the_csv_and_json_reports():
    for path in (M365 / "usage_user_detail.csv", M365 / "usage_user_detail.json", M365 / "bad_date.csv"):
        assert M365CopilotConnector.check_header(path) is None  # bad_date.csv: a bad row is the run's to find


@pytest.mark.parametrize(("name", "content", "message"), [
    ("bad_header.csv", (M365 / "bad_header.csv").read_bytes(),
     "bad_header.csv, header: missing column(s) 'Last Activity Date'; is this the Microsoft 365 Copilot usage user "
     "detail report?"),
    ("active-users.csv", b"Report Refresh Date,Display Name,Last Activity Date\n2025-06-14,Jane,2025-06-13\n",
     "active-users.csv, header: missing column(s) 'User Principal Name'; is this the Microsoft 365 Copilot usage "
     "user detail report?"),
    ("report.csv", "User Principal Name,Last Activity Date\n".encode("utf-16"), "report.csv: not UTF-8 text (byte 0)"),
    ("report.json", b"\n<!DOCTYPE html><html>Sign in</html>", "report.json, line 2: not valid JSON: Expecting value"),
    ("report.json", b"42", 'report.json: expected {"value": [...]} as Graph returns it'),
    ("copilot_tab.csv", b"Report Refresh Date\tUser Principal Name\tLast Activity Date\n2025-06-14\ta@x.com\t\n",
     "copilot_tab.csv, header: missing column(s) 'User Principal Name', 'Last Activity Date'; the file seems to use a "
     "tab as separator: save it comma-separated (a comma is expected); is this the Microsoft 365 Copilot usage user "
     "detail report?"),
], ids=["other-column", "active-users-report", "utf-16", "html-page", "json-number", "tab-separated"])
def test_the_header_check_refuses_a_wrong_file_as_its_run_would(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ConnectorError) as checked:
        M365CopilotConnector.check_header(path)
    with pytest.raises(ConnectorError) as ran:
        read(path)
    assert str(checked.value) == str(ran.value) == message


@pytest.mark.parametrize("refreshed", ["2025-06-01", "2025-06-30", "2025-07-07"])
def test_a_report_refreshed_in_the_month_or_the_week_after_is_read_for_it(tmp_path, refreshed):
    (seat,) = read(export(tmp_path, f"{refreshed},30,a@x.com,A,2025-05-28,,,,,,,,"))
    assert seat.user == "a@x.com"


@pytest.mark.parametrize(("refreshed", "period"), [
    ("2025-09-30", Period.month(2025, 11)),  # two months old: it would show November's seats as September's
    ("2025-09-30", Period.month(2025, 1)),  # and September's activity under January
    ("2025-07-08", JUNE),
    ("2025-05-31", JUNE),
])
def test_a_report_refreshed_at_another_time_is_refused_naming_row_and_column(tmp_path, refreshed, period):
    path = export(tmp_path, f"{refreshed},30,a@x.com,A,2025-05-28,,,,,,,,")

    with pytest.raises(ConnectorError) as caught:
        list(M365CopilotConnector(settings={}).read(period, path=path))

    assert caught.value.location == "report.csv, row 2, column 'Report Refresh Date'"
    assert caught.value.message == (
        f"the report was refreshed on {refreshed}, so it shows the seats of then, not of {period.label}: a report is "
        "read for the month it was refreshed in (or up to 7 days after it)")


def test_a_json_report_refreshed_at_another_time_is_refused_naming_the_entry(tmp_path):
    path = json_report(tmp_path, ("a@x.com", "2025-06-10"), refreshed="2025-09-30")

    with pytest.raises(ConnectorError) as caught:
        read(path)

    assert caught.value.location == "report.json, value[0].reportRefreshDate"
    assert "refreshed on 2025-09-30" in caught.value.message
