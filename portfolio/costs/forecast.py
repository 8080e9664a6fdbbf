"""Reads of the spend forecast: the monthly series it is fitted on (in bulk), the forecast built from them, and the
stored snapshot pages show (portfolio.costs.services.forecast.forecast_compute writes it).

Building reads four queries whatever the number of initiatives (latest month, cost roll-ups, token roll-ups, external
ids) and hands numpy matrices to the pure engine (portfolio.costs.forecasting). The yearly price decline of the
Jevons scenario is a governance policy, so it arrives as an argument: portfolio reads no policy.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import numpy as np
from django.db.models import F, Max, Min, Q, QuerySet, Subquery, Sum

from portfolio.calculations import months_label
from portfolio.choices import CostCategory
from portfolio.costs import forecasting
from portfolio.costs.calculations import add_months, cents, month_range
from portfolio.costs.selectors import last_complete_month
from portfolio.models import (
    CostForecast,
    Initiative,
    InitiativeForecast,
    MonthlyCost,
    MonthlyTokenUsage,
    reporting_currency,
)

HISTORY_MONTHS = 36  # older months say little about next year's spend, and the fit stays cheap
DEFAULT_MONTHS = 12  # four quarters: what the snapshot pages show holds
TOKEN_PRICED = (CostCategory.INFERENCE,)
MILLION = 1_000_000
# What the pages, the dashboard and `manage.py forecast` say while cost data exists but no month is complete.
NO_COMPLETE_MONTH = "No forecast yet: it is computed after the first complete month of cost data."


def month_label(month: date) -> str:
    return f"{month:%Y-%m}"


@dataclass(frozen=True)
class ForecastInput:
    """What the forecast is fitted on: complete months `months` (oldest first), one matrix row per initiative."""

    as_of: date  # the latest complete month (the last one fitted); the forecast starts after it
    months: list[date]
    initiative_ids: list[int]
    external_ids: list[str]
    history: forecasting.History
    # The months after it that hold data read so far (not complete: some source still owes them, or still running),
    # left out of the fit, with what was read of them.
    incomplete: list[tuple[date, Decimal]] = field(default_factory=list)


def forecast_input(*, today: date) -> ForecastInput | None:
    """The monthly roll-ups the forecast reads, in bulk; None when there is no cost data or no month is complete yet.

    The fit ends at the latest complete month, the one the cost headline, initiatives and signals read
    (selectors.last_complete_month): a later month holds only what was read of it so far (one source delivered early,
    the others still owe it, or it is still running), so it is left out of the fit and forecast like the months after
    it. With no complete month there is no forecast: a week of the current month projected as a whole one (licence
    charges billed once a month included) would be off by a multiple, and would contradict the health page."""
    bounds = MonthlyCost.objects.aggregate(latest=Max("month"), earliest=Min("month"))
    latest, earliest = bounds["latest"], bounds["earliest"]
    if latest is None or earliest is None:
        return None
    fit_end = last_complete_month(today=today)
    if fit_end is None:
        return None
    first = max(earliest, add_months(fit_end, -(HISTORY_MONTHS - 1)))
    months = month_range(first, fit_end)
    column = {month: i for i, month in enumerate(months)}

    costs = list(
        MonthlyCost.objects.filter(month__gte=first, month__lte=latest).order_by()
        .values_list("initiative_id", "month")
        .annotate(total=Sum("amount"), token_priced=Sum("amount", filter=Q(category__in=TOKEN_PRICED)))
    )
    tokens = list(
        MonthlyTokenUsage.objects.filter(month__gte=first, month__lte=fit_end, initiative__isnull=False).order_by()
        .values_list("initiative_id", "month")
        .annotate(volume=Sum(F("input_tokens") + F("output_tokens")))
    )
    ids = sorted({initiative_id for initiative_id, month, total, _ in costs
                  if initiative_id is not None and month in column and total})
    row = {initiative_id: i for i, initiative_id in enumerate(ids)}
    external = dict(Initiative.objects.filter(pk__in=ids).values_list("pk", "external_id")) if ids else {}

    spend = np.zeros((len(ids), len(months)))
    token_spend = np.zeros_like(spend)
    volume = np.zeros_like(spend)
    unallocated = np.zeros(len(months))
    read_so_far: dict[date, Decimal] = {}
    for initiative_id, month, total, token_priced in costs:
        if month > fit_end:
            read_so_far[month] = read_so_far.get(month, Decimal("0")) + (total or Decimal("0"))
            continue
        if initiative_id is None:
            unallocated[column[month]] += float(total or 0)
        elif initiative_id in row:
            spend[row[initiative_id], column[month]] = float(total or 0)
            token_spend[row[initiative_id], column[month]] = float(token_priced or 0)
    for initiative_id, month, tokens_used in tokens:
        if initiative_id in row:
            volume[row[initiative_id], column[month]] = float(tokens_used or 0)
    return ForecastInput(
        as_of=fit_end, months=months, initiative_ids=ids, external_ids=[external[pk] for pk in ids],
        history=forecasting.History(spend, token_spend, volume, unallocated),
        incomplete=[(month, cents(amount)) for month, amount in sorted(read_so_far.items())],
    )


# Building a forecast ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class InitiativeLine:
    initiative_id: int
    external_id: str
    method: str
    amounts: list[float]
    lower: list[float]
    upper: list[float]
    jevons: list[float]
    last_month: Decimal
    backtest_mape: float | None

    @property
    def next_quarter(self) -> Decimal:
        return _sum(self.amounts[:3])

    @property
    def next_year(self) -> Decimal:
        return _sum(self.amounts[:12])

    @property
    def next_year_jevons(self) -> Decimal:
        return _sum(self.jevons[:12])


@dataclass(frozen=True)
class ForecastResult:
    """A built forecast: `payload` (what the command prints and the page draws, per-initiative series aside) and a
    line per initiative; `digest` identifies the result, so storing the same one twice writes nothing."""

    as_of: date
    months: int
    price_decline_pct: Decimal
    payload: dict[str, Any]
    lines: list[InitiativeLine] = field(default_factory=list)

    @property
    def backtest_mape(self) -> float | None:
        return self.payload["backtest_mape"]

    @property
    def digest(self) -> str:
        lines = [[line.initiative_id, line.method, line.amounts, line.lower, line.upper, line.jevons,
                  str(line.last_month), line.backtest_mape] for line in self.lines]
        text = json.dumps({"payload": self.payload, "lines": lines}, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()


def _money(value: float) -> Decimal:
    return cents(Decimal(repr(float(value))))


def _money_list(values: np.ndarray) -> list[Decimal]:
    return [_money(v) for v in values]


def _floats(values: list[Decimal]) -> list[float]:
    return [float(v) for v in values]


def _sum(values: list[float]) -> Decimal:
    return sum((Decimal(repr(v)) for v in values), Decimal("0"))


def _ratio(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def forecast_build(*, price_decline_pct: Decimal | float, months: int = DEFAULT_MONTHS, today: date
                   ) -> ForecastResult | None:
    """The forecast of the next `months` months after the latest complete month, with its backtest and the
    Jevons scenario at `price_decline_pct` a year; None when there is no cost data or no complete month yet
    (forecast_input). Reads, computes, writes nothing.

    Money is rounded to the cent per initiative and unallocated first; the total is the sum of those rounded figures,
    so the printed total is exactly the sum of its parts."""
    data = forecast_input(today=today)
    if data is None:
        return None
    decline = float(price_decline_pct)
    result = forecasting.forecast_spend(data.history, horizon=months, price_decline_pct=decline)
    test = forecasting.backtest(data.history, price_decline_pct=decline)
    shown = slice(0, months)
    first = add_months(data.as_of, 1)
    labels = [month_label(add_months(first, i)) for i in range(months)]

    lines = []
    initiative_totals = [Decimal("0")] * months
    initiative_jevons = [Decimal("0")] * months
    last_actual = data.history.spend[:, -1] if data.history.months else np.zeros(len(data.initiative_ids))
    for i, initiative_id in enumerate(data.initiative_ids):
        amounts = _money_list(result.initiatives.point[i, shown])
        jevons = _money_list(result.initiative_jevons[i, shown])
        initiative_totals = [a + b for a, b in zip(initiative_totals, amounts, strict=True)]
        initiative_jevons = [a + b for a, b in zip(initiative_jevons, jevons, strict=True)]
        lines.append(InitiativeLine(
            initiative_id=initiative_id, external_id=data.external_ids[i], method=str(result.methods[i]),
            amounts=_floats(amounts), lower=_floats(_money_list(result.initiatives.lower[i, shown])),
            upper=_floats(_money_list(result.initiatives.upper[i, shown])), jevons=_floats(jevons),
            last_month=_money(last_actual[i]), backtest_mape=_ratio(test.initiatives[i]) if test else None,
        ))
    unallocated = _money_list(result.unallocated.point[shown])
    total = [a + b for a, b in zip(initiative_totals, unallocated, strict=True)]
    lower = [min(_money(v), t) for v, t in zip(result.total.lower[shown], total, strict=True)]
    upper = [max(_money(v), t) for v, t in zip(result.total.upper[shown], total, strict=True)]
    jevons_total = [a + b for a, b in zip(initiative_jevons, unallocated, strict=True)]

    tokens = result.tokens[shown]
    with np.errstate(divide="ignore", invalid="ignore"):
        observed_unit = np.where(tokens > 0, result.token_spend[shown] / tokens * MILLION, np.nan)
        jevons_unit = np.where(tokens > 0, result.token_spend_jevons[shown] / tokens * MILLION, np.nan)
    history = data.history
    volume_rows = forecasting.has_volume_path(history.token_spend, history.tokens)
    last_tokens = float(history.tokens[volume_rows, -1].sum()) if history.months else 0.0
    last_unit = (float(history.token_spend[volume_rows, -1].sum()) / last_tokens * MILLION) if last_tokens else None
    method_counts: dict[str, int] = {}
    for method in result.methods:
        method_counts[str(method)] = method_counts.get(str(method), 0) + 1

    payload: dict[str, Any] = {
        "currency": reporting_currency(),
        "as_of": month_label(data.as_of),
        "months": labels,
        "total": _floats(total),
        "lower": _floats(lower),
        "upper": _floats(upper),
        "unallocated": _floats(unallocated),
        "unallocated_lower": _floats(_money_list(result.unallocated.lower[shown])),
        "unallocated_upper": _floats(_money_list(result.unallocated.upper[shown])),
        "backtest_mape": _ratio(test.total) if test else None,
        "jevons": {
            "price_decline_pct": float(decline),
            "total": _floats(jevons_total),
            "tokens": [round(float(v)) for v in tokens],
            "token_spend": _floats(_money_list(result.token_spend_jevons[shown])),
            "token_spend_observed_trend": _floats(_money_list(result.token_spend[shown])),
            "unit_cost_per_million_tokens": [_unit(v) for v in jevons_unit],
            "unit_cost_per_million_tokens_observed_trend": [_unit(v) for v in observed_unit],
            "unit_cost_per_million_tokens_last_month": _unit(last_unit),
        },
        "backtest": _backtest_payload(test, data.months),
        "history": {
            "months": [month_label(m) for m in data.months],
            "total": _floats(_money_list(history.total)),
            "unallocated": _floats(_money_list(history.unallocated)),
        },
        "incomplete_months": [{"month": month_label(month), "amount_so_far": float(amount)}
                              for month, amount in data.incomplete],
        "method": {
            "initiatives": dict(sorted(method_counts.items())),
            "unallocated": str(result.unallocated_method),
            "total": str(forecasting.Method.BOTTOM_UP),
            "labels": {str(key): label for key, label in forecasting.METHOD_LABELS.items()},
        },
    }
    return ForecastResult(as_of=data.as_of, months=months, price_decline_pct=Decimal(str(price_decline_pct)),
                          payload=payload, lines=lines)


def _unit(value: float | None) -> float | None:
    """Unit cost per million tokens, to six decimals (cheap models cost fractions of a cent per million)."""
    if value is None or not np.isfinite(value):
        return None
    return round(float(value), 6)


def _backtest_payload(test: forecasting.Backtest | None, months: list[date]) -> dict[str, Any] | None:
    if test is None:
        return None
    window = months[-test.months:]
    return {
        "as_of": month_label(add_months(window[0], -1)),
        "months": [month_label(m) for m in window],
        "total_forecast": _floats(_money_list(test.total_forecast)),
        "total_actual": _floats(_money_list(test.total_actual)),
        "mape": _ratio(test.total),
    }


# The stored snapshot ----------------------------------------------------------------------------------------------


def has_cost_data() -> bool:
    """Whether any month has been read: without it there is nothing to forecast, with it and no forecast stored, no
    month is complete yet (forecast_input)."""
    return MonthlyCost.objects.exists()


def cost_forecast_latest() -> CostForecast | None:
    """The snapshot pages show: the one as of the latest month."""
    return CostForecast.objects.order_by("-as_of").first()


def forecast_lines(forecast: CostForecast) -> QuerySet[InitiativeForecast]:
    """The initiatives of a snapshot, for the sortable table and its CSV."""
    return forecast.initiative_forecasts.select_related("initiative", "initiative__department").order_by(
        "-next_quarter", "initiative__external_id")


def initiative_forecast(initiative: Initiative) -> InitiativeForecast | None:
    """An initiative's line in the latest snapshot, with its snapshot (one query)."""
    latest = CostForecast.objects.order_by("-as_of").values("pk")[:1]
    return (InitiativeForecast.objects.filter(initiative=initiative, forecast=Subquery(latest))
            .select_related("forecast").first())


