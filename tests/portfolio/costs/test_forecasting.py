"""The forecast engine on generated series (no database): growth, flat, decline and a step change, their backtests,
the band, the damped trend, the volume x price path, the Jevons arithmetic and statsmodels' own equations."""

from __future__ import annotations

import numpy as np
import pytest
from statsmodels.tsa.holtwinters import ExponentialSmoothing

from portfolio.costs import forecasting as fc

MONTHS = 18


def history(*spend_rows, tokens=None, token_spend=None, unallocated=None) -> fc.History:
    spend = np.array(spend_rows, dtype=float).reshape(len(spend_rows), -1)
    zeros = np.zeros_like(spend)
    return fc.History(
        spend=spend,
        token_spend=zeros if token_spend is None else np.atleast_2d(np.asarray(token_spend, dtype=float)),
        tokens=zeros if tokens is None else np.atleast_2d(np.asarray(tokens, dtype=float)),
        unallocated=np.zeros(spend.shape[1]) if unallocated is None else np.asarray(unallocated, dtype=float),
    )


def forecast(h: fc.History, horizon: int = 12, decline: float = 60) -> fc.Forecast:
    return fc.forecast_spend(h, horizon=horizon, price_decline_pct=decline)


FLAT = np.full(MONTHS, 1000.0)
GROWTH = 1000 + 50 * np.arange(MONTHS)
DECLINE = 3000 - 100 * np.arange(MONTHS)
STEP = np.r_[np.full(MONTHS - 2, 1000.0), np.full(2, 2000.0)]  # doubles in the last two months


# MAPE ----------------------------------------------------------------------------------------------------------------


def test_mape_skips_months_with_zero_actual_and_is_a_fraction():
    assert fc.mape(np.array([110, 90, 5]), np.array([100, 100, 0])) == pytest.approx(0.1)


def test_mape_is_none_when_every_actual_is_zero():
    assert fc.mape(np.array([1.0, 2.0]), np.array([0.0, 0.0])) is None


# The four shapes and their backtests ---------------------------------------------------------------------------------


def test_flat_series_forecasts_flat_and_its_backtest_is_exact():
    result = forecast(history(FLAT))
    assert result.total.point == pytest.approx(np.full(12, 1000.0))
    assert result.methods == (fc.Method.SPEND_TREND,)
    test = fc.backtest(history(FLAT))
    assert test.total == pytest.approx(0.0, abs=1e-9) and test.initiatives == [pytest.approx(0.0, abs=1e-9)]


def test_growth_continues_damped_and_its_backtest_is_close():
    result = forecast(history(GROWTH))
    point = result.initiatives.point[0]
    assert point[0] > GROWTH[-1] and np.all(np.diff(point) > 0)
    # Damped: each month adds less than the last, and less than the undamped trend of 50 a month.
    steps = np.diff(point)
    assert np.all(np.diff(steps) < 0) and steps[0] < 50
    assert fc.backtest(history(GROWTH)).total < 0.02


def test_decline_falls_and_stops_at_zero():
    result = forecast(history(DECLINE), horizon=36)
    point = result.initiatives.point[0]
    assert point[0] < DECLINE[-1] and np.all(np.diff(point) <= 0)
    assert point.min() >= 0 and result.initiatives.lower.min() >= 0
    assert fc.backtest(history(DECLINE)).total < 0.05


def test_a_step_change_after_the_cut_shows_a_large_backtest_error():
    flat_error = fc.backtest(history(FLAT)).total
    step_error = fc.backtest(history(STEP)).total
    assert step_error > 0.3 > flat_error
    # Two of the three months doubled: the forecast made before the step missed them by half.
    assert step_error == pytest.approx((0 + 0.5 + 0.5) / 3, abs=0.02)


