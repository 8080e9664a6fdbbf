"""`{% governance_panel initiative %}`: the governance card of the initiative page, so portfolio views need no
change. A constant number of queries whatever the history or number of reviewers."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse

from governance import selectors
from portfolio.choices import Stage
from tollgate.roles import may

register = template.Library()


@register.inclusion_tag("governance/_initiative_panel.html", takes_context=True)
def governance_panel(context: dict[str, Any], initiative) -> dict[str, Any]:
    user = context["request"].user
    transitions = [
        {"name": t.name, "label": t.label, "style": t.style,
         "url": reverse(f"governance:transition_{t.name}", args=[initiative.pk])}
        for t in selectors.available_transitions(user, initiative)
    ]
    panel = selectors.intake_panel(initiative)
    history = selectors.initiative_history_rows(initiative)
    return {
        "initiative": initiative,
        "transitions": transitions,
        "can_score": initiative.stage == Stage.IN_REVIEW and may(user, "governance.score_initiative", initiative),
        # Withdrawn or sent back: the round's scores no longer count; a resubmission opens the next round.
        "round_closed": initiative.stage in (Stage.PROPOSED, Stage.CHANGES_REQUESTED),
        "panel": panel,
        "history": history,
        "can_view_audit": may(user, "governance.view_audittrail"),
    }
