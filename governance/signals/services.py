"""Writes of the signals: the computation that stores what the rules find (raise, update, resolve automatically),
the lifecycle people move a signal through (acknowledge, dismiss with a reason, resolve), and signal runs.

Every step writes its audit row in its transaction; owners are told of new signals on their initiatives.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.utils import timezone

from governance import evidence
from governance.choices import LIVE_SIGNAL_STATUSES, AuditEvent, SignalRunTrigger, SignalStatus
from governance.models import Signal, SignalRun
from governance.selectors import policy_value
from governance.signals import selectors
from governance.signals.rules.base import Candidate, materially_worse
from portfolio.choices import ENDED_STAGES, RunStatus
from portfolio.dashboard.providers import data_changed
from tollgate import jobs
from tollgate.audit import audit_event, audit_events
from tollgate.roles import may
from tollgate.types import Actor

logger = logging.getLogger(__name__)

AUTOMATIC_RESOLUTION = "condition no longer holds"
COMPUTE_LOCK_KEY = 0x5B4A_1107  # pg_advisory_xact_lock key of the signal computation
SUBMIT_LOCK_KEY = 0x5B4A_1108  # ...and of queueing one (never held while a computation runs)
METRIC_PLACES = Decimal("0.0001")
SAVING_PLACES = Decimal("0.01")
# What a computation compares to decide that a live signal changed (its initiatives are compared separately).
COMPARED = ("period", "severity", "monthly_saving", "metric", "higher_is_worse", "evidence")


# The computation ------------------------------------------------------------------------------------------------------


@dataclass
class ComputeSummary:
    """What one computation found and changed."""

    initiatives: int = 0
    found: int = 0
    raised: int = 0
    updated: int = 0
    unchanged: int = 0
    resolved: int = 0
    not_raised_again: int = 0  # dismissed or resolved by a person, and not materially worse
    reopened: int = 0  # resolved automatically, and holding again for the same period: the same row, live again
    live: int = 0


def _lock(key: int) -> None:
    """Hold `key` until the transaction ends (PostgreSQL; SQLite serialises writing transactions by itself)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])


def _compute_lock() -> None:
    """One computation at a time (the nightly run and "recompute now" must not raise the same signal twice)."""
    _lock(COMPUTE_LOCK_KEY)


def _values(candidate: Candidate) -> dict[str, Any]:
    saving = candidate.monthly_saving
    return {
        "type": candidate.type, "subject": candidate.subject, "period": candidate.period,
        "severity": candidate.severity, "metric": candidate.metric.quantize(METRIC_PLACES),
        "monthly_saving": None if saving is None else saving.quantize(SAVING_PLACES),
        "higher_is_worse": candidate.higher_is_worse, "evidence": candidate.evidence(),
    }


def _reopens(previous: Signal, candidate: Candidate) -> bool:
    """Whether a closed signal is reopened rather than raised anew: a run resolved it (the condition had cleared, e.g.
    while its value report was reopened) and the condition holds again for the same subject and period. Its owner
    was told of it when it was raised; a fresh, identical signal would tell them twice."""
    return (previous.status == SignalStatus.RESOLVED and previous.resolved_by_id is None
            and previous.resolution == AUTOMATIC_RESOLUTION and previous.period == candidate.period)


def _raise_again(previous: Signal, candidate: Candidate, margin_pct: Decimal) -> bool:
    """Whether a closed signal's subject is raised again now that the rule finds it once more.

    Dismissed: only when its figure got materially worse than when it was dismissed. Resolved by a person: when it
    is about a later period, or materially worse. Resolved automatically (the condition had cleared): always (for the
    same period it is reopened instead, `_reopens`).
    """
    worse = materially_worse(previous.metric, candidate.metric.quantize(METRIC_PLACES), margin_pct=margin_pct,
                             higher_is_worse=previous.higher_is_worse)
    if previous.status == SignalStatus.DISMISSED:
        return worse
    if previous.resolved_by_id is None and previous.resolution == AUTOMATIC_RESOLUTION:
        return True
    return worse or previous.period != candidate.period


