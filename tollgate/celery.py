"""Celery application; the beat schedule lives here, in one place."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tollgate.settings")

app = Celery("tollgate")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Periodic jobs, one place for all apps. Later issues add ingestion, reminders and signals.
app.conf.beat_schedule = {
    "expire-stale-import-runs": {
        "task": "portfolio.tasks.import_runs_expire_stale",
        "schedule": 60 * 60,
    },
}
