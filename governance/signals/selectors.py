"""Reads of the signals: the facts every rule needs, gathered for the whole portfolio in a fixed number of queries
(no query per initiative), the candidates the rules find in them, and the signal lists of the pages and the API.

Who reads which signals: reviewers, executives and administrators all of them; an owner those of the initiatives
they own or act for (tollgate.roles, `governance.view_signal`).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from auditlog.models import LogEntry
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db.models import (
    Case,
    CharField,
    Count,
    Exists,
    F,
    Max,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Value,
    When,
    Window,
    prefetch_related_objects,
)
from django.db.models.functions import Concat, RowNumber, Substr
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from governance import evidence
from governance.choices import (
    LIVE_SIGNAL_STATUSES,
    SPRAWL_CONFIDENCES,
    AuditEvent,
    SignalSeverity,
    SignalStatus,
    SignalType,
    SprawlStatus,
)
from governance.models import Signal, SignalRun, SprawlCluster, SprawlClusterMember
from governance.selectors import policy_values
from governance.signals.filtersets import LIVE
from governance.signals.rules import kill, licences, right_sizing, scale, sprawl
from governance.signals.rules.base import Candidate
from governance.signals.rules.facts import (
    NO_REVIEWS,
    CatalogueModel,
    ClusterFacts,
    InitiativeFacts,
    PoolFacts,
    QuarterCost,
    TokenUsage,
)
from governance.sprawl.selectors import ENDED_STAGES
from portfolio import calculations
from portfolio.choices import Stage
from portfolio.costs.calculations import active_window, cents
from portfolio.costs.connectors.base import Period
from portfolio.costs.selectors import (
    cost_periods,
    initiative_tco_by_period,
    last_complete_month,
    observed_gpu_hour_price,
)
from portfolio.dashboard.providers import TOP_CANDIDATES, CandidateSet
from portfolio.dashboard.providers import Candidate as DashboardCandidate
from portfolio.models import (
    AIModel,
    Initiative,
    LicencePool,
    LicencePoolActivity,
    MonthlyTokenUsage,
    Profile,
    SeatActivity,
)
from portfolio.selectors import approved_tco_monthly
from tollgate.formatting import format_evidence_value
from tollgate.roles import is_admin, is_executive, is_reviewer, may
from tollgate.types import Viewer
from tollgate.ui.links import url_pattern

User = get_user_model()
# Most severe first when sorting by severity.
SEVERITY_RANK = Case(When(severity=SignalSeverity.HIGH, then=Value(0)), When(severity=SignalSeverity.MEDIUM,
                                                                            then=Value(1)), default=Value(2))
# A signal's period is a quarter ("2026-Q3") or a month ("2026-09"): sorted as text, December came before Q2. Sorted
# by the month it starts ("2026-07" for 2026-Q3), then the month before the quarter that starts with it.
PERIOD_START = Case(
    *(When(period__regex=rf"^[0-9]{{4}}-Q{number}$", then=Concat(Substr("period", 1, 5), Value(month)))
      for number, month in ((1, "01"), (2, "04"), (3, "07"), (4, "10"))),
    default=F("period"), output_field=CharField(),
)
PERIOD_MONTHS = Case(When(period__regex=r"^[0-9]{4}-Q[1-4]$", then=Value(3)), default=Value(1))
PERIOD_ORDER = ("period_start", "period_months")  # the fields sorting by period means, annotated by signal_list


# Facts ---------------------------------------------------------------------------------------------------------------


def _pilot_starts(pilot_ids: list[int]) -> dict[int, date]:
    """When each pilot entered pilot: its latest start_pilot transition in the audit trail (one query)."""
    if not pilot_ids:
        return {}
    rows = (
        LogEntry.objects.filter(content_type=ContentType.objects.get_for_model(Initiative), object_id__in=pilot_ids,
                                additional_data__event=AuditEvent.TRANSITION,
                                additional_data__transition="start_pilot")
        .order_by().values("object_id").annotate(at=Max("timestamp")).values_list("object_id", "at")
    )
    return {int(pk): timezone.localdate(at) for pk, at in rows}


def _active_delegates() -> tuple[Counter[int], Counter[int]]:
    """Active delegates named on each initiative, and on each owner's profile (by owner id): two queries."""
    named = Counter(Initiative.delegates.through.objects.filter(user__is_active=True).values_list(
        "initiative_id", flat=True))
    of_owner = Counter(Profile.delegates.through.objects.filter(user__is_active=True).values_list(
        "profile__user_id", flat=True))
    return named, of_owner