def signals_compute(
    *, actor: Actor | None = None, today: date | None = None, send_email: bool = True,
    progress: Callable[[int], None] | None = None,
) -> ComputeSummary:
    """Run every rule over the portfolio and reconcile what they find with the stored signals.

    Upsert by subject: a live (open or acknowledged) signal whose evidence changed is updated, one unchanged is
    left untouched (computing twice on the same data writes nothing); a subject without a live signal gets a new
    open one unless its last signal was dismissed (or resolved by a person) and the figure is not materially worse
    (policy signals.rerise_margin_pct); one a run resolved automatically that holds again for the same period is
    reopened (the same row, audited, nobody notified again). Live signals the rules no longer find are resolved
    automatically. Raised, reopened and resolved signals are audited; owners and delegates of the initiatives of new
    signals are notified.
    """
    today = today or timezone.localdate()
    findings = selectors.signal_candidates(today=today)  # the reading runs before the lock is taken
    if progress is not None:
        progress(findings.initiatives)
    summary = ComputeSummary(initiatives=findings.initiatives, found=len(findings.candidates))
    margin = Decimal(policy_value("signals.rerise_margin_pct"))
    by_subject: dict[str, Candidate] = {}
    for candidate in findings.candidates:
        by_subject.setdefault(candidate.subject, candidate)
    with transaction.atomic():
        _compute_lock()
        now = timezone.now()
        live = {s.subject: s for s in Signal.objects.filter(status__in=LIVE_SIGNAL_STATUSES)}
        members: dict[int, set[int]] = {}
        for signal_id, initiative_id in Signal.initiatives.through.objects.filter(
                signal__status__in=LIVE_SIGNAL_STATUSES).values_list("signal_id", "initiative_id"):
            members.setdefault(signal_id, set()).add(initiative_id)
        closed_subjects = [subject for subject in by_subject if subject not in live]
        previous: dict[str, Signal] = {}
        for signal in Signal.objects.filter(subject__in=closed_subjects).order_by("subject", "-pk"):
            previous.setdefault(signal.subject, signal)

        new: list[tuple[Signal, Candidate]] = []
        changed: list[Signal] = []
        relinked: list[tuple[Signal, tuple[int, ...]]] = []
        reopened: list[tuple[Signal, Candidate]] = []
        for subject, candidate in by_subject.items():
            values = _values(candidate)
            current = live.get(subject)
            if current is None:
                before = previous.get(subject)
                if before is not None and _reopens(before, candidate):
                    reopened.append((before, candidate))
                    continue
                if before is not None and not _raise_again(before, candidate, margin):
                    summary.not_raised_again += 1
                    continue
                new.append((Signal(**values, first_seen_at=now, evidence_changed_at=now), candidate))
                continue
            differs = [name for name in COMPARED if getattr(current, name) != values[name]]
            linked = set(candidate.initiative_ids) == members.get(current.pk, set())
            if not linked:
                relinked.append((current, candidate.initiative_ids))
            if differs:
                for name in differs:
                    setattr(current, name, values[name])
                current.evidence_changed_at = now
                changed.append(current)
            elif linked:
                summary.unchanged += 1
        if changed:
            Signal.objects.bulk_update(changed, [*COMPARED, "evidence_changed_at", "updated_at"], batch_size=1000)
        summary.updated = len({s.pk for s in changed} | {s.pk for s, _ in relinked})
        for signal, initiative_ids in relinked:
            signal.initiatives.set(initiative_ids)

        created = Signal.objects.bulk_create([signal for signal, _ in new], batch_size=1000)
        through = Signal.initiatives.through
        through.objects.bulk_create(
            [through(signal_id=signal.pk, initiative_id=initiative_id)
             for signal, (_, candidate) in zip(created, new, strict=True)
             for initiative_id in candidate.initiative_ids],
            batch_size=5000, ignore_conflicts=True,
        )
        audit_events(created, actor=actor, event=AuditEvent.SIGNAL_RAISED,
                     changes={"status": [None, SignalStatus.OPEN]})
        summary.raised = len(created)
        summary.reopened = _reopen(reopened, actor=actor, now=now)

        gone = [signal for subject, signal in live.items() if subject not in by_subject]
        status_before = {signal.pk: signal.status for signal in gone}
        for signal in gone:
            signal.status, signal.resolved_at, signal.resolved_by = SignalStatus.RESOLVED, now, None
            signal.resolution = AUTOMATIC_RESOLUTION
        Signal.objects.bulk_update(gone, ["status", "resolved_at", "resolved_by", "resolution", "updated_at"],
                                   batch_size=1000)
        for status in LIVE_SIGNAL_STATUSES:
            audit_events([s for s in gone if status_before[s.pk] == status], actor=None,
                         event=AuditEvent.SIGNAL_RESOLVED, changes={"status": [status, SignalStatus.RESOLVED]},
                         reason=AUTOMATIC_RESOLUTION)
        summary.resolved = len(gone)
        summary.live = Signal.objects.filter(status__in=LIVE_SIGNAL_STATUSES).count()
        if created:
            _notify_new(created, send_email=send_email)
    data_changed()
    return summary


