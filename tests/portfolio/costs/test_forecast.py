"""The stored forecast: read in bulk from the roll-ups, built with its backtest, stored idempotently."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from auditlog.models import LogEntry

from portfolio.choices import CostCategory, RunStatus, SourceType
from portfolio.costs.forecast import cost_forecast_as_json, forecast_build, forecast_input, forecast_summary
from portfolio.costs.services.forecast import forecast_compute
from portfolio.models import CostForecast, InitiativeForecast, MonthlyCost
from tests.factories import InitiativeFactory
from tests.portfolio.costs.factories import CostSourceFactory, IngestionRunFactory, source_added
from tests.portfolio.costs.forecast_data import LATEST, TODAY, months_to, spend, tokens

pytestmark = pytest.mark.django_db

DECLINE = Decimal("60")


def delivered(source, month: date) -> None:
    """A successful read of the month that wrote rows: the source delivered it."""
    IngestionRunFactory(source=source, period=month, status=RunStatus.SUCCEEDED, rows_written=3)


def compute(**kwargs):
    return forecast_compute(price_decline_pct=kwargs.pop("price_decline_pct", DECLINE), today=TODAY, **kwargs)


def forecast_events():
    return LogEntry.objects.filter(additional_data__event="cost_forecast_computed")


@pytest.fixture
def portfolio_costs(db):
    """Two initiatives (one flat, one growing with token usage), a new one and some unallocated spend."""
    flat, growing, new = (InitiativeFactory(external_id=f"INV-{n}") for n in ("0001", "0002", "0003"))
    spend(flat, [1000.0] * 12)
    spend(growing, [500 + 40 * k for k in range(12)], category=CostCategory.INFERENCE)
    tokens(growing, [1e8 * (1 + 0.08 * k) for k in range(12)])
    spend(growing, [100.0] * 12, category=CostCategory.STORAGE)
    spend(new, [300.0, 320.0])
    spend(None, [200.0 + 5 * k for k in range(12)])
    return flat, growing, new


def test_the_input_is_read_in_seven_queries_whatever_the_number_of_initiatives(django_assert_num_queries):
    for n in range(30):
        spend(InitiativeFactory(), [100.0 + n] * 6)
    with django_assert_num_queries(7):  # four, and three for the latest complete month
        data = forecast_input(today=TODAY)
    assert data is not None and len(data.initiative_ids) == 30 and data.history.spend.shape == (30, 6)


def test_months_start_after_the_latest_month_with_cost_data(portfolio_costs):
    result = forecast_build(price_decline_pct=DECLINE, months=12, today=TODAY)
    assert result.payload["as_of"] == "2026-08"
    assert result.payload["months"][:2] == ["2026-09", "2026-10"] and len(result.payload["months"]) == 12
    assert result.payload["months"][-1] == "2027-08"


def test_the_total_is_exactly_the_sum_of_initiatives_and_unallocated(portfolio_costs):
    result = forecast_build(price_decline_pct=DECLINE, months=12, today=TODAY)
    payload = result.payload
    for month in range(12):
        parts = sum((Decimal(str(line.amounts[month])) for line in result.lines), Decimal("0"))
        assert Decimal(str(payload["total"][month])) == parts + Decimal(str(payload["unallocated"][month]))
        assert payload["lower"][month] <= payload["total"][month] <= payload["upper"][month]
    methods = {line.external_id: line.method for line in result.lines}
    assert methods == {"INV-0001": "spend_trend", "INV-0002": "volume_x_price", "INV-0003": "short_flat"}
    assert payload["method"]["unallocated"] == "statsmodels"


def test_the_backtest_covers_the_three_months_before_the_latest(portfolio_costs):
    payload = forecast_build(price_decline_pct=DECLINE, months=12, today=TODAY).payload
    backtest = payload["backtest"]
    assert backtest["as_of"] == "2026-05" and backtest["months"] == ["2026-06", "2026-07", "2026-08"]
    # The error is mostly the new initiative's 300 a month, which nobody could forecast three months ago.
    assert payload["backtest_mape"] == backtest["mape"] and 0.05 < payload["backtest_mape"] < 0.12
    assert backtest["total_actual"][-1] - backtest["total_forecast"][-1] == pytest.approx(320, abs=40)
    by_initiative = {line.external_id: line.backtest_mape for line in
                     forecast_build(price_decline_pct=DECLINE, months=12, today=TODAY).lines}
    assert by_initiative["INV-0001"] == 0.0 and by_initiative["INV-0003"] is None  # no spend three months ago


def test_the_jevons_scenario_uses_the_decline_given(portfolio_costs):
    steep = forecast_build(price_decline_pct=Decimal("90"), months=12, today=TODAY).payload["jevons"]
    none = forecast_build(price_decline_pct=Decimal("0"), months=12, today=TODAY).payload["jevons"]
    assert steep["price_decline_pct"] == 90.0
    assert steep["total"][-1] < none["total"][-1]
    assert none["unit_cost_per_million_tokens"][0] == pytest.approx(none["unit_cost_per_million_tokens"][-1])
    assert steep["unit_cost_per_million_tokens"][-1] == pytest.approx(
        none["unit_cost_per_million_tokens"][-1] * 0.1, rel=1e-3)


def test_a_running_month_is_left_out_of_the_fit_and_forecast(portfolio_costs):
    flat = portfolio_costs[0]
    running = date(2026, 9, 1)
    MonthlyCost.objects.create(initiative=flat, month=running, category=CostCategory.COMPUTE, amount=Decimal("90"))
    result = forecast_build(price_decline_pct=DECLINE, months=12, today=date(2026, 9, 3))
    assert result.payload["as_of"] == "2026-08" and result.payload["months"][0] == "2026-09"
    assert result.payload["incomplete_months"] == [{"month": "2026-09", "amount_so_far": 90.0}]
    assert result.payload["history"]["months"][-1] == "2026-08"
    flat_line = next(line for line in result.lines if line.external_id == "INV-0001")
    assert flat_line.amounts[0] == 1000.0  # the 90 read so far did not drag the flat series down


def test_a_month_a_source_still_owes_is_left_out_of_the_fit_as_the_headline_leaves_it(portfolio_costs):
    """One source delivered September early (a few rows), another still owes it: the forecast stays as of August,
    the latest complete month, rather than taking the few rows for September's spend."""
    flat = portfolio_costs[0]
    added = datetime(2026, 1, 5, tzinfo=UTC)
    early, late = (source_added(CostSourceFactory(name=name, type=SourceType.CSV), added)
                   for name in ("early-csv", "late-csv"))
    for month in months_to(date(2026, 9, 1), 9):
        delivered(early, month)
    for month in months_to(LATEST, 8):
        delivered(late, month)
    MonthlyCost.objects.create(initiative=flat, month=date(2026, 9, 1), category=CostCategory.COMPUTE,
                               amount=Decimal("19.75"))
    before = forecast_build(price_decline_pct=DECLINE, months=12, today=TODAY)

    assert before.payload["as_of"] == "2026-08" and before.payload["months"][0] == "2026-09"
    assert before.payload["incomplete_months"] == [{"month": "2026-09", "amount_so_far": 19.75}]
    flat_line = next(line for line in before.lines if line.external_id == "INV-0001")
    assert flat_line.amounts[:2] == [1000.0, 1000.0]
    summary = forecast_summary(compute())
    assert summary["incomplete_months"] == [{"month": "2026-09", "amount_so_far": 19.75}]
    assert summary["next_year"] == Decimal(sum(line.next_year for line in InitiativeForecast.objects.all())) + \
        summary["unallocated_next_year"]


