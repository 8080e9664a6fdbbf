"""Reads of the reviews app: restricted querysets, report figures, cycle overviews and who gets reminded."""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping
from copy import copy
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db.models import (
    Case,
    CharField,
    Count,
    DateField,
    Exists,
    IntegerField,
    Max,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.urls import reverse
from django.utils import timezone

from governance.selectors import policy_value
from governance.signals.rules.facts import OverdueReport, ReportFacts, ReviewFacts
from portfolio.calculations import Quarter
from portfolio.choices import ENDED_STAGES, CostCategory, Stage
from portfolio.costs.calculations import OVERSIGHT, CostDataReading, PeriodCostData, cents
from portfolio.costs.selectors import (
    MONEY_FIELD,
    CountedMonths,
    cost_data_reading,
    ended_on,
    tco_months_counted,
    tco_months_left_out,
    tco_period_annotations,
)
from portfolio.dashboard.providers import Decision, QuarterValueSet, ReportedValue
from portfolio.models import KPI, BusinessCase, Initiative, InitiativeMonthlyTco
from portfolio.selectors import (
    approved_plan,
    approved_versions_prefetch,
    audit_entries_of_initiatives,
    people_acting_for,
)
from reviews import calculations
from reviews.choices import CycleStatus, ReportState, ReportStatus
from reviews.models import KpiActual, Notification, ReportAttachment, ReviewCycle, ValueReport, Verdict
from tollgate.formatting import format_money
from tollgate.roles import Role, may
from tollgate.types import Viewer
from tollgate.ui.links import url_pattern
from tollgate.ui.tables import ignoring_case

User = get_user_model()

# Initiatives that owe a value report each cycle.
REPORTING_STAGES = (Stage.PILOT, Stage.PRODUCTION)
ESTIMATED_COST_LABEL = "estimated from the business case"
# An initiative without a business case is estimated at its declared monthly cost (portfolio's TCO): said so.
DECLARED_COST_LABEL = "estimated from the declared monthly cost"
ACTUAL_COST_LABEL = "actual cost of the quarter from cost records"
# What BusinessCase.tco_monthly reads.
TCO_FIELDS = ("tco_inference", "tco_compute", "tco_storage", "tco_licences", "oversight_hours_per_month",
              "loaded_hourly_rate", "tco_maintenance")


def policy(key: str) -> int | Decimal:
    """A threshold from governance (an admin may change it): reviews depends on governance, never the reverse."""
    return policy_value(key)


# Querysets -----------------------------------------------------------------------------------------------------------


def report_base_queryset() -> QuerySet[ValueReport]:
    """Reports with what a list row needs: cycle, initiative, department, owner, verdict (one query)."""
    return ValueReport.objects.select_related(
        "cycle", "initiative__department", "initiative__owner", "submitted_by", "submitted_for", "verdict__reviewer"
    )


def report_list(*, user: Viewer) -> QuerySet[ValueReport]:
    """Everyone with a role reads every report: value evidence is as transparent as the portfolio."""
    if not may(user, "reviews.view_valuereport"):
        return ValueReport.objects.none()
    return report_base_queryset().order_by("-cycle__period_start", "initiative__name", "pk")


def report_detail_queryset(*, user: Viewer) -> QuerySet[ValueReport]:
    """Reports with the initiative's business case, KPIs, actuals and attachments loaded, for readers."""
    if not may(user, "reviews.view_valuereport"):
        return ValueReport.objects.none()
    return report_detail_loaded()


def report_detail_loaded() -> QuerySet[ValueReport]:
    """Unrestricted: for pages that decide with an object permission on the report itself."""
    return report_base_queryset().select_related("initiative__business_case", "reopened_by").prefetch_related(
        Prefetch("initiative__kpis", queryset=KPI.objects.order_by("pk")),
        approved_versions_prefetch("initiative__business_case_versions"),
        Prefetch("actuals", queryset=KpiActual.objects.all()),
        "attachments__uploaded_by",
        "initiative__delegates",
    ).annotate(**report_tco_annotations())


def report_figures_loaded() -> QuerySet[ValueReport]:
    """Only what report_figures reads (cycle, business case and its approved versions, KPIs, actuals, the cycle's
    TCO), for reading the figures
    of many reports at once."""
    return ValueReport.objects.select_related("cycle", "initiative__business_case").prefetch_related(
        Prefetch("initiative__kpis", queryset=KPI.objects.order_by("pk")),
        approved_versions_prefetch("initiative__business_case_versions"),
        Prefetch("actuals", queryset=KpiActual.objects.all()),
    ).annotate(**report_tco_annotations())


def report_tco_left_out(*, reading: CostDataReading | None = None) -> list[date]:
    """The months the reports' costs leave out, over every cycle: months no cost source read in a cycle some of whose
    months were read (costs.selectors.tco_months_left_out, the costs API's rule). Cycles never overlap, so one list
    serves every report. Four queries, one with `reading`."""
    return tco_months_left_out(ReviewCycle.objects.values_list("period_start", "period_end"), reading=reading)


def report_tco_annotations(*, left_out: Collection[date] | None = None) -> dict[str, Any]:
    """What report_cost reads of a report's cycle, annotated on a list of reports at once: its TCO over the months
    its cost counts (tco_period_annotations without the months `left_out`, default report_tco_left_out), the draft
    preview's (draft_oversight_annotations), and the months left out (`tco_left_out`, "2026-08-01,...": the same for
    every row; report_cost names those of its own months)."""
    left_out = report_tco_left_out() if left_out is None else list(left_out)
    return {
        **tco_period_annotations(initiative="initiative_id", start="cycle__period_start", end="cycle__period_end",
                                 leaving_out=left_out),
        **draft_oversight_annotations(leaving_out=left_out),
        "tco_left_out": Value(",".join(m.isoformat() for m in left_out), output_field=CharField()),
    }


def _left_out_of(report: ValueReport) -> tuple[date, ...] | None:
    """The months report_tco_annotations left out, or None when the report was not loaded with them."""
    text = getattr(report, "tco_left_out", None)
    if text is None:
        return None
    return tuple(date.fromisoformat(m) for m in text.split(",") if m)


def draft_oversight_annotations(*, leaving_out: Collection[date] = ()) -> dict[str, Any]:
    """For report_cost's preview of a draft: in the report's period, the oversight its TCO estimates from the
    business case (`tco_oversight_estimated`) and the months with a TCO but no oversight cost record
    (`tco_months` less `tco_oversight_recorded_months`), which the draft's hours will fill once submitted; and the
    last month with a TCO (`tco_last_month`), where report_months ends an ended initiative's period."""
    rows = InitiativeMonthlyTco.objects.filter(
        initiative_id=OuterRef("initiative_id"), month__gte=OuterRef("cycle__period_start"),
        month__lte=OuterRef("cycle__period_end")).order_by().values("initiative_id")
    counted = rows.exclude(month__in=list(leaving_out)) if leaving_out else rows

    def months(of: QuerySet) -> Subquery:
        return Subquery(of.annotate(n=Count("month", distinct=True)).values("n"), output_field=IntegerField())

    return {
        "tco_last_month": Subquery(rows.annotate(last=Max("month")).values("last"), output_field=DateField()),
        "tco_oversight_estimated": Subquery(
            counted.filter(category=OVERSIGHT, actual=False).annotate(total=Sum("amount")).values("total"),
            output_field=MONEY_FIELD),
        # With tco_oversight_estimated, the parts report_cost's label names when they are estimated.
        "tco_maintenance_estimated": Subquery(
            counted.filter(category=CostCategory.MAINTENANCE, actual=False).annotate(total=Sum("amount"))
            .values("total"), output_field=MONEY_FIELD),
        "tco_months": months(counted),
        "tco_oversight_recorded_months": months(counted.filter(category=OVERSIGHT, actual=True)),
    }


def initiatives_of(user: Viewer) -> QuerySet[Initiative]:
    """Initiatives the user owns or acts for (named delegate, or delegate of the owner's profile)."""
    if not user.is_authenticated:
        return Initiative.objects.none()
    return Initiative.objects.filter(
        Q(owner=user) | Q(delegates=user) | Q(owner__profile__delegates=user)
    ).distinct()


def current_cycle(today: date | None = None) -> ReviewCycle | None:
    """The open cycle (taking reports: ReviewCycle.takes_reports_from) with the latest period; else the latest cycle
    (upcoming or closed)."""
    today = today or timezone.localdate()
    cycles = ReviewCycle.objects.order_by("-period_start", "-pk")
    return (cycles.filter(closed_at__isnull=True, opens_on__lte=today, period_end__lt=today).first()
            or cycles.first())


def next_cycle_to_open(today: date | None = None, due_after_days: int = 30) -> calculations.ScheduledCycle:
    """The cycle the "open a cycle" form proposes: the scheduler's (the quarter just ended) unless a cycle reviews it
    already, else the first quarter after it that none reviews. One whose due date has passed opens today and is due
    `due_after_days` from today: a new cycle may not be due already (services.review_cycle_open)."""
    today = today or timezone.localdate()
    planned = calculations.cycle_for_quarter_after(today, due_after_days)
    taken = list(ReviewCycle.objects.values_list("period_start", "period_end"))
    for _ in range(12):
        if not any(start <= planned.period_end and end >= planned.period_start for start, end in taken):
            break
        planned = calculations.cycle_for_quarter_after(planned.opens_on + timedelta(days=92), due_after_days)
    if planned.due_on < today:
        planned = replace(planned, opens_on=today, due_on=today + timedelta(days=due_after_days))
    return planned


def initiatives_owing_report(cycle: ReviewCycle) -> QuerySet[Initiative]:
    """The initiatives that owe `cycle` a value report: in pilot or production now, and started by the end of the
    period reviewed (no start date: they owe one). Re-opening a past quarter does not ask an initiative that starts
    after it for that quarter's report.

    The start of the pilot (its start_pilot transition in the audit trail) is not asked: the demo's pilots start
    theirs after the quarter they report on, and would lose their reports of it."""
    return initiatives_owing_report_by(cycle.period_end)


def initiatives_owing_report_by(period_end: date) -> QuerySet[Initiative]:
    """initiatives_owing_report of a cycle whose period ends on `period_end` (one not opened yet)."""
    return Initiative.objects.filter(stage__in=REPORTING_STAGES).filter(
        Q(start_date__isnull=True) | Q(start_date__lte=period_end))


@dataclass(frozen=True)
class CycleOpening:
    """What opening a cycle of a period means, said on the form before it is opened: how many initiatives would owe
    a report (`new_reports`: those the cycle does not have yet, when it exists already) and which of the period's
    months have cost data (a value report's cost is estimated from the business case for a month without it)."""

    label: str  # "2026-Q3", or the period's dates when no cycle name fits it
    period_start: date
    period_end: date
    owing: int
    existing: ReviewCycle | None
    new_reports: int
    starting_later: int  # in a reporting stage, but started after the period: they owe it nothing
    cost_data: PeriodCostData

    @property
    def reporting_stages(self) -> str:
        """The stages that owe a report, in words: "pilot or production"."""
        return " or ".join(str(stage.label).lower() for stage in REPORTING_STAGES)


def cycle_opening(*, period_start: date, period_end: date, today: date | None = None) -> CycleOpening:
    """CycleOpening of a period (the form's proposal or the dates typed in), in a constant number of queries: the
    initiatives that would owe a report (initiatives_owing_report), the cycle of that name if it exists, and the
    state of each month by the cost rules (costs.selectors.cost_data_reading: complete, partly or none)."""
    today = today or timezone.localdate()
    name = calculations.cycle_name_for_period(period_start, period_end)
    owing = initiatives_owing_report_by(period_end)
    existing = ReviewCycle.objects.filter(name=name).first() if name else None
    count = owing.count()
    new_reports = owing.exclude(value_reports__cycle=existing).count() if existing else count
    return CycleOpening(
        label=name or f"the period {period_start:%Y-%m-%d} to {period_end:%Y-%m-%d}",
        period_start=period_start, period_end=period_end, owing=count, existing=existing, new_reports=new_reports,
        starting_later=Initiative.objects.filter(stage__in=REPORTING_STAGES, start_date__gt=period_end).count(),
        cost_data=cost_data_reading(today=today).period(period_start, period_end),
    )


def my_initiatives(*, user: Viewer, cycle: ReviewCycle | None) -> QuerySet[Initiative]:
    """The user's initiatives with their report of `cycle` prefetched as `cycle_reports` (constant queries)."""
    if not may(user, "reviews.view_valuereport"):
        return Initiative.objects.none()
    reports = report_base_queryset().filter(cycle=cycle) if cycle else ValueReport.objects.none()
    ids = initiatives_of(user).values("pk")
    return (
        Initiative.objects.filter(pk__in=ids)
        .select_related("department", "owner")
        .prefetch_related(Prefetch("value_reports", queryset=reports, to_attr="cycle_reports"))
        .order_by(*ignoring_case("name"))
    )


def owed_drafts_q() -> Q:
    """Drafts still owed: in a cycle not closed, of an initiative that has not ended (a killed, retired or rejected
    initiative owes no more reports; its drafts are kept, "not expected")."""
    return Q(status=ReportStatus.DRAFT, cycle__closed_at__isnull=True) & ~Q(initiative__stage__in=ENDED_STAGES)


def taking_reports_q(today: date) -> Q:
    """Reports of cycles that take figures on `today`: opened, and the period they review has ended
    (ReviewCycle.takes_reports_from)."""
    return Q(cycle__opens_on__lte=today, cycle__period_end__lt=today)


def my_open_reports(*, user: Viewer) -> QuerySet[ValueReport]:
    """Drafts of the user's running initiatives in cycles that are open and take reports: what they still owe."""
    today = timezone.localdate()
    return report_base_queryset().filter(
        owed_drafts_q(), taking_reports_q(today), initiative__in=initiatives_of(user).values("pk"),
    ).order_by("cycle__due_on", "initiative__name")


def first_reported_period(*, initiative_id: int) -> tuple[date, str] | None:
    """The first day of the period of the initiative's earliest submitted value report and its cycle's name, or None
    (registered with portfolio.evidence: the start date may not move past it)."""
    first = (ValueReport.objects.filter(initiative_id=initiative_id, status=ReportStatus.SUBMITTED)
             .order_by("cycle__period_start").values_list("cycle__period_start", "cycle__name").first())
    return (first[0], first[1]) if first else None


def report_written_by(report: ValueReport, user: Viewer) -> bool:
    """Whether the user submitted the report or entered figures or evidence in it (ValueReport.authors, which the
    services keep): they may not judge or reopen it (tollgate.roles.wrote_the_report)."""
    if not user.is_authenticated:
        return False
    return report.submitted_by_id == user.pk or report.authors.filter(pk=user.pk).exists()


def review_queue(*, user: Viewer) -> QuerySet[ValueReport]:
    """Submitted reports without a verdict, minus those of initiatives the reviewer owns or acts for and those they
    submitted or edited themselves."""
    if not may(user, "governance.view_reviewqueue"):
        return ValueReport.objects.none()
    return (
        report_base_queryset()
        .filter(status=ReportStatus.SUBMITTED, verdict__isnull=True)
        .exclude(initiative__in=initiatives_of(user).values("pk"))
        .exclude(Q(submitted_by=user))
        .exclude(Q(authors=user))
        .order_by("submitted_at", "pk")
    )


def cycle_status_order(today: date) -> Case:
    """The cycle's status (ReviewCycle.status_on) as a number to sort on, in the order CycleStatus lists them
    (upcoming, open, closed): the list's Status column sorts by what it shows, on the page and in its CSV alike."""
    order = {status: index for index, status in enumerate(CycleStatus)}
    return Case(
        When(closed_at__isnull=False, then=Value(order[CycleStatus.CLOSED])),
        When(Q(opens_on__gt=today) | Q(period_end__gte=today), then=Value(order[CycleStatus.UPCOMING])),
        default=Value(order[CycleStatus.OPEN]), output_field=IntegerField(),
    )


def report_state_order(today: date) -> Case:
    """The report's state (ValueReport.state_on, report_state_q) as a number to sort on, in the order ReportState
    lists them (the Status filter's order): due, overdue, submitted, verdict given, not open yet, not submitted, not
    expected."""
    return Case(*(When(report_state_q(state, today), then=Value(index)) for index, state in enumerate(ReportState)),
                output_field=IntegerField())


def cycle_list(*, user: Viewer, today: date | None = None) -> QuerySet[ReviewCycle]:
    """Cycles with their report counts and `status_order` (cycle_status_order) for sorting by status."""
    if not may(user, "reviews.view_reviewcycle"):
        return ReviewCycle.objects.none()
    today = today or timezone.localdate()
    return ReviewCycle.objects.select_related("created_by").annotate(
        reports_count=Count("reports"),
        submitted_count=Count("reports", filter=Q(reports__status=ReportStatus.SUBMITTED)),
        overdue_count=Count("reports", filter=report_state_q(ReportState.OVERDUE, today, prefix="reports__")),
        status_order=cycle_status_order(today),
    )


def cycle_reports(cycle: ReviewCycle, today: date | None = None) -> QuerySet[ValueReport]:
    """The cycle's reports with `state_order` (report_state_order) for sorting by the state the page shows."""
    today = today or timezone.localdate()
    return report_base_queryset().filter(cycle=cycle).annotate(state_order=report_state_order(today)).order_by(
        *ignoring_case("initiative__department__name", "initiative__name"))


@dataclass(frozen=True)
class DepartmentProgress:
    """A department's reports of a cycle by state (ValueReport.state_on); submitted counts those with a verdict."""

    department: str
    submitted: int
    due: int
    overdue: int
    not_open: int = 0
    not_submitted: int = 0
    not_expected: int = 0

    @property
    def total(self) -> int:
        return (self.submitted + self.due + self.overdue + self.not_open + self.not_submitted
                + self.not_expected)


# The states a cycle's overview counts beside submitted / due / overdue, shown only when some report is in them.
PROGRESS_EXTRA_STATES = (
    ("not_open", "Not open yet", "#8a8f98"),
    ("not_submitted", "Not submitted (cycle closed)", "#6b4f3a"),
    ("not_expected", "Not expected (initiative ended)", "#c4c7cc"),
)


def cycle_progress_by_department(cycle: ReviewCycle, today: date | None = None) -> list[DepartmentProgress]:
    """Reports per department and state, in one aggregate query (the states as ValueReport.state_on decides them)."""
    today = today or timezone.localdate()
    counts = {state.value: Count("pk", filter=report_state_q(state, today)) for state in ReportState}
    rows = (
        ValueReport.objects.filter(cycle=cycle).order_by().values("initiative__department__name")
        .annotate(**counts)
        .order_by("initiative__department__name")
    )
    return [
        DepartmentProgress(
            row["initiative__department__name"], row[ReportState.SUBMITTED] + row[ReportState.REVIEWED],
            row[ReportState.DUE], row[ReportState.OVERDUE], not_open=row[ReportState.NOT_OPEN],
            not_submitted=row[ReportState.NOT_SUBMITTED], not_expected=row[ReportState.NOT_EXPECTED],
        )
        for row in rows
    ]


def cycle_progress_extra_states(progress: list[DepartmentProgress]) -> list[tuple[str, str]]:
    """The (attribute, label) of the states beyond submitted / due / overdue that some department has reports in."""
    return [(attr, label) for attr, label, _ in PROGRESS_EXTRA_STATES if any(getattr(row, attr) for row in progress)]


def cycle_progress_figure(progress: list[DepartmentProgress]) -> dict[str, Any]:
    """Plotly stacked bar chart (JSON-ready) of the cycle's reports per department."""
    departments = [row.department for row in progress]
    shown = {attr for attr, _ in cycle_progress_extra_states(progress)}
    series = (("Submitted", "submitted", "#1f7a4d"), ("Due", "due", "#e0a526"), ("Overdue", "overdue", "#b3261e"),
              *((label, attr, color) for attr, label, color in PROGRESS_EXTRA_STATES if attr in shown))
    return {
        "data": [
            {"type": "bar", "name": label, "x": departments, "y": [getattr(row, attr) for row in progress],
             "marker": {"color": color}, "hovertemplate": f"%{{x}}: %{{y}} {label.lower()}<extra></extra>"}
            for label, attr, color in series
        ],
        "layout": {
            "barmode": "stack",
            "title": {"text": "Value reports per department"},
            "height": 300,
            "margin": {"l": 50, "r": 20, "t": 40, "b": 60},
            "yaxis": {"title": {"text": "reports"}, "dtick": 1},
            "paper_bgcolor": "rgba(0,0,0,0)",
            "plot_bgcolor": "rgba(0,0,0,0)",
        },
    }


def notifications_of(*, user: Viewer) -> QuerySet[Notification]:
    """Only the user's own notifications, newest first."""
    if not user.is_authenticated or not may(user, "reviews.view_notification"):
        return Notification.objects.none()
    return Notification.objects.filter(user=user).order_by("-created_at", "-pk")


def unread_count(user: Viewer) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).count() if user.is_authenticated else 0


