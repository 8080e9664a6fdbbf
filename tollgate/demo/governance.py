"""The demo company's history: intakes scored and decided, pilots started, value reports and verdicts over three review
cycles, promotions, kills and retirements, all through the governance and reviews services.

Only initiatives created by this build are walked (the builder passes them in), so a second build writes nothing.
Everything is deterministic (one seeded generator per initiative) except the dates, which follow the day of the load:
the previous cycle is overdue and the current one is due in a week whenever the demo is loaded, and every step of the
history is dated in the year before, on the demo's clock (tollgate/demo/clock.py): proposals registered over the
year, intakes waiting days to weeks for their scores, pilots started between the cycles, reports submitted while
their cycle was open and judged days later. The dates come from a generator of their own per initiative, so the
history's content is the same whatever the day.
"""

from __future__ import annotations

import csv
import io
import math
import random
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.core.files.base import ContentFile
from django.utils import timezone

from governance.selectors import rubric_criteria
from governance.services import initiative_transition, intake_scores_save
from portfolio.choices import KpiKind, Stage
from portfolio.models import Initiative
from reviews.calculations import kpi_value
from reviews.choices import Decision
from reviews.models import ReviewCycle, ValueReport
from reviews.selectors import report_state_counts, scale_evidence
from reviews.services import (
    StatedKpiValue,
    attachment_add,
    review_cycle_close,
    review_cycle_open,
    value_report_save_draft,
    value_report_submit,
    verdict_give,
)
from tollgate.demo import data
from tollgate.demo.clock import demo_clock
from tollgate.types import Actor

# The CoE reviewers, by e-mail local part: the demo login first.
REVIEWERS = ("rita.reviewer", "priya.raman", "tomasz.nowak")
CYCLE_MANAGER = "priya.raman"


@dataclass(frozen=True)
class CycleSpec:
    """A review cycle of the demo; its due date is `due_in_days` from the day the demo is loaded."""

    name: str
    period_start: date
    period_end: date
    due_in_days: int
    open_days: int = 30  # the cycle opens this many days before it is due

    def dates(self, today: date) -> tuple[date, date]:
        """Opening and due dates; a cycle opens once the quarter it reviews has ended (reviews.services)."""
        due = today + timedelta(days=self.due_in_days)
        opens = max(due - timedelta(days=self.open_days), self.period_end + timedelta(days=1))
        return opens, max(due, opens)


# An older, closed cycle that gave the production initiatives their scale evidence, the previous one (overdue drafts,
# verdicts, a kill) and the current one (due in a week).
EVIDENCE_CYCLE = CycleSpec("2026-Q1", date(2026, 1, 1), date(2026, 3, 31), -131)
PREVIOUS_CYCLE = CycleSpec("2026-Q2", date(2026, 4, 1), date(2026, 6, 30), -40)
CURRENT_CYCLE = CycleSpec("2026-Q3", date(2026, 7, 1), date(2026, 9, 30), 7)
CYCLES = (EVIDENCE_CYCLE, PREVIOUS_CYCLE, CURRENT_CYCLE)

# How each initiative gets to its final stage. Killed and retired ones split over several stories.
KILL_BY_VERDICT, KILL_FROM_PILOT, KILL_FROM_APPROVED = "kill_by_verdict", "kill_from_pilot", "kill_from_approved"
RETIRE_FROM_PRODUCTION, RETIRE_FROM_PILOT = "retire_from_production", "retire_from_pilot"
# Pilots that never report in the previous cycle: its overdue drafts.
Q2_OVERDUE_DRAFTS = 3
# (earliest, latest) days before the load an initiative of this stage or story was registered in Tollgate: late
# enough that its history fits before the cycle it first reports in, early enough that what waits has waited.
REGISTERED_DAYS_AGO = {
    Stage.PROPOSED: (3, 100), Stage.IN_REVIEW: (14, 60), Stage.CHANGES_REQUESTED: (20, 150),
    Stage.APPROVED: (40, 240), Stage.REJECTED: (40, 330), Stage.PILOT: (200, 330), Stage.PRODUCTION: (300, 360),
    KILL_BY_VERDICT: (200, 330), KILL_FROM_PILOT: (290, 360), KILL_FROM_APPROVED: (200, 330),
    RETIRE_FROM_PRODUCTION: (300, 360), RETIRE_FROM_PILOT: (290, 360),
}
IMPORTED_DAYS_AGO = (330, 350)  # the old inventory spreadsheet was imported early in the year
Q1_CLOSED_AFTER_DUE = 14  # days after its due date the evidence cycle was closed

