"""Token producer or consumer (PRODUCT.md): a cheaper model an administrator accepts as a substitute
(`right_size`), or the same token volume served by an open model on rented GPUs (`self_host`).

Usage is reported per provider model id ("gpt-4o-2024-08-06", "claude-sonnet-4-20250514"); `match_model` ties it
to the model catalogue, whose list prices (USD per 1M tokens) price both sides.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from governance.signals.rules.base import (
    HUNDRED,
    MONEY,
    RIGHT_SIZE,
    SELF_HOST,
    Candidate,
    Number,
    cents,
    money,
    month_of,
    opportunity_severity,
    plain,
    subject_key,
)
from governance.signals.rules.facts import CatalogueModel, InitiativeFacts, TokenUsage
from portfolio.calculations import tier_rank
from tollgate.text import possessive

MILLION = Decimal(1_000_000)
SECONDS_PER_HOUR = 3600
# Cached input tokens are billed at a fraction of the input price: a tenth at Anthropic (cache reads), a half or a
# quarter at OpenAI. The lowest fraction keeps the API's side of every comparison, and so every saving, on the low side.
CACHED_INPUT_SHARE = Decimal("0.1")


def match_model(reported: str, catalogue_names: Iterable[str]) -> str | None:
    """The catalogue name a provider's model id stands for, or None.

    Compared in lower case, after dropping a path prefix ("models/gemini-2.5-pro", "meta-llama/Llama-3.1-8B-
    Instruct"): the same name, else the longest catalogue name it starts with followed by "-" (a dated or versioned
    snapshot: "gpt-4o-2024-08-06" is gpt-4o, "gpt-4o-mini-2024-07-18" is gpt-4o-mini, never gpt-4o).
    """
    name = reported.strip().lower().rsplit("/", 1)[-1]
    if not name:
        return None
    names = {n.strip().lower() for n in catalogue_names}
    if name in names:
        return name
    prefixes = [n for n in names if n and name.startswith(n + "-")]
    return max(prefixes, key=len) if prefixes else None


def token_cost(model: CatalogueModel, input_tokens: int, output_tokens: int, cached_tokens: int = 0) -> Decimal | None:
    """The tokens at the model's list prices (cached input at CACHED_INPUT_SHARE of the input price); None when a
    price the tokens need is unknown."""
    if model.input_price is None and input_tokens:
        return None
    if model.output_price is None and output_tokens:
        return None
    cached = min(max(cached_tokens, 0), input_tokens)
    input_price, output_price = model.input_price or Decimal(0), model.output_price or Decimal(0)
    return ((input_tokens - cached) * input_price + cached * input_price * CACHED_INPUT_SHARE
            + output_tokens * output_price) / MILLION


@dataclass(frozen=True)
class ModelVolume:
    model: CatalogueModel
    input_tokens: int
    output_tokens: int
    cached_tokens: int
    url: str

    def cost(self, model: CatalogueModel | None = None) -> Decimal | None:
        return token_cost(model or self.model, self.input_tokens, self.output_tokens, self.cached_tokens)

    @property
    def tokens(self) -> int:
        return self.input_tokens + self.output_tokens


def volumes_by_model(usage: Iterable[TokenUsage]) -> list[ModelVolume]:
    """Usage summed per catalogue model (two snapshots of one model count together); unmatched usage is left out."""
    totals: dict[str, ModelVolume] = {}
    for row in usage:
        if row.catalogue is None:
            continue
        key = row.catalogue.name.lower()
        before = totals.get(key)
        totals[key] = ModelVolume(row.catalogue, row.input_tokens + (before.input_tokens if before else 0),
                                  row.output_tokens + (before.output_tokens if before else 0),
                                  row.cached_tokens + (before.cached_tokens if before else 0),
                                  before.url if before else row.url)
    return [totals[key] for key in sorted(totals)]


def right_size(initiative: InitiativeFacts, usage: Iterable[TokenUsage], *, month: date) -> list[Candidate]:
    """Token volume on a model of a higher tier than the cheaper substitute an administrator marked acceptable for
    it; the saving is the same volume at the substitute's list prices."""
    found = []
    for volume in volumes_by_model(usage):
        model, substitute = volume.model, volume.model.substitute
        if substitute is None:
            continue
        rank, substitute_rank = tier_rank(model.tier), tier_rank(substitute.tier)
        if rank is None or substitute_rank is None or substitute_rank >= rank:
            continue
        now, then = volume.cost(), volume.cost(substitute)
        if now is None or then is None or then >= now:
            continue
        saving = cents(now - then)
        if saving <= 0:
            continue
        found.append(Candidate(
            type=RIGHT_SIZE,
            subject=subject_key(RIGHT_SIZE, initiative.external_id, model.name.lower()),
            initiative_ids=(initiative.id,),
            period=month_of(month),
            severity=opportunity_severity(saving, now),
            metric=saving,
            higher_is_worse=True,
            rule=(f"Tokens sent to {model.name} ({model.tier}) that an administrator accepts {substitute.name} "
                  f"({substitute.tier}) for; the saving is the same volume at {possessive(substitute.name)} list "
                  "prices (cached input tokens at a tenth of the input price on both sides)."),
            numbers=(
                Number("Initiative", f"{initiative.external_id} · {initiative.name}", initiative.url),
                Number(f"Input tokens on {model.name}, {month_of(month)}", str(volume.input_tokens), volume.url),
                Number(f"Output tokens on {model.name}, {month_of(month)}", str(volume.output_tokens), volume.url),
                Number(f"Cached input tokens on {model.name}, {month_of(month)}", str(volume.cached_tokens),
                       volume.url),
                Number(f"Cost at {possessive(model.name)} prices ({plain(model.input_price or 0)} / "
                       f"{plain(model.output_price or 0)} per 1M)", money(now), model.url, unit=MONEY),
                Number(f"Cost at {possessive(substitute.name)} prices ({plain(substitute.input_price or 0)} / "
                       f"{plain(substitute.output_price or 0)} per 1M)", money(then), substitute.url, unit=MONEY),
                Number("Saving per month", money(saving), volume.url, unit=MONEY),
            ),
            monthly_saving=saving,
        ))
    return found


