"""The dashboard's figures on a hand-built portfolio: each equals the sum of the records behind it."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from portfolio.calculations import Quarter, change, weighted_mean
from portfolio.choices import SourceType, Stage
from portfolio.costs.connectors.base import Period
from portfolio.costs.selectors import cost_report, last_complete_month
from portfolio.dashboard.providers import VERSION_KEY
from portfolio.dashboard.selectors import (
    dashboard,
    data_stamp,
    data_version,
    default_quarter,
    no_cost_data,
    period_label,
    quarter_not_begun,
    quarter_reading,
    snapshot_day,
    unallocated_keys,
)
from portfolio.models import CostSource, LicencePoolActivity, MonthlyCost
from reviews.choices import ReportStatus
from tests.factories import (
    BusinessCaseFactory,
    DepartmentFactory,
    InitiativeFactory,
    LicencePoolFactory,
    ReviewCycleFactory,
    ValueReportFactory,
)
from tests.portfolio.costs.factories import CostRecordFactory, CostSourceFactory, IngestionRunFactory, source_added

D = Decimal
Q3 = Quarter(2026, 3)
pytestmark = pytest.mark.django_db


def test_quarter_parsing_and_arithmetic():
    assert Quarter.parse("2026-q3") == Q3
    assert Q3.months == [date(2026, 7, 1), date(2026, 8, 1), date(2026, 9, 1)]
    assert (Q3.first_day, Q3.last_day) == (date(2026, 7, 1), date(2026, 9, 30))
    assert Quarter(2026, 1).previous() == Quarter(2025, 4) and Quarter(2025, 4).next() == Quarter(2026, 1)
    for bad in ("2026-Q5", "2026Q3", "", "Q3-2026", "0000-Q1"):
        with pytest.raises(ValueError, match="YYYY-Qn"):
            Quarter.parse(bad)
    assert change(D("110"), D("100")) == D("10.0")
    assert change(D("5"), D("0")) is None
    assert weighted_mean([(D("2"), D("1")), (D("4"), D("3"))]) == D("3.5000")


def test_a_quarter_is_shown_once_it_has_begun_and_labels_today_s_figures_unless_it_is_the_current_one():
    today = date(2026, 12, 7)
    assert quarter_not_begun(Quarter(2026, 4), today=today) is None
    assert quarter_not_begun(Quarter(1999, 1), today=today) is None
    assert quarter_not_begun(Quarter(2027, 1), today=today) == (
        "2027-Q1 has not begun yet: it starts on 1 Jan 2027. The latest quarter is 2026-Q4, in progress.")
    assert quarter_not_begun(Quarter(2027, 1), today=date(2027, 1, 1)) is None
    assert snapshot_day(Quarter(2026, 4), today=today) is None
    assert snapshot_day(Q3, today=today) == today


@pytest.fixture
def portfolio():
    claims, marketing = DepartmentFactory(name="Claims"), DepartmentFactory(name="Marketing")
    triage = InitiativeFactory(department=claims, stage=Stage.PRODUCTION, name="Claims triage")
    copy = InitiativeFactory(department=marketing, stage=Stage.PILOT, name="Copy assistant")
    InitiativeFactory(department=marketing, stage=Stage.PROPOSED)
    BusinessCaseFactory(initiative=triage, baseline_cost_per_outcome=D("4.00"))
    for month, (a, b, u) in {
        date(2026, 4, 1): ("900", "100", "50"), date(2026, 7, 1): ("1000", "200", "100"),
        date(2026, 8, 1): ("1100", "200", "100"), date(2026, 9, 1): ("1200", "300", "150.55"),
    }.items():
        MonthlyCost.objects.create(initiative=triage, month=month, category="inference", amount=D(a))
        MonthlyCost.objects.create(initiative=copy, month=month, category="licences", amount=D(b))
        MonthlyCost.objects.create(initiative=None, month=month, category="compute", amount=D(u))
    cycle = ReviewCycleFactory(name="2026-Q3")
    for initiative, stated, outcomes in ((triage, "9000", 1000), (copy, "350", None)):
        ValueReportFactory(cycle=cycle, initiative=initiative, status=ReportStatus.SUBMITTED, stated_value=D(stated),
                           stated_value_evidence="finance sign-off", outcome_count=outcomes)
    pool = LicencePoolFactory(initiative=copy, seats_purchased=100, price_per_seat_month=D("30"))
    LicencePoolActivity.objects.create(licence_pool=pool, month=date(2026, 8, 1), purchased=100, assigned=90,
                                       active_30d=40)
    LicencePoolActivity.objects.create(licence_pool=pool, month=date(2026, 9, 1), purchased=100, assigned=90,
                                       active_30d=70)
    for keys, amount in (({"tag:team": "data", "billing_account_id": "A1"}, "60"),
                         ({"tag:team": "data"}, "15"), ({"tag:team": "ops"}, "5")):
        CostRecordFactory(period=date(2026, 8, 1), charge_date=date(2026, 8, 3), amount=D(amount), keys=keys,
                          initiative=None)
    return {"claims": claims, "marketing": marketing, "triage": triage, "copy": copy}


def test_spend_and_unallocated_equal_the_cost_reports_of_the_quarter(portfolio):
    board = dashboard(quarter=Q3)
    reports = [cost_report(period=Period.month(m.year, m.month)) for m in Q3.months]
    assert board["spend"] == sum(r["total"] for r in reports) == D("4350.55")
    assert board["unallocated"] == sum(r["unallocated"] for r in reports) == D("350.55")
    figures = {f.key: f for f in board["figures"]}
    assert figures["spend"].previous == D("1050.00")
    assert figures["spend"].change == D("314.3")  # (4350.55 - 1050) / 1050


def test_a_quarter_nothing_was_read_for_has_no_spend_rather_than_zero_spend(portfolio):
    """A quarter in progress before its first month is read: spend, unallocated spend and idle seats are unknown, not
    $0.00 down 100%, and so is each department's spend. None of its months is complete: its cost figures are compared
    with nothing (before, with the whole previous quarter, which read -90% once a few days of it were read)."""
    board = dashboard(quarter=Quarter(2026, 4))
    assert board["has_cost_data"] is False
    assert (board["spend"], board["unallocated"], board["idle_licence_cost"]) == (None, None, None)
    figures = {f.key: f for f in board["figures"]}
    for key in ("spend", "unallocated", "unallocated_share", "idle_licence_cost"):
        assert (figures[key].value, figures[key].change) == (None, None), key
    assert figures["spend"].previous is None
    assert (board["months_read"], board["compared_months"], board["compared_with"]) == ([], [], None)
    # Naming the months, or a comparison, would say they were read: nothing was.
    assert figures["spend"].basis == "cost roll-ups: no cost data yet for 2026-Q4"
    assert {d["spend"] for d in board["departments"]} == {None}
    # A quarter that has data still says $0 for a department none of whose initiatives spent anything.
    assert dashboard(quarter=Q3)["has_cost_data"] is True
    quiet = DepartmentFactory(name="Procurement")
    assert next(d for d in dashboard(quarter=Q3)["departments"] if d["name"] == quiet.name)["spend"] == D("0")


def test_the_unallocated_share_changes_in_points(portfolio):
    figures = {f.key: f for f in dashboard(quarter=Q3)["figures"]}
    share = figures["unallocated_share"]
    assert (share.value, share.previous) == (D("8.1"), D("4.8"))  # 350.55 / 4,350.55 and 50 / 1,050
    assert share.change_points == D("3.3")
    assert share.change == D("68.8")  # the relative change, kept for the API's `change`
    assert figures["spend"].change_points is None  # money changes stay relative


def test_value_cost_per_outcome_stages_and_departments(portfolio):
    board = dashboard(quarter=Q3)
    assert board["value"] == D("9350.00")
    # Value per AI dollar: value / cost of the reports that have a cost. No TCO rows were built, so the triage report
    # costs its business case (2,450/month x 3) and the copy assistant's (no business case) has no cost.
    assert board["value_per_dollar"] == D("1.22")  # 9,000 / 7,350
    assert board["cost_per_outcome"] == D("7.3500")  # 7,350 / 1,000 outcomes
    assert board["initiatives_by_stage"]["production"] == 1 and board["initiatives_by_stage"]["proposed"] == 1
    assert board["baseline_cost_per_outcome"] == D("4.0000")
    departments = {d["name"]: d for d in board["departments"]}
    assert departments["Claims"]["spend"] == D("3300.00") and departments["Claims"]["value"] == D("9000.00")
    assert departments["Marketing"]["spend"] == D("700.00") and departments["Marketing"]["value"] == D("350.00")
    # Value per dollar says what it divides by: the triage's business case, an estimate, beside Claims' 3,300 spend.
    claims = departments["Claims"]
    assert (claims["value_per_dollar"], claims["value_cost"], claims["value_cost_estimated"]) == (
        D("1.22"), D("7350.00"), True)
    assert (departments["Marketing"]["value_per_dollar"], departments["Marketing"]["value_cost"]) == (None, None)
    quiet = DepartmentFactory(name="Procurement")  # nobody reported: no value, not a value of 0
    row = next(d for d in dashboard(quarter=Q3)["departments"] if d["name"] == quiet.name)
    assert (row["value"], row["value_per_dollar"]) == (None, None)


def test_a_department_s_value_cost_is_marked_estimated_when_any_part_of_it_is(portfolio):
    """The `*` means what it means on the initiative page: some of the cost is the business case's estimate. The
    triage's run cost is recorded, but its oversight and maintenance are the case's estimate (no records of them): the
    cost is actual (its report says so) and still partly estimated."""
    from portfolio.costs.services.tco import tco_recompute

    tco_recompute()
    reported = dashboard(quarter=Q3)
    claims = next(d for d in reported["departments"] if d["name"] == "Claims")
    # 3,300 of inference records + 3 x (20 h x 65 oversight + 300 maintenance) estimated
    assert (claims["value_cost"], claims["value_cost_estimated"]) == (D("8100.00"), True)
    from reviews.selectors import quarter_values

    value = quarter_values(quarter=Q3, initiative_ids=[portfolio["triage"].pk]).values[portfolio["triage"].pk]
    assert (value.cost_is_actual, value.cost_partly_estimated) == (True, True)


def test_a_quarter_whose_value_reports_are_not_all_in_is_compared_with_what_the_same_initiatives_reported(portfolio):
    """Value is a sum over reports: while a report of the cycle is still owed, the value of those in is compared with
    what the same initiatives reported the quarter before, not with a finished cycle (2 reports against 3 read as a
    fall of a third while nothing fell), and the board says how many are in and by when the rest are due."""
    late = InitiativeFactory(department=portfolio["claims"], stage=Stage.PRODUCTION, name="Late reporter")
    q2 = ReviewCycleFactory(name="2026-Q2", period_start=date(2026, 4, 1), period_end=date(2026, 6, 30),
                            opens_on=date(2026, 7, 1), due_on=date(2026, 7, 31))
    for initiative, stated in ((portfolio["triage"], "8000"), (portfolio["copy"], "300"), (late, "5000")):
        ValueReportFactory(cycle=q2, initiative=initiative, status=ReportStatus.SUBMITTED, stated_value=D(stated),
                           stated_value_evidence="finance sign-off")
    owed = ValueReportFactory(cycle=ReviewCycleFactory(name="2026-Q3"), initiative=late)  # a draft, still due
    board = dashboard(quarter=Q3)
    value = {f.key: f for f in board["figures"]}["value"]
    assert (board["value"], value.previous, value.change) == (D("9350.00"), D("8300.00"), D("12.7"))
    assert value.basis == ("value of the 2 of 3 value reports for 2026-Q3 in so far, against what the same "
                           "initiatives reported for 2026-Q2")
    assert board["value_complete"] is False
    assert board["value_reports"] == {"submitted": 2, "expected": 3, "due_on": date(2026, 10, 31)}
    assert board["value_note"] == (
        "2 of 3 value reports for 2026-Q3 are in; the cycle was due 31 Oct 2026. Its value is of the reports in so "
        "far, compared with what the same initiatives reported for 2026-Q2.")

    owed.status, owed.stated_value, owed.stated_value_evidence = ReportStatus.SUBMITTED, D("4000"), "finance"
    owed.save()
    cache.clear()
    board = dashboard(quarter=Q3)
    value = {f.key: f for f in board["figures"]}["value"]
    assert (board["value"], value.previous) == (D("13350.00"), D("13300.00"))  # all in: the whole quarters
    assert (board["value_complete"], board["value_note"]) == (True, "")
    assert value.basis == "value of 3 submitted value reports for 2026-Q3"


def test_idle_licences_come_from_the_latest_month_of_the_quarter(portfolio):
    board = dashboard(quarter=Q3)
    assert board["idle_licence_cost"] == D("900.00")  # (100 - 70) x 30, September
    (row,) = board["licence_utilisation"]
    assert (row["month"], row["utilisation"], row["idle"]) == ("2026-09", 70.0, 30)


def test_unallocated_keys_biggest_first_each_record_once(portfolio):
    """The record tagged team=data in account A1 is listed under its tag only: listed under both, the rows added up
    to $140 of $80 of such records."""
    keys = dashboard(quarter=Q3)["unallocated_keys"]
    assert [(k["key"], k["value"], k["amount"], k["records"]) for k in keys] == [
        ("tag:team", "data", D("75.00"), 2), ("tag:team", "ops", D("5.00"), 1)]


def test_unallocated_keys_never_add_up_to_more_than_the_unallocated_spend():
    """The QA case: sandbox records carry their resource, their project tag and env=prod; each is counted once, under
    the project tag, and no row suggests a rule on env=prod while a better key is there."""
    sandbox = {"resource_id": "/subscriptions/s1/resourceGroups/data-science-sandbox",
               "tag:project": "data-science-sandbox", "tag:env": "prod", "billing_account_id": "A1"}
    for day, amount in ((3, "120.00"), (4, "75.49")):
        CostRecordFactory(period=date(2026, 8, 1), charge_date=date(2026, 8, day), amount=D(amount), keys=sandbox,
                          initiative=None)
    CostRecordFactory(period=date(2026, 9, 1), charge_date=date(2026, 9, 2), amount=D("40.00"), initiative=None,
                      keys={"tag:env": "prod", "resource_id": "/subscriptions/s1/vm-7"})
    CostRecordFactory(period=date(2026, 9, 1), charge_date=date(2026, 9, 2), amount=D("9.00"), initiative=None,
                      keys={"tag:env": "prod"})
    CostRecordFactory(period=date(2026, 9, 1), charge_date=date(2026, 9, 2), amount=D("1.00"), initiative=None)
    rows = dashboard(quarter=Q3)["unallocated_keys"]
    assert [(k["key"], k["value"], k["amount"], k["records"]) for k in rows] == [
        ("tag:project", "data-science-sandbox", D("195.49"), 2),
        ("resource_id", "/subscriptions/s1/vm-7", D("40.00"), 1),
        ("tag:env", "prod", D("9.00"), 1),
        ("(no key)", "records with no tag, account or resource", D("1.00"), 1)]
    assert sum(k["amount"] for k in rows) == D("245.49")  # the quarter's unallocated records, the keyless one too


def test_keys_past_the_biggest_are_one_last_row_so_the_rows_add_up():
    """Twelve keys and a limit of ten: the two smallest are one "(other keys)" row, last, so the rows add up to the
    unallocated spend (they used to cover only the ten listed)."""
    for index in range(12):
        CostRecordFactory(period=date(2026, 9, 1), charge_date=date(2026, 9, 2), amount=D(100 - index),
                          initiative=None, keys={"tag:team": f"team-{index:02}"})
    CostRecordFactory(period=date(2026, 9, 1), charge_date=date(2026, 9, 3), amount=D("1.00"), initiative=None,
                      keys={"tag:team": "team-11"})
    rows = unallocated_keys(Q3, limit=10)
    assert [row["value"] for row in rows[:10]] == [f"team-{index:02}" for index in range(10)]
    assert [(k["key"], k["value"], k["amount"], k["records"], k["other_keys"]) for k in rows[10:]] == [
        ("(other keys)", "2 more keys", D("180.00"), 3, True)]
    assert not any(row["other_keys"] for row in rows[:10])
    assert sum(row["amount"] for row in rows) == sum(D(100 - index) for index in range(12)) + 1


def test_the_unallocated_keys_add_up_to_the_cent_to_the_unallocated_spend_shown():
    """Records keep sub-cent amounts: three keys of 10.004 each are 30.012, shown as the roll-up's 30.01, yet rounded
    row by row they were 10.00 three times, 30.00: a cent short of the total above them. Apportioned by largest
    remainder they add up to it, and the record sum that rounds otherwise than the roll-ups is followed too."""
    for team in ("a", "b", "c"):
        CostRecordFactory(period=date(2026, 9, 1), charge_date=date(2026, 9, 2), amount=D("10.004"),
                          initiative=None, keys={"tag:team": team})
    MonthlyCost.objects.create(initiative=None, month=date(2026, 9, 1), category="inference", amount=D("30.01"))
    board = dashboard(quarter=Q3)
    assert board["unallocated"] == D("30.01")
    assert [row["amount"] for row in board["unallocated_keys"]] == [D("10.01"), D("10.00"), D("10.00")]
    # The roll-ups, each month to the cent, may round to a cent more than the records' own sum: the rows follow them.
    assert sum(row["amount"] for row in unallocated_keys(Q3, total=D("30.02"))) == D("30.02")
    # Roll-ups not rebuilt from these records differ by more than rounding: the rows keep their own sum.
    assert sum(row["amount"] for row in unallocated_keys(Q3, total=D("45.00"))) == D("30.01")


def test_department_filter_keeps_only_its_initiatives(portfolio):
    board = dashboard(quarter=Q3, department=portfolio["marketing"])
    assert board["spend"] == D("700.00") and board["unallocated"] == D("0")
    assert board["value"] == D("350.00")
    assert [d["name"] for d in board["departments"]] == ["Marketing"]
    assert board["unallocated_keys"] == []
    assert sum(board["initiatives_by_stage"].values()) == 2


def test_default_quarter_is_the_last_complete_one(portfolio):
    assert default_quarter(today=date(2026, 11, 20)) == Q3
    assert default_quarter(today=date(2026, 9, 15)) == Quarter(2026, 2)


def test_query_count_does_not_grow_with_the_portfolio(portfolio):
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            dashboard(quarter=Q3)
        return len(queries)

    before = count()
    cycle = ReviewCycleFactory(name="2026-Q3")
    for _ in range(5):
        extra = InitiativeFactory(department=portfolio["claims"], stage=Stage.PRODUCTION)
        MonthlyCost.objects.create(initiative=extra, month=date(2026, 8, 1), category="inference", amount=D("10"))
        ValueReportFactory(cycle=cycle, initiative=extra, status=ReportStatus.SUBMITTED, stated_value=D("1"),
                           stated_value_evidence="x", outcome_count=10)
        pool = LicencePoolFactory(initiative=extra)
        LicencePoolActivity.objects.create(licence_pool=pool, month=date(2026, 9, 1), purchased=10, assigned=5,
                                           active_30d=2)
    assert count() == before


def test_the_forecast_joins_the_dashboard_with_its_error(portfolio):
    from governance.services import cost_forecast_refresh

    assert dashboard(quarter=Q3)["forecast"] is None
    before = {f.key: f for f in dashboard(quarter=Q3)["figures"]}["forecast_next_year"]
    assert (before.value, before.basis) == (None, "No forecast yet: it is computed after the first complete month of "
                                                  "cost data.")  # the page's, the API's and the CSV's words alike
    cost_forecast_refresh(today=date(2026, 10, 15))
    forecast = dashboard(quarter=Q3)["forecast"]
    assert forecast["months"][0] == "2026-10" and len(forecast["quarters"]) == 4
    assert forecast["quarters"][0]["quarter"] == "2026-Q4"
    assert forecast["next_year"] == sum((q["total"] for q in forecast["quarters"]), D("0"))
    figure = {f.key: f for f in dashboard(quarter=Q3)["figures"]}["forecast_next_year"]
    assert figure.value == forecast["next_year"] and "MAPE" in figure.basis
    marketing = dashboard(quarter=Q3, department=portfolio["marketing"])["forecast"]
    assert marketing["lower"] is None and len(marketing["total"]) == 12


def test_the_forecast_carries_the_actual_spend_it_continues_from_whatever_quarter_is_shown(portfolio):
    """A past quarter's board ends its spend in that quarter; the forecast chart continues from the month before the
    forecast, so its actual line is the forecast's own history (before, the chart left a gap up to today)."""
    from governance.services import cost_forecast_refresh
    from portfolio.dashboard import charts, svg

    cost_forecast_refresh(today=date(2026, 10, 15))
    q2 = dashboard(quarter=Quarter(2026, 2))
    assert q2["spend_by_category_month"][-1]["month"] == "2026-04"  # Q2 holds April only
    history = q2["forecast"]["history"]
    assert history == [{"month": "2026-04", "amount": D("1050.00")}, {"month": "2026-07", "amount": D("1300.00")},
                       {"month": "2026-08", "amount": D("1400.00")}, {"month": "2026-09", "amount": D("1650.55")}]
    chart = charts.forecast(q2["forecast"], "USD")
    actual = next(trace for trace in chart["data"] if trace["name"] == "Actual")
    assert actual["x"][-1] == "2026-09" and q2["forecast"]["months"][0] == "2026-10"
    assert "<svg" in svg.forecast(q2["forecast"], "USD")
    claims = dashboard(quarter=Quarter(2026, 2), department=portfolio["claims"])["forecast"]["history"]
    assert [row["amount"] for row in claims] == [D("900.00"), D("1000.00"), D("1100.00"), D("1200.00")]


