"""Review selectors: scale evidence for governance, report figures, progress per department, who acts for whom."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal as D

import pytest
from django.utils import timezone

from portfolio.calculations import Quarter
from portfolio.choices import KpiDirection, KpiKind, Stage
from portfolio.costs.services.tco import tco_recompute
from portfolio.models import MonthlyCost
from portfolio.services import business_case_save, business_case_version_record
from reviews import calculations, selectors
from reviews.choices import ReportState, ReportStatus
from reviews.models import ValueReport
from tests.factories import (
    BusinessCaseFactory,
    DepartmentFactory,
    InitiativeFactory,
    KPIFactory,
    ReviewCycleFactory,
    UserFactory,
    ValueReportFactory,
)
from tollgate.roles import Role

pytestmark = pytest.mark.django_db


def test_scale_evidence_is_the_latest_submitted_report_at_or_above_min_viable_scale(initiative):
    BusinessCaseFactory(initiative=initiative, min_viable_scale=5000)
    q2 = ReviewCycleFactory(name="2026-Q2", period_start=date(2026, 4, 1), period_end=date(2026, 6, 30))
    q3 = ReviewCycleFactory(name="2026-Q3")
    assert selectors.scale_evidence(initiative=initiative) is None
    ValueReportFactory(initiative=initiative, cycle=q2, status=ReportStatus.SUBMITTED, outcome_count=15000)
    ValueReportFactory(initiative=initiative, cycle=q3, status=ReportStatus.SUBMITTED, outcome_count=14999)
    evidence = selectors.scale_evidence(initiative=initiative)
    assert evidence.startswith("Value report 2026-Q2: 15,000 outcomes in 3 months = 5,000/month")


def test_drafts_and_missing_thresholds_are_no_evidence(initiative, other_initiative):
    BusinessCaseFactory(initiative=initiative, min_viable_scale=10)
    ValueReportFactory(initiative=initiative, outcome_count=1_000_000)  # a draft
    assert selectors.scale_evidence(initiative=initiative) is None
    BusinessCaseFactory(initiative=other_initiative, min_viable_scale=None)
    ValueReportFactory(initiative=other_initiative, status=ReportStatus.SUBMITTED, outcome_count=1_000_000)
    assert selectors.scale_evidence(initiative=other_initiative) is None
    assert selectors.scale_evidence(initiative=InitiativeFactory()) is None  # no business case


def test_value_is_measured_against_the_approved_business_case(owner, reviewer, initiative):
    """Lowering the minimum viable scale or raising the baseline after approval changes neither the promotion evidence
    nor the baseline a report compares with."""
    BusinessCaseFactory(initiative=initiative, min_viable_scale=5000)  # baseline $4.50 per outcome
    business_case_version_record(initiative=initiative, actor=reviewer, approve=True)
    business_case_save(actor=owner, initiative=initiative, min_viable_scale=10, baseline_cost_per_outcome=D("90"))
    report = ValueReportFactory(initiative=initiative, status=ReportStatus.SUBMITTED, outcome_count=3000)
    assert selectors.scale_evidence(initiative=initiative) is None  # 1,000/month: below the approved 5,000
    figures = selectors.report_figures(selectors.report_detail_loaded().get(pk=report.pk))
    assert (figures.baseline_cost_per_outcome, figures.min_viable_scale) == (D("4.5000"), 5000)
    facts = selectors.review_facts(initiative_ids=[initiative.pk], reports=1, today=date(2027, 1, 1))
    assert facts[initiative.pk].scale_evidence is None


def test_report_figures_value_cost_and_targets(initiative):
    BusinessCaseFactory(initiative=initiative)  # TCO 2,450.00 / month, baseline $4.50 per outcome
    deflected = KPIFactory(initiative=initiative, baseline=D("0"), target=D("4000"), direction=KpiDirection.INCREASE,
                           value_per_unit=D("4.50"))
    handle = KPIFactory(initiative=initiative, kind=KpiKind.PER_OUTCOME, baseline=D("6.0"), target=D("4.0"),
                        direction=KpiDirection.DECREASE, value_per_unit=D("0.75"))
    report = ValueReportFactory(initiative=initiative, outcome_count=15000)
    report.actuals.create(kpi=deflected, actual=D("5000"))
    report.actuals.create(kpi=handle, actual=D("4.5"))
    figures = selectors.report_figures(report)
    # 1.5 minutes saved on each of 15,000 outcomes at $0.75 a minute
    assert [row.value for row in figures.rows] == [D("22500.00"), D("16875.00")]
    assert [row.kind for row in figures.rows] == ["count", "per_outcome"]
    assert [row.target_met for row in figures.rows] == [True, False]
    assert figures.value.amount == D("39375.00") and not figures.value.is_stated
    assert (figures.cost.amount, figures.cost.estimated, figures.cost.label) == (
        D("7350.00"), True, "estimated from the business case")
    assert figures.cost_per_outcome == D("0.4900") and figures.baseline_cost_per_outcome == D("4.5000")
    assert figures.value_per_dollar == D("5.36")


def test_the_issues_report_values_handle_time_per_outcome_against_the_actual_tco(initiative):
    """Handle time fell 23% and cost per outcome is $0.56 against a $3.20 baseline: about 4x, not 0.19x."""
    initiative.start_date = date(2026, 1, 1)
    initiative.save()
    BusinessCaseFactory(initiative=initiative, baseline_cost_per_outcome=D("3.20"), oversight_hours_per_month=0,
                        tco_maintenance=0)
    for month, amount in ((date(2026, 7, 1), "3733.33"), (date(2026, 8, 1), "3733.33"), (date(2026, 9, 1), "3733.34")):
        MonthlyCost.objects.create(initiative=initiative, month=month, category="inference", amount=D(amount))
    tco_recompute()
    handle = KPIFactory(initiative=initiative, name="Handle time", unit="minutes per e-mail",
                        kind=KpiKind.PER_OUTCOME, baseline=D("13"), target=D("10"), value_per_unit=D("0.75"))
    csat = KPIFactory(initiative=initiative, name="CSAT", unit="points", kind=KpiKind.RATIO, baseline=D("72"),
                      target=D("75"), direction=KpiDirection.INCREASE, value_per_unit=None)
    report = ValueReportFactory(initiative=initiative, outcome_count=20_000)
    report.actuals.create(kpi=handle, actual=D("10"))
    report.actuals.create(kpi=csat, actual=D("76"))

    figures = selectors.report_figures(selectors.report_detail_loaded().get(pk=report.pk))

    assert [(row.value, row.no_value_reason) for row in figures.rows] == [
        (D("45000.00"), ""), (None, "a ratio KPI without a value per point")]
    assert [row.target_met for row in figures.rows] == [True, True]
    assert (figures.cost.amount, figures.cost.estimated) == (D("11200.00"), False)
    assert figures.cost.label == selectors.ACTUAL_COST_LABEL
    assert (figures.cost_per_outcome, figures.baseline_cost_per_outcome) == (D("0.5600"), D("3.2000"))
    assert (figures.value.amount, figures.value.kpis_valued, figures.value.kpis_unvalued) == (D("45000.00"), 1, 1)
    assert figures.value_per_dollar == D("4.02")


def test_a_stated_kpi_counts_its_stated_value_with_evidence_and_no_money_is_no_value(initiative):
    BusinessCaseFactory(initiative=initiative)
    stated = KPIFactory(initiative=initiative, name="Overcharges recovered", kind=KpiKind.STATED,
                        value_per_unit=None)
    ratio = KPIFactory(initiative=initiative, name="Containment", unit="%", kind=KpiKind.RATIO, value_per_unit=None)
    report = ValueReportFactory(initiative=initiative, outcome_count=100)
    report.actuals.create(kpi=ratio, actual=D("40"))
    assert selectors.report_figures(report).value.amount is None
    assert selectors.report_figures(report).value_per_dollar is None  # no value is not a value of $0
    report.actuals.create(kpi=stated, stated_value=D("12000"), evidence="Supplier credit notes, Q3.")
    figures = selectors.report_figures(report)
    assert [(row.kind, row.value, row.evidence) for row in figures.rows] == [
        ("stated", D("12000.00"), "Supplier credit notes, Q3."), ("ratio", None, "")]
    assert figures.value.amount == D("12000.00") and not figures.value.is_stated


def test_a_cost_is_partly_estimated_whenever_any_part_of_it_is_the_business_case_s():
    """`estimated`: no run-cost records, the run cost is the case's; `partly_estimated`: any part is (oversight or
    maintenance without records beside recorded run cost too), what the dashboard's `*` marks."""
    def cost(**figures):
        return selectors.cost_of(months=3, case_tco_monthly=lambda: D("100"), **figures)

    recorded = cost(has_records=True, total=D("900"), estimated=D("300"))
    assert (recorded.estimated, recorded.partly_estimated) == (False, True)
    assert (cost(has_records=True, total=D("900"), estimated=D("0")).partly_estimated,
            cost(has_records=True, total=D("900"), estimated=D("0.001")).partly_estimated) == (False, False)
    assert cost(has_records=False, total=D("900"), estimated=D("900")).partly_estimated is True
    case = cost(has_records=False, total=None, estimated=None)
    assert (case.amount, case.estimated, case.partly_estimated) == (D("300.00"), True, True)


