"""What sprawl detection does when another app changes the inventory; connected in GovernanceConfig.ready()."""

from __future__ import annotations

from typing import Any

from governance.choices import SprawlRunTrigger
from governance.sprawl.services.runs import sprawl_run_submit


def sprawl_recompute_after_import(sender: Any, **kwargs: Any) -> None:
    """New or changed initiatives: queue a sprawl recomputation (sent on commit; one at a time)."""
    sprawl_run_submit(actor=None, trigger=SprawlRunTrigger.IMPORT)
