"""What the signals do when portfolio's data changes; connected in GovernanceConfig.ready() (portfolio cannot
import governance, so it sends Django signals instead)."""

from __future__ import annotations

from typing import Any

from governance.choices import SignalRunTrigger
from governance.signals.services import signal_run_submit


def signals_compute_after_ingestion(sender: Any, **kwargs: Any) -> None:
    """A successful ingestion run changed costs, tokens or seats: queue a computation (sent on commit)."""
    signal_run_submit(actor=None, trigger=SignalRunTrigger.INGESTION)


def signals_compute_after_owners_change(sender: Any, **kwargs: Any) -> None:
    """Initiatives were handed over, or their owner left or came back: the "no active owner" signal is computed again
    now rather than at the nightly run (sent on commit)."""
    signal_run_submit(actor=None, trigger=SignalRunTrigger.PEOPLE)
