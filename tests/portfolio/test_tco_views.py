"""Actual cost on the pages: the initiative's monthly TCO, the portfolio list's cost columns (sort, filter, CSV), and
departments and cost centers against their business cases (tests/portfolio/tco_example.py is the worked example)."""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from portfolio.choices import Stage
from portfolio.costs.services.tco import tco_recompute
from portfolio.models import Initiative, InitiativeMonthlyTco, MonthlyCost
from portfolio.views.initiatives import InitiativeListView
from portfolio.views.reference import CostCenterListView, DepartmentListView
from tests.factories import (
    BusinessCaseFactory,
    CostCenterFactory,
    DepartmentFactory,
    InitiativeFactory,
    UserFactory,
    VendorFactory,
)
from tests.portfolio.tco_example import AUGUST, JULY, OCTOBER, SEPTEMBER, build_example

pytestmark = pytest.mark.django_db

D = Decimal
LIST_URL = reverse("portfolio:initiative_list")
DEPARTMENTS_URL = reverse("portfolio:department_list")
COST_CENTERS_URL = reverse("portfolio:costcenter_list")


def rows(response, table: str = "table") -> list:
    return [row.record for row in response.context[table].page.object_list]


def csv_rows(response) -> list[list[str]]:
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def count_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def text_of(html: str, element_id: str) -> str:
    match = re.search(rf'id="{element_id}"[^>]*>(.*?)</', html, re.S)
    assert match, element_id
    return match.group(1).strip()


# The initiative page -------------------------------------------------------------------------------------------------


def test_initiative_page_shows_last_month_and_quarter_with_what_is_actual(login, reviewer):
    example = build_example()
    response = login(reviewer).get(example.recorded.get_absolute_url())
    html = response.content.decode()

    assert text_of(html, "tco-last-month") == "$2,600.00"
    assert text_of(html, "tco-last-month-basis") == "partly estimated"
    assert text_of(html, "tco-last-quarter") == "$8,000.00"
    assert text_of(html, "tco-last-quarter-basis") == "partly estimated"
    assert text_of(html, "tco-vs-plan") == "+8.8%"  # 8,000 against 3 x 2,450
    assert "2026-10 (last complete month)" in html and "2026-Q3 (last complete quarter)" in html
    assert "$3,200.00 comes from cost records and value reports and $4,800.00 is estimated" in html


def test_initiative_page_has_the_chart_and_the_numbers_per_month(login, reviewer):
    example = build_example()
    response = login(reviewer).get(example.recorded.get_absolute_url())
    html = response.content.decode()

    assert "/static/vendor/plotly.min.js" in html and 'id="tco-chart-data"' in html
    panel = response.context["panel"]
    assert [trace["name"] for trace in panel.figure["data"]][-2:] == ["Business case", "Declared"]
    table = html[html.index('id="tco-months"'):html.index("</table>", html.index('id="tco-months"'))]
    assert [h for h in re.findall(r"<th[^>]*>([^<]*)</th>", table.split("<tbody>")[0])] == [
        "Month", "Inference / API", "Licences", "Oversight", "Maintenance", "Total", "Basis", "Business case",
        "Declared"]
    september = table[table.index("<td>2026-09</td>"):].split("</tr>")[0]
    cells = re.findall(r'<td[^>]*>(.*?)</td>', september, re.S)
    assert cells[1:5] == ["$1,000.00", "$200.00", '<span class="estimated" title="estimated">$1,300.00*</span>',
                          '<span class="estimated" title="estimated">$300.00*</span>']
    assert cells[5:] == ["<strong>$2,800.00</strong>", "partly estimated", "$2,450.00", "$1,200.00"]
    assert text_of(html, "tco-range-total") == "$10,600.00"


def test_initiative_without_business_case_is_compared_with_its_declared_cost(login, reviewer):
    example = build_example()
    html = login(reviewer).get(example.declared.get_absolute_url()).content.decode()
    assert text_of(html, "tco-last-quarter") == "$1,000.00"
    assert text_of(html, "tco-last-quarter-basis") == "estimated"
    assert text_of(html, "tco-vs-plan") == "0.0%"
    assert "vs declared cost for 2026-Q3 ($1,000.00, 2 months)" in html


