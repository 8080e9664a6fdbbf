"""Celery beat jobs of the reviews app (scheduled in tollgate/celery.py). Thin: each calls one idempotent service,
so a re-run, a missed beat catching up or a redelivered task never opens, reminds or escalates twice."""

from __future__ import annotations

from reviews import services
from tollgate.jobs import job_task


@job_task()
def cycles_open_due() -> str | None:
    """Open the cycle of the quarter just ended, from the first day of the new quarter; the name when opened."""
    cycle = services.review_cycle_open_scheduled()
    return cycle.name if cycle else None


@job_task()
def reminders_send() -> int:
    """Remind owners of drafts due soon; returns how many reminders went out."""
    return len(services.reminders_send())


@job_task()
def notification_digests_send() -> int:
    """Every hour: the daily digest of notifications, to those who chose it and whose hour has come; returns how many
    e-mails went out."""
    return len(services.notification_digests_send())


@job_task()
def escalations_send() -> int:
    """Escalate long-overdue drafts to department heads and the CoE; returns how many escalations went out."""
    return len(services.escalations_send())
