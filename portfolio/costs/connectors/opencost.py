"""OpenCost allocation API: Kubernetes cost and GPU-hours per namespace or label, per day (FORMATS.md section 6).

Each allocation becomes one cost line of its totalCost (GPU, CPU, memory, storage, network) carrying its gpuHours
and, apart, its GPU cost (gpuCost + gpuCostAdjustment): the price per GPU-hour is worked out from that alone.

One request covers the period with `step=1d`, giving one map per day and no paging. Idle cost (`__idle__`)
belongs to no workload, so it is skipped and counted; `__unallocated__` (workloads without the label) and
the other `__special__` keys are kept as spend with no key, so it shows up as unallocated. OpenCost writes
NaN/Inf as null, read here as 0. The response carries no currency (it follows OpenCost's pricing
configuration), so the source states it.

Settings: `base_url` (required, e.g. http://opencost:9003), `aggregate` (default "namespace", or
"label:<name>"; several comma-separated), `currency` (default USD), plus the HTTP client's.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar

from portfolio.costs.connectors.base import (
    QUANTITY_LIMIT,
    SKIPPED_IDLE,
    SKIPPED_OUTSIDE_PERIOD,
    ConnectorBase,
    ConnectorError,
    CostCategory,
    CostRow,
    Period,
    Row,
)
from portfolio.costs.connectors.http import HttpClient, json_date, json_decimal, rfc3339

ALLOCATION_PATH = "/allocation/compute"
IDLE = "__idle__"
DEFAULT_AGGREGATE = "namespace"
DEFAULT_CURRENCY = "USD"


def allocation_keys(name: str, aggregations: list[str]) -> dict[str, str]:
    """Attribution keys of an allocation name: "ml-team" under namespace, "ml-team/search" under two aggregations."""
    if name.startswith("__") and name.endswith("__"):
        return {}  # __unallocated__, __unmounted__, __shared__, __external__: spend no workload key explains
    parts = name.split("/")
    if len(parts) != len(aggregations):
        return {aggregations[0]: name} if len(aggregations) == 1 else {}
    return {
        aggregation: part for aggregation, part in zip(aggregations, parts, strict=True) if not part.startswith("__")
    }


def gpu_cost(allocation: dict[str, Any], *, location: str) -> Decimal | None:
    """The allocation's GPU cost, gpuCost + gpuCostAdjustment (OpenCost's GPU total; the adjustment reconciles it with
    the cloud bill and may be negative), kept beside its GPU-hours so that their price leaves out CPU, memory and
    storage. None when the allocation has no gpuCost field at all; null (NaN) reads as 0, as the other costs."""
    if "gpuCost" not in allocation:
        return None
    cost = json_decimal(allocation.get("gpuCost"), field="gpuCost", location=location)
    if cost < 0:
        raise ConnectorError(
            f"gpuCost must not be negative, got {cost} (a GPU's cost is never a credit; "
            "OpenCost corrects it through gpuCostAdjustment)", location=location,
        )
    adjustment = json_decimal(allocation.get("gpuCostAdjustment"), field="gpuCostAdjustment", location=location)
    if cost + adjustment < 0:
        raise ConnectorError(
            f"gpuCostAdjustment {adjustment} takes the GPU cost {cost} below zero", location=location,
        )
    return cost + adjustment


class OpenCostConnector(ConnectorBase):
    """Daily compute cost and GPU-hours per namespace or label from OpenCost's allocation API."""

    type: ClassVar[str] = "opencost"
    reads_files: ClassVar[bool] = False


    def read(self, period: Period, *, path: Path | None = None) -> Iterator[Row]:
        base_url = self.settings.get("base_url")
        if not base_url:
            raise ConnectorError(
                "the OpenCost URL is required (e.g. http://opencost:9003)", location="settings.base_url"
            )
        aggregate = str(self.settings.get("aggregate") or DEFAULT_AGGREGATE).strip()
        aggregations = [part.strip() for part in aggregate.split(",") if part.strip()]
        currency = str(self.settings.get("currency") or DEFAULT_CURRENCY).strip().upper()
        headers = {"Authorization": f"Bearer {self.credential}"} if self.credential else {}  # behind an auth proxy
        client = HttpClient.from_settings(
            self.settings, base_url=str(base_url), headers=headers, secrets=[self.credential]
        )
        params = {
            "window": f"{rfc3339(period.start_datetime())},{rfc3339(period.end_datetime())}",
            "aggregate": ",".join(aggregations),
            "step": "1d",
            "accumulate": "false",
        }
        payload = client.get_json(ALLOCATION_PATH, params)
        where = f"GET {ALLOCATION_PATH}"
        if not isinstance(payload, dict):
            raise ConnectorError("expected an object {code, data}", location=where)
        if payload.get("code") != 200:
            message = payload.get("message") or payload.get("error") or "no message"
            raise ConnectorError(f"OpenCost answered code {payload.get('code')!r}: {message}", location=where)
        steps = payload.get("data") or []
        if not isinstance(steps, list):
            raise ConnectorError("data must be a list of {name: allocation} maps", location=where)
        for step_number, step in enumerate(steps, start=1):
            if step is None:
                continue  # an empty step (no data that day)
            if not isinstance(step, dict):
                raise ConnectorError(
                    "each step must be a {name: allocation} map", location=f"{where} step {step_number}"
                )
            for name, allocation in step.items():
                location = f"OpenCost step {step_number} {name}"
                self.rows_read += 1
                if name == IDLE:
                    self.skip(SKIPPED_IDLE)
                    continue
                if not isinstance(allocation, dict):
                    raise ConnectorError("allocation must be an object", location=location)
                window = allocation.get("window")
                if not isinstance(window, dict):
                    window = {}
                day = json_date(window.get("start") or allocation.get("start"), field="window.start", location=location)
                if day is None:
                    raise ConnectorError("allocation has no window start", location=location)
                if not period.contains(day):
                    self.skip(SKIPPED_OUTSIDE_PERIOD)
                    continue
                gpu_hours = json_decimal(allocation.get("gpuHours"), field="gpuHours", location=location,
                                         limit=QUANTITY_LIMIT)
                if gpu_hours < 0:
                    raise ConnectorError(
                        f"gpuHours must not be negative, got {allocation.get('gpuHours')!r} (a credit is a negative "
                        "cost, never negative hours)", location=location,
                    )
                yield CostRow(
                    charge_date=day,
                    amount=json_decimal(allocation.get("totalCost"), field="totalCost", location=location),
                    currency=currency,
                    category=CostCategory.COMPUTE,
                    keys=allocation_keys(str(name), aggregations),
                    service_name="Kubernetes (OpenCost)",
                    description=str(allocation.get("name") or name),
                    gpu_hours=gpu_hours,
                    gpu_cost=gpu_cost(allocation, location=location),
                    location=f"OpenCost {day.isoformat()} {name}",
                )
