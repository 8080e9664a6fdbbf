"""Whether a cost source keeps up with its schedule, and which month is complete: the pure rules on plain values,
which months a source delivered, read from its runs, and the month the pages read after real runs."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from portfolio.choices import RunStatus, RunTrigger
from portfolio.costs.calculations import (
    COMPLETE,
    CRON,
    DAILY,
    MONTHLY,
    NO_DATA,
    NOT_ENDED,
    NOT_READ,
    PARTLY,
    CostDataReading,
    PeriodCostData,
    SourceCoverage,
    latest_complete_month,
    month_range,
    month_span_words,
    months_due,
    schedule_kind,
    source_freshness,
    unread_months,
)
from portfolio.costs.connectors.base import Period
from portfolio.costs.selectors import (
    cost_periods,
    ingestion_health,
    last_complete_month,
    source_delivered_months,
    spend_headline,
)
from portfolio.costs.services.runs import ingestion_run_create, ingestion_run_execute
from portfolio.costs.services.sources import cost_source_create
from portfolio.dashboard.selectors import default_quarter
from tests.factories import InitiativeFactory
from tests.portfolio.costs.factories import CostSourceFactory, IngestionRunFactory, source_added

NOW = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)
ADDED = datetime(2025, 9, 20, 10, 0, tzinfo=UTC)
UP_TO_SEPTEMBER = frozenset(month_range(date(2025, 10, 1), date(2026, 9, 1)))


def coverage(months: frozenset[date] = UP_TO_SEPTEMBER, name: str = "azure-focus") -> SourceCoverage:
    return SourceCoverage(name, min(months, default=date(2025, 9, 1)), months)  # no data: the month it was added


def freshness(schedule: str = "monthly", *, months: frozenset[date] = UP_TO_SEPTEMBER, now: datetime = NOW,
              last_success_at: datetime | None = datetime(2026, 10, 1, 6, 0, tzinfo=UTC),
              cron_due_at: datetime | None = None, grace_days: int = 3, by_hand: bool = False):
    return source_freshness(
        schedule=schedule, uploaded_by_hand=by_hand, coverage=coverage(months), added_at=ADDED,
        last_success_at=last_success_at, cron_due_at=cron_due_at, now=now, grace_days=grace_days,
    )


@pytest.mark.parametrize(("today", "grace", "last"), [
    (date(2026, 12, 4), 3, date(2026, 11, 1)),  # November ended four days ago: owed
    (date(2026, 12, 2), 3, date(2026, 10, 1)),  # ... two days ago: still within the grace
    (date(2026, 12, 1), 0, date(2026, 11, 1)),
    (date(2026, 1, 2), 5, date(2025, 11, 1)),  # across a year
])
def test_a_month_is_owed_the_grace_after_it_ends(today, grace, last):
    assert months_due(start=date(2025, 10, 1), today=today, grace_days=grace)[-1] == last
    assert months_due(start=next_month(last), today=today, grace_days=grace) == []


def next_month(month: date) -> date:
    return (month + timedelta(days=32)).replace(day=1)


@pytest.mark.parametrize(("schedule", "by_hand", "kind"), [
    ("daily", False, DAILY), ("monthly", False, MONTHLY), ("0 6 * * 1", False, CRON), ("", False, DAILY),
    ("daily", True, MONTHLY),  # an export uploaded by hand arrives once a month, whatever the schedule field says
])
def test_schedule_kind(schedule, by_hand, kind):
    assert schedule_kind(schedule, uploaded_by_hand=by_hand) == kind


def test_a_monthly_source_without_october_and_november_misses_both_and_is_late():
    """The issue's case: data up to September, read 'Succeeded', and nothing for October or November."""
    result = freshness()
    assert result.missing == (date(2026, 10, 1), date(2026, 11, 1))
    assert result.late and result.stale
    assert result.reason == "2026-11 was due by 2026-12-04 and is not read yet"
    assert result.late_month == date(2026, 11, 1)
    assert result.alert_months == (date(2026, 10, 1), date(2026, 11, 1))


def test_within_the_grace_the_month_that_just_ended_is_not_owed_yet():
    result = freshness(now=datetime(2026, 12, 2, 9, 0, tzinfo=UTC))
    assert result.missing == (date(2026, 10, 1),)
    assert not result.late and result.stale  # a gap is stale without the source being late
    assert freshness(months=UP_TO_SEPTEMBER | {date(2026, 10, 1)}, now=datetime(2026, 12, 2, tzinfo=UTC)).stale \
        is False


