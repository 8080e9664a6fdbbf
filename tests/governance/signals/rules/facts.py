"""Plain facts for the rule tests (no database)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

from governance.signals.rules.facts import InitiativeFacts, ReportFacts, ReviewFacts

BASE = InitiativeFacts(
    id=7, external_id="INV-0007", name="Claims triage", url="/portfolio/initiatives/7/", stage="production",
    start_date=date(2025, 1, 15), pilot_since=None, owner_name="Olivia Owner", owner_active=True,
    active_delegates=0, case_tco_monthly=Decimal("1000"), declared_monthly_cost=Decimal("800"),
)


def initiative(**changes: Any) -> InitiativeFacts:
    return replace(BASE, **changes)


def report(quarter: str, *, vpd: str | None = "2", met: int = 1, missed: int = 0, value: str = "2000",
           cost: str = "1000") -> ReportFacts:
    return ReportFacts(quarter=quarter, url=f"/reviews/reports/{quarter}/", value=Decimal(value), cost=Decimal(cost),
                       value_per_dollar=None if vpd is None else Decimal(vpd), targets_met=met, targets_missed=missed)


def reviews(*reports: ReportFacts, **changes: Any) -> ReviewFacts:
    return ReviewFacts(reports=tuple(reports), **changes)
