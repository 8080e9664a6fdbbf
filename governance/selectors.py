"""Reads of governance: policy values, the intake panel (scores, quorum), the reviewer queue, transitions a user
may make, and the audit trail."""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from auditlog.models import LogEntry
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models import Count, Exists, F, IntegerField, Max, Model, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.text import capfirst

from governance import calculations, evidence
from governance.choices import AuditEvent
from governance.lifecycle import TRANSITIONS, Transition, transitions_from
from governance.models import (
    DuplicatePairDecision,
    IntakeScore,
    IntakeSubmission,
    Policy,
    RubricCriterion,
    SprawlCluster,
    SprawlClusterMember,
)
from governance.policies import BY_KEY, DEFINITIONS, PolicyDefinition
from portfolio.calculations import Quarter
from portfolio.choices import Stage
from portfolio.dashboard.providers import Decision
from portfolio.models import KPI, BusinessCase, Initiative, LicencePool, Profile
from portfolio.models.base import ShapedDecimalField, price_field
from portfolio.selectors import audit_entries_of_initiatives
from tollgate.formatting import format_money, format_score, format_unit_price
from tollgate.roles import Role, may
from tollgate.types import Viewer

User = get_user_model()

HISTORY_LIMIT = 20


# Policies ------------------------------------------------------------------------------------------------------------


def _typed(definition: PolicyDefinition, value: Decimal) -> int | Decimal:
    return int(value) if definition.kind == "int" else value


def policy_value(key: str) -> int | Decimal:
    """The threshold in force: the administrator's value, or the declared default. Int policies return an int."""
    definition = BY_KEY[key]  # a KeyError here is a programming error: the key is not declared
    stored = Policy.objects.filter(key=key).values_list("value", flat=True).first()
    return _typed(definition, definition.default if stored is None else stored)


def ingestion_grace_days() -> int:
    """Days a cost source's read may be overdue before it is late (portfolio's ingestion health reads it through
    portfolio.evidence, registered in GovernanceConfig.ready())."""
    return int(policy_value("ingestion.grace_days"))


def policy_values(*keys: str) -> dict[str, int | Decimal]:
    """Several thresholds in force at once (one query), as policy_value gives each."""
    definitions = [BY_KEY[key] for key in keys]
    stored = dict(Policy.objects.filter(key__in=keys).values_list("key", "value"))
    return {d.key: _typed(d, stored.get(d.key, d.default)) for d in definitions}


@dataclass
class PolicyRow:
    definition: PolicyDefinition
    value: int | Decimal
    is_default: bool
    updated_by: Any = None
    updated_at: Any = None

    @property
    def key(self) -> str:
        return self.definition.key

    @property
    def default(self) -> int | Decimal:
        return _typed(self.definition, self.definition.default)


def policy_rows() -> list[PolicyRow]:
    """Every declared policy with its value in force and who last changed it: one query."""
    stored = {p.key: p for p in Policy.objects.select_related("updated_by")}
    rows = []
    for definition in DEFINITIONS:
        policy = stored.get(definition.key)
        value = definition.default if policy is None else policy.value
        rows.append(PolicyRow(definition, _typed(definition, value), policy is None,
                              policy.updated_by if policy else None, policy.updated_at if policy else None))
    return rows


# Rubric and intake panel ---------------------------------------------------------------------------------------------


def rubric_criteria(*, active_only: bool = True) -> QuerySet[RubricCriterion]:
    queryset = RubricCriterion.objects.order_by("order", "name")
    return queryset.filter(active=True) if active_only else queryset


def _prefetched_rounds(initiative: Initiative) -> list[IntakeSubmission] | None:
    """The initiative's rounds when they were read with it (portfolio's initiative_detail_queryset), else None."""
    return getattr(initiative, "_prefetched_objects_cache", {}).get("submissions")


def current_submission(initiative: Initiative) -> IntakeSubmission | None:
    """The latest submission round of the initiative, or None if it was never submitted (no query when the rounds
    were read with the initiative: its page asks for it once per role check)."""
    rounds = _prefetched_rounds(initiative)
    if rounds is not None:
        return max(rounds, key=lambda submission: submission.round, default=None)
    return IntakeSubmission.objects.filter(initiative_id=initiative.pk).order_by("-round").first()


@dataclass
class ReviewerScores:
    reviewer: Any
    scores: dict[int, IntakeScore]  # criterion id -> score
    weighted_score: Decimal | None  # None until every active criterion is scored
    cells: list[IntakeScore | None] = field(default_factory=list)  # in the order of the panel's criteria
    # Why this scoring no longer counts ("now its delegate"): the reviewer became the owner or a delegate after
    # scoring, and nobody is an independent reviewer of what they own or act for. Empty while it counts.
    not_counted: str = ""

    @property
    def complete(self) -> bool:
        return self.weighted_score is not None

    @property
    def counts(self) -> bool:
        return self.complete and not self.not_counted