def _reopen(reopened: list[tuple[Signal, Candidate]], *, actor: Actor | None, now: datetime) -> int:
    """Make live again the signals a run had resolved automatically whose condition holds again for the same period:
    the status they had (acknowledged if their owner had acknowledged them, open otherwise), their evidence as found
    now, audited as reopened. Their people are not notified again: they were told when it was raised."""
    if not reopened:
        return 0
    through = Signal.initiatives.through
    members: dict[int, set[int]] = {}
    for signal_id, initiative_id in through.objects.filter(
            signal_id__in=[signal.pk for signal, _ in reopened]).values_list("signal_id", "initiative_id"):
        members.setdefault(signal_id, set()).add(initiative_id)
    relinked: list[tuple[Signal, tuple[int, ...]]] = []
    for signal, candidate in reopened:
        values = _values(candidate)
        if any(getattr(signal, name) != values[name] for name in COMPARED):
            for name in COMPARED:
                setattr(signal, name, values[name])
            signal.evidence_changed_at = now
        if set(candidate.initiative_ids) != members.get(signal.pk, set()):
            relinked.append((signal, candidate.initiative_ids))
        signal.status = SignalStatus.ACKNOWLEDGED if signal.acknowledged_at is not None else SignalStatus.OPEN
        signal.resolved_at, signal.resolution, signal.updated_at = None, "", now
    signals = [signal for signal, _ in reopened]
    Signal.objects.bulk_update(signals, ["status", "resolved_at", "resolution", *COMPARED, "evidence_changed_at",
                                         "updated_at"], batch_size=1000)
    for signal, initiative_ids in relinked:
        signal.initiatives.set(initiative_ids)
    for status in LIVE_SIGNAL_STATUSES:
        audit_events([s for s in signals if s.status == status], actor=actor, event=AuditEvent.SIGNAL_REOPENED,
                     changes={"status": [SignalStatus.RESOLVED, status]}, reason="condition holds again")
    return len(signals)


def _notify_new(signals: list[Signal], *, send_email: bool) -> None:
    """Owners and active delegates of the initiatives of new signals: one notice per signal, one e-mail per person."""
    people = selectors.signal_people(signals)
    notices = [
        evidence.Notice(user_id=person.pk, email=person.email,
                        message=f"New signal: {signal.get_type_display()} ({signal.period})",
                        url=signal.get_absolute_url())
        for signal in signals for person in people.get(signal.pk, [])
    ]
    evidence.notify(notices=notices, subject="Tollgate: new signals on your initiatives", send_email=send_email)


# The lifecycle --------------------------------------------------------------------------------------------------------


def _locked(signal: Signal) -> Signal:
    return Signal.objects.select_for_update().get(pk=signal.pk)


def _refresh(target: Signal, source: Signal) -> Signal:
    for name in ("status", "acknowledged_by", "acknowledged_at", "resolved_by", "resolved_at", "resolution",
                 "dismissed_by", "dismissed_at", "dismissal_reason", "updated_at"):
        setattr(target, name, getattr(source, name))
    return source


