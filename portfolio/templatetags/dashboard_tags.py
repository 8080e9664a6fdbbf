"""The initiative page's line for a reader who came from the dashboard: the quarter they were looking at."""

from __future__ import annotations

from typing import Any

from django import template

from portfolio.calculations import Quarter
from portfolio.dashboard.selectors import initiative_quarter, quarter_not_begun
from portfolio.models import Initiative

register = template.Library()


@register.inclusion_tag("portfolio/_dashboard_quarter.html", takes_context=True)
def initiative_dashboard_quarter(context: dict[str, Any], initiative: Initiative) -> dict[str, Any]:
    """With ?quarter=YYYY-Qn (the dashboard's drill-down), that quarter's cost and reported value and the way back;
    nothing for a quarter the dashboard refuses (not YYYY-Qn, or not begun: its way back would answer 400)."""
    request = context.get("request")
    try:
        quarter = Quarter.parse(request.GET.get("quarter", "")) if request is not None else None
    except ValueError:
        quarter = None
    if quarter is not None and quarter_not_begun(quarter):
        quarter = None
    return {"figures": initiative_quarter(initiative, quarter) if quarter else None}