def test_initiative_page_of_an_initiative_without_cost(login, reviewer):
    example = build_example()
    html = login(reviewer).get(example.idea.get_absolute_url()).content.decode()
    assert text_of(html, "tco-last-quarter") == "$0.00"
    assert text_of(html, "tco-last-quarter-basis") == "no cost"
    assert text_of(html, "tco-vs-plan") == "—"
    assert 'id="tco-chart"' not in html


def test_initiative_page_before_any_cost_data(login, reviewer, initiative):
    html = login(reviewer).get(initiative.get_absolute_url()).content.decode()
    assert 'id="tco-no-data"' in html and 'id="tco-chart"' not in html


def test_initiative_page_query_count_does_not_grow_with_months_or_categories(login, reviewer):
    example = build_example()
    client = login(reviewer)
    # The first request of a process reads the content types the history panel names (ContentType's cache outlives
    # a test): cleared and warmed here, the count is the same run alone, in its file or after any other test.
    ContentType.objects.clear_cache()
    client.get(example.recorded.get_absolute_url())
    few = count_queries(client, example.recorded.get_absolute_url())
    assert few == 35  # session, user, roles, the initiative and what it loads, each panel once
    for month in (date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1), date(2026, 4, 1)):
        for category in ("compute", "storage", "oversight"):
            MonthlyCost.objects.create(initiative=example.recorded, month=month, category=category, amount=D("7"))
    tco_recompute()
    assert len(client.get(example.recorded.get_absolute_url()).context["panel"].rows) == 10
    assert count_queries(client, example.recorded.get_absolute_url()) == few


# The portfolio list --------------------------------------------------------------------------------------------------


def test_list_columns_name_their_month_and_quarter_and_carry_the_figures(login, reviewer):
    example = build_example()
    response = login(reviewer).get(LIST_URL, {"sort": "name"})
    html = response.content.decode()

    assert "Cost 2026-10 (USD)" in html and "Cost 2026-Q3 (USD)" in html and "Vs business case 2026-Q3 (%)" in html
    recorded = next(r for r in rows(response) if r.pk == example.recorded.pk)
    assert (recorded.cost_last_month, recorded.cost_last_quarter) == (D("2600"), D("8000"))
    assert round(recorded.cost_variance_pct, 1) == 8.8
    assert "+8.8%" in html
    assert text_of(html, "cost-last-quarter") == "$9,000.00"  # the filtered set's cost in the quarter
    assert "the last complete month, and of 2026-Q3" in html


@pytest.mark.parametrize("sort, expected", [
    ("cost_last_quarter", ["idea", "declared", "recorded"]),
    ("-cost_last_quarter", ["recorded", "declared", "idea"]),
    ("-cost_last_month", ["recorded", "declared", "idea"]),
])
def test_list_sorts_by_cost_in_the_database(login, reviewer, sort, expected):
    example = build_example()
    response = login(reviewer).get(LIST_URL, {"sort": sort})
    assert rows(response) == [getattr(example, name) for name in expected]
    assert sort in response.context["table"].data.data.query.order_by  # the queryset is sorted, not the page


def test_list_sorts_by_how_far_over_the_business_case(login, reviewer):
    example = build_example()
    over = InitiativeFactory(stage=Stage.PRODUCTION, start_date=date(2026, 1, 1), declared_monthly_cost=D("100"))
    for month in (JULY, AUGUST, SEPTEMBER):
        MonthlyCost.objects.create(initiative=over, month=month, category="inference", amount=D("150"))
    tco_recompute()
    ordered = rows(login(reviewer).get(LIST_URL, {"sort": "-cost_variance_pct"}))
    assert [i for i in ordered if i.cost_variance_pct is not None] == [over, example.recorded, example.declared]


def test_list_filters_on_last_quarter_cost_and_overrun(login, reviewer):
    example = build_example()
    client = login(reviewer)
    assert set(rows(client.get(LIST_URL, {"cost_quarter_min": "1000"}))) == {example.recorded, example.declared}
    assert set(rows(client.get(LIST_URL, {"cost_quarter_min": "500", "cost_quarter_max": "5000"}))) == {
        example.declared}
    assert rows(client.get(LIST_URL, {"over_business_case_pct": "5"})) == [example.recorded]
    assert rows(client.get(LIST_URL, {"over_business_case_pct": "10"})) == []
    response = client.get(LIST_URL, {"cost_quarter_min": "-5"})
    assert "Ensure this value is greater than or equal to 0." in response.content.decode()


