"""Writes of sprawl detection: the use-case catalogue load, initiatives' use cases, sprawl recomputation and the
clusters' review lifecycle. Each write runs in one transaction and writes its audit rows.

The detection itself (scoring, embeddings, grouping) is governance.sprawl.analysis; this module stores what it
finds and keeps people's decisions across recomputations.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from auditlog.context import disable_auditlog
from auditlog.models import LogEntry
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.text import slugify

from governance.choices import AuditEvent, SprawlRunTrigger, SprawlStatus, UseCaseOrigin
from governance.models import InitiativeUseCase, SprawlCluster, SprawlClusterMember, SprawlRun, UseCase
from governance.services import audit_event
from portfolio.choices import RunStatus
from portfolio.models import Initiative
from tollgate.roles import may

logger = logging.getLogger(__name__)

# A found cluster is the same as a stored one when their active members overlap at least this much (Jaccard).
MATCH_JACCARD = 0.5
CONFIDENCE_STEP = Decimal("0.001")
MAX_USE_CASES_PER_INITIATIVE = 5
RECOMPUTE_LOCK_KEY = 0x5B4A_1006  # pg_advisory_xact_lock key of sprawl recomputation

CATALOGUE_PATH = Path(__file__).resolve().parents[1] / "data" / "use_case_catalogue.yaml"

# YAML key -> model field. Every key is required in every entry except "not" (an archetype may have no near miss).
CATALOGUE_TEXT_KEYS = {"code": "code", "name": "name", "job": "job"}
CATALOGUE_LIST_KEYS = {"functions": "functions", "inputs": "inputs", "outputs": "outputs", "synonyms": "synonyms",
                       "vendor_products": "vendor_products", "not": "not_this"}
CATALOGUE_OPTIONAL_KEYS = {"not"}
CATALOGUE_FIELDS = [*CATALOGUE_TEXT_KEYS.values(), *CATALOGUE_LIST_KEYS.values()]


class CatalogueError(ValidationError):
    """The catalogue file cannot be loaded; every problem names its entry. Nothing was written."""


# Use-case catalogue --------------------------------------------------------------------------------------------------


@dataclass
class CatalogueLoad:
    """What a catalogue load did, by use-case code."""

    version: str
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.retired)


def use_case_catalogue_parse(text: str, *, source: str = "catalogue") -> tuple[str, list[dict[str, Any]]]:
    """The catalogue's version and its entries as model field values, or CatalogueError listing every problem.

    Shape: {version: "2026.11", use_cases: [{code, name, job, functions, inputs, outputs, synonyms,
    vendor_products, not}, ...]}; the lists hold strings.
    """
    try:
        data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # libyaml when available
    except yaml.YAMLError as exc:
        raise CatalogueError(f"{source}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise CatalogueError(f"{source}: expected a mapping with 'version' and 'use_cases' at the top level.")
    errors: list[str] = []
    unknown_top = sorted(set(data) - {"version", "use_cases"})
    if unknown_top:
        errors.append(f"{source}: unknown top-level key(s): {', '.join(map(str, unknown_top))}.")
    version = data.get("version")
    version = str(version).strip() if version is not None else ""
    if not version:
        errors.append(f"{source}: 'version' is missing (e.g. version: \"2026.11\").")
    elif len(version) > 20:
        errors.append(f"{source}: 'version' is longer than 20 characters.")
    entries = data.get("use_cases")
    if not isinstance(entries, list) or not entries:
        errors.append(f"{source}: 'use_cases' must be a non-empty list.")
        raise CatalogueError(errors)

    parsed: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    allowed = set(CATALOGUE_TEXT_KEYS) | set(CATALOGUE_LIST_KEYS)
    for number, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict):
            errors.append(f"Entry {number}: expected a mapping of keys, got {type(entry).__name__}.")
            continue
        label = f"Entry {number} ({entry['code']!r})" if isinstance(entry.get("code"), str) else f"Entry {number}"
        problems: list[str] = []
        unknown = sorted(set(map(str, entry)) - allowed)
        if unknown:
            problems.append(f"unknown key(s) {', '.join(unknown)}")
        missing = [key for key in (*CATALOGUE_TEXT_KEYS, *CATALOGUE_LIST_KEYS)
                   if key not in entry and key not in CATALOGUE_OPTIONAL_KEYS]
        if missing:
            problems.append(f"missing key(s) {', '.join(missing)}")
        values: dict[str, Any] = {}
        for key, name in CATALOGUE_TEXT_KEYS.items():
            if key not in entry:
                continue
            value = entry[key]
            if not isinstance(value, str) or not value.strip():
                problems.append(f"'{key}' must be non-empty text")
                continue
            values[name] = " ".join(value.split()) if key != "job" else value.strip()
        code = values.get("code")
        if code is not None:
            if slugify(code) != code or len(code) > 80:
                problems.append(f"'code' must be a slug of at most 80 characters (lowercase letters, digits, "
                                f"hyphens), e.g. {slugify(code)[:80]!r}")
            elif code in seen:
                problems.append(f"code {code!r} is already used by entry {seen[code]}")
            else:
                seen[code] = number
        if "name" in values and len(values["name"]) > 200:
            problems.append("'name' is longer than 200 characters")
        for key, name in CATALOGUE_LIST_KEYS.items():
            value = entry.get(key, [])
            if value is None:
                value = []
            if not isinstance(value, list) or not all(isinstance(item, str) and item.strip() for item in value):
                problems.append(f"'{key}' must be a list of non-empty texts")
                continue
            values[name] = [item.strip() for item in value]
        if problems:
            errors.append(f"{label}: {'; '.join(problems)}.")
        else:
            parsed.append(values)
    if errors:
        raise CatalogueError(errors)
    return version, parsed


@transaction.atomic
def use_case_catalogue_load(*, path: Path | str | None = None, actor: Any = None, audit: bool = True) -> CatalogueLoad:
    """Create or update the catalogue's use cases by code, idempotently; nothing is written when nothing changed.

    Entries added by administrators (blank catalogue version) are never deleted; catalogue entries that a newer
    catalogue no longer lists are deactivated, not deleted (initiatives may still point at them). With `audit`, each
    created, updated or retired use case gets an audit row naming the catalogue version (a `load_use_cases` run);
    the load on migrate brings in the catalogue shipped with the release, whose history is the repository's.
    """
    path = Path(path) if path is not None else CATALOGUE_PATH
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CatalogueError(f"Cannot read the use-case catalogue {path}: {exc.strerror or exc}.") from exc
    version, entries = use_case_catalogue_parse(text, source=path.name)
    result = CatalogueLoad(version=version)
    existing = {u.code: u for u in UseCase.objects.select_for_update()}
    to_create: list[UseCase] = []
    to_update: list[tuple[UseCase, dict[str, list[Any]]]] = []
    for values in entries:
        use_case = existing.get(values["code"])
        if use_case is None:
            to_create.append(UseCase(**values, catalogue_version=version, is_active=True))
            continue
        changes = {name: [getattr(use_case, name), values[name]] for name in CATALOGUE_FIELDS
                   if getattr(use_case, name) != values[name]}
        if changes or use_case.catalogue_version != version:
            if use_case.catalogue_version != version:
                changes["catalogue_version"] = [use_case.catalogue_version, version]
            for name, (_, after) in changes.items():
                setattr(use_case, name, after)
            to_update.append((use_case, changes))
        else:
            result.unchanged.append(use_case.code)
    listed = {values["code"] for values in entries}
    to_retire = [u for code, u in existing.items() if code not in listed and u.catalogue_version and u.is_active]

    with disable_auditlog():  # the explicit rows below are the record, not field-change rows
        created = UseCase.objects.bulk_create(to_create)
        for use_case, changes in to_update:
            use_case.save(update_fields=[*changes, "updated_at"])
        for use_case in to_retire:
            use_case.is_active = False
            use_case.save(update_fields=["is_active", "updated_at"])
    if not audit:
        result.created = [u.code for u in created]
        result.updated = [u.code for u, _ in to_update]
        result.retired = [u.code for u in to_retire]
        return result
    for use_case in created:
        audit_event(use_case, actor=actor, event=AuditEvent.CATALOGUE_LOADED, action=LogEntry.Action.CREATE,
                    version=version)
        result.created.append(use_case.code)
    for use_case, changes in to_update:
        audit_event(use_case, actor=actor, event=AuditEvent.CATALOGUE_LOADED, version=version,
                    changes={k: [str(b), str(a)] for k, (b, a) in changes.items()})
        result.updated.append(use_case.code)
    for use_case in to_retire:
        audit_event(use_case, actor=actor, event=AuditEvent.CATALOGUE_LOADED, version=version,
                    changes={"is_active": ["True", "False"]}, retired=True)
        result.retired.append(use_case.code)
    return result


def use_case_catalogue_load_on_migrate(*, apps: Any = None, **kwargs: Any) -> None:
    """post_migrate: bring the shipped catalogue in after every migrate (and after a test database flush).

    A post_migrate handler rather than a data migration: a new catalogue version ships as a change of the data file
    alone, and every `migrate` picks it up; a migration would freeze the file as it was when the migration first ran
    and need a new migration per catalogue version. The load is idempotent and writes nothing when nothing changed.
    """
    if apps is not None:
        try:
            apps.get_model("governance", "UseCase")
        except LookupError:  # migrated back to before the catalogue existed
            return
    if not CATALOGUE_PATH.exists():
        return
    use_case_catalogue_load(audit=False)


# Initiatives' use cases ----------------------------------------------------------------------------------------------


@transaction.atomic
def initiative_use_cases_set(*, actor: Any, initiative: Initiative, use_case_codes: Iterable[str]) -> list[
        InitiativeUseCase]:
    """Set the initiative's use cases as confirmed by a person; recomputation never overwrites them.

    The person's list replaces every link of the initiative (suggested or confirmed); an empty list hands the
    initiative back to automatic suggestions. Unknown or inactive codes are refused, naming them.
    """
    locked = Initiative.objects.select_for_update().get(pk=initiative.pk)
    if not may(actor, "governance.set_initiative_use_cases", locked):
        raise PermissionDenied(f"You may not set the use cases of {locked}: only those who may edit it, and CoE "
                               "reviewers, may.")
    codes = list(dict.fromkeys(str(c).strip() for c in use_case_codes if str(c).strip()))
    found = {u.code: u for u in UseCase.objects.filter(code__in=codes, is_active=True)}
    unknown = [c for c in codes if c not in found]
    if unknown:
        raise ValidationError({"use_cases": [f"Unknown or inactive use case(s): {', '.join(unknown)}."]})
    if len(codes) > MAX_USE_CASES_PER_INITIATIVE:
        raise ValidationError({"use_cases": [f"Choose at most {MAX_USE_CASES_PER_INITIATIVE} use cases."]})
    existing = list(InitiativeUseCase.objects.filter(initiative=locked).select_related("use_case"))
    before = sorted(f"{link.use_case.code} ({link.origin})" for link in existing)
    keep = {link.use_case.code: link for link in existing if link.origin == UseCaseOrigin.CONFIRMED}
    InitiativeUseCase.objects.filter(initiative=locked).exclude(
        pk__in=[link.pk for code, link in keep.items() if code in found]).delete()
    links = []
    for code in codes:
        link = keep.get(code) or InitiativeUseCase.objects.create(
            initiative=locked, use_case=found[code], confidence=Decimal("1.000"), origin=UseCaseOrigin.CONFIRMED)
        links.append(link)
    after = sorted(f"{code} ({UseCaseOrigin.CONFIRMED})" for code in codes)
    if before != after:
        audit_event(locked, actor=actor, event=AuditEvent.USE_CASES_SET, changes={"use_cases": [before, after]},
                    use_cases=codes)
    return links


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
    """What one recomputation found and changed."""

    initiatives: int = 0
    clusters_found: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    closed: int = 0
    use_case_links_written: int = 0


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


def sprawl_recompute(*, actor: Any = None, analysis: Any = None) -> RecomputeSummary:
    """Run the detection over the portfolio and reconcile what it finds with the stored clusters and suggestions.

    A found cluster matches a stored one when their active member sets overlap (Jaccard >= 0.5, best pairs first).
    An open match is updated; a confirmed or dismissed match keeps its status and decision, and new members join it
    as active; removed members are never re-added. Open clusters no longer found are deleted; confirmed and
    dismissed ones stay as decided. New clusters start open. Idempotent: nothing changed, nothing written
    (`last_seen_at` is refreshed at most once a day).
    """
    from governance.sprawl.analysis import analyse_portfolio

    if analysis is None:  # the long computation runs before the transaction: no locks are held while it runs
        analysis = analyse_portfolio(top=5)
    summary = RecomputeSummary(initiatives=len(analysis.use_cases), clusters_found=len(analysis.clusters))
    with transaction.atomic():
        _recompute_lock()
        summary.use_case_links_written = _use_case_suggestions_store(analysis.use_cases)
        _clusters_reconcile(analysis.clusters, actor=actor, summary=summary)
    return summary


def _clusters_reconcile(found: list[Any], *, actor: Any, summary: RecomputeSummary) -> None:
    from governance.sprawl.selectors import ENDED_STAGES, member_costs

    now = timezone.now()
    today_start = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    # Sprawl is among initiatives that run or are planned: retired, rejected and killed ones are left out.
    alive = set(Initiative.objects.exclude(stage__in=ENDED_STAGES).values_list("pk", flat=True))
    computed = [(set(c.member_ids) & alive, c) for c in found]
    computed = [(ids, c) for ids, c in computed if len(ids) >= 2]
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
            _cluster_create(ids, score=score, use_case=use_case, costs=costs, now=now, actor=actor)
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
                  "title": _cluster_title(use_case, names), **_cluster_figures(cluster, new_active, costs)}
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


def _cluster_create(ids: set[int], *, score: Decimal, use_case: UseCase | None, costs: dict[int, Any], now: Any,
                    actor: Any) -> SprawlCluster:
    names = [costs[i].name for i in ids if i in costs]
    cluster = SprawlCluster(status=SprawlStatus.OPEN, score=score, use_case=use_case,
                            title=_cluster_title(use_case, names), first_seen_at=now, last_seen_at=now)
    for key, value in _cluster_figures(cluster, ids, costs).items():
        setattr(cluster, key, value)
    cluster.save()
    SprawlClusterMember.objects.bulk_create(
        [SprawlClusterMember(cluster=cluster, initiative_id=i) for i in sorted(ids)])
    audit_event(cluster, actor=actor, event=AuditEvent.SPRAWL_FOUND, action=LogEntry.Action.CREATE,
                members=sorted(ids), score=str(score), estimated_saving=str(cluster.estimated_saving))
    return cluster


def _cluster_refresh_figures(cluster: SprawlCluster) -> None:
    """Spend and saving of the cluster's active members, after a member was removed."""
    from governance.sprawl.selectors import member_costs

    ids = set(cluster.members.filter(removed=False).values_list("initiative_id", flat=True))
    figures = _cluster_figures(cluster, ids, member_costs(ids))
    for key, value in figures.items():
        setattr(cluster, key, value)
    cluster.save(update_fields=[*figures, "updated_at"])