def test_a_costs_basis_names_a_mix_of_actual_and_estimated_as_partly_estimated():
    """The report's tiles (cost per outcome, value per dollar) say "partly estimated" as the cost panel does, not
    "actual" for recorded run cost beside estimated oversight, nor "estimated" beside reported oversight hours."""
    def basis(**figures):
        return selectors.cost_of(months=3, case_tco_monthly=lambda: D("100"), **figures).basis

    assert basis(has_records=True, total=D("900"), estimated=D("0")) == "actual"
    assert basis(has_records=True, total=D("900"), estimated=D("300")) == "partly estimated"
    assert basis(has_records=False, total=D("900"), estimated=D("600")) == "partly estimated"
    assert basis(has_records=False, total=D("900"), estimated=D("900")) == "estimated"
    assert basis(has_records=False, total=None, estimated=None) == "estimated"


def test_progress_by_department_splits_due_and_overdue_by_the_due_date():
    cycle = ReviewCycleFactory(due_on=date(2026, 10, 31))
    sales = DepartmentFactory(name="Sales")
    ValueReportFactory(cycle=cycle, status=ReportStatus.SUBMITTED, initiative=InitiativeFactory(department=sales))
    ValueReportFactory(cycle=cycle, initiative=InitiativeFactory(department=sales))
    before = selectors.cycle_progress_by_department(cycle, today=date(2026, 10, 31))
    after = selectors.cycle_progress_by_department(cycle, today=date(2026, 11, 1))
    assert [(r.department, r.submitted, r.due, r.overdue) for r in before] == [("Sales", 1, 1, 0)]
    assert [(r.department, r.submitted, r.due, r.overdue) for r in after] == [("Sales", 1, 0, 1)]