MONTHLY_KEYS = ("months", "total", "lower", "upper", "unallocated", "unallocated_lower", "unallocated_upper")
MONTHLY_JEVONS_KEYS = ("total", "tokens", "token_spend", "token_spend_observed_trend", "unit_cost_per_million_tokens",
                       "unit_cost_per_million_tokens_observed_trend")


def cost_forecast_as_json(forecast: CostForecast, *, months: int | None = None) -> dict[str, Any]:
    """What `forecast --json` prints: the payload (without the chart's history) and each initiative's months by
    external id, cut to the first `months` months; one query for the initiatives."""
    cut = slice(0, months)
    output = {key: value for key, value in forecast.payload.items() if key != "history"}
    for key in MONTHLY_KEYS:
        output[key] = output[key][cut]
    output["jevons"] = {key: value[cut] if key in MONTHLY_JEVONS_KEYS else value
                        for key, value in output["jevons"].items()}
    lines = forecast.initiative_forecasts.order_by("initiative__external_id").values_list(
        "initiative__external_id", "amounts", "backtest_mape")
    output["initiatives"] = {}
    output["backtest_mape_by_initiative"] = {}
    for external_id, amounts, error in lines:
        output["initiatives"][external_id] = amounts[cut]
        output["backtest_mape_by_initiative"][external_id] = None if error is None else float(error)
    return output


