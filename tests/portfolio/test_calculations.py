from datetime import date
from decimal import Decimal

from portfolio import calculations


def test_tco_adds_run_costs_oversight_and_maintenance():
    total = calculations.tco_monthly(
        inference=Decimal("800"), compute=Decimal("1200.50"), storage=Decimal("49.50"), licences=Decimal("190"),
        oversight_hours=Decimal("20"), loaded_hourly_rate=Decimal("65"), maintenance=Decimal("300"),
    )
    assert total == Decimal("3840.00")  # 2540 + 20 x 65 = 1300 oversight


def test_tco_treats_missing_parts_as_zero():
    assert calculations.tco_monthly(
        inference=None, compute=None, storage=None, licences=None, oversight_hours=None, loaded_hourly_rate=None,
        maintenance=None,
    ) == Decimal("0.00")


def test_cost_per_outcome_matches_the_seeds_example():
    # $0.002 per interaction at 6M interactions a month is $144,000 a year.
    assert calculations.cost_per_outcome(Decimal("12000"), 6_000_000) == Decimal("0.0020")


def test_cost_per_outcome_is_undefined_without_outcomes():
    assert calculations.cost_per_outcome(Decimal("100"), 0) is None
    assert calculations.cost_per_outcome(Decimal("100"), None) is None


def test_licence_pool_cost_and_value_per_dollar():
    assert calculations.licence_pool_monthly_cost(2000, Decimal("30")) == Decimal("60000.00")
    assert calculations.value_per_dollar(Decimal("9000"), Decimal("3000")) == Decimal("3.00")
    assert calculations.value_per_dollar(Decimal("9000"), Decimal("0")) is None
    assert calculations.value_per_dollar(None, Decimal("3000")) is None  # unknown value, not 0.00


def test_a_kpi_target_must_lie_in_its_direction_from_the_baseline():
    from portfolio.calculations import kpi_target_error

    assert kpi_target_error(Decimal("10"), Decimal("12"), "increase") is None
    assert kpi_target_error(Decimal("10"), Decimal("8"), "decrease") is None
    assert kpi_target_error(None, Decimal("8"), "decrease") is None
    assert kpi_target_error(Decimal("1"), None, "increase") is None
    assert kpi_target_error(Decimal("10"), Decimal("5"), "increase").startswith("Higher is better")
    assert kpi_target_error(Decimal("13"), Decimal("20"), "decrease").startswith("Lower is better")
    assert kpi_target_error(Decimal("0"), Decimal("0.0000"), "decrease") == (
        "The target equals the baseline (0): it asks for no change. Give a target below the baseline.")


def test_a_share_changes_in_points_not_in_percent_of_itself():
    """9.6% -> 9.7% of spend unallocated is a tenth of a point more, which a relative change shows as +1.0%."""
    assert calculations.change_in_points(Decimal("9.7"), Decimal("9.6")) == Decimal("0.1")
    assert calculations.change(Decimal("9.7"), Decimal("9.6")) == Decimal("1.0")
    assert calculations.change_in_points(Decimal("4.8"), Decimal("8.05")) == Decimal("-3.3")  # half up, to a tenth
    assert calculations.change_in_points(None, Decimal("9.6")) is None
    assert calculations.change_in_points(Decimal("9.6"), None) is None


def test_a_quarter_partly_read_is_read_against_the_same_months_of_the_previous_one():
    q4 = calculations.Quarter(2026, 4)
    of = calculations.QuarterReading.of
    whole = of(q4, latest_complete=date(2026, 12, 1))
    assert (whole.whole, whole.period, whole.compared_with, whole.note) == (True, "2026-Q4", "2026-Q3", "")
    assert whole.compared_months == tuple(calculations.Quarter(2026, 3).months)
    assert of(q4, latest_complete=None).whole and of(q4, latest_complete=date(2027, 2, 1)).whole
    two = of(q4, latest_complete=date(2026, 11, 1))
    assert two.months == (date(2026, 10, 1), date(2026, 11, 1))
    assert two.compared_months == (date(2026, 7, 1), date(2026, 8, 1))
    assert (two.period, two.compared_with) == ("2026-Q4 to date (October and November)", "July and August")
    assert two.note.startswith("Only October and November of 2026-Q4 are complete: its cost figures cover those "
                               "months and are compared with the same months of 2026-Q3 (July and August)")
    january = of(calculations.Quarter(2027, 1), latest_complete=date(2027, 1, 1))
    assert (january.period, january.compared_with) == ("2027-Q1 to date (January)", "October")
    nothing = of(q4, latest_complete=date(2026, 9, 1))
    assert (nothing.months_read, nothing.compared_months, nothing.compared_with) == ((), (), None)
    assert nothing.months == tuple(q4.months)  # what was read so far, compared with nothing
    assert nothing.period == "2026-Q4 to date (no month complete yet)"


def test_a_month_a_source_owes_is_not_read_though_a_later_month_is_complete():
    q4, of = calculations.Quarter(2026, 4), calculations.QuarterReading.of
    gap = of(q4, latest_complete=date(2026, 12, 1), owed=[date(2026, 10, 1), date(2026, 6, 1)])
    assert (gap.whole, gap.owed) == (False, (date(2026, 10, 1),))
    assert gap.months_read == (date(2026, 11, 1), date(2026, 12, 1))
    assert gap.compared_months == (date(2026, 8, 1), date(2026, 9, 1))
    assert (gap.period, gap.compared_with) == ("2026-Q4 (November and December only)", "August and September")
    assert "October is not complete: an enabled source still owes it" in gap.note
    prefix = of(q4, latest_complete=date(2026, 11, 1), owed=[date(2026, 11, 1)])
    assert (prefix.months_read, prefix.period) == ((date(2026, 10, 1),), "2026-Q4 to date (October)")
    assert of(q4, latest_complete=date(2026, 12, 1), owed=[date(2027, 1, 1)]).whole  # owed outside the quarter