def test_the_band_contains_the_point_and_widens_with_the_horizon():
    rng = np.random.default_rng(3)
    noisy = 1000 + rng.normal(0, 100, MONTHS)
    result = forecast(history(noisy, GROWTH, unallocated=500 + rng.normal(0, 50, MONTHS)))
    band = result.initiatives
    assert np.all(band.lower <= band.point) and np.all(band.point <= band.upper)
    width = band.upper[0] - band.lower[0]
    assert width[0] > 0 and np.all(np.diff(width) >= -1e-9)
    total = result.total
    assert np.all(total.lower <= total.point) and np.all(total.point <= total.upper)
    assert total.upper[0] > total.lower[0]


def test_a_fast_growing_series_does_not_explode():
    exponential = 100 * 1.15 ** np.arange(MONTHS)
    point = forecast(history(exponential), horizon=12).initiatives.point[0]
    last_step = exponential[-1] - exponential[-2]
    # At most the damped sum of the recent trend: far below compounding 15% a month for a year (x5.35).
    assert point[-1] < exponential[-1] + 12 * last_step
    assert point[-1] < exponential[-1] * 5.35 / 2


# Short series and the total --------------------------------------------------------------------------------------


def test_fewer_than_four_months_are_flat_at_their_mean_with_a_band_from_their_spread():
    short = np.r_[np.zeros(MONTHS - 3), [900.0, 1000.0, 1100.0]]
    result = forecast(history(short))
    assert result.methods == (fc.Method.SHORT_FLAT,)
    assert result.initiatives.point[0] == pytest.approx(np.full(12, 1000.0))
    assert result.initiatives.upper[0, 0] - 1000 == pytest.approx(fc.Z80 * 100)


def test_a_single_month_gets_a_band_of_half_its_value():
    single = np.r_[np.zeros(MONTHS - 1), [400.0]]
    band = forecast(history(single)).initiatives
    assert band.point[0, 0] == 400 and band.lower[0, 0] == 200 and band.upper[0, 0] == 600


def test_the_total_is_the_sum_of_the_initiatives_and_unallocated_spend():
    unallocated = np.full(MONTHS, 250.0)
    result = forecast(history(FLAT, GROWTH, unallocated=unallocated))
    assert result.unallocated_method == fc.Method.STATSMODELS
    assert result.total.point == pytest.approx(result.initiatives.point.sum(axis=0) + result.unallocated.point)


def test_without_history_enough_for_a_cut_there_is_no_backtest():
    assert fc.backtest(history(np.array([5.0, 6.0, 7.0]))) is None


def test_an_initiative_without_spend_before_the_cut_has_no_backtest():
    new = np.r_[np.zeros(MONTHS - 2), [100.0, 120.0]]
    test = fc.backtest(history(FLAT, new))
    assert test.initiatives[0] == pytest.approx(0.0, abs=1e-9) and test.initiatives[1] is None


# Volume x unit price and the Jevons scenario ----------------------------------------------------------------------


def test_jevons_worked_example_from_the_product_brief():
    """A team that triples its usage while the unit price halves spends 1.5x as much."""
    volume = np.linspace(1_000_000, 3_000_000, 12)  # tripled by month 12
    spend = fc.jevons_spend(volume, unit_price=2e-6, decline_pct=50)
    assert spend[-1] / (1_000_000 * 2e-6) == pytest.approx(1.5)
    assert fc.jevons_factor(60, 12) == pytest.approx(0.4)  # the default policy: 60% a year
    assert fc.jevons_factor(60, 6) == pytest.approx(0.4**0.5)


def test_token_spend_is_volume_trend_times_unit_price_trend():
    months = np.arange(MONTHS)
    volume = 1e9 * (1 + 0.05 * months)
    price = 2e-6 * 0.98**months  # the unit price falls 2% a month
    token_spend = volume * price
    licences = np.full(MONTHS, 500.0)
    h = history(token_spend + licences, tokens=volume, token_spend=token_spend)
    result = forecast(h)
    assert result.methods == (fc.Method.VOLUME_X_PRICE,)
    price_now, rate = fc.unit_price_trend(h.token_spend, h.tokens)
    assert rate[0] == pytest.approx(np.log(0.98))
    assert price_now[0] == pytest.approx(price[-1])
    volume_ahead = result.initiative_tokens[0]
    assert volume_ahead[0] > volume[-1]
    expected = volume_ahead * price[-1] * 0.98 ** np.arange(1, 13) + 500
    assert result.initiatives.point[0] == pytest.approx(expected, rel=1e-6)