def test_list_csv_has_the_cost_columns(login, reviewer):
    build_example()
    header, *body = csv_rows(login(reviewer).get(LIST_URL, {"sort": "name", "_export": "csv"}))
    assert header[-3:] == ["Cost 2026-10 (USD)", "Cost 2026-Q3 (USD)", "Vs business case 2026-Q3 (%)"]
    assert [(r[0], *r[-3:]) for r in body] == [
        ("Claims fraud idea", "0.00", "0.00", ""),
        ("Claims letters", "500.00", "1000.00", "0.0"),
        ("Claims triage", "2600.00", "8000.00", "8.8"),
    ]


def test_list_before_any_cost_data_says_so(login, reviewer, initiative):
    response = login(reviewer).get(LIST_URL)
    html = response.content.decode()
    assert "Cost last month (USD)" in html and "No cost data yet" in html
    assert rows(response)[0].cost_last_quarter is None
    assert rows(login(reviewer).get(LIST_URL, {"sort": "-cost_last_quarter"})) == [initiative]


def _initiatives_with_costs(n: int) -> None:
    vendor = VendorFactory()
    for _ in range(n):
        initiative = InitiativeFactory(stage=Stage.PRODUCTION, vendors=[vendor])
        BusinessCaseFactory(initiative=initiative)
        for month in (JULY, AUGUST, SEPTEMBER, OCTOBER):
            MonthlyCost.objects.create(initiative=initiative, month=month, category="inference", amount=D("10"))
    tco_recompute()


@pytest.mark.parametrize("query", ["", "?_export=csv", "?sort=-cost_variance_pct&cost_quarter_min=1"])
def test_list_query_count_does_not_grow_with_rows(login, reviewer, query, monkeypatch):
    client = login(reviewer)
    _initiatives_with_costs(3)
    few = count_queries(client, LIST_URL + query)
    _initiatives_with_costs(30)
    assert count_queries(client, LIST_URL + query) == few
    # The figures above the table and the totals row are one aggregate query over every matching row (none for CSV)
    monkeypatch.setattr(InitiativeListView, "totals_selector", None)
    assert few - count_queries(client, LIST_URL + query) == (0 if "_export" in query else 1)


# Departments and cost centers ----------------------------------------------------------------------------------------


def test_department_list_compares_actual_with_the_business_cases(login, reviewer):
    example = build_example()
    head = UserFactory(first_name="Hana", last_name="Head")
    example.department.head = head
    example.department.save()
    header, *body = csv_rows(login(reviewer).get(DEPARTMENTS_URL, {"_export": "csv"}))
    assert header == ["Name", "Code", "Head", "Initiatives", "Cost centers", "Declared monthly cost (USD)",
                      "TCO 2026-Q3 incl. estimates (USD)", "Business cases 2026-Q3 (USD)", "Variance (USD)",
                      "Variance (%)", "TCO 2026-Q3 partly estimated"]
    # 8,000 + 1,000 against 3 x 2,450 (business case) + 2 x 500 (declared, no business case); the idea ran no month
    assert body == [["Claims", "claims", "Hana Head", "3", "2", "2600.00", "9000.00", "8350.00", "650.00", "7.8",
                     "Yes"]]


def test_cost_center_list_compares_actual_with_the_business_cases(login, reviewer):
    example = build_example()
    example.run_center.budget_owner = UserFactory(first_name="Bo", last_name="Budget")
    example.run_center.save()
    header, *body = csv_rows(login(reviewer).get(COST_CENTERS_URL, {"_export": "csv", "sort": "code"}))
    assert header == ["Code", "Name", "Department", "Budget owner", "Initiatives", "Declared monthly cost (USD)",
                      "TCO 2026-Q3 incl. estimates (USD)", "Business cases 2026-Q3 (USD)", "Variance (USD)",
                      "Variance (%)", "TCO 2026-Q3 partly estimated"]
    assert [r[:1] + r[3:4] + r[6:] for r in body] == [
        ["CC-CLAIMS-PILOT", "", "1000.00", "1000.00", "0.00", "0.0", "Yes"],
        ["CC-CLAIMS-RUN", "Bo Budget", "8000.00", "7350.00", "650.00", "8.8", "Yes"],
    ]