@dataclass
class IntakePanel:
    """Where the current round of an intake stands: who scored what, the weighted score and the quorum."""

    submission: IntakeSubmission | None
    criteria: list[RubricCriterion]
    reviewers: list[ReviewerScores] = field(default_factory=list)
    weighted_score: Decimal | None = None
    quorum: int = 2
    threshold: Decimal = Decimal("3")

    @property
    def complete_count(self) -> int:
        """Complete scorings of reviewers still independent of the initiative: those the quorum counts."""
        return sum(1 for r in self.reviewers if r.counts)

    @property
    def quorum_met(self) -> bool:
        return self.complete_count >= self.quorum

    @property
    def total_weight(self) -> Decimal:
        return sum((c.weight for c in self.criteria), Decimal("0"))

    def scores_of(self, user: Viewer) -> dict[int, IntakeScore]:
        return next((r.scores for r in self.reviewers if r.reviewer.pk == user.pk), {})


def intake_panel(initiative: Initiative) -> IntakePanel:
    """The current round's scores, per reviewer and weighted, with the quorum and threshold in force.

    Only independent reviewers can score (the service refuses the others), but one may become the owner or a
    delegate afterwards (a hand-over, a delegate added while in review): that scoring is shown, with the reason,
    and no longer counts towards the quorum or the weighted score. Constant number of queries: submission,
    criteria, scores (with reviewers), the initiative's delegates and its owner's, two policies.
    """
    submission = current_submission(initiative)
    criteria = list(rubric_criteria())
    panel = IntakePanel(submission, criteria, quorum=int(policy_value("intake.quorum")),
                        threshold=Decimal(policy_value("intake.approval_score")))
    if submission is None:
        return panel
    weights = {c.pk: c.weight for c in criteria}
    by_reviewer: dict[int, ReviewerScores] = {}
    for score in submission.scores.select_related("reviewer").order_by("reviewer__last_name", "reviewer_id"):
        entry = by_reviewer.setdefault(score.reviewer_id, ReviewerScores(score.reviewer, {}, None))
        if score.criterion_id in weights:
            entry.scores[score.criterion_id] = score
    relations = _relations_to(initiative)
    authors = _round_authors_of_page(initiative, submission)
    for reviewer_id, entry in by_reviewer.items():
        entry.weighted_score = calculations.reviewer_weighted_score(
            {c: s.score for c, s in entry.scores.items()}, weights
        )
        entry.cells = [entry.scores.get(c.pk) for c in criteria]
        if reviewer_id in relations:
            entry.not_counted = f"no longer counts: {relations[reviewer_id]}"
        elif reviewer_id in authors:
            entry.not_counted = f"does not count: {authors[reviewer_id]}"
    panel.reviewers = list(by_reviewer.values())
    panel.weighted_score = calculations.panel_weighted_score(r.weighted_score for r in panel.reviewers if r.counts)
    return panel


def _relations_to(initiative: Initiative) -> dict[int, str]:
    """Who owns the initiative or acts for it, and how, by user id (tollgate.roles' relations, in two queries for
    everyone rather than two per reviewer)."""
    relations: dict[int, str] = {}
    for user_id in Profile.objects.filter(user_id=initiative.owner_id).values_list("delegates", flat=True):
        if user_id is not None:
            relations[user_id] = "now the owner's delegate"
    for user_id in initiative.delegates.values_list("pk", flat=True):
        relations[user_id] = "now a delegate of the initiative"
    relations[initiative.owner_id] = "now the initiative's owner"
    return relations


# Who wrote a round: whoever submitted it, or edited the intake while it was under review, is not independent of it.
ROUND_SUBMITTED = "submitted this round for the owner"
ROUND_EDITED = "edited the intake during this round"


def _field_changes_q() -> Q:
    """Field changes (auditlog's own rows, an import's included), not a service's explicit event: a transition, a
    score or use cases set by a reviewer are decisions about the intake, not writing of it."""
    return Q(additional_data__isnull=True) | ~Q(additional_data__has_key="event")


def intake_round_authors(initiative: Initiative, *, submission: IntakeSubmission | None = None) -> dict[int, str]:
    """Who wrote the initiative's current round, by user id, and how (ROUND_SUBMITTED, ROUND_EDITED): the person who
    submitted it (often a delegate, for the owner) and whoever changed the initiative, its business case or KPIs
    between the submission and the end of the round, from the audit trail. Like a value report's authors, they may
    not score the round (their scores do not count) nor approve, reject or send it back, whatever their relation to
    the initiative is now: removing a delegation does not make its delegate independent of what they submitted.
    Two queries (one when `submission` is given)."""
    if submission is None:
        submission = current_submission(initiative)
    if submission is None:
        return {}
    types = ContentType.objects.get_for_models(Initiative, BusinessCase, KPI)
    entries = LogEntry.objects.filter(_field_changes_q(), actor__isnull=False, timestamp__gte=submission.submitted_at)
    if submission.closed_at is not None:
        entries = entries.filter(timestamp__lte=submission.closed_at)
    entries = entries.filter(
        Q(content_type=types[Initiative], object_id=initiative.pk)
        | Q(initiative_link__initiative_id=initiative.pk, content_type__in=[types[BusinessCase], types[KPI]]))
    authors = {actor_id: ROUND_EDITED for actor_id in entries.order_by().values_list("actor_id", flat=True).distinct()}
    if submission.submitted_by_id is not None:
        authors[submission.submitted_by_id] = ROUND_SUBMITTED
    return authors