def test_jevons_scenario_prices_the_same_volume_at_the_policy_decline():
    volume = np.r_[np.zeros(MONTHS - 6), 1e9 * np.arange(1, 7)]  # a young service adding a billion tokens a month
    token_spend = volume * 2e-6
    result = forecast(history(token_spend, tokens=volume, token_spend=token_spend), decline=60)
    ahead = np.arange(1, 13)
    assert result.initiative_jevons[0] == pytest.approx(result.initiative_tokens[0] * 2e-6 * 0.4 ** (ahead / 12))
    unit_jevons = result.token_spend_jevons / result.tokens
    assert np.all(np.diff(unit_jevons) < 0)  # unit cost falls...
    assert result.total_jevons[2] > token_spend[-1]  # ...while spend still rises where volume grows faster


def test_an_observed_price_jump_is_bounded():
    months = np.arange(MONTHS)
    price = np.where(months < MONTHS - 1, 1e-6, 1e-4)  # a switch to a model 100x dearer in the last month
    _, rate = fc.unit_price_trend(np.atleast_2d(price * 1e9), np.atleast_2d(np.full(MONTHS, 1e9)))
    assert rate[0] == pytest.approx(fc.PRICE_RATE_BOUNDS[1])


def test_spend_without_enough_token_months_uses_the_spend_trend():
    tokens = np.r_[np.zeros(MONTHS - 3), np.full(3, 1e9)]
    result = forecast(history(FLAT, tokens=tokens, token_spend=np.r_[np.zeros(MONTHS - 3), np.full(3, 800.0)]))
    assert result.methods == (fc.Method.SPEND_TREND,)


# statsmodels' equations -------------------------------------------------------------------------------------------


def test_the_vectorised_recursion_is_statsmodels_holt_damped_trend():
    """Same parameters and initial states: the same level, trend, one-step errors and forecast as statsmodels."""
    values = np.array([0, 0, 100, 120, 118, 140, 150, 149, 170, 180, 175, 190.0])
    start = np.array([2])
    level, trend, sse = fc.holt_damped(values[None, :], start, alpha=np.array([0.5]), beta=np.array([0.1]),
                                       phi=np.array([0.9]))
    level0, trend0 = fc._initial_states(values[None, :], start)
    fit = ExponentialSmoothing(
        values[2:], trend="add", damped_trend=True, initialization_method="known", initial_level=level0[0],
        initial_trend=trend0[0],
    ).fit(smoothing_level=0.5, smoothing_trend=0.1, damping_trend=0.9, optimized=False)
    assert level[0] == pytest.approx(fit.level[-1]) and trend[0] == pytest.approx(fit.trend[-1])
    assert sse[0] == pytest.approx(float((fit.resid[1:] ** 2).sum()))
    ahead = level[0] + trend[0] * np.cumsum(0.9 ** np.arange(1, 4))
    assert ahead == pytest.approx(fit.forecast(3))


def test_the_total_band_comes_from_a_seeded_simulation_so_it_repeats():
    rng = np.random.default_rng(5)
    h = history(1000 + rng.normal(0, 80, MONTHS), unallocated=300 + rng.normal(0, 30, MONTHS))
    first, second = forecast(h), forecast(h)
    assert first.total.lower == pytest.approx(second.total.lower, abs=0)
    assert first.total.upper == pytest.approx(second.total.upper, abs=0)


def test_the_horizon_must_be_positive():
    with pytest.raises(ValueError, match="at least one month"):
        forecast(history(FLAT), horizon=0)
