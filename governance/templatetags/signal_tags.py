"""`{% signals_panel initiative %}`: the initiative page's signals card, so portfolio views need no change (one
query for the signals, one for the permission of an owner who is not a reviewer or executive)."""

from __future__ import annotations

from typing import Any

from django import template

from governance.signals import selectors

register = template.Library()


@register.inclusion_tag("governance/_signals_panel.html", takes_context=True)
def signals_panel(context: dict[str, Any], initiative) -> dict[str, Any]:
    signals = selectors.signals_of_initiative(initiative, user=context["request"].user)
    return {"initiative": initiative, "signals": signals, "live": [s for s in signals if s.is_live]}