def test_a_gap_in_the_middle_is_missing_but_not_late():
    months = frozenset(month_range(date(2026, 6, 1), date(2026, 11, 1))) - {date(2026, 8, 1)}
    result = freshness(months=months)
    assert result.missing == (date(2026, 8, 1),) and not result.late
    assert result.alert_months == (date(2026, 8, 1),)


def test_an_upload_by_hand_follows_the_monthly_rule():
    result = freshness("daily", by_hand=True, last_success_at=datetime(2026, 11, 2, tzinfo=UTC))
    assert result.kind == MONTHLY and result.late and result.late_month == date(2026, 11, 1)


def test_a_daily_source_is_late_a_day_and_the_grace_after_its_last_success():
    months = UP_TO_SEPTEMBER | {date(2026, 10, 1), date(2026, 11, 1), date(2026, 12, 1)}
    on_time = freshness("daily", months=months, last_success_at=NOW - timedelta(days=4))
    assert not on_time.stale
    late = freshness("daily", months=months, last_success_at=NOW - timedelta(days=4, minutes=1))
    assert late.late and late.missing == ()
    assert late.reason == "no successful read since 2026-11-30 08:59; it is read daily"
    assert late.late_month == date(2026, 12, 1)  # the read it owes is the current month's
    never = freshness("daily", months=frozenset(), last_success_at=None)
    assert never.late and never.reason == "never read successfully since it was added on 2025-09-20; it is read daily"


def test_a_cron_source_is_late_the_grace_after_its_expression_fell_due():
    months = UP_TO_SEPTEMBER | {date(2026, 10, 1), date(2026, 11, 1)}
    assert not freshness("0 6 * * 1", months=months, cron_due_at=NOW - timedelta(days=3)).late
    late = freshness("0 6 * * 1", months=months, cron_due_at=NOW - timedelta(days=3, hours=1))
    assert late.late and "its schedule fell due on 2026-12-01 08:00" in late.reason
    assert not freshness("0 6 * * 1", months=months, cron_due_at=None).late  # an expression nobody can read


def test_the_latest_complete_month_is_the_latest_every_source_delivered():
    """October has three rows from one source: it is not complete, September is."""
    with_october = SourceCoverage("contracts-csv", date(2025, 10, 1), UP_TO_SEPTEMBER | {date(2026, 10, 1)})
    months = [*UP_TO_SEPTEMBER, date(2026, 10, 1)]
    sources = [coverage(), with_october]
    assert latest_complete_month(months_with_costs=months, coverage=sources, today=NOW.date()) == date(2026, 9, 1)
    assert latest_complete_month(months_with_costs=months, coverage=[with_october], today=NOW.date()) == \
        date(2026, 10, 1)


def test_a_source_owes_nothing_before_its_first_month_and_the_current_month_is_never_complete():
    late_starter = SourceCoverage("github-copilot", date(2026, 7, 1), frozenset())
    months = [date(2026, 6, 1), date(2026, 12, 1)]
    assert latest_complete_month(months_with_costs=months, coverage=[late_starter], today=NOW.date()) == \
        date(2026, 6, 1)
    assert latest_complete_month(months_with_costs=[date(2026, 12, 1)], coverage=[], today=NOW.date()) is None
    assert latest_complete_month(months_with_costs=[], coverage=[coverage()], today=NOW.date()) is None


def test_history_with_holes_backfilled_into_a_new_source_owes_nothing_before_its_addition():
    """One old month and last month read into a source added in December 2026: the two years between them were
    complete without it, and stay so; from its addition on it owes what it does not deliver."""
    added = date(2026, 12, 1)
    new = SourceCoverage("aws-focus", date(2024, 9, 1), frozenset({date(2024, 9, 1), date(2026, 10, 1)}), added)
    assert not any(new.owes(m) for m in month_range(date(2024, 9, 1), date(2026, 11, 1)))
    assert new.owes(added)
    months = [date(2024, 9, 1), *UP_TO_SEPTEMBER, date(2026, 10, 1)]
    assert latest_complete_month(months_with_costs=months, coverage=[coverage(), new], today=NOW.date()) == \
        date(2026, 9, 1)
    result = source_freshness(schedule="monthly", uploaded_by_hand=True, coverage=new, added_at=NOW,
                              last_success_at=NOW, cron_due_at=None, now=NOW, grace_days=3)
    assert result.missing == ()


