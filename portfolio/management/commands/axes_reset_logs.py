from __future__ import annotations

from axes.models import AccessLog

from portfolio.management.commands._prune import PruneCommand


class Command(PruneCommand):
    help = "Reset access log records older than given days (the removal is in the audit trail)"
    model = AccessLog