def intake_round_written_by(initiative: Initiative, user: Viewer) -> str:
    """How the user wrote the intake's open round ("you submitted this round for the owner"), or "" when they did not
    or no round is open (tollgate.roles.wrote_the_intake_round)."""
    if not user.is_authenticated or initiative.stage != Stage.IN_REVIEW:
        return ""
    submission = current_submission(initiative)
    if submission is None or not submission.is_open:
        return ""
    how = _round_authors_of_page(initiative, submission).get(user.pk, "")
    return f"you {how}" if how else ""


def _round_authors_of_page(initiative: Initiative, submission: IntakeSubmission) -> dict[int, str]:
    """intake_round_authors, read once for a round read with its initiative (the page's one read of both: its panel
    and each transition's rule ask it); read afresh for any other."""
    if _prefetched_rounds(initiative) is None:
        return intake_round_authors(initiative, submission=submission)
    authors = getattr(submission, "_page_round_authors", None)
    if authors is None:
        authors = intake_round_authors(initiative, submission=submission)
        submission._page_round_authors = authors  # type: ignore[attr-defined]
    return authors


# Reviewer queue ------------------------------------------------------------------------------------------------------


def review_queue(*, user: Viewer) -> QuerySet[Initiative]:
    """Intakes in review still awaiting this reviewer's complete scoring in the current round.

    Initiatives the user owns or is delegate for are left out (segregation of duties), and so are rounds they
    submitted or edited (intake_round_authors). Annotated with
    `submitted_at` (of the current round), `reviewers_scored` (distinct reviewers with a score in the round)
    and `my_scored` (criteria this user scored). One query.
    """
    if not user.is_authenticated:
        return Initiative.objects.none()
    latest = IntakeSubmission.objects.filter(initiative=OuterRef("pk")).order_by("-round")
    active = RubricCriterion.objects.filter(active=True)
    mine = (
        IntakeScore.objects.filter(submission=OuterRef("current_submission_id"), reviewer=user,
                                   criterion__active=True)
        .order_by().values("submission").annotate(n=Count("pk")).values("n")
    )
    reviewers = (
        IntakeScore.objects.filter(submission=OuterRef("current_submission_id"))
        .order_by().values("submission").annotate(n=Count("reviewer", distinct=True)).values("n")
    )
    active_count = active.order_by().values("active").annotate(n=Count("pk")).values("n")
    return (
        Initiative.objects.filter(stage=Stage.IN_REVIEW)
        .exclude(owner=user)
        .exclude(delegates=user)
        .exclude(owner__profile__delegates=user)
        .annotate(
            current_submission_id=Subquery(latest.values("pk")[:1]),
            submitted_at=Subquery(latest.values("submitted_at")[:1]),
            current_round=Subquery(latest.values("round")[:1]),
        )
        .annotate(
            my_scored=Coalesce(Subquery(mine, output_field=IntegerField()), Value(0)),
            reviewers_scored=Coalesce(Subquery(reviewers, output_field=IntegerField()), Value(0)),
            criteria_count=Coalesce(Subquery(active_count, output_field=IntegerField()), Value(0)),
        )
        .filter(my_scored__lt=F("criteria_count"))
        .exclude(Exists(IntakeSubmission.objects.filter(initiative=OuterRef("pk"), closed_at__isnull=True,
                                                        submitted_by=user)))
        .exclude(Exists(_round_edits_by(user)))
        .select_related("department", "owner")
        .order_by("submitted_at", "pk")
    )


def _round_edits_by(user: Viewer) -> QuerySet[LogEntry]:
    """The user's changes to the outer initiative (or its business case or KPIs) since its current round was
    submitted (the outer query's `submitted_at`), as intake_round_authors finds them: for Exists."""
    types = ContentType.objects.get_for_models(Initiative, BusinessCase, KPI)
    return LogEntry.objects.filter(_field_changes_q(), actor=user, timestamp__gte=OuterRef("submitted_at")).filter(
        Q(content_type=types[Initiative], object_id=OuterRef("pk"))
        | Q(initiative_link__initiative_id=OuterRef("pk"), content_type__in=[types[BusinessCase], types[KPI]]))


# Transitions ---------------------------------------------------------------------------------------------------------


def available_transitions(user: Viewer, initiative: Initiative) -> list[Transition]:
    """Transitions from the initiative's stage that this user's role and relation to it allow.

    Guards are not evaluated here (the transition page shows them); a button may still lead to a refusal.
    """
    if not getattr(user, "is_authenticated", False):
        return []
    return [t for t in transitions_from(initiative.stage) if may(user, t.permission, initiative)]


# Audit trail ---------------------------------------------------------------------------------------------------------


def initiative_audit_q(initiative_ids: list[int] | QuerySet, *, decisions_only: bool = False) -> Q:
    """Entries about these initiatives (transitions and scores are written on the initiative itself), their business
    cases, KPIs and licence pools, and their value reports with actuals, attachments and verdicts; `decisions_only`
    keeps of the reports just their submissions, reopenings and verdicts (an initiative's history). The ids may be a
    subquery: the entries' links to their initiative (portfolio.AuditEntryInitiative) are read as a subquery too, so the
    filter costs one query however many match, and an entry about a record deleted since still matches."""
    types = ContentType.objects.get_for_models(Initiative, BusinessCase, KPI, LicencePool)
    ids = initiative_ids if isinstance(initiative_ids, QuerySet) else list(initiative_ids)
    # A record's entries name its initiative when they are written: a deleted KPI's entries still match.
    query = Q(content_type=types[Initiative], object_id__in=ids) | Q(
        pk__in=audit_entries_of_initiatives(ids), content_type__in=[types[m] for m in (BusinessCase, KPI, LicencePool)])
    query |= _duplicate_and_sprawl_decisions_q(ids)
    reports = evidence.initiative_audit_q(initiative_ids=ids, decisions_only=decisions_only)
    return query | reports if reports is not None else query


