"""What governance does when portfolio reports a change; connected in GovernanceConfig.ready() (portfolio never
imports governance)."""

from __future__ import annotations

from typing import Any

from governance.services import cost_forecast_refresh_on_commit


def cost_forecast_refresh_after_ingestion(sender: Any, **kwargs: Any) -> None:
    """A succeeded ingestion run changed the roll-ups: recompute the spend forecast once the run commits."""
    cost_forecast_refresh_on_commit()
