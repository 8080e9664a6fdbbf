from __future__ import annotations

from axes.models import AccessFailureLog

from portfolio.management.commands._prune import PruneCommand


class Command(PruneCommand):
    help = "Reset access failure log records older than given days (the removal is in the audit trail)"
    model = AccessFailureLog
