"""What governance does when portfolio reports a change; connected in GovernanceConfig.ready() (portfolio never
imports governance)."""

from __future__ import annotations

from typing import Any

from governance import evidence
from governance.services import cost_forecast_refresh_on_commit


def cost_forecast_refresh_after_ingestion(sender: Any, **kwargs: Any) -> None:
    """A succeeded ingestion run changed the roll-ups: recompute the spend forecast once the run commits."""
    cost_forecast_refresh_on_commit()


def hand_over_notify(sender: Any, *, actor: Any, from_user: Any, to_user: Any, initiatives: list,
                     **kwargs: Any) -> None:
    """Initiatives changed owner in a hand-over: the new owner learns what is now theirs, and the previous owner where
    it went, one notice per initiative with its link (gathered into one e-mail each, sent on commit). Whoever did it
    is not told what they just did."""
    by = (actor.get_full_name() or actor.get_username()) if actor is not None else "Tollgate"
    to_name = to_user.get_full_name() or to_user.get_username()
    from_name = from_user.get_full_name() or from_user.get_username()
    notices = []
    for initiative in initiatives:
        url = initiative.get_absolute_url()
        stage = f" ({initiative.get_stage_display().lower()})"
        if actor is None or to_user.pk != actor.pk:
            notices.append(evidence.Notice(
                user_id=to_user.pk, email=to_user.email, url=url,
                message=f"You now own {initiative}{stage}: handed over from {from_name} by {by}."))
        if from_user.is_active and (actor is None or from_user.pk != actor.pk):
            notices.append(evidence.Notice(
                user_id=from_user.pk, email=from_user.email, url=url,
                message=f"{initiative}{stage} now belongs to {to_name}: handed over by {by}."))
    evidence.notify(notices=notices, subject=f"Tollgate: initiatives handed over from {from_name} to {to_name}")
