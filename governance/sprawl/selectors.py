"""Reads of sprawl detection: what each initiative spends a month and how many users it has (for savings), the
cluster and use-case lists with their figures, and an initiative's use cases. Everyone with a role reads all of it:
transparency is how sprawl gets noticed."""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict

from django.db.models import (
    Case,
    Count,
    DecimalField,
    IntegerField,
    Prefetch,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

from governance import evidence, selectors
from governance.choices import SPRAWL_CONFIDENCES, DuplicateVerdict, SprawlConfidence, SprawlStatus, UseCaseOrigin
from governance.models import (
    DuplicatePairDecision,
    InitiativeUseCase,
    SprawlCluster,
    SprawlClusterMember,
    SprawlLabelCheck,
    SprawlRun,
    UseCase,
)
from governance.sprawl.engine import calibration, pairs
from governance.sprawl.engine.embeddings import configured_name
from governance.sprawl.engine.quality import (
    LabelIssue,
    Labels,
    LabelsError,
    Quality,
    compare,
    interval,
    score_bands,
)
from governance.sprawl.engine.quality import pairs as quality_pairs
from governance.sprawl.engine.savings import MemberCost, Saving, consolidation_saving, member_monthly_spend
from portfolio.choices import ENDED_STAGES  # initiatives that no longer spend: left out of "spend by use case"
from portfolio.costs.selectors import last_complete_month
from portfolio.dashboard.providers import TOP_CANDIDATES, SprawlRow, SprawlTrack
from portfolio.models import AIModel, Initiative, LicencePool, MonthlyCost, Vendor, reporting_currency
from tollgate.jobs import RunStatus
from tollgate.ui.tables import ignoring_case

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

MONEY_FIELD: DecimalField[Decimal, Decimal] = DecimalField(max_digits=16, decimal_places=2)
TOP_DUPLICATES = 5


# Spend and users, for savings ----------------------------------------------------------------------------------------


def member_costs(initiative_ids: Iterable[int], *, today: date | None = None) -> dict[int, MemberCost]:
    """Monthly spend (allocated in the latest complete month, else declared) and users (licence-pool seats, else
    the latest submitted value report's active users, supplied by the reviews app through governance.evidence) of each
    initiative, in four queries."""
    ids = list(set(initiative_ids))
    if not ids:
        return {}
    month = last_complete_month(today=today)
    allocated: dict[int, Decimal] = {}
    if month is not None:
        allocated = dict(
            MonthlyCost.objects.filter(month=month, initiative_id__in=ids).order_by().values("initiative_id")
            .annotate(total=Sum("amount")).values_list("initiative_id", "total")
        )
    seats = dict(
        LicencePool.objects.filter(initiative_id__in=ids).order_by().values("initiative_id")
        .annotate(seats=Sum("seats_purchased")).values_list("initiative_id", "seats")
    )
    reported_users = evidence.reported_users()
    rows = Initiative.objects.filter(pk__in=ids).annotate(
        reported_users=Value(None, output_field=IntegerField()) if reported_users is None else reported_users
    ).values_list("pk", "name", "declared_monthly_cost", "reported_users")
    costs: dict[int, MemberCost] = {}
    for pk, name, declared, reported_users in rows:
        spend, is_allocated = member_monthly_spend(allocated=allocated.get(pk), declared=declared)
        costs[pk] = MemberCost(initiative_id=pk, name=name, monthly_spend=spend,
                               users=seats.get(pk) or reported_users or None, spend_is_allocated=is_allocated)
    return costs


def cluster_saving(members: Iterable[MemberCost]) -> Saving:
    """The cluster's combined spend and estimated saving under the variable-share policy."""
    share = Decimal(selectors.policy_value("sprawl.variable_share_pct")) / 100
    return consolidation_saving(list(members), variable_share=share, currency=reporting_currency())


# Clusters ------------------------------------------------------------------------------------------------------------


class ClusterCounts(TypedDict):
    member_count: int


def sprawl_clusters() -> QuerySet[WithAnnotations[SprawlCluster, ClusterCounts]]:
    """Clusters with their active members' initiatives (department, vendors) prefetched and the member count."""
    active = (SprawlClusterMember.objects.filter(removed=False).select_related("initiative__department")
              .prefetch_related("initiative__vendors").order_by("initiative__name"))
    return SprawlCluster.objects.select_related("use_case").annotate(
        member_count=Count("members", filter=Q(members__removed=False))
    ).prefetch_related(Prefetch("members", queryset=active, to_attr="active_members")).order_by(
        "-estimated_saving", "-score", "pk")


def sprawl_clusters_with_removed() -> QuerySet[WithAnnotations[SprawlCluster, ClusterCounts]]:
    """`sprawl_clusters` with the members reviewers took out, who did and when (`removed_members`), for the API."""
    removed = (SprawlClusterMember.objects.filter(removed=True)
               .select_related("initiative__department", "removed_by").order_by("initiative__name"))
    return sprawl_clusters().prefetch_related(Prefetch("members", queryset=removed, to_attr="removed_members"))


def sprawl_cluster_totals(clusters: QuerySet[SprawlCluster]) -> dict[str, Any]:
    """Count, combined monthly spend and estimated saving of a (filtered) set of clusters, in one query."""
    totals = clusters.order_by().aggregate(
        count=Count("pk", distinct=True), spend=Coalesce(Sum("monthly_spend"), Value(Decimal("0")),
                                                          output_field=MONEY_FIELD),
        saving=Coalesce(Sum("estimated_saving"), Value(Decimal("0")), output_field=MONEY_FIELD))
    return totals


def sprawl_cluster_confidence_counts(clusters: QuerySet[SprawlCluster]) -> dict[str, int]:
    """{confidence: clusters} of a (filtered) set, both present, in one query. Distinct: the list's queryset joins
    the members for their count, and a plain count would count each cluster once per member."""
    counts = dict.fromkeys(SprawlConfidence.values, 0)
    counts.update(clusters.order_by().values("confidence").annotate(n=Count("pk", distinct=True))
                  .values_list("confidence", "n"))
    return counts


def sprawl_cluster_status_counts(clusters: QuerySet[SprawlCluster]) -> dict[str, int]:
    """{status: clusters} of a (filtered) set, every status present, in one query: they add up to the set."""
    counts = dict.fromkeys(SprawlStatus.values, 0)
    counts.update(clusters.order_by().values("status").annotate(n=Count("pk", distinct=True))
                  .values_list("status", "n"))
    return counts


@dataclass
class TrackRecord:
    """What reviewers made of the clusters of one confidence they decided: how often the detector was right here.

    A cluster's proposed members are those it had when it was decided (members a recomputation added to a confirmed
    cluster afterwards are left out: nobody proposed them for that decision). Its proposed pairs are right when a
    reviewer confirmed both members and removed neither; a dismissed cluster's pairs are all wrong, as the next
    recomputation takes them (cannot-link)."""

    confidence: str
    decided: int = 0
    confirmed_whole: int = 0
    confirmed_trimmed: int = 0
    dismissed: int = 0
    pairs: int = 0
    right: int = 0

    @property
    def label(self) -> str:
        return str(SprawlConfidence(self.confidence).label)

    @property
    def precision(self) -> float | None:
        """The share of proposed pairs that were right; None before any decision."""
        return self.right / self.pairs if self.pairs else None

    @property
    def interval(self) -> tuple[float, float] | None:
        """The 95% interval of that share (engine.quality.interval), to three places: a handful of decisions says
        little."""
        bounds = interval(self.right, self.pairs)
        return None if bounds is None else (round(bounds[0], 3), round(bounds[1], 3))


RELIABILITY_FILE = Path(__file__).resolve().parents[1] / "data" / "sprawl_reliability.json"


BAND_KEYS = ("confidence", "low", "high", "clusters", "all_right", "all_wrong", "pairs", "right")


@dataclass(frozen=True)
class Band:
    """The clusters found at scores from `low` to `high` against labels (engine.quality.score_bands): the share of
    their pairs labelled together, and how many clusters were wholly right or wholly wrong."""

    confidence: str
    low: float
    high: float
    clusters: int
    all_right: int
    all_wrong: int
    pairs: int
    right: int

    @property
    def share(self) -> float | None:
        return self.right / self.pairs if self.pairs else None

    @property
    def interval(self) -> tuple[float, float] | None:
        return interval(self.right, self.pairs)


def _band_holding(bands: list[dict[str, Any]], score: float | Decimal) -> dict[str, Any] | None:
    """The band (of score_bands) that holds `score`: each holds its lower end, the last also 1; None below them."""
    value = float(score)
    for n, band in enumerate(bands):
        if band["low"] <= value < band["high"] or (n == len(bands) - 1 and value == band["high"]):
            return band
    return None


@dataclass(frozen=True)
class ScoreBand(Band):
    """How often the clusters the detector proposed at a score were right on the labelled inventories of other
    companies that nobody tuned on (bench/sprawl_reliability.py, the shipped pair model)."""

    sets: int  # how many inventories it was measured on


@lru_cache(maxsize=1)
def _reliability() -> dict[str, Any]:
    return json.loads(RELIABILITY_FILE.read_text(encoding="utf-8")) if RELIABILITY_FILE.exists() else {}


def score_band(score: float | Decimal) -> ScoreBand | None:
    """The band a cluster's score falls in, measured for the configured encoder; None when that encoder's clusters
    were not measured (a served model) or the score is below every band. A reviewer reads it as "clusters like this
    were right this often elsewhere"."""
    measured = _reliability().get(configured_name())
    band = _band_holding(measured["bands"], score) if measured else None
    if not measured or band is None:
        return None
    return ScoreBand(**{key: band[key] for key in BAND_KEYS}, sets=len(measured["sets"]))


def right_elsewhere(score: float | Decimal) -> float | None:
    """`score_band`'s share of pairs right, to three places; None where it was not measured."""
    band = score_band(score)
    return None if band is None or band.share is None else round(band.share, 3)


@dataclass(frozen=True)
class PairVerdicts:
    """Reviewers' verdicts on possible-duplicate pairs: how many they called duplicates and how many not."""

    duplicate: int
    not_duplicate: int

    @property
    def total(self) -> int:
        return self.duplicate + self.not_duplicate


def sprawl_track_record() -> tuple[list[TrackRecord], PairVerdicts]:
    """The detector's record in this company, from its reviewers' decisions: per confidence (likely, then possible),
    the decided clusters and the share of their proposed pairs that were right; and the verdicts on possible-duplicate
    pairs. A company's own precision, beside the figures measured on labelled inventories (README). A confirmed
    cluster's pair a reviewer marked "not a duplicate" after the confirmation is not right: the latest decision on a
    pair wins. Three queries."""
    rows = (SprawlClusterMember.objects
            .filter(cluster__status__in=[SprawlStatus.CONFIRMED, SprawlStatus.DISMISSED])
            .values_list("cluster_id", "cluster__status", "cluster__confidence", "cluster__decided_at", "created_at",
                         "removed", "initiative_id")
            .order_by("cluster_id", "initiative_id"))
    apart = dict(((a, b), when) for a, b, same, when in duplicate_pair_decisions() if not same)
    clusters: dict[int, tuple[str, str, Any, list[tuple[int, bool]]]] = {}
    for cluster_id, status, confidence, decided_at, joined_at, removed, initiative_id in rows:
        entry = clusters.setdefault(cluster_id, (status, confidence, decided_at, []))
        if status == SprawlStatus.CONFIRMED and decided_at is not None and joined_at > decided_at:
            continue  # joined after the confirmation: not part of what was decided
        entry[3].append((initiative_id, removed))
    # The detector's record: clusters reviewers linked themselves say nothing of it.
    records: dict[str, TrackRecord] = {confidence: TrackRecord(confidence=confidence)
                                       for confidence in (SprawlConfidence.LIKELY, SprawlConfidence.POSSIBLE)}
    for status, confidence, decided_at, members in clusters.values():
        if confidence not in records:
            continue
        record = records[confidence]
        proposed = len(members)
        kept = [i for i, removed in members if not removed] if status == SprawlStatus.CONFIRMED else []
        right = [(a, b) for n, a in enumerate(kept) for b in kept[n + 1:]
                 if (a, b) not in apart or (decided_at is not None and apart[(a, b)] <= decided_at)]
        record.decided += 1
        record.pairs += proposed * (proposed - 1) // 2
        record.right += len(right)
        if status == SprawlStatus.DISMISSED:
            record.dismissed += 1
        elif len(kept) == proposed:
            record.confirmed_whole += 1
        else:
            record.confirmed_trimmed += 1
    verdicts = dict(DuplicatePairDecision.objects.order_by().values("verdict").annotate(n=Count("pk"))
                    .values_list("verdict", "n"))
    return list(records.values()), PairVerdicts(duplicate=verdicts.get(DuplicateVerdict.DUPLICATE, 0),
                                 not_duplicate=verdicts.get(DuplicateVerdict.NOT_DUPLICATE, 0))


def sprawl_cluster_chart_rows(
    clusters: QuerySet[WithAnnotations[SprawlCluster, ClusterCounts]], limit: int
) -> list[dict[str, Any]]:
    """The clusters with the largest estimated saving, as plain rows for the chart (one query)."""
    return list(clusters.order_by("-estimated_saving", "pk").values(
        "pk", "title", "estimated_saving", "monthly_spend", "member_count")[:limit])


def sprawl_cluster_members(cluster: SprawlCluster) -> list[SprawlClusterMember]:
    """Every member (removed ones last) with department, owner, vendors and its monthly spend as `monthly_spend`;
    `joined_after_decision` when a recomputation added it to a cluster already confirmed (for the reviewer to check)."""
    members = list(
        cluster.members.select_related("initiative__department", "initiative__owner", "removed_by")
        .prefetch_related("initiative__vendors").order_by("removed", "initiative__name")
    )
    costs = member_costs(m.initiative_id for m in members)
    for member in members:
        cost = costs.get(member.initiative_id)
        member.monthly_spend = cost.monthly_spend if cost else Decimal("0")
        member.spend_is_allocated = bool(cost and cost.spend_is_allocated)
        member.users = cost.users if cost else None
        member.joined_after_decision = bool(cluster.status == SprawlStatus.CONFIRMED and cluster.decided_at
                                            and member.created_at > cluster.decided_at)
    return members


def sprawl_clusters_of_initiative(initiative: Initiative) -> QuerySet[SprawlCluster]:
    return SprawlCluster.objects.filter(members__initiative=initiative, members__removed=False).select_related(
        "use_case").order_by("-estimated_saving")


def sprawl_run_latest() -> SprawlRun | None:
    return SprawlRun.objects.select_related("actor").order_by("-created_at", "-id").first()


# Use cases -----------------------------------------------------------------------------------------------------------


def primary_use_case_of(*, initiative_ids: Iterable[int] | None = None) -> dict[int, int]:
    """{initiative id: use case id} of each initiative's main use case: a confirmed one first, then the most
    confident. An initiative's spend is counted under this one use case only, so spend by use case adds up."""
    links = InitiativeUseCase.objects.order_by()
    if initiative_ids is not None:
        links = links.filter(initiative_id__in=list(initiative_ids))
    best: dict[int, tuple[tuple, int]] = {}
    for initiative_id, use_case_id, origin, confidence in links.values_list(
        "initiative_id", "use_case_id", "origin", "confidence"
    ):
        rank = (origin == UseCaseOrigin.CONFIRMED, confidence, -use_case_id)
        if initiative_id not in best or rank > best[initiative_id][0]:
            best[initiative_id] = (rank, use_case_id)
    return {initiative_id: use_case_id for initiative_id, (_, use_case_id) in best.items()}


def spend_by_use_case(*, today: date | None = None) -> dict[int, Decimal]:
    """{use case id: monthly spend} of the initiatives still running or planned, each under its main use case."""
    running = list(Initiative.objects.exclude(stage__in=ENDED_STAGES).values_list("pk", flat=True))
    primary = primary_use_case_of(initiative_ids=running)
    costs = member_costs(primary, today=today)
    totals: dict[int, Decimal] = {}
    for initiative_id, use_case_id in primary.items():
        totals[use_case_id] = totals.get(use_case_id, Decimal("0")) + costs[initiative_id].monthly_spend
    return totals


def use_case_spend_month(*, today: date | None = None) -> date | None:
    """The month whose allocated cost spend by use case reads (member_costs: the latest complete month), which the
    page names in its header; None before any month is complete (every spend is then the declared cost)."""
    return last_complete_month(today=today)


def spend_by_use_case_heading(month: date | None) -> str:
    """The header of spend by use case, naming its month and its two sources: the month's allocated cost, and the
    declared monthly cost of an initiative that has none (a planned one, or one whose costs are not read)."""
    if month is None:
        return "Monthly spend (declared: no complete month of cost data yet)"
    return f"Monthly spend, {month:%Y-%m} (actual; declared for initiatives without cost data)"


def use_cases_with_figures(*, today: date | None = None) -> QuerySet[UseCase]:
    """Use cases with `initiative_count` (initiatives linked, any origin) and `monthly_spend` (under their main use
    case), both sortable in the database."""
    spend = spend_by_use_case(today=today)
    spend_expr = (
        Case(*[When(pk=pk, then=Value(amount)) for pk, amount in spend.items()], default=Value(Decimal("0")),
             output_field=MONEY_FIELD)
        if spend else Value(Decimal("0"), output_field=MONEY_FIELD)
    )
    return UseCase.objects.annotate(
        initiative_count=Coalesce(Count("initiative_links", distinct=True), 0), monthly_spend=spend_expr
    ).order_by(*ignoring_case("name"))


def initiatives_of_use_case(use_case: UseCase) -> QuerySet[InitiativeUseCase]:
    return InitiativeUseCase.objects.filter(use_case=use_case).select_related(
        "initiative__department", "initiative__owner").order_by("-confidence", *ignoring_case("initiative__name"))


def initiative_use_cases(initiative: Initiative) -> QuerySet[InitiativeUseCase]:
    """The initiative's use cases, confirmed first, then by confidence."""
    return InitiativeUseCase.objects.filter(initiative=initiative).select_related("use_case").order_by(
        "origin", "-confidence", "use_case__name")


# Reviewers' verdicts on possible-duplicate pairs --------------------------------------------------------------------


def latest_pair_model() -> pairs.PairModel:
    """The pair model the last successful recomputation grouped with (this company's, refit on its decisions), so
    the possible duplicates on a page are ranked as the recomputation ranked them; before any, the model shipped for
    the configured encoder (engine/calibration.py), and again once the encoder or its purpose metric changed, until
    the next recomputation (a run before encoders were recorded used MiniLM, one before the metric none). One
    query."""
    calibrated = calibration.calibration_for(configured_name())
    record = SprawlRun.objects.filter(status=RunStatus.SUCCEEDED).values_list("pair_model", flat=True).first() or {}
    if not calibration.scores_as(calibrated, record):
        return calibrated.model
    return pairs.PairModel.from_dict(record, prior=calibrated.model)


@dataclass(frozen=True)
class RunPairModel:
    """How a recomputation scored pairs, for its page: the encoder's calibration, and what the company's decisions
    changed in it (each feature's weight, shipped and refit; the per-job corrections)."""

    encoder: str
    adapted: bool  # no calibration of its own: MiniLM's pair model, constants moved onto its scale
    purpose_metric: str  # the learnt metric purposes were compared in (engine/metric.py); "": the encoder's cosine
    decisions: int
    # The thresholds it grouped at; None for a run of an earlier version's features that did not record them.
    likely: float | None
    possible: float | None
    join: float | None  # how alike to each confirmed member one must be to join a confirmed cluster (1: never)
    # (what the feature means, shipped weight, this run's weight); the shipped weight is None for a run recorded with
    # an earlier version's features, whose shipped weights are not kept.
    weights: list[tuple[str, float | None, float]]
    corrections: list[tuple[str, float]]  # (use case, correction), largest first
    earlier_features: bool = False  # recorded with the pair features of an earlier version

    @property
    def changed(self) -> bool:
        return self.earlier_features or bool(self.corrections) or any(
            a is None or abs(a - b) > 1e-6 for _, a, b in self.weights)


def run_pair_model(run: SprawlRun) -> RunPairModel | None:
    """What `run` recorded of its pair model (None for a run that recorded none). One query for the use cases of its
    corrections, none when there are none."""
    record = run.pair_model or {}
    if not record.get("weights"):  # a run from before runs recorded their model
        return None
    encoder = calibration.recorded_encoder(record)
    calibrated = calibration.by_record(record)
    model = pairs.PairModel.from_dict(record, prior=calibrated.model)
    earlier = model is calibrated.model  # a record of an earlier version's features: shown as it was recorded
    weights: list[tuple[str, float | None, float]]
    if earlier:
        weights = [(pairs.FEATURE_LABELS.get(str(name), str(name).replace("_", " ")), None, float(weight))
                   for name, weight in zip(record.get("features", ()), record["weights"], strict=False) if weight]
        corrections = {str(code): float(value) for code, value in (record.get("use_case_bias") or {}).items()}
        decisions = int(record.get("decisions", 0))
    else:
        weights = [(pairs.FEATURE_LABELS[name], shipped, weight) for name, shipped, weight in
                   zip(pairs.FEATURES, calibrated.model.weights, model.weights, strict=True) if shipped or weight]
        corrections, decisions = dict(model.use_case_bias), model.decisions
    thresholds: tuple[float | None, ...] = (None, None, None) if earlier and not record.get("thresholds") \
        else calibration.recorded_thresholds(record, calibrated.model)  # not recorded by an earlier version: unknown
    likely, possible, join = thresholds
    names = dict(UseCase.objects.filter(code__in=corrections).values_list("code", "name")) if corrections else {}
    return RunPairModel(
        encoder=encoder, adapted=encoder != calibrated.encoder,
        purpose_metric=calibration.recorded_metric(record), decisions=decisions,
        likely=likely, possible=possible, join=join, weights=weights,
        corrections=sorted(((names.get(code, code), value) for code, value in corrections.items()),
                           key=lambda row: (-abs(row[1]), row[0])),
        earlier_features=earlier,
    )


def duplicate_pair_decisions() -> list[tuple[int, int, bool, datetime]]:
    """Every live verdict as (lower initiative id, higher id, same job?, decided at): "duplicate of" is a must-link
    pair of the recomputation, "not a duplicate" a cannot-link pair. One query."""
    rows = DuplicatePairDecision.objects.order_by("initiative_a_id", "initiative_b_id").values_list(
        "initiative_a_id", "initiative_b_id", "verdict", "decided_at")
    return [(a, b, verdict == DuplicateVerdict.DUPLICATE, when) for a, b, verdict, when in rows]


def duplicate_verdict_lines(pairs: Collection[tuple[int, int]]) -> dict[tuple[int, int], str]:
    """{(lower id, higher id): "NW-0135 marked a duplicate of NW-0014 by Rita Reviewer on 2026-12-07"} of the pairs
    with a "Duplicate of" verdict among `pairs`: the evidence of a cluster reviewers linked. One query."""
    wanted = set(pairs)
    lines = {}
    for decision in DuplicatePairDecision.objects.filter(verdict=DuplicateVerdict.DUPLICATE).select_related(
            "initiative_a", "initiative_b", "decided_by").order_by("initiative_a_id", "initiative_b_id"):
        pair = (decision.initiative_a_id, decision.initiative_b_id)
        if pair in wanted:
            lines[pair] = (f"{decision.initiative_b.external_id} marked a duplicate of "
                           f"{decision.initiative_a.external_id} by {decision.decided_by_name} on "
                           f"{timezone.localtime(decision.decided_at):%Y-%m-%d}")
    return lines


def pair_decision_for(initiative: Initiative, other: Initiative) -> DuplicatePairDecision | None:
    """The verdict on the pair, whichever way round it is asked."""
    a, b = sorted((initiative.pk, other.pk))
    return DuplicatePairDecision.objects.select_related("decided_by").filter(
        initiative_a_id=a, initiative_b_id=b).first()


def pair_decisions_of(initiative_id: int) -> dict[int, DuplicatePairDecision]:
    """{other initiative id: verdict} of every decided pair holding the initiative, the other initiative and the
    decider loaded."""
    decisions = DuplicatePairDecision.objects.filter(
        Q(initiative_a_id=initiative_id) | Q(initiative_b_id=initiative_id)
    ).select_related("decided_by", "initiative_a__department", "initiative_b__department")
    return {d.other_than(initiative_id): d for d in decisions}


def duplicate_pair_decision_list() -> QuerySet[DuplicatePairDecision]:
    """The verdicts, newest first, with both initiatives and the decider, for the API."""
    return DuplicatePairDecision.objects.select_related("initiative_a", "initiative_b", "decided_by").order_by(
        "-decided_at", "-pk")


# Possible duplicates (the engine's draft scoring, with the initiatives loaded for display) ---------------------------


@dataclass(frozen=True)
class PossibleDuplicate:
    """A candidate; `score` (the fused ranking's, which only orders the candidates) and `probability` (the pair
    model's likelihood that the two do the same job, the figure a sprawl cluster of the two scores) are None for one
    a reviewer decided "duplicate of" that the engine no longer ranks among the top, and `decision` the verdict on
    the pair, if any."""

    initiative: Initiative
    score: float | None
    reasons: list[str]
    decision: DuplicatePairDecision | None = None
    # The open or confirmed sprawl clusters it already shares with the initiative (`clusters_shared_with`).
    clusters: tuple[SprawlCluster, ...] = ()
    probability: float | None = None


def _with_initiatives(duplicates: list[Any], decisions: dict[int, DuplicatePairDecision] | None = None,
                      *, top: int = TOP_DUPLICATES, apart: Collection[int] = ()) -> list[PossibleDuplicate]:
    """The engine's duplicates with their initiatives (one deleted meanwhile is skipped), after the reviewers'
    verdicts: those decided "not a duplicate" leave, and so do those `apart` (cannot-linked by another decision:
    a member removal, a dismissed cluster); those decided "duplicate of" come first (ranked or not)."""
    decisions = decisions or {}
    hidden = {pk for pk, d in decisions.items() if not d.is_duplicate} | set(apart)
    ranked = [d for d in duplicates if d.initiative_id not in hidden]
    ranked_ids = {d.initiative_id for d in ranked}
    pinned = sorted((pk for pk, d in decisions.items() if d.is_duplicate), key=lambda pk: (
        pk not in ranked_ids, -decisions[pk].decided_at.timestamp(), pk))
    initiatives = Initiative.objects.select_related("department", "owner").prefetch_related("vendors").in_bulk(
        [d.initiative_id for d in ranked] + pinned)
    by_id = {d.initiative_id: d for d in ranked}
    found: list[PossibleDuplicate] = []
    for pk in pinned:
        if pk in initiatives:
            engine = by_id.get(pk)
            found.append(PossibleDuplicate(
                initiatives[pk], float(engine.score) if engine else None,
                list(engine.reasons) if engine else ["Decided a duplicate by a reviewer"], decisions[pk],
                probability=_probability(engine)))
    others = [PossibleDuplicate(initiatives[d.initiative_id], float(d.score), list(d.reasons),
                                probability=_probability(d))
              for d in ranked if d.initiative_id in initiatives and d.initiative_id not in decisions]
    return found + others[:max(top - len(found), 0)]


def _probability(duplicate: Any) -> float | None:
    """The engine's pair probability of a candidate, if it ranked it and computed one."""
    probability = getattr(duplicate, "probability", None)
    return None if probability is None else float(probability)


def draft_possible_duplicates(
    *, name: str, description: str, vendor_ids: Iterable[int] = (), model_ids: Iterable[int] = (),
    category: str = "", department_id: int | None = None, owner_id: int | None = None, exclude_id: int | None = None,
    top: int = TOP_DUPLICATES,
) -> list[PossibleDuplicate]:
    """The initiatives most likely doing the same job as a draft (an intake being filled in), best first. A draft of
    an existing initiative (`exclude_id`) follows the reviewers' decisions on its pairs as the recomputation and
    `possible_duplicates` do: every pair they keep apart leaves (a "not a duplicate" verdict, a member removal, a
    dismissed cluster)."""
    from governance.sprawl import analysis as engine

    decisions = pair_decisions_of(exclude_id) if exclude_id is not None else {}
    apart = cannot_link_partners(exclude_id) if exclude_id is not None else set()
    vendor_names = list(Vendor.objects.filter(pk__in=list(vendor_ids)).values_list("name", flat=True))
    model_names = list(AIModel.objects.filter(pk__in=list(model_ids)).values_list("name", flat=True))
    # Ask for as many more as there are decided pairs: those the verdicts take out leave room for the next ones.
    duplicates = engine.draft_duplicates(
        name=name, description=description, vendor_names=vendor_names, model_names=model_names, category=category,
        department_id=department_id, owner_id=owner_id, exclude_id=exclude_id, top=top + len(set(decisions) | apart),
    )
    found = _with_initiatives(duplicates, decisions, top=top, apart=apart)
    if exclude_id is None:
        return found
    shared = clusters_shared_with(exclude_id, [d.initiative.pk for d in found])
    return [replace(d, clusters=tuple(shared.get(d.initiative.pk, ()))) for d in found]


def cannot_link_partners(initiative_id: int) -> set[int]:
    """The initiatives the reviewers' decisions keep apart from this one (`sprawl_constraints().cannot`): what the
    recomputation leaves out of its possible duplicates."""
    return {b if a == initiative_id else a for a, b in sprawl_constraints().cannot if initiative_id in (a, b)}


def draft_use_case_suggestions(*, name: str, description: str, vendor_ids: Iterable[int] = (),
                               model_ids: Iterable[int] = (), category: str = "") -> list[tuple[UseCase, float]]:
    """At most three use cases a draft most likely does, best first, with the confidence."""
    from governance.sprawl import analysis as engine

    vendor_names = list(Vendor.objects.filter(pk__in=list(vendor_ids)).values_list("name", flat=True))
    model_names = list(AIModel.objects.filter(pk__in=list(model_ids)).values_list("name", flat=True))
    suggested = engine.suggest_use_cases(name=name, description=description, vendor_names=vendor_names,
                                         model_names=model_names, category=category)
    found = UseCase.objects.in_bulk([code for code, _ in suggested], field_name="code")
    return [(found[code], float(confidence)) for code, confidence in suggested if code in found]


def initiative_possible_duplicates(initiative: Initiative, *, top: int = TOP_DUPLICATES) -> list[PossibleDuplicate]:
    """The initiatives most likely doing the same job as this one, best first (for its page and its scoring), after
    the reviewers' verdicts on its pairs, each with the sprawl clusters it already shares with this one."""
    return draft_possible_duplicates(
        name=initiative.name, description=initiative.description,
        vendor_ids=[v.pk for v in initiative.vendors.all()], model_ids=[m.pk for m in initiative.ai_models.all()],
        category=initiative.category, department_id=initiative.department_id, owner_id=initiative.owner_id,
        exclude_id=initiative.pk, top=top,
    )


def clusters_shared_with(initiative_id: int, others: Iterable[int]) -> dict[int, list[SprawlCluster]]:
    """For each of `others`, the open and confirmed sprawl clusters holding it and the initiative, both still members.
    A possible duplicate a cluster already proposes (or a reviewer confirmed) beside this initiative says so, and
    links the cluster where that is decided. One query."""
    members = SprawlClusterMember.objects.filter(
        removed=False, initiative_id__in=list(others),
        cluster__status__in=[SprawlStatus.OPEN, SprawlStatus.CONFIRMED],
        cluster__members__initiative_id=initiative_id, cluster__members__removed=False,
    ).select_related("cluster").order_by("cluster_id")
    shared: dict[int, list[SprawlCluster]] = {}
    for member in members:
        shared.setdefault(member.initiative_id, []).append(member.cluster)
    return shared


def not_duplicates_of(initiative: Initiative) -> list[DuplicatePairDecision]:
    """The pairs of the initiative decided "not a duplicate", newest first: hidden from its possible duplicates, listed
    apart so a reviewer can undo one."""
    decisions = [d for d in pair_decisions_of(initiative.pk).values() if not d.is_duplicate]
    return sorted(decisions, key=lambda d: (d.decided_at, d.pk), reverse=True)


def duplication_criterion(criteria: Iterable[Any]) -> Any | None:
    """The rubric criterion about reuse / duplication, beside which reviewers see the possible duplicates."""
    for criterion in criteria:
        name = criterion.name.lower()
        if "duplicat" in name or "reuse" in name:
            return criterion
    return None


def dashboard_sprawl(*, department_id: int | None, limit: int | None = TOP_CANDIDATES) -> list[SprawlRow]:
    """Likely open clusters and confirmed ones with their saving, for portfolio's dashboard (registered in
    governance.apps); with a department, the clusters with a member in it; the `limit` largest savings (None: all).
    Three queries."""
    clusters = sprawl_clusters().filter(Q(status=SprawlStatus.OPEN, confidence__in=SPRAWL_CONFIDENCES)
                                        | Q(status=SprawlStatus.CONFIRMED))
    if department_id:
        clusters = clusters.filter(members__removed=False, members__initiative__department_id=department_id)
    rows = []
    for cluster in clusters.distinct()[:limit]:
        members: list[SprawlClusterMember] = getattr(cluster, "active_members", [])
        rows.append(SprawlRow(
            title=f"{cluster.title} ({cluster.get_status_display().lower()})",
            initiatives=tuple(m.initiative.name for m in members),
            department_ids=tuple(sorted({m.initiative.department_id for m in members})),
            monthly_spend=cluster.monthly_spend, monthly_saving=cluster.estimated_saving,
            basis=cluster.saving_basis, url=cluster.get_absolute_url(),
            right_elsewhere=right_elsewhere(cluster.score) if cluster.status == SprawlStatus.OPEN else None,
        ))
    return rows


def dashboard_sprawl_track() -> SprawlTrack:
    """The likely clusters' track record (`sprawl_track_record`), for portfolio's dashboard and board pack."""
    likely = next(r for r in sprawl_track_record()[0] if r.confidence == SprawlConfidence.LIKELY)
    return SprawlTrack(decided=likely.decided, pairs=likely.pairs, right=likely.right,
                       precision=None if likely.precision is None else round(likely.precision, 4),
                       url=reverse("governance:sprawl_list") + "#track-record",
                       list_url=reverse("governance:sprawl_list"))


# Reviewer decisions as constraints of the next recomputation ---------------------------------------------------------


def sprawl_decided_pairs() -> list[tuple[int, int, bool, Any]]:
    """Every pair of initiatives a reviewer has decided on, as (a, b, same job?, when): a confirmed cluster's
    members belong together; a dismissed cluster's members do not; a member removed from a cluster does not belong
    with the members that stayed. One query."""
    decided_statuses = [SprawlStatus.CONFIRMED, SprawlStatus.DISMISSED]
    rows = (SprawlClusterMember.objects
            .filter(Q(cluster__status__in=decided_statuses) | Q(cluster__members__removed=True)).distinct()
            .values_list("cluster_id", "cluster__status", "cluster__decided_at", "initiative_id", "removed",
                         "removed_at")
            .order_by("cluster_id", "initiative_id"))
    clusters: dict[int, tuple[str, Any, list[int], list[tuple[int, Any]]]] = {}
    for cluster_id, status, decided_at, initiative_id, removed, removed_at in rows:
        entry = clusters.setdefault(cluster_id, (status, decided_at, [], []))
        if removed:
            entry[3].append((initiative_id, removed_at))
        else:
            entry[2].append(initiative_id)
    decided: list[tuple[int, int, bool, Any]] = []
    for status, decided_at, active, left in clusters.values():
        if status in decided_statuses:
            same = status == SprawlStatus.CONFIRMED
            decided += [(a, b, same, decided_at) for n, a in enumerate(active) for b in active[n + 1:]]
        decided += [(initiative_id, other, False, removed_at) for initiative_id, removed_at in left
                    for other in active]
    return decided


def sprawl_constraints() -> Any:
    """Every decision on clusters and on possible-duplicate pairs as the next recomputation's must-link and
    cannot-link constraints (the latest decision on a pair wins). A must-link holding a retired, rejected or killed
    initiative is dropped: ended initiatives are left out of clusters, and such a link would chain the live
    initiatives it was decided with into one group (its cannot-links stay, keeping its "not a duplicate" verdicts out
    of the possible duplicates)."""
    from governance.sprawl.analysis import Constraints

    constraints = Constraints.from_decisions([*sprawl_decided_pairs(), *duplicate_pair_decisions()])
    if not constraints.must:
        return constraints
    ended = set(Initiative.objects.filter(stage__in=ENDED_STAGES).values_list("pk", flat=True))
    return replace(constraints, must=frozenset(p for p in constraints.must if not ended.intersection(p)))


@dataclass(frozen=True)
class LabelledQuality:
    """How the detector does on this database against a company's own labels: the figures `make bench` prints for
    the labelled inventories, and the pairs behind them (external ids, each pair and list sorted)."""

    quality: Quality
    top: int
    encoder: str
    initiatives: int
    labelled_clusters: int
    clusters_found: int
    possible: bool  # whether possible clusters were counted as found, beside the likely ones
    decided_pairs_left_out: int  # pairs a reviewer decided, counted on neither side (undecided=True)
    listed_only: bool  # whether only pairs of two initiatives the file lists were counted
    listed: int  # initiatives the file lists (duplicates, and with listed_only those checked and found unique)
    unlisted_pairs: int  # pairs found with an initiative the file leaves out: wrong, or left out with listed_only
    wrong_pairs: list[tuple[str, str]]  # in one cluster found, not labelled together
    missed_pairs: list[tuple[str, str]]  # labelled together, in no cluster found together
    without_partner: list[str]  # labelled duplicates with no labelled partner among their top candidates
    names: dict[str, str]  # external id -> name, for every initiative listed above
    # Every cluster found, likely and possible, by score band (engine.quality.score_bands) against these labels, each
    # band with how its clusters did on the inventories of other companies (`elsewhere`: right and pairs, or None).
    bands: list[dict[str, Any]] = field(default_factory=list)

    @property
    def top_hits(self) -> int:
        """Labelled duplicates with a true partner among their top candidates."""
        return self.quality.duplicate_members - len(self.without_partner)

    def intervals(self) -> dict[str, tuple[float, float] | None]:
        """The 95% interval of precision, recall and the true-partner rate, from their counts."""
        q = self.quality
        return {"precision": interval(q.correct_pairs, q.predicted_pairs),
                "recall": interval(q.correct_pairs, q.true_pairs),
                "top_hit_rate": interval(self.top_hits, q.duplicate_members)}

    def as_dict(self, labels_name: str) -> dict[str, Any]:
        """The JSON shape of `sprawl_quality --json` (and of a label check's stored result)."""
        q = self.quality
        return {
            "labels": labels_name, "encoder": self.encoder, "initiatives": self.initiatives,
            "labelled_members": q.duplicate_members, "labelled_clusters": self.labelled_clusters,
            "clusters_found": self.clusters_found, "possible": self.possible,
            "decided_pairs_left_out": self.decided_pairs_left_out, "listed_only": self.listed_only,
            "listed": self.listed, "unlisted_pairs": self.unlisted_pairs,
            "precision": round(q.precision, 4), "recall": round(q.recall, 4), "f1": round(q.f1, 4),
            "top": self.top, "top_hit_rate": round(q.top_k_hit_rate, 4), "top_hits": self.top_hits,
            "predicted_pairs": q.predicted_pairs, "true_pairs": q.true_pairs, "correct_pairs": q.correct_pairs,
            "wrong_pairs": [list(pair) for pair in self.wrong_pairs],
            "missed_pairs": [list(pair) for pair in self.missed_pairs],
            "without_partner": self.without_partner, "names": self.names,
            "intervals": {key: None if bounds is None else [round(bounds[0], 3), round(bounds[1], 3)]
                          for key, bounds in self.intervals().items()},
            "bands": [{**raw, "share": None if band.share is None else round(band.share, 4),
                       "interval": None if band.interval is None else [round(band.interval[0], 3),
                                                                       round(band.interval[1], 3)]}
                      for raw, band in zip(self.bands, label_bands(self.bands), strict=True)],
        }


def labels_known(labels: Labels) -> None:
    """Raise LabelsError naming each row whose initiative is not in this database (by external id). One query."""
    known = set(Initiative.objects.filter(external_id__in=list(labels.clusters)).values_list("external_id", flat=True))
    unknown = [LabelIssue(labels.rows[external_id], "external_id", f"no initiative {external_id!r} in this database")
               for external_id in labels.clusters if external_id not in known]
    if unknown:
        raise LabelsError(unknown)


def labelled_quality(labels: Labels, *, top: int = 5, possible: bool = False, undecided: bool = False,
                     listed_only: bool = False, progress: Callable[[float], None] | None = None) -> LabelledQuality:
    """Detect sprawl on the current database exactly as `detect_sprawl` and `possible_duplicates` do (reviewer
    decisions applied) and measure it against `labels`: pairwise precision, recall and F1 of the clusters, and the
    share of labelled duplicates with a true partner in their top `top`. Initiatives the labels leave out are taken
    to duplicate nothing, unless `listed_only`: then the file lists every initiative its author checked, and a pair
    found with an initiative it leaves out counts on neither side (a sample, a department or a theme can be measured
    without labelling the rest). With `undecided`, pairs a reviewer decided count on neither side, so the figures
    say how the detector does where nobody has looked yet. Raises LabelsError naming each row whose initiative is not
    in this database. Reads only. `progress` hears where the analysis is (analyse_portfolio), then one more step as
    the comparison starts."""
    from governance.sprawl.analysis import analyse_portfolio

    labels_known(labels)
    ids = dict(Initiative.objects.values_list("pk", "external_id"))
    analysis = analyse_portfolio(top=top, progress=progress)
    if progress is not None:
        from governance.sprawl.analysis import ANALYSIS_STEPS

        progress(len(ANALYSIS_STEPS) + 1)
    found = [sorted(ids[pk] for pk in cluster.member_ids) for cluster in analysis.clusters
             if possible or cluster.confidence in SPRAWL_CONFIDENCES]
    candidates = {ids[pk]: [ids[d.initiative_id] for d in duplicates] for pk, duplicates in analysis.duplicates.items()}
    decided: set[frozenset[str]] = set()
    if undecided:
        constraints = sprawl_constraints()
        decided = {frozenset((ids[a], ids[b])) for a, b in (*constraints.must, *constraints.cannot)
                   if a in ids and b in ids}
    unlisted = {pair for pair in quality_pairs(found) - decided if not pair <= labels.clusters.keys()}
    excluded = decided | unlisted if listed_only else decided
    duplicates = labels.duplicates
    compared = compare(found, duplicates, candidates, exclude=excluded)
    bands = _label_bands(analysis, ids, duplicates, excluded)
    wrong, missed, without_partner = compared.wrong_pairs, compared.missed_pairs, compared.without_partner
    listed = {external_id for pair in (*wrong, *missed) for external_id in pair} | set(without_partner)
    names = dict(Initiative.objects.filter(external_id__in=listed).values_list("external_id", "name"))
    return LabelledQuality(
        quality=compared.quality, top=top, encoder=analysis.encoder, initiatives=len(ids),
        labelled_clusters=len(set(duplicates.values())),
        clusters_found=len(found), possible=possible, decided_pairs_left_out=len(decided),
        listed_only=listed_only, listed=len(labels.clusters), unlisted_pairs=len(unlisted),
        wrong_pairs=wrong, missed_pairs=missed, without_partner=without_partner, names=names, bands=bands,
    )


def _label_bands(analysis: Any, ids: dict[int, str], duplicates: dict[str, str],
                 excluded: set[frozenset[str]]) -> list[dict[str, Any]]:
    """Every cluster the analysis found, likely and possible, by score band against the labels (the pairs the check
    leaves out left out here too), each band beside the same band measured elsewhere (score_band), so a CoE sees
    whether its portfolio is easier or harder than the inventories the shipped figures come from."""
    scored = []
    for cluster in analysis.clusters:
        counted = quality_pairs([[ids[pk] for pk in cluster.member_ids]]) - excluded
        right = sum(1 for a, b in counted if a in duplicates and duplicates[a] == duplicates.get(b))
        scored.append((float(cluster.score), len(counted), right))
    model = analysis.pair_model
    bands = score_bands(scored, likely=model.threshold, possible=model.possible)
    for band in bands:
        measured = score_band(band["low"])
        same = measured is not None and (measured.low, measured.high) == (band["low"], band["high"])
        band["elsewhere"] = {"right": measured.right, "pairs": measured.pairs} if same and measured else None
    return bands


LABELS_TEMPLATE_HEADER = ["external_id", "cluster", "name", "department", "category", "stage", "purpose"]


def labels_template_rows() -> list[list[str]]:
    """Every initiative as a row of a labels file to fill in, by category then name so that look-alikes sit near
    each other: each with a label of its own (its external id), which says "duplicates nothing" until the person
    filling it in gives the initiatives that do one job one label. The columns after `cluster` help them decide
    and are ignored on upload. One query."""
    initiatives = Initiative.objects.select_related("department").order_by("category", "name", "external_id")
    return [[i.external_id, i.external_id, i.name, i.department.name, i.get_category_display(),
             i.get_stage_display(), " ".join(i.description.split())] for i in initiatives]


# What a label check lists, by kind: the label of its rows and the key of its result that holds them.
LABEL_CHECK_KINDS = {
    "wrong": ("Put together, labelled apart", "wrong_pairs"),
    "missed": ("Labelled together, left apart", "missed_pairs"),
    "without": ("No true partner among its possible duplicates", "without_partner"),
}


def label_check_kind_counts(check: SprawlLabelCheck) -> list[tuple[str, str, int]]:
    """(kind, label, how many) of each kind a finished label check lists, in LABEL_CHECK_KINDS order."""
    result = check.result or {}
    return [(kind, label, len(result.get(key, []))) for kind, (label, key) in LABEL_CHECK_KINDS.items()]


def label_check_rows(check: SprawlLabelCheck, *, kind: str | None = None) -> list[dict[str, Any]]:
    """A finished label check's wrong pairs, missed pairs and duplicates without a true partner in their top N, one
    row each (optionally of one `kind`: wrong, missed, without), with each initiative's page when it still exists
    and its label in the file ("" when the file does not list it). One query."""
    result = check.result or {}
    names: dict[str, str] = result.get("names", {})
    found: list[tuple[str, str, str]] = []
    for key, (_, source) in LABEL_CHECK_KINDS.items():
        if kind in (None, key):
            for entry in result.get(source, []):  # a pair, or one duplicate without a true partner
                first, second = entry if isinstance(entry, list) else (entry, "")
                found.append((key, first, second))
    listed = {external_id for _, a, b in found for external_id in (a, b) if external_id}
    pks = dict(Initiative.objects.filter(external_id__in=listed).values_list("external_id", "pk"))
    labels: dict[str, str] = check.labels or {}
    return [{"kind": LABEL_CHECK_KINDS[key][0], "kind_code": key, "first_id": a, "first_name": names.get(a, ""),
             "first_pk": pks.get(a), "first_label": labels.get(a, ""), "second_id": b,
             "second_name": names.get(b, "") if b else "", "second_pk": pks.get(b) if b else None,
             "second_label": labels.get(b, "") if b else ""} for key, a, b in found]


@dataclass(frozen=True)
class LabelCheckBand(Band):
    """One score band of a finished label check against the file's labels, and the same band on the inventories of
    other companies (`elsewhere_*`, when the shipped table has it)."""

    elsewhere_right: int | None
    elsewhere_pairs: int | None

    @property
    def elsewhere_share(self) -> float | None:
        if self.elsewhere_right is None or not self.elsewhere_pairs:
            return None
        return self.elsewhere_right / self.elsewhere_pairs


def label_check_bands(check: SprawlLabelCheck) -> list[LabelCheckBand]:
    """A finished label check's clusters by score band (selectors.labelled_quality), for its page; empty for a check
    measured before checks kept their bands. No query."""
    return label_bands((check.result or {}).get("bands") or [])


def label_bands(bands: list[dict[str, Any]]) -> list[LabelCheckBand]:
    """Label-check bands as stored (LabelledQuality.bands, a result's `bands`), with their shares and intervals."""
    return [_label_check_band(band) for band in bands]


def _label_check_band(band: dict[str, Any]) -> LabelCheckBand:
    elsewhere = band.get("elsewhere") or {}
    return LabelCheckBand(**{key: band[key] for key in BAND_KEYS}, elsewhere_right=elsewhere.get("right"),
                          elsewhere_pairs=elsewhere.get("pairs"))


def band_on_own_labels(score: float | Decimal) -> tuple[SprawlLabelCheck, LabelCheckBand] | None:
    """The band `score` falls in on the company's latest finished label check measured with the configured encoder,
    with that check: "clusters at this score were right this often on your own labels", beside score_band's
    "elsewhere". A check measured with another encoder is passed over: its scores came from another pair model. None
    when no such check finished, the latest kept no bands (measured before checks kept them), or none of its clusters
    scored in that band. One query."""
    encoder = calibration.calibration_for(configured_name()).encoder
    check = SprawlLabelCheck.objects.filter(status=RunStatus.SUCCEEDED, result__encoder=encoder).order_by(
        "-finished_at", "-id").first()
    band = _band_holding((check.result or {}).get("bands") or [], score) if check is not None else None
    if check is None or band is None or not band["pairs"]:
        return None
    return check, _label_check_band(band)


def label_checks_recent(limit: int = 10) -> QuerySet[SprawlLabelCheck]:
    """The latest label checks, newest first, with who ran them."""
    return SprawlLabelCheck.objects.select_related("actor").order_by("-created_at", "-id")[:limit]
