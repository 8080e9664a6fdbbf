"""Demo cost data, generated and then read through the real connectors and ingestion runs.

Why through the connectors: the demo then exercises the same parsing, allocation and roll-up code a customer's data
goes through, and a broken connector makes `load_demo` fail loudly instead of showing made-up figures.

Sources: "azure-focus" (monthly FOCUS 1.2 CSV exports written to a temporary directory), "m365-copilot" (the
Microsoft 365 Copilot usage report CSV, also a file), and four APIs served by a local HTTP server on 127.0.0.1 for the
duration of the load: "openai-org" (organization costs/usage), "anthropic-admin" (Admin API cost and usage reports),
"github-copilot" (seat assignments, paged by Link headers) and "opencost-gpu" (Kubernetes allocation per namespace).
The two Copilot sources feed the seat activity of their licence pools, whose seats x price become the licence cost
of the rollout initiatives. Generators of the newer sources are in tollgate.demo.providers.

Some spend is deliberately unallocated, as in any real estate (roughly a tenth of the latest month): Azure rows
tagged for projects no rule maps, an OpenAI sandbox project, Anthropic's default and sandbox workspaces, the shared
notebook, LLM-gateway and overhead namespaces of the GPU cluster, and a credit row without tags. Deterministic (one
random.Random per source) and idempotent: a (source, month) that already has a succeeded run is not read again.
"""

from __future__ import annotations

import csv
import json
import os
import random
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from django.db.models import Q, Sum
from django.utils.text import slugify

from portfolio.choices import RunStatus
from portfolio.costs.connectors.base import Period
from portfolio.costs.selectors import licence_pool_key
from portfolio.costs.services.config import cost_config_apply
from portfolio.costs.services.runs import ingestion_run_create, ingestion_run_execute
from portfolio.models import CostSource, IngestionRun, LicencePool, MonthlyCost
from tollgate.demo import data, providers
from tollgate.demo.clock import demo_clock
from tollgate.types import Actor

MONTHS = 12  # 2025-10 .. 2026-09, the twelve months before the reference date
FOCUS_SOURCE = "azure-focus"
OPENAI_SOURCE = "openai-org"
ANTHROPIC_SOURCE = "anthropic-admin"
OPENCOST_SOURCE = "opencost-gpu"
GITHUB_SOURCE = "github-copilot"
M365_SOURCE = "m365-copilot"
SOURCE_NAMES = (FOCUS_SOURCE, OPENAI_SOURCE, ANTHROPIC_SOURCE, OPENCOST_SOURCE, GITHUB_SOURCE, M365_SOURCE)
OPENAI_KEY_ENV = "TOLLGATE_DEMO_OPENAI_KEY"
ANTHROPIC_KEY_ENV = "TOLLGATE_DEMO_ANTHROPIC_KEY"
GITHUB_TOKEN_ENV = "TOLLGATE_DEMO_GITHUB_TOKEN"
AZURE_PROJECTS = 25
UNMAPPED_AZURE_PROJECTS = ("data-science-sandbox", "hackathon-2026")
UNMAPPED_OPENAI_PROJECT = "proj_SandboxShared01"
UNMAPPED_OPENAI_MONTHLY = 4000.0  # the shared sandbox project's spend before the daily jitter
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


def _share(part: Decimal, total: Decimal) -> Decimal:
    return (part * 100 / total).quantize(Decimal("0.1")) if total else Decimal("0")


@dataclass(frozen=True)
class CostsSummary:
    months: int
    sources: int
    allocated: Decimal
    unallocated: Decimal
    latest_month: str = ""
    latest_total: Decimal = Decimal("0")
    latest_unallocated: Decimal = Decimal("0")

    @property
    def unallocated_share(self) -> Decimal:
        return _share(self.unallocated, self.allocated + self.unallocated)

    @property
    def latest_unallocated_share(self) -> Decimal:
        return _share(self.latest_unallocated, self.latest_total)


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


def _pool_key(tool: str) -> str:
    """The stable key of the demo's licence pool of `tool` (the first of that name, as the builder picks it)."""
    pool = LicencePool.objects.select_related("initiative").filter(tool=tool).order_by("pk").first()
    if pool is None:
        raise LookupError(f"the demo company has no {tool} licence pool: the builder creates it before the costs")
    return licence_pool_key(pool)