def test_kill_and_scale_candidates_come_from_the_live_signals(portfolio):
    from governance.choices import SignalSeverity, SignalStatus, SignalType
    from tests.governance.signals.factories import SignalFactory

    overrun = SignalFactory(initiatives=[portfolio["triage"]])
    SignalFactory(type=SignalType.SCALE_CANDIDATE, subject="scale:copy", severity=SignalSeverity.LOW,
                  monthly_saving=None, initiatives=[portfolio["copy"]])
    SignalFactory(type=SignalType.RIGHT_SIZE, subject="right_size:copy", initiatives=[portfolio["copy"]])  # a fix
    SignalFactory(subject="closed", status=SignalStatus.DISMISSED, initiatives=[portfolio["triage"]])
    board = dashboard(quarter=Q3)
    (kill,) = board["kill_candidates"]
    assert (kill.type, kill.initiatives, kill.monthly_saving, kill.url) == (
        "cost_overrun", ("Claims triage",), D("1200.00"), overrun.get_absolute_url())
    assert "TCO, 2026-Q3 (partly estimated): $11,760.00" in kill.evidence and "Initiative:" not in kill.evidence
    assert [c.initiatives for c in board["scale_candidates"]] == [("Copy assistant",)]
    figures = {f.key: f.value for f in board["figures"]}
    assert (figures["kill_candidates"], figures["scale_candidates"]) == (1, 1)
    marketing = dashboard(quarter=Q3, department=portfolio["marketing"])
    assert marketing["kill_candidates"] == [] and len(marketing["scale_candidates"]) == 1


