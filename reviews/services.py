"""Writes of the reviews app. Each service takes a keyword-only acting user, runs in one transaction and writes its
audit row (django-auditlog LogEntry) in that transaction.

Permissions are checked here too (tollgate.roles), whatever the caller checked: segregation of duties must hold for
pages, the API and scripts alike. A scheduled job acts as the system (actor=None).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import PurePath
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from auditlog.context import set_actor
from auditlog.models import LogEntry
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import File
from django.core.mail import EmailMessage, get_connection, send_mail, send_mass_mail
from django.db import IntegrityError, transaction
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.utils import timezone

from governance import services as governance_services
from governance.choices import SignalRunTrigger
from governance.evidence import NOTICE_MAX_CHARS, Notice, notice_message
from governance.signals.services import signal_run_submit
from portfolio import calculations as portfolio_calculations
from portfolio.choices import ENDED_STAGES, KpiKind, NotificationEmail, Stage
from portfolio.costs.services.tco import tco_recompute
from portfolio.models import KPI, Initiative, Profile
from reviews import calculations, selectors
from reviews.choices import CycleStatus, Decision, ReminderKind, ReportStatus
from reviews.models import KpiActual, Notification, ReminderLog, ReportAttachment, ReviewCycle, ValueReport, Verdict
from tollgate.audit import audit_event
from tollgate.formatting import format_money
from tollgate.jobs import transaction_lock
from tollgate.roles import AUTHORSHIP, may, refusal
from tollgate.types import Actor

logger = logging.getLogger(__name__)

REPORT_FIELDS = ("outcome_count", "active_users", "oversight_hours", "narrative", "stated_value",
                 "stated_value_evidence")
SCHEDULED_DUE_AFTER_DAYS = 30

# The longest texts a report, a KPI's entry, a verdict and a reopening take, in characters: enough for the evidence a
# reviewer reads, and nothing like the 200,000-character narrative that once made a 205 KB page and audit entry.
# The forms and the API serializers say the same limits before the service.
NARRATIVE_MAX_CHARS = 10_000
EVIDENCE_MAX_CHARS = 5_000
RATIONALE_MAX_CHARS = 5_000
REOPEN_REASON_MAX_CHARS = 2_000
PERIOD_ENDS_BEFORE_START = "The period ends before it starts."  # the cycle form says it too
REPORT_TEXT_LIMITS = {"narrative": NARRATIVE_MAX_CHARS, "stated_value_evidence": EVIDENCE_MAX_CHARS}

# Attachments: extension -> what the first bytes must look like (None: text, checked by decoding).
MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
ZIP_MAGIC = (b"PK\x03\x04",)
ATTACHMENT_TYPES: dict[str, tuple[bytes, ...] | None] = {
    "pdf": (b"%PDF-",),
    "png": (b"\x89PNG\r\n\x1a\n",),
    "jpg": (b"\xff\xd8\xff",),
    "jpeg": (b"\xff\xd8\xff",),
    "xlsx": ZIP_MAGIC,
    "docx": ZIP_MAGIC,
    "csv": None,
    "txt": None,
}


def _require(actor: Actor | None, perm: str, obj: Any = None) -> None:
    """Refuse the actor `perm` (on `obj`), saying what in words (tollgate.roles.refusal), never the code."""
    if actor is not None and not may(actor, perm, obj):
        raise PermissionDenied(refusal(actor, perm, obj))


def _audit(instance: Any, *, actor: Actor | None, event: str, changes: dict | None = None,
           reason: str = "", action: int = LogEntry.Action.UPDATE, **extra: Any) -> LogEntry:
    """An explicit audit row for a decision (submission, reopening, verdict...), beside auditlog's field history."""
    if reason:
        extra["reason"] = reason
    return audit_event(instance, actor=actor, event=event, changes=changes, action=action, **extra)


def _lock(report: ValueReport) -> ValueReport:
    """A fresh, locked copy: two submissions or verdicts racing cannot both pass their guards."""
    return ValueReport.objects.select_for_update().select_related("cycle", "initiative").get(pk=report.pk)


def too_long(what: str, text: str, limit: int) -> str | None:
    """What is said of a text longer than `limit` characters, naming the limit; None when it fits."""
    if len(text or "") <= limit:
        return None
    return f"{what} is {len(text):,} characters long: at most {limit:,} are taken. Shorten it."


def _ensure_cycle_not_closed(report: ValueReport) -> None:
    if report.cycle.closed_at is not None:
        raise ValidationError(f"The cycle {report.cycle} is closed.")


def not_reopenable_reason(report: ValueReport) -> str | None:
    """Why a submitted report is final, or None while a reviewer may reopen it: a verdict was given (it stands), its
    cycle is closed, or its initiative ended (nobody could edit it again). value_report_reopen refuses with it; the
    owner's page says it instead of promising a reopening."""
    if Verdict.objects.filter(report=report).exists():
        return "A verdict was given on this report; it can no longer be reopened."
    if report.cycle.closed_at is not None:
        return f"The cycle {report.cycle} is closed."
    if report.initiative.stage in ENDED_STAGES:
        return (f"“{report.initiative}” is {Stage(report.initiative.stage).label.lower()}: an ended initiative owes "
                "no value report, so its report is not reopened; a reviewer gives its verdict.")
    return None


def not_owed_reason(report: ValueReport, today: date | None = None) -> str | None:
    """Why the draft takes no figures, evidence or submission now, or None when it does: its initiative ended (an
    ended initiative owes no value report), its cycle is closed, or its cycle does not take reports yet (it has not
    opened, or the period it reviews has not ended: figures about months that have not happened are no evidence).
    Pages ask it to hide the form; the services refuse with it."""
    today = today or timezone.localdate()
    initiative, cycle = report.initiative, report.cycle
    if initiative.stage in ENDED_STAGES:
        return (f"“{initiative}” is {Stage(initiative.stage).label.lower()}: an ended initiative owes no value report, "
                f"so its {cycle} report can no longer be edited or submitted.")
    if cycle.closed_at is not None:
        return f"The cycle {cycle} is closed: this draft can no longer be edited or submitted."
    return cycle.not_open_reason(today)


def _ensure_owed(report: ValueReport) -> None:
    reason = not_owed_reason(report)
    if reason:
        raise ValidationError(reason)


def _authored(report: ValueReport, actor: Actor | None) -> None:
    """The actor entered figures or evidence in the report, or submitted it: from now on they may not judge or reopen
    it, whatever their relation to the initiative becomes (tollgate.roles.wrote_the_report)."""
    if actor is not None:
        report.authors.add(actor)