def test_history_backfilled_into_a_new_source_owes_nothing_up_to_its_addition():
    """The QA case: one 2024-09 export read into a source added in December 2026. The source owes the months from
    its addition on, not the two years between its history and its addition, so September 2026 stays complete."""
    added = date(2026, 12, 1)
    new = SourceCoverage("qa-focus", date(2024, 9, 1), frozenset({date(2024, 9, 1)}), added)
    assert not any(new.owes(m) for m in month_range(date(2024, 9, 1), date(2026, 11, 1)))
    assert new.owes(added)
    months = [date(2024, 9, 1), *UP_TO_SEPTEMBER]
    assert latest_complete_month(months_with_costs=months, coverage=[coverage(), new], today=NOW.date()) == \
        date(2026, 9, 1)
    result = source_freshness(schedule="monthly", uploaded_by_hand=True, coverage=new, added_at=NOW,
                              last_success_at=NOW, cron_due_at=None, now=NOW, grace_days=3)
    assert result.missing == () and not result.stale  # nobody is told about the two years it never had to deliver


def test_one_old_month_followed_by_months_nobody_delivered_is_not_complete():
    """Finding 1 of the first-week walk: a CSV source added in December 2026 reads only December, a FOCUS source
    added the same day reads 2024-09. Nobody delivered 2024-10 to 2026-11 and nobody owed them: how far the data
    goes is unknown, so no month is complete (not 2024-09, two years back), and the gap is named."""
    added = date(2026, 12, 1)
    plain = SourceCoverage("plain-costs", added, frozenset({added}), added)  # December read so far
    focus = SourceCoverage("qa-focus", date(2024, 9, 1), frozenset({date(2024, 9, 1)}), added)
    today = date(2026, 12, 7)
    months = [date(2024, 9, 1)]
    assert latest_complete_month(months_with_costs=months, coverage=[plain, focus], today=today) is None
    unread = unread_months(months_with_costs=months, coverage=[plain, focus], today=today)
    assert unread == month_range(date(2024, 10, 1), date(2026, 11, 1))
    assert month_span_words(unread) == "2024-10 to 2026-11"
    assert month_span_words([date(2026, 2, 1), date(2026, 5, 1), date(2026, 4, 1)]) == "2026-02, 2026-04 to 2026-05"
    # Without December read, November may just not be exported yet: 2024-10 to 2026-10 still leave nothing complete.
    idle = SourceCoverage("plain-costs", added, frozenset(), added)
    assert month_span_words(unread_months(months_with_costs=months, coverage=[idle, focus], today=today)) == \
        "2024-10 to 2026-10"
    assert latest_complete_month(months_with_costs=months, coverage=[idle, focus], today=today) is None
    # Once the months after it are read, the latest of them is complete again.
    later = SourceCoverage("qa-focus", date(2024, 9, 1), frozenset(month_range(date(2024, 9, 1), date(2026, 11, 1))),
                           added)
    assert latest_complete_month(months_with_costs=later.delivered, coverage=[plain, later], today=today) == \
        date(2026, 11, 1)


def test_a_backfill_up_to_the_month_before_last_waits_for_last_month_s_export():
    """A monthly source added this month with two months of history: last month's export is not in yet and nothing of
    this month is read, so the data simply stops there and the month before last is complete (as before)."""
    added = date(2026, 12, 1)
    source = SourceCoverage("contracts-csv", date(2026, 9, 1), frozenset({date(2026, 9, 1), date(2026, 10, 1)}), added)
    months = [date(2026, 9, 1), date(2026, 10, 1)]
    today = date(2026, 12, 7)
    assert unread_months(months_with_costs=months, coverage=[source], today=today) == []
    assert latest_complete_month(months_with_costs=months, coverage=[source], today=today) == date(2026, 10, 1)