def test_report_owners_include_named_and_profile_delegates(owner, initiative):
    named = UserFactory(role=Role.OWNER)
    assistant = UserFactory(role=Role.OWNER)
    initiative.delegates.add(named)
    owner.profile.delegates.add(assistant)
    UserFactory(role=Role.OWNER)  # somebody else
    report = ValueReportFactory(initiative=initiative)
    assert {p.pk for p in selectors.report_owners(report)} == {owner.pk, named.pk, assistant.pk}
    assert set(selectors.initiatives_of(assistant)) == {initiative}


def test_current_cycle_prefers_the_latest_open_one():
    today = date(2026, 11, 23)
    ReviewCycleFactory(name="old", period_start=date(2026, 4, 1), opens_on=date(2026, 7, 1))
    current = ReviewCycleFactory(name="now", period_start=date(2026, 7, 1), opens_on=date(2026, 10, 1))
    ReviewCycleFactory(name="future", period_start=date(2026, 10, 1), opens_on=today + timedelta(days=40))
    assert selectors.current_cycle(today) == current


def test_review_queue_excludes_what_the_reviewer_acts_for(reviewer):
    cycle = ReviewCycleFactory()
    own = ValueReportFactory(cycle=cycle, status=ReportStatus.SUBMITTED,
                             initiative=InitiativeFactory(stage=Stage.PILOT, delegates=[reviewer]))
    other = ValueReportFactory(cycle=cycle, status=ReportStatus.SUBMITTED)
    assert list(selectors.review_queue(user=reviewer)) == [other]
    assert own not in selectors.review_queue(user=reviewer)
    assert not selectors.review_queue(user=UserFactory(role=Role.OWNER)).exists()