def _ensure_not_author(report: ValueReport, actor: Actor | None) -> None:
    """Nobody judges or reopens a report they wrote, said plainly rather than as a missing permission."""
    if actor is not None and selectors.report_written_by(report, actor):
        raise PermissionDenied(f"You submitted or edited the value report {report}, and {AUTHORSHIP}.")


# Notifications -------------------------------------------------------------------------------------------------------


_EMAIL_PAUSED: ContextVar[bool] = ContextVar("notification_email_paused", default=False)


@contextmanager
def notification_email_paused() -> Iterator[None]:
    """Notices given inside are written in the app but e-mailed to nobody: the demo writes a year of decisions
    through the services, and its people have no mailboxes."""
    token = _EMAIL_PAUSED.set(True)
    try:
        yield
    finally:
        _EMAIL_PAUSED.reset(token)


def absolute_url(url: str) -> str:
    """A link that works from an e-mail: a path on this site is prefixed with settings.SITE_URL."""
    return f"{settings.SITE_URL}{url}" if url.startswith("/") else url


def notification_create(*, user: Actor, message: str, url: str = "") -> Notification:
    return Notification.objects.create(user=user, message=message[:NOTICE_MAX_CHARS], url=url)


def notices_send(*, notices: Sequence[Notice], subject: str, send_email: bool = True) -> int:
    """Governance's notifier (registered in reviews/apps.py): one in-app notification per notice and, when asked,
    one e-mail per person listing all of theirs with their links (a computation that raises ten signals sends one
    e-mail, not ten), sent when the transaction commits; none now to someone who chose the daily digest or no
    e-mail (notification_digests_send)."""
    if not notices:
        return 0
    Notification.objects.bulk_create(
        [Notification(user_id=notice.user_id, message=notice.message[:NOTICE_MAX_CHARS], url=notice.url)
         for notice in notices])
    if send_email and not _EMAIL_PAUSED.get():
        # People who chose a daily digest, or no e-mail, on their account page are not e-mailed now.
        in_app_only = set(Profile.objects.filter(user_id__in={n.user_id for n in notices})
                          .exclude(notification_email=NotificationEmail.EACH).values_list("user_id", flat=True))
        by_address: dict[str, list[Notice]] = {}
        for notice in notices:
            if notice.email and notice.user_id not in in_app_only:
                by_address.setdefault(notice.email, []).append(notice)
        messages = [
            (subject, "\n".join(f"- {n.message}\n  {absolute_url(n.url)}" for n in mine) + "\n",
             settings.DEFAULT_FROM_EMAIL, [address])
            for address, mine in sorted(by_address.items())
        ]
        # Once the notifications are committed; a mail server that is down is logged, and never undoes them.
        transaction.on_commit(lambda: send_mass_mail(messages), robust=True)
    return len(notices)


def digest_due(*, hour: int, sent_at: datetime | None, now: datetime, time_zone: str = "") -> bool:
    """Whether a person's daily digest is due: its hour of their day (in `time_zone`, "" for the server's) has come
    since the last one went (a run that was missed or refused is caught up by the next hourly run)."""
    local = timezone.localtime(now, ZoneInfo(time_zone) if time_zone else None)
    slot = local.replace(hour=hour, minute=0, second=0, microsecond=0)
    if slot > local:
        slot -= timedelta(days=1)
    return sent_at is None or sent_at < slot


@transaction.atomic
def notification_digests_send(*, now: datetime | None = None) -> list[str]:
    """The daily digest, run every hour: to each active person who chose it and whose hour has come since their last
    one (digest_due), one e-mail listing the notifications that came since their last digest and that they have not
    read in the app yet; their digest time moves to `now` (idempotent: a second run finds nobody due). All the e-mails
    go over one connection; if the mail server refuses, nothing moves and the next run sends them. Returns the
    addresses written to."""
    now = now or timezone.now()
    profiles = [p for p in Profile.objects.select_for_update().select_related("user").filter(
        notification_email=NotificationEmail.DAILY, user__is_active=True).order_by("pk")
        if digest_due(hour=p.digest_hour, sent_at=p.digest_sent_at, now=now, time_zone=p.time_zone)]
    since = {p.user_id: p.digest_sent_at or now - timedelta(days=1) for p in profiles}
    pending: dict[int, list[Notification]] = {}
    for note in (Notification.objects.filter(user_id__in=list(since), read_at__isnull=True, created_at__lte=now)
                 .order_by("created_at", "pk")):
        if note.created_at > since[note.user_id]:
            pending.setdefault(note.user_id, []).append(note)
    messages = []
    for profile in profiles:
        notes = pending.get(profile.user_id, [])
        if notes and profile.user.email:
            body = "\n".join(f"- {n.message}\n  {absolute_url(n.url) if n.url else ''}".rstrip() for n in notes)
            subject = f"Tollgate: {len(notes)} notification{'s' if len(notes) != 1 else ''} since your last digest"
            footer = (f"\n\nAll of them: {absolute_url(reverse('reviews:notification_list'))}\n"
                      f"Change how they reach you: {absolute_url(reverse('account'))}\n")
            messages.append(EmailMessage(subject, body + footer, settings.DEFAULT_FROM_EMAIL, [profile.user.email]))
    if messages:
        with get_connection() as connection:
            connection.send_messages(messages)
    Profile.objects.filter(pk__in=[p.pk for p in profiles]).update(digest_sent_at=now)
    return [message.to[0] for message in messages]


@transaction.atomic
def notifications_mark_read(*, actor: Actor, ids: list[int] | None = None) -> int:
    """Mark the actor's own notifications read (all of them when ids is None); returns how many changed."""
    queryset = Notification.objects.filter(user=actor, read_at__isnull=True)
    if ids is not None:
        queryset = queryset.filter(pk__in=ids)
    return queryset.update(read_at=timezone.now())


# Cycles --------------------------------------------------------------------------------------------------------------


MAX_CYCLE_MONTHS = 12
CYCLE_YEARS_BACK, CYCLE_YEARS_AHEAD = 10, 2


def cycle_date_errors(*, period_start: date, period_end: date, opens_on: date, due_on: date,
                      today: date) -> dict[str, str]:
    """Dates a review cycle may not have: a period of more than a year, years away from today, or a due date far
    from the period it reports on (a cycle from 2338 to 7811 was once accepted)."""
    errors: dict[str, str] = {}
    earliest, latest = date(today.year - CYCLE_YEARS_BACK, 1, 1), date(today.year + CYCLE_YEARS_AHEAD, 12, 31)
    for name, value in (("period_start", period_start), ("period_end", period_end), ("opens_on", opens_on),
                        ("due_on", due_on)):
        if not earliest <= value <= latest:
            errors[name] = (f"{value:%Y-%m-%d} is out of range: use a date from {earliest:%Y-%m-%d} to "
                            f"{latest:%Y-%m-%d}.")
    if not errors and period_start <= period_end and calculations.months_in_period(
            period_start, period_end) > MAX_CYCLE_MONTHS:
        errors["period_end"] = f"A review cycle covers at most {MAX_CYCLE_MONTHS} months."
    if "due_on" not in errors and due_on > period_end + timedelta(days=366):
        errors["due_on"] = "The due date is more than a year after the period ends."
    return errors


