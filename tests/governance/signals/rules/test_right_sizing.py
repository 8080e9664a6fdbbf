"""Right-sizing and self-hosting on worked examples; the model-name matching rule."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from governance.signals.rules.facts import CatalogueModel, TokenUsage
from governance.signals.rules.right_sizing import (
    ObservedGpuPrice,
    match_model,
    right_size,
    self_host,
    self_hosting_cost,
    token_cost,
)
from tests.governance.signals.rules.facts import initiative

MONTH = date(2026, 9, 1)
MINI = CatalogueModel("gpt-4o-mini", "small", Decimal("0.15"), Decimal("0.60"), "/models/?q=gpt-4o-mini")
GPT4O = CatalogueModel("gpt-4o", "frontier", Decimal("2.50"), Decimal("10.00"), "/models/?q=gpt-4o", substitute=MINI)
EMBED = CatalogueModel("text-embedding-3-small", "embedding", Decimal("0.02"), None, "/models/")
CATALOGUE = ["gpt-4o", "gpt-4o-mini", "claude-sonnet-4", "llama-3.1-8b-instruct", "o3"]


@pytest.mark.parametrize(("reported", "expected"), [
    ("gpt-4o", "gpt-4o"),
    ("GPT-4o", "gpt-4o"),
    (" gpt-4o-mini ", "gpt-4o-mini"),
    ("gpt-4o-2024-08-06", "gpt-4o"),
    ("gpt-4o-mini-2024-07-18", "gpt-4o-mini"),  # the longest catalogue name wins
    ("claude-sonnet-4-20250514", "claude-sonnet-4"),
    ("meta-llama/Llama-3.1-8B-Instruct", "llama-3.1-8b-instruct"),
    ("o3-mini", "o3"),
    ("gpt-4", None),  # a catalogue name is never cut: gpt-4 is not gpt-4o
    ("gpt-4ox", None),
    ("", None),
])
def test_a_reported_model_matches_the_catalogue_name_or_a_snapshot_of_it(reported, expected):
    assert match_model(reported, CATALOGUE) == expected


def test_token_cost_at_list_prices_with_cached_input_at_a_tenth():
    assert token_cost(GPT4O, 1_000_000, 1_000_000) == Decimal("12.50")
    assert token_cost(GPT4O, 1_000_000, 1_000_000, cached_tokens=400_000) == Decimal("11.60")  # 1.5 + 0.1 + 10
    assert token_cost(GPT4O, 1_000_000, 0, cached_tokens=5_000_000) == Decimal("0.25")  # never more than the input
    assert token_cost(EMBED, 1_000_000, 0) == Decimal("0.02")
    assert token_cost(EMBED, 1_000_000, 10) is None  # an output price the tokens need is unknown


def usage(model: CatalogueModel | None, input_tokens: int, output_tokens: int, name: str = "gpt-4o",
          cached: int = 0) -> TokenUsage:
    return TokenUsage(name, input_tokens, output_tokens, cached, model, "/portfolio/initiatives/7/#actual-cost")


def test_right_size_saves_the_difference_at_the_substitutes_prices():
    # 400M input + 100M output on gpt-4o: 1,000 + 1,000 = 2,000; on gpt-4o-mini 60 + 60 = 120.
    found = right_size(initiative(), [usage(GPT4O, 300_000_000, 60_000_000, "gpt-4o-2024-08-06"),
                                      usage(GPT4O, 100_000_000, 40_000_000)], month=MONTH)
    assert len(found) == 1
    signal = found[0]
    assert signal.monthly_saving == Decimal("1880.00") and signal.metric == Decimal("1880.00")
    assert (signal.subject, signal.period, signal.severity) == ("right_size:INV-0007:gpt-4o", "2026-09", "medium")
    assert {n.label: n.value for n in signal.numbers}["Input tokens on gpt-4o, 2026-09"] == "400000000"


def test_cached_input_lowers_both_sides_of_right_sizing():
    found = right_size(initiative(), [usage(GPT4O, 400_000_000, 100_000_000, cached=100_000_000)], month=MONTH)
    # gpt-4o: 300M x 2.5 + 100M x 0.25 + 100M x 10 = 1,775; mini: 300M x 0.15 + 100M x 0.015 + 100M x 0.6 = 106.5
    assert found[0].monthly_saving == Decimal("1668.50")


def test_no_right_size_without_a_cheaper_lower_tier_substitute():
    assert right_size(initiative(), [usage(MINI, 10**9, 10**9, "gpt-4o-mini")], month=MONTH) == []
    same_tier = CatalogueModel("o3", "frontier", Decimal("2"), Decimal("8"), "/", substitute=GPT4O)
    assert right_size(initiative(), [usage(same_tier, 10**9, 10**9, "o3")], month=MONTH) == []
    pricier = CatalogueModel("cheap-frontier", "frontier", Decimal("0.01"), Decimal("0.01"), "/", substitute=MINI)
    assert right_size(initiative(), [usage(pricier, 10**9, 10**9, "x")], month=MONTH) == []
    assert right_size(initiative(), [usage(None, 10**9, 10**9, "unknown-model")], month=MONTH) == []


def test_self_hosting_cost_and_break_even_on_a_worked_example():
    # 1.8 billion tokens at 2,500 tokens/s x 3600 x 50% = 4.5M tokens per GPU-hour: 400 GPU-hours x $3 = $1,200,
    # + $5,000 operating = $6,200. API: $10 per 1M tokens = $18,000. Break-even: 5000 / (0.00001 - 3/4.5M) tokens.
    hosting = self_hosting_cost(tokens=1_800_000_000, api_cost=Decimal("18000"), throughput=Decimal("2500"),
                                utilisation_pct=Decimal("50"), gpu_hour_price=Decimal("3"),
                                operating_cost=Decimal("5000"))
    assert hosting.gpu_hours == Decimal("400")
    assert hosting.gpu_cost == Decimal("1200")
    assert hosting.total == Decimal("6200")
    assert hosting.break_even_tokens == 535_714_286  # 5000 / (0.00001 - 0.000000666...)
    never = self_hosting_cost(tokens=1000, api_cost=Decimal("0.0001"), throughput=Decimal("2500"),
                              utilisation_pct=Decimal("50"), gpu_hour_price=Decimal("3"), operating_cost=Decimal("1"))
    assert never.break_even_tokens is None


POLICIES = {"throughput": Decimal("2500"), "utilisation_pct": Decimal("50"), "gpu_hour_price": Decimal("3"),
            "operating_cost": Decimal("5000")}


def test_self_host_when_the_gpus_cost_less_than_the_api():
    # 1.6B input + 0.2B output on gpt-4o: 4,000 + 2,000 = $6,000; GPUs: 400 h x 3 + 5,000 = $6,200 -> not yet.
    assert self_host(initiative(), [usage(GPT4O, 1_600_000_000, 200_000_000)], month=MONTH, **POLICIES) is None
    # 2B input + 0.2B output: 5,000 + 2,000 = $7,000 against 488.9 h x 3 + 5,000 = $6,466.67.
    found = self_host(initiative(), [usage(GPT4O, 2_000_000_000, 200_000_000)], month=MONTH, **POLICIES)
    assert found is not None
    numbers = {n.label: n.value for n in found.numbers}
    assert numbers["API cost at list prices (cached input at a tenth)"] == "7000.00"
    assert numbers["GPU-hours needed"] == "488.9"
    assert numbers["Self-hosted cost per month"] == "6466.67"
    assert found.monthly_saving == Decimal("533.33")
    assert found.policies == {"self_host.throughput_tokens_per_s": "2500", "self_host.utilisation_pct": "50",
                              "self_host.gpu_hour_price": "3", "self_host.monthly_operating_cost": "5000"}
    assert numbers["Break-even tokens per month"] == str(int(Decimal(5000) / (Decimal(7000) / 2_200_000_000
                                                                               - Decimal(3) / 4_500_000)))


def test_self_host_at_break_even_does_not_raise():
    # Exactly equal: 4.5M tokens per GPU-hour, 9B tokens = 2,000 h = $6,000 + $5,000 = $11,000 = 9,000M x $11/9/1M.
    model = CatalogueModel("flat", "mid", Decimal("11") / 9, Decimal("11") / 9, "/")
    assert self_host(initiative(), [usage(model, 9_000_000_000, 0, "flat")], month=MONTH, **POLICIES) is None


def test_self_host_leaves_out_embedding_and_unpriced_models():
    assert self_host(initiative(), [usage(EMBED, 10**12, 0, "text-embedding-3-small")], month=MONTH,
                     **POLICIES) is None


def test_self_host_shows_the_companys_own_gpu_hour_price_beside_the_policys():
    """The clusters' observed price is evidence only: the comparison still uses the policy's $3."""
    observed = ObservedGpuPrice(date(2026, 9, 1), Decimal("2.81"), Decimal("144"), "/costs/")
    tokens = [usage(GPT4O, 2_000_000_000, 200_000_000)]

    found = self_host(initiative(), tokens, month=MONTH, observed=observed, **POLICIES)
    plain_found = self_host(initiative(), tokens, month=MONTH, **POLICIES)

    assert found is not None and plain_found is not None
    numbers = [(n.label, n.value, n.url, n.unit) for n in found.numbers]
    gpu_cost = [n[0] for n in numbers].index("GPU cost")
    assert numbers[gpu_cost + 1:gpu_cost + 3] == [
        ("Your clusters: price per GPU-hour (GPU cost), 2026-09", "2.81", "/costs/", "money"),
        ("Your clusters: GPU-hours, 2026-09", "144.0", "/costs/", ""),
    ]
    assert found.monthly_saving == plain_found.monthly_saving == Decimal("533.33")
    assert not any(n.label.startswith("Your clusters") for n in plain_found.numbers)


def test_the_clusters_price_says_when_it_counts_the_records_whole_cost():
    """Months whose cost is the GPU records' whole cost (CPU and memory included) read high: the label says so."""
    observed = ObservedGpuPrice(date(2026, 9, 1), Decimal("2.81"), Decimal("144"), "/costs/", basis="records")

    found = self_host(initiative(), [usage(GPT4O, 2_000_000_000, 200_000_000)], month=MONTH, observed=observed,
                      **POLICIES)

    assert found is not None
    assert {n.label: n.value for n in found.numbers}[
        "Your clusters: price per GPU-hour (whole cost of the records with GPU-hours, CPU and memory included), "
        "2026-09"] == "2.81"