def test_quarter_values_follow_report_figures_on_the_demo(demo):
    """The dashboard reads thousands of reports as plain rows; each must be valued exactly as its report page does."""
    from portfolio.calculations import Quarter
    from reviews.selectors import quarter_values, report_figures, report_figures_loaded

    checked = 0
    for name in ValueReport.objects.filter(status=ReportStatus.SUBMITTED).values_list(
            "cycle__name", flat=True).distinct():
        values = quarter_values(quarter=Quarter.parse(name), initiative_ids=None).values
        for report in report_figures_loaded().filter(status=ReportStatus.SUBMITTED, cycle__name=name):
            figures = report_figures(report)
            got = values[report.initiative_id]
            assert (got.value, got.cost, got.cost_is_actual, got.cost_partly_estimated, got.outcomes) == (
                figures.value.amount, figures.cost.amount, not figures.cost.estimated, figures.cost.partly_estimated,
                report.outcome_count), report
            assert got.url == report.get_absolute_url()
            checked += 1
    assert checked >= 10


def test_a_drafts_preview_counts_its_own_oversight_hours_as_its_submission_will(owner, initiative):
    """The stored TCO counts only submitted reports' oversight hours; the draft's preview puts its own in place of the
    business case's estimate, so the figures before and after Submit are the same (and no other report moves)."""
    from reviews import services

    initiative.stage, initiative.start_date = Stage.PILOT, date(2026, 1, 1)
    initiative.save()
    BusinessCaseFactory(initiative=initiative)  # oversight 20 h x $65 a month estimated, maintenance $300
    for month in (date(2026, 7, 1), date(2026, 8, 1), date(2026, 9, 1)):
        MonthlyCost.objects.create(initiative=initiative, month=month, category="inference", amount=D("1000"))
    MonthlyCost.objects.create(initiative=initiative, month=date(2026, 9, 1), category="oversight", amount=D("500"))
    tco_recompute()
    kpi = KPIFactory(initiative=initiative, name="Tickets", baseline=D("0"), target=D("10"),
                     direction=KpiDirection.INCREASE, value_per_unit=D("4.50"))
    report = ValueReportFactory(initiative=initiative)
    services.value_report_save_draft(actor=owner, report=report, fields={"outcome_count": 900, "oversight_hours": 40},
                                     kpi_actuals={kpi.pk: D("100")})

    def figures():
        loaded = selectors.report_figures(selectors.report_detail_loaded().get(pk=report.pk))
        bare = selectors.report_figures(ValueReport.objects.get(pk=report.pk))  # without the annotations
        assert (bare.cost, bare.value_per_dollar) == (loaded.cost, loaded.value_per_dollar)
        return loaded.cost, loaded.value_per_dollar, loaded.cost_per_outcome

    preview = figures()
    # July and August: 40/3 h x $65 each instead of the estimated 20 h x $65; September's oversight record stays.
    assert preview[0].amount == D("3000") + 2 * D("866.67") + D("500") + 3 * D("300")
    assert "$900.00 of it estimated" in preview[0].label  # only the maintenance is left estimated
    services.value_report_submit(actor=owner, report=report)
    assert figures() == preview