# Cluster review lifecycle --------------------------------------------------------------------------------------------


def _cluster_decide(*, actor: Any, cluster: SprawlCluster, reason: str, status: str, event: str,
                    verb: str) -> SprawlCluster:
    locked = SprawlCluster.objects.select_for_update().get(pk=cluster.pk)
    if not may(actor, "governance.decide_sprawlcluster", locked):
        raise PermissionDenied(f"You may not {verb} “{locked}”: only a CoE reviewer or an administrator who owns "
                               "no member and is delegate for none may.")
    if locked.status != SprawlStatus.OPEN:
        raise ValidationError(f"“{locked}” is already {locked.get_status_display().lower()}; only open clusters are "
                              "confirmed or dismissed.")
    reason = (reason or "").strip()
    if status == SprawlStatus.DISMISSED and not reason:
        raise ValidationError({"reason": ["Give a written reason to dismiss the cluster."]})
    locked.status = status
    locked.decision_reason = reason
    locked.decided_by = actor
    locked.decided_at = timezone.now()
    locked.save(update_fields=["status", "decision_reason", "decided_by", "decided_at", "updated_at"])
    audit_event(locked, actor=actor, event=event, changes={"status": [SprawlStatus.OPEN, status]}, reason=reason)
    cluster.status, cluster.decision_reason = locked.status, locked.decision_reason
    cluster.decided_by, cluster.decided_at = locked.decided_by, locked.decided_at
    return locked


