"""The one small interface every cost and usage connector implements.

A connector reads one period of one source and yields normalised rows; it knows nothing about the database,
allocation or roll-ups (portfolio.costs.services.runs does that). Errors carry where they happened (file, row,
column, or HTTP status) and whether retrying could help.
"""

from __future__ import annotations

import calendar
import re
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar, Protocol


class CostCategory:
    """Where a cost goes in the TCO split (PRODUCT.md). Plain strings so connectors stay ORM-free."""

    INFERENCE = "inference"  # inference / API
    COMPUTE = "compute"  # compute / GPU
    STORAGE = "storage"
    LICENCES = "licences"
    OVERSIGHT = "oversight"
    MAINTENANCE = "maintenance"
    OTHER = "other"

    ALL = (INFERENCE, COMPUTE, STORAGE, LICENCES, OVERSIGHT, MAINTENANCE, OTHER)


@dataclass(frozen=True)
class Period:
    """A calendar month: start inclusive, end exclusive (as FOCUS and the provider APIs count)."""

    start: date
    end: date

    @classmethod
    def parse(cls, text: str) -> Period:
        match = re.fullmatch(r"(\d{4})-(\d{2})", text.strip())
        if not match or not 1 <= int(match.group(2)) <= 12:
            raise ValueError(f"Period must be YYYY-MM, got {text!r}")
        return cls.month(int(match.group(1)), int(match.group(2)))

    @classmethod
    def month(cls, year: int, month: int) -> Period:
        start = date(year, month, 1)
        end = date(year + (month == 12), month % 12 + 1, 1)
        return cls(start, end)

    @property
    def label(self) -> str:
        return f"{self.start:%Y-%m}"

    @property
    def days(self) -> int:
        return calendar.monthrange(self.start.year, self.start.month)[1]

    def start_datetime(self) -> datetime:
        return datetime(self.start.year, self.start.month, 1, tzinfo=UTC)

    def end_datetime(self) -> datetime:
        return datetime(self.end.year, self.end.month, 1, tzinfo=UTC)

    def contains(self, day: date) -> bool:
        return self.start <= day < self.end


@dataclass
class CostRow:
    """One normalised cost (and, for token-priced services, usage) line.

    `keys` holds the attribution keys allocation rules match on: "tag:<name>", "billing_account_id",
    "sub_account_id", "resource_id", "service_name", "project_id", "workspace_id", "api_key_id", "namespace",
    "label:<name>", and "initiative" (an external id the source states itself, e.g. the plain CSV).
    """

    charge_date: date
    amount: Decimal  # the cost counted (FOCUS EffectiveCost), in `currency`
    currency: str  # ISO 4217, upper case
    category: str = CostCategory.OTHER
    billed_amount: Decimal | None = None  # FOCUS BilledCost, kept for reconciliation against invoices
    keys: dict[str, str] = field(default_factory=dict)
    service_name: str = ""
    model: str = ""
    description: str = ""
    quantity: Decimal | None = None
    unit: str = ""
    gpu_hours: Decimal | None = None
    # The GPU share of `amount` where the source gives it apart (OpenCost: gpuCost + gpuCostAdjustment), in `currency`;
    # None where it does not (a plain CSV GPU line, FOCUS): then the whole amount is what the GPU-hours cost.
    gpu_cost: Decimal | None = None
    location: str = ""  # where it came from, for messages: "row 12", "bucket 2025-06-14"
    # Billed in the run's month (a FOCUS row's BillingPeriodStart), so it belongs to it even when charged earlier.
    billed_in_period: bool = False
    currency_column: str = ""  # the column the currency was read from, named with `location` when it is wrong


@dataclass
class UsageRow:
    """Token usage of one model in one day (no money: cost comes from CostRows)."""

    usage_date: date
    model: str
    input_tokens: int = 0
    output_tokens: int = 0
    cached_tokens: int = 0
    requests: int = 0
    keys: dict[str, str] = field(default_factory=dict)
    location: str = ""


@dataclass
class SeatRow:
    """One assigned seat of a seat-based tool and when its holder last used it."""

    user: str  # login or user principal name
    assigned: bool = True
    last_activity: date | None = None
    keys: dict[str, str] = field(default_factory=dict)  # e.g. {"team": "search-team"}
    location: str = ""


Row = CostRow | UsageRow | SeatRow


class ConnectorError(Exception):
    """A read that cannot complete. `location` names the file/row/column or the HTTP status and URL."""

    def __init__(self, message: str, *, location: str = "", transient: bool = False) -> None:
        super().__init__(f"{location}: {message}" if location else message)
        self.message = message
        self.location = location
        self.transient = transient  # True for network errors, 429 and 5xx: Celery may retry these, never others


# What the stored figures hold (portfolio.models): an amount ends up in money columns (roll-ups, run totals:
# numeric(14, 2), 12 digits before the point), a quantity in numeric(24, 6), a token count in a 64-bit integer. A value
# beyond them could not be summed or read back, so the connectors refuse it where they read it, naming row and column.
AMOUNT_LIMIT = Decimal("999999999999.99")
QUANTITY_LIMIT = Decimal("999999999999999999.999999")
COUNT_LIMIT = 2**63 - 1



