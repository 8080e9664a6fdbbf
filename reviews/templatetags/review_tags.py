"""`{% value_reports_panel initiative %}`: the initiative page's value-report track record, so portfolio (which the
reviews app depends on) needs no change but the tag. A fixed number of queries however many reports."""

from __future__ import annotations

from typing import Any

from django import template

from reviews import selectors

register = template.Library()


@register.inclusion_tag("reviews/_initiative_reports.html", takes_context=True)
def value_reports_panel(context: dict[str, Any], initiative: Any) -> dict[str, Any]:
    return {"initiative": initiative, "rows": selectors.initiative_reports(initiative, user=context["request"].user)}