def cycle_name_errors(*, name: str, period_start: date, period_end: date) -> dict[str, str]:
    """A cycle is named after the period it reviews (calculations.cycle_name_for_period): the name tells owners and
    the signals which quarter a report covers, so "2026-Q4" may not review January to March, and a free-text name
    ("<b>x</b>", "2026-Q3b") is never stored."""
    expected = calculations.cycle_name_for_period(period_start, period_end)
    if expected is None:
        return {"period_end": (f"{period_start:%Y-%m-%d} to {period_end:%Y-%m-%d} is not a calendar quarter, "
                               "half-year or year: a review cycle reviews one of those, e.g. 2026-07-01 to "
                               "2026-09-30 (2026-Q3).")}
    if name != expected:
        return {"name": (f"A cycle of {period_start:%Y-%m-%d} to {period_end:%Y-%m-%d} is named {expected}, not "
                         f"{name[:40]}.")}
    return {}


def cycle_overlap_error(*, name: str, period_start: date, period_end: date) -> dict[str, str]:
    """A period already reviewed by another cycle may not be reviewed again: its owners would owe two reports for the
    same months, and be flagged overdue for both."""
    other = (ReviewCycle.objects.filter(period_start__lte=period_end, period_end__gte=period_start)
             .exclude(name=name).order_by("period_start", "pk").first())
    if other is None:
        return {}
    return {"period_start": (f"The cycle {other.name} already reviews {other.period_start:%Y-%m-%d} to "
                             f"{other.period_end:%Y-%m-%d}, which overlaps this period.")}


def opens_too_early(name: str, period_start: date, period_end: date, opens_on: date) -> str:
    """Why a cycle may not open on `opens_on`: its period has not ended (a quarter's actuals exist only once it is
    over), said with the first day it may open, for opening a cycle and moving its opening date alike."""
    return (f"{name} reviews {period_start:%Y-%m-%d} to {period_end:%Y-%m-%d}, so it opens on "
            f"{period_end + timedelta(days=1):%Y-%m-%d} at the earliest, not {opens_on:%Y-%m-%d}.")


def existing_cycle_errors(cycle: ReviewCycle, *, period_start: date, period_end: date, due_on: date,
                          opens_on: date | None) -> dict[str, str]:
    """Why an existing cycle may not be opened again with these dates: it is closed, or a date given differs from
    the stored one (an opening date left out is not compared). Opening again changes no date (that is
    review_cycle_reschedule's), so each difference is named rather than silently ignored."""
    if cycle.closed_at is not None:
        return {"name": (f"{cycle.name} was closed on {timezone.localtime(cycle.closed_at):%Y-%m-%d}: a closed cycle "
                         "is not opened again and takes no more reports.")}
    given = {"period_start": period_start, "period_end": period_end, "opens_on": opens_on, "due_on": due_on}
    return {field: (f"{cycle.name} is already open with {field} {getattr(cycle, field):%Y-%m-%d}, not "
                    f"{value:%Y-%m-%d}. Opening a cycle again changes none of its dates: send "
                    f"{getattr(cycle, field):%Y-%m-%d} to add the reports it is missing, or change its due date (or "
                    "the opening date of a cycle not yet open) on its page or with PATCH on the cycle.")
            for field, value in given.items() if value is not None and value != getattr(cycle, field)}


def review_cycle_open(
    *,
    actor: Actor | None,
    name: str,
    period_start: date,
    period_end: date,
    due_on: date,
    opens_on: date | None = None,
    today: date | None = None,
) -> ReviewCycle:
    """Open a cycle (review_cycle_get_or_open, without saying whether it was there already)."""
    return review_cycle_get_or_open(actor=actor, name=name, period_start=period_start, period_end=period_end,
                                    due_on=due_on, opens_on=opens_on, today=today).cycle


class CycleOpened(NamedTuple):
    """What opening a cycle did: a person who opens an existing cycle again reads what it added, not "is open"."""

    cycle: ReviewCycle
    created: bool
    added: list[ValueReport]  # the expected reports created now, by initiative id

    def message(self) -> str:
        """The page's words: a new cycle and its expected reports, or what opening it again added."""
        expected = self.cycle.reports.count()
        if self.created:
            return f"Cycle {self.cycle.name} is open with {expected} expected report{pluralize(expected)}."
        if not self.added:
            return (f"Cycle {self.cycle.name} was open already, with its {expected} expected report"
                    f"{pluralize(expected)}: nothing was missing, nothing added.")
        names = ", ".join(report.initiative.external_id or str(report.initiative) for report in self.added[:5])
        more = f" and {len(self.added) - 5} more" if len(self.added) > 5 else ""
        return (f"Cycle {self.cycle.name} was open already: {len(self.added)} missing report"
                f"{pluralize(len(self.added))} added ({names}{more}); {expected} expected in all.")