def test_a_month_nobody_read_between_complete_ones_is_left_out_and_named_not_counted_as_zero():
    """August was read by no cost source, July and September are complete: the quarter is July and September against
    April and June, and its note says August's cost is unknown. Before, its three months counted, August as $0."""
    q3, of = calculations.Quarter(2026, 3), calculations.QuarterReading.of
    gap = of(q3, latest_complete=date(2026, 11, 1), unread=[date(2026, 8, 1), date(2026, 10, 1)])
    assert (gap.whole, gap.unread, gap.months_read, gap.compared_months) == (
        False, (date(2026, 8, 1),), (date(2026, 7, 1), date(2026, 9, 1)), (date(2026, 4, 1), date(2026, 6, 1)))
    assert (gap.period, gap.compared_with) == ("2026-Q3 (July and September only)", "April and June")
    assert gap.note == (
        "Only July and September of 2026-Q3 are complete: its cost figures cover those months and are compared with "
        "the same months of 2026-Q2 (April and June). August was not read by any cost source: its cost is unknown, "
        "not $0, so it is left out. Value figures come from the quarter's value reports, as for a whole quarter.")
    # A month both owed and unread is said once, as owed; one after the latest complete month is not complete anyway.
    owed = of(q3, latest_complete=date(2026, 9, 1), owed=[date(2026, 8, 1)], unread=[date(2026, 8, 1)])
    assert (owed.owed, owed.unread) == ((date(2026, 8, 1),), ())
    assert of(q3, latest_complete=date(2026, 8, 1), unread=[date(2026, 9, 1)]).unread == ()


def test_apportioned_cents_add_up_to_the_total_by_largest_remainder():
    D = Decimal
    apportion = calculations.apportion_cents
    assert apportion([D("10.004"), D("10.004"), D("10.004")], D("30.01")) == [D("10.01"), D("10.00"), D("10.00")]
    assert apportion([D("1.001"), D("2.009"), D("3.005")], D("6.02")) == [D("1.00"), D("2.01"), D("3.01")]
    # Below the rounded-down sum: the cents come off those that lost least; credits (negative) round down too.
    assert apportion([D("5.001"), D("5.009")], D("10.00")) == [D("5.00"), D("5.00")]
    assert apportion([D("5.001"), D("5.009")], D("9.99")) == [D("4.99"), D("5.00")]
    assert apportion([D("-1.005"), D("3.005")], D("2.00")) == [D("-1.00"), D("3.00")]
    assert apportion([], D("0")) == []


def test_each_kind_first_keeps_the_order_and_makes_room_for_the_best_of_every_kind():
    """Ties of the commonest kind no longer push the rarer kinds out of a top N that has room for them."""
    items = ["kpi1", "kpi2", "kpi3", "kpi4", "owner1", "waste1", "kpi5", "owner2"]

    def kind(item: str) -> str:
        return item.rstrip("0123456789")

    assert calculations.each_kind_first(items, 4, kind) == ["kpi1", "kpi2", "owner1", "waste1"]
    assert calculations.each_kind_first(items, 2, kind) == ["kpi1", "owner1"]  # no room for all: the best kinds
    assert calculations.each_kind_first(items, 20, kind) == items
    assert calculations.each_kind_first([], 3, kind) == []


def test_months_are_named_as_a_quarter_when_they_are_one():
    assert calculations.months_label(["2026-10", "2026-11", "2026-12"]) == "2026-Q4 (2026-10 – 2026-12)"
    assert calculations.months_label(["2026-09", "2026-10", "2026-11"]) == "2026-09 – 2026-11"
    assert calculations.months_label(["2026-10", "2026-11"]) == "2026-10 – 2026-11"  # a horizon cut short
    assert calculations.months_label(["2026-10"]) == "2026-10"
    assert calculations.months_label([]) == ""


def test_a_quarter_that_has_ended_is_not_to_date():
    """Finding 7 of the first-week walk: 2026-Q3 has ended (it is 7 Dec 2026) and none of its months is complete: it
    is not read "to date", as a quarter in progress is. Before any month is complete, the quarter in progress is
    compared with nothing rather than with a whole quarter."""
    of = calculations.QuarterReading.of
    today = date(2026, 12, 7)
    q3, q4 = calculations.Quarter(2026, 3), calculations.Quarter(2026, 4)
    ended = of(q3, latest_complete=date(2024, 9, 1), today=today)
    assert ended.ended and ended.months_read == () and ended.compared_with is None
    assert ended.period == "2026-Q3 (no month complete)"
    assert of(q3, latest_complete=date(2026, 8, 1), today=today).period == "2026-Q3 (July and August only)"
    assert of(q4, latest_complete=date(2026, 9, 1), today=today).period == "2026-Q4 to date (no month complete yet)"
    in_progress = of(q4, latest_complete=None, today=today)
    assert (in_progress.months_read, in_progress.compared_with) == ((), None)
    assert in_progress.period == "2026-Q4 to date (no month complete yet)"
    assert of(q3, latest_complete=None, today=today).whole  # nothing says how far the data goes