@dataclass(frozen=True)
class SelfHosting:
    """What serving a monthly token volume on rented GPUs costs, and the volume at which it pays."""

    tokens: int
    gpu_hours: Decimal
    gpu_cost: Decimal
    total: Decimal
    break_even_tokens: int | None  # None: never cheaper, whatever the volume


def self_hosting_cost(
    *, tokens: int, api_cost: Decimal, throughput: Decimal, utilisation_pct: Decimal, gpu_hour_price: Decimal,
    operating_cost: Decimal,
) -> SelfHosting:
    """GPU-hours = tokens / (throughput per GPU x 3600 x utilisation); cost = GPU-hours x price per GPU-hour + the
    fixed monthly operating cost. Break-even: the monthly volume where the API's cost per token x volume equals
    that cost (fixed cost / (API cost per token - GPU cost per token))."""
    tokens_per_gpu_hour = throughput * SECONDS_PER_HOUR * utilisation_pct / HUNDRED
    gpu_hours = Decimal(tokens) / tokens_per_gpu_hour
    gpu_cost = gpu_hours * gpu_hour_price
    break_even = None
    if tokens > 0:
        margin = api_cost / tokens - gpu_hour_price / tokens_per_gpu_hour
        if margin > 0:
            break_even = int((operating_cost / margin).to_integral_value())
    return SelfHosting(tokens, gpu_hours, gpu_cost, gpu_cost + operating_cost, break_even)


