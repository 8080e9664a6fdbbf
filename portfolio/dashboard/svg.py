"""Charts of the board pack, drawn on the server as SVG with matplotlib (no browser), from the dashboard's values.

The SVG is deterministic (fixed hash salt, no date), so the same data gives the same pack: each chart is drawn once
per distinct data and then read from the cache, as matplotlib takes the best part of a second to draw one.
"""

from __future__ import annotations

import functools
import hashlib
import io
import re
from collections import defaultdict
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path
from typing import Any

from django.core.cache import cache

from portfolio.dashboard.charts import PALETTE

WIDTH, HEIGHT = 7.2, 2.8  # inches: fits an A4 page with margins
CACHE_SECONDS = 24 * 3600  # the key changes with the data; this only bounds how long an unused entry stays
# A chart drawn by other code (a release that changed this module, another matplotlib) is not served from the cache.
_DRAWN_BY = hashlib.sha256(Path(__file__).read_bytes() + version("matplotlib").encode()).hexdigest()[:16]


def drawn_once(draw: Callable[..., str]) -> Callable[..., str]:
    """The chart of these values from the cache, drawn on the first call. The key is a digest of every argument's
    repr (the dashboard's plain rows: dicts, lists, Decimals, strings), so any change of the data draws it anew."""

    @functools.wraps(draw)
    def cached(*args: Any) -> str:
        digest = hashlib.sha256(repr(args).encode()).hexdigest()
        key = f"board-pack-svg:{_DRAWN_BY}:{draw.__name__}:{digest}"
        svg = cache.get(key)
        if svg is None:
            svg = draw(*args)
            cache.set(key, svg, CACHE_SECONDS)
        return svg

    return cached


def _figure(name: str, height: float = HEIGHT) -> Any:
    """A figure whose SVG ids are prefixed by its own salt: several charts inline in one page need distinct ids."""
    from matplotlib import rcParams
    from matplotlib.figure import Figure

    rcParams["svg.hashsalt"] = f"tollgate-board-pack-{name}"
    rcParams["font.family"] = "DejaVu Sans"
    rcParams["font.size"] = 8
    figure = Figure(figsize=(WIDTH, height))
    return figure


def _svg(figure: Any) -> str:
    from matplotlib import rcParams

    salt = rcParams["svg.hashsalt"]
    buffer = io.StringIO()
    figure.tight_layout()
    figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": "Tollgate"})
    text = buffer.getvalue()
    text = text[text.index("<svg"):]  # inline in HTML: drop the XML prolog and doctype
    # matplotlib names glyphs and clip paths the same in every figure; prefix them so the ids stay unique per page.
    prefix = salt.rsplit("-", 1)[-1]
    return re.sub(r'(id="|href="#|url\(#)', rf"\g<1>{prefix}-", text)


def _money_axis(axis: Any, currency: str) -> None:
    from matplotlib.ticker import FuncFormatter

    axis.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    axis.set_ylabel(currency)
    axis.spines[["top", "right"]].set_visible(False)


@drawn_once
def spend_by_category(rows: list[dict[str, Any]], currency: str) -> str:
    months = sorted({r["month"] for r in rows})
    by_label: dict[str, dict[str, float]] = defaultdict(dict)
    for row in rows:
        by_label[row["label"]][row["month"]] = by_label[row["label"]].get(row["month"], 0.0) + float(row["amount"])
    figure = _figure("spend")
    axis = figure.add_subplot()
    bottom = [0.0] * len(months)
    for i, (label, values) in enumerate(sorted(by_label.items())):
        heights = [values.get(m, 0.0) for m in months]
        axis.bar(months, heights, bottom=bottom, label=label, color=PALETTE[i % len(PALETTE)])
        bottom = [b + h for b, h in zip(bottom, heights, strict=True)]
    axis.set_title("AI spend by category and month")
    axis.tick_params(axis="x", labelrotation=45)
    axis.legend(fontsize=7, ncols=4, frameon=False)
    _money_axis(axis, currency)
    return _svg(figure)


@drawn_once
def spend_and_value_by_department(rows: list[dict[str, Any]], currency: str) -> str:
    names = [r["name"] for r in rows]
    positions = list(range(len(names)))
    figure = _figure("departments", max(HEIGHT, 0.28 * len(names) + 1))
    axis = figure.add_subplot()
    axis.barh([p + 0.2 for p in positions], [float(r["spend"] or 0) for r in rows], height=0.4, label="Spend",
              color=PALETTE[0])
    axis.barh([p - 0.2 for p in positions], [float(r["value"] or 0) for r in rows], height=0.4, label="Value",
              color=PALETTE[2])
    axis.set_yticks(positions, names)
    axis.invert_yaxis()
    axis.set_title("Spend and reported value by department")
    axis.legend(fontsize=7, frameon=False)
    from matplotlib.ticker import FuncFormatter

    axis.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    axis.set_xlabel(currency)
    axis.spines[["top", "right"]].set_visible(False)
    return _svg(figure)


@drawn_once
def forecast(forecast: dict[str, Any], currency: str) -> str:
    """The forecast chart of the board pack: see charts.forecast."""
    history = forecast.get("history") or []
    figure = _figure("forecast")
    axis = figure.add_subplot()
    past = [h["month"] for h in history]
    months = forecast["months"]
    axis.plot(past, [float(h["amount"]) for h in history], color=PALETTE[0], label="Actual")
    if forecast.get("lower") and forecast.get("upper"):
        axis.fill_between(months, forecast["lower"], forecast["upper"], color=PALETTE[1], alpha=0.2,
                          label="80 % interval")
    axis.plot(months, forecast["total"], color=PALETTE[1], linestyle="--", label="Forecast")
    jevons = forecast.get("jevons")
    if isinstance(jevons, dict) and jevons.get("total"):
        axis.plot(months, jevons["total"], color=PALETTE[3], linestyle=":", label="Jevons scenario")
    axis.set_title("Spend: actual and forecast")
    ticks = past + months
    axis.set_xticks(range(0, len(ticks), 3), ticks[::3])
    axis.legend(fontsize=7, frameon=False)
    _money_axis(axis, currency)
    return _svg(figure)


@drawn_once
def licence_utilisation(rows: list[dict[str, Any]]) -> str:
    figure = _figure("licences")
    axis = figure.add_subplot()
    axis.bar([r["pool"] for r in rows], [r["utilisation"] or 0 for r in rows], color=PALETTE[1])
    axis.set_ylim(0, 100)
    axis.set_ylabel("% of seats active in 30 days")
    axis.set_title("Licence utilisation by pool")
    axis.tick_params(axis="x", labelrotation=20)
    axis.spines[["top", "right"]].set_visible(False)
    return _svg(figure)
