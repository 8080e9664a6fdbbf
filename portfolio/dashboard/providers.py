"""What the apps built on portfolio add to the dashboard, registered at start-up so portfolio imports none of them.

The reviews app supplies the value each initiative reported for a quarter; governance supplies the kill and scale
candidates (its signals), the sprawl clusters and the quarter's decisions. Without a provider the dashboard shows the
figure as not available, never as zero.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Protocol

from django.core.cache import cache
from django.db.models import Model
from django.db.models.signals import post_delete, post_save

from portfolio.calculations import Quarter
from portfolio.costs.calculations import CostDataReading


@dataclass(frozen=True)
class ReportedValue:
    """One initiative's value report for a quarter, reduced to what the portfolio adds up."""

    initiative_id: int
    value: Decimal | None
    outcomes: int | None
    cost: Decimal | None
    cost_is_actual: bool  # the run cost comes from cost records (not the business case's estimate)
    url: str
    # Any part of the cost is the business case's estimate (oversight or maintenance without records included):
    # the dashboard's `*`, the same mark as the initiative page's estimated cells.
    cost_partly_estimated: bool = False
    # The months it ran that no cost source read: left out of `cost` (costs.selectors.tco_months_counted).
    cost_unread: tuple[date, ...] = ()


@dataclass(frozen=True)
class Candidate:
    """A kill or scale candidate (an open signal) with the evidence a board member can check."""

    kind: str  # "kill" or "scale"
    type: str
    title: str
    initiative_ids: tuple[int, ...]
    initiatives: tuple[str, ...]
    severity: str
    monthly_saving: Decimal | None
    evidence: str
    url: str


@dataclass(frozen=True)
class SprawlRow:
    title: str
    initiatives: tuple[str, ...]
    department_ids: tuple[int, ...]
    monthly_spend: Decimal
    monthly_saving: Decimal
    basis: str
    url: str
    # An open cluster's: the share of pairs right among clusters of its score on labelled inventories nobody tuned
    # on, so a saving is read with how often such a cluster was real; None once confirmed, or where not measured.
    right_elsewhere: float | None = None


@dataclass(frozen=True)
class SprawlTrack:
    """How often reviewers found the sprawl detector right in the likely clusters they decided: the figure that says
    how far to trust the clusters listed beside it."""

    decided: int
    pairs: int
    right: int
    precision: float | None  # right / pairs; None before any decision
    url: str  # the page with the whole record
    list_url: str = ""  # the page listing every cluster, where a capped table sends its reader


@dataclass(frozen=True)
class Decision:
    """An approval, rejection, kill or verdict taken in the quarter, for the board pack."""

    when: str
    what: str
    initiative: str
    department_id: int | None
    by: str
    reason: str
    url: str


@dataclass(frozen=True)
class QuarterValueSet:
    values: dict[int, ReportedValue]
    url: str  # the page listing the reports
    # Reports of the quarter's cycle still owed (drafts of running initiatives in a cycle not closed) and when they
    # are due: value is a sum, so while any is owed the quarter's value is not yet comparable with a finished one.
    outstanding: int = 0
    due_on: date | None = None


@dataclass(frozen=True)
class CandidateSet:
    """The most severe candidates of each kind (at most `TOP_CANDIDATES`) and how many there are in all."""

    candidates: list[Candidate]
    url: str  # the page listing the signals
    kill_count: int = 0
    scale_count: int = 0
    # The signals page filtered to the signals each count counts (empty: `url`), so a click on a count lists them.
    kill_url: str = ""
    scale_url: str = ""


class QuarterValues(Protocol):
    # `reading`: the cost data's months as the caller read them (costs.selectors.cost_data_reading), else read there.
    def __call__(self, *, quarter: Quarter, initiative_ids: Iterable[int] | None,
                 reading: CostDataReading | None = None) -> QuarterValueSet: ...


TOP_CANDIDATES = 20  # per kind: the dashboard and the board pack show the top; the signals page lists them all


# `limit` None: every one (a CSV export carries all the rows of its list, not the page's top).
class Candidates(Protocol):
    def __call__(self, *, department_id: int | None, limit: int | None = TOP_CANDIDATES) -> CandidateSet: ...


class SprawlRows(Protocol):
    def __call__(self, *, department_id: int | None, limit: int | None = TOP_CANDIDATES) -> list[SprawlRow]: ...


class SprawlTrackRecord(Protocol):
    def __call__(self) -> SprawlTrack: ...


class Decisions(Protocol):
    def __call__(self, *, quarter: Quarter, department_id: int | None) -> list[Decision]: ...


class DataVersion(Protocol):
    def __call__(self) -> tuple: ...


@dataclass
class Providers:
    versions: list[DataVersion] = field(default_factory=list)
    quarter_values: QuarterValues | None = None
    candidates: Candidates | None = None
    sprawl: SprawlRows | None = None
    sprawl_track: SprawlTrackRecord | None = None
    decisions: list[Decisions] = field(default_factory=list)


providers = Providers()


def register_quarter_values(provider: QuarterValues) -> None:
    providers.quarter_values = provider


def register_candidates(provider: Candidates) -> None:
    providers.candidates = provider


def register_sprawl(provider: SprawlRows, *, track_record: SprawlTrackRecord | None = None) -> None:
    providers.sprawl = provider
    providers.sprawl_track = track_record


def register_decisions(provider: Decisions) -> None:
    """Several apps decide (governance approves, reviews gives verdicts): each registers its own."""
    if provider not in providers.decisions:
        providers.decisions.append(provider)


def register_data_version(provider: DataVersion, *, models: Iterable[type[Model]] = ()) -> None:
    """`provider()` returns a few cheap aggregates (latest change, row count) of the data an app supplies to the
    dashboard; the dashboard's cache holds while every app's answer stays the same. A save or delete of one of
    `models` (rows edited one by one, and the runs whose end marks a bulk write) refreshes the dashboard at once."""
    if provider not in providers.versions:
        providers.versions.append(provider)
    watch(*models)


# The data version --------------------------------------------------------------------------------------------------
# Reading the fingerprint costs a dozen aggregate queries, more than serving a cached page; so it is kept in the cache
# for VERSION_SECONDS and forgotten the moment a watched model is saved or deleted, or a service that writes in bulk
# says so (data_changed). A bulk write nobody reports is seen within VERSION_SECONDS.

VERSION_KEY = "dashboard:data-version"
VERSION_SECONDS = 30


def data_changed(*_: object, **__: object) -> None:
    """Forget the data version; a receiver for post_save and post_delete. A page read by another connection before
    the change's transaction commits may keep the old version until it expires (VERSION_SECONDS): no callback is
    queued on commit, so the jobs' own on-commit tasks stay the only ones (and a loop of saves adds none)."""
    cache.delete(VERSION_KEY)


def watch(*models: type[Model]) -> None:
    """Refresh the dashboard whenever a row of `models` is saved or deleted. Not for tables deleted in bulk: a delete
    receiver makes Django fetch every row it deletes."""
    for model in models:
        uid = f"dashboard.data_changed.{model._meta.label_lower}"
        post_save.connect(data_changed, sender=model, dispatch_uid=uid, weak=False)
        post_delete.connect(data_changed, sender=model, dispatch_uid=uid, weak=False)