@transaction.atomic
def review_cycle_get_or_open(
    *,
    actor: Actor | None,
    name: str,
    period_start: date,
    period_end: date,
    due_on: date,
    opens_on: date | None = None,
    today: date | None = None,
) -> CycleOpened:
    """Open a cycle and create one expected (draft) report for every initiative that owes one: in pilot or production
    now, and already running in the period reviewed (selectors.initiatives_owing_report). Returns the cycle, whether
    it was created and the reports added.

    The name follows the period (cycle_name_for_period), the period overlaps no other cycle's, a new cycle opens only
    after the period it reviews has ended (it may be opened ahead, with that later opening date: its reports take
    figures from then on, ValueReport.state_on "not open yet"), and a new cycle's due date has not passed: every
    report of a cycle already due would be overdue, and escalated, the day it opens (to record a past quarter, give a
    due date from today on). `today` is the scheduler's day (default: the real one).

    Idempotent: opening an existing cycle again with the same period and dates (an opening date left out is the
    stored one) reuses it and only creates the missing reports, so the scheduler (or an impatient reviewer) can run it
    again safely. Other dates are refused naming each that differs (existing_cycle_errors), never silently ignored,
    and so is a closed cycle.
    """
    _require(actor, "reviews.manage_reviewcycle")
    # One opening at a time: two reviewers opening 2026-Q3 and 2026-H2 at the same moment would each find no overlap
    # and both be created (only an identical name is refused by the database).
    transaction_lock("reviews.review_cycle_open")
    name = (name or "").strip()
    today = today or timezone.localdate()
    existing = ReviewCycle.objects.filter(name=name).first() if name else None
    if existing is not None:
        refused = existing_cycle_errors(existing, period_start=period_start, period_end=period_end, due_on=due_on,
                                        opens_on=opens_on)
        if refused:
            raise ValidationError(refused)
        opens_on = opens_on or existing.opens_on
    opens_on = opens_on or today
    errors = {}
    if not name:
        errors["name"] = "Give the cycle a name, e.g. 2026-Q3."
    if period_end < period_start:
        errors["period_end"] = PERIOD_ENDS_BEFORE_START
    if due_on < opens_on:
        errors["due_on"] = "The due date is before the cycle opens."
    errors.update(cycle_date_errors(period_start=period_start, period_end=period_end, opens_on=opens_on,
                                    due_on=due_on, today=today))
    if not errors:
        errors.update(cycle_name_errors(name=name, period_start=period_start, period_end=period_end))
    if not errors:
        errors.update(cycle_overlap_error(name=name, period_start=period_start, period_end=period_end))
    is_new = existing is None
    if not errors and is_new and opens_on <= period_end:
        errors["opens_on"] = (f"A cycle opens once the period it reviews has ended: "
                              f"{opens_too_early(name, period_start, period_end, opens_on)} It may be opened ahead "
                              "with that later opening date.")
    if not errors and is_new and due_on < today:
        errors["due_on"] = (f"The due date {due_on:%Y-%m-%d} has passed: every report of the cycle would be overdue "
                            "the day it opens. Give a due date from today on.")
    if errors:
        raise ValidationError(errors)
    with set_actor(actor):
        cycle, created = ReviewCycle.objects.get_or_create(
            name=name,
            defaults={"period_start": period_start, "period_end": period_end, "opens_on": opens_on,
                      "due_on": due_on, "created_by": actor},
        )
        missing = selectors.initiatives_owing_report(cycle).exclude(value_reports__cycle=cycle)
        reports = ValueReport.objects.bulk_create(
            [ValueReport(cycle=cycle, initiative=initiative) for initiative in missing.order_by("pk")]
        )
    if created or reports:
        # The count in the changes too, so the audit trail's Changes column says it (not only additional_data).
        _audit(cycle, actor=actor, event="review_cycle_opened", changes={"reports created": len(reports)},
               reports_created=len(reports), action=LogEntry.Action.CREATE if created else LogEntry.Action.UPDATE)
    return CycleOpened(cycle, created, reports)


@transaction.atomic
def review_cycle_open_scheduled(*, today: date | None = None) -> ReviewCycle | None:
    """The beat job's cycle: see calculations.cycle_for_quarter_after. Opens it from the first day of the quarter
    until its due date if it is not there yet (a missed beat catches up); never creates a cycle already overdue."""
    today = today or timezone.localdate()
    planned = calculations.cycle_for_quarter_after(today, SCHEDULED_DUE_AFTER_DAYS)
    if ReviewCycle.objects.filter(name=planned.name).exists() or today > planned.due_on:
        return None
    return review_cycle_open(actor=None, name=planned.name, period_start=planned.period_start,
                             period_end=planned.period_end, due_on=planned.due_on, opens_on=planned.opens_on,
                             today=today)


@transaction.atomic
def review_cycle_reschedule(
    *, actor: Actor | None, cycle: ReviewCycle, due_on: date | None = None, opens_on: date | None = None,
    today: date | None = None,
) -> ReviewCycle:
    """Move an open cycle's due date (a deadline extended for everyone, or brought forward), or the opening date of
    one not yet open. The period and name never change: they say which quarter the reports cover.

    A date left out, or equal to the stored one, is kept; nothing changed writes nothing. Refused: a closed cycle, a
    new due date that has passed (every draft would be overdue, and escalated, at once) or falls before the opening,
    a new opening date once the cycle has opened, before its period ends or in the past. The owners of the drafts
    still owed are notified; reminders and escalation follow the new due date (ReminderLog records the date each
    was about), and the audit trail keeps both dates."""
    _require(actor, "reviews.manage_reviewcycle")
    cycle = ReviewCycle.objects.select_for_update().get(pk=cycle.pk)
    today = today or timezone.localdate()
    if cycle.closed_at is not None:
        raise ValidationError(f"{cycle.name} was closed on {timezone.localtime(cycle.closed_at):%Y-%m-%d}: a closed "
                              "cycle's dates no longer change.")
    new_opens = opens_on or cycle.opens_on
    new_due = due_on or cycle.due_on
    errors: dict[str, str] = {}
    if new_opens != cycle.opens_on:
        if cycle.status_on(today) != CycleStatus.UPCOMING:
            errors["opens_on"] = (f"{cycle.name} opened on {cycle.takes_reports_from:%Y-%m-%d}: an open cycle's "
                                  "opening date no longer changes (its due date may).")
        elif new_opens <= cycle.period_end:
            errors["opens_on"] = opens_too_early(cycle.name, cycle.period_start, cycle.period_end, new_opens)
        elif new_opens < today:
            errors["opens_on"] = f"{new_opens:%Y-%m-%d} has passed: give an opening date from today on."
    if new_due != cycle.due_on and new_due < today:
        errors["due_on"] = (f"The due date {new_due:%Y-%m-%d} has passed: every report still owed would be overdue "
                            "at once. Give a due date from today on.")
    if "due_on" not in errors and new_due < new_opens:
        errors["due_on"] = f"The due date {new_due:%Y-%m-%d} is before the cycle opens ({new_opens:%Y-%m-%d})."
    for field, message in cycle_date_errors(period_start=cycle.period_start, period_end=cycle.period_end,
                                            opens_on=new_opens, due_on=new_due, today=today).items():
        errors.setdefault(field, message)
    if errors:
        raise ValidationError(errors)
    changes = {field: [f"{old:%Y-%m-%d}", f"{new:%Y-%m-%d}"] for field, old, new in (
        ("opens_on", cycle.opens_on, new_opens), ("due_on", cycle.due_on, new_due)) if old != new}
    if not changes:
        return cycle
    with set_actor(actor):
        cycle.opens_on, cycle.due_on = new_opens, new_due
        cycle.save(update_fields=["opens_on", "due_on"])
    owed = list(cycle.reports.filter(selectors.owed_drafts_q()).select_related("initiative").order_by("pk"))
    _audit(cycle, actor=actor, event="review_cycle_rescheduled", changes=changes, reports_owed=len(owed))
    when = " and ".join(
        f"{'now opens' if field == 'opens_on' else 'is now due'} on {dates[1]} (was {dates[0]})" for field, dates in
        changes.items())
    notices_send(subject=f"Review cycle {cycle.name}: new dates", notices=[
        Notice(user_id=person.pk, email=person.email or "", url=reverse("reviews:report_detail", args=[report.pk]),
               message=notice_message(f"The {cycle.name} value report of ", str(report.initiative), f" {when}."))
        for report in owed for person in selectors.report_owners(report)
    ])
    return cycle