def initiative_facts() -> list[InitiativeFacts]:
    """Every initiative that runs or is planned (not retired, rejected or killed), with owner, delegates, business
    case TCO and pilot start: four queries for the whole portfolio."""
    rows = list(
        Initiative.objects.exclude(stage__in=ENDED_STAGES).order_by("pk").annotate(
            approved_tco=approved_tco_monthly()).values_list(
            "pk", "external_id", "name", "stage", "start_date", "declared_monthly_cost", "owner_id",
            "owner__first_name", "owner__last_name", "owner__username", "owner__is_active",
            "business_case__id", "business_case__tco_inference", "business_case__tco_compute",
            "business_case__tco_storage", "business_case__tco_licences", "business_case__oversight_hours_per_month",
            "business_case__loaded_hourly_rate", "business_case__tco_maintenance", "approved_tco",
        )
    )
    named, of_owner = _active_delegates()
    starts = _pilot_starts([row[0] for row in rows if row[3] == Stage.PILOT])
    initiative_url = url_pattern("portfolio:initiative_detail")
    facts = []
    for (pk, external_id, name, stage, start_date, declared, owner_id, first, last, username, owner_active,
         case_id, inference, compute, storage, licence, hours, rate, maintenance, approved_tco) in rows:
        # Overrun is measured against the approved business case (portfolio.selectors.approved_plan); an initiative
        # never approved in Tollgate against its business case as it stands.
        tco = approved_tco
        if tco is None and case_id is not None:
            tco = calculations.tco_monthly(
                inference=inference, compute=compute, storage=storage, licences=licence, oversight_hours=hours,
                loaded_hourly_rate=rate, maintenance=maintenance)
        pilot_since = starts.get(pk, start_date) if stage == Stage.PILOT else None
        facts.append(InitiativeFacts(
            id=pk, external_id=external_id, name=name, url=initiative_url(pk), stage=stage, start_date=start_date,
            pilot_since=pilot_since, owner_name=f"{first} {last}".strip() or username,
            owner_active=bool(owner_active), active_delegates=named.get(pk, 0) + of_owner.get(owner_id, 0),
            case_tco_monthly=tco, declared_monthly_cost=declared,
            pilot_start_recorded=stage != Stage.PILOT or pk in starts,
        ))
    return facts


def quarter_costs(*, today: date) -> dict[int, QuarterCost]:
    """Each initiative's TCO of the last complete quarter with cost data (one query)."""
    periods = cost_periods(today=today)
    if periods.quarter is None:
        return {}
    name, first, last = periods.quarter
    initiative_url = url_pattern("portfolio:initiative_detail")
    # The months nobody read are left out (CostPeriods.quarter_unread), as the initiative's page and reports count.
    return {
        pk: QuarterCost(quarter=name, total=tco.total, has_records=tco.has_records,
                        partly_estimated=bool(cents(tco.estimated)),
                        url=f"{initiative_url(pk)}#actual-cost", months=3 - len(periods.quarter_unread),
                        unread_note=periods.quarter_note)
        for pk, tco in initiative_tco_by_period(start=first, end=last, leaving_out=periods.quarter_unread).items()
    }


def _latest_pool_months() -> dict[int, LicencePoolActivity]:
    latest = LicencePoolActivity.objects.filter(licence_pool=OuterRef("licence_pool")).order_by("-month")
    return {
        row.licence_pool_id: row
        for row in LicencePoolActivity.objects.filter(month=latest.values("month")[:1])
    }


