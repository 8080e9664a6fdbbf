"""Writes of governance: lifecycle transitions, intake scores and policy values, each audited in its transaction, and
the nightly alert about stale cost sources.

`initiative_transition` is the only code path that moves an initiative's stage after creation; other apps
(reviews' kill verdict) call it with this exact signature.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from auditlog.context import disable_auditlog
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone

from governance import evidence, guards, selectors
from governance.calculations import plain_number, reviewer_weighted_score
from governance.choices import AuditEvent, SignalRunTrigger, SprawlRunTrigger
from governance.lifecycle import TRANSITIONS, Transition
from governance.models import (
    IntakeScore,
    IntakeSubmission,
    Policy,
    RubricCriterion,
    SprawlClusterMember,
    StaleSourceAlert,
)
from governance.policies import BY_KEY, ORDERS
from governance.signals.services import signal_run_submit, signals_of_ended_initiative_resolve
from governance.sprawl.services.runs import sprawl_run_submit
from portfolio.choices import ENDED_STAGES, Stage
from portfolio.costs.calculations import SourceFreshness
from portfolio.costs.forecast import DEFAULT_MONTHS as DEFAULT_FORECAST_MONTHS
from portfolio.costs.selectors import stale_sources
from portfolio.costs.services.forecast import forecast_compute
from portfolio.costs.services.tco import tco_recompute
from portfolio.models import CostForecast, CostSource, Initiative
from portfolio.selectors import api_tokens_expiring, people_acting_for
from portfolio.services.business_cases import business_case_version_record
from portfolio.services.tokens import api_tokens_expiry_noticed
from tollgate import jobs
from tollgate.audit import audit_event
from tollgate.roles import may, refusal_reason
from tollgate.types import Actor

# A transition's reason and a score's comment, on every door (the API's serializers use these): the pages took any
# length, so a pasted document became an audit row the History showed in full. A reason is as long as a verdict's
# rationale may be (reviews.services.RATIONALE_MAX_CHARS), which a kill verdict passes on as the kill's reason.
REASON_MAX = 5000
COMMENT_MAX = 4000


class TransitionError(ValidationError):
    """A transition that cannot happen now: wrong stage, missing reason or failed guards (every one is listed)."""


# Transitions ---------------------------------------------------------------------------------------------------------


@transaction.atomic
def initiative_transition(
    *, actor: Actor, initiative: Initiative, transition: str, reason: str = "", notify: bool = True
) -> Initiative:
    """Move the initiative along a named transition of governance.lifecycle, or refuse and write nothing.

    Raises PermissionDenied when the actor's role or relation to the initiative does not allow it, and
    TransitionError (a ValidationError) when the stage is wrong, the reason is missing or a guard fails.
    The caller's `initiative` instance is updated to the new stage as well. The owner and delegates are told, in the
    app and by e-mail, unless the actor is one of them; a caller that tells them itself (a kill verdict) passes
    `notify=False`.
    """
    step = TRANSITIONS.get(transition)
    if step is None:
        raise TransitionError({"transition": f"Unknown transition '{transition}'; use one of: "
                                             f"{', '.join(TRANSITIONS)}."})
    locked = Initiative.objects.select_for_update().get(pk=initiative.pk)
    if not may(actor, step.permission, locked):
        # A role that allows the step elsewhere is told why not here, as the transition page says it.
        why = f": {refusal_reason(actor, locked)}" if may(actor, step.permission) else ""
        raise PermissionDenied(f"You may not {step.refused.format(initiative=locked)}{why}.")
    if locked.stage not in step.sources:
        sources = ", ".join(Stage(s).label.lower() for s in step.sources)
        raise TransitionError(
            f"“{step.label}” is only possible from {sources}; {locked} is {locked.get_stage_display().lower()}."
        )
    reason = (reason or "").strip()
    problems: dict[str, list[str]] = {}
    if step.needs_reason and not reason:
        problems["reason"] = [f"Give a written reason to {step.label.lower()}."]
    elif len(reason) > REASON_MAX:
        problems["reason"] = [f"Keep the reason to {REASON_MAX} characters (it has {len(reason)})."]
    failed = guards.problems(step, locked)
    if failed:
        problems["__all__"] = failed
    if problems:
        raise TransitionError(problems)

    before = locked.stage
    locked.stage = step.target
    with disable_auditlog():  # the explicit transition row below is the record, not a field-change row
        locked.save(update_fields=["stage", "updated_at"])
    extra: dict[str, Any] = {"transition": step.name, "reason": reason}
    if step.name == "submit":
        submission = _submission_open(initiative=locked, actor=actor)
        extra["round"] = submission.round
    elif before == Stage.IN_REVIEW and (closed := _submission_close(initiative=locked, transition=step.name)):
        extra["round"] = closed.round  # decided, sent back or withdrawn: its scores count no more
    if step.name == "approve":  # the plan approved is what overrun and value are measured against from now on
        version = business_case_version_record(initiative=locked, actor=actor, reason=reason or "Approved at intake.",
                                               approve=True)
        extra["business_case_version"] = version.number
    audit_event(locked, actor=actor, event=AuditEvent.TRANSITION, changes={"stage": [before, step.target]}, **extra)
    tco_recompute(initiative_ids=[locked.pk])  # a running initiative's cost is estimated until records arrive
    if step.target in ENDED_STAGES:
        _signals_and_sprawl_follow_end(initiative=locked, actor=actor, step=step)
    if notify:
        _transition_notify(initiative=locked, step=step, actor=actor, reason=reason)
    initiative.stage = locked.stage
    initiative.updated_at = locked.updated_at
    return locked


def _signals_and_sprawl_follow_end(*, initiative: Initiative, actor: Actor, step: Transition) -> None:
    """Ended initiatives raise no signals and are left out of sprawl clusters: a kill, retirement or rejection
    resolves the initiative's own signals at once (audited, "initiative killed"), then queues a signal run for those
    it shares with live initiatives and, when it is in a cluster, a sprawl recomputation (which queues a signal run
    of its own when it changes a cluster), as a verdict or a sprawl decision does. Both are sent on commit."""
    signals_of_ended_initiative_resolve(actor=actor, initiative_id=initiative.pk,
                                        reason=f"initiative {step.happened.lower()}")
    signal_run_submit(actor=None, trigger=SignalRunTrigger.LIFECYCLE)
    if SprawlClusterMember.objects.filter(initiative=initiative, removed=False).exists():
        sprawl_run_submit(actor=None, trigger=SprawlRunTrigger.LIFECYCLE)


def _transition_notify(*, initiative: Initiative, step: Transition, actor: Actor, reason: str) -> None:
    """Tell the owner and the delegates what someone else did to their initiative, with a link to it; never the
    actor (an owner who submits their own intake is not told about it, their delegates are)."""
    people = [person for person in people_acting_for(initiative) if person.pk != actor.pk]
    by = actor.get_full_name() or actor.get_username()
    message = evidence.notice_message(f"{initiative} {step.done} by {by}: ", reason) if reason else (
        f"{initiative} {step.done} by {by}.")
    evidence.notify(
        notices=[evidence.Notice(user_id=p.pk, email=p.email, message=message, url=initiative.get_absolute_url())
                 for p in people],
        subject=f"Tollgate: {initiative} {step.done}",
    )


def _submission_open(*, initiative: Initiative, actor: Actor | None) -> IntakeSubmission:
    """Start the next review round; scores of earlier rounds no longer count."""
    IntakeSubmission.objects.filter(initiative=initiative, closed_at__isnull=True).update(closed_at=timezone.now())
    last = IntakeSubmission.objects.filter(initiative=initiative).aggregate(n=Max("round"))["n"] or 0
    return IntakeSubmission.objects.create(
        initiative=initiative, round=last + 1, submitted_by=actor, submitted_at=timezone.now()
    )


def _submission_close(*, initiative: Initiative, transition: str) -> IntakeSubmission | None:
    """Close the open round as the intake leaves review (`transition`: approve, reject, request_changes, withdraw)."""
    submission = selectors.current_submission(initiative)
    if submission is None or not submission.is_open:
        return None
    submission.closed_at, submission.closed_by_transition = timezone.now(), transition
    submission.save(update_fields=["closed_at", "closed_by_transition"])
    return submission


# Intake scores -------------------------------------------------------------------------------------------------------


@transaction.atomic
def intake_scores_save(
    *, actor: Actor, initiative: Initiative, scores: Iterable[Mapping[str, Any]]
) -> list[IntakeScore]:
    """Record (or revise) the actor's 1-5 score and comment for every active criterion of the current round.

    Only while the intake is in review, only by an independent reviewer (never the owner or a delegate, nor who
    submitted or edited this round: governance.selectors.intake_round_authors), and all active criteria at once,
    so a scoring is always complete. One audit row per save.
    """
    locked = Initiative.objects.select_for_update().get(pk=initiative.pk)
    if not may(actor, "governance.score_initiative", locked):
        # A reviewer is told why not this one (they own it, act for it, or submitted or edited this round).
        why = refusal_reason(actor, locked) if may(actor, "governance.score_initiative") else (
            "only a CoE reviewer who neither owns it, acts for it, nor submitted or edited this round may")
        raise PermissionDenied(f"You may not score {locked}: {why}.")
    if locked.stage != Stage.IN_REVIEW:
        raise ValidationError(f"{locked} is {locked.get_stage_display().lower()}; only intakes in review are scored.")
    criteria = {c.pk: c for c in RubricCriterion.objects.filter(active=True)}
    if not criteria:
        raise ValidationError("The rubric has no active criteria; an administrator must set it up first.")
    given: dict[int, tuple[int, str]] = {}
    errors: list[str] = []
    for row in scores:
        criterion = row.get("criterion")
        raw_id: Any = getattr(criterion, "pk", criterion)  # a criterion, its id, or whatever the caller sent
        try:
            criterion_id = int(raw_id)
        except (TypeError, ValueError):
            errors.append(f"Unknown criterion {criterion!r}.")
            continue
        if criterion_id not in criteria:
            errors.append(f"Criterion {criterion_id} is not an active criterion of the rubric.")
            continue
        if criterion_id in given:
            errors.append(f"“{criteria[criterion_id]}” is scored twice.")
            continue
        raw_score: Any = row.get("score")
        value: int | None
        try:
            value = int(raw_score)
        except (TypeError, ValueError):
            value = None
        if value is None or not 1 <= value <= 5:
            errors.append(f"“{criteria[criterion_id]}”: the score must be a whole number from 1 to 5.")
            continue
        comment = str(row.get("comment") or "").strip()
        if len(comment) > COMMENT_MAX:
            errors.append(f"“{criteria[criterion_id]}”: keep the comment to {COMMENT_MAX} characters "
                          f"(it has {len(comment)}).")
        given[criterion_id] = (value, comment)
    missing = [str(c) for pk, c in criteria.items() if pk not in given]
    if missing:
        errors.append(f"Score every criterion; missing: {', '.join(missing)}.")
    if errors:
        raise ValidationError({"scores": errors})

    submission = selectors.current_submission(locked)
    if submission is None or not submission.is_open:  # in review without an open round (set so by an import)
        submission = _submission_open(initiative=locked, actor=None)
    existing = {s.criterion_id: s for s in submission.scores.filter(reviewer=actor)}
    saved: list[IntakeScore] = []
    changes: dict[str, list[Any]] = {}
    for criterion_id, (value, comment) in given.items():
        score = existing.get(criterion_id) or IntakeScore(submission=submission, reviewer=actor,
                                                          criterion=criteria[criterion_id])
        before = score.score if score.pk else None
        if score.pk is None or score.score != value or score.comment != comment:
            score.score, score.comment = value, comment
            score.save()
        if before != value:
            changes[f"score: {criteria[criterion_id].name}"] = [before, value]
        saved.append(score)
    weights = {pk: c.weight for pk, c in criteria.items()}
    weighted = reviewer_weighted_score({s.criterion_id: s.score for s in saved}, weights)
    audit_event(locked, actor=actor, event=AuditEvent.SCORE, changes=changes, round=submission.round,
                weighted_score=f"{weighted:.2f}" if weighted is not None else None)
    return saved


# Policies ------------------------------------------------------------------------------------------------------------


def policy_validate(key: str, value: Any) -> Decimal:
    """The value as the policy's type, or a ValidationError on `value` saying what is allowed."""
    definition = BY_KEY.get(key)
    if definition is None:
        raise ValidationError({"key": f"Unknown policy '{key}'."})
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError) as exc:
        raise ValidationError({"value": f"“{value}” is not a number."}) from exc
    if not number.is_finite():
        raise ValidationError({"value": "Give a finite number."})
    if definition.kind == "int" and number != number.to_integral_value():
        raise ValidationError({"value": f"{definition.label} is a whole number."})
    if not definition.minimum <= number <= definition.maximum:
        raise ValidationError({"value": f"{definition.label} must be between {plain_number(definition.minimum)} and "
                                        f"{plain_number(definition.maximum)} {definition.unit}".rstrip() + "."})
    exponent = number.as_tuple().exponent  # an int for a finite number
    if isinstance(exponent, int) and exponent < -4:
        raise ValidationError({"value": "Use at most 4 decimal places."})
    return number


