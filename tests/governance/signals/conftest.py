"""Signal fixtures: a fixed day, an initiative over its business case in the last complete quarter, and the value
report facts as the reviews app would supply them (replaced here, so governance's side is tested on its own)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal

import pytest

from governance import evidence
from governance.signals.rules.facts import ReviewFacts
from portfolio.choices import Stage
from portfolio.costs.services.tco import tco_recompute
from portfolio.models import MonthlyCost
from tests.factories import BusinessCaseFactory, InitiativeFactory

TODAY = date(2026, 12, 3)
Q3 = (date(2026, 7, 1), date(2026, 8, 1), date(2026, 9, 1))


def spend(initiative, monthly: str, months=Q3, category: str = "inference") -> None:
    """Allocated cost roll-ups of the initiative, then its TCO rebuilt (what an ingestion run does)."""
    for month in months:
        MonthlyCost.objects.update_or_create(initiative=initiative, month=month, category=category,
                                             defaults={"amount": Decimal(monthly)})
    tco_recompute()


@pytest.fixture
def today() -> date:
    return TODAY


@pytest.fixture
def over_budget(initiative):
    """The owner's initiative in production: business case TCO 2,450 a month; 6,000 a month of inference records
    in 2026-Q3 (plus the case's oversight and maintenance) puts the quarter far over the case."""
    initiative.stage = Stage.PRODUCTION
    initiative.save(update_fields=["stage"])
    BusinessCaseFactory(initiative=initiative)
    spend(initiative, "6000")
    return initiative


@pytest.fixture
def review_facts(monkeypatch) -> Iterator[dict[int, ReviewFacts]]:
    """What the value reports say, by initiative id: tests fill it in; the computation reads it."""
    facts: dict[int, ReviewFacts] = {}
    monkeypatch.setattr(evidence.providers, "review_facts",
                        lambda *, initiative_ids, reports, today: dict(facts))
    yield facts


@pytest.fixture
def other_production(other_owner):
    initiative = InitiativeFactory(owner=other_owner, stage=Stage.PRODUCTION)
    BusinessCaseFactory(initiative=initiative)
    return initiative
