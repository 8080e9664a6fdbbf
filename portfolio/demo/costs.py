"""Demo cost data, generated and then read through the real connectors and ingestion runs.

Why through the connectors: the demo then exercises the same parsing, allocation and roll-up code a customer's data
goes through, and a broken connector makes `load_demo` fail loudly instead of showing made-up figures.

Sources: "azure-focus" (monthly FOCUS 1.2 CSV exports written to a temporary directory) and "openai-org" (the
OpenAI organization costs/usage API, served by a local HTTP server on 127.0.0.1 for the duration of the load).
Some spend is deliberately unallocated: Azure rows tagged for projects no rule maps, an OpenAI sandbox project, and a
credit row without tags. Deterministic (random.Random(SEED)) and idempotent: a (source, month) that already has a
succeeded run is not read again.
"""

from __future__ import annotations

import csv
import json
import os
import random
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from django.contrib.auth.models import AbstractUser
from django.db.models import Q, Sum
from django.utils.text import slugify

from portfolio.choices import RunStatus
from portfolio.connectors.base import Period
from portfolio.models import CostSource, IngestionRun, MonthlyCost
from portfolio.services.cost_config import cost_config_apply
from portfolio.services.ingestion import ingestion_run_create, ingestion_run_execute

from . import data

MONTHS = 12  # 2025-10 .. 2026-09, the twelve months before the reference date
FOCUS_SOURCE = "azure-focus"
OPENAI_SOURCE = "openai-org"
SOURCE_NAMES = (FOCUS_SOURCE, OPENAI_SOURCE)
OPENAI_KEY_ENV = "TOLLGATE_DEMO_OPENAI_KEY"
AZURE_PROJECTS = 25
UNMAPPED_AZURE_PROJECTS = ("data-science-sandbox", "hackathon-2026")
UNMAPPED_OPENAI_PROJECT = "proj_SandboxShared01"
LIVE_STAGES = ("pilot", "production")
CENT = Decimal("0.01")
AI = "AI and Machine Learning"

FOCUS_COLUMNS = (
    "BillingAccountId", "BillingAccountName", "BillingCurrency", "BillingPeriodStart", "BillingPeriodEnd",
    "ChargePeriodStart", "ChargePeriodEnd", "ChargeCategory", "ChargeClass", "ChargeDescription", "BilledCost",
    "EffectiveCost", "ListCost", "ContractedCost", "ServiceCategory", "ServiceSubcategory", "ServiceName",
    "ProviderName", "PublisherName", "InvoiceIssuerName", "SubAccountId", "SubAccountName", "ResourceId",
    "ResourceName", "RegionId", "SkuId", "ConsumedQuantity", "ConsumedUnit", "PricingQuantity", "PricingUnit", "Tags",
    "x_Model",
)
AZURE_AI_LINES = (  # service, subcategory, description, model, unit, price per unit
    ("Azure OpenAI", "Generative AI", "GPT-4o input tokens", "gpt-4o", "1000 Tokens", Decimal("0.0025")),
    ("Azure OpenAI", "Generative AI", "GPT-4o output tokens", "gpt-4o", "1000 Tokens", Decimal("0.01")),
    ("Azure OpenAI", "Generative AI", "GPT-4o mini input tokens", "gpt-4o-mini", "1000 Tokens", Decimal("0.00015")),
    ("Azure OpenAI", "Generative AI", "Embeddings text-embedding-3-small", "text-embedding-3-small", "1000 Tokens",
     Decimal("0.00002")),
    ("Azure Machine Learning", "Machine Learning", "NC24ads A100 v4 compute hours", "", "Hours", Decimal("3.67")),
)
AZURE_OTHER_LINES = (  # not AI: read and skipped by the connector
    ("Virtual Machines", "Compute", "Virtual Machines", "D4s v5 hours", "Hours", Decimal("0.192")),
    ("Storage", "Storage", "Storage", "Hot LRS data stored", "GB/Month", Decimal("0.0184")),
    ("Networking", "Network", "Bandwidth", "Data transfer out", "GB", Decimal("0.087")),
    ("Databases", "Relational Databases", "Azure SQL Database", "vCore hours", "Hours", Decimal("0.505")),
)
OPENAI_LINES = (("gpt-4o-2024-08-06, input", 2.5), ("gpt-4o-2024-08-06, output", 10.0),
                ("gpt-4o-mini-2024-07-18, input", 0.15), ("text-embedding-3-small", 0.02))


