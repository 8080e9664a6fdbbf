"""Generated provider data for the demo company, in each provider's documented shape (../shared/FORMATS.md).

Anthropic Admin API cost and usage reports (sections 3), GitHub Copilot seat assignments (4), the Microsoft 365 Copilot
usage report CSV export (5) and OpenCost allocation responses (6). tollgate.demo.costs serves the API bodies from a
local HTTP server and writes the report to a file, so everything is read by the real connectors.

Deliberately unallocated (no rule maps it): Anthropic's default workspace (Console and Workbench use, no API key) and
an innovation-lab sandbox workspace; the Kubernetes namespaces of the shared data-science notebooks, the shared LLM
gateway and cluster overhead (monitoring, kube-system). OpenCost's `__idle__` is read and skipped, as the connector
documents. Each generator takes its own random.Random, so the figures are deterministic.
"""

from __future__ import annotations

import csv
import hashlib
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from django.utils.text import slugify

from portfolio.costs.connectors.base import Period
from tollgate.demo import data

LIVE_STAGES = ("pilot", "production")
CENT = Decimal("0.01")

# Anthropic --------------------------------------------------------------------------------------------------------

ANTHROPIC_SHARE = Decimal("0.35")  # of an initiative's declared monthly cost that shows up on the Anthropic bill
ANTHROPIC_MODELS = {  # catalogue name -> (API model id, display name, $ per MTok input, output)
    "claude-sonnet-4": ("claude-sonnet-4-20250514", "Claude Sonnet 4", Decimal("3"), Decimal("15")),
    "claude-opus-4": ("claude-opus-4-20250514", "Claude Opus 4", Decimal("15"), Decimal("75")),
    "claude-3-5-haiku": ("claude-3-5-haiku-20241022", "Claude Haiku 3.5", Decimal("0.80"), Decimal("4")),
}
DEFAULT_WORKSPACE = None  # the organisation's default workspace: null in the API, "default" to the connector
ANTHROPIC_SANDBOX = "wrkspc_01InnovationLabSandbox0"
ANTHROPIC_UNMAPPED = {DEFAULT_WORKSPACE: Decimal("1400"), ANTHROPIC_SANDBOX: Decimal("2600")}  # monthly spend
TOKEN_SPLIT = (("uncached_input_tokens", "Input Tokens", Decimal("0.35")),
               ("output_tokens", "Output Tokens", Decimal("0.55")),
               ("cache_read_input_tokens", "Cache Read Input Tokens", Decimal("0.10")))

# OpenCost ---------------------------------------------------------------------------------------------------------

OPENCOST_SHARE = Decimal("0.45")  # of an in-house model's declared cost that runs on the Kubernetes GPU cluster
OPENCOST_VENDORS = {"CoreWeave", "Meta", "Hugging Face", "Mistral AI", "Databricks"}
OPENCOST_NAMESPACES = 10
OPENCOST_UNMAPPED = {  # namespace -> (monthly cost, share of it on GPUs)
    "ds-notebooks": (Decimal("6800"), Decimal("0.8")),  # the data scientists' shared JupyterHub
    "llm-gateway": (Decimal("4200"), Decimal("0.7")),  # shared vLLM gateway several teams call, no chargeback yet
    "monitoring": (Decimal("700"), Decimal("0")),
    "kube-system": (Decimal("450"), Decimal("0")),
}
OPENCOST_IDLE = Decimal("2100")  # monthly idle capacity: read, skipped, never counted
GPU_HOUR_PRICE = Decimal("2.48")  # A100 80GB on-demand, $ per GPU-hour

# Seats ------------------------------------------------------------------------------------------------------------

GITHUB_POOL = "GitHub Copilot Business"
M365_POOL = "Microsoft 365 Copilot"
GITHUB_ORG = "northwind-mutual"
GITHUB_PAGE = 100


@dataclass(frozen=True)
class SeatPlan:
    """How a rollout fills its pool: the share assigned and active in its first and last demo month."""

    assigned_from: float
    assigned_to: float
    active_from: float
    active_to: float


SEAT_PLANS = {
    GITHUB_POOL: SeatPlan(0.45, 0.95, 0.64, 0.81),
    M365_POOL: SeatPlan(0.48, 0.94, 0.30, 0.38),  # Copilot bought for everyone, used by a third: licence waste
}
GITHUB_TEAMS = ("claims-platform", "pricing-engineering", "digital-channels", "data-platform", "core-policy",
                "mobile", "sre", "security-engineering", "integration", "qa-automation")