def policy_order_check(key: str, number: Decimal) -> None:
    """A ValidationError on `value` when the new value would turn two ordered policies (governance.policies.ORDERS)
    the wrong way round, naming the other policy and its value in force."""
    definition = BY_KEY[key]
    for order in ORDERS:
        if key not in (order.smaller, order.larger):
            continue
        other_key = order.larger if key == order.smaller else order.smaller
        other, current = BY_KEY[other_key], Decimal(selectors.policy_value(other_key))
        if key == order.smaller and number >= current:
            relation = "less than"
        elif key == order.larger and number <= current:
            relation = "more than"
        else:
            continue
        raise ValidationError({"value": f"{definition.label} must be {relation} the {other.label.lower()} "
                                        f"({plain_number(current)} {other.unit}): {order.why}."})


@transaction.atomic
def policy_set(*, actor: Actor, key: str, value: Any) -> Policy:
    """Change a threshold; who changed it, when, and before/after go to the audit trail. The value it already has
    (typed as 100, 1e2 or 100.0) changes nothing and writes nothing: no "100 → 100" row in the trail."""
    if not may(actor, "governance.change_policy"):
        raise PermissionDenied("Only administrators change policies.")
    number = policy_validate(key, value)
    policy_order_check(key, number)
    policy = Policy.objects.select_for_update().filter(key=key).first() or Policy(key=key)
    before = selectors.policy_value(key)
    if before == number:
        return policy
    policy.value = number
    policy.updated_by = actor
    policy.save()
    after = selectors.policy_value(key)
    changes = {"value": [plain_number(before), plain_number(after)]}
    audit_event(policy, actor=actor, event=AuditEvent.POLICY_CHANGE, changes=changes, key=key)
    if key == FORECAST_DECLINE_POLICY and before != after:
        cost_forecast_refresh_on_commit()  # the stored Jevons scenario was computed with the old decline
    return policy


