"""OpenAI Costs and Usage connector against a local server serving the documented response shapes."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from portfolio.costs.connectors.base import ConnectorError, CostCategory, CostRow, Period, UsageRow
from portfolio.costs.connectors.openai import OpenAIConnector, model_from_line_item
from tests.portfolio.costs.connectors.conftest import FAST, Reply, fixture_json, paged

KEY = "sk-admin-abc123SECRET"
JUNE = Period.month(2025, 6)
COSTS = "/v1/organization/costs"
COMPLETIONS = "/v1/organization/usage/completions"


def serve_documented_pages(provider) -> None:
    provider.route(
        COSTS,
        paged(
            {
                None: fixture_json("openai/costs_page1.json"),
                "page_AAAAAGdGxdEiJdKOAAAAAGcqsYA=": fixture_json("openai/costs_page2.json"),
            }
        ),
    )
    provider.route(
        COMPLETIONS,
        paged(
            {
                None: fixture_json("openai/usage_completions_page1.json"),
                "page_usage_2": fixture_json("openai/usage_completions_page2.json"),
            }
        ),
    )


def connector(provider, **settings) -> OpenAIConnector:
    return OpenAIConnector(settings={"base_url": provider.url, **FAST, **settings}, credential=KEY)


def test_reads_every_page_of_costs_and_usage(provider):
    serve_documented_pages(provider)

    reader = connector(provider)
    rows = list(reader.read(JUNE))

    costs = [row for row in rows if isinstance(row, CostRow)]
    usage = [row for row in rows if isinstance(row, UsageRow)]
    # May 31 and July 1 buckets lie outside June and are ignored; both pages of each endpoint are read
    assert [(row.charge_date, row.amount) for row in costs] == [
        (date(2025, 6, 14), Decimal("4.27")),
        (date(2025, 6, 14), Decimal("12.1")),
        (date(2025, 6, 14), Decimal("0.000125")),
        (date(2025, 6, 15), Decimal("1.5")),
        (date(2025, 6, 15), Decimal("0.8")),
    ]
    assert len(provider.requests_to(COSTS)) == 2
    assert len(provider.requests_to(COMPLETIONS)) == 2
    assert [row.usage_date for row in usage] == [date(2025, 6, 14), date(2025, 6, 15)]
    assert (reader.rows_read, reader.rows_skipped) == (9, 2)  # the May 31 and July 1 results


def test_cost_rows_are_normalised(provider):
    serve_documented_pages(provider)

    first, _, embedding, cached, storage = [row for row in connector(provider).read(JUNE) if isinstance(row, CostRow)]

    assert first.currency == "USD"  # OpenAI sends "usd"
    assert first.category == CostCategory.INFERENCE
    assert first.model == "gpt-4o-2024-08-06"
    assert first.description == "gpt-4o-2024-08-06, input"
    assert first.keys == {"project_id": "proj_Ab12Cd34"}
    assert (first.quantity, first.unit) == (Decimal(1708000), "tokens")
    assert embedding.keys == {"project_id": "proj_Xy98Zw76", "api_key_id": "key_Qw3rTy"}
    assert embedding.model == ""  # a line item without ", <kind>" names no model
    assert cached.keys == {} and cached.quantity is None and cached.model == "o3-mini-2025-01-31"
    assert storage.category == CostCategory.STORAGE and storage.unit == "gibibyte_hours"


def test_usage_rows_are_normalised(provider):
    serve_documented_pages(provider)

    gpt, o3 = [row for row in connector(provider).read(JUNE) if isinstance(row, UsageRow)]

    assert (gpt.model, gpt.input_tokens, gpt.output_tokens, gpt.cached_tokens, gpt.requests) == (
        "gpt-4o-2024-08-06",
        1708000,
        121000,
        400000,
        3120,
    )
    assert gpt.keys == {"project_id": "proj_Ab12Cd34"}
    assert o3.cached_tokens == 0  # input_cached_tokens absent
    assert o3.keys == {"api_key_id": "key_Qw3rTy"}


def test_sends_the_documented_query_and_admin_key(provider):
    serve_documented_pages(provider)

    list(connector(provider, project_ids="proj_Ab12Cd34, proj_Xy98Zw76").read(JUNE))

    first, second = provider.requests_to(COSTS)
    assert first.query["group_by"] == ["project_id", "line_item"]  # repeated group_by=
    assert first.param("start_time") == "1748736000"  # 2025-06-01T00:00:00Z
    assert first.param("end_time") == "1751328000"  # 2025-07-01T00:00:00Z
    assert (first.param("bucket_width"), first.param("limit")) == ("1d", "31")
    assert first.query["project_ids"] == ["proj_Ab12Cd34", "proj_Xy98Zw76"]
    assert first.param("page") is None and second.param("page") == "page_AAAAAGdGxdEiJdKOAAAAAGcqsYA="
    assert first.headers["authorization"] == f"Bearer {KEY}"
    usage = provider.requests_to(COMPLETIONS)[0]
    assert usage.query["group_by"] == ["project_id", "model"]
    assert usage.param("bucket_width") == "1d"


def test_usage_can_be_switched_off(provider):
    serve_documented_pages(provider)

    rows = list(connector(provider, usage=False).read(JUNE))

    assert all(isinstance(row, CostRow) for row in rows)
    assert provider.requests_to(COMPLETIONS) == []


def test_401_is_a_permanent_error_naming_the_status(provider):
    body = {"error": {"message": "Invalid admin key", "type": "invalid_request_error"}}
    provider.route(COSTS, Reply(body, status=401))

    with pytest.raises(ConnectorError) as caught:
        list(connector(provider).read(JUNE))

    assert caught.value.transient is False
    assert "HTTP 401" in str(caught.value) and COSTS in str(caught.value)
    assert KEY not in str(caught.value)


def test_429_with_retry_after_is_retried(provider):
    serve_documented_pages(provider)
    first_page = provider.routes[COSTS][0]
    provider.route(COSTS, Reply({"error": {"message": "slow"}}, status=429, headers={"Retry-After": "0"}), first_page)

    rows = list(connector(provider, usage=False).read(JUNE))

    assert len(rows) == 5
    assert len(provider.requests_to(COSTS)) == 3  # 429, page 1, page 2


def test_500_every_time_is_transient(provider):
    provider.route(COSTS, Reply("<html>502 Bad Gateway</html>", status=500, content_type="text/html"))

    with pytest.raises(ConnectorError) as caught:
        list(connector(provider).read(JUNE))

    assert caught.value.transient is True and "HTTP 500" in str(caught.value)
    assert len(provider.requests_to(COSTS)) == 4


def test_html_instead_of_json(provider):
    provider.route(COSTS, Reply("<html><body>Proxy login</body></html>", content_type="text/html"))

    with pytest.raises(ConnectorError, match="expected JSON but got text/html"):
        list(connector(provider).read(JUNE))


def test_repeating_cursor_is_an_error(provider):
    page = fixture_json("openai/costs_page1.json")
    provider.route(COSTS, Reply(page))  # always has_more with the same next_page

    with pytest.raises(ConnectorError, match="cursor repeated"):
        list(connector(provider).read(JUNE))
    assert len(provider.requests_to(COSTS)) == 2


def test_never_ending_has_more_stops_at_max_pages(provider):
    def endless(request):
        number = int((request.param("page") or "page_0").removeprefix("page_")) + 1
        return Reply({"object": "page", "data": [], "has_more": True, "next_page": f"page_{number}"})

    provider.route(COSTS, endless)

    with pytest.raises(ConnectorError, match="more than 3 pages"):
        list(connector(provider, max_pages=3).read(JUNE))
    assert len(provider.requests_to(COSTS)) == 3


def test_malformed_amount_names_the_bucket(provider):
    provider.route(
        COSTS,
        Reply(
            {
                "object": "page",
                "data": [
                    {
                        "start_time": 1749859200,
                        "end_time": 1749945600,
                        "results": [{"amount": {"value": "lots", "currency": "usd"}, "line_item": "x, input"}],
                    }
                ],
                "has_more": False,
                "next_page": None,
            }
        ),
    )

    with pytest.raises(ConnectorError) as caught:
        list(connector(provider).read(JUNE))
    assert caught.value.location == "OpenAI costs bucket 2025-06-14"
    assert "amount.value" in str(caught.value)


def test_without_a_key():
    with pytest.raises(ConnectorError, match="admin key"):
        list(OpenAIConnector(settings={}, credential=None).read(JUNE))


@pytest.mark.parametrize(
    ("line_item", "model"),
    [("gpt-4o-2024-08-06, input", "gpt-4o-2024-08-06"), ("o1, cached input", "o1"), ("input_tokens", "")],
)
def test_model_from_line_item(line_item, model):
    assert model_from_line_item(line_item) == model


def test_a_negative_token_count_is_refused_naming_the_bucket(provider):
    provider.route(COSTS, Reply({"object": "page", "data": [], "has_more": False, "next_page": None}))
    usage = fixture_json("openai/usage_completions_page1.json")
    usage["data"][0]["results"][0]["input_tokens"] = -1708000
    usage["has_more"], usage["next_page"] = False, None
    provider.route(COMPLETIONS, Reply(usage))

    with pytest.raises(ConnectorError) as caught:
        list(connector(provider).read(JUNE))

    assert caught.value.message == "input_tokens must not be negative, got -1708000"
    assert caught.value.location.startswith("OpenAI usage")