def test_a_count_s_link_opens_a_list_of_as_many_rows(portfolio, login, executive):
    """"87 initiatives running" opened all 152 initiatives and "56 kill candidates" all 92 signals of every type:
    each count now links to its list filtered to what it counts, and to the department shown."""
    from governance.choices import SignalSeverity, SignalType
    from tests.governance.signals.factories import SignalFactory

    SignalFactory(initiatives=[portfolio["triage"]])
    SignalFactory(type=SignalType.SCALE_CANDIDATE, subject="scale:copy", severity=SignalSeverity.LOW,
                  monthly_saving=None, initiatives=[portfolio["copy"]])
    SignalFactory(type=SignalType.RIGHT_SIZE, subject="right_size:copy", initiatives=[portfolio["copy"]])  # a fix
    client = login(executive)
    for department in (None, portfolio["marketing"]):
        figures = {f.key: f for f in dashboard(quarter=Q3, department=department)["figures"]}
        for key in ("running", "kill_candidates", "scale_candidates"):
            response = client.get(figures[key].url + "&_export=csv")
            assert response.status_code == 200, (key, figures[key].url)
            rows = response.content.decode().strip().splitlines()[1:]
            assert len(rows) == figures[key].value, (key, department, figures[key].url, rows)
    assert figures["running"].value == 1 and figures["kill_candidates"].value == 0  # Marketing: the pilot only


