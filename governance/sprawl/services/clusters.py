"""The review of sprawl clusters: confirm, dismiss, take a member out. Reviewers who own no member decide; every
decision is kept across recomputations and written to the audit trail."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from governance.choices import AuditEvent, SprawlStatus
from governance.models import SprawlCluster, SprawlClusterMember
from governance.signals.rules.base import SPRAWL, subject_key
from governance.signals.services import signal_of_subject_resolve
from governance.sprawl.services.recompute import cluster_figures_refresh, signals_follow_sprawl
from portfolio.models import Initiative
from tollgate.audit import audit_event
from tollgate.roles import may

# The longest reason of a cluster decision or a member removal (the forms and the API say the same): a reason is
# read on the cluster's page and in the audit trail, and an unbounded one made both megabytes.
REASON_MAX = 4000


def _reason_checked(reason: str) -> str:
    reason = (reason or "").strip()
    if len(reason) > REASON_MAX:
        raise ValidationError({"reason": [f"Keep the reason to {REASON_MAX} characters (it has {len(reason)})."]})
    return reason


def _decision_text(cluster: SprawlCluster) -> str:
    """"confirmed by Rita Reviewer on 2026-12-07 14:02": who decided, for whoever tries again from a stale page."""
    text = cluster.get_status_display().lower()
    if cluster.decided_by is not None:
        text += f" by {cluster.decided_by.get_full_name() or cluster.decided_by.get_username()}"
    if cluster.decided_at is not None:
        text += f" on {timezone.localtime(cluster.decided_at):%Y-%m-%d %H:%M}"
    return text


def _cluster_decide(*, actor: Any, cluster: SprawlCluster, reason: str, status: str, event: str,
                    verb: str) -> SprawlCluster:
    locked = SprawlCluster.objects.select_for_update().get(pk=cluster.pk)
    if not may(actor, "governance.decide_sprawlcluster", locked):
        raise PermissionDenied(f"You may not {verb} “{locked}”: only a CoE reviewer or an administrator who owns "
                               "no member and is delegate for none may.")
    if locked.status != SprawlStatus.OPEN:
        raise ValidationError(f"“{locked}” is already {_decision_text(locked)}; only open clusters are confirmed or "
                              "dismissed.")
    reason = _reason_checked(reason)
    if status == SprawlStatus.DISMISSED and not reason:
        raise ValidationError({"reason": ["Give a written reason to dismiss the cluster."]})
    locked.status = status
    locked.decision_reason = reason
    locked.decided_by = actor
    locked.decided_at = timezone.now()
    locked.save(update_fields=["status", "decision_reason", "decided_by", "decided_at", "updated_at"])
    audit_event(locked, actor=actor, event=event, changes={"status": [SprawlStatus.OPEN, status]}, reason=reason)
    decided = f"cluster {_decision_text(locked)}" + (f": {reason}" if reason else "")
    signal_of_subject_resolve(actor=actor, subject=subject_key(SPRAWL, "cluster", str(locked.pk)), reason=decided)
    signals_follow_sprawl()
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
    reason = _reason_checked(reason)
    if not reason:
        raise ValidationError({"reason": ["Give a written reason to remove a member."]})
    if locked.members.filter(removed=False).count() <= 2:
        raise ValidationError("A cluster keeps at least two members; dismiss the cluster instead.")
    member.removed, member.removed_by, member.removed_reason, member.removed_at = True, actor, reason, timezone.now()
    member.save(update_fields=["removed", "removed_by", "removed_reason", "removed_at"])
    cluster_figures_refresh(locked)
    audit_event(locked, actor=actor, event=AuditEvent.SPRAWL_MEMBER_REMOVED,
                changes={"removed": [None, str(initiative)]}, reason=reason, initiative=initiative.pk)
    signals_follow_sprawl()
    return member