def test_a_report_read_alone_and_in_a_list_costs_the_same_through_one_path(monkeypatch, django_assert_num_queries):
    """report_cost reads the figures of a report loaded without the list's annotations through the same annotations
    (report_tco_annotations), on that report alone: with a month nobody read (2026-08 of tco_example
    .build_august_unread), estimated oversight and maintenance, and a draft's own oversight hours, both give the same
    cost, label and months left out, and the bare report takes one query for them (it took two, summing the estimated
    oversight and maintenance in a query of its own)."""
    from tests.portfolio.tco_example import build_august_unread

    initiative = build_august_unread(monkeypatch)
    report = ValueReport.objects.get(initiative=initiative)
    submitted = selectors.report_cost(ValueReport.objects.get(pk=report.pk))
    assert submitted == selectors.report_cost(selectors.report_figures_loaded().get(pk=report.pk))
    assert (submitted.amount, submitted.unread) == (D("5200.00"), (date(2026, 8, 1),))
    assert "(oversight $2,600.00 and maintenance $600.00)" in submitted.label
    ValueReport.objects.filter(pk=report.pk).update(status=ReportStatus.DRAFT, oversight_hours=D("30"))
    loaded = selectors.report_figures_loaded().get(pk=report.pk)
    bare = ValueReport.objects.select_related("cycle", "initiative__business_case").get(pk=report.pk)
    with django_assert_num_queries(4):  # the cost data's reading (3), then the report's figures (1)
        draft = selectors.report_cost(bare)
    assert draft == selectors.report_cost(loaded)
    assert draft.amount != submitted.amount and draft.unread == (date(2026, 8, 1),)
    assert not hasattr(bare, "tco_total")  # the caller's report is left as it was


def test_an_initiatives_reports_newest_first_with_figures_and_verdicts_in_fixed_queries(
        initiative, reviewer, django_assert_num_queries):
    from reviews.models import Verdict

    BusinessCaseFactory(initiative=initiative)  # TCO 2,450.00 / month: 7,350.00 estimated for a quarter
    deflected = KPIFactory(initiative=initiative, baseline=D("0"), target=D("4000"), value_per_unit=D("4.50"),
                           direction=KpiDirection.INCREASE)
    q2 = ReviewCycleFactory(name="2026-Q2", period_start=date(2026, 4, 1), period_end=date(2026, 6, 30))
    older = ValueReportFactory(initiative=initiative, cycle=q2, status=ReportStatus.SUBMITTED, outcome_count=10)
    older.actuals.create(kpi=deflected, actual=D("1000"))
    Verdict.objects.create(report=older, reviewer=reviewer, decision="optimise", rationale="Cheaper model.")
    ValueReportFactory(initiative=initiative, cycle=ReviewCycleFactory(name="2026-Q3"))
    ValueReportFactory(cycle=q2)  # another initiative's

    rows = selectors.initiative_reports(initiative, user=reviewer)
    assert [row.report.cycle.name for row in rows] == ["2026-Q3", "2026-Q2"]
    assert (rows[1].figures.value.amount, rows[1].figures.cost.amount) == (D("4500.00"), D("7350.00"))
    assert rows[1].verdict.get_decision_display() == "Optimise" and rows[0].verdict is None
    # Reports, KPIs, approved versions, actuals; and which months no cost source read (report_tco_left_out: the
    # cycles, the enabled sources, the months they delivered, the roll-ups' months).
    with django_assert_num_queries(8):
        selectors.initiative_reports(initiative, user=reviewer)
    for cycle in ("2026-Q4", "2027-Q1"):
        ValueReportFactory(initiative=initiative, cycle=ReviewCycleFactory(name=cycle))
    with django_assert_num_queries(8):  # the same however many reports
        assert len(selectors.initiative_reports(initiative, user=reviewer)) == 4
    assert selectors.initiative_reports(initiative, user=UserFactory(role=None)) == []


# What is owed, and what counts as evidence ---------------------------------------------------------------------------


def test_reports_you_owe_leave_out_ended_initiatives_and_cycles_not_taking_reports(owner, initiative):
    today = timezone.localdate()
    initiative.stage = Stage.PILOT
    initiative.save()
    open_cycle = ReviewCycleFactory(name="2026-Q2", period_start=date(2026, 4, 1), period_end=date(2026, 6, 30),
                                    opens_on=today - timedelta(days=5), due_on=today + timedelta(days=20))
    owed = ValueReportFactory(cycle=open_cycle, initiative=initiative)
    killed = ValueReportFactory(cycle=open_cycle, initiative=InitiativeFactory(owner=owner, stage=Stage.KILLED))
    _, _, start, end = calculations.quarter_bounds(today)
    unfinished = ReviewCycleFactory(name="unfinished", period_start=start, period_end=end,
                                    opens_on=today - timedelta(days=1), due_on=end + timedelta(days=30))
    not_open = ValueReportFactory(cycle=unfinished, initiative=initiative)
    assert list(selectors.my_open_reports(user=owner)) == [owed]
    assert (killed.state, not_open.state) == (ReportState.NOT_EXPECTED, ReportState.NOT_OPEN)