# Figures of a report -------------------------------------------------------------------------------------------------


def business_case_of(initiative: Initiative) -> BusinessCase | None:
    try:
        return initiative.business_case
    except BusinessCase.DoesNotExist:
        return None


@dataclass(frozen=True)
class ReportCost:
    amount: Decimal | None
    # The run cost is the business case's estimate: no run-cost records (compute, inference, licences...) in the period.
    estimated: bool
    label: str
    # Any part of `amount` is the business case's estimate (also oversight or maintenance without records beside
    # recorded run cost): what the dashboard's `*` marks, so it means the same as the initiative page's.
    partly_estimated: bool = False
    # How the figures computed from it are labelled: "actual", "estimated" (no part actual) or "partly estimated",
    # followed by ", incomplete: 2 of 3 months read" when months nobody read are left out (`unread`).
    basis: str = "actual"
    # The months of the report that no cost source read: left out of `amount` (neither $0 nor their estimates), as
    # the costs API leaves them out (`data: "unread"`), so the report's cost is that of the months read.
    unread: tuple[date, ...] = ()


def with_unread(cost: ReportCost, counted: CountedMonths) -> ReportCost:
    """The cost with the months nobody read named (counted: the report's months and which were left out): its label
    ends "; 2 of 3 months read (2026-08 unread: ...)" and its basis "..., incomplete: 2 of 3 months read"."""
    if not counted.unread or cost.amount is None:
        return cost
    return replace(cost, unread=counted.unread, label=f"{cost.label}; {counted.note}",
                   basis=f"{cost.basis}, incomplete: {len(counted.read)} of {len(counted.months)} months read")


