"""Celery application; the beat schedule lives here, in one place."""

import os
from contextvars import Token
from datetime import tzinfo
from typing import Any

from celery import Celery, signals
from celery.schedules import crontab
from django.utils import timezone

from tollgate.request_id import current_request_id, request_id_bind, request_id_unbind

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tollgate.settings")

app = Celery("tollgate")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Sub-packages of the apps hold the tasks of their domain (costs, sprawl); Celery only looks in <app>.tasks itself.
app.autodiscover_tasks(["portfolio.costs", "governance.sprawl", "governance.signals"])

# A task's log lines carry its task id as their request id; a task run in-process inside a request (no broker) keeps
# the request's.
_task_request_ids: dict[str, Token[str | None]] = {}


@signals.task_prerun.connect
def _bind_task_id(task_id: str | None = None, **kwargs: Any) -> None:
    if task_id and current_request_id() is None:
        _task_request_ids[task_id] = request_id_bind(task_id)


@signals.task_postrun.connect
def _unbind_task_id(task_id: str | None = None, **kwargs: Any) -> None:
    token = _task_request_ids.pop(task_id, None) if task_id else None
    if token is not None:
        request_id_unbind(token)


# A job computes in the server's TIME_ZONE (its "today", its months) wherever it runs: on a worker, or in-process
# inside the request of someone whose pages show their own time zone (tollgate/time_zones.py).
_task_zones: dict[str, tzinfo] = {}


@signals.task_prerun.connect
def _server_time_zone(task_id: str | None = None, **kwargs: Any) -> None:
    if task_id and timezone.get_current_timezone_name() != timezone.get_default_timezone_name():
        _task_zones[task_id] = timezone.get_current_timezone()
        timezone.deactivate()


@signals.task_postrun.connect
def _caller_time_zone(task_id: str | None = None, **kwargs: Any) -> None:
    zone = _task_zones.pop(task_id, None) if task_id else None
    if zone is not None:
        timezone.activate(zone)


# How often runs are checked for a lost message or worker (tollgate/jobs.py): a run whose worker died is failed, and
# whatever waited for it (a source's schedule, the next recomputation) goes on, within this many seconds.
RUN_EXPIRY_EVERY = 60

# Periodic jobs, one place for all apps.
app.conf.beat_schedule = {
    "expire-stale-import-runs": {
        "task": "portfolio.tasks.import_runs_expire_stale",
        "schedule": RUN_EXPIRY_EVERY,
    },
    # Reviews: daily and idempotent (a cycle, a reminder or an escalation is never sent twice).
    "reviews-open-due-cycles": {"task": "reviews.tasks.cycles_open_due", "schedule": crontab(hour=5, minute=0)},
    "reviews-send-reminders": {"task": "reviews.tasks.reminders_send", "schedule": crontab(hour=7, minute=0)},
    "reviews-send-escalations": {"task": "reviews.tasks.escalations_send", "schedule": crontab(hour=7, minute=30)},
    # The daily digest of notifications, for those who chose it: every hour, to those whose chosen hour has come
    # (idempotent: each digest lists what came after the last one, and is sent once a day).
    "reviews-send-notification-digests": {"task": "reviews.tasks.notification_digests_send",
                                          "schedule": crontab(minute=15)},
    # API tokens past their lifetime (they already stopped working) leave the database, each in the audit trail.
    "remove-expired-api-tokens": {"task": "portfolio.tasks.api_tokens_expired_remove",
                                  "schedule": crontab(hour=4, minute=15)},
    # People whose named API token stops working within a week are told once (in the app, and by e-mail as they chose).
    "notify-expiring-api-tokens": {"task": "governance.tasks.api_tokens_expiring_notify_task",
                                   "schedule": crontab(hour=6, minute=45)},
    # Ingestion: every 15 minutes, queue the sources whose own schedule (daily / monthly / cron) is due.
    "ingestion-run-due-sources": {"task": "portfolio.costs.tasks.ingestion_sources_run_due", "schedule": 15 * 60},
    "ingestion-expire-stale-runs": {"task": "portfolio.costs.tasks.ingestion_runs_expire_stale",
                                    "schedule": RUN_EXPIRY_EVERY},
    # Cost sources behind their schedule (late, or missing a month): administrators are told once per source and month.
    "ingestion-stale-sources-nightly": {"task": "governance.tasks.stale_sources_notify_task",
                                        "schedule": crontab(hour=6, minute=30)},
    # Sprawl detection: recompute clusters and suggested use cases nightly (idempotent; imports also queue a run).
    "sprawl-recompute-nightly": {"task": "governance.sprawl.tasks.sprawl_recompute_nightly",
                                 "schedule": crontab(hour=2, minute=30)},
    "sprawl-expire-stale-runs": {"task": "governance.sprawl.tasks.sprawl_runs_expire_stale",
                                 "schedule": RUN_EXPIRY_EVERY},
    # Spend forecast: recomputed after every ingestion run, and nightly (rule and rate changes re-roll months too).
    "cost-forecast-nightly": {"task": "governance.tasks.cost_forecast_refresh_task",
                              "schedule": crontab(hour=3, minute=0)},
    # Signals: recompute nightly after sprawl (idempotent; ingestion runs and value reports also queue a run).
    "signals-compute-nightly": {"task": "governance.signals.tasks.signals_compute_nightly",
                                "schedule": crontab(hour=3, minute=30)},
    "signals-expire-stale-runs": {"task": "governance.signals.tasks.signal_runs_expire_stale",
                                  "schedule": RUN_EXPIRY_EVERY},
}