@transaction.atomic
def review_cycle_close(*, actor: Actor | None, cycle: ReviewCycle) -> ReviewCycle:
    """Close a cycle: its drafts stay drafts (they were never submitted) and no reminder is sent for them any more.
    The audit row says how many drafts were left unsubmitted, the reports the cycle never got."""
    _require(actor, "reviews.manage_reviewcycle")
    cycle = ReviewCycle.objects.select_for_update().get(pk=cycle.pk)
    if cycle.closed_at is not None:
        raise ValidationError("This cycle is already closed.")
    with set_actor(actor):
        cycle.closed_at = timezone.now()
        cycle.save(update_fields=["closed_at"])
    drafts = cycle.reports.filter(status=ReportStatus.DRAFT).count()
    submitted = cycle.reports.filter(status=ReportStatus.SUBMITTED).count()
    _audit(cycle, actor=actor, event="review_cycle_closed",
           changes={"status": ["open", "closed"], "drafts left unsubmitted": drafts},
           drafts_left_unsubmitted=drafts, reports_submitted=submitted)
    return cycle


# Value reports -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StatedKpiValue:
    """What the owner states for a stated KPI in a report: the period's value and how it was measured."""

    amount: Decimal | None
    evidence: str = ""


@transaction.atomic
def value_report_save_draft(
    *,
    actor: Actor | None,
    report: ValueReport,
    fields: Mapping[str, Any] | None = None,
    kpi_actuals: Mapping[int, Decimal | None] | None = None,
    kpi_stated: Mapping[int, StatedKpiValue] | None = None,
) -> ValueReport:
    """Save what the owner has so far. `kpi_actuals` maps KPI id -> actual (None removes it); `kpi_stated` maps a
    stated KPI's id -> its stated value and evidence (only stated KPIs take one)."""
    report = _lock(report)
    _require(actor, "reviews.change_valuereport", report)
    if report.status != ReportStatus.DRAFT:
        raise ValidationError("Only a draft can be edited; ask a reviewer to reopen the report.")
    _ensure_owed(report)
    fields = dict(fields or {})
    unknown = set(fields) - set(REPORT_FIELDS)
    if unknown:
        raise ValidationError(f"Not editable in a value report: {', '.join(sorted(unknown))}")
    kpis = {kpi.pk: kpi for kpi in report.initiative.kpis.all()}
    actuals, stated = dict(kpi_actuals or {}), dict(kpi_stated or {})
    foreign = (set(actuals) | set(stated)) - set(kpis)
    if foreign:
        raise ValidationError({"kpi_actuals": f"KPI {sorted(foreign)[0]} is not a KPI of {report.initiative}."})
    computed = [kpis[pk] for pk, given in sorted(stated.items())
                if kpis[pk].kind != KpiKind.STATED and (given.amount is not None or given.evidence.strip())]
    if computed:
        raise ValidationError({"kpi_stated": ValidationError(
            "%(name)s is a %(kind)s KPI: its value is computed from its actual. Only stated KPIs take a stated value "
            "and evidence.", params={"kpi": computed[0].pk, "name": computed[0].name,
                                     "kind": computed[0].kind.replace("_", "-")})})
    _ensure_percent_actuals({kpis[pk]: actual for pk, actual in sorted(actuals.items())})
    _ensure_stated_not_negative(fields.get("stated_value"),
                                {kpis[pk]: given.amount for pk, given in sorted(stated.items())})
    _ensure_texts_fit(fields, {kpis[pk]: given.evidence for pk, given in sorted(stated.items())})
    with set_actor(actor):
        changed = [f for f, v in fields.items() if getattr(report, f) != v]
        for field_name in changed:
            setattr(report, field_name, fields[field_name])
        if changed:
            report.full_clean(exclude=["cycle", "initiative"])
            report.save()
        existing = {a.kpi_id: a for a in report.actuals.all()}
        entries_changed = False
        for kpi_id in sorted(set(actuals) | set(stated)):
            values: dict[str, Any] = {}
            if kpi_id in actuals:
                values["actual"] = actuals[kpi_id]
            if kpi_id in stated:
                values.update(stated_value=stated[kpi_id].amount, evidence=stated[kpi_id].evidence.strip())
            entries_changed |= _kpi_entry_save(existing.get(kpi_id) or KpiActual(report=report, kpi_id=kpi_id), values)
    _ensure_value_recordable(report)
    if changed or entries_changed:
        _authored(report, actor)
    return report


def _ensure_texts_fit(fields: Mapping[str, Any], evidence: Mapping[KPI, str]) -> None:
    """The narrative and the evidence are held to REPORT_TEXT_LIMITS, a stated KPI's evidence to EVIDENCE_MAX_CHARS,
    for scripts as for the page and the API."""
    errors: dict[str, list[str | ValidationError]] = {}
    for name, limit in REPORT_TEXT_LIMITS.items():
        message = too_long(f"The {name.replace('_', ' ')}", fields.get(name) or "", limit)
        if message:
            errors[name] = [message]
    long_evidence = [kpi for kpi, text in evidence.items() if len((text or "").strip()) > EVIDENCE_MAX_CHARS]
    if long_evidence:
        errors["kpi_stated"] = [ValidationError(
            "The evidence of %(name)s is %(length)s characters long: at most %(limit)s are taken. Shorten it.",
            params={"kpi": kpi.pk, "name": kpi.name, "length": f"{len(evidence[kpi].strip()):,}",
                    "limit": f"{EVIDENCE_MAX_CHARS:,}"}) for kpi in long_evidence]
    if errors:
        raise ValidationError(errors)


def kpi_percent_actual_errors(actuals: Mapping[KPI, Decimal | None]) -> list[ValidationError]:
    """An actual of a KPI measured in percent is between 0 and 100 (portfolio.calculations.kpi_percent_error); each
    refusal names its KPI (params "kpi": the API puts it on that row)."""
    errors = []
    for kpi, actual in actuals.items():
        message = portfolio_calculations.kpi_percent_error(name=kpi.name, unit=kpi.unit, what="actual", value=actual)
        if message:
            errors.append(ValidationError("%(message)s", params={"kpi": kpi.pk, "message": message}))
    return errors


def _ensure_percent_actuals(actuals: Mapping[KPI, Decimal | None]) -> None:
    """Refuse an actual of 250 or -5 for a KPI in percent before anything is written."""
    if errors := kpi_percent_actual_errors(actuals):
        raise ValidationError({"kpi_actuals": errors})