def pool_facts(*, today: date, window_days: int) -> list[PoolFacts]:
    """Every licence pool with seat data: its latest month's roll-up (seats purchased, active in the last 30 days),
    and from that month's seat records the seats active within the inactivity window and those assigned within it
    (assigned now, not active, and in no seat record of a month before the window began). A query per distinct
    latest month (one, normally) besides the pools and roll-ups."""
    activity = _latest_pool_months()
    if not activity:
        return []
    pools = LicencePool.objects.in_bulk(list(activity))
    by_month: dict[date, list[int]] = defaultdict(list)
    for pool_id, row in activity.items():
        by_month[row.month].append(pool_id)
    seats: dict[int, tuple[int, int]] = {}
    for month, pool_ids in by_month.items():
        period = Period.month(month.year, month.month)
        _, end = active_window(period.start, period.end, today)
        start = end - timedelta(days=window_days)
        active = Q(assigned=True, last_activity__gte=start, last_activity__lt=end)
        held_before = SeatActivity.objects.filter(licence_pool_id=OuterRef("licence_pool_id"), user=OuterRef("user"),
                                                  assigned=True, period__lt=start.replace(day=1))
        rows = (
            SeatActivity.objects.filter(period=month, licence_pool_id__in=pool_ids)
            .annotate(held_before=Exists(held_before))
            .order_by().values("licence_pool_id")
            .annotate(active=Count("pk", filter=active),
                      new=Count("pk", filter=Q(assigned=True, held_before=False) & ~active))
            .values_list("licence_pool_id", "active", "new")
        )
        seats.update({pool_id: (n_active, n_new) for pool_id, n_active, n_new in rows})
    pools_page = reverse("portfolio:licencepool_list")
    facts = []
    for pool_id, row in sorted(activity.items()):
        pool = pools.get(pool_id)
        if pool is None:
            continue
        in_window, assigned = seats.get(pool_id, (0, 0))
        facts.append(PoolFacts(
            id=pool_id, tool=pool.tool, url=f"{pools_page}?{urlencode({'q': pool.tool})}",
            initiative_ids=(pool.initiative_id,) if pool.initiative_id else (), month=row.month,
            purchased=row.purchased, active_30d=row.active_30d, active_in_window=in_window,
            assigned_in_window=assigned, price_per_seat=pool.price_per_seat_month,
        ))
    return facts


def catalogue() -> dict[str, list[tuple[int, CatalogueModel]]]:
    """The model catalogue by lower-case name, as (id, model) with its substitute; one name may be listed under two
    providers (ordered by provider name). One query."""
    models = list(AIModel.objects.select_related("provider").order_by("provider__name", "pk"))
    models_page = reverse("portfolio:aimodel_list")
    plain = {
        model.pk: CatalogueModel(model.name, model.tier, model.input_price_per_mtok, model.output_price_per_mtok,
                                 f"{models_page}?{urlencode({'q': model.name})}")
        for model in models
    }
    by_name: dict[str, list[tuple[int, CatalogueModel]]] = defaultdict(list)
    for model in models:
        entry = plain[model.pk]
        if model.substitute_id in plain:
            entry = CatalogueModel(entry.name, entry.tier, entry.input_price, entry.output_price, entry.url,
                                   substitute=plain[model.substitute_id])
        by_name[model.name.strip().lower()].append((model.pk, entry))
    return dict(by_name)


def token_usage(*, month: date) -> dict[int, list[TokenUsage]]:
    """Each initiative's tokens per reported model in `month`, matched to the catalogue (right_sizing.match_model;
    a name listed under two providers resolves to the one the initiative declares, else the first): three queries."""
    models = catalogue()
    rows = list(MonthlyTokenUsage.objects.filter(month=month, initiative__isnull=False).order_by(
        "initiative_id", "model").values_list("initiative_id", "model", "input_tokens", "output_tokens",
                                              "cached_tokens"))
    declared: dict[int, set[int]] = defaultdict(set)
    for initiative_id, model_id in Initiative.ai_models.through.objects.filter(
            initiative_id__in={row[0] for row in rows}).values_list("initiative_id", "aimodel_id"):
        declared[initiative_id].add(model_id)
    initiative_url = url_pattern("portfolio:initiative_detail")
    matched: dict[str, str | None] = {}
    usage: dict[int, list[TokenUsage]] = defaultdict(list)
    for initiative_id, reported, input_tokens, output_tokens, cached_tokens in rows:
        if reported not in matched:
            matched[reported] = right_sizing.match_model(reported, models)
        name = matched[reported]
        entry = None
        if name is not None:
            entries = models[name]
            entry = next((model for pk, model in entries if pk in declared[initiative_id]), entries[0][1])
        usage[initiative_id].append(TokenUsage(reported, input_tokens, output_tokens, cached_tokens, entry,
                                               f"{initiative_url(initiative_id)}#actual-cost"))
    return dict(usage)