def test_every_kill_or_continue_signal_of_the_brief_is_a_kill_candidate(portfolio):
    """PRODUCT.md's kill-or-continue candidates include licence utilisation below 40% and no active owner; an orphan
    is high severity, so it comes first."""
    from governance.choices import SignalSeverity, SignalType
    from tests.governance.signals.factories import SignalFactory

    SignalFactory(severity=SignalSeverity.MEDIUM, initiatives=[portfolio["triage"]])  # cost overrun
    SignalFactory(type=SignalType.LICENCE_WASTE, subject="licence:1", severity=SignalSeverity.LOW,
                  initiatives=[portfolio["copy"]])
    SignalFactory(type=SignalType.NO_ACTIVE_OWNER, subject="owner:copy", severity=SignalSeverity.HIGH,
                  monthly_saving=None, initiatives=[portfolio["copy"]])
    board = dashboard(quarter=Q3)
    assert [c.type for c in board["kill_candidates"]] == ["no_active_owner", "cost_overrun", "licence_waste"]
    assert {f.key: f.value for f in board["figures"]}["kill_candidates"] == 3


def test_the_board_pack_s_dozen_kill_candidates_hold_every_kind_the_dashboard_s_list_does(portfolio):
    """The pack shows 12 of the dashboard's 20: its first 12 left out the orphan and the licence waste that the 20
    made room for behind a run of high signals of one rule."""
    from governance.choices import SignalSeverity, SignalType
    from portfolio.dashboard.selectors import board_pack
    from tests.governance.signals.factories import SignalFactory

    SignalFactory.create_batch(25, type=SignalType.KPI_TARGETS_MISSED, monthly_saving=None,
                               initiatives=[portfolio["triage"]])
    SignalFactory(type=SignalType.LICENCE_WASTE, subject="licence:1", severity=SignalSeverity.MEDIUM,
                  monthly_saving=D("32520.00"), initiatives=[portfolio["copy"]])
    SignalFactory(type=SignalType.NO_ACTIVE_OWNER, subject="owner:copy", monthly_saving=None,
                  initiatives=[portfolio["copy"]])
    pack = board_pack(quarter=Q3)
    assert [c.type for c in pack["kill_listed"]] == [
        "no_active_owner", *["kpi_targets_missed"] * 10, "licence_waste"]
    assert (pack["kill_total"], pack["kill_more"]) == (27, 15)


