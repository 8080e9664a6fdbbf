"""`python manage.py compute_signals [--json]`: compute the signals as the nightly job does, then list every open and
acknowledged one (operators' scripts and checks read the JSON; its shape is fixed)."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from governance.choices import LIVE_SIGNAL_STATUSES, SignalRunTrigger
from governance.models import Signal
from governance.signals.services import signals_compute_now
from portfolio.choices import RunStatus


def signal_rows() -> list[dict[str, Any]]:
    """Every open and acknowledged signal, most severe and largest saving first."""
    rank = {"high": 0, "medium": 1, "low": 2}
    signals = Signal.objects.filter(status__in=LIVE_SIGNAL_STATUSES).prefetch_related("initiatives")
    rows = [
        {
            "type": signal.type,
            "initiatives": sorted(i.external_id for i in signal.initiatives.all()),
            "period": signal.period,
            "severity": signal.severity,
            "monthly_saving": None if signal.monthly_saving is None else float(signal.monthly_saving),
            "evidence": signal.evidence,
        }
        for signal in signals
    ]
    return sorted(rows, key=lambda r: (rank.get(r["severity"], 3), -(r["monthly_saving"] or 0), r["type"],
                                       r["initiatives"], r["period"]))


class Command(BaseCommand):
    help = "Compute the signals (as the nightly job does) and list the open and acknowledged ones."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--json", action="store_true",
                            help='Print [{"type", "initiatives", "period", "severity", "monthly_saving", "evidence"}]')

    def handle(self, *args, **options) -> None:
        run = signals_compute_now(trigger=SignalRunTrigger.COMMAND)
        if run.status != RunStatus.SUCCEEDED:
            raise CommandError(f"The computation failed: {run.error}")
        rows = signal_rows()
        if options["json"]:
            self.stdout.write(json.dumps(rows))
            return
        self.stdout.write(f"{run.signals_live} open or acknowledged signals ({run.signals_raised} raised, "
                          f"{run.signals_updated} updated, {run.signals_resolved} resolved) in {run.initiatives} "
                          "initiatives.")
        for row in rows:
            saving = "" if row["monthly_saving"] is None else f"{row['monthly_saving']:>12,.2f}"
            self.stdout.write(f"{row['severity']:<7} {row['type']:<21} {row['period']:<8} {saving:>12}  "
                              f"{', '.join(row['initiatives']) or '-'}")