# Spend forecast ------------------------------------------------------------------------------------------------------

FORECAST_DECLINE_POLICY = "forecast.price_decline_pct"


def cost_forecast_refresh(
    *, actor: Actor | None = None, months: int = DEFAULT_FORECAST_MONTHS, today: date | None = None,
) -> CostForecast | None:
    """Recompute the stored spend forecast with the unit-price decline policy in force (portfolio reads no policy,
    so the decline is passed to its service); None when there is no cost data or no complete month yet. Idempotent."""
    decline = Decimal(selectors.policy_value(FORECAST_DECLINE_POLICY))
    return forecast_compute(price_decline_pct=decline, months=months, actor=actor, today=today)


def cost_forecast_refresh_on_commit() -> None:
    """Queue one recomputation for when the current transaction commits, however many ingestion runs (or policy
    changes) in it asked for one: a demo load or a backfill of twelve months recomputes once, not twelve times."""
    if any(entry[1] is _send_cost_forecast_refresh for entry in connection.run_on_commit):
        return
    transaction.on_commit(_send_cost_forecast_refresh)


def _send_cost_forecast_refresh() -> None:
    from governance.tasks import cost_forecast_refresh_task

    jobs.task_send(cost_forecast_refresh_task)


# Stale cost sources ---------------------------------------------------------------------------------------------------


