"""The demo company's dashboard tells its story: spend to the cent of the cost reports, value, and a board pack."""

from __future__ import annotations

from decimal import Decimal

from django.urls import reverse

from portfolio.costs.connectors.base import Period
from portfolio.costs.selectors import cost_report
from portfolio.dashboard.selectors import dashboard, default_quarter, unallocated_keys


def test_demo_dashboard_adds_up_to_the_cost_reports(demo, client, executive):
    quarter = default_quarter()
    board = dashboard(quarter=quarter)
    reports = [cost_report(period=Period.month(m.year, m.month)) for m in quarter.months]
    assert board["spend"] == sum(r["total"] for r in reports) > 0
    assert board["unallocated"] == sum(r["unallocated"] for r in reports) > 0
    assert board["value"] and board["value_per_dollar"]
    assert board["unallocated_keys"] and board["licence_utilisation"] and board["sprawl"]
    # Each unallocated record counts under one key: the rows, and all the keys, add up to at most the unallocated
    # spend (the biggest ten used to add up to more, a FOCUS record counting under its resource and each of its tags).
    # Keys past the ten biggest are one last row: the rows add up to it, to the cent of each row's rounding.
    shown = board["unallocated_keys"]
    assert abs(sum(k["amount"] for k in shown) - board["unallocated"]) <= Decimal("0.005") * len(shown)
    every_key = unallocated_keys(quarter, limit=100_000)
    # ... to the cent of each row's rounding
    assert abs(sum(k["amount"] for k in every_key) - board["unallocated"]) <= Decimal("0.005") * len(every_key)
    assert not any(k["key"] == "tag:env" for k in board["unallocated_keys"])
    assert board["kill_candidates"] and board["scale_candidates"] and board["forecast"]["backtest_mape"] is not None
    client.force_login(executive)
    assert client.get(reverse("portfolio:dashboard")).status_code == 200
    assert client.get(reverse("portfolio:board_pack_pdf", args=[quarter.name])).status_code == 200