def forecast_figure(forecast: CostForecast) -> dict[str, Any]:
    """Plotly figure (JSON-ready) of the actual history, the forecast with its 80% band, the Jevons scenario and the
    backtest's forecast of the last three months."""
    payload = forecast.payload
    history = payload.get("history") or {}
    months, total = payload["months"], payload["total"]
    # The forecast lines start at the last actual month, so they join the history instead of floating beside it.
    joint_x = history.get("months", [])[-1:] + months
    joint = history.get("total", [])[-1:]
    decline = payload["jevons"]["price_decline_pct"]
    data: list[dict[str, Any]] = [
        {"type": "scatter", "mode": "lines", "name": "80% band", "x": joint_x + joint_x[::-1],
         "y": joint + payload["upper"] + (joint + payload["lower"])[::-1], "fill": "toself",
         "fillcolor": "rgba(43,76,126,0.15)", "line": {"width": 0}, "hoverinfo": "skip"},
        {"type": "scatter", "mode": "lines+markers", "name": "Actual", "x": history.get("months", []),
         "y": history.get("total", []), "line": {"color": "#1f2a37"}},
        {"type": "scatter", "mode": "lines+markers", "name": "Forecast", "x": joint_x, "y": joint + total,
         "line": {"color": "#2b4c7e"}},
        {"type": "scatter", "mode": "lines", "name": f"Jevons: unit price -{decline:g}%/year",
         "x": joint_x, "y": joint + payload["jevons"]["total"], "line": {"color": "#b45309", "dash": "dash"}},
    ]
    backtest = payload.get("backtest")
    if backtest:
        data.append({"type": "scatter", "mode": "lines+markers", "name": f"Backtest (as of {backtest['as_of']})",
                     "x": backtest["months"], "y": backtest["total_forecast"],
                     "line": {"color": "#7c3aed", "dash": "dot"}})
    return {
        "data": data,
        "layout": {
            "title": {"text": f"AI spend per month, actual and forecast ({payload['currency']})"},
            "height": 360,
            "margin": {"l": 70, "r": 20, "t": 40, "b": 40},
            "yaxis": {"title": {"text": f"{payload['currency']} / month"}, "tickformat": ",.0f", "rangemode": "tozero"},
            "legend": {"orientation": "h"},
            "paper_bgcolor": "rgba(0,0,0,0)",
            "plot_bgcolor": "rgba(0,0,0,0)",
        },
    }


