"""Schedules: which (source, period) reads are due, and queueing them. Run by the beat job every 15 minutes."""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta

from django.utils import timezone

from portfolio.choices import RunStatus, RunTrigger
from portfolio.costs.connectors.base import Period
from portfolio.costs.selectors import cron_due_at, source_uploaded_by_hand
from portfolio.costs.services.runs import ingestion_run_submit
from portfolio.models import (
    CostSource,
    IngestionRun,
)

logger = logging.getLogger(__name__)


def _previous_month(day: date) -> Period:
    last = day.replace(day=1) - timedelta(days=1)
    return Period.month(last.year, last.month)


def due_periods(source: CostSource, *, now: datetime, last_scheduled_at: datetime | None) -> list[Period]:
    """Which periods a source's schedule wants read now.

    daily: the current month once a day (month to date), plus the previous month on the 1st (late charges);
    monthly: the previous month, once; cron: the current month whenever the expression fell due since the last run.
    """
    today = timezone.localdate(now)
    current = Period.month(today.year, today.month)
    schedule = (source.schedule or "daily").strip()
    if schedule == "daily":
        if last_scheduled_at is not None and timezone.localdate(last_scheduled_at) == today:
            return []
        return [_previous_month(today), current] if today.day == 1 else [current]
    if schedule == "monthly":
        previous = _previous_month(today)
        already = source.runs.filter(trigger=RunTrigger.SCHEDULE, period=previous.start).exists()
        return [] if already else [previous]
    due_at = cron_due_at(schedule, after=last_scheduled_at or source.created_at, now=now)
    if due_at is None:
        logger.warning("Source %s has an invalid schedule %r", source.name, schedule)
        return []
    return [current] if due_at <= now else []


def ingestion_sources_run_due(*, now: datetime | None = None) -> list[IngestionRun]:
    """Beat job: queue a run for each enabled source whose schedule is due (file sources need a `path` setting)."""
    now = now or timezone.now()
    runs: list[IngestionRun] = []
    for source in CostSource.objects.filter(enabled=True):
        if source_uploaded_by_hand(source):
            continue  # an export uploaded by hand has no schedule
        if source.runs.filter(status__in=[RunStatus.PENDING, RunStatus.RUNNING]).exists():
            continue
        last = source.runs.filter(trigger=RunTrigger.SCHEDULE).order_by("-created_at").first()
        for period in due_periods(source, now=now, last_scheduled_at=last.created_at if last else None):
            runs.append(ingestion_run_submit(source=source, period=period, trigger=RunTrigger.SCHEDULE))
    return runs
