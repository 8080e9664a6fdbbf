"""What other apps tell portfolio, registered at start-up so portfolio imports none of them.

An initiative's total cost of ownership counts human oversight at the hours its owner reports in value reports (the
reviews app) x the business case's loaded hourly rate. `reviews.apps.ReviewsConfig.ready()` registers the provider;
without it the business case's estimate is used.

A KPI that submitted value reports measured (the reviews app) is kept, so that those reports keep their figures:
`kpis_in_reports` names, for KPI ids, the reports that measured each.

The period of an initiative's first submitted value report (the reviews app) bounds how late its start date may move
once it has left the intake (`first_reported_period`).

How many days a cost source may be behind its schedule before it is late is a governance policy
(`ingestion.grace_days`), registered by `governance.apps.GovernanceConfig.ready()`; without it, the policy's default.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Protocol


class ReportedOversight(Protocol):
    def __call__(
        self, *, initiative_ids: Iterable[int] | None, months: Iterable[date]
    ) -> dict[tuple[int, date], Decimal]: ...


class KpisInReports(Protocol):
    def __call__(self, *, kpi_ids: Iterable[int]) -> dict[int, list[str]]: ...


class FirstReportedPeriod(Protocol):
    def __call__(self, *, initiative_id: int) -> tuple[date, str] | None: ...


class IngestionGraceDays(Protocol):
    def __call__(self) -> int: ...


DEFAULT_INGESTION_GRACE_DAYS = 3  # the policy's declared default, for portfolio without governance


@dataclass
class Providers:
    reported_oversight: ReportedOversight | None = None
    kpis_in_reports: KpisInReports | None = None
    ingestion_grace_days: IngestionGraceDays | None = None
    first_reported_period: FirstReportedPeriod | None = None


providers = Providers()


def register_reported_oversight(provider: ReportedOversight) -> None:
    """`provider(initiative_ids=..., months=...)` maps (initiative id, first day of month) to the oversight hours
    reported for that month (a report's hours spread evenly over its period's months)."""
    providers.reported_oversight = provider


def reported_oversight(
    *, initiative_ids: Iterable[int] | None, months: Iterable[date]
) -> dict[tuple[int, date], Decimal]:
    provider = providers.reported_oversight
    return provider(initiative_ids=initiative_ids, months=months) if provider else {}


def register_kpis_in_reports(provider: KpisInReports) -> None:
    """`provider(kpi_ids=...)` maps each KPI id that a submitted value report measured to those reports' names."""
    providers.kpis_in_reports = provider


def kpis_in_reports(*, kpi_ids: Iterable[int]) -> dict[int, list[str]]:
    provider = providers.kpis_in_reports
    return provider(kpi_ids=kpi_ids) if provider else {}


def register_ingestion_grace_days(provider: IngestionGraceDays) -> None:
    """`provider()` is the number of days a source's read may be overdue before the source is late."""
    providers.ingestion_grace_days = provider


def ingestion_grace_days() -> int:
    provider = providers.ingestion_grace_days
    return provider() if provider else DEFAULT_INGESTION_GRACE_DAYS


def register_first_reported_period(provider: FirstReportedPeriod) -> None:
    """`provider(initiative_id=...)` is the first day of the period of the initiative's earliest submitted value report
    and the report's cycle name, or None: a running initiative's start date may not move past it."""
    providers.first_reported_period = provider


def first_reported_period(*, initiative_id: int) -> tuple[date, str] | None:
    provider = providers.first_reported_period
    return provider(initiative_id=initiative_id) if provider else None
