"""The lifecycle of an initiative: the one table of named transitions, who may make each and which guards must pass.

Data only (PRODUCT.md, "Lifecycle of an initiative"): the guards named here live in governance.guards, and
`governance.services.initiative_transition` is the only code path that moves `Initiative.stage` after creation (the
inventory import sets a starting stage, audited as an import).
"""

from __future__ import annotations

from dataclasses import dataclass

from portfolio.choices import Stage


@dataclass(frozen=True)
class Transition:
    """A named move of the lifecycle."""

    name: str
    label: str
    sources: tuple[Stage, ...]
    target: Stage
    permission: str
    needs_reason: bool = False
    guards: tuple[str, ...] = ()  # names in governance.guards.GUARDS, run in this order
    help: str = ""
    style: str = ""  # "primary" or "danger": how the button looks
    done: str = ""  # what happened, for the notice to the owner: "<initiative> was approved by <reviewer>"
    happened: str = ""  # what the history says once it happened: "Approved", "Pilot started"
    refused: str = ""  # what a refusal says may not be done: "request changes on {initiative}"


TRANSITIONS: dict[str, Transition] = {t.name: t for t in (
    Transition("submit", "Submit for review", (Stage.PROPOSED, Stage.CHANGES_REQUESTED), Stage.IN_REVIEW,
               "governance.submit_initiative", guards=("complete_business_case",), style="primary",
               help="Sends the intake to the CoE reviewers and starts a new scoring round.",
               done="was submitted for review", happened="Submitted for review",
               refused="submit {initiative} for review"),
    Transition("withdraw", "Withdraw from review", (Stage.IN_REVIEW,), Stage.PROPOSED,
               "governance.withdraw_initiative", needs_reason=True,
               help="Takes the intake back from the reviewers so that its business case, KPIs and declared cost can "
                    "change (they are locked while in review). The scores of this round stop counting: resubmitting "
                    "starts a new scoring round.",
               done="was withdrawn from review", happened="Withdrawn from review",
               refused="withdraw {initiative} from review"),
    Transition("request_changes", "Request changes", (Stage.IN_REVIEW,), Stage.CHANGES_REQUESTED,
               "governance.decide_initiative", needs_reason=True,
               help="Sends the intake back to its owner with what to change; a resubmission starts a new round.",
               done="was sent back for changes", happened="Changes requested",
               refused="request changes on {initiative}"),
    Transition("approve", "Approve", (Stage.IN_REVIEW,), Stage.APPROVED, "governance.decide_initiative",
               guards=("quorum_and_score",), style="primary",
               help="Approves the intake: the quorum must have scored it at or above the threshold.",
               done="was approved", happened="Approved",
               refused="approve {initiative}"),
    Transition("reject", "Reject", (Stage.IN_REVIEW,), Stage.REJECTED, "governance.decide_initiative",
               needs_reason=True, style="danger", help="Ends the intake.", done="was rejected",
               happened="Rejected",
               refused="reject {initiative}"),
    Transition("start_pilot", "Start pilot", (Stage.APPROVED,), Stage.PILOT, "governance.start_pilot",
               style="primary", help="The approved initiative starts running as a pilot; value reports become due.",
               done="started its pilot", happened="Pilot started",
               refused="start the pilot of {initiative}"),
    Transition("promote", "Promote to production", (Stage.PILOT,), Stage.PRODUCTION,
               "governance.promote_initiative", guards=("minimum_viable_scale_reached",), style="primary",
               help="Needs evidence that the minimum viable scale was reached.", done="was promoted to production",
               happened="Promoted to production",
               refused="promote {initiative} to production"),
    Transition("retire", "Retire", (Stage.APPROVED, Stage.PILOT, Stage.PRODUCTION), Stage.RETIRED,
               "governance.retire_initiative", needs_reason=True, help="Planned end of the initiative.",
               done="was retired", happened="Retired",
               refused="retire {initiative}"),
    Transition("kill", "Kill", (Stage.APPROVED, Stage.PILOT, Stage.PRODUCTION), Stage.KILLED,
               "governance.kill_initiative", needs_reason=True, style="danger",
               help="Stops the initiative because it does not deliver; the reason is kept in the audit trail.",
               done="was killed", happened="Killed",
               refused="kill {initiative}"),
)}


def transitions_from(stage: str) -> list[Transition]:
    """The transitions whose source is `stage`, in table order."""
    return [t for t in TRANSITIONS.values() if stage in t.sources]
