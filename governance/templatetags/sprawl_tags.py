"""`{% sprawl_initiative_panel initiative %}`: the use cases, sprawl clusters and possible duplicates card of the
initiative page, so portfolio views need no change. Possible duplicates load after the page (they run the detection
engine), from governance:initiative_duplicates."""

from __future__ import annotations

from typing import Any

from django import template

from governance.sprawl import selectors as sprawl_selectors
from governance.sprawl.forms import InitiativeUseCasesForm
from portfolio.selectors import read_only_reason
from tollgate.roles import may

register = template.Library()


@register.inclusion_tag("governance/_sprawl_initiative_panel.html", takes_context=True)
def sprawl_initiative_panel(context: dict[str, Any], initiative) -> dict[str, Any]:
    user = context["request"].user
    links = list(sprawl_selectors.initiative_use_cases(initiative))
    # An ended initiative is read-only (the service refuses it): no form to set its use cases.
    can_set = (read_only_reason(initiative) is None
               and may(user, "governance.set_initiative_use_cases", initiative))
    form = None
    if can_set:
        form = InitiativeUseCasesForm(initial={"use_cases": [link.use_case.code for link in links]})
    return {
        "initiative": initiative,
        "links": links,
        "clusters": list(sprawl_selectors.sprawl_clusters_of_initiative(initiative)),
        "can_set": can_set,
        "form": form,
        "csrf_token": context.get("csrf_token"),
    }