EDITORS = ("vscode/1.104.2/copilot/1.372.0", "JetBrains-IC/2025.2/copilot-intellij/1.5.58",
           "vscode/1.103.1/copilot/1.364.1", "VisualStudio/17.14.9/copilot-vs/1.296.0")
FIRST_NAMES = (
    "aisha", "alex", "amir", "ana", "ben", "carla", "chen", "chloe", "daniel", "dev", "elena", "emma", "farah",
    "felix", "grace", "hana", "hugo", "ines", "isaac", "jade", "james", "jonas", "julia", "kai", "kofi", "lara",
    "leo", "lena", "liam", "lucia", "maya", "marco", "mei", "mila", "nadia", "nina", "noah", "olga", "omar", "oscar",
    "paula", "priya", "rafael", "rosa", "sam", "sara", "sofia", "tariq", "theo", "uma", "victor", "wen", "yara",
    "yusuf", "zoe", "ravi", "hannah", "ethan", "diego", "isabel",
)
LAST_NAMES = (
    "adams", "ahmed", "alvarez", "bauer", "bennett", "brooks", "campbell", "chen", "costa", "dubois", "evans",
    "fischer", "garcia", "gupta", "hansen", "hughes", "ivanova", "jensen", "kaur", "kim", "kowalski", "lambert",
    "larsen", "lopez", "martin", "meyer", "moreno", "murphy", "nakamura", "nguyen", "novak", "obrien", "okafor",
    "park", "patel", "peters", "quinn", "rossi", "santos", "schmidt", "silva", "singh", "smith", "sousa", "suzuki",
    "taylor", "thomas", "walker", "wang", "weber", "wilson", "wong", "young", "zhang", "mensah", "haddad", "berg",
    "castro", "dias", "reyes",
)
M365_COLUMNS = (
    "Report Refresh Date", "Report Period", "User Principal Name", "Display Name", "Last Activity Date",
    "Microsoft Teams Copilot Last Activity Date", "Word Copilot Last Activity Date",
    "Excel Copilot Last Activity Date", "PowerPoint Copilot Last Activity Date", "Outlook Copilot Last Activity Date",
    "OneNote Copilot Last Activity Date", "Loop Copilot Last Activity Date", "Copilot Chat Last Activity Date",
)


def _money(value: Decimal) -> Decimal:
    return value.quantize(CENT, ROUND_HALF_UP)


def _days(period: Period) -> list[date]:
    return [period.start + timedelta(days=n) for n in range((period.end - period.start).days)]


