"""The facts the rules read, as plain values: selectors (and, for value reports, the reviews app through
governance.evidence) build them in bulk; the rules never touch the database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal


@dataclass(frozen=True)
class InitiativeFacts:
    """An initiative that still runs or is planned (not retired, rejected or killed)."""

    id: int
    external_id: str
    name: str
    url: str
    stage: str
    start_date: date | None
    pilot_since: date | None  # when it entered pilot (start_date when it was imported as a pilot); None otherwise
    owner_name: str
    owner_active: bool
    active_delegates: int  # delegates named on the initiative or the owner's profile, with an active account
    case_tco_monthly: Decimal | None  # the approved business case's monthly TCO (else as it stands); None without one
    declared_monthly_cost: Decimal
    # Whether pilot_since is the pilot's own start (its start_pilot transition), not its start date standing in for
    # it (imported as a pilot): the evidence says which.
    pilot_start_recorded: bool = True


@dataclass(frozen=True)
class ReportFacts:
    """One submitted value report: the quarter's figures as the value report computes them."""

    quarter: str
    url: str
    value: Decimal | None
    cost: Decimal | None
    value_per_dollar: Decimal | None
    targets_met: int
    targets_missed: int


@dataclass(frozen=True)
class OverdueReport:
    quarter: str
    due_on: date
    days_overdue: int
    url: str


@dataclass(frozen=True)
class ReviewFacts:
    """An initiative's value evidence: submitted reports newest first, reports overdue, and the line describing
    its minimum-viable-scale evidence (None when no report shows it)."""

    reports: tuple[ReportFacts, ...] = ()
    overdue: tuple[OverdueReport, ...] = ()
    scale_evidence: str | None = None


NO_REVIEWS = ReviewFacts()


@dataclass(frozen=True)
class QuarterCost:
    """An initiative's cost (TCO) of one quarter: its total, whether its run cost came from cost records, and whether
    any part of it is the business case's estimate (oversight or maintenance without records, say)."""

    quarter: str
    total: Decimal
    has_records: bool
    url: str
    partly_estimated: bool = False
    # The quarter's months the total counts: a month nobody read is left out (its cost is unknown), and `unread_note`
    # says so ("2 of 3 months read (...)"); the business case is then compared for those months only.
    months: int = 3
    unread_note: str = ""


@dataclass(frozen=True)
class PoolFacts:
    """A licence pool's seats in its latest month of seat data."""

    id: int
    tool: str
    url: str
    initiative_ids: tuple[int, ...]
    month: date
    purchased: int
    active_30d: int
    active_in_window: int  # seats whose holder was active within the inactivity window
    assigned_in_window: int  # seats assigned within the window whose holder has not been active yet
    price_per_seat: Decimal


@dataclass(frozen=True)
class CatalogueModel:
    """A model of the catalogue with its list prices (USD per 1M tokens) and the acceptable cheaper substitute an
    administrator marked."""

    name: str
    tier: str
    input_price: Decimal | None
    output_price: Decimal | None
    url: str
    substitute: CatalogueModel | None = None


@dataclass(frozen=True)
class TokenUsage:
    """Tokens an initiative sent to one model in a month, and the catalogue model they were matched to."""

    model: str  # as the provider reported it
    input_tokens: int  # cached input included, as providers count it
    output_tokens: int
    cached_tokens: int
    catalogue: CatalogueModel | None
    url: str


@dataclass(frozen=True)
class ClusterFacts:
    id: int
    title: str
    url: str
    initiative_ids: tuple[int, ...]
    external_ids: tuple[str, ...]
    monthly_spend: Decimal
    estimated_saving: Decimal
    basis: str