def report_months(report: ValueReport) -> list[date]:
    """The months of the report's cycle that its initiative ran (calculations.months_ran: from the month of its start
    date; an ended one to the last month its TCO counts), the months its outcomes, oversight and cost are spread
    over. Reads the report's `tco_last_month` annotation when there is one (report_figures_loaded), else one query
    for an ended initiative."""
    cycle, initiative = report.cycle, report.initiative
    ended: date | None = None
    if initiative.stage in ENDED_STAGES:
        if hasattr(report, "tco_last_month"):
            ended = report.tco_last_month
        else:
            ended = ended_on({initiative.pk}).get(initiative.pk)
    return calculations.months_ran(cycle.period_start, cycle.period_end, started=initiative.start_date, ended=ended)


def report_cost(report: ValueReport) -> ReportCost:
    """The cycle's total cost of ownership of the initiative: the sum of its InitiativeMonthlyTco rows in the cycle's
    months, the figure its cost panel shows for them (start date, end and reported oversight hours included).

    Actual when cost records exist for the initiative in the cycle's months, else estimated; the business case's
    monthly TCO x months only when the TCO has no month in the cycle (no cost data for the period yet).
    """
    cycle = report.cycle
    left_out = _left_out_of(report)
    if left_out is None or not hasattr(report, "tco_has_records"):
        # Read without the list's annotations: the same annotations (report_tco_annotations), on this report alone
        # and with its own months nobody read, so both paths read the figures one way.
        left_out = tco_months_counted(cycle.period_start, cycle.period_end).unread
        names = report_tco_annotations(left_out=left_out)
        row = ValueReport.objects.filter(pk=report.pk).annotate(**names).values(*names).first() or {}
        report = copy(report)
        for name in names:
            if name != "tco_last_month":  # report_months reads an ended initiative's last month as before
                setattr(report, name, bool(row.get(name)) if name == "tco_has_records" else row.get(name))
    has_records, total = getattr(report, "tco_has_records", False), getattr(report, "tco_total", None)
    estimated = getattr(report, "tco_estimated", None) or Decimal(0)
    oversight = getattr(report, "tco_oversight_estimated", None) or Decimal(0)
    maintenance = getattr(report, "tco_maintenance_estimated", None) or Decimal(0)
    if report.status == ReportStatus.DRAFT and report.oversight_hours is not None and total is not None:
        total, estimated = _with_draft_oversight(report, total, estimated or Decimal(0), left_out=left_out)
        oversight = Decimal(0)  # the draft's reported hours take the estimated oversight's place
    case = business_case_of(report.initiative)
    ran = report_months(report)
    cost = cost_of(has_records=has_records, total=total, estimated=estimated, months=len(ran),
                   case_tco_monthly=lambda: case.tco_monthly if case is not None else None,
                   has_business_case=case is not None,
                   estimated_parts={"oversight": oversight, "maintenance": maintenance})
    return with_unread(cost, CountedMonths(tuple(ran), tuple(m for m in ran if m in left_out)))