def test_without_cost_data_nothing_is_built_or_stored(db):
    assert forecast_build(price_decline_pct=DECLINE, today=TODAY) is None
    assert compute() is None and not CostForecast.objects.exists()


def test_compute_stores_a_snapshot_with_a_line_per_initiative(portfolio_costs, admin_user):
    forecast = compute(actor=admin_user)
    assert forecast.as_of == LATEST and forecast.months == 12 and forecast.price_decline_pct == DECLINE
    assert forecast.backtest_mape == Decimal(str(forecast.payload["backtest_mape"]))
    lines = {line.initiative.external_id: line for line in forecast.initiative_forecasts.select_related("initiative")}
    assert set(lines) == {"INV-0001", "INV-0002", "INV-0003"}
    flat = lines["INV-0001"]
    assert flat.next_quarter == Decimal("3000.00") and flat.next_year == Decimal("12000.00")
    assert flat.last_month == Decimal("1000.00") and flat.backtest_mape == Decimal("0")
    event = forecast_events().get()
    assert event.actor == admin_user and event.additional_data["as_of"] == "2026-08-01"


def test_computing_twice_on_the_same_data_writes_nothing(portfolio_costs):
    first = compute()
    lines = list(InitiativeForecast.objects.values_list("pk", flat=True))
    second = compute()
    assert second.pk == first.pk and second.generated_at == first.generated_at
    assert list(InitiativeForecast.objects.values_list("pk", flat=True)) == lines
    assert forecast_events().count() == 1