def _ensure_stated_not_negative(report_value: Decimal | None, stated: Mapping[KPI, Decimal | None]) -> None:
    """A stated value is money the initiative delivered, at least 0 like every other amount Tollgate takes (an
    expected value, a value per unit): a negative one would quietly lower the quarter's value on the dashboard. A KPI
    that got worse shows it through its actual, not through a negative stated amount."""
    errors: dict[str, list[str | ValidationError]] = {}
    if report_value is not None and report_value < 0:
        errors["stated_value"] = [f"The owner-stated value is {format_money(report_value)}: a stated value is at "
                                  f"least {format_money(0)}. Leave it empty when the KPIs express the value."]
    negative = [kpi for kpi, amount in stated.items() if amount is not None and amount < 0]
    if negative:
        errors["kpi_stated"] = [ValidationError(
            "The stated value of %(name)s is %(amount)s: a stated value is at least %(least)s.",
            params={"kpi": kpi.pk, "name": kpi.name, "amount": format_money(stated[kpi]), "least": format_money(0)})
            for kpi in negative]
    if errors:
        raise ValidationError(errors)


# The most a value report's money may be: what a money field holds (14 digits, 2 after the point).
MONEY_LIMIT = Decimal("999999999999.99")


def _ensure_value_recordable(report: ValueReport) -> None:
    """A KPI's value is its change x outcomes x value per unit: figures each within their own limits can still make
    a value no page, total or board pack can hold (a 16-digit outcome count, say). Refused here, naming what to check,
    rather than saved and shown as an absurd sum."""
    entries = {a.kpi_id: a for a in report.actuals.all()}
    total, messages = Decimal("0"), []
    for kpi in report.initiative.kpis.order_by("pk"):
        entry = entries.get(kpi.pk)
        worth = calculations.kpi_value(
            kpi.kind, baseline=kpi.baseline, actual=getattr(entry, "actual", None), direction=kpi.direction,
            value_per_unit=kpi.value_per_unit, outcomes=report.outcome_count,
            stated_value=getattr(entry, "stated_value", None), evidence=getattr(entry, "evidence", ""))
        if worth.amount is None:
            continue
        total += worth.amount
        if abs(worth.amount) > MONEY_LIMIT:
            messages.append(f"KPI “{kpi.name}” would be worth {format_money(worth.amount)} this period, beyond the "
                            f"{format_money(MONEY_LIMIT)} Tollgate records: check its actual, its value per unit and "
                            "the outcome count.")
    if not messages and abs(total) > MONEY_LIMIT:
        messages.append(f"The KPIs together would be worth {format_money(total)} this period, beyond the "
                        f"{format_money(MONEY_LIMIT)} Tollgate records: check the actuals and the outcome count.")
    if messages:
        raise ValidationError({"kpi_actuals": messages})


def _kpi_entry_save(row: KpiActual, values: Mapping[str, Any]) -> bool:
    """Write one KPI's entry: the given parts change, the others stay; an entry left with nothing is removed.
    Returns whether anything was written."""
    changed = [f for f, v in values.items() if getattr(row, f) != v]
    after = {f: values.get(f, getattr(row, f)) for f in ("actual", "stated_value", "evidence")}
    if after["actual"] is None and after["stated_value"] is None and not after["evidence"]:
        if row.pk is not None:
            row.delete()  # as it was: the deletion's audit entry records the figures removed
            return True
        return False
    for field_name in changed:
        setattr(row, field_name, values[field_name])
    if row.pk is None or changed:
        row.full_clean(exclude=["report", "kpi"])
        row.save()
        return True
    return False


def _submission_errors(report: ValueReport) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    entries = {a.kpi_id: a for a in report.actuals.all()}
    kpis = list(report.initiative.kpis.order_by("pk"))
    missing = [k.name for k in kpis if k.kind != KpiKind.STATED and getattr(entries.get(k.pk), "actual", None) is None]
    if missing:
        errors["kpi_actuals"] = [f"Give an actual for every KPI; missing: {', '.join(missing)}."]
    # A draft saved before percent KPIs were bounded (or whose KPI became one since) is not submitted with such an
    # actual either.
    out_of_range = kpi_percent_actual_errors({k: entries[k.pk].actual for k in kpis if k.pk in entries})
    if out_of_range:
        errors.setdefault("kpi_actuals", []).extend(error.message % error.params for error in out_of_range)
    stated = [k for k in kpis if k.kind == KpiKind.STATED]
    unstated = [k for k in stated if getattr(entries.get(k.pk), "stated_value", None) is None]
    unevidenced = [k for k in stated if k not in unstated and not entries[k.pk].evidence.strip()]
    if unstated:
        errors.setdefault("kpi_stated", []).append("State the value of every stated KPI, with its evidence; "
                                                   f"missing: {', '.join(k.name for k in unstated)}.")
    if unevidenced:
        errors.setdefault("kpi_stated", []).append(
            f"A stated value needs its evidence; missing for: {', '.join(k.name for k in unevidenced)}.")
    if report.outcome_count is None:
        errors["outcome_count"] = ["Give the number of outcomes in the period."]
    if report.stated_value is not None and not report.stated_value_evidence.strip():
        errors["stated_value_evidence"] = ["A stated value needs its evidence."]
    return errors


@transaction.atomic
def value_report_submit(*, actor: Actor | None, report: ValueReport) -> ValueReport:
    """Submit for review: an actual for every measured KPI, a stated value with evidence for every stated KPI and the
    outcome count must be there (per-outcome KPIs are valued on it)."""
    report = _lock(report)
    _require(actor, "reviews.change_valuereport", report)
    if report.status != ReportStatus.DRAFT:
        raise ValidationError("This report is already submitted.")
    _ensure_owed(report)
    errors = _submission_errors(report)
    if errors:
        raise ValidationError(errors)
    # A draft saved before negative stated values were refused.
    _ensure_stated_not_negative(report.stated_value, {a.kpi: a.stated_value for a in report.actuals.select_related(
        "kpi").order_by("kpi_id")})
    _ensure_value_recordable(report)  # a draft saved before this check existed
    with set_actor(actor):
        report.status = ReportStatus.SUBMITTED
        report.submitted_by = actor
        # Whom it was submitted for is the owner of now: a later hand-over must not change what the report says.
        report.submitted_for = report.initiative.owner
        report.submitted_at = timezone.now()
        report.save(update_fields=["status", "submitted_by", "submitted_for", "submitted_at", "updated_at"])
    _authored(report, actor)
    owner = report.initiative.owner
    _audit(report, actor=actor, event="value_report_submitted",
           changes={"status": [ReportStatus.DRAFT, ReportStatus.SUBMITTED]},
           submitted_for_id=owner.pk, submitted_for=owner.get_full_name() or owner.get_username())
    _oversight_changed(report)
    _value_evidence_changed()
    return report


