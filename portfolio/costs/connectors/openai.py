"""OpenAI organisation Costs and Usage APIs (FORMATS.md section 2), read with an admin key.

Costs come per day, project and line item in currency units (not cents); token usage per day, project and
model comes from the completions usage endpoint. Both are paged with `page=<next_page>` until `has_more` is
false. `group_by` is sent as repeated `group_by=` parameters, the form OpenAI's own cookbook uses.

Settings: `base_url` (default https://api.openai.com), `project_ids` (optional list, or comma-separated),
`usage` (default true: also read token usage), plus the HTTP client's (see portfolio.costs.connectors.http).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, ClassVar

from portfolio.costs.connectors.base import (
    QUANTITY_LIMIT,
    SKIPPED_OUTSIDE_PERIOD,
    ConnectorBase,
    ConnectorError,
    CostCategory,
    CostRow,
    Period,
    Row,
    UsageRow,
)
from portfolio.costs.connectors.http import HttpClient, json_decimal, json_int, json_objects

DEFAULT_BASE_URL = "https://api.openai.com"
COSTS_PATH = "/v1/organization/costs"
COMPLETIONS_PATH = "/v1/organization/usage/completions"
BUCKET_LIMIT = 31  # a month of daily buckets in one page (costs allow 180, completions at 1d 31)
STORAGE_UNITS = {"gibibyte_hours"}  # vector store storage is billed by the GiB-hour


def setting_list(settings: Mapping[str, Any], key: str) -> list[str]:
    """A list setting written either as a list or as a comma-separated string."""
    value = settings.get(key) or []
    if isinstance(value, str):
        value = value.split(",")
    return [str(item).strip() for item in value if str(item).strip()]


def bucket_date(bucket: Any, *, location: str) -> date:
    """The UTC day a bucket starts on (`start_time` in Unix seconds)."""
    start = bucket.get("start_time") if isinstance(bucket, dict) else None
    if isinstance(start, bool) or not isinstance(start, int | float):
        raise ConnectorError(f"bucket start_time must be Unix seconds, got {start!r}", location=location)
    return datetime.fromtimestamp(int(start), tz=UTC).date()


def model_from_line_item(line_item: str) -> str:
    """OpenAI line items read "<model>, <token kind>" ("gpt-4o-2024-08-06, input"); other items name no model."""
    model, comma, _ = line_item.partition(",")
    return model.strip() if comma else ""


def cost_category(line_item: str, unit: str) -> str:
    if unit in STORAGE_UNITS or "storage" in line_item.lower():
        return CostCategory.STORAGE
    return CostCategory.INFERENCE


def attribution_keys(result: Mapping[str, Any]) -> dict[str, str]:
    return {key: str(result[key]) for key in ("project_id", "api_key_id") if result.get(key)}


class OpenAIConnector(ConnectorBase):
    """Daily costs per project and line item, and daily token usage per project and model."""

    type: ClassVar[str] = "openai"
    reads_files: ClassVar[bool] = False


    def read(self, period: Period, *, path: Path | None = None) -> Iterator[Row]:
        if not self.credential:
            raise ConnectorError("an OpenAI admin key is required", location="credential")
        client = HttpClient.from_settings(
            self.settings,
            base_url=str(self.settings.get("base_url") or DEFAULT_BASE_URL),
            headers={"Authorization": f"Bearer {self.credential}"},
            secrets=[self.credential],
        )
        window = [
            ("start_time", int(period.start_datetime().timestamp())),
            ("end_time", int(period.end_datetime().timestamp())),
            ("bucket_width", "1d"),
            ("limit", BUCKET_LIMIT),
        ]
        projects = [("project_ids", project) for project in setting_list(self.settings, "project_ids")]
        yield from self._costs(client, period, window + projects)
        if str(self.settings.get("usage", True)).lower() not in ("false", "0", "no"):
            yield from self._usage(client, period, window + projects)

    def _skip(self, bucket: dict[str, Any]) -> None:
        skipped = len(bucket.get("results") or [])
        self.rows_read += skipped
        self.skip(SKIPPED_OUTSIDE_PERIOD, skipped)

    def _costs(self, client: HttpClient, period: Period, params: list[tuple[str, Any]]) -> Iterator[CostRow]:
        params = params + [("group_by", "project_id"), ("group_by", "line_item")]
        for page in client.pages_by_cursor(COSTS_PATH, params):
            for bucket in json_objects(page, "data", location=f"GET {COSTS_PATH}"):
                day = bucket_date(bucket, location=f"GET {COSTS_PATH}")
                if not period.contains(day):
                    self._skip(bucket)
                    continue
                location = f"OpenAI costs bucket {day.isoformat()}"
                for result in json_objects(bucket, "results", location=location):
                    self.rows_read += 1
                    amount = result.get("amount") or {}
                    if not isinstance(amount, dict):
                        raise ConnectorError("amount must be an object {value, currency}", location=location)
                    line_item = str(result.get("line_item") or "")
                    unit = str(result.get("quantity_unit") or "")
                    quantity = result.get("quantity")
                    yield CostRow(
                        charge_date=day,
                        amount=json_decimal(amount.get("value"), field="amount.value", location=location),
                        currency=str(amount.get("currency") or "usd").upper(),
                        category=cost_category(line_item, unit),
                        keys=attribution_keys(result),
                        service_name="OpenAI API",
                        model=model_from_line_item(line_item),
                        description=line_item,
                        quantity=None
                        if quantity is None
                        else json_decimal(quantity, field="quantity", location=location, limit=QUANTITY_LIMIT),
                        unit=unit,
                        location=location,
                    )

    def _usage(self, client: HttpClient, period: Period, params: list[tuple[str, Any]]) -> Iterator[UsageRow]:
        params = params + [("group_by", "project_id"), ("group_by", "model")]
        for page in client.pages_by_cursor(COMPLETIONS_PATH, params):
            for bucket in json_objects(page, "data", location=f"GET {COMPLETIONS_PATH}"):
                day = bucket_date(bucket, location=f"GET {COMPLETIONS_PATH}")
                if not period.contains(day):
                    self._skip(bucket)
                    continue
                location = f"OpenAI usage bucket {day.isoformat()}"
                for result in json_objects(bucket, "results", location=location):
                    self.rows_read += 1
                    yield UsageRow(
                        usage_date=day,
                        model=str(result.get("model") or ""),
                        input_tokens=json_int(result.get("input_tokens"), field="input_tokens", location=location),
                        output_tokens=json_int(result.get("output_tokens"), field="output_tokens", location=location),
                        cached_tokens=json_int(
                            result.get("input_cached_tokens"), field="input_cached_tokens", location=location
                        ),
                        requests=json_int(
                            result.get("num_model_requests"), field="num_model_requests", location=location
                        ),
                        keys=attribution_keys(result),
                        location=location,
                    )