@transaction.atomic
def sprawl_cluster_confirm(*, actor: Any, cluster: SprawlCluster, reason: str = "") -> SprawlCluster:
    """Confirm the cluster as sprawl to consolidate; it stays confirmed across recomputation."""
    return _cluster_decide(actor=actor, cluster=cluster, reason=reason, status=SprawlStatus.CONFIRMED,
                           event=AuditEvent.SPRAWL_CONFIRMED, verb="confirm")


@transaction.atomic
def sprawl_cluster_dismiss(*, actor: Any, cluster: SprawlCluster, reason: str) -> SprawlCluster:
    """Dismiss the cluster (not sprawl, or accepted), with a written reason; it stays dismissed."""
    return _cluster_decide(actor=actor, cluster=cluster, reason=reason, status=SprawlStatus.DISMISSED,
                           event=AuditEvent.SPRAWL_DISMISSED, verb="dismiss")


@transaction.atomic
def sprawl_member_remove(*, actor: Any, cluster: SprawlCluster, initiative: Initiative,
                         reason: str) -> SprawlClusterMember:
    """Take an initiative out of a cluster (it does a different job); recomputation never re-adds it."""
    locked = SprawlCluster.objects.select_for_update().get(pk=cluster.pk)
    if not may(actor, "governance.decide_sprawlcluster", locked):
        raise PermissionDenied(f"You may not change “{locked}”: only a CoE reviewer or an administrator who owns no "
                               "member and is delegate for none may.")
    if locked.status == SprawlStatus.DISMISSED:
        raise ValidationError(f"“{locked}” is dismissed; its members are no longer reviewed.")
    member = SprawlClusterMember.objects.filter(cluster=locked, initiative=initiative).first()
    if member is None or member.removed:
        raise ValidationError({"initiative": [f"{initiative} is not an active member of “{locked}”."]})
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": ["Give a written reason to remove a member."]})
    if locked.members.filter(removed=False).count() <= 2:
        raise ValidationError("A cluster keeps at least two members; dismiss the cluster instead.")
    member.removed, member.removed_by, member.removed_reason, member.removed_at = True, actor, reason, timezone.now()
    member.save(update_fields=["removed", "removed_by", "removed_reason", "removed_at"])
    _cluster_refresh_figures(locked)
    audit_event(locked, actor=actor, event=AuditEvent.SPRAWL_MEMBER_REMOVED,
                changes={"removed": [str(initiative), None]}, reason=reason, initiative=initiative.pk)
    return member