def test_overdue_drafts_of_ended_initiatives_are_not_overdue_for_the_signals(initiative):
    initiative.stage = Stage.PILOT
    initiative.save()
    late = ReviewCycleFactory(due_on=date(2026, 10, 31))
    ValueReportFactory(cycle=late, initiative=initiative)
    killed = InitiativeFactory(stage=Stage.KILLED)
    ValueReportFactory(cycle=late, initiative=killed)
    facts = selectors.review_facts(initiative_ids=None, reports=2, today=date(2026, 12, 7))
    assert [r.quarter for r in facts[initiative.pk].overdue] == [late.name]
    assert killed.pk not in facts


def test_reports_of_a_period_not_over_feed_no_signal_nor_dashboard(initiative):
    """Submitted before such reports were refused: they stay readable, but are no evidence of anything."""
    BusinessCaseFactory(initiative=initiative, min_viable_scale=10)
    today = timezone.localdate()
    year, quarter, start, end = calculations.quarter_bounds(today)
    unfinished = ReviewCycleFactory(name=f"{year}-Q{quarter}", period_start=start, period_end=end, opens_on=today,
                                    due_on=end + timedelta(days=30))
    ValueReportFactory(cycle=unfinished, initiative=initiative, status=ReportStatus.SUBMITTED, outcome_count=9000)
    assert selectors.scale_evidence(initiative=initiative) is None
    assert initiative.pk not in selectors.review_facts(initiative_ids=None, reports=2, today=today)
    quarter_set = selectors.quarter_values(quarter=Quarter(year, quarter), initiative_ids=None)
    assert initiative.pk not in quarter_set.values
    # The day after the quarter ends, it is evidence like any other.
    after = end + timedelta(days=1)
    assert selectors.review_facts(initiative_ids=None, reports=2, today=after)[initiative.pk].scale_evidence


def test_the_review_queue_leaves_out_the_reports_a_reviewer_wrote(initiative, reviewer):
    initiative.stage = Stage.PILOT
    initiative.save()
    submitted_by_them = ValueReportFactory(initiative=initiative, status=ReportStatus.SUBMITTED, submitted_by=reviewer)
    edited_by_them = ValueReportFactory(initiative=InitiativeFactory(stage=Stage.PILOT),
                                        status=ReportStatus.SUBMITTED)
    edited_by_them.authors.add(reviewer)
    other = ValueReportFactory(initiative=InitiativeFactory(stage=Stage.PILOT), status=ReportStatus.SUBMITTED)
    assert list(selectors.review_queue(user=reviewer)) == [other]
    assert selectors.report_written_by(submitted_by_them, reviewer)
    assert selectors.report_written_by(edited_by_them, reviewer)
    assert not selectors.report_written_by(other, reviewer)