@transaction.atomic
def signal_acknowledge(*, actor: Actor, signal: Signal, note: str = "") -> Signal:
    """Someone responsible has seen it and is on it: open -> acknowledged, with what they are doing about it (`note`,
    optional) in the audit trail."""
    locked = _locked(signal)
    if not may(actor, "governance.acknowledge_signal", locked):
        raise PermissionDenied("You may not acknowledge this signal: its initiative's owner or delegates, CoE "
                               "reviewers and administrators may.")
    if locked.status != SignalStatus.OPEN:
        raise ValidationError(f"This signal is {locked.get_status_display().lower()}; only an open signal is "
                              "acknowledged.")
    locked.status, locked.acknowledged_by, locked.acknowledged_at = SignalStatus.ACKNOWLEDGED, actor, timezone.now()
    locked.save(update_fields=["status", "acknowledged_by", "acknowledged_at", "updated_at"])
    audit_event(locked, actor=actor, event=AuditEvent.SIGNAL_ACKNOWLEDGED,
                changes={"status": [SignalStatus.OPEN, SignalStatus.ACKNOWLEDGED]}, reason=(note or "").strip())
    return _refresh(signal, locked)


@transaction.atomic
def signal_dismiss(*, actor: Actor, signal: Signal, reason: str) -> Signal:
    """Not acted on, with a written reason; it is raised again only when its figure gets materially worse."""
    locked = _locked(signal)
    if not may(actor, "governance.dismiss_signal", locked):
        raise PermissionDenied("You may not dismiss this signal: only a CoE reviewer or an administrator who neither "
                               "owns its initiative nor acts for it may.")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": ["Give a written reason to dismiss the signal."]})
    if locked.status not in LIVE_SIGNAL_STATUSES:
        raise ValidationError(f"This signal is already {locked.get_status_display().lower()}.")
    before = locked.status
    locked.status, locked.dismissed_by, locked.dismissed_at = SignalStatus.DISMISSED, actor, timezone.now()
    locked.dismissal_reason = reason
    locked.save(update_fields=["status", "dismissed_by", "dismissed_at", "dismissal_reason", "updated_at"])
    audit_event(locked, actor=actor, event=AuditEvent.SIGNAL_DISMISSED,
                changes={"status": [before, SignalStatus.DISMISSED]}, reason=reason)
    return _refresh(signal, locked)


@transaction.atomic
def signal_resolve(*, actor: Actor, signal: Signal, note: str = "") -> Signal:
    """Dealt with (the pilot was stopped, the seats cut...); raised again for a later period or when worse."""
    locked = _locked(signal)
    if not may(actor, "governance.resolve_signal", locked):
        raise PermissionDenied("You may not resolve this signal: only a CoE reviewer or an administrator who neither "
                               "owns its initiative nor acts for it may.")
    if locked.status not in LIVE_SIGNAL_STATUSES:
        raise ValidationError(f"This signal is already {locked.get_status_display().lower()}.")
    before = locked.status
    note = (note or "").strip()
    locked.status, locked.resolved_by, locked.resolved_at = SignalStatus.RESOLVED, actor, timezone.now()
    locked.resolution = note or "resolved"
    locked.save(update_fields=["status", "resolved_by", "resolved_at", "resolution", "updated_at"])
    audit_event(locked, actor=actor, event=AuditEvent.SIGNAL_RESOLVED,
                changes={"status": [before, SignalStatus.RESOLVED]}, reason=note)
    return _refresh(signal, locked)


def _resolve_now(signals: list[Signal], *, actor: Actor | None, resolved_by: Actor | None, reason: str) -> int:
    """Resolve `signals` (locked, live) at once with `reason`, one audit row each under `actor`, outside a signal
    run: a decision or a transition took their cause away. Returns how many."""
    status_before = {signal.pk: signal.status for signal in signals}
    now = timezone.now()
    for signal in signals:
        signal.status, signal.resolved_at, signal.resolved_by, signal.resolution = (
            SignalStatus.RESOLVED, now, resolved_by, reason)
        signal.updated_at = now
    Signal.objects.bulk_update(signals, ["status", "resolved_at", "resolved_by", "resolution", "updated_at"])
    for status in LIVE_SIGNAL_STATUSES:
        audit_events([s for s in signals if status_before[s.pk] == status], actor=actor,
                     event=AuditEvent.SIGNAL_RESOLVED, changes={"status": [status, SignalStatus.RESOLVED]},
                     reason=reason)
    if signals:
        data_changed()
    return len(signals)


