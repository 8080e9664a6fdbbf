"""What other apps tell governance, registered at start-up so governance imports none of them.

The reviews app owns value reports, which carry the evidence governance needs: whether an initiative reached its
minimum viable scale (the pilot -> production guard), how many users it reported (sprawl savings), how many reports
a reviewer still has to judge (the review queue page) and, for the signals, every initiative's latest value figures
and overdue reports at once, and which audit entries are about an initiative's reports. It also owns the in-app
notifications and the e-mail to owners, which the signals use. `reviews.apps.ReviewsConfig.ready()` registers one
provider of each; without the reviews app there is simply no evidence (no scale reached, no reported users, nothing
waiting, no value reports) and nobody is notified.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Protocol

from governance.signals.rules.facts import ReviewFacts

if TYPE_CHECKING:
    from django.db.models import Expression, Q, QuerySet, Subquery

    from portfolio.models import Initiative
    from tollgate.types import Viewer


class ScaleEvidence(Protocol):
    def __call__(self, *, initiative: Initiative) -> str | None: ...


class ReportedUsers(Protocol):
    def __call__(self) -> Subquery | Expression: ...


class InitiativeAuditQ(Protocol):
    def __call__(self, *, initiative_ids: QuerySet | list[int], decisions_only: bool) -> Q: ...


class ReviewerBacklog(Protocol):
    def __call__(self, *, user: Viewer) -> int: ...


class ReviewFactsProvider(Protocol):
    def __call__(self, *, initiative_ids: Collection[int] | None, reports: int, today: date) -> dict[int, ReviewFacts]:
        ...


# The longest notice kept: an in-app notification's message holds this many characters (reviews.models.Notification).
NOTICE_MAX_CHARS = 500


def notice_message(before: str, said: str = "", after: str = "") -> str:
    """A notice whose middle, `said`, is a person's own words (a verdict's rationale, a reason): when the whole is
    longer than a notification holds, `said` is cut with an ellipsis, so the words the system puts around it (what
    happened, by whom, "The initiative was killed.") always arrive whole."""
    room = NOTICE_MAX_CHARS - len(before) - len(after)
    if len(said) > room:
        said = said[:max(room - 1, 0)].rstrip() + "…"
    return f"{before}{said}{after}"[:NOTICE_MAX_CHARS]


@dataclass(frozen=True)
class Notice:
    """One message to one person: shown in the app, and (when e-mail is on) gathered into one e-mail per person."""

    user_id: int
    email: str
    message: str
    url: str


class Notifier(Protocol):
    def __call__(self, *, notices: Sequence[Notice], subject: str, send_email: bool) -> int: ...


@dataclass
class Providers:
    """The registered provider of each kind of evidence (None: no app supplies it)."""

    scale_evidence: ScaleEvidence | None = None
    reported_users: ReportedUsers | None = None
    reviewer_backlog: ReviewerBacklog | None = None
    review_facts: ReviewFactsProvider | None = None
    notifier: Notifier | None = None
    initiative_audit_q: InitiativeAuditQ | None = None


providers = Providers()


def register_scale_evidence(provider: ScaleEvidence) -> None:
    """`provider(initiative=...)` describes the evidence that the minimum viable scale was reached, or returns None."""
    providers.scale_evidence = provider


def register_reported_users(provider: ReportedUsers) -> None:
    """`provider()` is a subquery expression of an initiative's (`OuterRef("pk")`) latest reported active users."""
    providers.reported_users = provider


def register_reviewer_backlog(provider: ReviewerBacklog) -> None:
    """`provider(user=...)` counts the reports waiting for this reviewer's verdict."""
    providers.reviewer_backlog = provider


def register_review_facts(provider: ReviewFactsProvider) -> None:
    """`provider(initiative_ids=..., reports=N, today=...)` gives, per initiative with any value report, its last N
    submitted reports' figures, its overdue reports and its minimum-viable-scale evidence, in a few queries for all."""
    providers.review_facts = provider


def register_notifier(provider: Notifier) -> None:
    """`provider(notices=..., subject=..., send_email=...)` notifies people in the app and, when asked, by e-mail;
    returns how many notices it wrote."""
    providers.notifier = provider


def register_initiative_audit_q(provider: InitiativeAuditQ) -> None:
    """`provider(initiative_ids=..., decisions_only=...)` selects the audit entries about those initiatives' value
    reports (with their KPI actuals, attachments and verdicts), or with `decisions_only` just the reports'
    submissions, reopenings and verdicts; the ids may be a subquery."""
    providers.initiative_audit_q = provider


def scale_evidence(initiative: Initiative) -> str | None:
    """One line describing why the initiative reached its minimum viable scale; None when nothing shows it."""
    provider = providers.scale_evidence
    return provider(initiative=initiative) if provider else None


def reported_users() -> Subquery | Expression | None:
    """An expression to annotate initiatives with their latest reported active users; None when nobody reports."""
    provider = providers.reported_users
    return provider() if provider else None


def reviewer_backlog(user: Viewer) -> int | None:
    """Reports awaiting the user's verdict; None when no app supplies reports (the page then says nothing)."""
    provider = providers.reviewer_backlog
    return provider(user=user) if provider else None


def review_facts(*, initiative_ids: Collection[int] | None, reports: int, today: date) -> dict[int, ReviewFacts]:
    """Value-report facts by initiative id; empty when no app supplies value reports."""
    provider = providers.review_facts
    return provider(initiative_ids=initiative_ids, reports=reports, today=today) if provider else {}


def notify(*, notices: Sequence[Notice], subject: str, send_email: bool = True) -> int:
    """Tell people (in the app, and by e-mail); nothing happens when no app delivers notifications."""
    provider = providers.notifier
    return provider(notices=notices, subject=subject, send_email=send_email) if provider and notices else 0


def initiative_audit_q(*, initiative_ids: QuerySet | list[int], decisions_only: bool = False) -> Q | None:
    """Audit entries about the initiatives' value reports; None when no app supplies value reports."""
    provider = providers.initiative_audit_q
    return provider(initiative_ids=initiative_ids, decisions_only=decisions_only) if provider else None
