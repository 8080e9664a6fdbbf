"""Pages whose rows carry cost figures read the cost periods once per request and hand them to selector and table."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest

from portfolio.costs.selectors import CostPeriods, cost_periods


class CostPeriodsMixin:
    """The last complete month and quarter (one query), for the selector (`periods=`), the table's headers and the
    page's caption."""

    request: HttpRequest

    @cached_property
    def cost_periods(self) -> CostPeriods:
        return cost_periods()

    def get_queryset(self) -> QuerySet:
        return self.list_selector(user=self.request.user, periods=self.cost_periods)  # type: ignore[attr-defined]

    def get_table_kwargs(self) -> dict[str, Any]:
        return {**super().get_table_kwargs(), "periods": self.cost_periods}  # type: ignore[misc]

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)  # type: ignore[misc]
        context["cost_periods"] = self.cost_periods
        return context