def _with_draft_oversight(report: ValueReport, total: Decimal, estimated: Decimal, *,
                          left_out: Collection[date] = ()) -> tuple[Decimal, Decimal]:
    """A draft's cost as it will be once submitted: the stored TCO counts only submitted reports' oversight hours
    (reported_oversight), so the preview puts the draft's own hours x the business case's loaded hourly rate in
    place of the estimated oversight of each month without an oversight cost record, as tco_recompute will then
    (portfolio.costs.calculations.month_tco). Other reports and the dashboard keep counting submitted ones only."""
    # Annotated by report_tco_annotations: on the list's queryset, or by report_cost on this report alone.
    row = {name: getattr(report, name, None) for name in draft_oversight_annotations(leaving_out=left_out)}
    replaced = row.get("tco_oversight_estimated") or Decimal(0)
    open_months = (row.get("tco_months") or 0) - (row.get("tco_oversight_recorded_months") or 0)
    case = business_case_of(report.initiative)
    rate = case.loaded_hourly_rate if case is not None else Decimal(0)
    cycle = report.cycle
    ran = report_months(report)
    per_month = calculations.oversight_hours_by_month(report.oversight_hours or Decimal(0), cycle.period_start,
                                                      cycle.period_end, started=ran[0], ended=ran[-1])
    reported = sum((cents(hours * rate) for hours in list(per_month.values())[:open_months]), Decimal(0))
    return total - replaced + reported, estimated - replaced