def cost_config(base_url: str) -> dict[str, Any]:
    """The demo's sources and rules, in the shape `cost_config_apply` (and `apply_cost_config`) takes."""
    rules = [{"source": FOCUS_SOURCE, "key": "tag:project", "match": "exact", "value": tag,
              "initiative": spec.external_id} for tag, spec in azure_projects().items()]
    rules += [{"source": OPENAI_SOURCE, "key": "project_id", "match": "exact", "value": project,
               "initiative": spec.external_id} for project, spec in openai_projects().items()]
    rules += [{"source": ANTHROPIC_SOURCE, "key": "workspace_id", "match": "exact", "value": workspace,
               "initiative": spec.external_id} for workspace, spec in providers.anthropic_workspaces().items()]
    rules += [{"source": OPENCOST_SOURCE, "key": "namespace", "match": "exact", "value": namespace,
               "initiative": spec.external_id} for namespace, spec in providers.opencost_namespaces().items()]
    # Its demo API only lives during the load: an API source is disabled so no schedule calls it later.
    demo_api = {"base_url": base_url, "max_attempts": 1, "timeout": 10}
    return {
        "sources": [
            {"name": FOCUS_SOURCE, "type": "focus", "schedule": "monthly",
             "settings": {"ai_service_names": ["Azure OpenAI", "Azure Machine Learning"]}},
            {"name": OPENAI_SOURCE, "type": "openai", "schedule": "monthly", "credential_env": OPENAI_KEY_ENV,
             "enabled": False, "settings": demo_api},
            {"name": ANTHROPIC_SOURCE, "type": "anthropic", "schedule": "monthly", "credential_env": ANTHROPIC_KEY_ENV,
             "enabled": False, "settings": demo_api},
            {"name": OPENCOST_SOURCE, "type": "opencost", "schedule": "monthly", "enabled": False,
             "settings": {**demo_api, "aggregate": "namespace", "currency": "USD"}},
            {"name": GITHUB_SOURCE, "type": "github_copilot", "schedule": "monthly", "credential_env": GITHUB_TOKEN_ENV,
             "enabled": False, "settings": {**demo_api, "org": providers.GITHUB_ORG,
                                            "licence_pool": _pool_key(providers.GITHUB_POOL)}},
            {"name": M365_SOURCE, "type": "m365_copilot", "schedule": "monthly",
             "settings": {"licence_pool": _pool_key(providers.M365_POOL)}},
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
    projects: list[tuple[str, data.InitiativeSpec | None]] = [
        (tag, spec) for tag, spec in azure_projects().items() if _live_in(spec, period)
    ]
    projects += [(tag, None) for tag in UNMAPPED_AZURE_PROJECTS]
    for tag, spec in projects:
        scale = float(data.monthly_spend(spec, period.start)) / 1500 if spec is not None else 3.0
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
    projects: list[tuple[str, data.InitiativeSpec | None]] = [
        (pid, spec) for pid, spec in openai_projects().items() if _live_in(spec, period)
    ]
    projects.append((UNMAPPED_OPENAI_PROJECT, None))
    costs, usage = [], []
    for day in _days(period):
        cost_results, usage_results = [], []
        for pid, spec in projects:
            monthly = float(data.monthly_spend(spec, period.start)) if spec is not None else UNMAPPED_OPENAI_MONTHLY
            daily = monthly / 30 * 0.4
            # Completion tokens per model (the usage endpoint groups by model); embeddings have their own endpoint.
            tokens_by_model: dict[str, list[int]] = {}
            for line_item, price in OPENAI_LINES:
                value = round(daily * rng.uniform(0.1, 0.5), 2)
                tokens = int(value / price * 1_000_000)
                model, comma, kind = line_item.partition(",")
                if comma:
                    counts = tokens_by_model.setdefault(model, [0, 0])
                    counts[1 if "output" in kind else 0] += tokens
                cost_results.append({"object": "organization.costs.result",
                                     "amount": {"value": value, "currency": "usd"}, "line_item": line_item,
                                     "project_id": pid, "api_key_id": None, "quantity": tokens,
                                     "quantity_unit": "tokens"})
            for model, (tokens_in, tokens_out) in tokens_by_model.items():
                usage_results.append({"object": "organization.usage.completions.result", "project_id": pid,
                                      "model": model, "input_tokens": tokens_in, "output_tokens": tokens_out,
                                      "input_cached_tokens": tokens_in // 5,
                                      "num_model_requests": max(1, tokens_in // 1800), "api_key_id": None})
        bucket = {"start_time": _epoch(day), "end_time": _epoch(day + timedelta(days=1))}
        costs.append({"object": "bucket", **bucket, "results": cost_results})
        usage.append({"object": "bucket", **bucket, "results": usage_results})
    page = {"object": "page", "has_more": False, "next_page": None}
    return {**page, "data": costs}, {**page, "data": usage}


class _DemoApi:
    """A local stand-in for the providers' APIs: path -> JSON body, swapped per month. Never leaves 127.0.0.1.

    A path may hold a list of bodies: they are pages, served by `?page=N` with a GitHub-style Link header to the next.
    """

    def __init__(self) -> None:
        self.bodies: dict[str, Any] = {}
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                url = urlsplit(self.path)
                body = api.bodies.get(url.path)
                link = ""
                if isinstance(body, list):
                    pages = body
                    number = int((parse_qs(url.query).get("page") or ["1"])[0])
                    body = pages[number - 1] if 0 < number <= len(pages) else None
                    if number < len(pages):
                        link = f'<{api.url}{url.path}?per_page={providers.GITHUB_PAGE}&page={number + 1}>; rel="next"'
                payload = json.dumps(body if body is not None else {"error": "not found"}).encode()
                self.send_response(200 if body is not None else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                if link:
                    self.send_header("Link", link)
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


def load_demo_costs(*, actor: Actor | None = None, configured_at: datetime | None = None) -> None:
    """Configure the demo sources and ingest every month not yet ingested, through the real connectors.

    `configured_at`: when the sources were added (the demo company's first day), so they owe the months after their
    year of data as sources read all along do, not only from the day of the load (SourceCoverage.owes)."""
    os.environ.setdefault(OPENAI_KEY_ENV, "demo-not-a-secret")
    os.environ.setdefault(ANTHROPIC_KEY_ENV, "demo-not-a-secret")
    os.environ.setdefault(GITHUB_TOKEN_ENV, "demo-not-a-secret")
    done = set(IngestionRun.objects.filter(source__name__in=SOURCE_NAMES, status=RunStatus.SUCCEEDED)
               .values_list("source__name", "period"))
    months = demo_months()
    github_seats, m365_seats = (
        LicencePool.objects.filter(tool=tool).order_by("pk").values_list("seats_purchased", flat=True).first()
        for tool in (providers.GITHUB_POOL, providers.M365_POOL)
    )  # the first pool of each tool, as the builder picks it
    github_months = providers.seat_months(providers.GITHUB_POOL, months) if github_seats else []
    m365_months = providers.seat_months(providers.M365_POOL, months) if m365_seats else []
    seats_path = f"/orgs/{providers.GITHUB_ORG}/copilot/billing/seats"
    api = _DemoApi()
    with api.running(), tempfile.TemporaryDirectory(prefix="tollgate-demo-") as tmp:
        # The API's port changes per load; the source keeps the last one (a disabled schedule never calls it).
        with demo_clock(configured_at) if configured_at is not None else nullcontext():
            cost_config_apply(data=cost_config(api.url), actor=actor)
        sources = {s.name: s for s in CostSource.objects.filter(name__in=SOURCE_NAMES)}
        rng = random.Random(data.SEED)
        streams = {name: random.Random(f"{data.SEED}-{name}") for name in SOURCE_NAMES}
        for period in months:
            # Generate every month (the random streams stay the same), ingest only what is missing.
            focus_path = write_focus_file(Path(tmp), period, rng)
            costs, usage = openai_pages(period, rng)
            anthropic_costs, anthropic_usage = providers.anthropic_reports(period, streams[ANTHROPIC_SOURCE])
            opencost = providers.opencost_response(period, streams[OPENCOST_SOURCE])
            github = (providers.github_seat_pages(period, months, github_seats, streams[GITHUB_SOURCE])
                      if github_seats and period in github_months else None)
            m365_path = (providers.write_m365_report(Path(tmp), period, months, m365_seats, streams[M365_SOURCE])
                         if m365_seats and period in m365_months else None)
            api.bodies = {
                "/v1/organization/costs": costs, "/v1/organization/usage/completions": usage,
                "/v1/organizations/cost_report": anthropic_costs,
                "/v1/organizations/usage_report/messages": anthropic_usage,
                "/allocation/compute": opencost, seats_path: github,
            }
            wanted = [(FOCUS_SOURCE, focus_path), (OPENAI_SOURCE, None), (ANTHROPIC_SOURCE, None),
                      (OPENCOST_SOURCE, None)]
            wanted += [(GITHUB_SOURCE, None)] if github is not None else []
            wanted += [(M365_SOURCE, m365_path)] if m365_path is not None else []
            for name, path in wanted:
                if (name, period.start) not in done:
                    _ingest(sources[name], period, path=path)


def costs_summary() -> CostsSummary:
    """Months ingested, sources, the allocated/unallocated spend of the demo months and of the latest one."""
    months = demo_months()
    totals = MonthlyCost.objects.filter(month__gte=months[0].start, month__lte=months[-1].start).aggregate(
        allocated=Sum("amount", filter=Q(initiative__isnull=False)),
        unallocated=Sum("amount", filter=Q(initiative__isnull=True)),
        latest=Sum("amount", filter=Q(month=months[-1].start)),
        latest_unallocated=Sum("amount", filter=Q(month=months[-1].start, initiative__isnull=True)),
    )
    runs = IngestionRun.objects.filter(source__name__in=SOURCE_NAMES, status=RunStatus.SUCCEEDED)
    return CostsSummary(
        months=runs.values("period").distinct().count(),
        sources=runs.values("source").distinct().count(),
        allocated=totals["allocated"] or Decimal("0"),
        unallocated=totals["unallocated"] or Decimal("0"),
        latest_month=months[-1].label,
        latest_total=totals["latest"] or Decimal("0"),
        latest_unallocated=totals["latest_unallocated"] or Decimal("0"),
    )