def utc_date(text: str) -> date:
    """The UTC day of an ISO 8601 date or date-time ("2025-06-14", "2025-06-14T02:00:00+05:00"): a time with an offset
    is converted first, one without is taken as UTC, as the FOCUS and provider documentation write them. ValueError
    for anything else (trailing text included), for the caller to name where it was read."""
    moment = datetime.fromisoformat(text)
    return moment.astimezone(UTC).date() if moment.tzinfo is not None else moment.date()

def within(number: Decimal, limit: Decimal, *, raw: object, location: str) -> Decimal:
    """`number`, or ConnectorError "... too large" when, rounded to the places of `limit` as its column stores it, it
    needs more digits than the column holds (either sign). Compared before any rounding: 1e30 cannot be quantized."""
    half_unit = (1 - limit % 1) / 2  # the limits are all nines: 0.99 -> 0.005
    if abs(number) >= limit + half_unit:
        what = "an amount" if limit == AMOUNT_LIMIT else "a quantity"
        raise ConnectorError(f"{raw!r} is too large: {what} is between -{limit:,} and {limit:,}", location=location)
    return number


def count_within(number: int, *, raw: object, location: str) -> int:
    """A token or request count, or ConnectorError "... too large" beyond the 64-bit column."""
    if abs(number) > COUNT_LIMIT:
        raise ConnectorError(f"{raw!r} is too large: a count is at most {COUNT_LIMIT:,}", location=location)
    return number


def export_path(period: Period, path: Path | None, *, configured: object, missing: str) -> Path:
    """The export file of a file source: the one given (--file, an upload), else the source's `path` setting with
    '{period}' replaced by YYYY-MM; ConnectorError `missing` when there is neither."""
    if path is not None:
        return Path(path)
    if configured:
        return Path(str(configured).replace("{period}", period.label))
    raise ConnectorError(missing)


# Why a connector left rows out: each reason is counted apart on the run (`skipped_by_reason`), so a run's page says
# "990 rows skipped (not AI spend)" and "1 row skipped (billed in another period)", never one count under one label.
SKIPPED_NOT_AI = "not AI spend"
SKIPPED_OUTSIDE_PERIOD = "outside the period"
SKIPPED_BILLED_ELSEWHERE = "billed in another period"
SKIPPED_IDLE = "idle cost, OpenCost __idle__"
SKIPPED_NO_ASSIGNEE = "seat without an assignee"
SKIPPED_SAME_USER = "same user as another row, merged"


class ConnectorBase:
    """Common state of the connectors: their settings, the secret resolved at run time, and row counters.

    `rows_read` counts what the source returned; `rows_skipped` what the connector left out (rows outside the
    period, non-AI spend, idle allocations...), and `skipped_by_reason` the same rows by why (`skip`). The ingestion
    service records them on the run.
    """

    def __init__(self, *, settings: Mapping[str, Any], credential: str | None = None) -> None:
        self.settings = settings
        self.credential = credential
        self.rows_read = 0
        self.rows_skipped = 0
        self.skipped_by_reason: Counter[str] = Counter()

    def skip(self, reason: str, count: int = 1) -> None:
        """Leave `count` rows out for `reason` (one of the SKIPPED_ reasons)."""
        self.rows_skipped += count
        self.skipped_by_reason[reason] += count


def skipped_reasons(connector: Any) -> dict[str, int]:
    """The rows `connector` left out by why (`skipped_by_reason`), each reason once; a connector that gives no
    reason (one that skips nothing) has its count, if any, as not AI spend."""
    reasons = getattr(connector, "skipped_by_reason", None)
    if reasons is None:
        skipped = getattr(connector, "rows_skipped", 0)
        reasons = {SKIPPED_NOT_AI: skipped} if skipped else {}
    return {str(reason): int(count) for reason, count in reasons.items() if count}


class Connector(Protocol):
    """What portfolio.costs.services.runs needs from a connector."""

    type: ClassVar[str]
    reads_files: ClassVar[bool]  # True when the source is an export file (FOCUS, CSV, M365 report)

    def __init__(self, *, settings: Mapping[str, Any], credential: str | None = None) -> None: ...

    def read(self, period: Period, *, path: Path | None = None) -> Iterator[Row]:
        """Yield the period's rows; stream, never hold a whole file in memory. Raise ConnectorError on bad input."""
        ...


class FileConnector(Connector, Protocol):
    """A connector that reads export files (`reads_files`) also checks a file's header on its own, as its `read`
    does first: an upload is refused before its run is created, with the message the run would have failed with."""

    @classmethod
    def check_header(cls, path: Path) -> Any:
        """Raise ConnectorError when the file's header (a CSV's header row, a Parquet file's schema) shows that
        `read` would refuse it. Reads only the header, however large the file: never its rows."""
        ...
