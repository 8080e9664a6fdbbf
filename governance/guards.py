"""The guards of the lifecycle: what must be true before a transition of governance.lifecycle may happen.

The table names its guards; `problems` runs them. A guard returns every reason the transition cannot happen now
(an empty list means it may). Evidence other apps own (value reports) arrives through governance.evidence.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from governance import evidence
from governance.lifecycle import Transition
from governance.selectors import intake_panel
from portfolio.models import BusinessCase, Initiative
from tollgate.formatting import format_number, format_score

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
    """Approval needs the policy's quorum of complete, independent scorings in the current, open round and a weighted
    score at or above the policy's threshold."""
    panel = intake_panel(initiative)
    problems: list[str] = []
    if panel.submission is not None and not panel.submission.is_open:
        return ["The last review round is closed (decided, sent back or withdrawn): its scores no longer count. "
                "Reviewers' scores open a new round."]
    if not panel.quorum_met:
        problems.append(
            f"Quorum not reached: {panel.complete_count} of {panel.quorum} reviewers have scored every criterion "
            "in the current round."
        )
    if panel.weighted_score is None:
        problems.append("There is no weighted score yet.")
    elif panel.weighted_score < panel.threshold:
        problems.append(
            f"The weighted score {format_score(panel.weighted_score)} is below the approval threshold "
            f"{format_number(panel.threshold)}."
        )
    return problems


def minimum_viable_scale_reached(initiative: Initiative) -> list[str]:
    """Promotion needs evidence (a submitted value report, from the reviews app) that the minimum scale was reached."""
    if evidence.scale_evidence(initiative) is None:
        return [
            "No evidence that the minimum viable scale was reached: a submitted value report must show outcomes "
            "per month at or above the business case's minimum viable scale."
        ]
    return []


GUARDS: dict[str, Guard] = {
    "complete_business_case": complete_business_case,
    "quorum_and_score": quorum_and_score,
    "minimum_viable_scale_reached": minimum_viable_scale_reached,
}


def problems(step: Transition, initiative: Initiative) -> list[str]:
    """Every reason the transition's guards refuse it now, in the table's order; empty when it may happen."""
    found: list[str] = []
    for name in step.guards:
        found += GUARDS[name](initiative)
    return found