def test_the_usual_year_of_history_from_several_sources_is_unchanged():
    """Twelve months from two sources and the current month in progress: last month is complete. Within the grace a
    month that just ended and nobody read yet is owed, not unknown: the month before it stays complete."""
    year = frozenset(month_range(date(2025, 11, 1), date(2026, 10, 1)))
    sources = [SourceCoverage("azure", date(2025, 11, 1), year | {date(2026, 11, 1)}, date(2025, 11, 1)),
               SourceCoverage("openai", date(2025, 11, 1), year | {date(2026, 11, 1)}, date(2025, 11, 1))]
    months = [*year, date(2026, 11, 1)]
    assert latest_complete_month(months_with_costs=months, coverage=sources, today=date(2026, 12, 7)) == \
        date(2026, 11, 1)
    early = [SourceCoverage(s.name, s.start, year, s.added) for s in sources]
    assert latest_complete_month(months_with_costs=year, coverage=early, today=date(2026, 12, 2)) == date(2026, 10, 1)
    assert unread_months(months_with_costs=year, coverage=early, today=date(2026, 12, 2)) == []


def test_a_hole_in_a_sources_history_is_owed_and_so_is_every_month_after_its_last_since_it_was_added():
    patchy = SourceCoverage("aws-focus", date(2025, 10, 1),
                            frozenset({date(2025, 10, 1), date(2025, 12, 1), date(2026, 1, 1)}), date(2025, 10, 1))
    assert patchy.owes(date(2025, 11, 1))  # between two months it delivered, since it was added
    assert patchy.owes(date(2026, 2, 1)) and patchy.owes(date(2026, 11, 1))  # after its last
    assert not patchy.owes(date(2025, 9, 1)) and not patchy.owes(date(2025, 12, 1))
    established = SourceCoverage("azure-focus", date(2025, 10, 1), UP_TO_SEPTEMBER, date(2025, 9, 1))
    assert established.owes(date(2026, 10, 1)) and established.owes(date(2026, 11, 1))  # it stopped: it owes
    assert not established.owes(date(2026, 9, 1))


@pytest.mark.django_db
def test_a_month_is_delivered_when_its_latest_successful_read_wrote_rows():
    june, july, august = date(2026, 6, 1), date(2026, 7, 1), date(2026, 8, 1)
    source, other = CostSourceFactory(), CostSourceFactory()
    first, second = datetime(2026, 9, 1, tzinfo=UTC), datetime(2026, 9, 2, tzinfo=UTC)
    IngestionRunFactory(source=source, period=june, finished_at=first)
    IngestionRunFactory(source=source, period=june, finished_at=second, status=RunStatus.FAILED, rows_written=0)
    IngestionRunFactory(source=source, period=july, finished_at=first)
    IngestionRunFactory(source=source, period=july, finished_at=second, rows_written=0)  # a re-read found nothing
    IngestionRunFactory(source=source, period=august, rows_written=0)
    IngestionRunFactory(source=other, period=august)
    # A failed read leaves the previous data; a successful one that wrote nothing replaced it with nothing.
    assert source_delivered_months() == {source.pk: {june}, other.pk: {august}}


# Through the services: sources read month after month, then a new source with one old month ---------------------------


def _months_ago(count: int) -> date:
    month = timezone.localdate().replace(day=1)
    for _ in range(count):
        month = (month - timedelta(days=1)).replace(day=1)
    return month


def _read(source, month: date, tmp_path: Path, *rows: str):
    path = tmp_path / f"{source.name}-{month:%Y-%m}.csv"
    path.write_text("date,initiative,key,category,amount,currency,quantity,unit\n" + "\n".join(rows) + "\n")
    run = ingestion_run_create(source=source, period=Period.month(month.year, month.month),
                               trigger=RunTrigger.COMMAND)
    run = ingestion_run_execute(run=run, path=path)
    assert run.status == RunStatus.SUCCEEDED, run.error
    return run