def _value_evidence_changed() -> None:
    """A submitted, reopened or judged report changes what the signals see: queue their computation (its task is
    sent when this transaction commits; one waiting run serves a morning of submissions)."""
    signal_run_submit(actor=None, trigger=SignalRunTrigger.REPORT)


def _oversight_changed(report: ValueReport) -> None:
    """Reported oversight hours are part of the initiative's actual TCO in the report's months."""
    tco_recompute(initiative_ids=[report.initiative_id],
                  months=calculations.months_of_period(report.cycle.period_start, report.cycle.period_end))


@transaction.atomic
def value_report_reopen(*, actor: Actor | None, report: ValueReport, reason: str) -> ValueReport:
    """Send a submitted report back to its owner with a reason. Not after a verdict: the verdict stands; not by
    someone who wrote it; not once its initiative ended (nobody could edit it again)."""
    report = _lock(report)
    _ensure_not_author(report, actor)
    _require(actor, "reviews.reopen_valuereport", report)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why the report is reopened; the owner reads it."})
    if message := too_long("The reason", reason, REOPEN_REASON_MAX_CHARS):
        raise ValidationError({"reason": message})
    if report.status != ReportStatus.SUBMITTED:
        raise ValidationError("Only a submitted report can be reopened.")
    if refused := not_reopenable_reason(report):
        raise ValidationError(refused)
    with set_actor(actor):
        report.status = ReportStatus.DRAFT
        report.submitted_by = None
        report.submitted_for = None
        report.submitted_at = None
        report.reopened_by = actor
        report.reopened_at = timezone.now()
        report.reopened_reason = reason
        report.save()
    _audit(report, actor=actor, event="value_report_reopened", reason=reason,
           changes={"status": [ReportStatus.SUBMITTED, ReportStatus.DRAFT]})
    _oversight_changed(report)
    _value_evidence_changed()
    _owners_notify(report, actor=actor, url=reverse("reviews:report_edit", args=[report.pk]),
                   message=notice_message(f"Your value report {report} was reopened{_by(actor)}: ", reason),
                   subject=f"Tollgate: value report {report} reopened")
    return report


def _by(actor: Actor | None) -> str:
    return f" by {actor.get_full_name() or actor.get_username()}" if actor is not None else ""


def _owners_notify(report: ValueReport, *, actor: Actor | None, message: str, url: str, subject: str) -> None:
    """Tell the owner and delegates of the report's initiative about a decision on it, in the app and by e-mail,
    with a link; never the actor."""
    people = [person for person in selectors.report_owners(report) if actor is None or person.pk != actor.pk]
    notices_send(notices=[Notice(user_id=p.pk, email=p.email, message=message, url=url) for p in people],
                 subject=subject)


def _sniff_error(extension: str, head: bytes) -> str | None:
    expected = ATTACHMENT_TYPES[extension]
    if expected is not None:
        return None if head.startswith(expected) else f"The file's content is not a .{extension} file."
    if b"\x00" in head:
        return f"The file's content is not a .{extension} text file."
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character may be cut at the end of the sniffed block; anything earlier is not UTF-8 text.
        if exc.start < len(head) - 3:
            return f"The file's content is not a .{extension} text file (UTF-8 expected)."
    return None


def attachment_too_large(size: int) -> str:
    """The refusal of a file over MAX_ATTACHMENT_BYTES, precise enough that a file just over reads as over: to the
    hundredth of a megabyte, or in bytes where even that rounds to the limit."""
    shown = f"{size / 1_048_576:.2f} MB"
    if shown == f"{MAX_ATTACHMENT_BYTES / 1_048_576:.2f} MB":
        shown = f"{size:,} bytes"
    return f"The file is {shown}; at most 10 MB ({MAX_ATTACHMENT_BYTES:,} bytes) is accepted."


@transaction.atomic
def attachment_add(*, actor: Actor | None, report: ValueReport, file: File) -> ReportAttachment:
    """Attach evidence: pdf, png, jpg, csv, xlsx, docx or txt, at most 10 MB, whose first bytes match its type."""
    report = _lock(report)
    _require(actor, "reviews.change_valuereport", report)
    if report.status != ReportStatus.DRAFT:
        raise ValidationError({"file": "Attachments can only be added to a draft."})
    if report.cycle.closed_at is not None:
        raise ValidationError({"file": f"The cycle {report.cycle} is closed: its drafts take no more attachments."})
    reason = not_owed_reason(report)
    if reason:
        raise ValidationError({"file": reason})
    original = PurePath(file.name or "").name
    extension = PurePath(original).suffix.lower().lstrip(".")
    if extension not in ATTACHMENT_TYPES:
        allowed = ", ".join(sorted(set(ATTACHMENT_TYPES) - {"jpeg"}))
        raise ValidationError({"file": f"Files of type .{extension or '?'} are not accepted; allowed: {allowed}."})
    size = file.size or 0
    if size > MAX_ATTACHMENT_BYTES:
        raise ValidationError({"file": attachment_too_large(size)})
    if size == 0:
        raise ValidationError({"file": "The file is empty."})
    file.seek(0)
    head = file.read(8192)
    file.seek(0)
    error = _sniff_error(extension, head)
    if error:
        raise ValidationError({"file": error})
    with set_actor(actor):
        attachment = ReportAttachment(report=report, original_name=original[:255], size=size, uploaded_by=actor)
        attachment.file.save(original, file, save=False)
        attachment.save()
    _authored(report, actor)
    return attachment


@transaction.atomic
def attachment_remove(*, actor: Actor | None, attachment: ReportAttachment) -> None:
    """Take evidence off a draft (a wrong file, an older version): what a reviewer will read is what the owner
    submits. A submitted report keeps its attachments, as it keeps its figures. The stored file goes once the removal
    is committed, so a removal rolled back loses nothing."""
    report = _lock(attachment.report)
    _require(actor, "reviews.change_valuereport", report)
    if report.status != ReportStatus.DRAFT:
        raise ValidationError({"attachments": "Attachments can only be removed from a draft; this report is "
                                              "submitted."})
    if report.cycle.closed_at is not None:
        raise ValidationError({"attachments": f"The cycle {report.cycle} is closed: its drafts can no longer be "
                                              "changed."})
    reason = not_owed_reason(report)
    if reason:
        raise ValidationError({"attachments": reason})
    attachment = ReportAttachment.objects.select_for_update().get(pk=attachment.pk, report=report)
    storage, name = attachment.file.storage, attachment.file.name
    with set_actor(actor):
        attachment.delete()
    _authored(report, actor)
    if name:
        transaction.on_commit(lambda: storage.delete(name))