def _iso(day: date) -> str:
    return datetime(day.year, day.month, day.day, tzinfo=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _stable_id(prefix: str, text: str, length: int = 22) -> str:
    """An id in the provider's style, derived from `text` so it is the same on every load."""
    digest = hashlib.sha256(text.encode()).hexdigest()
    alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZabcdefghijkmnopqrstuvwxyz"
    number = int(digest, 16)
    chars = []
    for _ in range(length):
        number, index = divmod(number, len(alphabet))
        chars.append(alphabet[index])
    return f"{prefix}01{''.join(chars)}"


def live_specs(*vendors: str) -> list[data.InitiativeSpec]:
    return [s for s in data.initiative_specs() if s.stage in LIVE_STAGES and set(vendors) & set(s.vendors)]


def live_in(spec: data.InitiativeSpec, period: Period) -> bool:
    return spec.start_date < period.end


# Anthropic --------------------------------------------------------------------------------------------------------


def anthropic_workspaces() -> dict[str, data.InitiativeSpec]:
    """Workspace id -> initiative: each live initiative on Anthropic's API has its own workspace (the rules)."""
    return {_stable_id("wrkspc_", s.external_id): s for s in live_specs("Anthropic")}


def _claude_models(spec: data.InitiativeSpec | None) -> list[str]:
    names = [m for m in (spec.models if spec else ()) if m in ANTHROPIC_MODELS]
    return names or ["claude-sonnet-4"]


def anthropic_reports(period: Period, rng: random.Random) -> tuple[dict[str, Any], dict[str, Any]]:
    """The month's cost report (grouped by workspace and description, amounts in cents) and messages usage report
    (grouped by workspace, API key and model), one page each with daily buckets."""
    spenders: list[tuple[str | None, Decimal, list[str]]] = [
        (workspace, data.monthly_spend(spec, period.start) * ANTHROPIC_SHARE, _claude_models(spec))
        for workspace, spec in anthropic_workspaces().items() if live_in(spec, period)
    ]
    spenders += [(workspace, monthly, ["claude-sonnet-4", "claude-3-5-haiku"])
                 for workspace, monthly in ANTHROPIC_UNMAPPED.items()]
    days = _days(period)
    cost_buckets, usage_buckets = [], []
    for day in days:
        costs, usage = [], []
        for workspace, monthly, models in spenders:
            api_key = None if workspace is None else _stable_id("apikey_", f"{workspace}-prod", 20)
            daily = monthly / len(days) * Decimal(str(round(rng.uniform(0.6, 1.4), 3)))
            for name in models:
                model_id, display, input_price, output_price = ANTHROPIC_MODELS[name]
                spend = daily / len(models)
                tokens: dict[str, int] = {}
                for token_type, label, share in TOKEN_SPLIT:
                    price = {"output_tokens": output_price, "cache_read_input_tokens": input_price / 10}.get(
                        token_type, input_price)
                    cents = _money(spend * share * 100)
                    tokens[token_type] = int(spend * share / price * 1_000_000)
                    costs.append({
                        "amount": str(cents), "currency": "USD", "workspace_id": workspace,
                        "description": f"{display} Usage - {label}", "cost_type": "tokens", "model": model_id,
                        "token_type": token_type, "service_tier": "standard", "context_window": "0-200k",
                        "inference_geo": "not_available",
                    })
                usage.append({
                    "api_key_id": api_key, "workspace_id": workspace, "model": model_id,
                    "service_tier": None, "context_window": None,
                    "uncached_input_tokens": tokens["uncached_input_tokens"],
                    "cache_read_input_tokens": tokens["cache_read_input_tokens"],
                    "cache_creation": {"ephemeral_1h_input_tokens": 0,
                                       "ephemeral_5m_input_tokens": tokens["cache_read_input_tokens"] // 8},
                    "output_tokens": tokens["output_tokens"],
                    "server_tool_use": {"web_search_requests": 0},
                })
        window = {"starting_at": _iso(day), "ending_at": _iso(day + timedelta(days=1))}
        cost_buckets.append({**window, "results": costs})
        usage_buckets.append({**window, "results": usage})
    page = {"has_more": False, "next_page": None}
    return {"data": cost_buckets, **page}, {"data": usage_buckets, **page}


# OpenCost ---------------------------------------------------------------------------------------------------------


def opencost_namespaces() -> dict[str, data.InitiativeSpec]:
    """Namespace -> initiative: in-house and open-weights models run on the Kubernetes GPU cluster (the rules)."""
    specs = [s for s in data.initiative_specs() if s.stage in LIVE_STAGES
             and (OPENCOST_VENDORS & set(s.vendors) or "open-weights" in s.tags)]
    specs.sort(key=lambda s: s.declared_monthly_cost, reverse=True)
    return {"-".join(slugify(s.name).split("-")[:3]): s for s in specs[:OPENCOST_NAMESPACES]}


def _allocation(name: str, day: date, total: Decimal, gpu_share: Decimal) -> dict[str, Any]:
    gpu_cost = _money(total * gpu_share)
    rest = total - gpu_cost
    cpu, ram, pv = _money(rest * Decimal("0.55")), _money(rest * Decimal("0.3")), _money(rest * Decimal("0.1"))
    network = _money(total - gpu_cost - cpu - ram - pv)
    gpu_hours = (gpu_cost / GPU_HOUR_PRICE).quantize(Decimal("0.00001"))
    return {
        "name": name,
        "properties": {"cluster": "nw-gpu-prod", "namespace": name},
        "window": {"start": _iso(day), "end": _iso(day + timedelta(days=1))},
        "start": _iso(day), "end": _iso(day + timedelta(days=1)), "minutes": 1440,
        "cpuCost": float(cpu), "gpuCount": float((gpu_hours / 24).quantize(Decimal("0.01"))),
        "gpuHours": float(gpu_hours), "gpuCost": float(gpu_cost), "ramCost": float(ram), "pvCost": float(pv),
        "networkCost": float(network), "loadBalancerCost": 0, "sharedCost": 0, "externalCost": 0,
        "totalCost": float(total), "totalEfficiency": 0.62,
    }


def opencost_response(period: Period, rng: random.Random) -> dict[str, Any]:
    """The month's /allocation/compute answer with step=1d: one {namespace: allocation} map per day."""
    workloads: list[tuple[str, Decimal, Decimal]] = [
        (namespace, data.monthly_spend(spec, period.start) * OPENCOST_SHARE, Decimal("0.85"))
        for namespace, spec in opencost_namespaces().items() if live_in(spec, period)
    ]
    workloads += [(namespace, monthly, gpu) for namespace, (monthly, gpu) in OPENCOST_UNMAPPED.items()]
    workloads.append(("__idle__", OPENCOST_IDLE, Decimal("0.9")))
    days = _days(period)
    steps = []
    for day in days:
        step = {}
        for namespace, monthly, gpu_share in workloads:
            total = _money(monthly / len(days) * Decimal(str(round(rng.uniform(0.75, 1.25), 3))))
            step[namespace] = _allocation(namespace, day, total, gpu_share)
        steps.append(step)
    return {"code": 200, "data": steps}


# Seats ------------------------------------------------------------------------------------------------------------


def pool_spec(tool: str) -> data.InitiativeSpec | None:
    return next((s for s in data.initiative_specs() if s.pool == tool), None)


def seat_months(tool: str, months: list[Period]) -> list[Period]:
    """The demo months the rollout of `tool` was live in (its initiative started before the month ended)."""
    spec = pool_spec(tool)
    return [] if spec is None else [m for m in months if live_in(spec, m)]


def _people(count: int, seed: str) -> list[tuple[str, str]]:
    """`count` distinct (first, last) names, the same on every load."""
    pairs = [(first, last) for first in FIRST_NAMES for last in LAST_NAMES]
    random.Random(seed).shuffle(pairs)
    return pairs[:count]


def _seat_counts(tool: str, period: Period, months: list[Period], purchased: int) -> tuple[int, float]:
    plan = SEAT_PLANS[tool]
    live = seat_months(tool, months)
    step = live.index(period) / max(1, len(live) - 1)
    assigned = round(purchased * (plan.assigned_from + (plan.assigned_to - plan.assigned_from) * step))
    return min(assigned, purchased), plan.active_from + (plan.active_to - plan.active_from) * step


def _last_activity(period: Period, rng: random.Random, active_share: float) -> date | None:
    """Inside the month's last 30 days for an active seat; weeks earlier, or never, for an idle one."""
    if rng.random() < active_share:
        return period.end - timedelta(days=rng.randint(1, 28))
    return None if rng.random() < 0.4 else period.end - timedelta(days=rng.randint(35, 120))


def github_seat_pages(period: Period, months: list[Period], purchased: int, rng: random.Random
                      ) -> list[dict[str, Any]]:
    """The month's seat list as GitHub pages it (100 a page, the caller adds the Link headers)."""
    assigned, active_share = _seat_counts(GITHUB_POOL, period, months, purchased)
    seats = []
    for number, (first, last) in enumerate(_people(assigned, "github-copilot"), start=1):
        activity = _last_activity(period, rng, active_share)
        created = period.start - timedelta(days=rng.randint(0, 200))
        seats.append({
            "created_at": _iso(min(created, activity) if activity else created),
            "pending_cancellation_date": None,
            "last_activity_at": _iso(activity).replace("T00:00:00", f"T{rng.randint(7, 19):02d}:{number % 60:02d}:07")
            if activity else None,
            "last_activity_editor": rng.choice(EDITORS) if activity else None,
            "last_authenticated_at": _iso(activity) if activity else None,
            "plan_type": "business",
            "assignee": {"login": f"{first}-{last}-nw", "id": 7_000_000 + number,
                         "type": "User"},
            "assigning_team": {"id": 40 + number % len(GITHUB_TEAMS), "slug": GITHUB_TEAMS[number % len(GITHUB_TEAMS)],
                               "name": GITHUB_TEAMS[number % len(GITHUB_TEAMS)].replace("-", " ").title()},
        })
    return [{"total_seats": len(seats), "seats": seats[start:start + GITHUB_PAGE]}
            for start in range(0, max(1, len(seats)), GITHUB_PAGE)]


def write_m365_report(directory: Path, period: Period, months: list[Period], purchased: int,
                      rng: random.Random) -> Path:
    """The admin center's Copilot usage CSV export (D30) as of the month's last day: licensed users only."""
    assigned, active_share = _seat_counts(M365_POOL, period, months, purchased)
    refreshed = period.end - timedelta(days=1)
    path = directory / f"m365-copilot-usage-{period.start:%Y-%m}.csv"
    with path.open("w", newline="", encoding="utf-8-sig") as handle:
        writer = csv.writer(handle)
        writer.writerow(M365_COLUMNS)
        for first, last in _people(assigned, "m365-copilot"):
            activity = _last_activity(period, rng, active_share)
            apps = [(activity - timedelta(days=rng.randint(0, 9))).isoformat()
                    if activity and rng.random() < 0.6 else "" for _ in range(8)]
            if activity:
                apps[0] = activity.isoformat()  # Teams: where most people meet Copilot first
            writer.writerow([refreshed.isoformat(), "30", f"{first}.{last}@{data.EMAIL_DOMAIN}",
                             f"{first.title()} {last.title()}", activity.isoformat() if activity else "", *apps])
    return path