@pytest.mark.django_db
def test_an_old_month_read_into_a_new_source_moves_no_reporting_month(tmp_path, settings, admin_user):
    """Finding 1, reproduction B: a new CSV source reads one month of 2025 (one row, allocated). The month every page,
    the API, the dashboard and the signals read stays last month, and the new source misses nothing."""
    settings.MEDIA_ROOT = tmp_path / "media"
    InitiativeFactory(external_id="NW-0001")
    contracts = source_added(cost_source_create(actor=admin_user, name="contracts-csv", type="csv",
                                                schedule="monthly"), timezone.now() - timedelta(days=400))
    for back in (3, 2, 1):
        month = _months_ago(back)
        _read(contracts, month, tmp_path, f"{month:%Y-%m}-15,NW-0001,,maintenance,1000.00,USD,,",
              f"{month:%Y-%m}-15,,tag:project=nobody,other,50.00,USD,,")
    last_month, today = _months_ago(1), timezone.localdate()
    assert last_complete_month() == last_month
    quarter = default_quarter()

    backfill = cost_source_create(actor=admin_user, name="qa-csv2", type="csv", schedule="monthly")
    old = _months_ago(18)
    _read(backfill, old, tmp_path, f"{old:%Y-%m}-28,NW-0001,,maintenance,100.00,USD,,")

    assert last_complete_month() == last_month
    assert cost_periods().month == last_month
    assert default_quarter() == quarter
    assert spend_headline(today=today)["month"].start == last_month
    health = ingestion_health(now=timezone.now(), grace_days=3)
    assert [s.name for s in health.stale] == []
    assert health.headline["incomplete"] == []


@pytest.mark.django_db
def test_a_month_of_unallocated_spend_only_is_not_the_latest_complete_month(tmp_path, settings, admin_user):
    """Finding 1, reproduction A: an export nothing is mapped in yet is not a month of cost to report on."""
    settings.MEDIA_ROOT = tmp_path / "media"
    focus = cost_source_create(actor=admin_user, name="qa-focus", type="csv", schedule="monthly")
    old = _months_ago(27)
    _read(focus, old, tmp_path, f"{old:%Y-%m}-28,,tag:project=nobody,other,-0.15,USD,,")
    assert last_complete_month() is None
    assert spend_headline(today=timezone.localdate())["month"] is None


@pytest.mark.django_db
def test_an_old_month_and_the_current_month_in_new_sources_make_no_month_complete(tmp_path, settings, admin_user):
    """Finding 1: a month read two years back into a new source, and the current month into another, no longer make
    the old month the one every page reports on; the health headline names the months nobody delivered."""
    settings.MEDIA_ROOT = tmp_path / "media"
    InitiativeFactory(external_id="NW-0001")
    plain = cost_source_create(actor=admin_user, name="plain-costs", type="csv", schedule="monthly")
    focus = cost_source_create(actor=admin_user, name="qa-focus", type="csv", schedule="monthly")
    this_month, old = _months_ago(0), _months_ago(27)
    _read(plain, this_month, tmp_path, f"{this_month:%Y-%m}-01,NW-0001,,maintenance,1450.00,USD,,")
    _read(focus, old, tmp_path, f"{old:%Y-%m}-28,NW-0001,,other,-0.15,USD,,")
    assert last_complete_month() is None
    headline = spend_headline(today=timezone.localdate())
    assert headline["month"] is None
    assert headline["unread"] == f"{_months_ago(26):%Y-%m} to {_months_ago(1):%Y-%m}"


@pytest.mark.django_db
def test_a_previous_month_nobody_read_is_no_data_not_zero_spend(tmp_path, settings, admin_user):
    """Finding 10: the month before the headline month has no data at all: its spend is unknown (None, shown "no
    data for ..."), not $0.00."""
    settings.MEDIA_ROOT = tmp_path / "media"
    InitiativeFactory(external_id="NW-0001")
    source = cost_source_create(actor=admin_user, name="contracts-csv", type="csv", schedule="monthly")
    last = _months_ago(1)
    _read(source, last, tmp_path, f"{last:%Y-%m}-15,NW-0001,,maintenance,1000.00,USD,,")
    headline = spend_headline(today=timezone.localdate())
    assert headline["month"].start == last
    assert headline["total_previous"] is None
    _read(source, _months_ago(2), tmp_path, f"{_months_ago(2):%Y-%m}-15,,tag:project=nobody,other,0,USD,,")
    assert spend_headline(today=timezone.localdate())["total_previous"] == 0


# What the cost data says of each month (CostDataReading): the dashboard's unread notice and the cycle form's months


def reading(delivered: dict[str, set[date]], *, costs: set[date] | None = None, added: date = date(2026, 12, 1),
            unallocated: set[date] = frozenset(), today: date = date(2026, 12, 7)) -> CostDataReading:
    """Sources added in `added` that delivered the months given; the roll-ups hold allocated cost for `costs` (by
    default every month delivered) and unallocated spend only for `unallocated`."""
    coverage = tuple(SourceCoverage(name, min(months, default=added), frozenset(months), added)
                     for name, months in delivered.items())
    months = set().union(*delivered.values()) if costs is None else costs
    allocated = frozenset(m for m in months if m < today.replace(day=1))
    return CostDataReading(today, coverage, allocated, frozenset(months | set(unallocated)))