# Verdicts ------------------------------------------------------------------------------------------------------------


SENTENCE_ENDS = (".", "!", "?", "…")


@transaction.atomic
def verdict_give(*, actor: Actor, report: ValueReport, decision: str, rationale: str) -> Verdict:
    """A reviewer's verdict on a submitted report. KILL also kills the initiative, in the same transaction: if the
    kill transition is refused, no verdict is recorded either. Nobody judges a report they submitted or edited."""
    report = _lock(report)
    _ensure_not_author(report, actor)
    _require(actor, "reviews.give_verdict", report)
    rationale = (rationale or "").strip()
    errors = {}
    if decision not in Decision.values:
        errors["decision"] = f"Choose one of: {', '.join(Decision.values)}."
    if not rationale:
        errors["rationale"] = "Give the rationale of the verdict."
    elif message := too_long("The rationale", rationale, RATIONALE_MAX_CHARS):
        errors["rationale"] = message
    if errors:
        raise ValidationError(errors)
    if report.status != ReportStatus.SUBMITTED:
        raise ValidationError("A verdict can only be given on a submitted report.")
    if Verdict.objects.filter(report=report).exists():
        raise ValidationError("A verdict was already given on this report.")
    with set_actor(actor):
        verdict = Verdict.objects.create(report=report, reviewer=actor, decision=decision, rationale=rationale)
    _audit(report, actor=actor, event="verdict", reason=rationale, changes={"verdict": [None, decision]},
           decision=decision)
    said, after = rationale, ""
    if decision == Decision.KILL:
        _kill_initiative(actor=actor, initiative=report.initiative, rationale=rationale)
        # A sentence follows the rationale: it ends with its own full stop ("Value far below cost." not "...cost The").
        # A rationale too long for the notice is cut, never the sentence ("...cost… The initiative was killed.").
        said, after = f"{rationale}{'' if rationale.endswith(SENTENCE_ENDS) else '.'}", " The initiative was killed."
    _value_evidence_changed()
    _owners_notify(report, actor=actor, url=reverse("reviews:report_detail", args=[report.pk]),
                   message=notice_message(f"Verdict on {report}{_by(actor)}: {verdict.get_decision_display()}: ",
                                          said, after),
                   subject=f"Tollgate: verdict on {report}: {verdict.get_decision_display()}")
    return verdict


def _kill_initiative(*, actor: Actor, initiative: Initiative, rationale: str) -> None:
    """The kill transition of a kill verdict; the verdict's notice tells the owner, so the transition's does not."""
    try:
        governance_services.initiative_transition(actor=actor, initiative=initiative, transition="kill",
                                                  reason=rationale, notify=False)
    except governance_services.TransitionError as exc:
        raise ValidationError({"decision": f"The initiative cannot be killed: {exc}"}) from exc


# Reminders and escalations -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sent:
    report_id: int
    kind: str
    recipients: tuple[str, ...]


def _send_once(report: ValueReport, kind: str, people: list, subject: str, body: str, url: str) -> Sent | None:
    """Record the reminder, notify and e-mail, all or nothing; a (report, kind, due date) already recorded is skipped.

    The unique (report, kind, due date) row is written first in a savepoint: a second run (or a second worker racing
    this one) fails on it and sends nothing. If the e-mail fails, the row is rolled back and the next run retries.
    """
    emails = tuple(sorted({p.email for p in people if p.email}))
    try:
        with transaction.atomic():
            ReminderLog.objects.create(report=report, kind=kind, due_on=report.cycle.due_on, recipients=list(emails))
            for person in people:
                notification_create(user=person, message=subject, url=url)
            if emails:
                send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, list(emails))
    except IntegrityError:
        return None
    return Sent(report.pk, kind, emails)


def _reminder_kind(days_left: int, first_days: int, second_days: int) -> str | None:
    """The most urgent reminder due: a job that missed the first window sends only the second."""
    if days_left <= second_days:
        return ReminderKind.SECOND_REMINDER
    if days_left <= first_days:
        return ReminderKind.FIRST_REMINDER
    return None


def reminders_send(*, today: date | None = None) -> list[Sent]:
    """Remind owners and delegates of drafts due within the policies' first / second reminder days. Idempotent."""
    today = today or timezone.localdate()
    first_days = int(selectors.policy("reviews.first_reminder_days"))
    second_days = int(selectors.policy("reviews.second_reminder_days"))
    sent: list[Sent] = []
    for report in selectors.reports_awaiting_reminder(today):
        days_left = (report.cycle.due_on - today).days
        kind = _reminder_kind(days_left, first_days, second_days)
        if kind is None or ReminderLog.objects.filter(report=report, kind=kind, due_on=report.cycle.due_on).exists():
            continue
        url = reverse("reviews:report_edit", args=[report.pk])
        subject = f"Value report due {report.cycle.due_on:%Y-%m-%d}: {report.initiative} ({report.cycle})"
        body = (
            f"The {report.cycle} value report of {report.initiative} is due on {report.cycle.due_on:%Y-%m-%d} "
            f"({days_left} days left). Give the KPI actuals, outcomes and adoption, and submit it:\n\n"
            f"{absolute_url(url)}\n"
        )
        result = _send_once(report, kind, selectors.report_owners(report), subject, body, url)
        if result:
            sent.append(result)
    return sent


def escalations_send(*, today: date | None = None) -> list[Sent]:
    """Escalate drafts overdue by more than the policy's days to the department head and the CoE reviewers, once."""
    today = today or timezone.localdate()
    days = int(selectors.policy("reviews.escalation_days"))
    reviewers = selectors.coe_reviewers()
    sent: list[Sent] = []
    for report in selectors.reports_to_escalate(today, days):
        head = report.initiative.department.head
        people = list({p.pk: p for p in ([head] if head and head.is_active else []) + reviewers}.values())
        if not people:
            continue  # nobody to escalate to yet: not recorded, so it goes out once a head or reviewer exists
        overdue = (today - report.cycle.due_on).days
        url = reverse("reviews:report_detail", args=[report.pk])
        owner = report.initiative.owner
        subject = f"Overdue value report: {report.initiative} ({report.cycle}), {overdue} days late"
        body = (
            f"The {report.cycle} value report of {report.initiative} (owner {owner.get_full_name() or owner}) was due "
            f"on {report.cycle.due_on:%Y-%m-%d} and is {overdue} days overdue.\n\n{absolute_url(url)}\n"
        )
        result = _send_once(report, ReminderKind.ESCALATION, people, subject, body, url)
        if result:
            sent.append(result)
    return sent