COMMENTS = {  # criterion -> (weak, adequate, strong)
    "Strategic fit": (
        "Nice to have; no link to this year's priorities.",
        "Supports a departmental goal, not a company priority.",
        "Directly serves a stated company priority.",
    ),
    "Strength of the value case": (
        "Baseline is a guess and the value per outcome is not evidenced.",
        "Baseline measured on a small sample; value plausible but optimistic.",
        "Baseline measured over a quarter; value per outcome agreed with Finance.",
    ),
    "Cost realism": (
        "TCO leaves out oversight and maintenance.",
        "TCO covers the main lines; volume assumptions need watching.",
        "TCO complete at expected volume, with a price-decline scenario.",
    ),
    "Data readiness and risk": (
        "Data access and lawful basis not settled; model risk not assessed.",
        "Data available; DPIA in progress.",
        "Data in the platform, DPIA signed off, human review of edge cases defined.",
    ),
    "Reuse of shared services / duplication": (
        "Duplicates an existing initiative on another vendor.",
        "Partly reuses the shared gateway.",
        "Built on the shared model gateway and retrieval service.",
    ),
    "Exit plan and vendor lock-in": (
        "Locked into one vendor's proprietary features; no exit plan.",
        "Exit possible but would take a quarter.",
        "Model-agnostic through the gateway; exit plan documented.",
    ),
}
REJECT_REASONS = (
    "The value case does not hold: the saving per outcome is smaller than the run cost at the expected volume.",
    "Duplicates an initiative already in production on another vendor; join that one instead.",
    "The data may not be used for this purpose under our privacy notice; not approvable as designed.",
    "Risk too high for the expected value: fully automated decisions about customers without human review.",
)
CHANGES_REASONS = (
    "Measure the baseline over at least a month of real volume before we can score the value case.",
    "The TCO leaves out human oversight and maintenance; complete it at the expected volume.",
    "Explain how this differs from the existing assistant, or propose to reuse the shared service.",
    "Add an exit plan: what happens to the process if the vendor raises prices or is switched off.",
)
KILL_REASONS = (
    "Two quarters below one dollar of value per AI dollar and no credible plan to change it.",
    "The vendor's new pricing makes the cost per outcome higher than the manual process.",
    "Adoption stalled below a fifth of the target users; the team prefers the existing tool.",
)
RETIRE_REASONS = (
    "Replaced by the capability now built into the core platform; the process moves there.",
    "The process it supported was outsourced; nothing left to automate.",
    "Superseded by the enterprise assistant rollout; licences consolidated.",
)
VERDICT_RATIONALES = {
    Decision.CONTINUE: (
        "On track against the business case; keep going and report next quarter.",
        "Value per dollar above one and improving; no change needed.",
    ),
    Decision.OPTIMISE: (
        "Value below plan: move the bulk of the traffic to a smaller model and cut oversight hours.",
        "Adoption is the problem, not the model: fix onboarding before the next review.",
    ),
    Decision.SCALE: (
        "Minimum viable scale reached with targets met: roll out to the remaining teams.",
        "Strong value per dollar; extend to the next region.",
    ),
    Decision.KILL: (
        "Outcomes far below the minimum viable scale for two quarters and the KPIs moved the wrong way; stop it.",
    ),
}


def _local(user_email: str) -> str:
    return user_email.split("@", 1)[0]


def _office_hours(day: date, rng: random.Random) -> datetime:
    """A moment of a working day, in the site's time zone."""
    return datetime.combine(day, time(rng.randint(8, 17), rng.randint(0, 59)), tzinfo=timezone.get_current_timezone())


