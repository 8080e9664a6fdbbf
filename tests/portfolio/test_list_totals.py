"""The totals row of the portfolio, departments and cost centers lists: every row the filters match (not the page
shown), summed as the CSV export of the same list sums, percentages recomputed from the sums; the CSV stays rows."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal

import pytest
from django.urls import reverse

from portfolio.models import CostCenter, Department
from tests.factories import InitiativeFactory
from tests.portfolio.tco_example import build_example
from tollgate.formatting import format_money, format_percent

pytestmark = pytest.mark.django_db

D = Decimal
LIST_URL = reverse("portfolio:initiative_list")
DEPARTMENTS_URL = reverse("portfolio:department_list")
COST_CENTERS_URL = reverse("portfolio:costcenter_list")


def csv_rows(response) -> list[list[str]]:
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.content.decode("utf-8"))))


def footer_cells(html: str) -> list[str]:
    """The totals row's cells as a reader sees them (tags dropped)."""
    match = re.search(r"<tfoot[^>]*>(.*?)</tfoot>", html, re.S)
    assert match, "no totals row"
    return [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", match.group(1), re.S)]


def test_cost_centers_totals_row_sums_every_column_and_recomputes_the_percentage(login, reviewer):
    build_example()
    html = login(reviewer).get(COST_CENTERS_URL, {"sort": "code"}).content.decode()
    # Code, name, department, budget owner, initiatives, declared, TCO (partly estimated: *), business cases,
    # variance, variance in %: 9,000 against 8,350 is +7.8 %, not the mean of the rows' 0.0 % and +8.8 %.
    assert footer_cells(html) == ["Total, 2 cost centers", "", "", "", "3", "$2,600.00", "$9,000.00*", "$8,350.00",
                                  "+$650.00", "+7.8%"]
    assert '<td class="num">$9,000.00<span title="partly estimated from business cases">*</span></td>' in html


def test_departments_totals_row(login, reviewer):
    build_example()
    html = login(reviewer).get(DEPARTMENTS_URL).content.decode()
    assert footer_cells(html) == ["Total, 1 department", "", "", "3", "2", "$2,600.00", "$9,000.00*", "$8,350.00",
                                  "+$650.00", "+7.8%"]


def test_portfolio_totals_row_covers_every_page_and_says_so(login, reviewer):
    """Dates and text get no total; the percentage is the set's TCO against the sum of its business cases."""
    build_example()
    client = login(reviewer)
    cells = footer_cells(client.get(LIST_URL, {"sort": "name"}).content.decode())
    # name, id, department, owner, stage, category, vendors, declared, start date, last month, quarter, vs plan
    assert cells == ["Total, 3 initiatives", "", "", "", "", "", "", "$2,600.00", "", "$3,100.00", "$9,000.00",
                     "+7.8%"]
    paged = client.get(LIST_URL, {"sort": "name", "per_page": 2, "page": 2})
    assert len(paged.context["table"].page.object_list) == 1
    cells = footer_cells(paged.content.decode())
    assert [cells[0], *cells[-3:]] == ["Total, 3 initiatives (all 2 pages)", "$3,100.00", "$9,000.00", "+7.8%"]


def test_totals_follow_the_filters(login, reviewer):
    example = build_example()
    InitiativeFactory(declared_monthly_cost=D("123.45"))  # another department, no cost
    client = login(reviewer)
    cells = footer_cells(client.get(LIST_URL, {"department": example.department.pk, "stage": "production"})
                         .content.decode())
    assert cells[0] == "Total, 1 initiative" and cells[-5:] == ["$1,200.00", "", "$2,600.00", "$8,000.00", "+8.8%"]
    assert footer_cells(client.get(LIST_URL).content.decode())[7] == "$2,723.45"
    cells = footer_cells(client.get(COST_CENTERS_URL, {"q": "CC-CLAIMS-RUN"}).content.decode())
    assert cells[0] == "Total, 1 cost center" and cells[-1] == "+8.8%"


def test_no_totals_row_without_rows_nor_when_a_filter_is_refused(login, reviewer):
    build_example()
    client = login(reviewer)
    assert "<tfoot" not in client.get(LIST_URL, {"q": "nothing is called this"}).content.decode()
    refused = client.get(LIST_URL, {"cost_quarter_min": "9", "cost_quarter_max": "1"})
    assert refused.status_code == 400 and "<tfoot" not in refused.content.decode()
    assert "<tfoot" not in client.get(DEPARTMENTS_URL, {"q": "nothing"}).content.decode()


def test_a_department_page_lists_its_cost_centers_without_a_totals_row(login, reviewer):
    """The department page's cost centers table has the department's own figures above it, not a totals row."""
    example = build_example()
    html = login(reviewer).get(example.department.get_absolute_url()).content.decode()
    assert "<tfoot" not in html


def test_the_csv_export_is_the_rows_alone(login, reviewer):
    """CSV exports are plain row data (README): no totals line a spreadsheet would sum again."""
    build_example()
    client = login(reviewer)
    for url, count in ((LIST_URL, 3), (DEPARTMENTS_URL, 1), (COST_CENTERS_URL, 2)):
        header, *body = csv_rows(client.get(url, {"_export": "csv"}))
        assert len(body) == count and not any(row[0].startswith("Total") for row in body)


# The totals equal the sums of the CSV export of the same filtered list, on the demo company ---------------------------


def _column_sum(header: list[str], body: list[list[str]], title: str) -> Decimal | None:
    cells = [row[header.index(title)] for row in body]
    return sum((D(cell) for cell in cells if cell), D("0")) if any(cells) else None


def _check_totals_against_csv(client, url: str, query: dict, columns: tuple[str, ...]) -> tuple:
    page = client.get(url, query)
    assert page.status_code == 200
    table, totals = page.context["table"], page.context["table"].totals
    header, *body = csv_rows(client.get(url, {**query, "_export": "csv"}))
    assert totals.count == len(body) == table.paginator.count
    sums = {}
    for name in columns:
        sums[name] = _column_sum(header, body, table.columns[name].header)
        assert getattr(totals, name) == sums[name], name
    cells = footer_cells(page.content.decode())
    assert cells[0].startswith(f"Total, {len(body):,} ")
    return table, totals, sums, cells


def test_totals_equal_the_sums_of_the_csv_of_the_same_filtered_list(demo, client):
    from tollgate.demo import data

    assert client.login(username="executive", password=data.DEMO_PASSWORD)

    # The portfolio: production initiatives, more than a page of them.
    table, totals, sums, cells = _check_totals_against_csv(
        client, LIST_URL, {"stage": "production", "sort": "-cost_last_quarter"},
        ("declared_monthly_cost", "cost_last_month", "cost_last_quarter"))
    assert totals.count > 25
    assert cells[0] == f"Total, {totals.count} initiatives (all {table.paginator.num_pages} pages)"
    assert cells[7] == format_money(sums["declared_monthly_cost"])
    assert cells[-2] == format_money(sums["cost_last_quarter"])
    assert cells[-1] == format_percent(totals.cost_variance_pct, signed=True)

    # The departments whose name has an "a" (some, not all), two to a page.
    names = list(Department.objects.values_list("name", flat=True))
    assert 1 < sum("a" in name.lower() for name in names) < len(names)
    table, totals, sums, cells = _check_totals_against_csv(
        client, DEPARTMENTS_URL, {"q": "a", "per_page": 2},
        ("initiatives_count", "cost_centers_count", "declared_monthly_cost", "cost_last_quarter", "plan_last_quarter",
         "cost_variance"))
    assert "(all " in cells[0]
    # The percentage from the CSV's summed TCO and business cases, as the footer gives it
    recomputed = (sums["cost_last_quarter"] - sums["plan_last_quarter"]) * 100 / sums["plan_last_quarter"]
    assert cells[-1] == format_percent(recomputed, signed=True)

    # The cost centers of the department with the most of them.
    department = max(Department.objects.all(), key=lambda d: CostCenter.objects.filter(department=d).count())
    table, totals, sums, cells = _check_totals_against_csv(
        client, COST_CENTERS_URL, {"department": department.pk},
        ("initiatives_count", "declared_monthly_cost", "cost_last_quarter", "plan_last_quarter", "cost_variance"))
    assert totals.count > 1
    recomputed = (sums["cost_last_quarter"] - sums["plan_last_quarter"]) * 100 / sums["plan_last_quarter"]
    assert cells[-1] == format_percent(recomputed, signed=True)
