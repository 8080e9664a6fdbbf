"""What may change in an initiative's plan, and when: the locks of its lifecycle and the versions of its business case.

The plan is the business case, the declared monthly cost and the KPIs. While the intake is in review it is locked
(reviewers score what was submitted; the owner withdraws it to change it, and resubmitting starts a new scoring
round). Approval records the approved version; an edit after approval is saved and recorded as a new, unapproved
version, while overrun and value keep being measured against the approved one (portfolio.selectors.approved_plan).
An ended initiative (retired, rejected, killed) is read-only.

The checks live here, in the services every door calls (pages, API, admin, import, demo), not in the doors.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Max
from django.utils import timezone

from portfolio.models import KPI, BusinessCase, BusinessCaseVersion, Initiative
from portfolio.selectors import plan_locked_reason, plan_snapshot_of, read_only_reason
from tollgate.types import Actor

# Fields of the initiative itself that belong to its plan (locked in review, versioned after approval), as refusals
# name them.
PLAN_INITIATIVE_FIELDS = {"declared_monthly_cost": "The declared monthly cost"}
EDITED_AFTER_APPROVAL = "Edited after approval."


# Locks ---------------------------------------------------------------------------------------------------------------


def stage_now(initiative: Initiative) -> str:
    """The stage as stored, read under the row's lock, so an edit and a transition (submit, approve, kill) of the same
    initiative happen one after the other, never interleaved; the caller's instance may be stale."""
    if initiative.pk is None:
        return initiative.stage
    return Initiative.objects.select_for_update().values_list("stage", flat=True).get(pk=initiative.pk)


def ensure_not_ended(initiative: Initiative, stage: str) -> None:
    """Refuse any change to an ended initiative."""
    reason = read_only_reason(initiative, stage=stage)
    if reason:
        raise ValidationError(reason)


def ensure_plan_editable(initiative: Initiative, stage: str, *, what: str, field: str | None = None) -> None:
    """Refuse a change to the plan (`what`: "The business case", "The KPIs", ...) of an ended initiative or of an
    intake in review; `field` names the form field the refusal belongs to, if one."""
    ensure_not_ended(initiative, stage)
    reason = plan_locked_reason(initiative, what=what, stage=stage)
    if reason:
        raise ValidationError({field: reason} if field else reason)


# Versions ------------------------------------------------------------------------------------------------------------


def plan_snapshot(initiative_id: int) -> tuple[dict[str, Any], list[dict[str, Any]], Decimal | None]:
    """The plan as stored now (portfolio.selectors.plan_snapshot_of), read from the database under the transaction,
    never from a caller's instance."""
    declared = Initiative.objects.values_list("declared_monthly_cost", flat=True).get(pk=initiative_id)
    case = BusinessCase.objects.filter(initiative_id=initiative_id).first()
    kpis = KPI.objects.filter(initiative_id=initiative_id).order_by("pk")
    return plan_snapshot_of(case=case, declared_monthly_cost=declared, kpis=kpis)


def business_case_version_record(
    *, initiative: Initiative, actor: Actor | None, reason: str = "", approve: bool = False
) -> BusinessCaseVersion:
    """Record the plan as it stands as the initiative's next version (approved by `actor` when `approve`).

    When the latest version already holds this very plan, no new number is taken: approving approves it, otherwise
    it is returned as it is. Call inside the transaction that changed the plan or approved it.
    """
    figures, kpis, tco = plan_snapshot(initiative.pk)
    versions = BusinessCaseVersion.objects.select_for_update().filter(initiative_id=initiative.pk)
    latest = versions.order_by("-number").first()
    now = timezone.now()
    if latest is not None and latest.figures == figures and latest.kpis == kpis:
        if approve and not latest.is_approved:
            latest.approved_at, latest.approved_by = now, actor
            latest.reason = latest.reason or reason
            latest.save(update_fields=["approved_at", "approved_by", "reason"])
        return latest
    number = (versions.aggregate(n=Max("number"))["n"] or 0) + 1
    return BusinessCaseVersion.objects.create(
        initiative_id=initiative.pk, number=number, figures=figures, kpis=kpis, tco_monthly=tco, reason=reason,
        created_by=actor, approved_at=now if approve else None, approved_by=actor if approve else None,
    )


# One edit of the page (initiative, business case and KPIs, three services in one transaction) is one version: the
# services mark the initiatives whose plan they changed, and the outermost plan_edit records the versions at its end.
_edited_plans: ContextVar[set[int] | None] = ContextVar("edited_plans", default=None)


@contextmanager
def plan_edit(*, actor: Actor | None) -> Iterator[None]:
    """Group plan changes: when the outermost `with` ends without an error, each initiative whose plan changed inside
    and that has an approved version gets one new, unapproved version. Nested uses join the outermost."""
    if _edited_plans.get() is not None:
        yield
        return
    edited: set[int] = set()
    token = _edited_plans.set(edited)
    try:
        yield
    finally:
        _edited_plans.reset(token)
    if not edited:
        return
    approved = BusinessCaseVersion.objects.filter(initiative_id__in=edited, approved_at__isnull=False)
    for initiative in Initiative.objects.filter(pk__in=approved.values("initiative_id")).order_by("pk"):
        business_case_version_record(initiative=initiative, actor=actor, reason=EDITED_AFTER_APPROVAL)


def plan_changed(initiative: Initiative) -> None:
    """Tell the enclosing plan_edit that this initiative's plan changed."""
    edited = _edited_plans.get()
    if edited is not None:
        edited.add(initiative.pk)
