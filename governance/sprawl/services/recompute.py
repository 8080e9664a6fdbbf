"""Sprawl recomputation: run the detection and reconcile what it finds with the stored clusters and use-case
suggestions, keeping people's decisions (confirmed use cases, decided clusters, removed members)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from auditlog.models import LogEntry
from django.db import connection, transaction
from django.utils import timezone

from governance.choices import AuditEvent, SignalRunTrigger, SprawlStatus, UseCaseOrigin
from governance.models import InitiativeUseCase, SprawlCluster, SprawlClusterMember, UseCase
from governance.signals.services import signal_run_submit
from portfolio.dashboard.providers import data_changed
from portfolio.models import Initiative
from tollgate.audit import audit_event

# A found cluster is the same as a stored one when their active members overlap at least this much (Jaccard).
MATCH_JACCARD = 0.5
CONFIDENCE_STEP = Decimal("0.001")
RECOMPUTE_LOCK_KEY = 0x5B4A_1006  # pg_advisory_xact_lock key of sprawl recomputation


# Use-case suggestions -------------------------------------------------------------------------------------------------


def _use_case_suggestions_store(suggested: dict[int, list[tuple[str, float]]]) -> int:
    """Replace the suggested links with the analysis' suggestions; initiatives a person set use cases for (any
    confirmed link) are left alone. Writes only the differences; returns how many links were written or deleted."""
    codes = {u.code: u.pk for u in UseCase.objects.filter(is_active=True)}
    confirmed = set(InitiativeUseCase.objects.filter(origin=UseCaseOrigin.CONFIRMED).values_list(
        "initiative_id", flat=True))
    existing = {(link.initiative_id, link.use_case_id): link
                for link in InitiativeUseCase.objects.filter(origin=UseCaseOrigin.SUGGESTED)}
    wanted: dict[tuple[int, int], Decimal] = {}
    for initiative_id, pairs in suggested.items():
        if initiative_id in confirmed:
            continue
        for code, confidence in pairs:
            if code in codes:
                value = Decimal(str(min(max(float(confidence), 0.0), 1.0))).quantize(CONFIDENCE_STEP)
                wanted[(initiative_id, codes[code])] = value
    stale = [link.pk for key, link in existing.items() if key not in wanted]
    changed = []
    for key, value in wanted.items():
        link = existing.get(key)
        if link is not None and link.confidence != value:
            link.confidence = value
            changed.append(link)
    new = [InitiativeUseCase(initiative_id=i, use_case_id=u, confidence=value, origin=UseCaseOrigin.SUGGESTED)
           for (i, u), value in wanted.items() if (i, u) not in existing]
    if stale:
        InitiativeUseCase.objects.filter(pk__in=stale).delete()
    if changed:
        InitiativeUseCase.objects.bulk_update(changed, ["confidence"])
    if new:
        # An initiative that gained a suggestion but is not known any more (deleted meanwhile) is skipped.
        alive = set(Initiative.objects.filter(pk__in={link.initiative_id for link in new}).values_list("pk", flat=True))
        InitiativeUseCase.objects.bulk_create([link for link in new if link.initiative_id in alive])
    return len(stale) + len(changed) + len(new)


# Sprawl recomputation ------------------------------------------------------------------------------------------------


@dataclass
class RecomputeSummary:
    """What one recomputation found and changed: each group found is created, updated or unchanged."""

    initiatives: int = 0
    clusters_found: int = 0  # groups of two or more running initiatives
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    closed: int = 0
    use_case_links_written: int = 0
    pair_model: dict = field(default_factory=dict)  # the weights grouped with, and the decisions they were refit on


def jaccard(a: set[int], b: set[int]) -> float:
    return len(a & b) / len(a | b) if a or b else 0.0


def _cluster_title(use_case: UseCase | None, names: list[str]) -> str:
    if use_case is not None:
        return use_case.name[:200]
    shown = ", ".join(sorted(names)[:2])
    more = f" and {len(names) - 2} more" if len(names) > 2 else ""
    return f"Similar initiatives: {shown}{more}"[:200]


def _recompute_lock() -> None:
    """Serialise recomputations (a nightly run and a "recompute now" must not create the same cluster twice)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [RECOMPUTE_LOCK_KEY])
    # SQLite serialises writing transactions by itself.


def _cluster_figures(cluster: SprawlCluster, active_ids: set[int], costs: dict[int, Any]) -> dict[str, Any]:
    from governance.sprawl.selectors import cluster_saving

    saving = cluster_saving(costs[i] for i in sorted(active_ids) if i in costs)
    return {"monthly_spend": saving.monthly_spend, "estimated_saving": saving.estimated_saving,
            "saving_basis": saving.basis}


def recompute_steps() -> tuple[str, ...]:
    """The steps a recomputation reports (its run's progress): the analysis's, then saving what it found."""
    from governance.sprawl.analysis import ANALYSIS_STEPS

    return (*ANALYSIS_STEPS, "Saving the clusters, their evidence and the suggested use cases")


