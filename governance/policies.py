"""Every threshold Tollgate applies, declared once with its type, default and allowed range.

Administrators change the values (stored in governance.Policy, audited); code reads them through
`governance.selectors.policy_value(key)`, never through constants of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from tollgate.formatting import money_per


@dataclass(frozen=True)
class PolicyDefinition:
    key: str
    label: str
    kind: str  # "int" or "decimal"
    default: Decimal
    minimum: Decimal
    maximum: Decimal
    unit: str = ""
    help: str = ""


def _p(key: str, label: str, kind: str, default: str, minimum: str, maximum: str, unit: str = "", help: str = ""):
    return PolicyDefinition(key, label, kind, Decimal(default), Decimal(minimum), Decimal(maximum), unit, help)


DEFINITIONS: tuple[PolicyDefinition, ...] = (
    _p("intake.quorum", "Reviewer quorum", "int", "2", "1", "10", "reviewers",
       "Reviewers who must score an intake before it can be approved."),
    _p("intake.approval_score", "Approval threshold", "decimal", "3.0", "1", "5", "of 5",
       "Minimum weighted rubric score (average over reviewers) to approve."),
    _p("kill.value_per_dollar_floor", "Value per dollar floor", "decimal", "1.0", "0", "100", "x",
       "Kill candidate when value per AI dollar stays below this..."),
    _p("kill.value_per_dollar_quarters", "Quarters below the floor", "int", "2", "1", "8", "quarters",
       "...for this many consecutive quarters."),
    _p("kill.kpi_missed_share", "Share of KPI targets missed", "decimal", "0.5", "0", "1", "share",
       "Kill candidate when at least this share of KPI targets is missed..."),
    _p("kill.kpi_missed_reviews", "Reviews with targets missed", "int", "2", "1", "8", "reviews",
       "...at this many reviews."),
    _p("kill.report_overdue_days", "Value report overdue", "int", "30", "1", "365", "days",
       "Kill candidate when a value report is overdue by more than this."),
    _p("kill.pilot_max_months", "Pilot age without scale", "int", "9", "1", "60", "months",
       "Kill candidate when a pilot is older than this without minimum-viable-scale evidence."),
    _p("kill.cost_overrun_pct", "Cost overrun", "decimal", "25", "0", "1000", "%",
       "Kill candidate when a quarter's cost is this much above the business case."),
    _p("licence.utilisation_floor_pct", "Licence utilisation floor", "decimal", "40", "0", "100", "%",
       "Seats active in the last 30 days / seats purchased below this is licence waste."),
    _p("scale.value_per_dollar_min", "Scale candidate value per dollar", "decimal", "3", "0", "100", "x",
       "Scale candidate when value per dollar is above this with targets met."),
    _p("reviews.first_reminder_days", "First reminder", "int", "14", "0", "90", "days before due",
       "Owners are reminded this many days before a value report is due."),
    _p("reviews.second_reminder_days", "Second reminder", "int", "3", "0", "90", "days before due",
       "...and again this many days before."),
    _p("reviews.escalation_days", "Escalate overdue reports after", "int", "7", "0", "365", "days overdue",
       "Overdue reports are escalated to the department head and the CoE after this many days."),
    _p("forecast.price_decline_pct", "Unit price decline per year", "decimal", "60", "0", "99", "%",
       "Expected yearly decline of inference unit prices, for the Jevons-aware forecast."),
    # Signals (issue 11): licence waste's suggested seat count, the self-hosting comparison, re-raising.
    _p("licence.inactivity_window_days", "Seat inactivity window", "int", "60", "7", "365", "days",
       "A seat used, or assigned, within this many days counts towards the suggested seat count of a pool."),
    _p("licence.buffer_pct", "Seat buffer", "decimal", "10", "0", "100", "%",
       "Headroom added to the seats in use when suggesting a pool's seat count."),
    _p("self_host.throughput_tokens_per_s", "Self-hosted throughput per GPU", "decimal", "2500", "1", "1000000",
       "tokens / s",
       "Tokens one rented H100 serves per second with an 8B open model on vLLM. Default: half the 5,103 tokens/s "
       "of the MLPerf Inference v5.1 server result for Llama 3.1 8B (FP8, vLLM 0.10, one H100; Red Hat, 2025), "
       "for unquantised weights and uneven traffic."),
    _p("self_host.utilisation_pct", "Self-hosted GPU utilisation", "decimal", "50", "1", "100", "%",
       "Share of a rented GPU's hours that serve traffic (the rest is idle headroom for peaks)."),
    _p("self_host.gpu_hour_price", "GPU-hour price", "decimal", "3.00", "0", "1000", money_per("GPU-hour"),
       "On-demand price of one H100 80GB hour. Default: 2026 list prices of $2.49-2.79 (Lambda, RunPod Secure "
       "Cloud), rounded up."),
    _p("self_host.monthly_operating_cost", "Self-hosting operating cost", "decimal", "5000", "0", "10000000",
       money_per("month"),
       "Fixed monthly cost of running models yourself: a quarter of an ML platform engineer (about $240,000 a year "
       "fully loaded), monitoring and storage."),
    # Cost ingestion (issue 13): when a source counts as late and a month as missing.
    _p("ingestion.grace_days", "Ingestion grace", "int", "3", "0", "31", "days",
       "A cost source is late, and a month it has not delivered is missing, once its schedule's read is this many "
       "days overdue; administrators are told once per source and month."),
    _p("signals.rerise_margin_pct", "Materially worse", "decimal", "20", "0", "1000", "%",
       "A dismissed signal is raised again only when the figure it measures gets this much worse."),
    _p("sprawl.variable_share_pct", "Variable share of duplicated spend", "decimal", "50", "0", "100", "%",
       "When a sprawl cluster consolidates onto its most expensive member, this share of the others' spend is "
       "usage that moves with them; the rest is saved."),
)

BY_KEY: dict[str, PolicyDefinition] = {d.key: d for d in DEFINITIONS}


@dataclass(frozen=True)
class PolicyOrder:
    """Two policies whose values only make sense one below the other; `why` ends the refusal of a value that would
    put them the other way round."""

    smaller: str
    larger: str
    why: str


ORDERS: tuple[PolicyOrder, ...] = (
    PolicyOrder("reviews.second_reminder_days", "reviews.first_reminder_days",
                "the second reminder comes after the first, nearer the due date"),
)
