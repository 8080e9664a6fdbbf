"""The forecast page and the initiative page's forecast card: read from the stored snapshot, in few queries."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from portfolio.choices import CostCategory
from portfolio.costs.services.forecast import forecast_compute
from tests.factories import InitiativeFactory
from tests.portfolio.costs.forecast_data import TODAY, spend

pytestmark = pytest.mark.django_db

URL = reverse("portfolio:cost_forecast")


def compute():
    return forecast_compute(price_decline_pct=Decimal("60"), today=TODAY)


@pytest.fixture
def costs(initiative):
    spend(initiative, [1000.0 + 25 * k for k in range(12)])
    spend(InitiativeFactory(external_id="INV-9001", name="Claims triage"), [400.0] * 12)
    spend(None, [100.0] * 12)
    return compute()


def test_without_a_snapshot_the_page_says_so(login, executive):
    response = login(executive).get(URL)
    assert response.status_code == 200
    assert b'id="no-forecast"' in response.content and b'id="forecast-chart"' not in response.content


def test_the_page_shows_chart_figures_months_and_initiatives(login, owner, costs):
    response = login(owner).get(URL)  # owners read the forecast too
    assert response.status_code == 200
    content = response.content.decode()
    figure = json.loads(json.dumps(response.context["figure"]))  # what json_script hands to Plotly
    names = [trace["name"] for trace in figure["data"]]
    assert names[:4] == ["80% band", "Actual", "Forecast", "Jevons: unit price -60%/year"]
    assert names[4].startswith("Backtest (as of 2026-05)")
    assert 'id="forecast-chart"' in content and 'id="forecast-data"' in content
    assert 'id="forecast-backtest-mape"' in content and "2026-09" in content
    assert len(response.context["month_rows"]) == 12
    assert "Claims triage" in content and "INV-9001" in content


def test_the_initiative_table_sorts_filters_and_exports(login, reviewer, costs, initiative):
    client = login(reviewer)
    rows = list(client.get(URL, {"sort": "next_quarter"}).context["table"].rows)
    assert [row.record.initiative.external_id for row in rows] == ["INV-9001", initiative.external_id]
    response = client.get(URL, {"q": "claims", "_export": "csv"})
    assert response["Content-Type"].startswith("text/csv")
    table = list(csv.reader(io.StringIO(response.content.decode())))
    # The first three months' column is named by them ("Next quarter" named a quarter already in progress).
    assert table[0] == ["Initiative", "Name", "Department", "Method", "Last month", "2026-09 – 2026-11",
                        "Next 12 months", "Next 12 months, Jevons", "Backtest MAPE (%)"]
    assert table[1][:2] == ["INV-9001", "Claims triage"] and table[1][5] == "1200.00" and table[1][8] == "0.0"
    assert len(table) == 2


def test_page_queries_do_not_grow_with_initiatives(login, executive, django_assert_max_num_queries):
    for n in range(3):
        spend(InitiativeFactory(), [100.0 + n] * 12)
    compute()
    client = login(executive)
    with django_assert_max_num_queries(15) as few:
        client.get(URL)
    for n in range(20):
        spend(InitiativeFactory(), [200.0 + n] * 12)
    compute()
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(URL).status_code == 200


def test_the_initiative_page_shows_its_forecast_and_backtest_error(login, owner, costs, initiative):
    url = reverse("portfolio:initiative_detail", args=[initiative.pk])
    content = login(owner).get(url).content.decode()
    assert 'id="spend-forecast"' in content and 'id="initiative-forecast-mape"' in content
    line = costs.initiative_forecasts.get(initiative=initiative)
    assert f"${line.next_quarter:,.2f}" in content
    assert f"2026-09 (80%: ${line.lower[0]:,.2f} – ${line.upper[0]:,.2f})" in content
    assert "2026-09 – 2026-11" in content  # the first quarter of the horizon
    # Named by its months, not "next quarter": the forecast starts after the latest complete month.
    assert '<span class="l">2026-09 – 2026-11</span>' in content and "next quarter" not in content


def test_the_forecast_s_first_quarter_is_named_as_the_board_pack_names_it(login, executive, initiative):
    """On 7 December 2026 with data to September, the forecast's first three months are 2026-Q4, the quarter in
    progress: "next quarter" named it wrongly on the page, its table and the initiative's card. And its unit prices
    read in a column of four decimals each ("$0.7300", not "$0.73" under "$0.7274")."""
    from tests.portfolio.costs.forecast_data import tokens

    latest = date(2026, 9, 1)
    spend(initiative, [1000.0 + 25 * k for k in range(12)], latest=latest, category=CostCategory.INFERENCE)
    tokens(initiative, [1e9 * (1 + 0.08 * k) for k in range(12)], latest=latest)
    forecast_compute(price_decline_pct=Decimal("60"), today=date(2026, 12, 7))
    client = login(executive)
    response = client.get(URL)
    content = response.content.decode()
    assert '<span class="l">2026-Q4 (2026-10 – 2026-12)</span>' in content and "next quarter" not in content
    assert '<a href="?sort=next_quarter">2026-Q4 (2026-10 – 2026-12)</a>' in content  # the table's column
    rows = response.context["month_rows"]
    assert rows[0]["unit_cost"] is not None
    for row in rows:
        for key in ("unit_cost", "unit_cost_jevons"):
            assert f"${row[key]:,.4f}</td>" in content  # four decimals in every row, trailing zeros kept
    card = client.get(reverse("portfolio:initiative_detail", args=[initiative.pk])).content.decode()
    assert '<span class="l">2026-Q4 (2026-10 – 2026-12)</span>' in card and "next quarter" not in card


def test_the_initiative_card_without_a_forecast(login, owner, initiative):
    url = reverse("portfolio:initiative_detail", args=[initiative.pk])
    assert "No forecast yet" in login(owner).get(url).content.decode()
    spend(InitiativeFactory(), [100.0] * 6)
    compute()
    assert "no cost data of this initiative" in login(owner).get(url).content.decode()


def test_with_only_the_running_month_the_page_and_the_dashboard_say_no_forecast_yet(login, executive, initiative):
    spend(initiative, [1400.0], latest=date(2026, 12, 1))
    assert forecast_compute(price_decline_pct=Decimal("60"), today=date(2026, 12, 7)) is None
    page = login(executive).get(URL).content.decode()
    assert "No forecast yet: it is computed after the first complete month of cost data." in page
    assert "(the latest complete month)" not in page
    dashboard = login(executive).get(reverse("portfolio:dashboard")).content.decode()
    assert "No forecast yet: it is computed after the first complete month of cost data." in dashboard