@dataclass(frozen=True)
class ObservedGpuPrice:
    """What the company's own GPU clusters cost per GPU-hour in a month (the GPU roll-up), shown beside the policy's
    GPU-hour price as evidence of how realistic it is. `basis` (portfolio's GpuCostBasis) says what the cost is: the
    GPU cost alone ("gpu"), the whole cost of the records with GPU-hours ("records", CPU and memory included: the
    price reads high), or some of each ("mixed")."""

    month: date
    price: Decimal
    gpu_hours: Decimal
    url: str = ""
    basis: str = "gpu"


# What the clusters' price per GPU-hour counts, as its evidence label says it.
OBSERVED_BASIS = {
    "gpu": "GPU cost",
    "records": "whole cost of the records with GPU-hours, CPU and memory included",
    "mixed": "GPU cost where the source gives it, else the records' whole cost",
}


def self_host(
    initiative: InitiativeFacts, usage: Iterable[TokenUsage], *, month: date, throughput: Decimal,
    utilisation_pct: Decimal, gpu_hour_price: Decimal, operating_cost: Decimal,
    observed: ObservedGpuPrice | None = None,
) -> Candidate | None:
    """The month's token volume on text models (frontier, mid, small tiers), priced at their list prices, against
    the same volume served on rented GPUs; a candidate when the GPUs cost less. `observed`, when the company runs GPU
    clusters, adds their own price per GPU-hour to the evidence (it does not change the comparison)."""
    tokens, api_cost = 0, Decimal(0)
    for volume in volumes_by_model(usage):
        cost = volume.cost()
        if tier_rank(volume.model.tier) is None or cost is None:
            continue
        tokens += volume.tokens
        api_cost += cost
    if tokens <= 0:
        return None
    hosting = self_hosting_cost(tokens=tokens, api_cost=api_cost, throughput=throughput,
                                utilisation_pct=utilisation_pct, gpu_hour_price=gpu_hour_price,
                                operating_cost=operating_cost)
    if hosting.total >= api_cost:
        return None
    saving = cents(api_cost - hosting.total)
    break_even = hosting.break_even_tokens
    return Candidate(
        type=SELF_HOST,
        subject=subject_key(SELF_HOST, initiative.external_id),
        initiative_ids=(initiative.id,),
        period=month_of(month),
        severity=opportunity_severity(saving, api_cost),
        metric=saving,
        higher_is_worse=True,
        rule=("The month's tokens cost less on rented GPUs than through the API: GPU-hours = tokens / (throughput "
              "per GPU x 3600 x utilisation); cost = GPU-hours x price per GPU-hour + fixed monthly operating cost."),
        policies={"self_host.throughput_tokens_per_s": plain(throughput),
                  "self_host.utilisation_pct": plain(utilisation_pct),
                  "self_host.gpu_hour_price": plain(gpu_hour_price),
                  "self_host.monthly_operating_cost": plain(operating_cost)},
        numbers=(
            Number("Initiative", f"{initiative.external_id} · {initiative.name}", initiative.url),
            Number(f"Tokens, {month_of(month)}", str(tokens), initiative.url),
            Number("API cost at list prices (cached input at a tenth)", money(api_cost), initiative.url, unit=MONEY),
            Number("GPU-hours needed", plain(hosting.gpu_hours, 1), initiative.url),
            Number("GPU cost", money(hosting.gpu_cost), initiative.url, unit=MONEY),
            *((Number(f"Your clusters: price per GPU-hour ({OBSERVED_BASIS[observed.basis]}), "
                      f"{month_of(observed.month)}", money(observed.price), observed.url, unit=MONEY),
               Number(f"Your clusters: GPU-hours, {month_of(observed.month)}", plain(observed.gpu_hours, 1),
                      observed.url)) if observed else ()),
            Number("Fixed operating cost", money(operating_cost), initiative.url, unit=MONEY),
            Number("Self-hosted cost per month", money(hosting.total), initiative.url, unit=MONEY),
            Number("Break-even tokens per month", str(break_even) if break_even is not None else "never",
                   initiative.url),
            Number("Saving per month", money(saving), initiative.url, unit=MONEY),
        ),
        monthly_saving=saving,
    )
