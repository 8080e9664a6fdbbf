"""Anthropic Admin API cost and messages-usage reports (FORMATS.md section 3).

The cost report gives amounts as decimal strings in US cents ("123.45" is $1.23), so they are divided by 100
here and nowhere else. Usage is per day, workspace, API key and model. A null workspace is the organisation's
default workspace, kept as "default" so allocation rules can still name it.

Settings: `base_url` (default https://api.anthropic.com), `usage` (default true: also read token usage), plus
the HTTP client's (see portfolio.costs.connectors.http).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar

from portfolio.costs.connectors.base import (
    AMOUNT_LIMIT,
    SKIPPED_OUTSIDE_PERIOD,
    ConnectorBase,
    ConnectorError,
    CostCategory,
    CostRow,
    Period,
    Row,
    UsageRow,
    count_within,
    within,
)
from portfolio.costs.connectors.http import HttpClient, json_date, json_decimal, json_int, json_objects, rfc3339

DEFAULT_BASE_URL = "https://api.anthropic.com"
API_VERSION = "2023-06-01"
COST_PATH = "/v1/organizations/cost_report"
USAGE_PATH = "/v1/organizations/usage_report/messages"
BUCKET_LIMIT = 31
DEFAULT_WORKSPACE = "default"
CENTS = Decimal(100)


def workspace_keys(result: Mapping[str, Any]) -> dict[str, str]:
    keys = {"workspace_id": str(result.get("workspace_id") or DEFAULT_WORKSPACE)}
    if result.get("api_key_id"):
        keys["api_key_id"] = str(result["api_key_id"])
    return keys


def bucket_day(bucket: Mapping[str, Any], *, location: str) -> date:
    day = json_date(bucket.get("starting_at"), field="starting_at", location=location)
    if day is None:
        raise ConnectorError("bucket has no starting_at", location=location)
    return day


class AnthropicConnector(ConnectorBase):
    """Daily cost per workspace and description, and daily token usage per workspace, API key and model."""

    type: ClassVar[str] = "anthropic"
    reads_files: ClassVar[bool] = False


    def read(self, period: Period, *, path: Path | None = None) -> Iterator[Row]:
        if not self.credential:
            raise ConnectorError("an Anthropic Admin API key is required", location="credential")
        client = HttpClient.from_settings(
            self.settings,
            base_url=str(self.settings.get("base_url") or DEFAULT_BASE_URL),
            headers={"x-api-key": self.credential, "anthropic-version": API_VERSION},
            secrets=[self.credential],
        )
        window = [
            ("starting_at", rfc3339(period.start_datetime())),
            ("ending_at", rfc3339(period.end_datetime())),
            ("bucket_width", "1d"),
            ("limit", BUCKET_LIMIT),
        ]
        yield from self._costs(client, period, window)
        if str(self.settings.get("usage", True)).lower() not in ("false", "0", "no"):
            yield from self._usage(client, period, window)

    def _skip(self, bucket: dict[str, Any]) -> None:
        skipped = len(bucket.get("results") or [])
        self.rows_read += skipped
        self.skip(SKIPPED_OUTSIDE_PERIOD, skipped)

    def _costs(self, client: HttpClient, period: Period, params: list[tuple[str, Any]]) -> Iterator[CostRow]:
        params = params + [("group_by[]", "workspace_id"), ("group_by[]", "description")]
        for page in client.pages_by_cursor(COST_PATH, params):
            for bucket in json_objects(page, "data", location=f"GET {COST_PATH}"):
                day = bucket_day(bucket, location=f"GET {COST_PATH}")
                if not period.contains(day):
                    self._skip(bucket)
                    continue
                location = f"Anthropic cost bucket {day.isoformat()}"
                for result in json_objects(bucket, "results", location=location):
                    self.rows_read += 1
                    cents = json_decimal(result.get("amount"), field="amount", location=location, limit=None)
                    amount = within(cents / CENTS, AMOUNT_LIMIT, raw=result.get("amount"),
                                    location=f"{location} amount (in cents)")
                    yield CostRow(
                        charge_date=day,
                        amount=amount,
                        currency=str(result.get("currency") or "USD").upper(),
                        category=CostCategory.INFERENCE,
                        keys=workspace_keys(result),
                        service_name="Anthropic API",
                        model=str(result.get("model") or ""),
                        description=str(result.get("description") or result.get("cost_type") or ""),
                        unit=str(result.get("token_type") or ""),
                        location=location,
                    )

    def _usage(self, client: HttpClient, period: Period, params: list[tuple[str, Any]]) -> Iterator[UsageRow]:
        params = params + [("group_by[]", "workspace_id"), ("group_by[]", "api_key_id"), ("group_by[]", "model")]
        for page in client.pages_by_cursor(USAGE_PATH, params):
            for bucket in json_objects(page, "data", location=f"GET {USAGE_PATH}"):
                day = bucket_day(bucket, location=f"GET {USAGE_PATH}")
                if not period.contains(day):
                    self._skip(bucket)
                    continue
                location = f"Anthropic usage bucket {day.isoformat()}"
                for result in json_objects(bucket, "results", location=location):
                    self.rows_read += 1
                    uncached = json_int(
                        result.get("uncached_input_tokens"), field="uncached_input_tokens", location=location
                    )
                    cache_read = json_int(
                        result.get("cache_read_input_tokens"), field="cache_read_input_tokens", location=location
                    )
                    creation = result.get("cache_creation") or {}
                    if not isinstance(creation, dict):
                        raise ConnectorError("cache_creation must be an object", location=location)
                    cache_write = sum(
                        json_int(value, field=f"cache_creation.{name}", location=location)
                        for name, value in creation.items()
                    )
                    yield UsageRow(
                        usage_date=day,
                        model=str(result.get("model") or ""),
                        input_tokens=count_within(uncached + cache_read + cache_write, raw="their sum",
                                                  location=f"{location} input tokens"),
                        output_tokens=json_int(result.get("output_tokens"), field="output_tokens", location=location),
                        cached_tokens=cache_read,
                        requests=0,  # the report counts tokens, not requests
                        keys=workspace_keys(result),
                        location=location,
                    )