def sprawl_recompute(*, actor: Any = None, analysis: Any = None,
                     progress: Callable[[float], None] | None = None) -> RecomputeSummary:
    """Run the detection over the portfolio and reconcile what it finds with the stored clusters and suggestions.

    A found cluster matches a stored one when their active member sets overlap (Jaccard >= 0.5, best pairs first).
    An open match is updated; a confirmed or dismissed match keeps its status and decision, and new members join it
    as active; removed members are never re-added. Open clusters no longer found are deleted; confirmed and
    dismissed ones stay as decided. New clusters start open. Idempotent: nothing changed, nothing written
    (`last_seen_at` is refreshed at most once a day). `progress` hears where it is among recompute_steps()
    (analyse_portfolio), the last as it saves.
    """
    from governance.sprawl.analysis import analyse_portfolio
    from governance.sprawl.engine import calibration

    if analysis is None:  # the long computation runs before the transaction: no locks are held while it runs
        analysis = analyse_portfolio(top=5, progress=progress)
    if progress is not None:
        progress(len(recompute_steps()))
    summary = RecomputeSummary(initiatives=len(analysis.use_cases),
                               pair_model=calibration.run_record(analysis.pair_model, encoder=analysis.encoder,
                                                                 purpose_metric=analysis.purpose_metric))
    with transaction.atomic():
        _recompute_lock()
        summary.use_case_links_written = _use_case_suggestions_store(analysis.use_cases)
        live = getattr(analysis, "live_clusters", None)
        found = analysis.clusters if live is None else live
        _clusters_reconcile(found, actor=actor, summary=summary)
        if summary.created or summary.updated or summary.closed:
            signals_follow_sprawl()
    data_changed()
    return summary


def signals_follow_sprawl() -> None:
    """Only an open cluster is a sprawl signal, with its members and saving: a decision, or a recomputation that
    changed clusters, queues a signal computation (sent on commit; one waiting run serves several), so the signals
    page and its total do not show a decided cluster, or a removed member's spend, until the nightly run."""
    signal_run_submit(actor=None, trigger=SignalRunTrigger.SPRAWL)


def _clusters_reconcile(found: list[Any], *, actor: Any, summary: RecomputeSummary) -> None:
    from governance.sprawl.selectors import ENDED_STAGES, member_costs

    now = timezone.now()
    today_start = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    # Sprawl is among initiatives that run or are planned: retired, rejected and killed ones are left out.
    alive = set(Initiative.objects.exclude(stage__in=ENDED_STAGES).values_list("pk", flat=True))
    computed = [(set(c.member_ids) & alive, c) for c in found]
    computed = [(ids, c) for ids, c in computed if len(ids) >= 2]
    summary.clusters_found = len(computed)
    _decided_clusters_drop_ended(alive, actor=actor)
    stored = list(SprawlCluster.objects.select_for_update().prefetch_related("members"))
    member_rows = {cluster.pk: {m.initiative_id: m for m in cluster.members.all()} for cluster in stored}
    active = {cluster.pk: {i for i, m in member_rows[cluster.pk].items() if not m.removed} for cluster in stored}
    removed = {cluster.pk: {i for i, m in member_rows[cluster.pk].items() if m.removed} for cluster in stored}

    # Best overlaps first, one stored cluster per found cluster. Initiatives a reviewer removed from a stored cluster
    # are known not to belong to it, so they do not count against the match.
    clusters_of: dict[int, set[int]] = {}  # initiative -> stored clusters it is an active member of
    for pk, ids in active.items():
        for initiative_id in ids:
            clusters_of.setdefault(initiative_id, set()).add(pk)
    candidates = sorted(
        ((jaccard(ids - removed[pk], active[pk]), n, pk) for n, (ids, _) in enumerate(computed)
         for pk in set().union(*(clusters_of.get(i, set()) for i in ids))),
        key=lambda t: (-t[0], t[1], t[2]),
    )
    matched: dict[int, int] = {}  # computed index -> stored cluster pk
    taken: set[int] = set()
    for overlap, n, pk in candidates:
        if overlap < MATCH_JACCARD or n in matched or pk in taken:
            continue
        matched[n] = pk
        taken.add(pk)

    by_pk = {cluster.pk: cluster for cluster in stored}
    use_cases = {u.code: u for u in UseCase.objects.filter(code__in={c.use_case_code for _, c in computed
                                                                       if c.use_case_code})}
    involved = set().union(*(ids for ids, _ in computed), *active.values())
    costs = member_costs(involved)

    for n, (ids, found_cluster) in enumerate(computed):
        use_case = use_cases.get(found_cluster.use_case_code or "")
        score = Decimal(str(round(float(found_cluster.score), 3))).quantize(CONFIDENCE_STEP)
        if n not in matched:
            _cluster_create(ids, score=score, use_case=use_case, costs=costs, now=now, actor=actor,
                            confidence=found_cluster.confidence, evidence=list(found_cluster.evidence))
            summary.created += 1
            continue
        cluster = by_pk[matched[n]]
        rows = member_rows[cluster.pk]
        joining = ids - set(rows)
        leaving = set()
        if cluster.status == SprawlStatus.OPEN:
            leaving = {i for i, m in rows.items() if not m.removed and i not in ids}
        new_active = (active[cluster.pk] | joining) - leaving - removed[cluster.pk]
        names = [costs[i].name for i in new_active if i in costs]
        values = {"score": score, "use_case_id": use_case.pk if use_case else None,
                  "title": _cluster_title(use_case, names), "confidence": found_cluster.confidence,
                  "evidence": list(found_cluster.evidence), **_cluster_figures(cluster, new_active, costs)}
        changed = {k: v for k, v in values.items() if getattr(cluster, k) != v}
        if cluster.last_seen_at < today_start:
            changed["last_seen_at"] = now
        if joining:
            SprawlClusterMember.objects.bulk_create(
                [SprawlClusterMember(cluster=cluster, initiative_id=i) for i in sorted(joining)])
            if cluster.status != SprawlStatus.OPEN:
                audit_event(cluster, actor=actor, event=AuditEvent.SPRAWL_MEMBER_JOINED,
                            changes={"members": [sorted(active[cluster.pk]), sorted(new_active)]},
                            initiatives=sorted(joining))
        if leaving:
            SprawlClusterMember.objects.filter(cluster=cluster, initiative_id__in=leaving).delete()
        if changed:
            for key, value in changed.items():
                setattr(cluster, key, value)
            cluster.save(update_fields=[*changed, "updated_at"])
        if changed or joining or leaving:
            summary.updated += 1
        else:
            summary.unchanged += 1

    for cluster in stored:
        if cluster.pk in taken or cluster.status != SprawlStatus.OPEN:
            continue
        audit_event(cluster, actor=actor, event=AuditEvent.SPRAWL_CLOSED, action=LogEntry.Action.DELETE,
                    members=sorted(active[cluster.pk]), title=cluster.title)
        cluster.delete()
        summary.closed += 1