def test_department_tco_is_labelled_with_its_estimates_and_marked_where_partly_estimated(login, reviewer):
    """The department page's quarter is TCO, business-case estimates included; the dashboard's department spend is
    cost records only: the column says so, and marks * (the CSV: a column) the departments whose TCO is partly
    estimated, as the dashboard marks an estimated cost."""
    example = build_example()
    legal = InitiativeFactory(department=DepartmentFactory(name="Legal"), stage=Stage.PRODUCTION,
                              start_date=date(2026, 1, 1), declared_monthly_cost=D("0"))
    for month in (JULY, AUGUST, SEPTEMBER):
        MonthlyCost.objects.create(initiative=legal, month=month, category="inference", amount=D("100"))
    tco_recompute()
    client = login(reviewer)
    header, *body = csv_rows(client.get(DEPARTMENTS_URL, {"_export": "csv", "sort": "name"}))
    assert [(r[0], r[6], r[-1]) for r in body] == [("Claims", "9000.00", "Yes"), ("Legal", "300.00", "No")]
    html = client.get(DEPARTMENTS_URL, {"sort": "name"}).content.decode()
    assert "TCO 2026-Q3 incl. estimates (USD)" in html and "Actual 2026-Q3" not in html
    assert re.search(r"\$9,000\.00<span title=\"partly estimated from business cases\">\*</span>", html)
    assert re.search(r"\$300\.00</td>", html)
    page = client.get(example.department.get_absolute_url()).content.decode()
    assert "TCO 2026-Q3 incl. estimates" in page and "partly estimated from business cases" in page
    assert "partly estimated" not in client.get(legal.department.get_absolute_url()).content.decode().split(
        'id="actual-vs-plan"')[1].split("</div>\n</div>")[0]


@pytest.mark.parametrize("url, sort", [(DEPARTMENTS_URL, "cost_variance"), (COST_CENTERS_URL, "cost_variance_pct"),
                                       (COST_CENTERS_URL, "plan_last_quarter"), (DEPARTMENTS_URL, "cost_last_quarter")])
def test_department_and_cost_center_lists_sort_on_the_figures(login, reviewer, url, sort):
    example = build_example()
    other = CostCenterFactory(code="CC-OTHER")
    cheap = InitiativeFactory(department=other.department, cost_center=other, stage=Stage.PRODUCTION,
                              start_date=date(2026, 1, 1), declared_monthly_cost=D("9000"))
    MonthlyCost.objects.create(initiative=cheap, month=AUGUST, category="inference", amount=D("100"))
    tco_recompute()  # CC-OTHER: 3 x 9,000 planned, 100 + 2 x 9,000 spent: -8,900, -33.0 %
    client = login(reviewer)
    ascending, descending = rows(client.get(url, {"sort": sort})), rows(client.get(url, {"sort": f"-{sort}"}))
    assert descending == ascending[::-1]
    values = [getattr(r, sort) for r in ascending]
    assert values == sorted(values)
    assert example.department in ascending or example.run_center in ascending


def test_department_page_shows_its_figures_and_each_initiatives(login, reviewer):
    example = build_example()
    response = login(reviewer).get(example.department.get_absolute_url())
    html = response.content.decode()
    assert text_of(html, "cost-last-quarter") == "$9,000.00"
    assert text_of(html, "plan-last-quarter") == "$8,350.00"
    assert text_of(html, "cost-variance").startswith("+$650.00 <small>(+7.8%)")
    table = response.context["initiative_table"]
    figures = {r.record.external_id: (r.record.cost_last_quarter, r.record.plan_last_quarter, r.record.cost_variance)
               for r in table.page.object_list}
    assert figures == {"INV-0001": (D("8000"), D("7350"), D("650")), "INV-0002": (D("1000"), D("1000"), D("0")),
                       "INV-0003": (D("0"), D("0"), D("0"))}
    assert [c.header for c in table.columns][-4:] == [
        "TCO 2026-Q3 incl. estimates (USD)", "Business case 2026-Q3 (USD)", "Variance (USD)", "Variance (%)"]
    assert "TCO 2026-Q3 incl. estimates (USD)" in html and "Business cases 2026-Q3 (USD)" in html  # cost centers