def story_of(specs: list[data.InitiativeSpec]) -> dict[str, str]:
    """The story of every killed and retired initiative, from its rank among them (stable across builds)."""
    paths = {}
    killed = [s.external_id for s in specs if s.stage == Stage.KILLED]
    for i, external_id in enumerate(killed):
        paths[external_id] = (KILL_BY_VERDICT, KILL_FROM_PILOT, KILL_FROM_APPROVED)[i % 3]
    retired = [s.external_id for s in specs if s.stage == Stage.RETIRED]
    for i, external_id in enumerate(retired):
        paths[external_id] = (RETIRE_FROM_PRODUCTION, RETIRE_FROM_PILOT)[i % 2]
    return paths


def registered_at(spec: data.InitiativeSpec, story: str, now: datetime) -> datetime:
    """When the initiative was registered in Tollgate (by its owner, or by the import of the old inventory)."""
    rng = random.Random(f"{data.SEED}:{spec.external_id}:registered")
    if spec.external_id in data.IMPORTED_PILOTS:
        earliest, latest = IMPORTED_DAYS_AGO
    else:
        earliest, latest = REGISTERED_DAYS_AGO.get(story or spec.stage, REGISTERED_DAYS_AGO[Stage.APPROVED])
    day = timezone.localtime(now).date() - timedelta(days=rng.randint(earliest, latest))
    return min(_office_hours(day, rng), now - timedelta(hours=1))


@dataclass
class Walk:
    """One new initiative's path to its final stage."""

    spec: data.InitiativeSpec
    initiative: Initiative
    rng: random.Random
    path: str = ""  # a KILL_* / RETIRE_* story, else empty
    promoted: bool = False
    at: datetime = field(default_factory=timezone.now)  # when its last step happened
    dates: random.Random = field(default_factory=random.Random)  # the days of its steps, apart from their content

    @property
    def target(self) -> str:
        return self.spec.stage