# A reviewer's decisions about the sprawl clusters an initiative is in (or was: a removed member's row stays).
SPRAWL_DECISION_EVENTS = (AuditEvent.SPRAWL_CONFIRMED, AuditEvent.SPRAWL_DISMISSED, AuditEvent.SPRAWL_MEMBER_REMOVED)


def _duplicate_and_sprawl_decisions_q(ids: list[int] | QuerySet) -> Q:
    """Entries of reviewers' decisions written on a pair or a cluster rather than on the initiative: its
    "duplicate of" / "not a duplicate" verdicts standing now (an undone one is deleted, its entries leave with it),
    and the confirmations, dismissals and member removals of the clusters it is or was in. Without them an
    initiative's history did not show the decisions a reviewer took about it."""
    types = ContentType.objects.get_for_models(DuplicatePairDecision, SprawlCluster)
    pairs = DuplicatePairDecision.objects.filter(Q(initiative_a_id__in=ids) | Q(initiative_b_id__in=ids))
    clusters = SprawlClusterMember.objects.filter(initiative_id__in=ids)
    return Q(content_type=types[DuplicatePairDecision], object_id__in=pairs.values("pk")) | Q(
        content_type=types[SprawlCluster], object_id__in=clusters.values("cluster_id"),
        additional_data__event__in=[str(e) for e in SPRAWL_DECISION_EVENTS])


# What an audit row is about, by kind of record (the audit page's "Record" filter): app_label.model of each.
AUDIT_RECORDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "initiatives": ("Initiatives, business cases, KPIs", ("portfolio.initiative", "portfolio.businesscase",
                                                          "portfolio.kpi")),
    "people": ("People and accounts", ("auth.user", "portfolio.profile", "axes.accessattempt", "axes.accesslog",
                                       "axes.accessfailurelog")),
    "reference": ("Departments, cost centers, vendors, models, licences", (
        "portfolio.department", "portfolio.costcenter", "portfolio.vendor", "portfolio.aimodel",
        "portfolio.licencepool")),
    "costs": ("Cost sources, allocation rules, rates, runs, forecast", (
        "portfolio.costsource", "portfolio.allocationrule", "portfolio.currencyrate", "portfolio.ingestionrun",
        "portfolio.costforecast")),
    "rules": ("Policies, rubric, use cases", ("governance.policy", "governance.rubriccriterion",
                                             "governance.usecase")),
    "sprawl": ("Sprawl clusters, duplicate decisions", ("governance.sprawlcluster",
                                                        "governance.duplicatepairdecision")),
    "signals": ("Signals", ("governance.signal",)),
    "reviews": ("Review cycles, value reports, verdicts", (
        "reviews.reviewcycle", "reviews.valuereport", "reviews.kpiactual", "reviews.reportattachment",
        "reviews.verdict")),
}


def audit_record_q(kind: str) -> Q:
    """Entries about one kind of record of AUDIT_RECORDS."""
    query = Q(pk__in=[])
    for label in AUDIT_RECORDS[kind][1]:
        app_label, model = label.split(".")
        query |= Q(content_type__app_label=app_label, content_type__model=model)
    return query


def audit_entries(*, user: Viewer | None) -> QuerySet[LogEntry]:
    """The whole audit trail, newest first; whoever may view it sees all of it."""
    return LogEntry.objects.select_related("actor", "content_type").order_by("-timestamp", "-pk")


def initiative_history(initiative: Initiative, limit: int = HISTORY_LIMIT) -> list[LogEntry]:
    """The latest entries about an initiative, its business case, KPIs and licence pools, and its value reports'
    submissions, reopenings and verdicts (constant queries)."""
    return list(audit_entries(user=None).filter(initiative_audit_q([initiative.pk], decisions_only=True))[:limit])


# An initiative's history in the business's words -----------------------------------------------------------------

# Bookkeeping columns: when a row was saved says nothing the entry's own time does not.
HIDDEN_HISTORY_FIELDS = frozenset({"id", "created_at", "updated_at"})
EMPTY = "—"
LONGEST_VALUE = 80


@dataclass(frozen=True)
class HistoryChange:
    """One field of an entry: its label and values as people read them; `before` is None where nothing came before
    (a creation lists what was entered)."""

    label: str
    before: str | None
    after: str


@dataclass(frozen=True)
class HistoryRow:
    when: datetime  # local time, to the minute
    who: str
    what: str
    changes: list[HistoryChange]
    reason: str


def initiative_history_rows(initiative: Initiative, limit: int = HISTORY_LIMIT) -> list[HistoryRow]:
    """The latest entries about an initiative, its business case and KPIs, as the history shows them (constant
    queries: one per kind of related record named in the changes)."""
    return history_rows(initiative_history(initiative, limit))