def test_new_data_for_the_month_replaces_its_snapshot(portfolio_costs):
    first = compute()
    MonthlyCost.objects.filter(initiative=portfolio_costs[0], month=LATEST).update(amount=Decimal("1500"))
    second = compute()
    assert second.pk == first.pk and second.digest != first.digest and CostForecast.objects.count() == 1
    assert InitiativeForecast.objects.filter(forecast=second).count() == 3
    assert forecast_events().count() == 2


def test_a_newer_month_gets_its_own_snapshot_and_one_whose_data_is_gone_is_removed(portfolio_costs):
    compute()
    later = MonthlyCost.objects.create(initiative=portfolio_costs[0], month=date(2026, 9, 1),
                                       category=CostCategory.COMPUTE, amount=Decimal("1000"))
    assert compute().as_of == date(2026, 9, 1)
    assert list(CostForecast.objects.values_list("as_of", flat=True)) == [date(2026, 9, 1), LATEST]
    later.delete()
    assert compute().as_of == LATEST
    assert list(CostForecast.objects.values_list("as_of", flat=True)) == [LATEST]


def test_the_json_shape_cut_to_fewer_months(portfolio_costs):
    output = cost_forecast_as_json(compute(), months=3)
    assert output["months"] == ["2026-09", "2026-10", "2026-11"]
    for key in ("total", "lower", "upper", "unallocated"):
        assert len(output[key]) == 3
    assert all(len(amounts) == 3 for amounts in output["initiatives"].values())
    assert len(output["jevons"]["total"]) == 3 and output["jevons"]["price_decline_pct"] == 60.0
    assert "history" not in output


def test_with_only_the_running_month_there_is_no_forecast_and_none_is_kept(db):
    """A week of the current month is not a month: nothing is fitted on it, and the page says no month is complete
    rather than projecting it ("the latest complete month") twelve times. Computing again writes nothing."""
    spend(InitiativeFactory(), [1400.0], latest=date(2026, 12, 1))
    today = date(2026, 12, 7)
    assert forecast_input(today=today) is None
    assert forecast_build(price_decline_pct=DECLINE, today=today) is None
    CostForecast.objects.create(as_of=date(2026, 12, 1), months=12, price_decline_pct=DECLINE, payload={},
                                generated_at=datetime(2026, 12, 2, tzinfo=UTC))
    assert forecast_compute(price_decline_pct=DECLINE, today=today) is None
    assert not CostForecast.objects.exists()  # a snapshot of an incomplete month is not kept
    assert forecast_compute(price_decline_pct=DECLINE, today=today) is None
    assert not CostForecast.objects.exists() and not forecast_events().exists()