class HistoryBuilder:
    """Walks the new initiatives of one build through their history; holds the cast and the rubric."""

    def __init__(self, users: dict[str, Actor], specs: list[data.InitiativeSpec]) -> None:
        self.users = users
        self.reviewers = [users[data.email(local)] for local in REVIEWERS]
        self.manager = users[data.email(CYCLE_MANAGER)]
        self.criteria = list(rubric_criteria())
        self.now = timezone.now()
        self.today = timezone.localdate()
        self.paths = story_of(specs)
        owner_login = data.email("oscar.owner")
        overdue = [s for s in specs if s.stage == Stage.PILOT and "pilot-overdue" in s.tags and s.owner != owner_login]
        self.q2_overdue = {s.external_id for s in overdue[:Q2_OVERDUE_DRAFTS]}

    # When -------------------------------------------------------------------------------------------------------------

    def days_ago(self, days: int) -> date:
        return self.today - timedelta(days=days)

    def moment(self, walk: Walk, min_days: int, max_days: int, *, not_before: date | None = None,
               not_after: date | None = None) -> datetime:
        """When the walk's next step happens: `min_days` to `max_days` after its last one, in office hours, moved
        into [not_before, not_after], never before its last step nor after the load."""
        day = timezone.localtime(walk.at).date() + timedelta(days=walk.dates.randint(min_days, max_days))
        if not_before is not None:
            day = max(day, not_before)
        if not_after is not None:
            day = min(day, not_after)
        moment = min(_office_hours(day, walk.dates), self.now - timedelta(minutes=5))
        if moment <= walk.at:
            moment = min(walk.at + timedelta(minutes=walk.dates.randint(5, 90)), self.now - timedelta(minutes=5))
        walk.at = max(moment, walk.at + timedelta(seconds=1))
        return walk.at

    @contextmanager
    def on(self, walk: Walk, min_days: int, max_days: int, *, not_before: date | None = None,
           not_after: date | None = None) -> Iterator[None]:
        """The walk's next step, written on the demo's clock at its moment."""
        with demo_clock(self.moment(walk, min_days, max_days, not_before=not_before, not_after=not_after)):
            yield

    @contextmanager
    def while_open(self, walk: Walk, cycle: ReviewCycle) -> Iterator[None]:
        """The walk's next step on a day its cycle is open: from the day after it opens to the day before it is due
        (not after the load), and not before the walk's last step."""
        first = max(cycle.opens_on + timedelta(days=1), timezone.localtime(walk.at).date())
        last = max(min(cycle.due_on - timedelta(days=1), self.today), first)
        day = first + timedelta(days=walk.dates.randint(0, (last - first).days))
        with demo_clock(self.moment(walk, 0, 0, not_before=day, not_after=day)):
            yield

    # People ----------------------------------------------------------------------------------------------------------

    def owner(self, walk: Walk) -> Actor:
        return self.users[walk.spec.owner]

    def owner_or_delegate(self, walk: Walk) -> Actor:
        """Usually the owner; now and then a named delegate does the paperwork."""
        if walk.spec.delegates and walk.rng.random() < 0.3:
            return self.users[walk.rng.choice(walk.spec.delegates)]
        return self.owner(walk)

    def reviewer(self, walk: Walk, *, exclude: Iterable[Actor] = ()) -> Actor:
        skip = {u.pk for u in exclude}
        return walk.rng.choice([r for r in self.reviewers if r.pk not in skip])

    # Intake ----------------------------------------------------------------------------------------------------------

    def transition(self, walk: Walk, actor: Actor, name: str, reason: str = "") -> None:
        initiative_transition(actor=actor, initiative=walk.initiative, transition=name, reason=reason)

    def score(self, walk: Walk, reviewer: Actor, *, quality: float) -> None:
        """Every criterion scored 1-5 around `quality`, each with the comment that fits the mark."""
        floor, ceiling = (3, 5) if quality >= 3.5 else (1, 3)
        rows = []
        for criterion in self.criteria:
            mark = min(ceiling, max(floor, round(quality + walk.rng.choice((-1, 0, 0, 0, 1)))))
            weak, adequate, strong = COMMENTS.get(criterion.name, ("Weak.", "Adequate.", "Strong."))
            comment = weak if mark <= 2 else adequate if mark == 3 else strong
            rows.append({"criterion": criterion.pk, "score": mark, "comment": comment})
        intake_scores_save(actor=reviewer, initiative=walk.initiative, scores=rows)

    def panel(self, walk: Walk, *, quality: float, count: int) -> list[Actor]:
        """Reviewers score the intake, a few days apart."""
        scorers = walk.rng.sample(self.reviewers, count)
        for reviewer in scorers:
            with self.on(walk, 1, 6):
                self.score(walk, reviewer, quality=quality)
        return scorers

    def intake(self, walk: Walk) -> None:
        """From proposed to the end of the intake: in review, changes requested, rejected or approved. The owner
        submits within a week or two of registering it; reviewers score over the following days."""
        target, rng = walk.target, walk.rng
        if target == Stage.PROPOSED:
            return
        with self.on(walk, 1, 10):
            self.transition(walk, self.owner_or_delegate(walk), "submit")
        if target == Stage.IN_REVIEW:
            # Never scored by the demo reviewer login, so every intake in review is in its queue.
            if rng.random() < 0.5:
                with self.on(walk, 1, 8):
                    self.score(walk, rng.choice(self.reviewers[1:]), quality=rng.uniform(2.8, 4.2))
            return
        if target == Stage.CHANGES_REQUESTED:
            scorers = self.panel(walk, quality=rng.uniform(2.2, 3.2), count=1) if rng.random() < 0.5 else []
            with self.on(walk, 0, 4):
                self.transition(walk, self.reviewer(walk) if not scorers else scorers[0], "request_changes",
                                rng.choice(CHANGES_REASONS))
            return
        if target == Stage.REJECTED:
            scorers = self.panel(walk, quality=rng.uniform(1.5, 2.5), count=2)
            with self.on(walk, 0, 4):
                self.transition(walk, scorers[0], "reject", rng.choice(REJECT_REASONS))
            return
        if rng.random() < 0.15:  # sent back once, then resubmitted: a second scoring round
            scorers = self.panel(walk, quality=rng.uniform(2.4, 3.0), count=1)
            with self.on(walk, 0, 3):
                self.transition(walk, scorers[0], "request_changes", rng.choice(CHANGES_REASONS))
            with self.on(walk, 4, 15):
                self.transition(walk, self.owner_or_delegate(walk), "submit")
        scorers = self.panel(walk, quality=rng.uniform(3.6, 4.6), count=rng.choice((2, 2, 3)))
        with self.on(walk, 0, 3):
            self.transition(walk, scorers[-1], "approve")

    # Value reports ---------------------------------------------------------------------------------------------------

    def report(self, walk: Walk, cycle: ReviewCycle) -> ValueReport | None:
        return ValueReport.objects.filter(cycle=cycle, initiative=walk.initiative).first()

    def fill(self, walk: Walk, report: ValueReport, *, scale: float, progress: float, submit: bool = True,
             partial: bool = False) -> ValueReport:
        """KPI actuals `progress` of the way from baseline to target, outcomes at `scale` x the larger of expected
        volume and minimum viable scale per month; submitted unless `submit` is False."""
        rng = walk.rng
        case = walk.initiative.business_case
        months = report.cycle.months
        per_month = max(case.expected_monthly_volume or 0, case.min_viable_scale or 0)
        actuals = {}
        for kpi in walk.initiative.kpis.order_by("pk"):
            if kpi.target is None or kpi.baseline is None:
                continue  # no way from baseline to target: the owner leaves the actual blank
            step = (kpi.target - kpi.baseline) * Decimal(str(round(progress * rng.uniform(0.85, 1.1), 3)))
            actuals[kpi.pk] = (kpi.baseline + step).quantize(Decimal("0.01"))
        case_hours = float(case.oversight_hours_per_month or 0)
        outcomes = math.ceil(per_month * months * scale)
        fields = {
            "outcome_count": outcomes,
            "active_users": max(3, round(per_month * scale / rng.choice((40, 80, 150)))),
            "oversight_hours": Decimal(str(round(case_hours * months * rng.uniform(0.7, 1.3), 1))),
            "narrative": self.narrative(walk, report, progress),
        }
        kpi_stated = self.stated_kpis(walk, outcomes, progress)
        fields.update(self.stated_value(walk, actuals, kpi_stated, outcomes, progress))
        actor = self.owner_or_delegate(walk)
        with self.while_open(walk, report.cycle):
            if partial:  # a draft the owner started: the narrative and the first KPI only
                first = next(iter(actuals.items()), None)
                return value_report_save_draft(actor=actor, report=report, fields={"narrative": fields["narrative"]},
                                               kpi_actuals=dict([first]) if first else {})
            report = value_report_save_draft(actor=actor, report=report, fields=fields, kpi_actuals=actuals,
                                             kpi_stated=kpi_stated)
            if submit and kpi_stated:  # a stated value comes with the measurement behind it
                attachment_add(actor=actor, report=report, file=self.evidence_file(walk, report, kpi_stated))
            return value_report_submit(actor=actor, report=report) if submit else report

    @staticmethod
    def evidence_file(walk: Walk, report: ValueReport, kpi_stated: dict[int, StatedKpiValue]) -> ContentFile:
        """The owner's measurement behind the stated KPIs, as the CSV a finance analyst would attach."""
        rows = io.StringIO()
        writer = csv.writer(rows, lineterminator="\n")
        writer.writerow(["initiative", "period", "kpi", "stated_value", "evidence"])
        names = dict(walk.initiative.kpis.values_list("pk", "name"))
        for pk, stated in kpi_stated.items():
            writer.writerow([walk.initiative.name, report.cycle.name, names[pk], stated.amount, stated.evidence])
        name = f"{walk.initiative.external_id or walk.initiative.pk}-{report.cycle.name}-stated-value.csv"
        return ContentFile(rows.getvalue().encode(), name=name)

    @staticmethod
    def saving_per_outcome(walk: Walk) -> Decimal | None:
        """The business case's expected saving per outcome (expected value / expected volume), what owners state."""
        case = walk.initiative.business_case
        if not case.expected_monthly_volume or not case.expected_monthly_value:
            return None
        return case.expected_monthly_value / case.expected_monthly_volume

    def stated_kpis(self, walk: Walk, outcomes: int, progress: float) -> dict[int, StatedKpiValue]:
        """A stated KPI's value is the saving per outcome x outcomes, scaled by the progress reached, with evidence."""
        per_outcome = self.saving_per_outcome(walk)
        stated = [k for k in walk.initiative.kpis.order_by("pk") if k.kind == KpiKind.STATED]
        if per_outcome is None or not stated:
            return {}
        share = Decimal(str(round(max(progress, 0.05), 2)))
        outcome = walk.initiative.business_case.outcome_unit or "outcome"
        return {kpi.pk: StatedKpiValue(
            (per_outcome * outcomes * share / len(stated)).quantize(Decimal("0.01")),
            f"{kpi.name}: {outcomes:,} × {outcome} at ${per_outcome:,.2f} each (the business case's saving per "
            f"outcome), {round(progress * 100)}% of the target improvement reached; measured on the quarter's "
            "records and agreed with Finance.",
        ) for kpi in stated}

    def stated_value(self, walk: Walk, actuals: dict[int, Decimal], kpi_stated: dict[int, StatedKpiValue],
                     outcomes: int, progress: float) -> dict:
        """When no KPI carries money (all of them ratios without a value per point, or counts without a value per
        unit), the owner states the report's value, as the saving per outcome of the business case x outcomes, with
        its evidence; nothing when any KPI values it."""
        per_outcome = self.saving_per_outcome(walk)
        if per_outcome is None:
            return {}
        valued = [kpi_value(k.kind, baseline=k.baseline, actual=actuals.get(k.pk), direction=k.direction,
                            value_per_unit=k.value_per_unit, outcomes=outcomes,
                            stated_value=kpi_stated[k.pk].amount if k.pk in kpi_stated else None,
                            evidence=kpi_stated[k.pk].evidence if k.pk in kpi_stated else "").amount
                  for k in walk.initiative.kpis.all()]
        if any(amount is not None for amount in valued):
            return {}
        stated = (per_outcome * outcomes * Decimal(str(round(max(progress, 0.05), 2)))).quantize(Decimal("0.01"))
        case = walk.initiative.business_case
        return {
            "stated_value": stated,
            "stated_value_evidence": (
                f"{outcomes:,} × {case.outcome_unit or 'outcome'} at ${per_outcome:,.2f} saved each (the business "
                f"case's saving per outcome), scaled by the {round(progress * 100)}% of the KPI improvement reached; "
                "volumes from the production logs, checked with Finance."
            ),
        }

    @staticmethod
    def narrative(walk: Walk, report: ValueReport, progress: float) -> str:
        outcome = walk.initiative.business_case.outcome_unit or "outcome"
        if progress >= 0.9:
            mood = "Targets met or close to it; volumes held up through the quarter."
        elif progress >= 0.5:
            mood = "Good progress, but adoption is uneven across teams; we are working on onboarding."
        else:
            mood = "Well behind plan: volumes stayed low and the KPIs barely moved."
        return f"{report.cycle.name}: {mood} Cost per {outcome} tracked monthly against the baseline."

    def verdict(self, walk: Walk, report: ValueReport, decision: Decision, reviewer: Actor | None = None, *,
                not_after: date | None = None) -> None:
        """A reviewer's verdict, a few days to two weeks after the report came in."""
        with self.on(walk, 1, 14, not_after=not_after):
            verdict_give(actor=reviewer or self.reviewer(walk), report=report, decision=decision,
                         rationale=walk.rng.choice(VERDICT_RATIONALES[decision]))

    def cycle(self, spec: CycleSpec) -> ReviewCycle:
        """The cycle, opened by the CoE on its opening day (again, with its stored dates, for what a re-created
        initiative owes it); once closed it is taken as it is, since a closed cycle is not opened again."""
        existing = ReviewCycle.objects.filter(name=spec.name).first()
        if existing is not None and existing.closed_at is not None:
            return existing
        opens_on, due_on = (existing.opens_on, existing.due_on) if existing else spec.dates(self.today)
        with demo_clock(min(datetime.combine(opens_on, time(9, 0), tzinfo=timezone.get_current_timezone()),
                            self.now - timedelta(minutes=5))):
            return review_cycle_open(actor=self.manager, name=spec.name, period_start=spec.period_start,
                                     period_end=spec.period_end, due_on=due_on, opens_on=opens_on)

    # The walk --------------------------------------------------------------------------------------------------------

    def run(self, pairs: list[tuple[data.InitiativeSpec, Initiative]]) -> None:
        walks = [Walk(spec, initiative, random.Random(f"{data.SEED}:{spec.external_id}"),
                      self.paths.get(spec.external_id, ""), at=initiative.created_at,
                      dates=random.Random(f"{data.SEED}:{spec.external_id}:dates")) for spec, initiative in pairs]
        walks = [w for w in walks if w.target != Stage.PROPOSED]
        if not walks:
            return
        imported = set(data.IMPORTED_PILOTS)  # created in the pilot stage: no intake, no start of the pilot
        for walk in walks:
            if walk.spec.external_id not in imported:
                self.intake(walk)
        q1_opens, q1_due = EVIDENCE_CYCLE.dates(self.today)
        q1_closes = q1_due + timedelta(days=Q1_CLOSED_AFTER_DUE)
        q2_opens = PREVIOUS_CYCLE.dates(self.today)[0]
        before_q1 = q1_opens - timedelta(days=2)
        evidence_track = [w for w in walks if w.target == Stage.PRODUCTION or w.path == RETIRE_FROM_PRODUCTION]
        proving = {w.spec.external_id for w in evidence_track}
        for walk in walks:  # early ends, before any review cycle
            owner = self.owner(walk)
            if walk.path == KILL_FROM_APPROVED:
                with self.on(walk, 30, 90, not_after=before_q1):
                    self.transition(walk, self.reviewer(walk), "kill", walk.rng.choice(KILL_REASONS))
            elif walk.path in (KILL_FROM_PILOT, RETIRE_FROM_PILOT) or walk.spec.external_id in proving:
                with self.on(walk, 3, 14, not_after=before_q1):
                    self.transition(walk, owner, "start_pilot")
                if walk.path == KILL_FROM_PILOT:
                    with self.on(walk, 20, 60, not_after=before_q1):
                        self.transition(walk, self.reviewer(walk), "kill", walk.rng.choice(KILL_REASONS))
                elif walk.path == RETIRE_FROM_PILOT:
                    with self.on(walk, 20, 60, not_after=before_q1):
                        self.transition(walk, owner, "retire", walk.rng.choice(RETIRE_REASONS))

        # 2026-Q1: the mature pilots prove their scale and are promoted; then the cycle is closed.
        if evidence_track:
            q1 = self.cycle(EVIDENCE_CYCLE)
            for walk in evidence_track:
                report = self.report(walk, q1)
                if report is None:  # a re-created initiative after the cycle closed: it proves scale in 2026-Q2
                    continue
                report = self.fill(walk, report, scale=walk.rng.uniform(1.05, 1.3), progress=walk.rng.uniform(0.8, 1.0))
                self.verdict(walk, report, Decision.SCALE, not_after=q1_closes - timedelta(days=1))
                self.promote(walk, not_after=q1_closes)
            for walk in walks:  # the imported pilots report too, far below their scale
                report = self.report(walk, q1) if walk.spec.external_id in imported else None
                if report is not None:
                    self.fill(walk, report, scale=walk.rng.uniform(0.2, 0.4), progress=walk.rng.uniform(0.1, 0.3))
            if q1.closed_at is None:
                with demo_clock(datetime.combine(q1_closes, time(17, 0), tzinfo=timezone.get_current_timezone())):
                    review_cycle_close(actor=self.manager, cycle=q1)
        for walk in walks:
            if walk.path == RETIRE_FROM_PRODUCTION:
                with self.on(walk, 1, 40, not_before=q1_closes + timedelta(days=1),
                             not_after=q2_opens - timedelta(days=2)):
                    self.transition(walk, self.owner(walk), "retire", walk.rng.choice(RETIRE_REASONS))
            elif (walk.target == Stage.PILOT or walk.path == KILL_BY_VERDICT) and walk.spec.external_id not in imported:
                # Pilots started between the evidence cycle's opening and the previous cycle's: they report in it.
                with self.on(walk, 1, 30, not_before=q1_opens + timedelta(days=3),
                             not_after=q2_opens - timedelta(days=3)):
                    self.transition(walk, self.owner(walk), "start_pilot")

        reporting = [w for w in walks if w.target in (Stage.PILOT, Stage.PRODUCTION) or w.path == KILL_BY_VERDICT]
        if not reporting:
            return
        self.previous_cycle(reporting)
        self.current_cycle([w for w in reporting if w.target != Stage.KILLED])

    def promote(self, walk: Walk, *, not_after: date | None = None) -> None:
        if scale_evidence(initiative=walk.initiative) is not None:
            with self.on(walk, 0, 5, not_after=not_after):
                self.transition(walk, self.owner(walk), "promote")
            walk.promoted = True

    def previous_cycle(self, walks: list[Walk]) -> None:
        """2026-Q2: nearly all submitted with a verdict (one a kill), a few pilots never reported (overdue)."""
        q2 = self.cycle(PREVIOUS_CYCLE)
        for walk in walks:
            report = self.report(walk, q2)
            if report is None or walk.spec.external_id in self.q2_overdue:
                continue
            rng = walk.rng
            if walk.path == KILL_BY_VERDICT:
                report = self.fill(walk, report, scale=rng.uniform(0.08, 0.2), progress=rng.uniform(0.0, 0.08))
                self.verdict(walk, report, Decision.KILL)
                continue
            if walk.target == Stage.PRODUCTION:
                report = self.fill(walk, report, scale=rng.uniform(1.0, 1.4), progress=rng.uniform(0.75, 1.1))
                if not walk.promoted:  # scale evidence from this cycle instead of the closed 2026-Q1
                    self.verdict(walk, report, Decision.SCALE)
                    self.promote(walk)
                    continue
                decision = rng.choices((Decision.CONTINUE, Decision.SCALE, Decision.OPTIMISE), (6, 3, 1))[0]
            else:
                overdue_pilot = "pilot-overdue" in walk.spec.tags
                progress = rng.uniform(0.2, 0.5) if overdue_pilot else rng.uniform(0.35, 0.9)
                report = self.fill(walk, report, scale=rng.uniform(0.3, 0.8), progress=progress)
                optimise = rng.random() < (0.6 if overdue_pilot else 0.2)
                decision = Decision.OPTIMISE if optimise else Decision.CONTINUE
            if rng.random() < 0.92:
                self.verdict(walk, report, decision)

    def current_cycle(self, walks: list[Walk]) -> None:
        """2026-Q3, due in a week: about half submitted (some already judged), the rest drafts, a few started."""
        q3 = self.cycle(CURRENT_CYCLE)
        owner_login = data.email("oscar.owner")
        for walk in walks:
            report = self.report(walk, q3)
            if report is None:
                continue
            rng = walk.rng
            production = walk.target == Stage.PRODUCTION
            if walk.spec.owner == owner_login:  # the demo owner still has work to do
                if production:
                    self.fill(walk, report, scale=1.1, progress=0.9, partial=True)
                continue
            draw = rng.random()
            if draw >= 0.55:
                if draw >= 0.85:
                    self.fill(walk, report, scale=1, progress=0.7, partial=True)
                continue
            if production:
                report = self.fill(walk, report, scale=rng.uniform(1.0, 1.5), progress=rng.uniform(0.8, 1.15))
                decision = rng.choices((Decision.CONTINUE, Decision.SCALE, Decision.OPTIMISE), (6, 3, 1))[0]
            else:
                report = self.fill(walk, report, scale=rng.uniform(0.4, 1.0), progress=rng.uniform(0.4, 1.0))
                decision = rng.choice((Decision.CONTINUE, Decision.OPTIMISE))
            # Some already judged by the other reviewers; the rest wait in every reviewer's queue.
            if rng.random() < 0.4:
                self.verdict(walk, report, decision, reviewer=rng.choice(self.reviewers[1:]))


def walk_history(users: dict[str, Actor], specs: list[data.InitiativeSpec],
                 new: list[tuple[data.InitiativeSpec, Initiative]]) -> None:
    """Walk the initiatives created by this build from proposed to their final stage (nothing if none is new)."""
    if new:
        HistoryBuilder(users, specs).run(new)


@dataclass(frozen=True)
class CycleCounts:
    name: str
    submitted: int  # with or without a verdict
    due: int
    overdue: int


def cycle_counts(today: date | None = None) -> list[CycleCounts]:
    """Submitted / due / overdue reports of the demo's current and previous cycles, newest first."""
    rows = []
    for spec in (CURRENT_CYCLE, PREVIOUS_CYCLE):
        cycle = ReviewCycle.objects.filter(name=spec.name).first()
        if cycle is None:
            continue
        counts = report_state_counts(ValueReport.objects.filter(cycle=cycle), today)
        rows.append(CycleCounts(cycle.name, counts["submitted"] + counts["reviewed"], counts["due"],
                                counts["overdue"]))
    return rows