def stale_source_message(source: CostSource, freshness: SourceFreshness) -> str:
    """One line on what a stale source owes: its missing months and why it is late."""
    parts = []
    if freshness.missing:
        parts.append("missing " + ", ".join(f"{month:%Y-%m}" for month in freshness.missing))
    if freshness.late:
        parts.append(f"late: {freshness.reason}")
    return f"Cost source {source.name}: {'; '.join(parts)}."


@transaction.atomic
def api_tokens_expiring_notify(*, now: datetime | None = None) -> int:
    """Daily: tell each person, in the app and by e-mail as they chose, about every named API token of theirs that
    stops working within a week, so the script using it does not fail unannounced. Once per token (idempotent).
    Returns how many tokens were reported."""
    now = now or timezone.now()
    tokens = list(api_tokens_expiring(now=now).select_for_update(of=("self",)))
    if not tokens:
        return 0
    url = reverse("account")
    notices = [evidence.Notice(
        user_id=token.user_id, email=token.user.email, url=url,
        message=f"Your API token {token.name} ({token.shown_key}) stops working on "
                f"{timezone.localtime(token.expiry):%Y-%m-%d %H:%M}: create another on your account page, put it "
                "where this one is used, and revoke this one.") for token in tokens]
    api_tokens_expiry_noticed(tokens=tokens, now=now)
    evidence.notify(notices=notices, subject="Tollgate: an API token of yours expires soon")
    return len(tokens)


