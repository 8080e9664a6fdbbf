"""Plotly figures of the dashboard, as JSON-ready dicts built from `selectors.dashboard()`'s values.

Pure: no ORM, so the page and the board pack draw the same numbers the API returns.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from tollgate.formatting import currency_symbol

PALETTE = ["#2b4c7e", "#5b8fd1", "#7fb069", "#e6aa68", "#ca3c25", "#8c6bb1", "#9e9e9e"]


def _layout(title: str, *, y_title: str = "", height: int = 300, barmode: str | None = None) -> dict[str, Any]:
    layout: dict[str, Any] = {
        "title": {"text": title},
        "height": height,
        "margin": {"l": 70, "r": 20, "t": 40, "b": 50},
        # Long category names (departments, licence pools) are slanted to fit; the margin grows to show them whole.
        "xaxis": {"automargin": True},
        "yaxis": {"title": {"text": y_title}, "tickformat": ",.0f"},
        "legend": {"orientation": "h", "y": -0.2},
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
    }
    if barmode:
        layout["barmode"] = barmode
    return layout


def spend_by_category(rows: list[dict[str, Any]], currency: str) -> dict[str, Any]:
    """Stacked monthly bars, one colour per cost category."""
    months = sorted({r["month"] for r in rows})
    by_label: dict[str, dict[str, float]] = defaultdict(dict)
    for row in rows:
        by_label[row["label"]][row["month"]] = by_label[row["label"]].get(row["month"], 0.0) + float(row["amount"])
    data = [
        {"type": "bar", "name": label, "x": months, "y": [values.get(m, 0.0) for m in months],
         "marker": {"color": PALETTE[i % len(PALETTE)]},
         "hovertemplate": f"%{{x}} {label}: {currency_symbol(currency)}%{{y:,.2f}}<extra></extra>"}
        for i, (label, values) in enumerate(sorted(by_label.items()))
    ]
    return {"data": data, "layout": _layout("AI spend by category and month", y_title=currency, barmode="stack")}


def spend_and_value_by_department(rows: list[dict[str, Any]], currency: str) -> dict[str, Any] | None:
    """Spend and value side by side; a series nobody has (spend of a quarter nothing was read for: None) is left out
    rather than drawn as bars of 0, and None when neither has a figure (the page says so instead)."""
    names = [r["name"] for r in rows]
    data = [
        {"type": "bar", "name": name, "x": names, "y": [float(r[key] or 0) for r in rows],
         "marker": {"color": colour}}
        for name, key, colour in (("Spend", "spend", PALETTE[0]), ("Value", "value", PALETTE[2]))
        if any(r[key] for r in rows)
    ]
    if not data:
        return None
    return {
        "data": data,
        "layout": _legend_on_top(_layout("Spend and reported value by department", y_title=currency, height=360,
                                         barmode="group")),
    }


def _legend_on_top(layout: dict[str, Any]) -> dict[str, Any]:
    """The legend above the bars, under the title: below them, the slanted category names would run into it."""
    layout["legend"] = {"orientation": "h", "x": 0, "xanchor": "left", "y": 1.0, "yanchor": "bottom"}
    layout["margin"] = {**layout["margin"], "t": 70}
    return layout


def licence_utilisation(rows: list[dict[str, Any]]) -> dict[str, Any]:
    names = [r["pool"] for r in rows]
    layout = _layout("Licence utilisation by pool (seats active in the last 30 days)", y_title="% of seats")
    layout["yaxis"]["range"] = [0, 100]
    return {
        "data": [{"type": "bar", "x": names, "y": [r["utilisation"] or 0 for r in rows],
                  "customdata": [[r["active_30d"], r["purchased"]] for r in rows],
                  "hovertemplate": "%{x}: %{y:.1f}% (%{customdata[0]} of %{customdata[1]} seats)<extra></extra>",
                  "marker": {"color": PALETTE[1]}}],
        "layout": layout,
    }


def forecast(forecast: dict[str, Any] | None, currency: str) -> dict[str, Any] | None:
    """Actual spend up to the forecast (its `history`, the twelve months before it whatever quarter the board shows,
    so the two lines meet), the forecast with its 80 % interval, and the Jevons scenario when the forecast has one."""
    if not forecast or not forecast.get("months"):
        return None
    history = forecast.get("history") or []
    months = forecast["months"]
    data: list[dict[str, Any]] = [
        {"type": "scatter", "mode": "lines", "name": "Actual", "x": [h["month"] for h in history],
         "y": [float(h["amount"]) for h in history], "line": {"color": PALETTE[0]}},
    ]
    if forecast.get("upper") and forecast.get("lower"):
        data += [
            {"type": "scatter", "mode": "lines", "name": "80 % interval (upper)", "x": months,
             "y": forecast["upper"], "line": {"width": 0}, "showlegend": False},
            {"type": "scatter", "mode": "lines", "name": "80 % interval", "x": months, "y": forecast["lower"],
             "fill": "tonexty", "fillcolor": "rgba(91,143,209,0.2)", "line": {"width": 0}},
        ]
    data.append({"type": "scatter", "mode": "lines", "name": "Forecast", "x": months, "y": forecast["total"],
                 "line": {"color": PALETTE[1], "dash": "dash"}})
    jevons = forecast.get("jevons")
    if isinstance(jevons, dict) and jevons.get("total"):
        data.append({"type": "scatter", "mode": "lines", "name": "Jevons scenario", "x": months,
                     "y": jevons["total"], "line": {"color": PALETTE[3], "dash": "dot"}})
    return {"data": data, "layout": _layout("Spend: actual and forecast", y_title=currency)}