def signal_of_subject_resolve(*, actor: Actor | None, subject: str, reason: str) -> int:
    """Resolve now, with `reason` and the deciding person, the live signal about `subject` whose cause a person's
    decision took away (a sprawl cluster confirmed or dismissed): the run queued after the decision would resolve it
    too, but as "condition no longer holds", which reads as if the duplication had gone. Returns how many (0 or 1)."""
    live = list(Signal.objects.select_for_update().filter(subject=subject, status__in=LIVE_SIGNAL_STATUSES)
                .order_by("pk"))
    return _resolve_now(live, actor=actor, resolved_by=actor, reason=reason)


def signals_of_ended_initiative_resolve(*, actor: Actor | None, initiative_id: int, reason: str) -> int:
    """An initiative was killed, retired or rejected: resolve now, in the transition's transaction, its live signals
    that are about ended initiatives only, audited with `reason` ("initiative killed"), so the dashboard and board pack
    stop listing work already stopped as a candidate to stop. A signal shared with live initiatives (a sprawl cluster,
    a licence pool) is left to the signal run the transition queues. Returns how many were resolved."""
    through = Signal.initiatives.through
    live = set(Signal.objects.filter(status__in=LIVE_SIGNAL_STATUSES, initiatives=initiative_id)
               .values_list("pk", flat=True))
    shared = set(through.objects.filter(signal_id__in=live).exclude(initiative__stage__in=ENDED_STAGES)
                 .values_list("signal_id", flat=True))
    ended = list(Signal.objects.select_for_update().filter(pk__in=live - shared, status__in=LIVE_SIGNAL_STATUSES)
                 .order_by("pk"))
    return _resolve_now(ended, actor=actor, resolved_by=None, reason=reason)


# Runs -----------------------------------------------------------------------------------------------------------------


def signal_run_submit(*, actor: Actor | None = None, trigger: str = SignalRunTrigger.USER) -> SignalRun:
    """Queue a computation (its task is sent when the transaction commits), or return the one already waiting:
    a run that has not started yet will read everything committed before it starts, so repeated triggers (every
    ingestion of a batch, every report of a morning) share it. People need the recompute permission; system
    triggers (an ingestion, a value report, the schedule) pass no actor."""
    from governance.signals.tasks import signal_compute_task

    if actor is not None and not may(actor, "governance.recompute_signals"):
        raise PermissionDenied("Only CoE reviewers and administrators recompute the signals.")
    with transaction.atomic():
        # Its own lock: an ingestion or a report that queues a run must not wait for a computation to finish.
        _lock(SUBMIT_LOCK_KEY)
        run = SignalRun.objects.filter(status=RunStatus.PENDING).order_by("-id").first()
        if run is not None:
            return run
        return jobs.run_submit(SignalRun(actor=actor, trigger=trigger), task=signal_compute_task)


def signal_run_execute_by_id(*, run_id: int, send_email: bool = True) -> SignalRun | None:
    """Execute a queued run and record the outcome on it (a failure is recorded, not raised); None when there was
    nothing to do (finished, or a live worker executes it)."""
    with jobs.run_claimed(SignalRun, run_id=run_id) as run:
        if run is None:
            return None
        try:
            summary = signals_compute(actor=run.actor, send_email=send_email,
                                      progress=lambda done: jobs.run_progress(run, done))
        except Exception as exc:  # recorded on the run for its page; the traceback goes to the worker log
            logger.exception("Signal computation %s failed", run.pk)
            return jobs.run_finish(run, status=RunStatus.FAILED, error=f"{type(exc).__name__}: {exc}"[:2000])
        return jobs.run_finish(
            run, status=RunStatus.SUCCEEDED, initiatives=summary.initiatives, signals_live=summary.live,
            signals_raised=summary.raised, signals_updated=summary.updated + summary.reopened,  # rows changed
            signals_resolved=summary.resolved,
        )


def signals_compute_now(*, actor: Actor | None = None, trigger: str = SignalRunTrigger.COMMAND,
                        send_email: bool = True) -> SignalRun:
    """A computation executed here and now (the command, the demo), recorded as a run like the queued ones."""
    run = SignalRun.objects.create(actor=actor, trigger=trigger)
    signal_run_execute_by_id(run_id=run.pk, send_email=send_email)
    run.refresh_from_db()
    return run


def signal_runs_expire_stale(*, older_than: timedelta = timedelta(hours=1)) -> int:
    """Fail runs no worker will finish (a lost message or worker), so the next one can be queued."""
    return jobs.runs_expire(SignalRun, older_than=older_than)