# Recompute runs ("recompute now", imports, nightly) ------------------------------------------------------------------


def sprawl_run_submit(*, actor: Any = None, trigger: str = SprawlRunTrigger.USER) -> SprawlRun:
    """Queue a recomputation (its task is sent when the transaction commits), or return the one already queued or
    running, so repeated clicks and imports do not pile up runs. People need the recompute permission; system
    triggers (an import, the nightly schedule) pass no actor."""
    if actor is not None and not may(actor, "governance.recompute_sprawl"):
        raise PermissionDenied("Only CoE reviewers and administrators recompute sprawl.")
    with transaction.atomic():
        _recompute_lock()
        run = SprawlRun.objects.filter(status__in=[RunStatus.PENDING, RunStatus.RUNNING]).order_by("-id").first()
        if run is not None:
            return run
        run = SprawlRun.objects.create(actor=actor, trigger=trigger)

    def _send() -> None:
        from governance.sprawl.tasks import sprawl_recompute_task

        sprawl_recompute_task.delay(run.pk)

    transaction.on_commit(_send)
    return run


def sprawl_run_claim(*, run_id: int) -> SprawlRun | None:
    """Pending -> running, atomically; None when the run is gone or already taken (a redelivered task)."""
    with transaction.atomic():
        run = SprawlRun.objects.select_for_update().filter(pk=run_id).first()
        if run is None or run.status != RunStatus.PENDING:
            return None
        run.status, run.started_at = RunStatus.RUNNING, timezone.now()
        run.save(update_fields=["status", "started_at"])
    return run