ESTIMATED_PARTS_UNKNOWN = "oversight or maintenance without records"  # where the parts were not read (a list's rows)


def estimated_parts_words(estimated: Decimal, parts: Mapping[str, Decimal]) -> str:
    """Which parts of a cost with run-cost records are the business case's estimate, with their amount when there is
    more than one: "maintenance", "oversight $1,200.00 and maintenance $2,931.24"; what oversight and maintenance do
    not explain is run cost of months without records."""
    named = {name: cents(amount) for name, amount in parts.items() if cents(amount or Decimal(0))}
    rest = cents(estimated) - sum(named.values(), Decimal(0))
    if rest > 0:
        named["run cost of months without records"] = rest
    if len(named) <= 1:
        return next(iter(named), ESTIMATED_PARTS_UNKNOWN)
    words = [f"{name} {format_money(amount)}" for name, amount in named.items()]
    return ", ".join(words[:-1]) + " and " + words[-1]


def cost_of(*, has_records: bool, total: Decimal | None, estimated: Decimal | None, months: int,
            case_tco_monthly: Callable[[], Decimal | None], has_business_case: bool = True,
            estimated_parts: Mapping[str, Decimal] | None = None) -> ReportCost:
    """The rule of report_cost on plain figures; the business case is read only when the TCO has no month in the
    period. One TCO per initiative per month: the report costs what the initiative's cost panel says for the same
    months, so value per dollar, its signals and the dashboard agree with it. Without a business case the TCO's
    estimate is the declared monthly cost, and the label says so (`has_business_case`)."""
    if total is None:
        return ReportCost(calculations.estimated_cost(case_tco_monthly(), months), True, ESTIMATED_COST_LABEL,
                          partly_estimated=True, basis="estimated")
    if has_records:
        parts = ESTIMATED_PARTS_UNKNOWN if estimated_parts is None else estimated_parts_words(estimated or Decimal(0),
                                                                                                  estimated_parts)
        label = ACTUAL_COST_LABEL if not estimated else (
            f"{ACTUAL_COST_LABEL}; {format_money(estimated)} of it estimated from the business case ({parts})")
        partly = bool(cents(estimated or Decimal(0)))
        return ReportCost(cents(total), False, label, partly_estimated=partly,
                          basis="partly estimated" if partly else "actual")
    actual = cents(total) - cents(estimated or Decimal(0))
    estimated_label = ESTIMATED_COST_LABEL if has_business_case else DECLARED_COST_LABEL
    label = estimated_label if not actual else (
        f"{estimated_label}; {format_money(actual)} of it actual (oversight hours reported, or oversight or "
        "maintenance records)")
    return ReportCost(cents(total), True, label, partly_estimated=True,
                      basis="partly estimated" if actual else "estimated")


def kpis_in_reports(*, kpi_ids: Iterable[int]) -> dict[int, list[str]]:
    """For portfolio.evidence: each KPI that a submitted value report measured, with those reports' cycles."""
    measured: dict[int, list[str]] = defaultdict(list)
    for kpi_id, cycle in (KpiActual.objects.filter(kpi_id__in=list(kpi_ids), report__status=ReportStatus.SUBMITTED)
                          .order_by("report__cycle__opens_on").values_list("kpi_id", "report__cycle__name")):
        measured[kpi_id].append(cycle)
    return dict(measured)


def reported_oversight(
    *, initiative_ids: Iterable[int] | None, months: Iterable[date]
) -> dict[tuple[int, date], Decimal]:
    """Oversight hours per initiative and month from submitted value reports, for portfolio's TCO (registered in
    reviews.apps as portfolio.evidence's provider)."""
    wanted = set(months)
    if not wanted:
        return {}
    reports = ValueReport.objects.filter(
        status=ReportStatus.SUBMITTED, oversight_hours__isnull=False,
        cycle__period_start__lte=max(wanted), cycle__period_end__gte=min(wanted),
    )
    if initiative_ids is not None:
        reports = reports.filter(initiative_id__in=list(initiative_ids))
    hours: dict[tuple[int, date], Decimal] = {}
    rows = list(reports.values_list("initiative_id", "oversight_hours", "cycle__period_start", "cycle__period_end",
                                    "initiative__start_date", "initiative__stage"))
    ended = ended_on({row[0] for row in rows if row[5] in ENDED_STAGES})
    for initiative_id, reported, start, end, started, _stage in rows:
        for month, share in calculations.oversight_hours_by_month(reported or Decimal("0"), start, end,
                                                                  started=started,
                                                                  ended=ended.get(initiative_id)).items():
            if month in wanted:
                hours[(initiative_id, month)] = hours.get((initiative_id, month), Decimal("0")) + share
    return hours


@dataclass(frozen=True)
class KpiRow:
    """One KPI of a report: its actual, its money value by kind (or why it has none) and whether it met its target."""

    kpi: KPI
    actual: Decimal | None
    value: Decimal | None
    target_met: bool | None
    kind: str = ""
    no_value_reason: str = ""
    stated_value: Decimal | None = None
    evidence: str = ""


@dataclass(frozen=True)
class ReportFigures:
    rows: list[KpiRow]
    value: calculations.ReportValue
    cost: ReportCost
    cost_per_outcome: Decimal | None
    baseline_cost_per_outcome: Decimal | None
    value_per_dollar: Decimal | None
    months: int  # the months of the cycle the initiative ran (report_months)
    monthly_outcomes: Decimal | None
    min_viable_scale: int | None
    cycle_months: int = 0


def kpi_row(kpi: KPI, *, actual: Decimal | None, stated_value: Decimal | None, evidence: str,
            outcomes: int | None) -> KpiRow:
    """A KPI's figures in a report: its money by kind, or the reason it has none."""
    worth = calculations.kpi_value(kpi.kind, baseline=kpi.baseline, actual=actual, direction=kpi.direction,
                                   value_per_unit=kpi.value_per_unit, outcomes=outcomes, stated_value=stated_value,
                                   evidence=evidence)
    return KpiRow(kpi, actual, worth.amount, calculations.target_met(actual, kpi.target, kpi.direction),
                  kind=kpi.kind, no_value_reason=worth.no_value_reason, stated_value=stated_value, evidence=evidence)