def states(period: PeriodCostData) -> list[tuple[str, str, str]]:
    return [(f"{m.month:%Y-%m}", m.state, m.reason) for m in period.months]


def test_a_month_no_source_read_between_two_read_ones_is_named_and_left_empty():
    """A source added in December that read 2026-09 and 2026-11 but not 2026-10: October is unread (nobody owes it),
    November complete; the figures hold nothing for October."""
    data = reading({"focus": {date(2026, 9, 1), date(2026, 11, 1)}})
    assert data.unread == [date(2026, 10, 1)] and data.latest_complete == date(2026, 11, 1)
    assert data.unread_note() == ("2026-10 was not read by any cost source: the figures hold no cost for it; the "
                                  "latest complete month is 2026-11.")
    q4 = data.period(date(2026, 10, 1), date(2026, 12, 31))
    assert states(q4) == [("2026-10", NO_DATA, NOT_READ), ("2026-11", COMPLETE, ""), ("2026-12", NO_DATA, NOT_ENDED)]
    assert q4.state == PARTLY and not q4.ended


def test_an_unread_month_after_the_last_one_read_says_where_the_figures_stop():
    """October backfilled, November read by nobody, December read so far: no month is complete, the figures stop at
    October."""
    data = reading({"focus": {date(2026, 10, 1), date(2026, 12, 1)}})
    assert data.unread == [date(2026, 11, 1)] and data.latest_complete is None
    assert data.unread_note() == "2026-11 was not read by any cost source: the figures stop at 2026-10."
    assert states(data.period(date(2026, 10, 1), date(2026, 11, 30))) == [
        ("2026-10", PARTLY, "no cost source read 2026-11, so how far the data goes is unknown"),
        ("2026-11", NO_DATA, NOT_READ)]
    two = reading({"focus": {date(2026, 6, 1), date(2026, 8, 1), date(2026, 12, 1)}})
    assert two.unread_note() == ("2026-07, 2026-09 to 2026-11 were not read by any cost source: the figures stop "
                                 "at 2026-08.")


def test_a_fresh_install_has_no_cost_data_and_nothing_unread():
    data = reading({})
    q3 = data.period(date(2026, 7, 1), date(2026, 9, 30))
    assert q3.state == NO_DATA and q3.ended
    assert {reason for _, _, reason in states(q3)} == {NOT_READ}
    assert data.unread == [] and data.unread_note() == ""


def test_a_quarter_partly_read_says_which_months_and_who_owes_them():
    """focus delivered July to September; openai, added in June too, July only and owes August and September;
    September has only unallocated spend in the roll-ups."""
    focus = {date(2026, 7, 1), date(2026, 8, 1), date(2026, 9, 1)}
    data = reading({"focus": focus, "openai": {date(2026, 7, 1)}}, added=date(2026, 6, 1),
                   costs={date(2026, 7, 1), date(2026, 8, 1)}, unallocated={date(2026, 9, 1)})
    q3 = data.period(date(2026, 7, 1), date(2026, 9, 30))
    assert states(q3) == [("2026-07", COMPLETE, ""), ("2026-08", PARTLY, "openai still owes it"),
                          ("2026-09", PARTLY, "openai still owes it")]
    assert q3.state == PARTLY
    focus_only = reading({"focus": focus}, added=date(2026, 6, 1), costs={date(2026, 7, 1), date(2026, 8, 1)},
                         unallocated={date(2026, 9, 1)})
    assert states(focus_only.period(date(2026, 9, 1), date(2026, 9, 30))) == [
        ("2026-09", PARTLY, "only unallocated spend: no allocation rule maps it to an initiative")]
    assert focus_only.period(date(2026, 7, 1), date(2026, 8, 31)).state == COMPLETE
    assert states(reading({"focus": {date(2026, 7, 1)}}, added=date(2026, 6, 1)).period(
        date(2026, 8, 1), date(2026, 8, 31))) == [("2026-08", NO_DATA, "focus still owes it")]