def sprawl_run_execute(*, run: SprawlRun) -> SprawlRun:
    """Recompute and record the outcome on the run; a failure is recorded with its message, not raised."""
    try:
        summary = sprawl_recompute(actor=run.actor)
    except Exception as exc:  # recorded on the run for the page; the traceback goes to the worker log
        logger.exception("Sprawl recomputation %s failed", run.pk)
        run.status, run.error = RunStatus.FAILED, f"{type(exc).__name__}: {exc}"[:2000]
    else:
        run.status = RunStatus.SUCCEEDED
        run.initiatives, run.clusters_found = summary.initiatives, summary.clusters_found
        run.clusters_created, run.clusters_updated, run.clusters_closed = summary.created, summary.updated, \
            summary.closed
    run.finished_at = timezone.now()
    run.save()
    return run


def sprawl_runs_expire_stale(*, older_than_minutes: int = 60) -> int:
    """Fail runs stuck in pending or running (their worker was lost), so a new one can be queued."""
    limit = timezone.now() - timedelta(minutes=older_than_minutes)
    return SprawlRun.objects.filter(status__in=[RunStatus.PENDING, RunStatus.RUNNING], created_at__lt=limit).update(
        status=RunStatus.FAILED, finished_at=timezone.now(), error="No worker finished this run within an hour.")