def test_cost_center_page_shows_its_figures_and_each_initiatives(login, reviewer):
    example = build_example()
    response = login(reviewer).get(example.run_center.get_absolute_url(), {"i-sort": "-cost_last_quarter"})
    html = response.content.decode()
    assert text_of(html, "cost-last-quarter") == "$8,000.00"
    assert text_of(html, "plan-last-quarter") == "$7,350.00"
    assert rows(response, "initiative_table") == [example.recorded, example.idea]


@pytest.mark.parametrize("kind", ["department_list", "costcenter_list", "department", "costcenter"])
def test_department_and_cost_center_query_counts_do_not_grow(login, reviewer, kind, monkeypatch):
    example = build_example()
    url = {"department_list": DEPARTMENTS_URL, "costcenter_list": COST_CENTERS_URL,
           "department": example.department.get_absolute_url(),
           "costcenter": example.run_center.get_absolute_url()}[kind]
    client = login(reviewer)

    def add(n: int) -> None:
        for _ in range(n):
            center = CostCenterFactory(department=example.department)
            initiative = InitiativeFactory(department=example.department, cost_center=example.run_center,
                                           stage=Stage.PILOT, start_date=date(2026, 1, 1))
            BusinessCaseFactory(initiative=initiative)
            InitiativeFactory(department=center.department, cost_center=center, stage=Stage.PRODUCTION)
        tco_recompute()

    add(2)
    few = count_queries(client, url)
    few_csv = count_queries(client, url + "?_export=csv")
    add(12)
    assert count_queries(client, url) == few
    assert count_queries(client, url + "?_export=csv") == few_csv
    if kind.endswith("_list"):  # the totals row: one aggregate query over every matching row, none for the CSV
        view = DepartmentListView if kind == "department_list" else CostCenterListView
        monkeypatch.setattr(view, "totals_selector", None)
        assert few - count_queries(client, url) == 1
        assert count_queries(client, url + "?_export=csv") == few_csv


# The demo company ----------------------------------------------------------------------------------------------------


def test_demo_company_shows_actual_cost_everywhere(demo, client):
    from tollgate.demo import data

    assert client.login(username="executive", password=data.DEMO_PASSWORD)
    assert InitiativeMonthlyTco.objects.filter(actual=True).exists()
    response = client.get(LIST_URL, {"sort": "-cost_last_quarter"})
    assert response.status_code == 200
    top = rows(response)[0]
    assert top.cost_last_quarter > 0 and top.cost_last_month > 0
    assert "Cost 2026-Q3 (USD)" in response.content.decode()
    page = client.get(top.get_absolute_url())
    assert page.status_code == 200 and page.context["panel"].rows
    assert "tco-chart-data" in page.content.decode()
    assert client.get(LIST_URL, {"_export": "csv"}).status_code == 200
    departments = client.get(DEPARTMENTS_URL, {"sort": "-cost_last_quarter"})
    biggest = rows(departments)[0]
    assert biggest.cost_last_quarter > 0 and biggest.plan_last_quarter > 0
    assert client.get(biggest.get_absolute_url()).status_code == 200
    centers = client.get(COST_CENTERS_URL, {"sort": "-cost_last_quarter"})
    assert client.get(rows(centers)[0].get_absolute_url()).status_code == 200
    assert Initiative.objects.count() > 100


def test_initiative_page_has_no_plan_for_a_quarter_before_its_start(login, reviewer):
    """Finding 12 of the first-week walk: 2024-09 costs mapped to an initiative that started in 2025-01 show as its
    cost, with no "-100.0% vs declared cost for 2024-Q3"."""
    started = InitiativeFactory(declared_monthly_cost=Decimal("900"), start_date=date(2025, 1, 15))
    MonthlyCost.objects.create(initiative=started, month=date(2024, 9, 1), category="other", amount=Decimal("-0.15"))
    InitiativeMonthlyTco.objects.create(initiative=started, month=date(2024, 9, 1), category="other",
                                        amount=Decimal("-0.15"), actual=True)
    html = login(reviewer).get(started.get_absolute_url()).content.decode()
    assert "2024-Q3 (last complete quarter)" in html
    assert "vs declared cost: none for 2024-Q3, before its start date (2025-01-15)" in html
    assert "-100.0%" not in html