def observed_gpu_price(*, month: date) -> right_sizing.ObservedGpuPrice | None:
    """The company's own price per GPU-hour in `month` (its GPU clusters' roll-up), for the self-hosting evidence;
    None without GPU-hours that month. One query."""
    observed = observed_gpu_hour_price(month=month)
    if observed is None:
        return None
    return right_sizing.ObservedGpuPrice(month, observed.price, observed.gpu_hours,
                                         reverse("portfolio:ingestion_health"), basis=observed.basis.value)


def open_clusters() -> list[ClusterFacts]:
    """Open sprawl clusters the detector finds likely or reviewers linked, with their active members (two queries): a
    possible cluster waits for a reviewer before it becomes a signal."""
    members = SprawlClusterMember.objects.filter(removed=False).select_related("initiative").only(
        "cluster_id", "initiative__external_id").order_by("initiative__external_id")
    clusters = SprawlCluster.objects.filter(status=SprawlStatus.OPEN, confidence__in=SPRAWL_CONFIDENCES)
    clusters = clusters.prefetch_related(Prefetch("members", queryset=members, to_attr="active_members")).order_by("pk")
    cluster_url = url_pattern("governance:sprawl_detail")
    return [
        ClusterFacts(
            id=cluster.pk, title=cluster.title, url=cluster_url(cluster.pk),
            initiative_ids=tuple(m.initiative_id for m in cluster.active_members),
            external_ids=tuple(m.initiative.external_id for m in cluster.active_members),
            monthly_spend=cluster.monthly_spend, estimated_saving=cluster.estimated_saving,
            basis=cluster.saving_basis,
        )
        for cluster in clusters
    ]


# Candidates ----------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Findings:
    """What the rules found in the portfolio as it is now."""

    candidates: list[Candidate]
    initiatives: int


POLICIES = (
    "kill.value_per_dollar_floor", "kill.value_per_dollar_quarters", "kill.kpi_missed_share", "kill.kpi_missed_reviews",
    "kill.report_overdue_days", "kill.pilot_max_months", "kill.cost_overrun_pct", "scale.value_per_dollar_min",
    "licence.utilisation_floor_pct", "licence.inactivity_window_days", "licence.buffer_pct",
    "self_host.throughput_tokens_per_s", "self_host.utilisation_pct", "self_host.gpu_hour_price",
    "self_host.monthly_operating_cost", "sprawl.variable_share_pct",
)


def signal_candidates(*, today: date | None = None) -> Findings:
    """Every rule over the whole portfolio, with the policies in force: a fixed number of queries whatever its
    size (the facts above, the value reports through governance.evidence, the policies in one)."""
    today = today or timezone.localdate()
    policy = policy_values(*POLICIES)

    def number(key: str) -> Decimal:
        return Decimal(policy[key])

    def whole(key: str) -> int:
        return int(policy[key])

    quarters, reviews_count = whole("kill.value_per_dollar_quarters"), whole("kill.kpi_missed_reviews")
    window_days = whole("licence.inactivity_window_days")
    initiatives = initiative_facts()
    reviews = evidence.review_facts(initiative_ids=None, reports=max(quarters, reviews_count, 1), today=today)
    costs = quarter_costs(today=today)
    month = last_complete_month(today=today)
    usage = token_usage(month=month) if month is not None else {}
    self_hosting: dict[str, Any] = {
        "throughput": number("self_host.throughput_tokens_per_s"),
        "utilisation_pct": number("self_host.utilisation_pct"),
        "gpu_hour_price": number("self_host.gpu_hour_price"),
        "operating_cost": number("self_host.monthly_operating_cost"),
        "observed": observed_gpu_price(month=month) if usage and month is not None else None,
    }
    found: list[Candidate] = []
    for initiative in initiatives:
        facts = reviews.get(initiative.id, NO_REVIEWS)
        found += [c for c in (
            kill.value_per_dollar_low(initiative, facts, floor=number("kill.value_per_dollar_floor"),
                                      quarters=quarters),
            kill.kpi_targets_missed(initiative, facts, share=number("kill.kpi_missed_share"),
                                    reviews_count=reviews_count),
            kill.pilot_stale(initiative, facts, today=today, max_months=whole("kill.pilot_max_months")),
            kill.cost_overrun(initiative, costs.get(initiative.id), overrun_pct=number("kill.cost_overrun_pct")),
            kill.no_active_owner(initiative, today=today),
            scale.scale_candidate(initiative, facts, minimum=number("scale.value_per_dollar_min")),
        ) if c is not None]
        found += kill.report_overdue(initiative, facts, days=whole("kill.report_overdue_days"))
        if month is not None and initiative.id in usage:
            found += right_sizing.right_size(initiative, usage[initiative.id], month=month)
            hosting = right_sizing.self_host(initiative, usage[initiative.id], month=month, **self_hosting)
            if hosting is not None:
                found.append(hosting)
    for pool in pool_facts(today=today, window_days=window_days):
        waste = licences.licence_waste(pool, floor_pct=number("licence.utilisation_floor_pct"),
                                       window_days=window_days, buffer_pct=number("licence.buffer_pct"))
        if waste is not None:
            found.append(waste)
    share_pct = number("sprawl.variable_share_pct")
    found += [sprawl.sprawl(cluster, today=today, variable_share_pct=share_pct) for cluster in open_clusters()]
    return Findings(candidates=found, initiatives=len(initiatives))