def test_every_state_the_pages_show_is_the_one_their_filter_and_counts_find(reviewer):
    """ValueReport.state_on (the badge) and report_state_q (the filter, the counts, the cycle overview) agree."""
    today = date(2026, 12, 7)
    past = ReviewCycleFactory(name="2026-Q2", period_start=date(2026, 4, 1), period_end=date(2026, 6, 30),
                              opens_on=date(2026, 7, 1), due_on=date(2026, 7, 31))
    current = ReviewCycleFactory(name="2026-Q3", opens_on=date(2026, 10, 1), due_on=date(2026, 12, 31))
    closed = ReviewCycleFactory(name="2026-Q1", period_start=date(2026, 1, 1), period_end=date(2026, 3, 31),
                                opens_on=date(2026, 4, 1), due_on=date(2026, 4, 30), closed_at=timezone.now())
    ahead = ReviewCycleFactory(name="2026-Q4", period_start=date(2026, 10, 1), period_end=date(2026, 12, 31),
                               opens_on=date(2027, 1, 1), due_on=date(2027, 1, 31))
    sales = DepartmentFactory(name="Sales")

    def report(cycle, stage=Stage.PILOT, **kwargs):
        return ValueReportFactory(cycle=cycle, initiative=InitiativeFactory(stage=stage, department=sales), **kwargs)

    expected = {
        report(current): ReportState.DUE,
        report(past): ReportState.OVERDUE,
        report(current, status=ReportStatus.SUBMITTED): ReportState.SUBMITTED,
        report(ahead): ReportState.NOT_OPEN,
        report(closed): ReportState.NOT_SUBMITTED,
        report(current, stage=Stage.KILLED): ReportState.NOT_EXPECTED,
        report(closed, stage=Stage.RETIRED): ReportState.NOT_EXPECTED,
    }
    for found, state in expected.items():
        assert ValueReport.objects.get(pk=found.pk).state_on(today) == state
        assert set(ValueReport.objects.filter(selectors.report_state_q(state, today))) == {
            r for r, s in expected.items() if s == state}
    counts = selectors.report_state_counts(ValueReport.objects.all(), today)
    assert counts == {"due": 1, "overdue": 1, "submitted": 1, "reviewed": 0, "not_open": 1, "not_submitted": 1,
                      "not_expected": 2}
    progress = {}
    for cycle in (current, closed, ahead):
        [row] = selectors.cycle_progress_by_department(cycle, today)
        progress[cycle.name] = (row.submitted, row.due, row.overdue, row.not_open, row.not_submitted,
                                row.not_expected)
    assert progress == {"2026-Q3": (1, 1, 0, 0, 0, 1), "2026-Q1": (0, 0, 0, 0, 1, 1), "2026-Q4": (0, 0, 0, 1, 0, 0)}


# --- the months a report covers: those its initiative ran -------------------------------------------------------------


def test_a_pilot_started_in_the_quarters_last_month_reports_one_month(owner, reviewer, initiative):
    """Outcomes per month, the minimum-viable-scale evidence, the cost label and the oversight hours count the months
    the initiative ran, not the quarter's three: 6,000 outcomes in September alone are 6,000 a month."""
    from reviews import services

    initiative.stage, initiative.start_date = Stage.PILOT, date(2026, 9, 14)
    initiative.save()
    BusinessCaseFactory(initiative=initiative, min_viable_scale=5000, oversight_hours_per_month=0, tco_maintenance=0)
    business_case_version_record(initiative=initiative, actor=reviewer, approve=True)
    for month in (date(2026, 7, 1), date(2026, 8, 1), date(2026, 9, 1)):
        MonthlyCost.objects.create(initiative=None, month=month, category="inference", amount=D("1"))
    MonthlyCost.objects.create(initiative=initiative, month=date(2026, 9, 1), category="inference", amount=D("900"))
    tco_recompute()
    report = ValueReportFactory(initiative=initiative)  # 2026-Q3
    services.value_report_save_draft(actor=owner, report=report, fields={"outcome_count": 6000, "oversight_hours": 30},
                                     kpi_actuals={})
    services.value_report_submit(actor=owner, report=report)

    figures = selectors.report_figures(selectors.report_detail_loaded().get(pk=report.pk))
    assert (figures.months, figures.cycle_months, figures.monthly_outcomes) == (1, 3, D("6000.00"))
    # All 30 hours land on September, the one month with a TCO, at the business case's loaded rate ($65).
    assert figures.cost.amount == D("900.00") + 30 * D("65")
    assert ": 6,000 outcomes in 1 month = 6,000/month" in selectors.scale_evidence(initiative=initiative)
    facts = selectors.review_facts(initiative_ids=[initiative.pk], reports=1, today=date(2027, 1, 1))
    assert facts[initiative.pk].scale_evidence == selectors.scale_evidence(initiative=initiative)