def test_the_dashboard_is_computed_once_per_version_of_the_data(portfolio):
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            dashboard(quarter=Q3)
        return len(queries)

    computed = count()
    served = count()
    assert served == 0  # the data's version and the figures both come from the cache
    cache.delete(VERSION_KEY)  # the version expires (VERSION_SECONDS): its aggregates are read again, nothing else
    refingerprinted = count()
    assert 0 < refingerprinted < computed and refingerprinted <= 16
    assert count() == 0
    MonthlyCost.objects.create(initiative=portfolio["triage"], month=date(2026, 9, 1), category="storage",
                               amount=D("1"))
    assert count() == served  # roll-ups change only through runs, rules, rates and pools, which the version covers
    from tests.portfolio.costs.factories import AllocationRuleFactory

    AllocationRuleFactory(initiative=portfolio["triage"])  # a watched model: the version is forgotten at once
    assert count() == computed
    assert dashboard(quarter=Q3)["spend"] == D("4351.55")


def test_a_saved_row_of_a_watched_model_forgets_the_version_at_once(portfolio):
    before = data_version()
    portfolio["triage"].name = "Claims triage v2"
    portfolio["triage"].save()
    assert cache.get(VERSION_KEY) is None
    assert data_version() != before


def test_bulk_writers_report_their_change(portfolio):
    from portfolio.costs.services.tco import tco_recompute

    data_version()
    tco_recompute()
    assert cache.get(VERSION_KEY) is None


