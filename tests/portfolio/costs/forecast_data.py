"""Monthly roll-ups written directly, for the forecast's tests: the forecast reads only roll-ups, never records."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from portfolio.choices import CostCategory
from portfolio.costs.forecast import add_months
from portfolio.models import Initiative, MonthlyCost, MonthlyTokenUsage

LATEST = date(2026, 8, 1)  # the latest month with data in these tests; the forecast starts in 2026-09
TODAY = date(2026, 10, 15)  # well after it: no month is still running


def months_to(latest: date, count: int) -> list[date]:
    return [add_months(latest, k - count + 1) for k in range(count)]


def spend(initiative: Initiative | None, amounts: Iterable[float], *, latest: date = LATEST,
          category: str = CostCategory.COMPUTE) -> None:
    """One roll-up per month ending at `latest` (None: unallocated spend)."""
    amounts = list(amounts)
    MonthlyCost.objects.bulk_create(
        MonthlyCost(initiative=initiative, month=month, category=category, amount=Decimal(str(round(amount, 2))))
        for month, amount in zip(months_to(latest, len(amounts)), amounts, strict=True)
    )


def tokens(initiative: Initiative, volumes: Iterable[float], *, latest: date = LATEST, model: str = "gpt-4o") -> None:
    volumes = list(volumes)
    MonthlyTokenUsage.objects.bulk_create(
        MonthlyTokenUsage(initiative=initiative, month=month, model=model, input_tokens=int(v * 0.75),
                          output_tokens=int(v) - int(v * 0.75))
        for month, v in zip(months_to(latest, len(volumes)), volumes, strict=True)
    )