def report_figures(report: ValueReport, actuals: dict[int, Decimal | None] | None = None) -> ReportFigures:
    """Everything the report computes; `actuals` (kpi id -> value) overrides the stored actuals for a preview.

    Value is the sum of the KPIs' money by kind (or the owner-stated report value), cost the quarter's TCO
    from report_cost (actual with cost records, else estimated); value per AI dollar = value /
    cost and cost per outcome = cost / outcomes, beside the approved business case's baseline cost per outcome (and
    its minimum viable scale: portfolio.selectors.approved_plan)."""
    entries: dict[int, KpiActual] = {a.kpi_id: a for a in report.actuals.all()}
    stored = {kpi_id: entry.actual for kpi_id, entry in entries.items()}
    actuals = stored if actuals is None else actuals
    rows = [
        kpi_row(kpi, actual=actuals.get(kpi.pk), stated_value=getattr(entries.get(kpi.pk), "stated_value", None),
                evidence=getattr(entries.get(kpi.pk), "evidence", ""), outcomes=report.outcome_count)
        for kpi in report.initiative.kpis.all()
    ]
    value = calculations.report_value([row.value for row in rows], report.stated_value)
    cost = report_cost(report)
    plan = approved_plan(report.initiative)  # the approved business case is the yardstick, not later edits
    months = len(report_months(report))
    return ReportFigures(
        rows=rows,
        value=value,
        cost=cost,
        cost_per_outcome=calculations.cost_per_outcome(cost.amount, report.outcome_count),
        baseline_cost_per_outcome=plan.baseline_cost_per_outcome,
        value_per_dollar=calculations.value_per_dollar(value.amount, cost.amount) if value.amount is not None else None,
        months=months,
        monthly_outcomes=calculations.monthly_outcomes(report.outcome_count, months),
        min_viable_scale=plan.min_viable_scale,
        cycle_months=report.cycle.months,
    )


def reviewer_backlog(*, user: Viewer) -> int:
    """How many reports wait for this reviewer's verdict (shown on governance's review queue)."""
    return review_queue(user=user).count()


def reported_active_users() -> Subquery:
    """The active users of an initiative (`OuterRef("pk")`) in its latest submitted report that gives them, for
    governance's sprawl savings."""
    latest_report = ValueReport.objects.filter(
        initiative=OuterRef("pk"), status=ReportStatus.SUBMITTED, active_users__isnull=False
    ).order_by("-cycle__period_end", "-submitted_at")
    return Subquery(latest_report.values("active_users")[:1], output_field=IntegerField())


def evidence_q(today: date) -> Q:
    """Submitted reports that count as evidence on `today`: of a period that has ended. A report about months that
    have not happened (one submitted before this was refused) feeds no guard, signal or dashboard."""
    return Q(status=ReportStatus.SUBMITTED, cycle__period_end__lt=today)


def scale_evidence(*, initiative: Initiative) -> str | None:
    """Evidence for governance's pilot -> production guard: the latest submitted report of an ended period
    (evidence_q) at or above the approved business case's minimum viable scale (outcomes per month; lowering it after
    approval does not count), described in one line; None when there is none."""
    min_viable_scale = approved_plan(initiative).min_viable_scale
    if min_viable_scale is None:
        return None
    reports = (
        ValueReport.objects.filter(evidence_q(timezone.localdate()), initiative=initiative,
                                   outcome_count__isnull=False)
        .select_related("cycle")
        .order_by("-cycle__period_end", "-pk")
    )
    for report in reports:
        line = calculations.scale_evidence_line(cycle_name=report.cycle.name, outcome_count=report.outcome_count,
                                                months=len(report_months(report)),
                                                min_viable_scale=min_viable_scale)
        if line is not None:
            return line
    return None


def review_facts(*, initiative_ids: Collection[int] | None, reports: int, today: date) -> dict[int, ReviewFacts]:
    """Governance's signals read this (registered in reviews/apps.py): per initiative with value reports, the
    figures of its last `reports` submitted reports of ended periods (evidence_q; newest first, as report_figures
    computes them), its drafts overdue in open cycles (not those of an ended initiative: it owes none), and its
    minimum-viable-scale evidence (against the approved business case). A constant
    number of queries for any number of initiatives: the submitted reports' headline, the initiatives with their KPIs
    and approved business cases, the latest reports with their actuals, the overdue drafts, and the months no cost
    source read (cost_data_reading), which their costs leave out as report_cost does."""
    submitted = ValueReport.objects.filter(evidence_q(today))
    overdue = ValueReport.objects.filter(report_state_q(ReportState.OVERDUE, today))
    if initiative_ids is not None:
        ids = list(initiative_ids)
        submitted, overdue = submitted.filter(initiative_id__in=ids), overdue.filter(initiative_id__in=ids)
    latest: dict[int, list[int]] = {}
    scale: dict[int, str] = {}
    cycle_of: dict[int, int] = {}
    periods: set[tuple[date, date]] = set()
    outcomes_of: dict[int, list[tuple[int | None, str, date, date]]] = defaultdict(list)  # newest first
    headlines = submitted.order_by("initiative_id", "-cycle__period_end", "-pk").values_list(
        "pk", "initiative_id", "outcome_count", "cycle_id", "cycle__name", "cycle__period_start", "cycle__period_end")
    for pk, initiative_id, outcomes, cycle_id, cycle_name, start, end in headlines.iterator(chunk_size=5000):
        kept = latest.setdefault(initiative_id, [])
        if len(kept) < reports:
            kept.append(pk)
            cycle_of[pk] = cycle_id
            periods.add((start, end))
        outcomes_of[initiative_id].append((outcomes, cycle_name, start, end))
    figures: dict[int, ReportFacts] = {}
    wanted = [pk for pks in latest.values() for pk in pks]
    # One initiative object per initiative (its KPIs, business case and approved versions loaded once, shared by its
    # reports): model instances per report are what a portfolio of 10,000 would spend its time on. The wanted reports
    # are read by their cycles (a handful of ids) rather than by id (tens of thousands in an IN list, slower to build
    # than to run); the few older ones that come along are skipped.
    wanted_set, cycles = set(wanted), {cycle_of[pk] for pk in wanted}
    initiatives = Initiative.objects.select_related("business_case").prefetch_related(
        Prefetch("kpis", queryset=KPI.objects.order_by("pk")), approved_versions_prefetch()).in_bulk(list(latest))
    ended = ended_on({pk for pk in outcomes_of if initiatives[pk].stage in ENDED_STAGES})  # none: no query
    for initiative_id, rows in outcomes_of.items():
        # The evidence: the latest report at or above the approved business case's minimum viable scale.
        min_viable_scale = approved_plan(initiatives[initiative_id]).min_viable_scale
        for outcomes, cycle_name, start, end in rows:
            ran = calculations.months_ran(start, end, started=initiatives[initiative_id].start_date,
                                          ended=ended.get(initiative_id))
            line = calculations.scale_evidence_line(
                cycle_name=cycle_name, outcome_count=outcomes, months=len(ran), min_viable_scale=min_viable_scale)
            if line is not None:
                scale[initiative_id] = line
                break
    # The months their costs leave out (report_tco_left_out), from the periods already read: no query for the cycles.
    annotations = report_tco_annotations(left_out=tco_months_left_out(periods))
    loaded = submitted.filter(cycle_id__in=cycles).select_related("cycle").prefetch_related("actuals").annotate(
        **{name: annotations[name] for name in ("tco_total", "tco_estimated", "tco_has_records", "tco_last_month",
                                                "tco_left_out")})
    report_url = url_pattern("reviews:report_detail")
    for report in loaded.iterator(chunk_size=5000):
        if report.pk not in wanted_set:
            continue
        report.initiative = initiatives[report.initiative_id]
        result = report_figures(report)
        verdicts = [row.target_met for row in result.rows]
        figures[report.pk] = ReportFacts(
            quarter=report.cycle.name, url=report_url(report.pk), value=result.value.amount,
            cost=result.cost.amount, value_per_dollar=result.value_per_dollar,
            targets_met=verdicts.count(True), targets_missed=verdicts.count(False),
        )
    late: dict[int, list[OverdueReport]] = {}
    for pk, initiative_id, cycle_name, due_on in overdue.order_by("initiative_id", "cycle__due_on").values_list(
            "pk", "initiative_id", "cycle__name", "cycle__due_on"):
        late.setdefault(initiative_id, []).append(
            OverdueReport(quarter=cycle_name, due_on=due_on, days_overdue=(today - due_on).days, url=report_url(pk)))
    return {
        initiative_id: ReviewFacts(
            reports=tuple(figures[pk] for pk in latest.get(initiative_id, []) if pk in figures),
            overdue=tuple(late.get(initiative_id, [])),
            scale_evidence=scale.get(initiative_id),
        )
        for initiative_id in set(latest) | set(late)
    }


