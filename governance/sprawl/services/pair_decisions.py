"""Reviewers' verdicts on possible-duplicate pairs: "duplicate of" (a must-link pair for the next recomputation) and
"not a duplicate" (a cannot-link pair, and the candidate leaves the initiative's possible duplicates).

One row per pair; a new verdict replaces the old one and the audit trail keeps both. The people who decide clusters
decide pairs (tollgate.roles), never on a pair holding an initiative they own or are delegate for.
"""

from __future__ import annotations

from typing import Any

from auditlog.models import LogEntry
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from governance.choices import AuditEvent, DuplicateVerdict, SprawlStatus
from governance.models import DuplicatePairDecision, SprawlCluster
from portfolio.choices import ENDED_STAGES
from portfolio.models import Initiative
from tollgate.audit import audit_event
from tollgate.roles import may

REASON_MAX = DuplicatePairDecision._meta.get_field("reason").max_length or 500


def pair_of(initiative: Initiative, other: Initiative) -> DuplicatePairDecision:
    """An unsaved decision holding the pair in its stored order (lower pk first): the object the permission asks
    about before anything is stored."""
    a, b = sorted((initiative, other), key=lambda i: i.pk)
    return DuplicatePairDecision(initiative_a=a, initiative_b=b)


def _refuse_unless_may(actor: Any, pair: DuplicatePairDecision, verb: str) -> None:
    if not may(actor, "governance.decide_duplicatepair", pair):
        raise PermissionDenied(
            f"You may not {verb} on “{pair.initiative_a}” and “{pair.initiative_b}”: only a CoE reviewer or an "
            "administrator who owns neither and is delegate for neither may.")


def ended_in_pair(initiative: Initiative, other: Initiative) -> Initiative | None:
    """The one of the two that is retired, rejected or killed, if any: ended initiatives are left out of clusters, so
    a verdict on their pairs would only chain live initiatives together; the page offers none."""
    return next((i for i in (initiative, other) if i.stage in ENDED_STAGES), None)


def _cluster_holding(initiative: Initiative, other: Initiative, status: str) -> SprawlCluster | None:
    """A cluster of `status` holding both as active members."""
    return (SprawlCluster.objects.filter(status=status, members__initiative=initiative, members__removed=False)
            .filter(members__initiative=other, members__removed=False).select_related("decided_by").first())


def _refuse_contradiction(initiative: Initiative, other: Initiative, verdict: str) -> None:
    """A verdict is refused where it would contradict a cluster decision on the same two: one decision per pair, the
    cluster's, until a reviewer changes that cluster (removes a member of a confirmed one)."""
    if (ended := ended_in_pair(initiative, other)) is not None:
        field = "initiative" if ended.pk == initiative.pk else "other"
        raise ValidationError({field: [f"“{ended}” is {ended.get_stage_display().lower()}: ended initiatives are "
                                       "left out of sprawl clusters, so its pairs take no verdict."]})
    if verdict == DuplicateVerdict.NOT_DUPLICATE:
        cluster = _cluster_holding(initiative, other, SprawlStatus.CONFIRMED)
        if cluster is not None:
            raise ValidationError(f"“{initiative}” and “{other}” are both in the confirmed sprawl cluster "
                                  f"“{cluster}”: remove one of them from it first (on the cluster's page, with the "
                                  "reason), then mark the pair not a duplicate.")
    else:
        cluster = _cluster_holding(initiative, other, SprawlStatus.DISMISSED)
        if cluster is not None:
            raise ValidationError(f"“{initiative}” and “{other}” are both in the sprawl cluster “{cluster}”, which "
                                  "was dismissed: a dismissed cluster's members are not sprawl of each other, and "
                                  "that decision is not overturned pair by pair.")


@transaction.atomic
def duplicate_pair_decide(*, actor: Any, initiative: Initiative, other: Initiative, verdict: str,
                          reason: str = "") -> DuplicatePairDecision:
    """Record (or replace) the verdict on the pair, with a short written reason either way: "duplicate of" holds the
    two in one cluster (its evidence quotes the verdict), "not a duplicate" hides the candidate from the initiative's
    possible duplicates and keeps the two apart in every cluster; a later reviewer reads why. Refused on a pair
    holding an ended initiative, on "not a duplicate" for two members of a confirmed cluster and on "duplicate of"
    for two members of a dismissed one (the cluster's decision stands until a reviewer changes the cluster)."""
    if verdict not in DuplicateVerdict.values:
        raise ValidationError({"verdict": [f"“{verdict}” is not a verdict: use one of "
                                           f"{', '.join(DuplicateVerdict.values)}."]})
    if initiative.pk == other.pk:
        raise ValidationError({"other": ["An initiative is not a possible duplicate of itself: choose another one."]})
    pair = pair_of(initiative, other)
    _refuse_unless_may(actor, pair, "decide")
    _refuse_contradiction(initiative, other, verdict)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": ["Say in a few words why they do different jobs."
                                          if verdict == DuplicateVerdict.NOT_DUPLICATE else
                                          "Say in a few words why they do the same job."]})
    if len(reason) > REASON_MAX:
        raise ValidationError({"reason": [f"Keep the reason to {REASON_MAX} characters (it has {len(reason)})."]})

    locked = DuplicatePairDecision.objects.select_for_update().filter(
        initiative_a=pair.initiative_a, initiative_b=pair.initiative_b).first()
    if locked is not None and locked.verdict == verdict and locked.reason == reason:
        return locked  # the same decision again (a retried request): nothing to record
    before = locked.verdict if locked is not None else None
    now = timezone.now()
    if locked is None:
        try:
            with transaction.atomic():
                locked = DuplicatePairDecision.objects.create(
                    initiative_a=pair.initiative_a, initiative_b=pair.initiative_b, verdict=verdict, reason=reason,
                    decided_by=actor, decided_at=now)
        except IntegrityError:
            # Someone decided the same pair meanwhile: theirs is replaced, as a later decision would.
            locked = DuplicatePairDecision.objects.select_for_update().get(
                initiative_a=pair.initiative_a, initiative_b=pair.initiative_b)
            before = locked.verdict
    if before is not None:
        locked.verdict, locked.reason, locked.decided_by, locked.decided_at = verdict, reason, actor, now
        locked.save(update_fields=["verdict", "reason", "decided_by", "decided_at"])
    audit_event(locked, actor=actor, event=AuditEvent.DUPLICATE_PAIR_DECIDED,
                action=LogEntry.Action.CREATE if before is None else LogEntry.Action.UPDATE,
                changes={"verdict": [before, verdict]}, reason=reason,
                initiatives=[locked.initiative_a_id, locked.initiative_b_id])
    return locked


@transaction.atomic
def duplicate_pair_undo(*, actor: Any, decision: DuplicatePairDecision) -> None:
    """Withdraw the verdict: the pair is a plain possible duplicate again, and the audit trail keeps what it was."""
    locked = DuplicatePairDecision.objects.select_for_update().select_related(
        "initiative_a", "initiative_b").filter(pk=decision.pk).first()
    if locked is None:
        raise ValidationError("This decision was already undone.")
    _refuse_unless_may(actor, locked, "undo the decision")
    audit_event(locked, actor=actor, event=AuditEvent.DUPLICATE_PAIR_UNDONE, action=LogEntry.Action.DELETE,
                changes={"verdict": [locked.verdict, None]}, reason=locked.reason,
                initiatives=[locked.initiative_a_id, locked.initiative_b_id])
    locked.delete()
