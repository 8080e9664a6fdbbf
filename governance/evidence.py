"""What other apps tell governance, registered at start-up so governance imports none of them.

The reviews app owns value reports, which carry the evidence governance needs: whether an initiative reached its
minimum viable scale (the pilot -> production guard), how many users it reported (sprawl savings) and how many reports
a reviewer still has to judge (the review queue page). `reviews.apps.ReviewsConfig.ready()` registers one provider of
each; without the reviews app there is simply no evidence (no scale reached, no reported users, nothing waiting).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from django.db.models import Expression, Subquery

    from portfolio.models import Initiative
    from tollgate.types import Viewer



class ScaleEvidence(Protocol):
    def __call__(self, *, initiative: Initiative) -> str | None: ...


class ReportedUsers(Protocol):
    def __call__(self) -> Subquery | Expression: ...


class ReviewerBacklog(Protocol):
    def __call__(self, *, user: Viewer) -> int: ...


@dataclass
class Providers:
    """The registered provider of each kind of evidence (None: no app supplies it)."""

    scale_evidence: ScaleEvidence | None = None
    reported_users: ReportedUsers | None = None
    reviewer_backlog: ReviewerBacklog | None = None


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
