"""Anthropic Admin API connector against a local server serving the documented response shapes."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from portfolio.costs.connectors.anthropic import AnthropicConnector
from portfolio.costs.connectors.base import ConnectorError, CostCategory, CostRow, Period, UsageRow
from tests.portfolio.costs.connectors.conftest import FAST, Reply, fixture_json, paged

KEY = "sk-ant-admin01-SECRETSECRET"
JUNE = Period.month(2025, 6)
COST = "/v1/organizations/cost_report"
USAGE = "/v1/organizations/usage_report/messages"
WORKSPACE = "wrkspc_01JwQvzr7rXLA5AGx3HKfFUJ"


def serve_documented_reports(provider) -> None:
    provider.route(
        COST,
        paged(
            {
                None: fixture_json("anthropic/cost_report_page1.json"),
                "page_MjAyNS0wNi0xNVQwMDowMDowMFo=": fixture_json("anthropic/cost_report_page2.json"),
            }
        ),
    )
    provider.route(USAGE, Reply(fixture_json("anthropic/usage_messages.json")))


def connector(provider, **settings) -> AnthropicConnector:
    return AnthropicConnector(settings={"base_url": provider.url, **FAST, **settings}, credential=KEY)


def test_cost_amounts_are_cents_divided_by_100(provider):
    serve_documented_reports(provider)

    reader = connector(provider)
    costs = [row for row in reader.read(JUNE) if isinstance(row, CostRow)]

    # the July bucket on page 2 is outside June and ignored
    assert [(row.charge_date, row.amount) for row in costs] == [
        (date(2025, 6, 14), Decimal("18.345")),
        (date(2025, 6, 14), Decimal("0.27125")),
        (date(2025, 6, 15), Decimal("10")),
    ]
    assert len(provider.requests_to(COST)) == 2
    assert (reader.rows_read, reader.rows_skipped) == (6, 1)


def test_cost_rows_are_normalised(provider):
    serve_documented_reports(provider)

    rows = list(connector(provider).read(JUNE))
    sonnet_input, sonnet_output, web_search = [row for row in rows if isinstance(row, CostRow)]

    assert sonnet_input.currency == "USD"
    assert sonnet_input.category == CostCategory.INFERENCE
    assert sonnet_input.keys == {"workspace_id": WORKSPACE}
    assert sonnet_input.model == "claude-sonnet-4-20250514"
    assert sonnet_input.description == "Claude Sonnet 4 Usage - Input Tokens"
    assert sonnet_output.keys == {"workspace_id": "default"}  # null workspace: the default workspace
    assert web_search.model == "" and web_search.description == "Web Search Usage"


def test_usage_rows_count_cache_tokens_as_input(provider):
    serve_documented_reports(provider)

    sonnet, haiku = [row for row in connector(provider).read(JUNE) if isinstance(row, UsageRow)]

    assert sonnet.usage_date == date(2025, 6, 14)
    assert sonnet.model == "claude-sonnet-4-20250514"
    assert sonnet.input_tokens == 1500 + 200 + 1000 + 500  # uncached + cache read + both cache writes
    assert (sonnet.output_tokens, sonnet.cached_tokens, sonnet.requests) == (500, 200, 0)
    assert sonnet.keys == {"workspace_id": WORKSPACE, "api_key_id": "apikey_01Rj2N8SVvo6BePZj99NhmiT"}
    assert (haiku.input_tokens, haiku.cached_tokens, haiku.output_tokens) == (300, 0, 40)
    assert haiku.keys == {"workspace_id": "default"}  # Workbench usage: no API key


def test_sends_documented_headers_and_query(provider):
    serve_documented_reports(provider)

    list(connector(provider).read(JUNE))

    first, second = provider.requests_to(COST)
    assert first.headers["x-api-key"] == KEY
    assert first.headers["anthropic-version"] == "2023-06-01"
    assert "authorization" not in first.headers
    assert first.param("starting_at") == "2025-06-01T00:00:00Z"
    assert first.param("ending_at") == "2025-07-01T00:00:00Z"
    assert (first.param("bucket_width"), first.param("limit")) == ("1d", "31")
    assert first.query["group_by[]"] == ["workspace_id", "description"]
    assert first.param("page") is None and second.param("page") == "page_MjAyNS0wNi0xNVQwMDowMDowMFo="
    (usage,) = provider.requests_to(USAGE)
    assert usage.query["group_by[]"] == ["workspace_id", "api_key_id", "model"]
    assert usage.headers["anthropic-version"] == "2023-06-01"


def test_401_names_the_status_not_the_key(provider):
    provider.route(
        COST,
        Reply({"type": "error", "error": {"type": "authentication_error", "message": "invalid x-api-key"}}, status=401),
    )

    with pytest.raises(ConnectorError) as caught:
        list(connector(provider).read(JUNE))

    assert caught.value.transient is False
    assert "HTTP 401" in str(caught.value) and "invalid x-api-key" in str(caught.value)
    assert KEY not in str(caught.value)


def test_429_then_success(provider):
    serve_documented_reports(provider)
    handler = provider.routes[COST][0]
    provider.route(COST, Reply({"type": "error"}, status=429, headers={"Retry-After": "0"}), handler)

    costs = [row for row in connector(provider).read(JUNE) if isinstance(row, CostRow)]

    assert len(costs) == 3


def test_overloaded_529_is_transient_after_max_attempts(provider):
    provider.route(COST, Reply({"type": "error", "error": {"type": "overloaded_error"}}, status=529))

    with pytest.raises(ConnectorError) as caught:
        list(connector(provider, max_attempts=3).read(JUNE))
    assert caught.value.transient is True
    assert len(provider.requests_to(COST)) == 3


def test_repeated_cursor_is_an_error(provider):
    page = fixture_json("anthropic/cost_report_page1.json")
    provider.route(COST, Reply(page))

    with pytest.raises(ConnectorError, match="cursor repeated"):
        list(connector(provider).read(JUNE))


def test_bad_amount_names_the_bucket(provider):
    provider.route(
        COST,
        Reply(
            {
                "data": [
                    {
                        "starting_at": "2025-06-03T00:00:00Z",
                        "ending_at": "2025-06-04T00:00:00Z",
                        "results": [{"amount": "12,50", "currency": "USD"}],
                    }
                ],
                "has_more": False,
                "next_page": None,
            }
        ),
    )

    with pytest.raises(ConnectorError) as caught:
        list(connector(provider).read(JUNE))
    assert caught.value.location == "Anthropic cost bucket 2025-06-03"


def test_an_amount_beyond_its_column_is_too_large(provider):
    bucket = {"starting_at": "2025-06-14T00:00:00Z", "ending_at": "2025-06-15T00:00:00Z",
              "results": [{"amount": "100000000000000.00", "currency": "USD", "workspace_id": None}]}
    provider.route(COST, Reply({"data": [bucket], "has_more": False, "next_page": None}))

    with pytest.raises(ConnectorError) as caught:
        list(connector(provider, usage=False).read(JUNE))
    assert caught.value.location == "Anthropic cost bucket 2025-06-14 amount (in cents)"
    assert "'100000000000000.00' is too large" in caught.value.message