def history_rows(entries: list[LogEntry]) -> list[HistoryRow]:
    """Audit entries as rows in the business's words: field labels, choice labels, related records by name (never
    their ids), no relations seen from the other side and no bookkeeping fields, times to the minute, who by name
    and the reason when one was given."""
    planned = [(entry, _history_fields(entry)) for entry in entries]
    wanted = _referenced_ids((model_field, values) for _, fields in planned for _, model_field, values in fields)
    # A many-to-many change keeps each person as their account's text (their e-mail): read back as their name, in
    # the query that reads the people named by id (one query for people however they are named).
    people = {str(o) for _, fields in planned for _, model_field, values in fields
              if _is_m2m(values) and model_field is not None and model_field.related_model is User
              for o in values.get("objects", [])}
    names: dict[type[Model], dict[int, str]] = {}
    people_names: dict[str, str] = {}
    for model, ids in wanted.items():
        if model is User:
            found = list(User.objects.filter(Q(pk__in=ids) | Q(username__in=people)))
            people_names = {user.get_username(): _name(user) for user in found}
            names[model] = {user.pk: _name(user) for user in found if user.pk in ids}
        else:
            names[model] = {pk: _name(obj) for pk, obj in model._default_manager.in_bulk(ids).items()}
    if people and User not in wanted:
        people_names = {user.get_username(): _name(user) for user in User.objects.filter(username__in=people)}
    rows: list[HistoryRow] = []
    pending: list[HistoryChange] = []  # many-to-many additions, shown with the entry they belong to
    for position, (entry, fields) in enumerate(planned):
        explicit = bool(_explicit_event(entry))
        created = entry.action == LogEntry.Action.CREATE and not explicit
        changes = []
        for name, model_field, values in fields:
            change = _history_change(name, model_field, values, names, created=created, explicit=explicit,
                                     people=people_names)
            if change is not None:
                changes.append(change)
        if created:  # a registration lists its vendors and models as entered, not as "added"
            pending = [HistoryChange(c.label, None, c.after.removeprefix("added: ")) for c in pending]
        changes, pending = changes + pending, []
        data = entry.additional_data if isinstance(entry.additional_data, dict) else {}
        when = timezone.localtime(entry.timestamp).replace(second=0, microsecond=0)
        older = planned[position + 1][0] if position + 1 < len(planned) else None
        if (older is not None and not explicit and fields and all(_is_m2m(values) for _, _, values in fields)
                and _same_write(entry, older)):
            pending = changes  # the vendors or models set with the initiative: one row with its registration
            continue
        rows.append(HistoryRow(when=when, who=_actor_name(entry), what=_history_event(entry, data), changes=changes,
                               reason=str(data.get("reason") or "")))
    return rows


def _is_reference(model_field: Any) -> bool:
    return (model_field is not None and model_field.concrete and (model_field.many_to_one or model_field.one_to_one)
            and model_field.related_model is not None)


def _referenced_ids(changes: Iterable[tuple[Any, Any]]) -> dict[type[Model], set[int]]:
    """The ids that foreign-key changes ((model field or None, values) pairs) name, by related model: what the
    history and the audit trail read by name, one query per model."""
    wanted: dict[type[Model], set[int]] = {}
    for model_field, values in changes:
        if _is_reference(model_field) and isinstance(values, list | tuple):
            wanted.setdefault(model_field.related_model, set()).update(
                int(v) for v in values if isinstance(v, int | str) and str(v).isdigit())
    return wanted


def _is_m2m(values: Any) -> bool:
    return isinstance(values, dict) and values.get("type") == "m2m"


def _same_write(entry: LogEntry, other: LogEntry) -> bool:
    """Two entries of one save: same object, same person, the same minute."""
    return (entry.content_type_id == other.content_type_id and entry.object_pk == other.object_pk
            and entry.actor_id == other.actor_id
            and abs((entry.timestamp - other.timestamp).total_seconds()) < 60)


def _name(obj: Any) -> str:
    """A related record as people call it: a person by their name, anything else by its own text."""
    full_name = getattr(obj, "get_full_name", None)
    return (full_name() or obj.get_username()) if callable(full_name) else str(obj)


def _explicit_event(entry: LogEntry) -> str:
    data = entry.additional_data
    return str(data.get("event") or "") if isinstance(data, dict) else ""


def _actor_name(entry: LogEntry) -> str:
    actor = entry.actor
    if actor is not None:
        return actor.get_full_name() or actor.get_username()
    return entry.actor_email or "system"


def relations_seen_from_the_other_side(entry: LogEntry) -> frozenset[str]:
    """The relations other models hold to an entry's model (an initiative's cost records, its reports) where the
    entry records nothing about them: auditlog records each on a create as its empty manager
    ("portfolio.MonthlyCost.None"), which says nothing, so neither the history nor the audit trail shows them. A
    service's own event that names one with real values (a report's verdict: None → optimise) is shown."""
    model = entry.content_type.model_class() if entry.content_type_id else None
    if model is None:
        return frozenset()
    changes = entry.changes if isinstance(entry.changes, dict) else (entry.changes_dict or {})
    return frozenset(name for name in _reverse_relations(model) if name not in changes or _says_nothing(changes[name]))


