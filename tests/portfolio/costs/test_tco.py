"""An initiative's monthly total cost of ownership: the arithmetic, the rebuild and where it is read."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from portfolio.choices import Stage
from portfolio.costs.calculations import CaseEstimate, TcoPart, month_tco
from portfolio.costs.selectors import initiative_tco_by_period, last_complete_month, last_complete_quarter
from portfolio.costs.services.tco import tco_recompute
from portfolio.models import InitiativeMonthlyTco, MonthlyCost
from reviews.choices import ReportStatus
from reviews.selectors import ESTIMATED_COST_LABEL, report_cost
from tests.factories import BusinessCaseFactory, InitiativeFactory, ReviewCycleFactory, ValueReportFactory
from tests.portfolio.costs.factories import CostSourceFactory, IngestionRunFactory, source_added

D = Decimal
CASE = CaseEstimate(inference=D("800"), storage=D("50"), oversight_hours=D("20"), loaded_hourly_rate=D("65"),
                    maintenance=D("300"))


# The arithmetic ------------------------------------------------------------------------------------------------------


def test_records_make_the_run_cost_actual_and_the_case_fills_oversight_and_maintenance():
    parts = month_tco(rolled_up={"inference": D("1234.567"), "licences": D("390")}, reported_oversight_hours=None,
                      case=CASE)
    assert parts == [
        TcoPart("inference", D("1234.57"), True), TcoPart("licences", D("390.00"), True),
        TcoPart("oversight", D("1300.00"), False), TcoPart("maintenance", D("300.00"), False),
    ]


def test_without_records_the_run_cost_is_the_business_case_estimate():
    parts = month_tco(rolled_up={}, reported_oversight_hours=None, case=CASE)
    assert [(p.category, p.amount, p.actual) for p in parts] == [
        ("inference", D("800.00"), False), ("storage", D("50.00"), False), ("oversight", D("1300.00"), False),
        ("maintenance", D("300.00"), False),
    ]


def test_reported_hours_are_actual_oversight_at_the_loaded_rate():
    parts = month_tco(rolled_up={"inference": D("10")}, reported_oversight_hours=D("12.5"), case=CASE)
    assert TcoPart("oversight", D("812.50"), True) in parts


def test_oversight_and_maintenance_records_win_over_reports_and_estimates():
    parts = month_tco(rolled_up={"oversight": D("99"), "maintenance": D("7")}, reported_oversight_hours=D("40"),
                      case=CASE)
    assert parts == [TcoPart("oversight", D("99.00"), True), TcoPart("maintenance", D("7.00"), True)]


def test_without_a_business_case_the_declared_cost_is_the_estimate():
    parts = month_tco(rolled_up={}, reported_oversight_hours=None, case=CaseEstimate(declared=D("1200"),
                                                                                        has_case=False))
    assert parts == [TcoPart("other", D("1200.00"), False)]


# The rebuild and its readers -----------------------------------------------------------------------------------------


def _cost(initiative, month: date, amount: str, category: str = "inference") -> None:
    MonthlyCost.objects.create(initiative=initiative, month=month, category=category, amount=D(amount))


@pytest.mark.django_db
def test_rebuild_covers_running_initiatives_from_their_start_and_is_idempotent():
    recorded = InitiativeFactory(stage=Stage.PRODUCTION, start_date=date(2026, 1, 10))
    BusinessCaseFactory(initiative=recorded)
    estimated = InitiativeFactory(stage=Stage.PILOT, start_date=date(2026, 8, 15), declared_monthly_cost=D("500"))
    InitiativeFactory(stage=Stage.PROPOSED)  # not running: no estimated cost
    for month in (date(2026, 7, 1), date(2026, 8, 1), date(2026, 9, 1)):
        _cost(recorded, month, "1000")
    first = tco_recompute()
    rows = list(InitiativeMonthlyTco.objects.values_list("initiative_id", "month", "category", "amount", "actual"))
    assert tco_recompute() == first
    assert list(InitiativeMonthlyTco.objects.values_list("initiative_id", "month", "category", "amount",
                                                         "actual")) == rows
    assert set(InitiativeMonthlyTco.objects.values_list("initiative_id", flat=True)) == {recorded.pk, estimated.pk}
    assert sorted(InitiativeMonthlyTco.objects.filter(initiative=estimated).values_list("month", flat=True)) == [
        date(2026, 8, 1), date(2026, 9, 1)]

    quarter = initiative_tco_by_period(start=date(2026, 7, 1), end=date(2026, 9, 1))
    # 3 x (1,000 actual inference + 1,300 oversight + 300 maintenance estimated)
    assert quarter[recorded.pk].total == D("7800.00")
    assert quarter[recorded.pk].actual == D("3000.00")
    assert quarter[recorded.pk].estimated == D("4800.00")
    assert quarter[recorded.pk].has_records is True
    assert quarter[estimated.pk].total == D("1000.00") and quarter[estimated.pk].has_records is False


@pytest.mark.django_db
def test_a_submitted_report_makes_oversight_actual_and_the_report_costs_the_actual_tco():
    initiative = InitiativeFactory(stage=Stage.PILOT, start_date=date(2026, 1, 1))
    BusinessCaseFactory(initiative=initiative)
    for month in (date(2026, 7, 1), date(2026, 8, 1), date(2026, 9, 1)):
        _cost(initiative, month, "1000")
    tco_recompute()
    cycle = ReviewCycleFactory()
    report = ValueReportFactory(cycle=cycle, initiative=initiative, oversight_hours=D("30"), outcome_count=10)
    report.status = ReportStatus.SUBMITTED
    report.save()
    from reviews.services import _oversight_changed

    _oversight_changed(report)
    oversight = InitiativeMonthlyTco.objects.get(initiative=initiative, month=date(2026, 8, 1), category="oversight")
    assert (oversight.amount, oversight.actual) == (D("650.00"), True)  # 30 h / 3 months x 65
    cost = report_cost(report)
    assert cost.estimated is False
    assert cost.amount == D("3000.00") + D("1950.00") + D("900.00")
    assert "actual" in cost.label


@pytest.mark.django_db
def test_a_report_without_cost_records_stays_estimated_from_the_business_case():
    initiative = InitiativeFactory(stage=Stage.PILOT)
    BusinessCaseFactory(initiative=initiative)
    report = ValueReportFactory(initiative=initiative)
    cost = report_cost(report)
    assert (cost.estimated, cost.label) == (True, ESTIMATED_COST_LABEL)
    assert cost.amount == D("2450.00") * 3


@pytest.mark.django_db
def test_a_report_without_cost_records_costs_the_tco_of_the_months_it_ran_with_its_reported_oversight():
    """One TCO per initiative per month: the report, its value per dollar and the dashboard read the figure of the
    initiative's cost panel, not the business case x the cycle's three months (a pilot started mid-quarter ran two)."""
    from portfolio.calculations import Quarter
    from reviews.selectors import quarter_values, report_detail_loaded

    initiative = InitiativeFactory(stage=Stage.PILOT, start_date=date(2026, 8, 15))
    BusinessCaseFactory(initiative=initiative)  # $2,450 a month: 800 + 50 + 20 h x 65 + 300
    for month in (date(2026, 7, 1), date(2026, 8, 1), date(2026, 9, 1)):
        _cost(None, month, "1")
    tco_recompute()
    report = ValueReportFactory(cycle=ReviewCycleFactory(name="2026-Q3"), initiative=initiative)
    assert report_cost(report) == report_cost(report_detail_loaded().get(pk=report.pk))
    assert (report_cost(report).amount, report_cost(report).estimated) == (D("4900.00"), True)

    report.oversight_hours = D("30")  # over the two months it ran: 15 h a month x 65 in place of the case's 20 h
    report.save()
    draft = report_cost(report_detail_loaded().get(pk=report.pk))
    report.status = ReportStatus.SUBMITTED
    report.save()
    from reviews.services import _oversight_changed

    _oversight_changed(report)
    submitted = report_cost(report_detail_loaded().get(pk=report.pk))
    panel = initiative_tco_by_period(initiative_ids=[initiative.pk], start=date(2026, 7, 1), end=date(2026, 9, 1))
    assert submitted.amount == draft.amount == panel[initiative.pk].total == D("4250.00")  # 2 x (850 + 975 + 300)
    assert submitted.estimated is True and "$1,950.00 of it actual" in submitted.label
    reported = quarter_values(quarter=Quarter(2026, 3), initiative_ids=[initiative.pk]).values[initiative.pk]
    assert (reported.cost, reported.cost_is_actual) == (D("4250.00"), False)


@pytest.mark.django_db
def test_last_complete_month_and_quarter_ignore_the_current_month_and_unallocated_spend():
    initiative = InitiativeFactory()
    MonthlyCost.objects.create(initiative=None, month=date(2026, 10, 1), category="inference", amount=5)
    _cost(initiative, date(2026, 9, 1), "5")
    _cost(initiative, date(2026, 11, 1), "5")
    assert last_complete_month(today=date(2026, 11, 20)) == date(2026, 9, 1)
    assert last_complete_month(today=date(2026, 9, 3)) is None
    assert last_complete_quarter(today=date(2026, 11, 20)) == ("2026-Q3", date(2026, 7, 1), date(2026, 9, 1))
    _cost(initiative, date(2026, 8, 1), "5")
    MonthlyCost.objects.filter(month=date(2026, 9, 1)).delete()
    assert last_complete_quarter(today=date(2026, 11, 20)) == ("2026-Q2", date(2026, 4, 1), date(2026, 6, 1))


@pytest.mark.django_db
def test_a_month_one_source_delivered_while_another_still_owes_it_is_not_the_last_complete_month():
    """As on the dashboard: a few rows uploaded for October must not make October the month signals and pages read
    while the other sources still owe it; once every enabled source delivered it, it is."""
    september, october = date(2026, 9, 1), date(2026, 10, 1)
    initiative = InitiativeFactory()
    added = datetime(2026, 8, 3, tzinfo=UTC)  # both read since the summer: each owes every month after its last
    billing, upload = source_added(CostSourceFactory(), added), source_added(CostSourceFactory(), added)
    IngestionRunFactory(source=billing, period=september)
    IngestionRunFactory(source=upload, period=september)
    IngestionRunFactory(source=upload, period=october)
    _cost(initiative, september, "5")
    _cost(initiative, october, "5")
    today = date(2026, 11, 20)
    assert last_complete_month(today=today) == september
    assert last_complete_quarter(today=today) == ("2026-Q3", date(2026, 7, 1), september)
    billing.enabled = False  # a disabled source owes nothing
    billing.save(update_fields=["enabled"])
    assert last_complete_month(today=today) == october
    billing.enabled = True
    billing.save(update_fields=["enabled"])
    IngestionRunFactory(source=billing, period=october)
    assert last_complete_month(today=today) == october


@pytest.mark.django_db
def test_a_stage_change_or_business_case_edit_rebuilds_the_initiatives_rows(admin_user):
    from portfolio.services.initiatives import business_case_save

    initiative = InitiativeFactory(stage=Stage.PRODUCTION, start_date=None, declared_monthly_cost=D("100"))
    _cost(None, date(2026, 9, 1), "1")
    tco_recompute()
    assert InitiativeMonthlyTco.objects.get(initiative=initiative).amount == D("100.00")
    business_case_save(actor=admin_user, initiative=initiative, tco_inference=D("40"), tco_maintenance=D("2"))
    assert dict(InitiativeMonthlyTco.objects.filter(initiative=initiative).values_list("category", "amount")) == {
        "inference": D("40.00"), "maintenance": D("2.00")}


def _kill(initiative, reviewer, *, on: datetime | None = None) -> None:
    """Kill through the lifecycle, at `on` (default now): the audit trail is append-only, so the kill is made on the
    clock the demo writes its history with rather than back-dated."""
    from contextlib import nullcontext

    from governance.services import initiative_transition
    from tollgate.demo.clock import demo_clock

    with demo_clock(on) if on is not None else nullcontext():
        initiative_transition(actor=reviewer, initiative=initiative, transition="kill", reason="No value.")


def _months(initiative) -> list[date]:
    return sorted(set(InitiativeMonthlyTco.objects.filter(initiative=initiative).values_list("month", flat=True)))


@pytest.mark.django_db
def test_killing_an_initiative_keeps_the_tco_of_the_months_it_ran(reviewer):
    initiative = InitiativeFactory(stage=Stage.PILOT, start_date=date(2026, 1, 10))
    BusinessCaseFactory(initiative=initiative)
    for month in (date(2026, 7, 1), date(2026, 8, 1), date(2026, 9, 1)):
        _cost(None, month, "1")  # the span the TCO covers; the initiative itself has no records
    tco_recompute()
    before = list(InitiativeMonthlyTco.objects.filter(initiative=initiative).values_list(
        "month", "category", "amount", "actual").order_by("month", "category"))
    assert len(_months(initiative)) == 3

    _kill(initiative, reviewer)

    assert list(InitiativeMonthlyTco.objects.filter(initiative=initiative).values_list(
        "month", "category", "amount", "actual").order_by("month", "category")) == before


@pytest.mark.django_db
def test_an_ended_initiative_is_estimated_up_to_the_month_it_ended_in_and_not_after(reviewer):
    killed = InitiativeFactory(stage=Stage.PRODUCTION, start_date=date(2026, 1, 10))
    BusinessCaseFactory(initiative=killed)
    rejected = InitiativeFactory(stage=Stage.REJECTED, start_date=date(2026, 1, 10))  # never ran
    BusinessCaseFactory(initiative=rejected)
    for month in (date(2026, 7, 1), date(2026, 8, 1), date(2026, 9, 1)):
        _cost(None, month, "1")
    _cost(killed, date(2026, 9, 1), "40")  # a late invoice after the kill still counts: it is a record
    tco_recompute()

    _kill(killed, reviewer, on=datetime(2026, 8, 15, 12, tzinfo=UTC))

    assert _months(killed) == [date(2026, 7, 1), date(2026, 8, 1), date(2026, 9, 1)]
    september = dict(InitiativeMonthlyTco.objects.filter(initiative=killed, month=date(2026, 9, 1)).values_list(
        "category", "amount"))
    # ... but only the record: no estimated oversight or maintenance for a month after it ended.
    assert september == {"inference": D("40.00")}
    august = dict(InitiativeMonthlyTco.objects.filter(initiative=killed, month=date(2026, 8, 1)).values_list(
        "category", "amount"))
    assert {"oversight", "maintenance"} <= set(august)  # the month it ended in it still ran
    MonthlyCost.objects.filter(initiative=killed).delete()
    tco_recompute()
    assert _months(killed) == [date(2026, 7, 1), date(2026, 8, 1)]
    assert _months(rejected) == []


@pytest.mark.django_db
def test_a_record_before_the_start_date_is_costed_without_the_case_s_estimates():
    """A record dated before the initiative's start (a set-up invoice) is its cost for that month, but the case's
    oversight and maintenance are of the months it runs: the month before its start is not estimated."""
    initiative = InitiativeFactory(stage=Stage.PRODUCTION, start_date=date(2026, 8, 10))
    BusinessCaseFactory(initiative=initiative)
    for month in (date(2026, 7, 1), date(2026, 8, 1)):
        _cost(None, month, "1")
    _cost(initiative, date(2026, 7, 1), "25")
    tco_recompute()

    july = dict(InitiativeMonthlyTco.objects.filter(initiative=initiative, month=date(2026, 7, 1)).values_list(
        "category", "amount"))
    assert july == {"inference": D("25.00")}
    august = dict(InitiativeMonthlyTco.objects.filter(initiative=initiative, month=date(2026, 8, 1)).values_list(
        "category", "amount"))
    assert {"oversight", "maintenance"} <= set(august)


def test_a_month_outside_the_life_is_its_actuals_alone():
    assert month_tco(rolled_up={"inference": D("40")}, reported_oversight_hours=D("2"), case=CASE,
                     estimate=False) == [TcoPart("inference", D("40.00"), True),
                                         TcoPart("oversight", D("130.00"), True)]
    assert month_tco(rolled_up={"inference": D("40")}, reported_oversight_hours=None, case=CASE,
                     estimate=False) == [TcoPart("inference", D("40.00"), True)]
    assert month_tco(rolled_up={}, reported_oversight_hours=None, case=CASE, estimate=False) == []
