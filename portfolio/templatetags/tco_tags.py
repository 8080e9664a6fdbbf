"""`{% initiative_tco_panel initiative %}`: the actual-cost card of the initiative page (monthly chart and table,
last month's and last quarter's TCO), so the page's view needs no change. A constant number of queries."""

from __future__ import annotations

from typing import Any

from django import template

from portfolio import selectors
from portfolio.models import Initiative, reporting_currency

register = template.Library()


@register.inclusion_tag("portfolio/_initiative_tco.html")
def initiative_tco_panel(initiative: Initiative) -> dict[str, Any]:
    return {"initiative": initiative, "panel": selectors.initiative_tco_panel(initiative),
            "currency": reporting_currency()}