@functools.cache
def _reverse_relations(model: type[Model]) -> frozenset[str]:
    """The relations other models hold to `model`, read once per model (the trail's CSV asks for every row)."""
    return frozenset(f.name for f in model._meta.get_fields() if f.auto_created and not f.concrete)


def _says_nothing(change: Any) -> bool:
    """Whether a recorded change holds only empty values or auditlog's repr of an empty manager."""
    values = change if isinstance(change, list | tuple) else [change]
    return all(value in (None, "None", "") or (isinstance(value, str) and value.endswith(".None")) for value in values)


def _history_fields(entry: LogEntry) -> list[tuple[str, Any, Any]]:
    """(key, its model field or None for a key that names none, values) of each change worth showing."""
    model = entry.content_type.model_class() if entry.content_type_id else None
    changes = entry.changes if isinstance(entry.changes, dict) else (entry.changes_dict or {})
    hidden = relations_seen_from_the_other_side(entry)
    shown: list[tuple[str, Any, Any]] = []
    for name, values in changes.items():
        if name in HIDDEN_HISTORY_FIELDS or name in hidden:
            continue
        model_field = None
        if model is not None:
            try:
                model_field = model._meta.get_field(name)
            except FieldDoesNotExist:
                model_field = None
        if model_field is not None and _is_reference(model_field) and model_field.related_model is Initiative:
            continue  # the initiative a business case or KPI belongs to: the history is about it already
        if model_field is not None and not model_field.concrete:
            continue  # a record on the other side (a report's verdict): the entry's event says what it was
        shown.append((name, model_field, values))
    return shown


def _history_change(name: str, model_field: Any, values: Any, names: dict[type[Model], dict[int, str]], *,
                    created: bool, explicit: bool, people: dict[str, str] | None = None) -> HistoryChange | None:
    label = capfirst(str(model_field.verbose_name)) if model_field is not None else capfirst(name.replace("_", " "))
    if isinstance(values, dict) and values.get("type") == "m2m":
        objects = ", ".join((people or {}).get(str(o), str(o)) for o in values.get("objects", []))
        verb = "added" if values.get("operation") == "add" else "removed"
        return HistoryChange(label, None, f"{verb}: {objects}" if objects else verb)
    if isinstance(values, list | tuple) and len(values) == 2:
        before, after = (_history_value(model_field, v, names) for v in values)
        if created or (explicit and before == EMPTY):  # what was entered, or a first score: no "before" to show
            return None if after == EMPTY else HistoryChange(label, None, after)
        return None if before == after else HistoryChange(label, before, after)
    return HistoryChange(label, None, _history_value(model_field, values, names))


def _history_value(model_field: Any, raw: Any, names: dict[type[Model], dict[int, str]]) -> str:
    """A value as auditlog or an explicit entry stored it, as people read it."""
    if raw is None or raw == "" or raw == "None":
        return EMPTY
    text = str(raw)
    if model_field is None:
        return _shortened(text)
    choices = dict(model_field.flatchoices) if getattr(model_field, "choices", None) else None
    if choices:
        return str({str(k): v for k, v in choices.items()}.get(text, text))
    if _is_reference(model_field):
        return names.get(model_field.related_model, {}).get(int(text), EMPTY) if text.isdigit() else _shortened(text)
    if isinstance(model_field, models.IntegerField) and text.lstrip("-").isdigit():
        return f"{int(text):,}"
    if isinstance(model_field, models.BooleanField):
        return "yes" if text in ("True", "true", "1") else "no"
    if isinstance(model_field, models.DateTimeField):
        moment = parse_datetime(text)
        if moment is None:
            return _shortened(text)
        if timezone.is_naive(moment):  # auditlog keeps them naive, in UTC
            moment = moment.replace(tzinfo=UTC)
        return f"{timezone.localtime(moment):%Y-%m-%d %H:%M}"
    if isinstance(model_field, models.DateField):
        return text[:10]
    if isinstance(model_field, models.DecimalField):
        try:
            amount = Decimal(text)
        except ArithmeticError:
            return _shortened(text)
        # Money columns (14 digits, 2 places: portfolio's money_field) read like money everywhere else.
        if (model_field.max_digits, model_field.decimal_places) == (14, 2):
            return format_money(amount)
        if isinstance(model_field, ShapedDecimalField) and (model_field.max_digits, model_field.decimal_places) == (
                price_field.max_digits, price_field.decimal_places):
            return format_unit_price(amount)  # a unit price (per outcome, per seat): money too, "$1.20"
        return _plain_decimal(amount)
    if isinstance(model_field, models.JSONField):
        try:
            value = json.loads(text) if isinstance(raw, str) else raw
        except ValueError:
            return _shortened(text)
        if isinstance(value, list):
            return _shortened(", ".join(str(v) for v in value)) if value else EMPTY
        if isinstance(value, dict):
            return _shortened(", ".join(f"{k}: {v}" for k, v in value.items())) if value else EMPTY
    return _shortened(text)


AuditNames = dict[type[Model], dict[int | str, str]]  # people also by username (many-to-many changes)


def _reference_field(model: type[Model] | None, name: str) -> Any:
    """The foreign key (or one-to-one) `name` of `model`, or None."""
    if model is None:
        return None
    try:
        model_field = model._meta.get_field(name)
    except FieldDoesNotExist:
        return None
    return model_field if _is_reference(model_field) else None