# Lists ---------------------------------------------------------------------------------------------------------------


def signal_counts() -> list[tuple[tuple[str, str], int]]:
    """Signals by (type, status), every pair the choices allow (zero included, so a series never vanishes), in one
    query: the figures Prometheus scrapes (tollgate.metrics)."""
    counts = {(row["type"], row["status"]): row["n"]
              for row in Signal.objects.order_by().values("type", "status").annotate(n=Count("pk"))}
    return [((kind, status), counts.get((kind, status), 0)) for kind in SignalType.values for status in
            SignalStatus.values]



def _reads_every_signal(user: Viewer) -> bool:
    return bool(is_admin(user) or is_reviewer(user) or is_executive(user))


def initiatives_acted_for(user: Viewer) -> QuerySet[Initiative]:
    """Initiatives the user owns or acts for (named delegate, or delegate of the owner's profile)."""
    return Initiative.objects.filter(Q(owner=user) | Q(delegates=user) | Q(owner__profile__delegates=user))


def signal_list(*, user: Viewer) -> QuerySet[Signal]:
    """The signals the user reads (all of them, or an owner's own), with what a list row shows (constant queries)."""
    if not may(user, "governance.view_signal"):
        return Signal.objects.none()
    signals = Signal.objects.prefetch_related(
        Prefetch("initiatives", queryset=Initiative.objects.select_related("department").order_by("external_id"))
    ).annotate(severity_rank=SEVERITY_RANK, period_start=PERIOD_START, period_months=PERIOD_MONTHS)
    if not _reads_every_signal(user):
        signals = signals.filter(initiatives__in=initiatives_acted_for(user).values("pk")).distinct()
    return signals.order_by("-first_seen_at", "-pk")


def signal_list_by_severity(*, user: Viewer) -> QuerySet[Signal]:
    """`signal_list` as the page opens on it: the most severe first, the largest saving first within a severity."""
    return signal_list(user=user).order_by("severity_rank", F("monthly_saving").desc(nulls_last=True), "-pk")


def live_signals(*, user: Viewer) -> QuerySet[Signal]:
    return signal_list(user=user).filter(status__in=LIVE_SIGNAL_STATUSES)


def signals_of_initiative(initiative: Initiative, *, user: Viewer, limit: int = 20) -> list[Signal]:
    """The initiative's open and acknowledged signals, then its latest closed ones, for its page (two queries, and
    one more for an owner's permission)."""
    if not may(user, "governance.view_signal"):
        return []
    if not _reads_every_signal(user) and not initiatives_acted_for(user).filter(pk=initiative.pk).exists():
        return []
    signals = Signal.objects.filter(initiatives=initiative).order_by("-pk")
    live = list(signals.filter(status__in=LIVE_SIGNAL_STATUSES))
    closed = list(signals.exclude(status__in=LIVE_SIGNAL_STATUSES)[: max(0, limit - len(live))])
    return live + closed


def _awaiting_decision(user: Viewer) -> QuerySet[Signal]:
    mine = Signal.initiatives.through.objects.filter(
        initiative__in=initiatives_acted_for(user).values("pk")).values("signal_id")
    return Signal.objects.filter(status__in=LIVE_SIGNAL_STATUSES).exclude(pk__in=mine)


QUEUE_SIGNALS = 50  # the reviewer queue lists this many, most severe first, and says of how many