def forecast_summary(forecast: CostForecast) -> dict[str, Any]:
    """The headline figures: the next quarter and twelve months in total, unallocated and under the Jevons scenario,
    the last actual month and the backtest's error."""
    payload = forecast.payload
    history = payload.get("history") or {}
    months = payload["months"]
    backtest = payload.get("backtest")
    backtest_rows = [] if not backtest else [
        {"month": month, "forecast": predicted, "actual": actual,
         "error_pct": None if not actual else abs(predicted - actual) / abs(actual) * 100}
        for month, predicted, actual in zip(backtest["months"], backtest["total_forecast"], backtest["total_actual"],
                                            strict=True)
    ]
    return {
        "next_quarter": _sum(payload["total"][:3]),
        "next_quarter_label": months_label(months[:3]),
        "next_year": _sum(payload["total"][:12]),
        "next_year_lower": _sum(payload["lower"][:12]),
        "next_year_upper": _sum(payload["upper"][:12]),
        "unallocated_next_year": _sum(payload["unallocated"][:12]),
        "jevons_next_year": _sum(payload["jevons"]["total"][:12]),
        "last_month": history.get("months", [None])[-1],
        "last_month_total": _sum(history.get("total", [])[-1:]),
        "months_ahead": min(12, len(payload["months"])),
        "backtest_mape_pct": None if forecast.backtest_mape is None else forecast.backtest_mape * 100,
        "backtest": backtest,
        "backtest_rows": backtest_rows,
        "method_counts": [(method_name(method), count)
                          for method, count in (payload.get("method") or {}).get("initiatives", {}).items()],
        # Snapshots stored before incomplete months were listed name the running month alone.
        "incomplete_months": payload.get("incomplete_months") or [
            month for month in [payload.get("partial_month")] if month],
    }