def test_the_departments_caption_names_only_the_period_its_table_shows(login, reviewer):
    """The departments page said "Costs are the TCO of 2026-10 ... and of 2026-Q3" over a table with no 2026-10
    column; the portfolio list, which has both, still names both."""
    build_example()
    client = login(reviewer)
    caption = text_of(client.get(DEPARTMENTS_URL).content.decode(), "cost-periods-caption")
    assert caption.startswith("Costs are the total cost of ownership (TCO) of 2026-Q3, the last complete quarter:")
    assert "2026-10" not in caption and "last complete month" not in caption
    listed = text_of(client.get(LIST_URL).content.decode(), "cost-periods-caption")
    assert "of 2026-10, the last complete month, and of 2026-Q3" in listed


def test_initiative_page_says_no_data_for_a_month_nobody_read(login, reviewer, monkeypatch):
    """October was read by no source: its row says so instead of the $900.00 declared estimate (or $0.00), the chart
    has no bar for it, the range total leaves it out, and December, in progress, is marked partial."""
    from tests.portfolio.tco_example import build_gap

    initiative = build_gap(monkeypatch)
    response = login(reviewer).get(initiative.get_absolute_url())
    html = response.content.decode()
    table = html[html.index('id="tco-months"'):html.index("</table>", html.index('id="tco-months"'))]
    october = table[table.index('data-month-data="unread"'):].split("</tr>")[0]
    cells = re.findall(r'<td[^>]*>(.*?)</td>', october, re.S)
    assert cells[0] == "2026-10" and "$" not in "".join(cells[1:-2])
    assert cells[-4:-2] == ["—", '<span class="muted">No data: not read by any cost source, so its cost is unknown, '
                                 'not zero.</span>']
    assert '<td>2026-12 <span class="muted" title="In progress: the month has not ended yet, so more cost may come.">' \
           '(partial)</span></td>' in table
    assert text_of(html, "tco-range-total") == "$3,300.00"  # 900 + 1,000 + 1,000 + 400: October's 900 left out
    panel = response.context["panel"]
    other = next(trace for trace in panel.figure["data"] if trace["name"] == "Other (estimated)")
    assert other["y"] == [900.0, 0.0, 0.0, 0.0, 0.0]


def test_the_dashboard_s_drill_down_counts_the_months_read_and_names_the_one_nobody_read(login, reviewer,
                                                                                        monkeypatch):
    """From the dashboard's 2026-Q3 (?quarter=2026-Q3), the initiative page's line gives the cost of July and
    September, as the costs API and its value report do, and names August, which no cost source read; before, it
    counted August's estimate of 2,450 too ($7,650.00)."""
    from tests.portfolio.tco_example import build_august_unread

    initiative = build_august_unread(monkeypatch)
    html = login(reviewer).get(initiative.get_absolute_url(), {"quarter": "2026-Q3"}).content.decode()
    assert "2026-Q3: cost $5,200.00 (partly estimated)" in html
    assert text_of(html, "dashboard-quarter-unread") == (
        "(2 of 3 months read (2026-08 unread: no cost source read it, so its cost is unknown and left out))")


# A month nobody read: one quarter cost through every door ------------------------------------------------------------


UNREAD_AUGUST = "2 of 3 months read (2026-08 unread: no cost source read it, so its cost is unknown and left out)"