def signals_awaiting_decision(*, user: Viewer, limit: int = QUEUE_SIGNALS) -> list[Signal]:
    """Open and acknowledged signals a reviewer may decide (none on initiatives they own or act for), most severe
    and largest saving first, for the reviewer queue (two queries)."""
    if not may(user, "governance.view_reviewqueue"):
        return []
    return list(
        _awaiting_decision(user).annotate(severity_rank=SEVERITY_RANK)
        .prefetch_related(Prefetch("initiatives", queryset=Initiative.objects.order_by("external_id")))
        .order_by("severity_rank", F("monthly_saving").desc(nulls_last=True), "-pk")[:limit]
    )


def signals_awaiting_decision_count(*, user: Viewer) -> int:
    """How many signals_awaiting_decision would list without its limit, so the queue can say "50 of 83"."""
    return _awaiting_decision(user).count() if may(user, "governance.view_reviewqueue") else 0


def signal_run_latest() -> SignalRun | None:
    return SignalRun.objects.order_by("-created_at", "-pk").first()


def signal_people(signals: Iterable[Signal]) -> dict[int, list]:
    """Owners and active delegates of each signal's initiatives, to notify (three queries for any number)."""
    by_signal: dict[int, set[int]] = defaultdict(set)
    initiative_ids: set[int] = set()
    through = Signal.initiatives.through
    for signal_id, initiative_id in through.objects.filter(signal_id__in=[s.pk for s in signals]).values_list(
            "signal_id", "initiative_id"):
        by_signal[signal_id].add(initiative_id)
        initiative_ids.add(initiative_id)
    acting: dict[int, set[int]] = defaultdict(set)
    owners = dict(Initiative.objects.filter(pk__in=initiative_ids).values_list("pk", "owner_id"))
    for initiative_id, owner_id in owners.items():
        acting[initiative_id].add(owner_id)
    for initiative_id, user_id in Initiative.delegates.through.objects.filter(
            initiative_id__in=initiative_ids).values_list("initiative_id", "user_id"):
        acting[initiative_id].add(user_id)
    profile_delegates: dict[int, set[int]] = defaultdict(set)
    for owner_id, user_id in Profile.delegates.through.objects.filter(
            profile__user_id__in=set(owners.values())).values_list("profile__user_id", "user_id"):
        profile_delegates[owner_id].add(user_id)
    for initiative_id, owner_id in owners.items():
        acting[initiative_id] |= profile_delegates[owner_id]
    people = User.objects.in_bulk({u for ids in acting.values() for u in ids})
    return {
        signal_id: [people[u] for u in sorted({u for i in ids for u in acting[i]}) if u in people
                    and people[u].is_active]
        for signal_id, ids in by_signal.items()
    }


# For portfolio's dashboard and board pack (registered in governance.apps) ---------------------------------------------

# The kill-or-continue candidates PRODUCT.md names: value per dollar, KPI targets, overdue reports, stale pilots, cost
# overrun, licence utilisation below the floor and no active owner (an orphan is the first thing a board should see).
KILL_TYPES = (SignalType.VALUE_PER_DOLLAR_LOW, SignalType.KPI_TARGETS_MISSED, SignalType.REPORT_OVERDUE,
              SignalType.PILOT_STALE, SignalType.COST_OVERRUN, SignalType.LICENCE_WASTE, SignalType.NO_ACTIVE_OWNER)
SEVERITY_ORDER: dict[str, int] = {SignalSeverity.HIGH: 0, SignalSeverity.MEDIUM: 1, SignalSeverity.LOW: 2}
# Among candidates of one severity without a saving, the order a board reads them in: an orphan first (nobody answers
# for it), then the money rules, then what the value reports say, then the process. Without it, which of 39 high
# signals made the top 20 was decided by database id.
KILL_PRIORITY = (SignalType.NO_ACTIVE_OWNER, SignalType.COST_OVERRUN, SignalType.LICENCE_WASTE,
                 SignalType.VALUE_PER_DOLLAR_LOW, SignalType.KPI_TARGETS_MISSED, SignalType.PILOT_STALE,
                 SignalType.REPORT_OVERDUE)