def forecast_month_rows(forecast: CostForecast) -> list[dict[str, Any]]:
    """The numbers per month, for the page's table (people who would rather read than look at a chart)."""
    payload = forecast.payload
    jevons = payload["jevons"]
    return [
        {"month": month, "total": payload["total"][i], "lower": payload["lower"][i], "upper": payload["upper"][i],
         "unallocated": payload["unallocated"][i], "jevons": jevons["total"][i], "tokens": jevons["tokens"][i],
         "unit_cost": jevons["unit_cost_per_million_tokens_observed_trend"][i],
         "unit_cost_jevons": jevons["unit_cost_per_million_tokens"][i]}
        for i, month in enumerate(payload["months"])
    ]


def method_name(method: str) -> str:
    return forecasting.METHOD_NAMES.get(method, method)


def initiative_forecast_quarters(line: InitiativeForecast) -> list[dict[str, Any]]:
    """An initiative's forecast by quarter of the horizon (Q+1 .. Q+4), for its page."""
    months = line.forecast.payload.get("months", [])
    quarters = []
    for start in range(0, len(line.amounts), 3):
        chunk = slice(start, start + 3)
        quarters.append({
            "label": months_label(months[chunk]) if months else str(start // 3 + 1),
            "amount": _sum(line.amounts[chunk]), "jevons": _sum(line.jevons[chunk]),
        })
    return quarters