def test_a_report_of_an_initiative_killed_mid_quarter_covers_the_months_it_ran(reviewer, initiative):
    from datetime import UTC, datetime

    from governance.services import initiative_transition
    from tollgate.demo.clock import demo_clock

    initiative.stage, initiative.start_date = Stage.PRODUCTION, date(2026, 1, 10)
    initiative.save()
    BusinessCaseFactory(initiative=initiative)
    for month in (date(2026, 7, 1), date(2026, 8, 1), date(2026, 9, 1)):
        MonthlyCost.objects.create(initiative=None, month=month, category="inference", amount=D("1"))
    report = ValueReportFactory(initiative=initiative, status=ReportStatus.SUBMITTED, outcome_count=900)
    with demo_clock(datetime(2026, 8, 15, 12, tzinfo=UTC)):
        initiative_transition(actor=reviewer, initiative=initiative, transition="kill", reason="No value.")
    tco_recompute()

    loaded = selectors.report_figures(selectors.report_detail_loaded().get(pk=report.pk))
    bare = selectors.report_figures(ValueReport.objects.get(pk=report.pk))  # without the annotations: one query more
    assert (loaded.months, loaded.monthly_outcomes) == (bare.months, bare.monthly_outcomes) == (2, D("450.00"))
    assert loaded.cost == bare.cost


def test_the_months_a_period_ran():
    q3 = (date(2026, 7, 1), date(2026, 9, 30))
    july, august, september = date(2026, 7, 1), date(2026, 8, 1), date(2026, 9, 1)
    assert calculations.months_ran(*q3) == [july, august, september]
    assert calculations.months_ran(*q3, started=date(2026, 8, 31)) == [august, september]
    assert calculations.months_ran(*q3, started=date(2025, 1, 1), ended=date(2026, 7, 2)) == [july]
    assert calculations.months_ran(*q3, started=date(2026, 12, 1)) == [july, august, september]  # none: all
    assert calculations.oversight_hours_by_month(D("30"), *q3, started=date(2026, 9, 14)) == {september: D("30")}


def test_without_a_business_case_the_estimated_cost_is_labelled_the_declared_monthly_cost(db):
    """An imported initiative has no business case: its TCO estimate is the declared monthly cost, and the report
    says that, not "estimated from the business case"."""
    initiative = InitiativeFactory(stage=Stage.PILOT, start_date=date(2026, 1, 1), declared_monthly_cost=D("3200"))
    other = InitiativeFactory()  # another initiative's cost records make the quarter's months ones with cost data
    for month in (date(2026, 7, 1), date(2026, 8, 1), date(2026, 9, 1)):
        MonthlyCost.objects.create(initiative=other, month=month, category="inference", amount=D("10"))
    tco_recompute()
    figures = selectors.report_figures(ValueReportFactory(initiative=initiative))
    assert (figures.cost.amount, figures.cost.estimated, figures.cost.label) == (
        D("9600.00"), True, "estimated from the declared monthly cost")


@pytest.mark.parametrize(("oversight_hours", "parts"), [
    (D("30"), r"\(maintenance\)"),  # the report gave its oversight: only maintenance is the business case's
    (None, r"\(oversight \$[\d,]+\.\d\d and maintenance \$[\d,]+\.\d\d\)"),
])
def test_a_cost_with_records_names_exactly_the_parts_estimated_from_the_business_case(initiative, oversight_hours,
                                                                                       parts):
    """It said "(oversight or maintenance without records)" when only maintenance was estimated."""
    initiative.start_date = date(2026, 1, 1)
    initiative.save()
    BusinessCaseFactory(initiative=initiative, oversight_hours_per_month=10, tco_maintenance=500)
    for month in (date(2026, 7, 1), date(2026, 8, 1), date(2026, 9, 1)):
        MonthlyCost.objects.create(initiative=initiative, month=month, category="inference", amount=D("1000"))
    report = ValueReportFactory(initiative=initiative, outcome_count=1000, oversight_hours=oversight_hours,
                                status=ReportStatus.SUBMITTED)
    tco_recompute()

    for loaded in (ValueReport.objects.get(pk=report.pk), selectors.report_detail_loaded().get(pk=report.pk)):
        cost = selectors.report_cost(loaded)
        assert not cost.estimated and cost.partly_estimated
        assert re.fullmatch(re.escape(selectors.ACTUAL_COST_LABEL) + r"; \$[\d,]+\.\d\d of it estimated from the "
                            r"business case " + parts, cost.label), cost.label