def audit_reference_names(entries: Any) -> AuditNames:
    """The records the entries' foreign-key changes name by id (auditlog keeps "owner: 43 → 46"), by name: one query
    per related model for all the entries (a page of the trail, its CSV, a page of the API), so that the trail says
    who the owner became, not a key nobody without the Django admin can look up."""
    def changes_of(entry: LogEntry) -> Iterator[tuple[Any, Any]]:
        model = entry.content_type.model_class() if entry.content_type_id else None
        changes = entry.changes if isinstance(entry.changes, dict) else (entry.changes_dict or {})
        return ((audit_field(model, name), values) for name, values in changes.items())

    pairs = [pair for entry in entries for pair in changes_of(entry)]
    wanted = _referenced_ids(pairs)
    # A many-to-many change keeps each person as their account's text (a delegate's username): named by their full
    # name as well, in the query that reads the people named by id.
    people = {str(o) for model_field, values in pairs if _is_m2m(values) and _m2m_of_people(model_field)
              for o in values.get("objects", [])}
    names: AuditNames = {}
    for related, ids in wanted.items():
        if related is User:
            continue
        names[related] = {pk: _name(obj) for pk, obj in _named_records(related).in_bulk(ids).items()}
    user_ids = wanted.get(User, set())
    if user_ids or people:
        found = User.objects.filter(Q(pk__in=user_ids) | Q(username__in=people))
        names[User] = {key: _name(user) for user in found
                       for key in ((user.pk, user.get_username()) if user.pk in user_ids else (user.get_username(),))}
    return names


def _named_records(model: type[Model]) -> QuerySet:
    """`model`'s records with the ones they refer to joined: a record's text often names them (a value report is
    "initiative · cycle"), which read one by one cost two queries per report named in the trail."""
    return model._default_manager.select_related(*(f.name for f in model._meta.concrete_fields
                                                   if f.many_to_one or f.one_to_one))


def _m2m_of_people(model_field: Any) -> bool:
    return model_field is not None and getattr(model_field, "many_to_many", False) and model_field.related_model is User


def audit_person(value: Any, names: AuditNames) -> str:
    """A person a many-to-many change names by their account's text, by their name (as read by
    audit_reference_names); the text as recorded for someone not found."""
    return names.get(User, {}).get(str(value), str(value))


def audit_field(model: type[Model] | None, name: str) -> Any:
    """The field `name` of `model` a change is recorded under, or None (an explicit event's own key, a relation seen
    from the other side)."""
    if model is None:
        return None
    try:
        return model._meta.get_field(name)
    except FieldDoesNotExist:
        return None


def audit_field_label(model_field: Any, name: str) -> str:
    """A changed field as the initiative page's History names it: its verbose name ("Declared monthly cost"), or the
    key in words for one that is no field ("Reports created")."""
    verbose_name = getattr(model_field, "verbose_name", None)
    return capfirst(str(verbose_name)) if verbose_name else capfirst(name.replace("_", " "))


def audit_reference(model: type[Model] | None, name: str, raw: Any, names: AuditNames) -> str | None:
    """A foreign key's recorded id as the trail prints it: the record's name, or "#43 (deleted)" when it is gone;
    None when `name` is no reference of `model` or the value is empty (the trail's "—")."""
    model_field = _reference_field(model, name)
    if model_field is None or raw is None or not str(raw).isdigit():
        return None
    pk = int(raw)
    return names.get(model_field.related_model, {}).get(pk) or f"#{pk} (deleted)"


def audit_number(model: type[Model] | None, name: str, raw: Any) -> str | None:
    """A number field's recorded value as the history prints it ("38,935", "$13,246.49"), for the audit trail, which
    otherwise keeps values as stored; None when `name` is no integer or decimal field of `model` (a reference's id
    included) or the value is empty."""
    if model is None or raw is None or raw in ("", "None"):
        return None
    try:
        model_field = model._meta.get_field(name)
    except FieldDoesNotExist:
        return None
    if _is_reference(model_field) or not isinstance(model_field, models.IntegerField | models.DecimalField):
        return None
    return _history_value(model_field, raw, {})


def _plain_decimal(value: Decimal) -> str:
    """1234.5000 -> 1,234.50; 1200.0000 -> 1,200; 0.0045 stays 0.0045: no trailing zeros past the cents."""
    text = f"{value:,f}"
    if "." not in text:
        return text
    whole, fraction = text.split(".")
    fraction = fraction.rstrip("0")
    if not fraction:
        return whole
    return f"{whole}.{fraction.ljust(2, '0')}"


def _shortened(text: str) -> str:
    return text if len(text) <= LONGEST_VALUE else text[:LONGEST_VALUE - 1] + "…"


