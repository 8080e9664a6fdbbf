"""The dashboard page, its CSV exports, its API and the board pack."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from tests.governance.sprawl.factories import decided_clusters
from tests.portfolio.dashboard.test_selectors import october_read, portfolio  # noqa: F401 - the hand-built fixtures

pytestmark = pytest.mark.django_db
URL = reverse("portfolio:dashboard")


def test_the_page_shows_the_quarter_and_drills_down_keeping_it(client, executive, portfolio):  # noqa: F811
    client.force_login(executive)
    page = client.get(URL, {"quarter": "2026-Q3"})
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="figure-spend"' in html and "4,350.55" in html
    spend_table = html.split('id="table-spend"', 1)[1].split("</table>", 1)[0]
    assert "2026-09" in spend_table and "1,650.55" in spend_table  # each month's total, in the chart's own table
    department_url = f"/portfolio/dashboard/?quarter=2026-Q3&amp;department={portfolio['claims'].pk}"
    assert department_url in html
    drilled = client.get(URL, {"quarter": "2026-Q3", "department": portfolio["claims"].pk}).content.decode()
    assert "Portfolio 2026-Q3 · Claims" in drilled and "3,300.00" in drilled


def test_a_bad_quarter_is_refused_with_the_expected_format(client, executive, portfolio):  # noqa: F811
    client.force_login(executive)
    page = client.get(URL, {"quarter": "2026-13"})
    assert page.status_code == 400
    assert "YYYY-Qn" in page.content.decode()
    api = client.get(reverse("api:dashboard"), {"quarter": "Q3"})
    assert api.status_code == 400 and "YYYY-Qn" in api.json()["quarter"][0]


def test_every_table_exports_to_csv(client, executive, portfolio):  # noqa: F811
    client.force_login(executive)
    response = client.get(URL, {"quarter": "2026-Q3", "_export": "unallocated_keys"})
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["Key", "Value", "Amount", "Records"]
    assert rows[1] == ["tag:team", "data", "75.00", "2"]
    departments = client.get(URL, {"quarter": "2026-Q3", "_export": "departments"}).content.decode()
    assert "Claims,3300.00,9000.00,1.22,7350.00,True" in departments
    assert client.get(URL, {"_export": "nonsense"}).status_code == 400


def test_a_department_cost_with_estimated_oversight_is_starred_on_the_page_the_csv_and_the_api(
        client, executive, portfolio):  # noqa: F811
    """The triage's run cost is recorded and its oversight and maintenance are the business case's estimate: the
    department's cost is partly estimated, so it carries the * (the department page's meaning) everywhere."""
    from portfolio.costs.services.tco import tco_recompute

    tco_recompute()
    client.force_login(executive)
    html = client.get(URL, {"quarter": "2026-Q3"}).content.decode()
    assert 'on $8,100.00<span title="partly estimated from business cases">*</span>' in html
    departments = client.get(URL, {"quarter": "2026-Q3", "_export": "departments"}).content.decode()
    assert "Claims,3300.00,9000.00,1.11,8100.00,True" in departments
    api = client.get(reverse("api:dashboard"), {"quarter": "2026-Q3"}).json()
    claims = next(d for d in api["departments"] if d["name"] == "Claims")
    assert claims["value_cost_estimated"] is True


def test_an_open_clusters_saving_is_read_with_how_often_such_clusters_were_right(client, executive,
                                                                                 portfolio):  # noqa: F811
    from decimal import Decimal

    from governance.sprawl.selectors import score_band
    from tests.governance.sprawl.factories import SprawlClusterFactory

    SprawlClusterFactory(initiatives=[portfolio["triage"], portfolio["copy"]], title="Open one", score=Decimal("0.93"))
    SprawlClusterFactory(initiatives=[portfolio["triage"], portfolio["copy"]], title="Decided one", status="confirmed",
                         score=Decimal("0.65"), estimated_saving=Decimal("10.00"))
    share = score_band(Decimal("0.93")).share
    client.force_login(executive)
    page = client.get(URL, {"quarter": "2026-Q3"}).content.decode()
    row = page.split("Open one", 1)[1].split("</tr>", 1)[0]
    assert f'<td class="num">{share:.2f}</td>' in row
    decided = page.split("Decided one", 1)[1].split("</tr>", 1)[0]
    assert decided.endswith('<td class="num">—</td>')  # confirmed: no longer a guess
    export = list(csv.DictReader(io.StringIO(client.get(URL, {"quarter": "2026-Q3", "_export": "sprawl"})
                                             .content.decode())))
    assert {r["Cluster"]: r["Right elsewhere"] for r in export} == {"Open one (open)": str(round(share, 3)),
                                                                    "Decided one (confirmed)": ""}
    rows = client.get(reverse("api:dashboard"), {"quarter": "2026-Q3"}).json()["sprawl"]
    assert [r["right_elsewhere"] for r in rows] == [round(share, 3), None]
    pack = client.get(reverse("portfolio:board_pack", args=["2026-Q3"])).content.decode()
    assert "Right elsewhere" in pack


def test_dashboard_exports_neutralise_formulas(client, executive, portfolio):  # noqa: F811
    planted = '=HYPERLINK("https://evil.example","Click")'
    portfolio["triage"].name = planted
    portfolio["triage"].save()
    client.force_login(executive)
    for table in ("top_initiatives", "sprawl", "kill_candidates", "figures"):
        response = client.get(URL, {"quarter": "2026-Q3", "_export": table})
        cells = [cell for row in csv.reader(io.StringIO(response.content.decode())) for cell in row]
        assert not any(cell.startswith(("=", "+", "@")) for cell in cells), table
        if table == "top_initiatives":
            assert "'" + planted in cells


def test_the_api_returns_the_figures_of_the_page(client, executive, portfolio):  # noqa: F811
    client.force_login(executive)
    data = client.get(reverse("api:dashboard"), {"quarter": "2026-Q3"}).json()
    for key in ("currency", "quarter", "spend", "unallocated", "value", "value_per_dollar", "cost_per_outcome",
                "baseline_cost_per_outcome", "initiatives_by_stage", "idle_licence_cost", "departments",
                "spend_by_category_month", "kill_candidates", "scale_candidates", "forecast"):
        assert key in data, key
    assert (data["currency"], data["quarter"], data["spend"], data["unallocated"]) == ("USD", "2026-Q3", 4350.55,
                                                                                      350.55)
    assert data["idle_licence_cost"] == 900.0
    claims = client.get(reverse("api:dashboard"), {"quarter": "2026-Q3", "department": portfolio["claims"].pk})
    assert claims.json()["spend"] == 3300.0


def test_the_page_query_count_does_not_grow_with_the_portfolio(client, executive, portfolio,  # noqa: F811
                                                                django_assert_max_num_queries):
    client.force_login(executive)
    # Computing the figures, on the first view of this data (which months of the quarter are complete: 3 of them;
    # how many value reports each of the two quarters still owes: 2; the sprawl track record's later pair verdicts:
    # 1; how many initiatives spent, which "Where the money goes" shows the first of: 1; the months no source read
    # beside the data stamp: 1). A fixed number: none is made per initiative, cluster or report.
    with django_assert_max_num_queries(67):
        assert client.get(URL, {"quarter": "2026-Q3"}).status_code == 200
    with django_assert_max_num_queries(4):  # then from the cache: the session, the user and their groups only
        assert client.get(URL, {"quarter": "2026-Q3"}).status_code == 200
    with django_assert_max_num_queries(4):
        assert client.get(reverse("api:dashboard"), {"quarter": "2026-Q3"}).status_code == 200


def test_the_board_pack_pdf_reads_as_the_page_says(client, executive, portfolio):  # noqa: F811
    client.force_login(executive)
    html = client.get(reverse("portfolio:board_pack", args=["2026-Q3"])).content.decode()
    assert 'id="download-pdf"' in html and "cost data to 2026-09-30" in html
    response = client.get(reverse("portfolio:board_pack_pdf", args=["2026-Q3"]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert "tollgate-board-pack-2026-Q3.pdf" in response["Content-Disposition"]
    content = b"".join(response.streaming_content) if response.streaming else response.content
    pdf = PdfReader(io.BytesIO(content))
    assert len(pdf.pages) <= 12
    text = "\n".join(page.extract_text() for page in pdf.pages)
    for expected in ("AI portfolio board pack", "2026-Q3", "cost data to 2026-09-30", "4,350.55", "Claims",
                     "900.00", "Licence waste", "Approvals and verdicts of the quarter"):
        assert expected in text, expected


def test_the_board_pack_counts_the_candidates_it_leaves_out_from_all_of_them(client, executive,
                                                                             portfolio):  # noqa: F811
    """25 kill candidates: the dashboard's list holds the 20 most severe and the pack shows 12; "and 8 more" counted
    from the capped list hid 5 of them."""
    from tests.governance.signals.factories import SignalFactory

    SignalFactory.create_batch(25, initiatives=[portfolio["triage"]])
    client.force_login(executive)
    pack = client.get(reverse("portfolio:board_pack", args=["2026-Q3"])).content.decode()
    kill = pack.split("<h3>Kill candidates</h3>", 1)[1].split("<h3>", 1)[0]
    assert kill.count("<tr><td>") == 12
    assert 'id="kill-more">and 13 more (25 in all) on the signals page.' in kill
    assert 'id="scale-more"' not in pack
    text = _pdf_text(client.get(reverse("portfolio:board_pack_pdf", args=["2026-Q3"])))
    assert "and 13 more (25 in all)" in text


def test_the_initiative_page_keeps_the_dashboards_quarter(client, executive, portfolio):  # noqa: F811
    client.force_login(executive)
    url = reverse("portfolio:initiative_detail", args=[portfolio["triage"].pk])
    html = client.get(url, {"quarter": "2026-Q3"}).content.decode()
    assert 'id="dashboard-quarter"' in html and "reported value $9,000.00" in html
    assert f"/portfolio/dashboard/?quarter=2026-Q3&amp;department={portfolio['claims'].pk}" in html
    assert 'id="dashboard-quarter"' not in client.get(url).content.decode()
    assert 'id="dashboard-quarter"' not in client.get(url, {"quarter": "nonsense"}).content.decode()


def test_the_initiative_page_offers_no_way_back_to_a_quarter_that_has_not_begun(
        client, executive, monkeypatch, portfolio):  # noqa: F811
    _today(monkeypatch, date(2026, 12, 7))
    client.force_login(executive)
    url = reverse("portfolio:initiative_detail", args=[portfolio["triage"].pk])
    assert 'id="dashboard-quarter"' in client.get(url, {"quarter": "2026-Q4"}).content.decode()
    page = client.get(url, {"quarter": "2027-Q1"})
    assert page.status_code == 200 and 'id="dashboard-quarter"' not in page.content.decode()


def test_links_go_only_where_the_viewer_may_follow_them(client, executive, owner, portfolio):  # noqa: F811
    from tests.governance.signals.factories import SignalFactory

    signal = SignalFactory(initiatives=[portfolio["triage"]])  # a cost overrun of an initiative the owner does not run
    costs = reverse("portfolio:ingestion_health")
    client.force_login(executive)
    html = client.get(URL, {"quarter": "2026-Q3"}).content.decode()
    assert f'href="{costs}"' in html and f'href="{signal.get_absolute_url()}"' in html
    client.force_login(owner)  # the same figures from the same data: a fragment cached for another kind of viewer
    page = client.get(URL, {"quarter": "2026-Q3"})
    html = page.content.decode()
    assert page.status_code == 200 and 'id="figure-spend"' in html and signal.get_type_display() in html
    assert f'href="{costs}"' not in html and f'href="{signal.get_absolute_url()}"' not in html
    assert client.get(signal.get_absolute_url()).status_code == 403  # what the link would have answered


def test_the_dashboard_and_the_board_pack_say_how_far_to_trust_the_sprawl_clusters(client, executive, reviewer,
                                                                                   portfolio):  # noqa: F811
    client.force_login(executive)
    page = client.get(URL, {"quarter": "2026-Q3"}).content.decode()
    assert "No likely cluster decided yet" in page
    decided_clusters(reviewer)  # 2 of 5 proposed pairs right in 3 decided likely clusters

    page = client.get(URL, {"quarter": "2026-Q3"}).content.decode()
    pack = client.get(reverse("portfolio:board_pack", args=["2026-Q3"])).content.decode()
    data = client.get(reverse("api:dashboard"), {"quarter": "2026-Q3"}).json()

    said = "reviewers found 2 of 5 proposed pairs right in the 3 likely clusters they decided (0.40)"
    assert said in page and said in pack
    assert 'href="/governance/sprawl/#track-record"' in page and "#track-record" not in pack  # a PDF links nowhere
    assert data["sprawl_track"] == {"decided": 3, "pairs": 5, "right": 2, "precision": 0.4,
                                    "url": "/governance/sprawl/#track-record", "list_url": "/governance/sprawl/"}


def _today(monkeypatch, day: date) -> None:
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: day)


def test_a_quarter_that_has_not_begun_is_refused_by_the_page_the_api_and_the_board_pack(
        client, executive, portfolio, monkeypatch):  # noqa: F811
    _today(monkeypatch, date(2026, 12, 7))
    client.force_login(executive)
    said = "2027-Q1 has not begun yet: it starts on 1 Jan 2027. The latest quarter is 2026-Q4, in progress."
    page = client.get(URL, {"quarter": "2027-Q1"})
    assert page.status_code == 400 and said in page.content.decode().replace("&#x27;", "'")
    assert 'id="figure-spend"' not in page.content.decode()
    api = client.get(reverse("api:dashboard"), {"quarter": "2027-Q1"})
    assert api.status_code == 400 and api.json() == {"quarter": [said]}
    for name in ("portfolio:board_pack", "portfolio:board_pack_pdf"):
        pack = client.get(reverse(name, args=["2027-Q1"]))
        assert pack.status_code == 400 and pack["Content-Type"].startswith("text/html"), name
        assert "No board pack for 2027-Q1" in pack.content.decode() and said in pack.content.decode()
    # The quarter in progress has begun; a year with no calendar dates is a wrong quarter, not a server error.
    assert client.get(URL, {"quarter": "2026-Q4"}).status_code == 200
    assert client.get(reverse("portfolio:board_pack", args=["2026-Q4"])).status_code == 200
    assert client.get(URL, {"quarter": "0000-Q1"}).status_code == 400
    assert client.get(reverse("api:dashboard"), {"quarter": "0000-Q1"}).status_code == 400
    assert client.get("/portfolio/board-pack/0000-Q1/").status_code == 404


def test_the_unallocated_share_s_change_reads_in_points_on_the_page_the_board_pack_and_the_api(
        client, executive, portfolio):  # noqa: F811
    client.force_login(executive)
    html = client.get(URL, {"quarter": "2026-Q3"}).content.decode()
    share = html.split('id="figure-unallocated_share"', 1)[1].split("</a>", 1)[0]
    assert "8.1%" in share and "+3.3 pt" in share and "68.8%" not in share
    pack = client.get(reverse("portfolio:board_pack", args=["2026-Q3"])).content.decode()
    row = pack.split("<td>Unallocated share</td>", 1)[1].split("</tr>", 1)[0]
    assert "+3.3 pt" in row and "68.8%" not in row
    figures = {f["key"]: f for f in client.get(reverse("api:dashboard"), {"quarter": "2026-Q3"}).json()["figures"]}
    assert (figures["unallocated_share"]["change"], figures["unallocated_share"]["change_points"]) == (68.8, 3.3)
    assert figures["spend"]["change_points"] is None
    exported = client.get(URL, {"quarter": "2026-Q3", "_export": "figures"}).content.decode()
    assert "Unallocated share,8.1,4.8,68.8,3.3," in exported


def test_a_quarter_in_progress_without_cost_data_says_so_on_the_page_the_api_and_the_board_pack(
        client, executive, portfolio, monkeypatch):  # noqa: F811
    _today(monkeypatch, date(2026, 12, 7))
    client.force_login(executive)
    html = client.get(URL, {"quarter": "2026-Q4"}).content.decode()
    assert 'id="no-cost-data">No cost data yet for 2026-Q4' in html
    spend = html.split('id="figure-spend"', 1)[1].split("</a>", 1)[0]
    assert '<span class="n">—</span>' in spend and "-100.0%" not in html and "$0.00" not in html
    departments = html.split('id="table-departments"', 1)[1].split("</table>", 1)[0]
    assert "Claims" in departments and "$0.00" not in departments
    assert 'id="chart-departments"' not in html and 'id="chart-departments-empty"' in html  # no value either
    csv_rows = client.get(URL, {"quarter": "2026-Q4", "_export": "figures"}).content.decode()
    assert "AI spend,,,,," in csv_rows  # no month of 2026-Q4 is complete: compared with nothing
    assert csv_rows.splitlines()[0].startswith("Figure,Value,Previous quarter,")

    data = client.get(reverse("api:dashboard"), {"quarter": "2026-Q4"}).json()
    assert (data["has_cost_data"], data["spend"], data["unallocated"], data["idle_licence_cost"]) == (
        False, None, None, None)
    spend = next(f for f in data["figures"] if f["key"] == "spend")
    assert (spend["value"], spend["previous"], spend["change"]) == (None, None, None)
    assert {d["spend"] for d in data["departments"]} == {None}

    pack = client.get(reverse("portfolio:board_pack", args=["2026-Q4"])).content.decode()
    assert 'id="cover-no-cost-data">No cost data yet for 2026-Q4' in pack
    assert "-100.0%" not in pack and "$0.00" not in pack.split('id="pack-departments"', 1)[1].split("</section>")[0]
    pdf = client.get(reverse("portfolio:board_pack_pdf", args=["2026-Q4"]))
    content = b"".join(pdf.streaming_content) if pdf.streaming else pdf.content
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)
    assert "No cost data yet for 2026-Q4" in text and "-100.0%" not in text


def test_figures_kept_only_as_they_stand_now_are_labelled_with_the_day_for_another_quarter(
        client, executive, portfolio, monkeypatch):  # noqa: F811
    from tests.governance.signals.factories import SignalFactory

    SignalFactory(initiatives=[portfolio["triage"]])
    _today(monkeypatch, date(2026, 12, 7))
    client.force_login(executive)
    html = client.get(URL, {"quarter": "2026-Q3"}).content.decode()
    assert "are as of 7 Dec 2026, not of 2026-Q3" in html.split('id="snapshot-note"', 1)[1].split("</span>", 1)[0]
    for key in ("running", "kill_candidates", "scale_candidates", "forecast_next_year"):
        assert "as of 7 Dec 2026" in html.split(f'id="figure-{key}"', 1)[1].split('<small class="muted">', 1)[0], key
    for key in ("spend", "value", "idle_licence_cost"):  # the quarter's own figures keep their quarter
        assert "as of" not in html.split(f'id="figure-{key}"', 1)[1].split('<small class="muted">', 1)[0], key
    for section in ("kill-candidates", "scale-candidates", "sprawl", "forecast", "stages"):
        assert "as of 7 Dec 2026" in html.split(f'id="{section}"', 1)[1].split("</h2>", 1)[0], section
    assert "as of" not in html.split('id="top-initiatives"', 1)[1].split("</h2>", 1)[0]

    figures = {row["Figure"]: row for row in csv.DictReader(io.StringIO(
        client.get(URL, {"quarter": "2026-Q3", "_export": "figures"}).content.decode()))}
    assert figures["Initiatives running"]["As of"] == "2026-12-07" and figures["AI spend"]["As of"] == ""
    (kill,) = csv.DictReader(io.StringIO(client.get(URL, {"quarter": "2026-Q3", "_export": "kill_candidates"})
                                         .content.decode()))
    assert kill["As of"] == "2026-12-07"
    data = client.get(reverse("api:dashboard"), {"quarter": "2026-Q3"}).json()
    assert data["snapshot_as_of"] == "2026-12-07"
    as_of = {f["key"]: f["as_of"] for f in data["figures"]}
    assert as_of["running"] == as_of["kill_candidates"] == "2026-12-07" and as_of["spend"] is None

    pack = client.get(reverse("portfolio:board_pack", args=["2026-Q3"])).content.decode()
    assert "the day this pack was made, not of 2026-Q3" in pack.split('id="cover-snapshot"', 1)[1]
    assert "Open and acknowledged signals as of 7 Dec 2026, not of 2026-Q3." in pack
    running = pack.split("<td>Initiatives running</td>", 1)[1].split("</tr>", 1)[0]
    assert "as of 7 Dec 2026" in running
    assert "as of" not in pack.split("<td>AI spend</td>", 1)[1].split("</tr>", 1)[0]
    response = client.get(reverse("portfolio:board_pack_pdf", args=["2026-Q3"]))
    content = b"".join(response.streaming_content) if response.streaming else response.content
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)
    assert "as of 7 Dec 2026" in text and "not of 2026-Q3" in text

    # The next day says the next day: what was kept for yesterday is not shown again.
    _today(monkeypatch, date(2026, 12, 8))
    assert "as of 8 Dec 2026" in client.get(URL, {"quarter": "2026-Q3"}).content.decode()
    assert client.get(reverse("api:dashboard"), {"quarter": "2026-Q3"}).json()["snapshot_as_of"] == "2026-12-08"


def test_the_current_quarter_s_figures_are_not_labelled(client, executive, portfolio, monkeypatch):  # noqa: F811
    _today(monkeypatch, date(2026, 9, 15))
    client.force_login(executive)
    html = client.get(URL, {"quarter": "2026-Q3"}).content.decode()
    assert 'id="snapshot-note"' not in html and "as-of" not in html
    assert client.get(reverse("api:dashboard"), {"quarter": "2026-Q3"}).json()["snapshot_as_of"] is None
    pack = client.get(reverse("portfolio:board_pack", args=["2026-Q3"])).content.decode()
    assert 'id="cover-snapshot"' not in pack and "as of" not in pack.split('id="pack-headline"', 1)[1].split(
        "</table>", 1)[0]


def _pdf_text(response) -> str:
    return "\n".join(_pdf_pages(response))


def _pdf_pages(response) -> list[str]:
    content = b"".join(response.streaming_content) if response.streaming else response.content
    return [page.extract_text() for page in PdfReader(io.BytesIO(content)).pages]


def test_a_quarter_partly_read_says_what_it_is_compared_with_on_the_page_the_board_pack_and_the_api(
        client, executive, october_read):  # noqa: F811
    client.force_login(executive)
    html = client.get(URL, {"quarter": "2026-Q4"}).content.decode()
    assert '<span id="period">2026-Q4 to date (October) against July</span>' in html
    assert 'id="months-read">Only October of 2026-Q4 is complete' in html
    spend = html.split('id="figure-spend"', 1)[1].split("</a>", 1)[0]
    assert "$1,660.00" in spend and "+27.7%" in spend
    assert "Spend 2026-Q4 to date (October)</th>" in html
    share = html.split('id="figure-unallocated_share"', 1)[1].split("</a>", 1)[0]
    assert "9.6%" in share and "+1.9 pt" in share
    exported = client.get(URL, {"quarter": "2026-Q4", "_export": "figures"}).content.decode()
    assert "AI spend,1660.00,1300.00,27.7,," in exported
    assert exported.splitlines()[0].startswith("Figure,Value,July,Change %,")  # July's values, not the quarter's

    pack = client.get(reverse("portfolio:board_pack", args=["2026-Q4"])).content.decode()
    assert "2026-Q4 to date (October) against July." in pack.split('id="cover-source"', 1)[1].split("</p>", 1)[0]
    assert 'id="cover-months-read">Only October of 2026-Q4 is complete' in pack
    headline = pack.split('id="pack-headline"', 1)[1].split("</thead>", 1)[0]
    assert '<th class="num">2026-Q4 to date (October)</th><th class="num">2026-Q3 (July)</th>' in headline
    row = pack.split("<td>AI spend</td>", 1)[1].split("</tr>", 1)[0]
    assert "$1,660.00" in row and "$1,300.00" in row and "+27.7%" in row
    text = _pdf_text(client.get(reverse("portfolio:board_pack_pdf", args=["2026-Q4"])))
    assert "against July" in text and "-51.5%" not in text

    data = client.get(reverse("api:dashboard"), {"quarter": "2026-Q4"}).json()
    assert {key: data[key] for key in ("quarter", "previous_quarter", "quarter_complete", "months_read",
                                       "compared_months", "period", "compared_with")} == {
        "quarter": "2026-Q4", "previous_quarter": "2026-Q3", "quarter_complete": False, "months_read": ["2026-10"],
        "compared_months": ["2026-07"], "period": "2026-Q4 to date (October)", "compared_with": "July"}
    assert data["comparison_note"].startswith("Only October of 2026-Q4 is complete")
    spend = next(f for f in data["figures"] if f["key"] == "spend")
    assert (data["spend"], spend["previous"], spend["change"]) == (1660.0, 1300.0, 27.7)


def test_value_reports_still_owed_are_said_alike_on_the_page_the_board_pack_its_pdf_the_csv_and_the_api(
        client, executive, portfolio):  # noqa: F811
    from tests.factories import InitiativeFactory, ReviewCycleFactory, ValueReportFactory

    ValueReportFactory(cycle=ReviewCycleFactory(name="2026-Q3"), initiative=InitiativeFactory(stage="production"))
    note = "2 of 3 value reports for 2026-Q3 are in; the cycle was due 31 Oct 2026."
    client.force_login(executive)
    html = client.get(URL, {"quarter": "2026-Q3"}).content.decode()
    assert f'id="value-reports-in">{note}' in html
    pack = client.get(reverse("portfolio:board_pack", args=["2026-Q3"])).content.decode()
    assert f'id="cover-value-reports-in">{note}' in pack
    assert "in so far, against what the same initiatives reported for 2026-Q2" in pack.split("<td>Value</td>", 1)[1]
    assert note in _pdf_text(client.get(reverse("portfolio:board_pack_pdf", args=["2026-Q3"]))).replace("\n", " ")
    exported = client.get(URL, {"quarter": "2026-Q3", "_export": "figures"}).content.decode()
    assert "value of the 2 of 3 value reports for 2026-Q3 in so far" in exported
    data = client.get(reverse("api:dashboard"), {"quarter": "2026-Q3"}).json()
    assert (data["value_complete"], data["value_reports"]) == (
        False, {"submitted": 2, "expected": 3, "due_on": "2026-10-31"})
    assert data["value_note"].startswith(note)


def test_a_whole_quarter_reads_as_before_on_the_page_the_board_pack_and_the_api(
        client, executive, october_read):  # noqa: F811
    client.force_login(executive)
    html = client.get(URL, {"quarter": "2026-Q3"}).content.decode()
    assert '<span id="period">2026-Q3 against 2026-Q2</span>' in html and 'id="months-read"' not in html
    assert "Spend 2026-Q3</th>" in html
    pack = client.get(reverse("portfolio:board_pack", args=["2026-Q3"])).content.decode()
    assert 'id="cover-months-read"' not in pack and "2026-Q3 against 2026-Q2." in pack
    assert '<th class="num">2026-Q3</th><th class="num">2026-Q2</th>' in pack
    data = client.get(reverse("api:dashboard"), {"quarter": "2026-Q3"}).json()
    assert (data["quarter_complete"], data["period"], data["compared_with"], data["comparison_note"]) == (
        True, "2026-Q3", "2026-Q2", "")
    assert data["months_read"] == ["2026-07", "2026-08", "2026-09"]
    assert data["compared_months"] == ["2026-04", "2026-05", "2026-06"]


def test_unallocated_records_with_no_key_are_one_row_on_the_page_the_board_pack_the_csv_and_the_api(
        client, executive, october_read):  # noqa: F811
    client.force_login(executive)
    html = client.get(URL, {"quarter": "2026-Q4"}).content.decode()
    row = html.split('id="unallocated-no-key"', 1)[1].split("</tr>", 1)[0]
    assert "(no key)" in row and "records with no tag, account or resource" in row and "$60.00" in row
    assert "<a " not in row  # no rule can be written for it
    assert "the rows add up to the unallocated spend" in html
    rows = list(csv.reader(io.StringIO(client.get(URL, {"quarter": "2026-Q4", "_export": "unallocated_keys"})
                                       .content.decode())))
    assert rows[1:] == [["tag:team", "data", "100.00", "1"],
                        ["(no key)", "records with no tag, account or resource", "60.00", "1"]]
    pack = client.get(reverse("portfolio:board_pack", args=["2026-Q4"])).content.decode()
    section = pack.split('id="pack-unallocated-keys"', 1)[1].split("</section>", 1)[0]
    assert "Unallocated spend of 2026-Q4 to date (October): $160.00" in section
    assert "records with no tag, account or resource" in section and "$60.00" in section
    text = _pdf_text(client.get(reverse("portfolio:board_pack_pdf", args=["2026-Q4"])))
    assert "Biggest unallocated keys" in text and "records with no tag, account or resource" in text
    data = client.get(reverse("api:dashboard"), {"quarter": "2026-Q4"}).json()
    assert [(k["key"], k["amount"], k["no_key"]) for k in data["unallocated_keys"]] == [
        ("tag:team", 100.0, False), ("(no key)", 60.0, True)]
    assert sum(k["amount"] for k in data["unallocated_keys"]) == data["unallocated"] == 160.0


def test_the_page_the_api_and_the_board_pack_name_a_month_no_source_read(client, executive, owner, monkeypatch):
    """A source added in December read October and reads December; nobody read November. The default quarter's
    figures (2026-Q3: nothing complete) stop at October, and the page says it beside its data stamp, with a link to
    the ingestion health page for those who may open it; the API and the board pack say it too."""
    from tests.portfolio.dashboard.test_selectors import _read_by_a_new_source

    _today(monkeypatch, date(2026, 12, 7))
    _read_by_a_new_source((10, 12))
    said = "2026-11 was not read by any cost source: the figures stop at 2026-10."
    health = f'href="{reverse("portfolio:ingestion_health")}"'
    client.force_login(executive)
    html = client.get(URL).content.decode()
    stamp = html.split('id="data-stamp"', 1)[1].split("</p>", 1)[0]
    notice = stamp.split('id="unread-months">', 1)[1].split("</strong>", 1)[0]
    assert said in notice and health in notice and "See Cost ingestion" in notice
    data = client.get(reverse("api:dashboard")).json()
    assert (data["unread_months"], data["unread_note"]) == (["2026-11"], said)
    pack = client.get(reverse("portfolio:board_pack", args=["2026-Q4"])).content.decode()
    assert said in pack.split('id="cover-unread-months">', 1)[1].split("</p>", 1)[0]
    schema = client.get(reverse("schema"), {"format": "json"}).json()["components"]["schemas"]["Dashboard"]
    assert "ended months (YYYY-MM) no cost source read" in schema["properties"]["unread_months"]["description"]
    assert "unread_note" in schema["properties"]
    client.force_login(owner)  # reads the dashboard, not the cost pages: the notice without the link
    notice = client.get(URL).content.decode().split('id="unread-months">', 1)[1].split("</strong>", 1)[0]
    assert said in notice and health not in notice


def test_a_past_quarter_without_cost_data_reads_no_month_and_its_basis_says_so(client, executive, portfolio):  # noqa: F811
    """2019-Q1 ended long before the first cost record: its months are complete, but nothing was read for them. It
    answered `"months_read": ["2019-01", "2019-02", "2019-03"]` beside `"has_cost_data": false`, and its spend's basis
    "cost roll-ups of 2019-01 to 2019-03"."""
    client.force_login(executive)
    data = client.get(reverse("api:dashboard"), {"quarter": "2019-Q1"}).json()
    assert data["has_cost_data"] is False and data["spend"] is None
    assert data["months_read"] == [] and data["compared_months"] == [] and data["compared_with"] is None
    spend = next(f for f in data["figures"] if f["key"] == "spend")
    assert spend["basis"] == "cost roll-ups: no cost data was read for 2019-Q1"
    assert "2019-01" not in str(data["figures"])
    # A quarter with data still names its months.
    read = client.get(reverse("api:dashboard"), {"quarter": "2026-Q3"}).json()
    assert read["months_read"] == ["2026-07", "2026-08", "2026-09"]
    assert next(f for f in read["figures"] if f["key"] == "spend")["basis"].startswith("cost roll-ups of 2026-07")


def test_no_row_of_the_board_pack_is_split_across_pages(client, executive, portfolio, monkeypatch):  # noqa: F811
    """A row whose cells wrap over several lines was cut at the foot of a page (the amounts on one page, the name on
    the next): every row stays whole on one page, and a table that runs on repeats its header."""
    from portfolio.dashboard import providers

    def decisions(*, quarter, department_id):
        # Initiative names of 4 to 10 lines each: rows tall enough to be cut (a cell of fewer lines than the
        # orphans and widows allowed is never cut), of different heights so a page ends inside one.
        return [providers.Decision(when=f"R{n:02}a 2026-08-{n % 28 + 1:02}", what="Approved",
                                   initiative=" ".join(["Claims triage assistant"] * (4 + n % 7)) + f" R{n:02}z",
                                   department_id=None, by="Rita Reviewer", reason="Meets the bar.", url="")
                for n in range(30)]

    monkeypatch.setattr(providers.providers, "decisions", [decisions])
    client.force_login(executive)
    pages = _pdf_pages(client.get(reverse("portfolio:board_pack_pdf", args=["2026-Q3"])))
    first = next(n for n, text in enumerate(pages) if "R00a" in text)
    assert "R29z" not in pages[first]  # the table runs over more than one page
    for row in range(30):
        starts = [n for n, text in enumerate(pages) if f"R{row:02}a" in text]
        ends = [n for n, text in enumerate(pages) if f"R{row:02}z" in text]
        assert len(starts) == 1 and starts == ends, (row, starts, ends)
        assert "Initiative" in pages[starts[0]] and "Reason" in pages[starts[0]]  # the header, repeated


def test_capped_lists_say_how_many_they_show_of_how_many_and_their_csv_carries_every_row(
        client, executive, portfolio):  # noqa: F811
    """The dashboard showed 10 of 25 kill candidates and 20 of 22 clusters without a word, its CSVs stopped at the
    cap, and the board pack listed 15 clusters with no "and N more"."""
    from tests.governance.signals.factories import SignalFactory
    from tests.governance.sprawl.factories import SprawlClusterFactory

    SignalFactory.create_batch(25, initiatives=[portfolio["triage"]])
    SprawlClusterFactory.create_batch(22, initiatives=[portfolio["triage"], portfolio["copy"]])
    client.force_login(executive)
    page = client.get(URL, {"quarter": "2026-Q3"}).content.decode()
    kill = page.split('id="kill_candidates-shown">', 1)[1].split("</p>", 1)[0]
    assert kill.startswith("10 of 25, the most severe: all on <a href=\"/governance/signals/\">the signals page</a>")
    assert "CSV (all 25)" in kill
    sprawl = page.split('id="sprawl-shown">', 1)[1].split("</p>", 1)[0]
    assert sprawl.startswith("20 of 22 clusters (likely open ones and confirmed ones), the largest savings: all on "
                             '<a href="/governance/sprawl/">the sprawl page</a>')
    top = page.split('id="top-initiatives-shown">', 1)[1].split("</p>", 1)[0]
    assert top.startswith("2 of 2 initiatives with spend in 2026-Q3.")

    def csv_rows(name: str) -> list[dict[str, str]]:
        body = client.get(URL, {"quarter": "2026-Q3", "_export": name}).content.decode()
        return list(csv.DictReader(io.StringIO(body)))

    assert len(csv_rows("kill_candidates")) == 25
    assert len(csv_rows("sprawl")) == 22
    pack = client.get(reverse("portfolio:board_pack", args=["2026-Q3"])).content.decode()
    section = pack.split('id="pack-sprawl"', 1)[1].split("<h2>Licence waste</h2>", 1)[0]
    assert section.count("<tr><td>") == 15
    assert 'id="sprawl-more">and 7 more (22 in all) on the sprawl page.' in section
    # It lists confirmed clusters too (they cost money until consolidated): headed "Open sprawl clusters", it hid that.
    assert 'id="sprawl-basis">Open and confirmed sprawl clusters' in section
    assert "(open ones the detector finds likely; confirmed ones still cost money until consolidated)" in section


def test_the_board_pack_pdf_is_printed_once_for_the_same_page(client, executive, portfolio, monkeypatch):  # noqa: F811
    """Printing the pack takes WeasyPrint seconds; the same page gives the same bytes, so it is printed once."""
    from django_weasyprint.views import WeasyTemplateResponse

    printed = []
    get_document = WeasyTemplateResponse.get_document

    def counted(self):
        printed.append(self)
        return get_document(self)

    monkeypatch.setattr(WeasyTemplateResponse, "get_document", counted)
    client.force_login(executive)
    url = reverse("portfolio:board_pack_pdf", args=["2026-Q3"])
    first = client.get(url)
    again = client.get(url)
    assert len(printed) == 1 and again.content == first.content and first.content.startswith(b"%PDF")
    assert again["Content-Disposition"] == first["Content-Disposition"]
    client.get(reverse("portfolio:board_pack_pdf", args=["2026-Q2"]))  # another page: printed
    assert len(printed) == 2