def _decided_clusters_drop_ended(alive: set[int], *, actor: Any) -> None:
    """Confirmed and dismissed clusters lose their members that ended (retired, rejected, killed) as open ones do:
    an ended initiative no longer spends, so its spend leaves the cluster's spend and saving. A confirmed cluster left
    with one live member stays confirmed (the consolidation it asked for happened), its saving nothing."""
    from governance.sprawl.selectors import member_costs

    decided = SprawlCluster.objects.select_for_update().exclude(status=SprawlStatus.OPEN).prefetch_related("members")
    for cluster in decided:
        members = list(cluster.members.all())
        ended = sorted(m.initiative_id for m in members if not m.removed and m.initiative_id not in alive)
        if not ended:
            continue
        before = sorted(m.initiative_id for m in members if not m.removed)
        SprawlClusterMember.objects.filter(cluster=cluster, initiative_id__in=ended).delete()
        remaining = set(before) - set(ended)
        for key, value in _cluster_figures(cluster, remaining, member_costs(remaining)).items():
            setattr(cluster, key, value)
        cluster.save(update_fields=["monthly_spend", "estimated_saving", "saving_basis", "updated_at"])
        audit_event(cluster, actor=actor, event=AuditEvent.SPRAWL_MEMBER_ENDED,
                    changes={"members": [before, sorted(remaining)]}, initiatives=ended)


def _cluster_create(ids: set[int], *, score: Decimal, use_case: UseCase | None, costs: dict[int, Any], now: Any,
                    actor: Any, confidence: str, evidence: list[str]) -> SprawlCluster:
    names = [costs[i].name for i in ids if i in costs]
    cluster = SprawlCluster(status=SprawlStatus.OPEN, score=score, use_case=use_case, confidence=confidence,
                            evidence=evidence, title=_cluster_title(use_case, names), first_seen_at=now,
                            last_seen_at=now)
    for key, value in _cluster_figures(cluster, ids, costs).items():
        setattr(cluster, key, value)
    cluster.save()
    SprawlClusterMember.objects.bulk_create(
        [SprawlClusterMember(cluster=cluster, initiative_id=i) for i in sorted(ids)])
    audit_event(cluster, actor=actor, event=AuditEvent.SPRAWL_FOUND, action=LogEntry.Action.CREATE,
                members=sorted(ids), score=str(score), estimated_saving=str(cluster.estimated_saving))
    return cluster


def cluster_figures_refresh(cluster: SprawlCluster) -> None:
    """Spend and saving of the cluster's active members, after a member was removed."""
    from governance.sprawl.selectors import member_costs

    ids = set(cluster.members.filter(removed=False).values_list("initiative_id", flat=True))
    figures = _cluster_figures(cluster, ids, member_costs(ids))
    for key, value in figures.items():
        setattr(cluster, key, value)
    cluster.save(update_fields=[*figures, "updated_at"])
