"""The dashboard's Plotly figures: names under the bars shown whole, and a legend they cannot run into."""

from __future__ import annotations

from decimal import Decimal

from portfolio.dashboard import charts

DEPARTMENTS = [{"name": name, "spend": Decimal("1000.00"), "value": Decimal("2500.00")}
               for name in ("Claims", "Customer Service", "Risk & Compliance", "Sales & Distribution")]


def test_department_chart_has_its_legend_above_the_bars_and_room_for_slanted_names():
    figure = charts.spend_and_value_by_department(DEPARTMENTS, "USD")

    layout = figure["layout"]
    assert layout["xaxis"]["automargin"] is True
    assert (layout["legend"]["y"], layout["legend"]["yanchor"]) == (1.0, "bottom")  # above the plot, not below it
    assert layout["margin"]["t"] > charts._layout("any")["margin"]["t"]  # under the title, not over it
    assert [trace["name"] for trace in figure["data"]] == ["Spend", "Value"]
    assert figure["data"][0]["x"] == [d["name"] for d in DEPARTMENTS]


def test_other_charts_keep_their_legend_below_and_grow_their_margin_for_long_names():
    figure = charts.licence_utilisation([{"pool": "Microsoft 365 Copilot for the whole sales organisation",
                                          "utilisation": 35.1, "active_30d": 842, "purchased": 2400}])

    assert figure["layout"]["xaxis"]["automargin"] is True
    assert figure["layout"]["legend"]["y"] < 0


def test_department_chart_leaves_out_a_series_nobody_has_rather_than_drawing_zeros():
    no_costs = [{**d, "spend": None} for d in DEPARTMENTS]
    assert [trace["name"] for trace in charts.spend_and_value_by_department(no_costs, "USD")["data"]] == ["Value"]
    assert charts.spend_and_value_by_department([{**d, "value": None} for d in no_costs], "USD") is None
