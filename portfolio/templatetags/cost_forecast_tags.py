"""`{% initiative_forecast_panel initiative %}`: the initiative page's spend forecast card, read from the stored
snapshot, so the page's view needs no change."""

from __future__ import annotations

from typing import Any

from django import template

from portfolio.costs import forecast as forecast_selectors
from portfolio.models import CostForecast, Initiative
from tollgate.roles import may

register = template.Library()


@register.inclusion_tag("portfolio/costs/_initiative_forecast.html", takes_context=True)
def initiative_forecast_panel(context: dict[str, Any], initiative: Initiative) -> dict[str, Any]:
    if not may(context["request"].user, "portfolio.view_costforecast"):
        return {"visible": False}
    line = forecast_selectors.initiative_forecast(initiative)
    return {
        "visible": True,
        "initiative": initiative,
        "line": line,
        "quarters": forecast_selectors.initiative_forecast_quarters(line) if line is not None else [],
        "mape_pct": None if line is None or line.backtest_mape is None else line.backtest_mape * 100,
        "method_name": forecast_selectors.method_name(line.method) if line is not None else "",
        "has_snapshot": line is not None or CostForecast.objects.exists(),
    }