@dataclass(frozen=True)
class CostsSummary:
    months: int
    sources: int
    allocated: Decimal
    unallocated: Decimal

    @property
    def unallocated_share(self) -> Decimal:
        total = self.allocated + self.unallocated
        return (self.unallocated * 100 / total).quantize(Decimal("0.1")) if total else Decimal("0")


def demo_months() -> list[Period]:
    """The twelve whole months before the reference date, oldest first."""
    ref = data.REFERENCE_DATE.replace(day=1)
    months = []
    for back in range(MONTHS, 0, -1):
        index = ref.year * 12 + ref.month - 1 - back
        months.append(Period.month(index // 12, index % 12 + 1))
    return months


def _live_specs(vendor: str) -> list[data.InitiativeSpec]:
    return [s for s in data.initiative_specs() if s.stage in LIVE_STAGES and vendor in s.vendors]


def azure_projects() -> dict[str, data.InitiativeSpec]:
    """Azure `project` tag value -> the initiative it belongs to (the demo's allocation rules)."""
    specs = (_live_specs("Microsoft") + [s for s in _live_specs("OpenAI") if "Microsoft" not in s.vendors])
    return {f"{s.external_id.lower()}-{slugify(s.name)[:24].strip('-')}": s for s in specs[:AZURE_PROJECTS]}


def openai_projects() -> dict[str, data.InitiativeSpec]:
    """OpenAI project id -> initiative, ids derived from the external id so they are stable."""
    return {f"proj_{s.external_id.replace('-', '')}demo": s for s in _live_specs("OpenAI")}


def cost_config(base_url: str) -> dict[str, Any]:
    """The demo's sources and rules, in the shape `cost_config_apply` (and `apply_cost_config`) takes."""
    rules = [{"source": FOCUS_SOURCE, "key": "tag:project", "match": "exact", "value": tag,
              "initiative": spec.external_id} for tag, spec in azure_projects().items()]
    rules += [{"source": OPENAI_SOURCE, "key": "project_id", "match": "exact", "value": project,
               "initiative": spec.external_id} for project, spec in openai_projects().items()]
    return {
        "sources": [
            {"name": FOCUS_SOURCE, "type": "focus", "schedule": "monthly",
             "settings": {"ai_service_names": ["Azure OpenAI", "Azure Machine Learning"]}},
            {"name": OPENAI_SOURCE, "type": "openai", "schedule": "monthly", "credential_env": OPENAI_KEY_ENV,
             "enabled": False,  # its demo API only lives during the load; a schedule must not call it later
             "settings": {"base_url": base_url, "max_attempts": 1, "timeout": 10}},
        ],
        "rules": rules,
    }


def _money(value: float | Decimal) -> Decimal:
    return Decimal(str(value)).quantize(CENT, ROUND_HALF_UP)


def _days(period: Period) -> list[date]:
    return [period.start + timedelta(days=n) for n in range((period.end - period.start).days)]  # end is exclusive


def _live_in(spec: data.InitiativeSpec, period: Period) -> bool:
    return spec.start_date < period.end


# FOCUS ---------------------------------------------------------------------------------------------------------------


def _focus_row(period: Period, day: date, *, category: str, subcategory: str, service: str, description: str,
               cost: Decimal, quantity: Decimal, unit: str, tags: dict[str, str], model: str = "",
               charge: str = "Usage", resource: str = "") -> dict[str, str]:
    iso = "%Y-%m-%dT00:00:00Z"
    return {
        "BillingAccountId": "8611-4410", "BillingAccountName": "Northwind Mutual EA", "BillingCurrency": "USD",
        "BillingPeriodStart": period.start.strftime(iso),
        "BillingPeriodEnd": period.end.strftime(iso),
        "ChargePeriodStart": day.strftime(iso), "ChargePeriodEnd": (day + timedelta(days=1)).strftime(iso),
        "ChargeCategory": charge, "ChargeClass": "NULL", "ChargeDescription": description,
        "BilledCost": str(cost), "EffectiveCost": str(cost), "ListCost": str(cost), "ContractedCost": str(cost),
        "ServiceCategory": category, "ServiceSubcategory": subcategory, "ServiceName": service,
        "ProviderName": "Microsoft", "PublisherName": "Microsoft", "InvoiceIssuerName": "Microsoft",
        "SubAccountId": "5b7e10c2-0042", "SubAccountName": "nw-ai-prod",
        "ResourceId": f"/subscriptions/5b7e10c2-0042/resourceGroups/ai/{resource or 'shared'}",
        "ResourceName": resource or "shared", "RegionId": "westeurope", "SkuId": slugify(description)[:20].upper(),
        "ConsumedQuantity": str(quantity), "ConsumedUnit": unit, "PricingQuantity": str(quantity),
        "PricingUnit": unit, "Tags": json.dumps(tags) if tags else "NULL", "x_Model": model or "NULL",
    }


def focus_rows(period: Period, rng: random.Random) -> list[dict[str, str]]:
    """One month of an Azure FOCUS 1.2 export: AI rows per tagged project, non-AI rows, unmapped tags and a credit."""
    rows = []
    days = _days(period)
    projects = [(tag, spec) for tag, spec in azure_projects().items() if _live_in(spec, period)]
    projects += [(tag, None) for tag in UNMAPPED_AZURE_PROJECTS]
    for tag, spec in projects:
        scale = float(spec.declared_monthly_cost) / 1500 if spec is not None else 0.6
        for service, subcategory, description, model, unit, price in rng.sample(AZURE_AI_LINES, 3):
            for day in rng.sample(days, 3):
                quantity = Decimal(max(1, int(rng.uniform(40, 400) * scale / float(price) / 100)))
                cost = _money(quantity * price)
                if cost <= 0:
                    continue
                rows.append(_focus_row(period, day, category=AI, subcategory=subcategory, service=service,
                                       description=description, cost=cost, quantity=quantity, unit=unit,
                                       tags={"project": tag, "env": "prod"}, model=model, resource=tag))
    for _ in range(120):
        category, subcategory, service, description, unit, price = rng.choice(AZURE_OTHER_LINES)
        quantity = Decimal(rng.randint(10, 2000))
        rows.append(_focus_row(period, rng.choice(days), category=category, subcategory=subcategory, service=service,
                               description=description, cost=_money(quantity * price), quantity=quantity, unit=unit,
                               tags={"team": rng.choice(["platform", "data", "web"])}))
    rows.append(_focus_row(period, period.end - timedelta(days=1), category=AI, subcategory="Generative AI",
                           service="Azure OpenAI", description="Azure OpenAI commitment credit",
                           cost=_money(-rng.uniform(40, 90)), quantity=Decimal(1), unit="Credit", tags={},
                           charge="Credit"))
    rows.sort(key=lambda r: (r["ChargePeriodStart"], r["ServiceName"], r["Tags"]))
    return rows


def write_focus_file(directory: Path, period: Period, rng: random.Random) -> Path:
    path = directory / f"azure-focus-{period.start:%Y-%m}.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=FOCUS_COLUMNS)
        writer.writeheader()
        writer.writerows(focus_rows(period, rng))
    return path


# OpenAI --------------------------------------------------------------------------------------------------------------


def _epoch(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())


def openai_pages(period: Period, rng: random.Random) -> tuple[dict[str, Any], dict[str, Any]]:
    """The month's /costs and /usage/completions responses (one page each, daily buckets), in OpenAI's shapes."""
    projects = [(pid, spec) for pid, spec in openai_projects().items() if _live_in(spec, period)]
    projects.append((UNMAPPED_OPENAI_PROJECT, None))
    costs, usage = [], []
    for day in _days(period):
        cost_results, usage_results = [], []
        for pid, spec in projects:
            daily = (float(spec.declared_monthly_cost) if spec is not None else 900.0) / 30 * 0.4
            tokens_in = tokens_out = 0
            for line_item, price in OPENAI_LINES:
                value = round(daily * rng.uniform(0.1, 0.5), 2)
                tokens = int(value / price * 1_000_000)
                if "output" in line_item:
                    tokens_out += tokens
                else:
                    tokens_in += tokens
                cost_results.append({"object": "organization.costs.result",
                                     "amount": {"value": value, "currency": "usd"}, "line_item": line_item,
                                     "project_id": pid, "api_key_id": None, "quantity": tokens,
                                     "quantity_unit": "tokens"})
            usage_results.append({"object": "organization.usage.completions.result", "project_id": pid,
                                  "model": "gpt-4o-2024-08-06", "input_tokens": tokens_in,
                                  "output_tokens": tokens_out, "input_cached_tokens": tokens_in // 5,
                                  "num_model_requests": max(1, tokens_in // 1800), "api_key_id": None})
        bucket = {"start_time": _epoch(day), "end_time": _epoch(day + timedelta(days=1))}
        costs.append({"object": "bucket", **bucket, "results": cost_results})
        usage.append({"object": "bucket", **bucket, "results": usage_results})
    page = {"object": "page", "has_more": False, "next_page": None}
    return {**page, "data": costs}, {**page, "data": usage}


class _DemoApi:
    """A local stand-in for the providers' APIs: path -> JSON body, swapped per month. Never leaves 127.0.0.1."""

    def __init__(self) -> None:
        self.bodies: dict[str, Any] = {}
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                body = api.bodies.get(urlsplit(self.path).path)
                payload = json.dumps(body if body is not None else {"error": "not found"}).encode()
                self.send_response(200 if body is not None else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:  # quiet: the command prints a summary
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @contextmanager
    def running(self) -> Iterator[_DemoApi]:
        self.thread.start()
        try:
            yield self
        finally:
            self.httpd.shutdown()
            self.httpd.server_close()


# The step ------------------------------------------------------------------------------------------------------------


def _ingest(source: CostSource, period: Period, *, path: Path | None = None) -> IngestionRun:
    run = ingestion_run_create(source=source, period=period, trigger="command")
    run = ingestion_run_execute(run=run, path=path)
    if run.status != RunStatus.SUCCEEDED:
        raise RuntimeError(f"demo ingestion of {source.name} {period.label} failed: {run.error}")
    return run


def load_demo_costs(*, actor: AbstractUser | None = None) -> None:
    """Configure the demo sources and ingest every month not yet ingested, through the real connectors."""
    os.environ.setdefault(OPENAI_KEY_ENV, "demo-not-a-secret")
    done = set(IngestionRun.objects.filter(source__name__in=SOURCE_NAMES, status=RunStatus.SUCCEEDED)
               .values_list("source__name", "period"))
    api = _DemoApi()
    with api.running(), tempfile.TemporaryDirectory(prefix="tollgate-demo-") as tmp:
        # The API's port changes per load; the source keeps the last one (a disabled schedule never calls it).
        cost_config_apply(data=cost_config(api.url), actor=actor)
        sources = {s.name: s for s in CostSource.objects.filter(name__in=SOURCE_NAMES)}
        rng = random.Random(data.SEED)
        for period in demo_months():
            # Generate every month (the random stream stays the same), ingest only what is missing.
            focus_path = write_focus_file(Path(tmp), period, rng)
            costs, usage = openai_pages(period, rng)
            if (FOCUS_SOURCE, period.start) not in done:
                _ingest(sources[FOCUS_SOURCE], period, path=focus_path)
            if (OPENAI_SOURCE, period.start) not in done:
                api.bodies = {"/v1/organization/costs": costs, "/v1/organization/usage/completions": usage}
                _ingest(sources[OPENAI_SOURCE], period)


def costs_summary() -> CostsSummary:
    """Months ingested, sources, and the allocated/unallocated spend of the demo months (reporting currency)."""
    months = demo_months()
    totals = MonthlyCost.objects.filter(month__gte=months[0].start, month__lte=months[-1].start).aggregate(
        allocated=Sum("amount", filter=Q(initiative__isnull=False)),
        unallocated=Sum("amount", filter=Q(initiative__isnull=True)),
    )
    runs = IngestionRun.objects.filter(source__name__in=SOURCE_NAMES, status=RunStatus.SUCCEEDED)
    return CostsSummary(
        months=runs.values("period").distinct().count(),
        sources=runs.values("source").distinct().count(),
        allocated=totals["allocated"] or Decimal("0"),
        unallocated=totals["unallocated"] or Decimal("0"),
    )
