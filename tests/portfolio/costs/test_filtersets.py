"""One filterset per cost resource: the cost pages and the API select the same rows for the same query string."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from portfolio.choices import RuleMatch, RunStatus, RunTrigger, SourceType
from portfolio.models import IngestionRun
from tests.factories import InitiativeFactory
from tests.page_and_api import assert_page_and_api_agree
from tests.portfolio.costs.factories import AllocationRuleFactory, CostSourceFactory, CurrencyRateFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def cost_data():
    focus = CostSourceFactory(name="Cloud bill", type=SourceType.FOCUS)
    openai = CostSourceFactory(name="OpenAI usage", type=SourceType.OPENAI, enabled=False)
    search = InitiativeFactory(name="Search assistant")
    AllocationRuleFactory(source=focus, value="search-assistant", initiative=search)
    AllocationRuleFactory(source=focus, value="chat-", match=RuleMatch.PREFIX)
    AllocationRuleFactory(source=openai, key="project", value="proj_123")
    IngestionRun.objects.create(source=focus, period=date(2026, 9, 1), status=RunStatus.SUCCEEDED,
                                trigger=RunTrigger.SCHEDULE)
    IngestionRun.objects.create(source=focus, period=date(2026, 10, 1), status=RunStatus.FAILED)
    IngestionRun.objects.create(source=openai, period=date(2026, 9, 1), status=RunStatus.PENDING,
                                trigger=RunTrigger.API)
    CurrencyRateFactory(currency="EUR", valid_from=date(2025, 1, 1), rate_to_reporting=Decimal("1.10"))
    CurrencyRateFactory(currency="EUR", valid_from=date(2026, 1, 1), rate_to_reporting=Decimal("1.08"))
    CurrencyRateFactory(currency="GBP", valid_from=date(2025, 6, 1), rate_to_reporting=Decimal("1.27"))
    return {"focus": focus, "openai": openai, "search": search}


def test_cost_sources(client, api_client, admin_user, cost_data):
    assert_page_and_api_agree(client, api_client, admin_user, "/portfolio/costs/sources/", "/api/cost-sources/", [
        {"q": "cloud"}, {"type": SourceType.OPENAI}, {"type": [SourceType.OPENAI, SourceType.FOCUS]},
        {"enabled": "false"}, {"enabled": "true"}, {"name": "openai usage"},
    ])


def test_allocation_rules(client, api_client, admin_user, cost_data):
    d = cost_data
    assert_page_and_api_agree(client, api_client, admin_user, "/portfolio/costs/rules/", "/api/allocation-rules/", [
        {"q": "search"}, {"source": d["openai"].pk}, {"initiative": d["search"].pk}, {"match": RuleMatch.PREFIX},
    ])


def test_ingestion_runs(client, api_client, admin_user, cost_data):
    d = cost_data
    assert_page_and_api_agree(client, api_client, admin_user, "/portfolio/costs/runs/", "/api/ingestion-runs/", [
        {"source": d["focus"].pk}, {"status": RunStatus.FAILED}, {"status": [RunStatus.FAILED, RunStatus.PENDING]},
        {"trigger": RunTrigger.SCHEDULE}, {"period": "2026-09"}, {"period": "not-a-month"},
    ])


def test_currency_rates(client, api_client, admin_user, cost_data):
    assert_page_and_api_agree(client, api_client, admin_user, "/portfolio/costs/rates/", "/api/currency-rates/", [
        {"currency": "eur"}, {"on": "2025-07-01"}, {"currency": "EUR", "on": "2026-02-01"},
    ])
