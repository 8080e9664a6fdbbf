"""The lifecycle of an initiative: the one table of named transitions, who may make each and what must exist first.

PRODUCT.md, "Lifecycle of an initiative". `governance.services.initiative_transition` is the only code path that
moves `Initiative.stage` after creation (the inventory import sets a starting stage, audited as an import).
A guard returns every reason the transition cannot happen now (an empty list means it may).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from portfolio.choices import Stage
from portfolio.models import Initiative

Guard = Callable[[Initiative], list[str]]

# Business-case fields a submission needs, with the words the owner sees when one is missing.
REQUIRED_CASE_FIELDS: tuple[tuple[str, str], ...] = (
    ("problem", "the problem it solves"),
    ("process_replaced", "the process it replaces"),
    ("baseline_cost_per_outcome", "the baseline cost per outcome"),
    ("outcome_unit", "the outcome unit"),
    ("expected_monthly_volume", "the expected outcomes per month"),
    ("expected_monthly_value", "the expected value per month"),
    ("min_viable_scale", "the minimum viable scale"),
    ("success_criteria", "the success criteria"),
)
TCO_PARTS = ("tco_inference", "tco_compute", "tco_storage", "tco_licences", "tco_maintenance")


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def complete_business_case(initiative: Initiative) -> list[str]:
    """Submitting needs every required business-case field, a cost estimate and a measurable KPI."""
    from portfolio.models import BusinessCase

    problems: list[str] = []
    case = BusinessCase.objects.filter(initiative_id=initiative.pk).first()
    if case is None:
        problems.append("The initiative has no business case.")
    else:
        problems += [f"The business case lacks {label}." for field, label in REQUIRED_CASE_FIELDS
                     if _blank(getattr(case, field))]
        oversight = (case.oversight_hours_per_month or 0) * (case.loaded_hourly_rate or 0)
        if not any((getattr(case, part) or Decimal("0")) > 0 for part in TCO_PARTS) and not oversight > 0:
            problems.append("The business case has no cost estimate: give at least one TCO part above zero.")
    if not initiative.kpis.filter(baseline__isnull=False, target__isnull=False).exists():
        problems.append("At least one KPI with a baseline and a target is needed.")
    return problems


def quorum_and_score(initiative: Initiative) -> list[str]:
    """Approval needs the policy's quorum of complete, independent scorings in the current round and a weighted
    score at or above the policy's threshold."""
    from governance.selectors import intake_panel

    panel = intake_panel(initiative)
    problems: list[str] = []
    if not panel.quorum_met:
        problems.append(
            f"Quorum not reached: {panel.complete_count} of {panel.quorum} reviewers have scored every criterion "
            "in the current round."
        )
    if panel.weighted_score is None:
        problems.append("There is no weighted score yet.")
    elif panel.weighted_score < panel.threshold:
        problems.append(
            f"The weighted score {panel.weighted_score:.2f} is below the approval threshold {panel.threshold}."
        )
    return problems


def scale_evidence(initiative: Initiative) -> str | None:
    """A description of the evidence that the minimum viable scale was reached, from the reviews app; None if none.

    The reviews app owns value reports; it is imported lazily so governance does not depend on it being installed.
    """
    try:
        from reviews.selectors import scale_evidence as reviews_scale_evidence
    except ImportError:
        return None
    return reviews_scale_evidence(initiative=initiative)


def minimum_viable_scale_reached(initiative: Initiative) -> list[str]:
    if scale_evidence(initiative) is None:
        return [
            "No evidence that the minimum viable scale was reached: a submitted value report must show outcomes "
            "per month at or above the business case's minimum viable scale."
        ]
    return []


@dataclass(frozen=True)
class Transition:
    """A named move of the lifecycle."""

    name: str
    label: str
    sources: tuple[Stage, ...]
    target: Stage
    permission: str
    needs_reason: bool = False
    guard: Guard | None = None
    help: str = ""
    style: str = ""  # "primary" or "danger": how the button looks

    def check(self, initiative: Initiative) -> list[str]:
        return self.guard(initiative) if self.guard else []


TRANSITIONS: dict[str, Transition] = {t.name: t for t in (
    Transition("submit", "Submit for review", (Stage.PROPOSED, Stage.CHANGES_REQUESTED), Stage.IN_REVIEW,
               "governance.submit_initiative", guard=complete_business_case, style="primary",
               help="Sends the intake to the CoE reviewers and starts a new scoring round."),
    Transition("request_changes", "Request changes", (Stage.IN_REVIEW,), Stage.CHANGES_REQUESTED,
               "governance.decide_initiative", needs_reason=True,
               help="Sends the intake back to its owner with what to change; a resubmission starts a new round."),
    Transition("approve", "Approve", (Stage.IN_REVIEW,), Stage.APPROVED, "governance.decide_initiative",
               guard=quorum_and_score, style="primary",
               help="Approves the intake: the quorum must have scored it at or above the threshold."),
    Transition("reject", "Reject", (Stage.IN_REVIEW,), Stage.REJECTED, "governance.decide_initiative",
               needs_reason=True, style="danger", help="Ends the intake."),
    Transition("start_pilot", "Start pilot", (Stage.APPROVED,), Stage.PILOT, "governance.start_pilot",
               style="primary", help="The approved initiative starts running as a pilot; value reports become due."),
    Transition("promote", "Promote to production", (Stage.PILOT,), Stage.PRODUCTION,
               "governance.promote_initiative", guard=minimum_viable_scale_reached, style="primary",
               help="Needs evidence that the minimum viable scale was reached."),
    Transition("retire", "Retire", (Stage.APPROVED, Stage.PILOT, Stage.PRODUCTION), Stage.RETIRED,
               "governance.retire_initiative", needs_reason=True, help="Planned end of the initiative."),
    Transition("kill", "Kill", (Stage.APPROVED, Stage.PILOT, Stage.PRODUCTION), Stage.KILLED,
               "governance.kill_initiative", needs_reason=True, style="danger",
               help="Stops the initiative because it does not deliver; the reason is kept in the audit trail."),
)}


def transitions_from(stage: str) -> list[Transition]:
    """The transitions whose source is `stage`, in table order."""
    return [t for t in TRANSITIONS.values() if stage in t.sources]