# Who is written to ---------------------------------------------------------------------------------------------------


def report_owners(report: ValueReport) -> list:
    """Owner and delegates (named on the initiative or on the owner's profile), active, without duplicates."""
    return people_acting_for(report.initiative)


def coe_reviewers() -> list:
    return list(User.objects.filter(groups__name=Role.REVIEWER, is_active=True).distinct().order_by("pk"))


def reports_awaiting_reminder(today: date) -> QuerySet[ValueReport]:
    """Drafts still owed (owed_drafts_q) in cycles that take reports and are not yet due (reminders stop at the due
    date; escalation takes over)."""
    return report_base_queryset().filter(
        report_state_q(ReportState.DUE, today)).order_by("pk")


def reports_to_escalate(today: date, escalation_days: int) -> QuerySet[ValueReport]:
    """Drafts still owed (owed_drafts_q) overdue by MORE than `escalation_days` days that were not escalated yet
    against their cycle's present due date (one moved later is escalated again once it has passed)."""
    from reviews.models import ReminderLog

    escalated = ReminderLog.objects.filter(report=OuterRef("pk"), kind="escalation",
                                           due_on=OuterRef("cycle__due_on"))
    return report_base_queryset().filter(
        report_state_q(ReportState.OVERDUE, today), cycle__due_on__lt=today - timedelta(days=escalation_days),
    ).exclude(Exists(escalated)).order_by("pk")


def report_state_q(state: ReportState, today: date, *, prefix: str = "") -> Q:
    """The reports in `state` on `today`, as ValueReport.state_on decides it, for filtering a list (`prefix`: the
    path to the report from the queried model, "reports__" from a cycle)."""
    draft = Q(status=ReportStatus.DRAFT)
    ended = Q(initiative__stage__in=ENDED_STAGES)
    closed = Q(cycle__closed_at__isnull=False)
    taking = taking_reports_q(today)
    owed = owed_drafts_q()
    query = {
        ReportState.DUE: owed & taking & Q(cycle__due_on__gte=today),
        ReportState.OVERDUE: owed & taking & Q(cycle__due_on__lt=today),
        ReportState.NOT_OPEN: owed & ~taking,
        ReportState.NOT_SUBMITTED: draft & ~ended & closed,
        ReportState.NOT_EXPECTED: draft & ended,
        ReportState.SUBMITTED: Q(status=ReportStatus.SUBMITTED, verdict__isnull=True),
        ReportState.REVIEWED: Q(status=ReportStatus.SUBMITTED, verdict__isnull=False),
    }[state]
    return _prefixed(query, prefix) if prefix else query


def _prefixed(query: Q, prefix: str) -> Q:
    """The same condition, each lookup reached through `prefix`."""
    children = [_prefixed(child, prefix) if isinstance(child, Q) else _prefixed_lookup(child, prefix)
                for child in query.children]
    return Q(*children, _connector=query.connector, _negated=query.negated)


def _prefixed_lookup(child: Any, prefix: str) -> tuple[str, Any]:
    lookup, value = child
    return f"{prefix}{lookup}", value


def report_state_counts(queryset: QuerySet[ValueReport], today: date | None = None) -> dict[str, int]:
    """How many of the reports are in each state on `today` (one aggregate query)."""
    today = today or timezone.localdate()
    counts = queryset.order_by().aggregate(
        **{state.value: Count("pk", filter=report_state_q(state, today)) for state in ReportState})
    return {state.value: counts[state.value] or 0 for state in ReportState}