# A quarter only partly read ------------------------------------------------------------------------------------------

TODAY = date(2026, 12, 7)


def on_day(monkeypatch, day: date) -> None:
    """Today is `day`; a given datetime is still converted (when each source was added stays what it was)."""
    real = timezone.localdate
    monkeypatch.setattr(timezone, "localdate", lambda value=None, timezone=None: day if value is None
                        else real(value, timezone))


@pytest.fixture
def october_read(portfolio, monkeypatch):
    """7 December 2026: the FOCUS export has delivered July to November (November read so far), the OpenAI bill July
    to October and still owes November, so October is the latest complete month: of 2026-Q4, only October is read."""
    on_day(monkeypatch, TODAY)
    focus = source_added(CostSourceFactory(name="focus"), datetime(2026, 6, 1, tzinfo=UTC))
    openai = source_added(CostSourceFactory(name="openai", type=SourceType.OPENAI), datetime(2026, 6, 1, tzinfo=UTC))
    for month in (7, 8, 9, 10, 11):
        IngestionRunFactory(source=focus, period=date(2026, month, 1))
        if month <= 10:
            IngestionRunFactory(source=openai, period=date(2026, month, 1))
    for month, (a, b, u) in {date(2026, 10, 1): ("1300", "200", "160"), date(2026, 11, 1): ("400", "0", "50")}.items():
        MonthlyCost.objects.create(initiative=portfolio["triage"], month=month, category="inference", amount=D(a))
        MonthlyCost.objects.create(initiative=portfolio["copy"], month=month, category="licences", amount=D(b))
        MonthlyCost.objects.create(initiative=None, month=month, category="compute", amount=D(u))
    for period, keys, amount in ((date(2026, 10, 1), {"tag:team": "data"}, "100"), (date(2026, 10, 1), {}, "60"),
                                 (date(2026, 11, 1), {"tag:team": "ml"}, "50")):
        CostRecordFactory(source=focus, period=period, charge_date=period, amount=D(amount), keys=keys,
                          initiative=None)
    assert last_complete_month() == date(2026, 10, 1)
    return portfolio


def test_a_quarter_with_one_complete_month_is_compared_with_the_same_month_of_the_previous_one(october_read):
    """Q4 to date (October) against July: $1,660 against $1,300 is +27.7%. Before, October and what was read of
    November ($2,110) were compared with the whole of Q3 ($4,350.55): -51.5%."""
    board = dashboard(quarter=Quarter(2026, 4))
    assert (board["quarter_complete"], board["months_read"], board["compared_months"]) == (
        False, ["2026-10"], ["2026-07"])
    assert (board["period"], board["compared_with"]) == ("2026-Q4 to date (October)", "July")
    assert board["comparison_note"] == (
        "Only October of 2026-Q4 is complete: its cost figures cover that month and are compared with the same month "
        "of 2026-Q3 (July); what was read of November and December counts once complete. Value figures come from the "
        "quarter's value reports, as for a whole quarter.")
    assert (board["spend"], board["unallocated"]) == (D("1660.00"), D("160.00"))
    figures = {f.key: f for f in board["figures"]}
    assert (figures["spend"].previous, figures["spend"].change) == (D("1300.00"), D("27.7"))
    assert (figures["unallocated"].previous, figures["unallocated"].change) == (D("100.00"), D("60.0"))
    share = figures["unallocated_share"]
    assert (share.value, share.previous, share.change_points) == (D("9.6"), D("7.7"), D("1.9"))
    assert figures["spend"].basis == (
        "cost roll-ups of 2026-10 (the sum of cost_report over that month); 2026-Q4 to date (October) against the "
        "same month of 2026-Q3, 2026-07")
    # Every cost figure of the quarter covers the same month: the departments, where the money goes, the keys.
    departments = {d["name"]: d["spend"] for d in board["departments"]}
    assert departments == {"Claims": D("1300.00"), "Marketing": D("200.00")}
    assert [(i["name"], i["spend"]) for i in board["top_initiatives"]] == [("Claims triage", D("1300.00")),
                                                                           ("Copy assistant", D("200.00"))]
    assert sum(k["amount"] for k in board["unallocated_keys"]) == board["unallocated"]
    assert "ml" not in {k["value"] for k in board["unallocated_keys"]}  # November's, not complete yet
    # The monthly chart still shows what was read of November, month by month.
    assert board["spend_by_category_month"][-1]["month"] == "2026-11"


def test_a_month_a_source_still_owes_is_not_complete_though_a_later_one_is(october_read):
    """The OpenAI bill delivers November too, but a CSV source read September and November and missed October (a
    failed read followed by a successful one): the ingestion health page says it is missing 2026-10, so October is
    not complete either. Only November is, compared with August; before, October and November were "complete"."""
    IngestionRunFactory(source=CostSource.objects.get(name="openai"), period=date(2026, 11, 1))
    gap = source_added(CostSourceFactory(name="gap-csv", type=SourceType.CSV), datetime(2026, 6, 1, tzinfo=UTC))
    for month in (9, 11):
        IngestionRunFactory(source=gap, period=date(2026, month, 1))
    assert last_complete_month() == date(2026, 11, 1)
    board = dashboard(quarter=Quarter(2026, 4))
    assert (board["quarter_complete"], board["months_read"], board["compared_months"]) == (
        False, ["2026-11"], ["2026-08"])
    assert (board["period"], board["compared_with"]) == ("2026-Q4 (November only)", "August")
    assert board["comparison_note"] == (
        "Only November of 2026-Q4 is complete: its cost figures cover that month and are compared with the same month "
        "of 2026-Q3 (August); what was read of October and December counts once complete. October is not complete: "
        "an enabled source still owes it (see the ingestion health page). Value figures come from the quarter's value "
        "reports, as for a whole quarter.")
    assert (board["spend"], board["unallocated"]) == (D("450.00"), D("50.00"))
    assert {k["value"] for k in board["unallocated_keys"]} == {"ml"}  # November's key only, none of October's


