"""Run the Celery beat schedule in this process: the embedded default's stand-in for `celery beat` + a worker.

`make run` starts it beside the web server when no broker is configured, so reminders, escalations and other
scheduled jobs happen on a laptop too. In production, `celery -A tollgate beat` and workers do this instead.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta

from celery.schedules import schedule as every
from django.core.management.base import BaseCommand
from django.utils import timezone

from tollgate.celery import app


def _as_schedule(value):
    if isinstance(value, int | float):
        return every(timedelta(seconds=value))
    if isinstance(value, timedelta):
        return every(value)
    return value


class Command(BaseCommand):
    help = "Run the periodic jobs of tollgate/celery.py in-process (for the embedded default without a broker)."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Run every scheduled job once and exit.")
        parser.add_argument("--tick", type=float, default=30.0, help="Seconds between schedule checks.")

    def handle(self, *args, once: bool = False, tick: float = 30.0, **options):
        app.loader.import_default_modules()  # autodiscovered task modules load lazily otherwise
        entries = {name: (spec["task"], _as_schedule(spec["schedule"]), spec.get("args", ()), spec.get("kwargs", {}))
                   for name, spec in app.conf.beat_schedule.items()}
        # Behave like a fresh beat: every job runs once at start, then on its schedule.
        last_run: dict[str, datetime] = {}
        while True:
            for name, (task_name, sched, args, kwargs) in entries.items():
                due = name not in last_run or sched.is_due(last_run[name]).is_due
                if not due:
                    continue
                last_run[name] = timezone.now()
                try:
                    result = app.tasks[task_name].apply(args=args, kwargs=kwargs)
                    outcome = "failed" if result.failed() else f"done ({result.result!r})"
                except Exception as exc:  # a failing job must not stop the others
                    outcome = f"failed: {exc}"
                self.stdout.write(f"{timezone.now():%Y-%m-%d %H:%M:%S} {name}: {outcome}")
            if once:
                return
            time.sleep(tick)