def _history_event(entry: LogEntry, data: dict[str, Any]) -> str:
    """What happened, in words: the transition made, a scoring, or what was registered or changed."""
    event = _explicit_event(entry)
    if event == AuditEvent.TRANSITION and data.get("transition") in TRANSITIONS:
        step = TRANSITIONS[data["transition"]]
        return step.happened or step.label
    if event == AuditEvent.SCORE:
        weighted = data.get("weighted_score")
        return f"Intake scored (weighted {format_score(weighted)})" if weighted else "Intake scored"
    model = entry.content_type.model_class() if entry.content_type_id else None
    if event in REPORT_EVENTS and model is not None:
        return _report_event(entry, model, event, data)
    if event in AuditEvent.values and model in (DuplicatePairDecision, SprawlCluster):
        # Which pair or cluster: "Possible duplicate decided: A / B", "Sprawl cluster confirmed: <its title>" (a
        # pair's text ends with the verdict of its day, which the changes show).
        about = entry.object_repr.rsplit(": ", 1)[0] if model is DuplicatePairDecision else entry.object_repr
        return f"{AuditEvent(event).label}: {about}"
    if event:
        return AuditEvent(event).label if event in AuditEvent.values else event.replace("_", " ").capitalize()
    verb = {LogEntry.Action.CREATE: "added", LogEntry.Action.UPDATE: "changed",
            LogEntry.Action.DELETE: "removed"}.get(entry.action, "changed")
    if model is Initiative:
        verb = "registered" if entry.action == LogEntry.Action.CREATE else verb
        what = f"Initiative {verb}"
    elif model is KPI:
        what = f"KPI {verb}: {entry.object_repr}"
    else:
        subject = capfirst(str(model._meta.verbose_name)) if model is not None else "Record"
        what = f"{subject} {verb}"
    if data.get("source") == "inventory_import":
        what += " by an inventory import"
    return what


# A value report's decisions, as an initiative's history names them: with the report's cycle.
REPORT_EVENTS = frozenset({AuditEvent.REPORT_SUBMITTED, AuditEvent.REPORT_REOPENED, AuditEvent.VERDICT})


def _report_event(entry: LogEntry, model: type[Model], event: str, data: dict[str, Any]) -> str:
    """"Value report submitted: 2026-Q3", "Verdict on 2026-Q3: Scale". The cycle is the last part of the report's
    text ("initiative · cycle"); the decision's label is read from the verdict's own field, which governance knows
    only through the report's relation (the reviews app depends on governance, not the other way)."""
    cycle = entry.object_repr.rsplit(" · ", 1)[-1]
    if event != AuditEvent.VERDICT:
        return f"{AuditEvent(event).label}: {cycle}"
    decision = str(data.get("decision") or "")
    try:
        verdict: Any = model._meta.get_field("verdict").related_model
        choices = dict(verdict._meta.get_field("decision").flatchoices)
    except (FieldDoesNotExist, AttributeError):
        choices = {}
    label = str(choices.get(decision, decision.capitalize()))
    return f"Verdict on {cycle}: {label}" if label else f"Verdict on {cycle}"


def audit_actor_choices() -> QuerySet:
    """People who appear in the audit trail, for the actor filter."""
    return User.objects.filter(pk__in=LogEntry.objects.filter(actor__isnull=False).values("actor_id")).order_by(
        "last_name", "first_name", "username"
    )


# For portfolio's dashboard and board pack (registered in governance.apps) ---------------------------------------------

DECIDING_TRANSITIONS = ("approve", "reject", "request_changes", "promote", "retire", "kill")


def quarter_decisions(*, quarter: Quarter, department_id: int | None) -> list[Decision]:
    """Intake decisions and lifecycle steps taken in the quarter (from the audit trail), oldest first."""
    start = datetime.combine(quarter.first_day, time.min, tzinfo=UTC)
    end = datetime.combine(quarter.last_day + timedelta(days=1), time.min, tzinfo=UTC)
    entries = LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Initiative), timestamp__gte=start, timestamp__lt=end,
        additional_data__event=AuditEvent.TRANSITION,
    ).select_related("actor").order_by("timestamp", "pk")
    rows = [e for e in entries if (e.additional_data or {}).get("transition") in DECIDING_TRANSITIONS]
    initiatives = Initiative.objects.in_bulk([int(e.object_pk) for e in rows])
    decisions = []
    for entry in rows:
        initiative = initiatives.get(int(entry.object_pk))
        if initiative is None or (department_id and initiative.department_id != department_id):
            continue
        step = TRANSITIONS[entry.additional_data["transition"]]
        decisions.append(Decision(
            when=f"{entry.timestamp:%Y-%m-%d}", what=step.label, initiative=initiative.name,
            department_id=initiative.department_id,
            by=(entry.actor.get_full_name() or entry.actor.get_username()) if entry.actor else "",
            reason=str(entry.additional_data.get("reason") or ""), url=initiative.get_absolute_url(),
        ))
    return decisions


def dashboard_data_version() -> tuple:
    """What of governance the dashboard reads (signals, sprawl clusters, policies), as a fingerprint (registered in
    governance.apps)."""
    from governance.models import Signal, SprawlCluster

    return (
        Signal.objects.aggregate(n=Count("pk"), at=Max("updated_at")),
        SprawlCluster.objects.aggregate(n=Count("pk"), at=Max("updated_at")),
        Policy.objects.aggregate(n=Count("pk"), at=Max("updated_at")),
    )


# Stale cost sources ---------------------------------------------------------------------------------------------------


def administrators() -> list:
    """Active administrators (the admin group, or superusers): they are told about stale cost sources."""
    users = get_user_model().objects.filter(Q(is_superuser=True) | Q(groups__name=Role.ADMIN), is_active=True)
    return list(users.distinct().order_by("pk"))