def test_a_month_nobody_read_leaves_the_same_quarter_cost_through_every_door(login, reviewer, api_client, executive,
                                                                             monkeypatch):
    """2026-08 was read by no cost source, between two complete months (tco_example.build_august_unread): the value
    report, the dashboard's drill-down and the costs API count July and September (5,200), and so now do the
    initiative page's last complete quarter, the initiatives list (page, CSV, API), its "vs business case", the
    department and cost center lists and totals, and the kill-or-continue signal's TCO; each says 2 of 3 months were
    read. Before, they counted August's estimate of 2,450 too (7,650)."""
    from governance.signals.selectors import quarter_costs
    from portfolio.calculations import Quarter
    from portfolio.dashboard.selectors import initiative_quarter
    from reviews.models import ValueReport
    from reviews.selectors import report_cost
    from tests.portfolio.tco_example import TODAY, build_august_unread

    initiative = build_august_unread(monkeypatch)
    cost = D("5200.00")
    report = report_cost(ValueReport.objects.get(initiative=initiative))
    drill_down = initiative_quarter(initiative, Quarter(2026, 3))
    api_client.force_authenticate(executive)
    costs = api_client.get(reverse("api:initiative-costs", args=[initiative.pk]),
                           {"from": "2026-07", "to": "2026-09"}).json()
    assert (report.amount, drill_down["cost"], D(str(costs["total"]))) == (cost, cost, cost)
    assert report.unread == (AUGUST,) and drill_down["unread"] == UNREAD_AUGUST

    client = login(reviewer)
    html = client.get(initiative.get_absolute_url()).content.decode()
    assert text_of(html, "tco-last-quarter") == "$5,200.00"
    assert text_of(html, "tco-last-quarter-unread") == UNREAD_AUGUST
    # The business case is compared for the two months read (2,450 x 2): 5,200 is 6.1% over 4,900.
    assert "4,900.00, 2 months" in html and text_of(html, "tco-vs-plan") == "+6.1%"

    listed = client.get(LIST_URL)
    row = rows(listed)[0]
    assert (row.cost_last_quarter, D(str(round(row.cost_variance_pct, 1)))) == (cost, D("6.1"))
    assert UNREAD_AUGUST in text_of(listed.content.decode(), "cost-periods-unread")
    header, line = csv_rows(client.get(LIST_URL + "?_export=csv"))[:2]
    quarter = header.index("Cost 2026-Q3, 2 of 3 months read (USD)")
    assert (line[quarter], line[quarter + 1]) == ("5200.00", "6.1")
    body = api_client.get(reverse("api:initiative-detail", args=[initiative.pk])).json()
    assert (body["cost_last_quarter"], body["cost_quarter_unread_months"], body["cost_vs_business_case_pct"]) == (
        "5200.00", ["2026-08"], 6.1224)

    for url in (DEPARTMENTS_URL, COST_CENTERS_URL):
        response = client.get(url)
        assert [r.cost_last_quarter for r in rows(response)] == [cost]
        header, line = csv_rows(client.get(url + "?_export=csv"))[:2]
        assert line[header.index("TCO 2026-Q3, 2 of 3 months read incl. estimates (USD)")] == "5200.00"
    department = client.get(initiative.department.get_absolute_url()).content.decode()
    assert text_of(department, "cost-last-quarter") == "$5,200.00"
    assert UNREAD_AUGUST in text_of(department, "cost-periods-unread")

    signal = quarter_costs(today=TODAY)[initiative.pk]
    assert (signal.quarter, signal.total, signal.months, signal.unread_note) == ("2026-Q3", cost, 2, UNREAD_AUGUST)


def test_a_month_nobody_read_after_the_last_one_read_is_named_not_counted_as_zero(login, reviewer, monkeypatch):
    """2026-09, the last month of 2026-Q3, was read by nobody and no later month was (tco_example
    .build_september_unread): no month is complete, so the lists have no last complete quarter to show; the
    dashboard's 2026-Q3 (the quarter before today's) is July and August, naming September, as the value report and
    the drill-down count it (5,200). Before, the dashboard showed the quarter whole, September as $0."""
    from portfolio.calculations import Quarter
    from portfolio.costs.selectors import cost_periods
    from portfolio.dashboard.selectors import dashboard, default_quarter, initiative_quarter
    from reviews.models import ValueReport
    from reviews.selectors import report_cost
    from tests.portfolio.tco_example import build_september_unread

    initiative = build_september_unread(monkeypatch)
    q3, cost = Quarter(2026, 3), D("5200.00")
    unread = ("2 of 3 months read (2026-09 unread: no cost source read it, so its cost is unknown and left out)")
    report = report_cost(ValueReport.objects.get(initiative=initiative))
    drill_down = initiative_quarter(initiative, q3)
    assert (report.amount, drill_down["cost"], drill_down["unread"]) == (cost, cost, unread)
    assert report.unread == (SEPTEMBER,)
    assert default_quarter() == q3
    board = dashboard(quarter=q3)
    assert (board["quarter_complete"], board["months_read"]) == (False, ["2026-07", "2026-08"])
    assert board["period"] == "2026-Q3 (July and August only)"
    assert "September was not read by any cost source" in board["comparison_note"]
    assert cost_periods().quarter is None
    assert rows(login(reviewer).get(LIST_URL))[0].cost_last_quarter is None