def test_a_whole_quarter_is_compared_as_before(october_read):
    board = dashboard(quarter=Q3)
    assert (board["quarter_complete"], board["months_read"], board["compared_months"]) == (
        True, ["2026-07", "2026-08", "2026-09"], ["2026-04", "2026-05", "2026-06"])
    assert (board["period"], board["compared_with"], board["comparison_note"]) == ("2026-Q3", "2026-Q2", "")
    figures = {f.key: f for f in board["figures"]}
    assert (board["spend"], figures["spend"].previous, figures["spend"].change) == (
        D("4350.55"), D("1050.00"), D("314.3"))
    assert figures["spend"].basis == "cost roll-ups of 2026-07 to 2026-09 (the sum of cost_report over the quarter's " \
                                     "months)"
    assert figures["unallocated"].basis == "cost records no allocation rule maps to an initiative"


def test_unallocated_records_with_no_key_are_one_row_so_the_rows_add_up_to_the_unallocated_spend(october_read):
    """October's $160 of unallocated spend: $100 tagged team=data and $60 of a record with no key at all, which
    counted in the total under no row (the rows added up to $100)."""
    rows = dashboard(quarter=Quarter(2026, 4))["unallocated_keys"]
    assert [(k["key"], k["value"], k["amount"], k["records"], k["no_key"], bool(k["url"])) for k in rows] == [
        ("tag:team", "data", D("100.00"), 1, False, True),
        ("(no key)", "records with no tag, account or resource", D("60.00"), 1, True, False)]
    assert sum(k["amount"] for k in rows) == dashboard(quarter=Quarter(2026, 4))["unallocated"] == D("160.00")
    # The row is shown even when the biggest keys fill the list, in its place by amount.
    for n in range(12):
        CostRecordFactory(period=date(2026, 10, 1), charge_date=date(2026, 10, 2), amount=D("70"), initiative=None,
                          keys={"tag:team": f"team-{n:02}"})
    rows = unallocated_keys(Quarter(2026, 4), months=[date(2026, 10, 1)])
    assert len(rows) == 12 and rows[-2]["no_key"] and rows[0]["value"] == "data"
    assert rows[-1]["other_keys"] and rows[-1]["amount"] == D("210.00")  # three of the twelve teams: not listed


def test_an_ended_quarter_nothing_was_read_for_says_so_and_the_stamp_names_the_day_and_run_read(tmp_path):
    """Findings 6 and 7 of the first-week walk (7 Dec 2026): December read so far by one source, 2024-09 by another
    (a later run). 2026-Q3 has ended with no data: "no cost data was read for 2026-Q3", not "to date (no month
    complete yet)". 2026-Q4's stamp is the last day read and December's run, not 2026-12-31 and the 2024-09 run."""
    today = date(2026, 12, 7)
    initiative = InitiativeFactory()
    plain, focus = CostSourceFactory(name="plain-costs"), CostSourceFactory(name="qa-focus")
    december = IngestionRunFactory(source=plain, period=date(2026, 12, 1))
    IngestionRunFactory(source=focus, period=date(2024, 9, 1))
    CostRecordFactory(source=plain, period=date(2026, 12, 1), charge_date=date(2026, 12, 5), initiative=initiative)
    CostRecordFactory(source=focus, period=date(2024, 9, 1), charge_date=date(2024, 9, 28), initiative=initiative)
    MonthlyCost.objects.create(initiative=initiative, month=date(2026, 12, 1), category="inference", amount=D("10"))
    MonthlyCost.objects.create(initiative=initiative, month=date(2024, 9, 1), category="other", amount=D("-0.15"))
    stamp = data_stamp(Quarter(2026, 4), today=today)
    assert stamp.text == f"cost data of 2026-12 so far (to 2026-12-05), ingestion run {december.pk}"
    assert data_stamp(Quarter(2024, 3), today=today).text.startswith("cost data to 2024-09-30, ingestion run ")
    q3 = quarter_reading(Quarter(2026, 3), today=today)
    assert q3.ended
    assert period_label(q3, has_costs=False) == "2026-Q3 (no cost data was read for it)"
    assert no_cost_data(q3) == "no cost data was read for 2026-Q3"
    assert no_cost_data(quarter_reading(Quarter(2026, 4), today=today)) == "no cost data yet for 2026-Q4"
    board = dashboard(quarter=Quarter(2026, 3))  # today: 2026-Q3 has ended from 7 Dec 2026 on
    assert board["period"] == "2026-Q3 (no cost data was read for it)"
    spend = next(f for f in board["figures"] if f.key == "spend")
    assert spend.basis == "cost roll-ups: no cost data was read for 2026-Q3"


def _read_by_a_new_source(months: tuple[int, ...]) -> None:
    """A FOCUS source added on 1 December 2026 that read the months of 2026 given (history backfilled the day it was
    added: it owes none of them), each with allocated cost in the roll-ups."""
    source = source_added(CostSourceFactory(name="aws-focus"), datetime(2026, 12, 1, 8, 0, tzinfo=UTC))
    initiative = InitiativeFactory(stage=Stage.PRODUCTION)
    for month in months:
        IngestionRunFactory(source=source, period=date(2026, month, 1))
        MonthlyCost.objects.create(initiative=initiative, month=date(2026, month, 1), category="inference",
                                   amount=D("100"))