@transaction.atomic
def stale_sources_notify(*, now: datetime | None = None) -> int:
    """Nightly: tell the administrators, in the app and in one e-mail each, about every enabled cost source that is
    late or misses a month (portfolio.costs.calculations.source_freshness, allowing the ingestion.grace_days policy).

    Idempotent: each (source, month owed) is recorded once, so a source is reported again only when it comes to owe
    another month, never on every run. Nothing is recorded while there is no administrator to tell. Returns how many
    sources were reported."""
    stale = stale_sources(now=now or timezone.now(), grace_days=selectors.ingestion_grace_days())
    people = selectors.administrators() if stale else []
    if not people:
        return 0
    emails = sorted({person.email for person in people if person.email})
    told = set(StaleSourceAlert.objects.filter(source__in=[source for source, _ in stale])
               .values_list("source_id", "month"))
    notices: list[evidence.Notice] = []
    reported = 0
    for source, freshness in stale:
        months = [month for month in freshness.alert_months if (source.pk, month) not in told]
        if not months:
            continue
        message = stale_source_message(source, freshness)
        try:
            with transaction.atomic():  # a second run racing this one fails here and tells nobody twice
                StaleSourceAlert.objects.bulk_create([
                    StaleSourceAlert(source=source, month=month, reason=message[:300], recipients=emails)
                    for month in months])
        except IntegrityError:
            continue
        url = reverse("portfolio:costsource_detail", args=[source.pk])
        notices += [evidence.Notice(user_id=p.pk, email=p.email, message=message, url=url) for p in people]
        reported += 1
    evidence.notify(notices=notices, subject="Tollgate: cost sources behind their schedule")
    return reported