def evidence_in_words(evidence: dict[str, Any], *, numbers: int = 3) -> str:
    """The rule and its first numbers in one line, formatted as the signal's page prints them, for tables that have
    no room for the whole evidence. The initiative is left out: those tables list it beside."""
    rule = str(evidence.get("rule") or "").strip()
    if rule and rule[-1] not in ".!?":
        rule += "."
    shown = [n for n in evidence.get("numbers") or [] if n.get("label") != "Initiative"][:numbers]
    figures = "; ".join(f"{n.get('label')}: {format_evidence_value(n.get('value'), n.get('unit') or '')}"
                        for n in shown)
    return " ".join(part for part in (rule, f"{figures}." if figures else "") if part)


def candidate_ordering() -> tuple[Any, ...]:
    """The order of the dashboard's and the board pack's candidates: most severe first; then those with money, the
    largest monthly saving first; then by KILL_PRIORITY (the orphans first); then the oldest."""
    severity = Case(*(When(severity=value, then=Value(rank)) for value, rank in SEVERITY_ORDER.items()),
                    default=Value(len(SEVERITY_ORDER)))
    with_money = Case(When(monthly_saving__gt=0, then=Value(0)), default=Value(1))
    rule = Case(*(When(type=value, then=Value(rank)) for rank, value in enumerate(KILL_PRIORITY)),
                default=Value(len(KILL_PRIORITY)))
    return (severity.asc(), with_money.asc(), F("monthly_saving").desc(nulls_last=True), rule.asc(), F("pk").asc())


def top_candidates(signals: QuerySet[Signal], limit: int | None) -> list[Signal]:
    """The `limit` first of `signals` by candidate_ordering, with the best of each type among them when `limit` has
    room (calculations.each_kind_first): one query, which reads only each type's best and the `limit` first. `limit`
    None: all of them, in that order."""
    ordering = candidate_ordering()
    if limit is None:
        return list(signals.order_by(*ordering))
    rows = list(signals.annotate(
        position=Window(RowNumber(), order_by=ordering),
        type_rank=Window(RowNumber(), partition_by=[F("type")], order_by=ordering),
    ).filter(Q(type_rank=1) | Q(position__lte=limit)).order_by("position"))
    return calculations.each_kind_first(rows, limit, kind=lambda signal: signal.type)


def dashboard_candidates(*, department_id: int | None, limit: int | None = TOP_CANDIDATES) -> CandidateSet:
    """Open and acknowledged kill signals (KILL_TYPES) and scale candidates: how many of each, and the `limit` first
    of each by candidate_ordering, every type of signal present among them when `limit` allows (top_candidates).
    Five queries whatever the portfolio's size."""
    live = Signal.objects.filter(status__in=LIVE_SIGNAL_STATUSES)
    if department_id:
        live = live.filter(pk__in=Signal.objects.filter(initiatives__department_id=department_id).values("pk"))
    kill = live.filter(type__in=KILL_TYPES)
    scale = live.filter(type=SignalType.SCALE_CANDIDATE)
    initiatives = Prefetch("initiatives", queryset=Initiative.objects.order_by("name"))
    top = [*top_candidates(kill, limit), *top_candidates(scale, limit)]
    prefetch_related_objects(top, initiatives)
    return CandidateSet(
        [DashboardCandidate(
            kind="scale" if s.type == SignalType.SCALE_CANDIDATE else "kill", type=s.type,
            title=s.get_type_display(), initiative_ids=tuple(i.pk for i in s.initiatives.all()),
            initiatives=tuple(i.name for i in s.initiatives.all()), severity=s.get_severity_display(),
            monthly_saving=s.monthly_saving, evidence=evidence_in_words(s.evidence or {}), url=s.get_absolute_url(),
        ) for s in top],
        reverse("governance:signal_list"),
        kill_count=kill.count(),
        scale_count=scale.count(),
        kill_url=_live_signals_url(KILL_TYPES, department_id),
        scale_url=_live_signals_url((SignalType.SCALE_CANDIDATE,), department_id),
    )


def _live_signals_url(types: Iterable[str], department_id: int | None) -> str:
    """The signals page listing the open and acknowledged signals of `types` (of the department's initiatives): what
    the dashboard's candidate counts count, so the count and the list it opens agree."""
    query = [("status", LIVE), *(("type", str(t)) for t in types)]
    if department_id:
        query.append(("department", str(department_id)))
    return f"{reverse('governance:signal_list')}?{urlencode(query)}"