def test_a_month_no_source_read_is_named_whatever_the_quarter(monkeypatch):
    """The source read 2026-09 and 2026-11 but not 2026-10: November is complete, and October, with no data, would
    pass for a month of no spend. The board names it, for the quarter shown (2026-Q3) as for the one holding it."""
    on_day(monkeypatch, TODAY)
    _read_by_a_new_source((9, 11))
    for quarter in (Q3, Quarter(2026, 4)):
        board = dashboard(quarter=quarter)
        assert board["unread_months"] == ["2026-10"]
        assert board["unread_note"] == ("2026-10 was not read by any cost source: the figures hold no cost for it; "
                                        "the latest complete month is 2026-11.")


def test_a_month_no_source_read_after_the_last_one_read_says_where_the_figures_stop(monkeypatch):
    on_day(monkeypatch, TODAY)
    _read_by_a_new_source((10, 12))
    board = dashboard(quarter=Quarter(2026, 4))
    assert board["unread_months"] == ["2026-11"]
    assert board["unread_note"] == "2026-11 was not read by any cost source: the figures stop at 2026-10."


def test_a_month_a_source_owes_is_missing_not_unread(october_read):
    """openai still owes November: missing, which the comparison note says, not unread. May and June, between the
    April roll-ups and the sources' first month, were read by nobody and owed by none."""
    board = dashboard(quarter=Quarter(2026, 4))
    assert board["unread_months"] == ["2026-05", "2026-06"]
    assert board["unread_note"] == ("2026-05 to 2026-06 were not read by any cost source: the figures hold no cost "
                                    "for those months; the latest complete month is 2026-10.")


def test_without_enabled_sources_nothing_is_unread(portfolio):
    """Roll-ups without any enabled source are taken as they are (unread_months): nothing to say."""
    CostSource.objects.update(enabled=False)
    board = dashboard(quarter=Q3)
    assert (board["unread_months"], board["unread_note"]) == ([], "")


def test_a_month_nobody_read_between_two_complete_ones_gives_one_cost_everywhere(monkeypatch, api_client, executive):
    """2026-08 was read by no cost source, between two complete months (tco_example.build_august_unread). The costs
    API, the value report (its page, loaded alone or in a list, and as the dashboard values it) and the dashboard's
    drill-down give the initiative the same 2026-Q3 cost: July and September, 5,200. Before, the report and the
    drill-down counted August's estimate of 2,450 too (7,650), and the dashboard's quarter counted August as $0."""
    from django.urls import reverse

    from portfolio.dashboard.selectors import initiative_quarter
    from reviews.models import ValueReport
    from reviews.selectors import quarter_values, report_cost, report_detail_loaded, report_figures
    from tests.portfolio.tco_example import build_august_unread

    initiative = build_august_unread(monkeypatch)
    api_client.force_authenticate(executive)
    body = api_client.get(reverse("api:initiative-costs", args=[initiative.pk]),
                          {"from": "2026-07", "to": "2026-09"}).json()
    assert [(m["month"], m["data"], m["total"]) for m in body["months"]] == [
        ("2026-07", "complete", 2600.0), ("2026-08", "unread", None), ("2026-09", "complete", 2600.0)]
    report = ValueReport.objects.get(initiative=initiative)
    figures = report_figures(report_detail_loaded().get(pk=report.pk))
    reported = quarter_values(quarter=Q3, initiative_ids=None).values[initiative.pk]
    drill_down = initiative_quarter(initiative, Q3)
    assert (D(str(body["total"])), figures.cost.amount, report_cost(ValueReport.objects.get(pk=report.pk)).amount,
            reported.cost, drill_down["cost"]) == (D("5200.00"),) * 5
    # The report says which months its cost counts, and its figures per dollar and per outcome say they are partial.
    assert figures.cost.unread == reported.cost_unread == (date(2026, 8, 1),)
    assert figures.cost.label == (
        "actual cost of the quarter from cost records; $3,200.00 of it estimated from the business case (oversight "
        "$2,600.00 and maintenance $600.00); 2 of 3 months read (2026-08 unread: no cost source read it, so its "
        "cost is unknown and left out)")
    assert figures.cost.basis == "partly estimated, incomplete: 2 of 3 months read"
    assert (figures.cost_per_outcome, figures.value_per_dollar) == (D("52.00"), D("1.92"))
    api = api_client.get(reverse("reviews_api:report-detail", args=[report.pk])).json()["figures"]
    assert (api["cost"], api["cost_unread_months"], api["cost_label"]) == ("5200.00", ["2026-08"], figures.cost.label)
    assert drill_down["unread"] == ("2 of 3 months read (2026-08 unread: no cost source read it, so its cost is "
                                    "unknown and left out)")
    # The dashboard's quarter is incomplete: July and September, against April and June, naming August.
    board = dashboard(quarter=Q3)
    assert (board["quarter_complete"], board["months_read"], board["compared_months"]) == (
        False, ["2026-07", "2026-09"], ["2026-04", "2026-06"])
    assert (board["period"], board["compared_with"]) == ("2026-Q3 (July and September only)", "April and June")
    assert board["comparison_note"] == (
        "Only July and September of 2026-Q3 are complete: its cost figures cover those months and are compared "
        "with the same months of 2026-Q2 (April and June). August was not read by any cost source: its cost is "
        "unknown, not $0, so it is left out. Value figures come from the quarter's value reports, as for a whole "
        "quarter.")
    assert board["value_per_dollar"] == figures.value_per_dollar
    assert board["departments"][0]["value_cost"] == D("5200.00")