# Use cases added or edited by administrators -------------------------------------------------------------------------

USE_CASE_EDITABLE = ["name", "job", "functions", "inputs", "outputs", "synonyms", "vendor_products", "not_this",
                     "is_active"]


def _use_case_clean(values: dict[str, Any]) -> dict[str, Any]:
    problems: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {}
    for key, value in values.items():
        if key in ("name", "job"):
            if not isinstance(value, str) or not value.strip():
                problems[key] = [f"'{key}' must be non-empty text."]
                continue
            cleaned[key] = value.strip()
        elif key == "is_active":
            cleaned[key] = bool(value)
        elif key in CATALOGUE_LIST_KEYS.values():
            if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
                problems[key] = [f"'{key}' must be a list of non-empty texts."]
                continue
            cleaned[key] = [v.strip() for v in value]
    if problems:
        raise ValidationError(problems)
    return cleaned


@transaction.atomic
def use_case_create(*, actor: Any, code: str, **values: Any) -> UseCase:
    """An administrator adds a use case to the catalogue (catalogue loads never touch it)."""
    if not may(actor, "governance.add_usecase"):
        raise PermissionDenied("Only administrators add use cases.")
    code = (code or "").strip()
    if not code or slugify(code) != code:
        raise ValidationError({"code": [f"“{code}” is not a slug: use lowercase letters, digits and hyphens, e.g. "
                                        f"“{slugify(code) or 'claims-triage'}”."]})
    if UseCase.objects.filter(code=code).exists():
        raise ValidationError({"code": [f"A use case with code “{code}” already exists."]})
    cleaned = _use_case_clean({k: v for k, v in values.items() if k in USE_CASE_EDITABLE})
    for key in ("name", "job"):
        if key not in cleaned:
            raise ValidationError({key: [f"'{key}' is required."]})
    with disable_auditlog():
        use_case = UseCase.objects.create(code=code, catalogue_version="", **cleaned)
    audit_event(use_case, actor=actor, event=AuditEvent.USE_CASE_EDITED, action=LogEntry.Action.CREATE,
                changes={k: [None, str(v)] for k, v in cleaned.items()})
    return use_case


@transaction.atomic
def use_case_update(*, actor: Any, use_case: UseCase, **values: Any) -> UseCase:
    """An administrator edits a use case (a catalogue entry's edit lasts until a new catalogue version changes it)."""
    if not may(actor, "governance.change_usecase", use_case):
        raise PermissionDenied("Only administrators edit use cases.")
    locked = UseCase.objects.select_for_update().get(pk=use_case.pk)
    cleaned = _use_case_clean({k: v for k, v in values.items() if k in USE_CASE_EDITABLE})
    changes = {k: [str(getattr(locked, k)), str(v)] for k, v in cleaned.items() if getattr(locked, k) != v}
    if changes:
        for key in changes:
            setattr(locked, key, cleaned[key])
        with disable_auditlog():
            locked.save(update_fields=[*changes, "updated_at"])
        audit_event(locked, actor=actor, event=AuditEvent.USE_CASE_EDITED, changes=changes)
    return locked