def quarter_values(*, quarter: Quarter, initiative_ids: Iterable[int] | None,
                   reading: CostDataReading | None = None) -> QuarterValueSet:
    """The value, outcomes and cost of each initiative's submitted report for the quarter's cycle (named like the
    quarter; none while the quarter has not ended: evidence_q), for portfolio's dashboard; registered in
    reviews.apps. A constant number of queries."""
    ids = None if initiative_ids is None else list(initiative_ids)
    reports = ValueReport.objects.filter(evidence_q(timezone.localdate()), cycle__name=quarter.name)
    if ids is not None:
        reports = reports.filter(initiative_id__in=ids)
    # Thousands of reports: read as plain rows and valued by the same rules as report_figures (kpi_value,
    # report_value, cost_of); building a model object per report, KPI and actual took seconds on 10,000 initiatives.
    # The cost of the months read (tco_months_counted, the costs API's rule), as each report's page says it.
    counted = tco_months_counted(quarter.months[0], quarter.months[-1], reading=reading)
    rows: list[dict[str, Any]] = list(reports.annotate(**tco_period_annotations(
        initiative="initiative_id", start="cycle__period_start", end="cycle__period_end",
        leaving_out=counted.unread)).values(
        "pk", "initiative_id", "outcome_count", "stated_value", "cycle__period_start", "cycle__period_end",
        "initiative__start_date", "tco_total", "tco_estimated", "tco_has_records"))  # type: ignore[misc]  # annotations the stubs cannot see
    kpis: dict[int, list[Mapping[str, Any]]] = defaultdict(list)
    kpi_rows: Iterable[Mapping[str, Any]] = KPI.objects.filter(
        initiative_id__in=reports.values("initiative_id")).order_by("pk").values(
        "pk", "initiative_id", "kind", "baseline", "direction", "value_per_unit")
    for kpi in kpi_rows:
        kpis[kpi["initiative_id"]].append(kpi)
    actual_rows: Iterable[Mapping[str, Any]] = KpiActual.objects.filter(report__in=reports).values(
        "report_id", "kpi_id", "actual", "stated_value", "evidence")
    entries = {(a["report_id"], a["kpi_id"]): a for a in actual_rows}
    without_tco = [row["initiative_id"] for row in rows if row["tco_total"] is None]
    cases = {case.initiative_id: case.tco_monthly for case in BusinessCase.objects.filter(
        initiative_id__in=without_tco).only("initiative_id", *TCO_FIELDS)} if without_tco else {}
    report_url = url_pattern("reviews:report_detail")
    values: dict[int, ReportedValue] = {}
    for row in rows:
        amounts = []
        for kpi in kpis[row["initiative_id"]]:
            entry: Mapping[str, Any] = entries.get((row["pk"], kpi["pk"])) or {}
            amounts.append(calculations.kpi_value(
                kpi["kind"], baseline=kpi["baseline"], actual=entry.get("actual"), direction=kpi["direction"],
                value_per_unit=kpi["value_per_unit"], outcomes=row["outcome_count"],
                stated_value=entry.get("stated_value"), evidence=entry.get("evidence", "")))
        value = calculations.report_value(amounts, row["stated_value"])
        ran = calculations.months_ran(row["cycle__period_start"], row["cycle__period_end"],
                                      started=row["initiative__start_date"])
        cost = cost_of(has_records=row["tco_has_records"], total=row["tco_total"], estimated=row["tco_estimated"],
                       months=len(ran), case_tco_monthly=functools.partial(cases.get, row["initiative_id"]))
        values[row["initiative_id"]] = ReportedValue(
            initiative_id=row["initiative_id"], value=value.amount, outcomes=row["outcome_count"],
            cost=cost.amount, cost_is_actual=not cost.estimated, cost_partly_estimated=cost.partly_estimated,
            url=report_url(row["pk"]),
            cost_unread=tuple(m for m in counted.unread if m in ran) if cost.amount is not None else (),
        )
    cycle = ReviewCycle.objects.filter(name=quarter.name).first()
    owed = ValueReport.objects.filter(owed_drafts_q(), cycle__name=quarter.name)
    if ids is not None:
        owed = owed.filter(initiative_id__in=ids)
    return QuarterValueSet(values, cycle.get_absolute_url() if cycle else reverse("reviews:cycle_list"),
                           outstanding=owed.count() if cycle else 0, due_on=cycle.due_on if cycle else None)


def quarter_verdicts(*, quarter: Quarter, department_id: int | None) -> list[Decision]:
    """The verdicts given on the quarter's value reports, for the board pack (registered in reviews.apps)."""
    verdicts = Verdict.objects.filter(report__cycle__name=quarter.name).select_related(
        "reviewer", "report__initiative").order_by("decided_at", "pk")
    if department_id:
        verdicts = verdicts.filter(report__initiative__department_id=department_id)
    return [
        Decision(when=f"{v.decided_at:%Y-%m-%d}", what=f"Verdict: {v.get_decision_display()}",
                 initiative=v.report.initiative.name, department_id=v.report.initiative.department_id,
                 by=v.reviewer.get_full_name() or v.reviewer.get_username(), reason=v.rationale,
                 url=v.report.get_absolute_url())
        for v in verdicts
    ]


def dashboard_data_version() -> tuple:
    """What of the reviews app the dashboard reads, as a fingerprint (registered in reviews.apps)."""
    return (
        ValueReport.objects.aggregate(n=Count("pk"), at=Max("updated_at")),
        Verdict.objects.aggregate(n=Count("pk"), at=Max("decided_at")),
        KpiActual.objects.aggregate(n=Count("pk")),
    )


def submitted_on_behalf(report: ValueReport) -> bool:
    """Submitted by someone other than the owner it was submitted for (a delegate, or an administrator, who may fill
    in and submit anyone's report): the report says so rather than read as the owner's own. Both are as they were at
    submission (submitted_for), so a later hand-over changes neither whether nor whom it names."""
    return (report.submitted_by_id is not None and report.submitted_for_id is not None
            and report.submitted_by_id != report.submitted_for_id)


# An initiative's value reports ---------------------------------------------------------------------------------------

# The report events an initiative's history shows: what was decided, not each draft saved.
REPORT_DECISION_EVENTS = ("value_report_submitted", "value_report_reopened", "verdict")


def initiative_audit_q(*, initiative_ids: QuerySet | list[int], decisions_only: bool) -> Q:
    """For governance.evidence: audit entries about the initiatives' value reports, their KPI actuals, attachments
    and verdicts (or only the reports' submissions, reopenings and verdicts), deleted ones included, as a subquery of
    the ids."""
    types = ContentType.objects.get_for_models(ValueReport, KpiActual, ReportAttachment, Verdict)
    # Each entry names its initiative when it is written: a deleted actual's or attachment's entries still match.
    entries = audit_entries_of_initiatives(initiative_ids)
    if decisions_only:
        return Q(pk__in=entries, content_type=types[ValueReport], additional_data__event__in=REPORT_DECISION_EVENTS)
    return Q(pk__in=entries, content_type__in=list(types.values()))


@dataclass(frozen=True)
class InitiativeReportRow:
    """One of an initiative's value reports as its page lists it: the report (cycle, state, verdict loaded) and the
    figures report_figures computes for it."""

    report: ValueReport
    figures: ReportFigures

    @property
    def verdict(self) -> Verdict | None:
        return getattr(self.report, "verdict", None)


def initiative_reports(initiative: Initiative, *, user: Viewer) -> list[InitiativeReportRow]:
    """The initiative's value reports, newest cycle first, with their figures and verdicts: its track record on its
    own page. A fixed number of queries however many reports (the reports with cycle, business case, verdict and the
    period's cost; the KPIs, approved versions and actuals each once)."""
    if not may(user, "reviews.view_valuereport"):
        return []
    reports = report_figures_loaded().select_related("verdict__reviewer").filter(
        initiative_id=initiative.pk).order_by("-cycle__period_start", "-pk")
    return [InitiativeReportRow(report, report_figures(report)) for report in reports]
