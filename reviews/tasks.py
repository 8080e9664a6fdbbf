"""Celery beat jobs of the reviews app (scheduled in tollgate/celery.py). Thin: each calls one idempotent service,
so a re-run, a missed beat catching up or a redelivered task never opens, reminds or escalates twice."""

from __future__ import annotations

from celery import shared_task

from reviews import services


@shared_task(acks_late=True)
def cycles_open_due() -> str | None:
    """Open the cycle of the quarter just ended, from the first day of the new quarter; the name when opened."""
    cycle = services.review_cycle_open_scheduled()
    return cycle.name if cycle else None


@shared_task(acks_late=True)
def reminders_send() -> int:
    """Remind owners of drafts due soon; returns how many reminders went out."""
    return len(services.reminders_send())


@shared_task(acks_late=True)
def escalations_send() -> int:
    """Escalate long-overdue drafts to department heads and the CoE; returns how many escalations went out."""
    return len(services.escalations_send())
