"""Spend forecast: pure arithmetic on monthly series (numpy, statsmodels), no ORM, tested on generated numbers.

The method (README "Forecast"):
- An initiative with token usage: spend priced per token = token volume trend x observed unit price trend, plus the
  damped trend of the rest of its spend (licences, GPUs, storage...). Without a volume series: the damped trend of
  its spend itself. The volume and spend trends are Holt's additive damped trend, the model of statsmodels'
  `ExponentialSmoothing(trend="add", damped_trend=True)`; the unit price trend is the least-squares monthly rate of
  change of log(spend per token) over the last twelve months.
- Unallocated spend, and the 80% band of the total, come from statsmodels itself: an optimised fit on that series and
  1,000 paths simulated from it with resampled residuals. The total is the sum of its parts (the table adds up); its
  band is that simulation's spread around the sum.
- Per-initiative series use the same Holt equations with parameters chosen per series from a fixed grid by the same
  criterion statsmodels optimises (sum of squared one-step errors), all series at once in numpy: one optimised
  statsmodels fit takes ~7 ms, so 10,000 initiatives and their backtests would take minutes (README).
- Fewer than MIN_TREND_MONTHS months: flat at their mean, the band from their spread.
- Jevons scenario: the same volume trends priced at the latest unit price falling by the policy's yearly decline.
- Backtest: the same method as of BACKTEST_MONTHS months earlier, against what happened since (MAPE).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

Z80 = 1.2815515655446004  # the 10th and 90th percentiles of the normal distribution: a two-sided 80% band
LOWER_QUANTILE, UPPER_QUANTILE = 0.1, 0.9
MIN_TREND_MONTHS = 4  # fewer months than this hold no trend worth extrapolating
BACKTEST_MONTHS = 3
PRICE_TREND_MONTHS = 12
# The observed unit price may change by at most a 90% fall or a doubling a year: one re-priced month (a switch of
# model) must not be extrapolated into a price that vanishes or explodes.
PRICE_RATE_BOUNDS = (math.log(0.1) / 12, math.log(2) / 12)
SINGLE_MONTH_BAND_SHARE = 0.5  # one month says nothing of its spread: +-50%
SIMULATIONS = 1000
SEED = 20_260_101  # fixed, so the same data gives the same band (idempotent snapshots)
# Holt parameters tried per series: level smoothing x trend smoothing x damping (statsmodels' names: smoothing_level,
# smoothing_trend, damping_trend). Damping below 1 keeps a trend from compounding over the horizon.
GRID_ALPHA = (0.1, 0.3, 0.5, 0.7, 0.9)
GRID_BETA = (0.01, 0.1, 0.3)
GRID_PHI = (0.8, 0.9, 0.98)


class Method(StrEnum):
    VOLUME_X_PRICE = "volume_x_price"
    SPEND_TREND = "spend_trend"
    SHORT_FLAT = "short_flat"
    STATSMODELS = "statsmodels"
    BOTTOM_UP = "bottom_up"
    NO_DATA = "no_data"


METHOD_NAMES: dict[str, str] = {
    Method.VOLUME_X_PRICE: "Volume × unit price",
    Method.SPEND_TREND: "Spend trend",
    Method.SHORT_FLAT: "Short history: flat",
    Method.STATSMODELS: "statsmodels",
    Method.BOTTOM_UP: "Sum of the parts",
    Method.NO_DATA: "No data",
}
METHOD_LABELS: dict[str, str] = {
    Method.VOLUME_X_PRICE: "token volume trend x observed unit price trend (+ trend of other spend)",
    Method.SPEND_TREND: "damped trend of the spend itself",
    Method.SHORT_FLAT: f"fewer than {MIN_TREND_MONTHS} months: flat at their mean, band from their spread",
    Method.STATSMODELS: "statsmodels ExponentialSmoothing (additive damped trend), optimised; band from "
                        f"{SIMULATIONS:,} simulated paths",
    Method.BOTTOM_UP: "sum of the initiatives and unallocated spend; band from statsmodels' simulation of the total",
    Method.NO_DATA: "no spend in the history",
}


@dataclass(frozen=True)
class History:
    """Monthly history on one grid of T complete months, oldest first; row i of each matrix is initiative i."""

    spend: np.ndarray  # (n, T) allocated spend per initiative and month, every category
    token_spend: np.ndarray  # (n, T) of which priced per token (inference / API)
    tokens: np.ndarray  # (n, T) tokens used (input + output)
    unallocated: np.ndarray  # (T,) spend no rule maps to an initiative

    @property
    def months(self) -> int:
        return int(self.unallocated.shape[0])

    @property
    def total(self) -> np.ndarray:
        return self.spend.sum(axis=0) + self.unallocated

    def truncated(self, months: int) -> History:
        """The history as it stood `months` months earlier."""
        end = self.months - months
        return History(self.spend[:, :end], self.token_spend[:, :end], self.tokens[:, :end], self.unallocated[:end])


@dataclass(frozen=True)
class Band:
    point: np.ndarray
    lower: np.ndarray
    upper: np.ndarray


@dataclass(frozen=True)
class Forecast:
    """The next `horizon` months: per initiative (rows as in the History), unallocated, total, Jevons scenario."""

    horizon: int
    initiatives: Band  # (n, h) each
    initiative_jevons: np.ndarray  # (n, h)
    initiative_tokens: np.ndarray  # (n, h) token volume trend; 0 where no volume path
    methods: tuple[Method, ...]
    unallocated: Band
    unallocated_method: Method
    total: Band
    total_jevons: np.ndarray
    tokens: np.ndarray  # (h,) tokens of the volume-path initiatives
    token_spend: np.ndarray  # (h,) their token-priced spend at the observed price trend
    token_spend_jevons: np.ndarray  # (h,) the same volume at the policy's price decline


@dataclass(frozen=True)
class Backtest:
    months: int
    initiatives: list[float | None]  # MAPE per initiative; None when it had no history then or no actual since
    total: float | None
    total_forecast: np.ndarray  # (months,) what the method said then
    total_actual: np.ndarray  # (months,) what happened


# Arithmetic the tests check on worked examples ------------------------------------------------------------------------


def mape(forecast: np.ndarray, actual: np.ndarray) -> float | None:
    """Mean absolute percentage error over the months whose actual is not zero (a percentage of zero is undefined);
    None when no month qualifies. A fraction: 0.04 is 4%."""
    forecast, actual = np.asarray(forecast, dtype=float), np.asarray(actual, dtype=float)
    counted = actual != 0
    if not counted.any():
        return None
    return float(np.mean(np.abs(forecast[counted] - actual[counted]) / np.abs(actual[counted])))


def jevons_factor(decline_pct: float, months_ahead: np.ndarray | float) -> np.ndarray:
    """Unit price `months_ahead` months on, as a share of today's, at a yearly decline of `decline_pct` percent."""
    return np.power(1 - decline_pct / 100.0, np.asarray(months_ahead, dtype=float) / 12.0)


def jevons_spend(volume: np.ndarray, unit_price: float, decline_pct: float) -> np.ndarray:
    """Spend of a volume path (month 1, 2, ... ahead) at a unit price falling by `decline_pct` a year: tripling the
    volume while the price halves spends 1.5x as much (PRODUCT.md)."""
    volume = np.asarray(volume, dtype=float)
    return volume * unit_price * jevons_factor(decline_pct, np.arange(1, volume.shape[-1] + 1))


# Holt's damped trend, many series at once -----------------------------------------------------------------------------


def _first_index(values: np.ndarray) -> np.ndarray:
    """Per row, the first month with a non-zero value (T when none): a series starts when its spending does."""
    nonzero = values != 0
    return np.where(nonzero.any(axis=1), nonzero.argmax(axis=1), values.shape[1])


def _initial_states(values: np.ndarray, start: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pre-sample level and trend (statsmodels' "known" initialisation): the first value, and the mean step over the
    first (up to) four months."""
    rows = np.arange(values.shape[0])
    last = values.shape[1] - 1
    length = values.shape[1] - start
    first = values[rows, np.clip(start, 0, last)]
    steps = np.clip(length - 1, 0, 3)
    later = values[rows, np.clip(start + steps, 0, last)]
    trend = np.where(steps > 0, (later - first) / np.maximum(steps, 1), 0.0)
    return first, trend


def holt_damped(
    values: np.ndarray, start: np.ndarray, *, alpha: np.ndarray, beta: np.ndarray, phi: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Run Holt's damped-trend recursion (statsmodels' Holt-Winters form) over each row from its start month.

    Parameters broadcast against the rows: shape (n,) or (G, 1) for G parameter sets at once. Returns the final
    level, trend and the sum of squared one-step errors (the first month's error is left out: it measures only the
    initial trend's guess).
        level_t = alpha y_t + (1 - alpha)(level_{t-1} + phi trend_{t-1})
        trend_t = beta (level_t - level_{t-1}) + (1 - beta) phi trend_{t-1}
    """
    level0, trend0 = _initial_states(values, start)
    shape = np.broadcast_shapes(np.shape(alpha), level0.shape)
    level = np.broadcast_to(level0, shape).copy()
    trend = np.broadcast_to(trend0, shape).copy()
    sse = np.zeros(shape)
    for t in range(values.shape[1]):
        active = t >= start
        if not active.any():
            continue
        observed = values[:, t]
        predicted = level + phi * trend
        error = observed - predicted
        new_level = alpha * observed + (1 - alpha) * predicted
        new_trend = beta * (new_level - level) + (1 - beta) * phi * trend
        sse += np.where(t > start, error * error, 0.0)
        level = np.where(active, new_level, level)
        trend = np.where(active, new_trend, trend)
    return level, trend, sse


def _damped_sums(phi: np.ndarray, horizon: int) -> np.ndarray:
    """phi + phi^2 + ... + phi^h for h = 1..horizon, per row: (n, horizon)."""
    powers = np.power(phi[:, None], np.arange(1, horizon + 1)[None, :])
    return np.cumsum(powers, axis=1)


def trend_forecast(values: np.ndarray, horizon: int) -> tuple[Band, np.ndarray]:
    """Forecast every row of `values` (n, T) `horizon` months ahead with its own Holt damped parameters from the grid.

    Rows with fewer than MIN_TREND_MONTHS months from their start are flat at their mean; rows without data are 0.
    Returns the band (point and 80% interval, not yet clipped at zero) and whether each row was a short series."""
    values = np.asarray(values, dtype=float)
    n, months = values.shape
    start = _first_index(values)
    length = months - start
    grid = np.array([(a, b, p) for a in GRID_ALPHA for b in GRID_BETA for p in GRID_PHI])
    alpha, beta, phi = (grid[:, i][:, None] for i in range(3))
    level, trend, sse = holt_damped(values, start, alpha=alpha, beta=beta, phi=phi)
    best = np.argmin(sse, axis=0)
    rows = np.arange(n)
    level, trend, sse = level[best, rows], trend[best, rows], sse[best, rows]
    alpha, beta, phi = grid[best, 0], grid[best, 1], grid[best, 2]

    sums = _damped_sums(phi, horizon)
    point = level[:, None] + trend[:, None] * sums
    errors = np.maximum(length - 1, 1)
    sigma = np.sqrt(sse / errors)
    # Variance of the h-step error of ETS(A,Ad,N): sigma^2 (1 + sum_{j<h} c_j^2), c_j = alpha (1 + beta phi_j).
    c = alpha[:, None] * (1 + beta[:, None] * sums)
    growth = np.concatenate([np.zeros((n, 1)), np.cumsum(c[:, :-1] ** 2, axis=1)], axis=1)
    half = Z80 * sigma[:, None] * np.sqrt(1 + growth)

    short = length < MIN_TREND_MONTHS
    if short.any():
        observed = np.arange(months)[None, :] >= start[:, None]
        counts = np.maximum(length, 1)
        mean = np.where(observed, values, 0.0).sum(axis=1) / counts
        squares = np.where(observed, (values - mean[:, None]) ** 2, 0.0).sum(axis=1)
        spread = np.where(length >= 2, Z80 * np.sqrt(squares / np.maximum(length - 1, 1)),
                          SINGLE_MONTH_BAND_SHARE * np.abs(mean))
        point[short] = mean[short, None]
        half[short] = spread[short, None]
    empty = length == 0
    point[empty] = 0.0
    half[empty] = 0.0
    return Band(point, point - half, point + half), short


def _clipped(band: Band) -> Band:
    """Spend is never negative: a declining trend ends at zero, and so does the band."""
    point = np.maximum(band.point, 0.0)
    return Band(point, np.clip(band.lower, 0.0, point), np.maximum(band.upper, point))


# Unit price ---------------------------------------------------------------------------------------------------------


def unit_price_trend(token_spend: np.ndarray, tokens: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row: the fitted unit price in the last month and its monthly log rate of change, by least squares on
    log(spend / tokens) over the last PRICE_TREND_MONTHS months with both; rows need at least one such month."""
    token_spend, tokens = np.asarray(token_spend, dtype=float), np.asarray(tokens, dtype=float)
    months = token_spend.shape[1]
    window = slice(max(0, months - PRICE_TREND_MONTHS), months)
    spend, volume = token_spend[:, window], tokens[:, window]
    used = (spend > 0) & (volume > 0)
    x = np.arange(spend.shape[1], dtype=float)[None, :] - (spend.shape[1] - 1)  # 0 = the last month
    with np.errstate(divide="ignore", invalid="ignore"):
        y = np.where(used, np.log(np.where(used, spend, 1.0) / np.where(used, volume, 1.0)), 0.0)
    count = used.sum(axis=1)
    sx = np.where(used, x, 0.0).sum(axis=1)
    sy = y.sum(axis=1)
    sxx = np.where(used, x * x, 0.0).sum(axis=1)
    sxy = np.where(used, x * y, 0.0).sum(axis=1)
    denominator = count * sxx - sx * sx
    safe = np.maximum(count, 1)
    slope = np.where(denominator > 0, (count * sxy - sx * sy) / np.where(denominator > 0, denominator, 1.0), 0.0)
    slope = np.clip(slope, *PRICE_RATE_BOUNDS)
    intercept = (sy - slope * sx) / safe  # the fitted log price at x = 0, the last month
    return np.where(count > 0, np.exp(intercept), 0.0), slope


# statsmodels, for the total and unallocated spend ------------------------------------------------------------------


def statsmodels_forecast(series: np.ndarray, horizon: int, *, band: bool = True) -> Band | None:
    """statsmodels' optimised additive damped trend fit of one series and, with `band`, the 10th and 90th
    percentiles of SIMULATIONS paths simulated from it with resampled residuals. None when the fit fails."""
    from statsmodels.tsa.holtwinters import ExponentialSmoothing  # pandas and statsmodels load in about a second

    values = np.asarray(series, dtype=float)
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            fit = ExponentialSmoothing(values, trend="add", damped_trend=True,
                                       initialization_method="estimated").fit()
            point = np.asarray(fit.forecast(horizon), dtype=float)
            if not band:
                return Band(point, point, point)
            paths = np.asarray(fit.simulate(horizon, anchor="end", repetitions=SIMULATIONS,
                                            random_errors="bootstrap", rng=np.random.default_rng(SEED)), dtype=float)
    except (ValueError, np.linalg.LinAlgError):
        return None
    paths = paths.reshape(horizon, -1)
    lower, upper = np.quantile(paths, LOWER_QUANTILE, axis=1), np.quantile(paths, UPPER_QUANTILE, axis=1)
    if not (np.isfinite(point).all() and np.isfinite(lower).all() and np.isfinite(upper).all()):
        return None
    return Band(point, np.minimum(lower, point), np.maximum(upper, point))


def _single_series(series: np.ndarray, horizon: int, *, band: bool) -> tuple[Band, Method]:
    """statsmodels for a series with a trend to fit; the short-series rule (or the grid, should statsmodels fail)."""
    values = np.asarray(series, dtype=float)
    start = int(_first_index(values[None, :])[0])
    if start == values.shape[0]:
        zeros = np.zeros(horizon)
        return Band(zeros, zeros, zeros), Method.NO_DATA
    if values.shape[0] - start >= MIN_TREND_MONTHS:
        fitted = statsmodels_forecast(values[start:], horizon, band=band)
        if fitted is not None:
            return fitted, Method.STATSMODELS
    grid, short = trend_forecast(values[None, :], horizon)
    return Band(grid.point[0], grid.lower[0], grid.upper[0]), Method.SHORT_FLAT if short[0] else Method.SPEND_TREND


# The forecast ------------------------------------------------------------------------------------------------------


def has_volume_path(token_spend: np.ndarray, tokens: np.ndarray) -> np.ndarray:
    """Rows whose token-priced spend follows a volume: tokens and their spend in the last month and in at least
    MIN_TREND_MONTHS months."""
    both = (np.asarray(token_spend) > 0) & (np.asarray(tokens) > 0)
    return both[:, -1] & (both.sum(axis=1) >= MIN_TREND_MONTHS) if both.shape[1] else np.zeros(both.shape[0], bool)


def forecast_spend(history: History, *, horizon: int, price_decline_pct: float, band: bool = True) -> Forecast:
    """The next `horizon` months of every initiative, unallocated spend and the total (see the module's docstring).
    `band=False` skips the total's simulation (the backtest needs only the points)."""
    if horizon < 1:
        raise ValueError("the horizon must be at least one month")
    n = history.spend.shape[0]
    volume_rows = has_volume_path(history.token_spend, history.tokens) if n else np.zeros(0, bool)
    other = history.spend - np.where(volume_rows[:, None], history.token_spend, 0.0)
    volumes = history.tokens[volume_rows]
    stacked = np.concatenate([other, volumes])
    bands, short = trend_forecast(stacked, horizon)
    other_band = _clipped(Band(bands.point[:n], bands.lower[:n], bands.upper[:n]))
    volume_band = _clipped(Band(bands.point[n:], bands.lower[n:], bands.upper[n:]))

    price_now, rate = unit_price_trend(history.token_spend[volume_rows], volumes)
    ahead = np.arange(1, horizon + 1)
    price = price_now[:, None] * np.exp(rate[:, None] * ahead[None, :])
    price_jevons = price_now[:, None] * jevons_factor(price_decline_pct, ahead)[None, :]
    token_point = volume_band.point * price
    token_half = (volume_band.upper - volume_band.point) * price

    point = other_band.point.copy()
    half = other_band.upper - other_band.point
    low_half = other_band.point - other_band.lower
    jevons = other_band.point.copy()
    tokens = np.zeros((n, horizon))
    point[volume_rows] += token_point
    half[volume_rows] = np.sqrt(half[volume_rows] ** 2 + token_half ** 2)  # independent parts add in quadrature
    token_low = (volume_band.point - volume_band.lower) * price
    low_half[volume_rows] = np.sqrt(low_half[volume_rows] ** 2 + token_low ** 2)
    jevons[volume_rows] += volume_band.point * price_jevons
    tokens[volume_rows] = volume_band.point
    initiatives = Band(point, np.maximum(point - low_half, 0.0), point + half)

    start = _first_index(history.spend) if n else np.zeros(0, int)
    methods = tuple(
        Method.NO_DATA if start[i] == history.months
        else Method.VOLUME_X_PRICE if volume_rows[i]
        else Method.SHORT_FLAT if short[i]
        else Method.SPEND_TREND
        for i in range(n)
    )

    unallocated, unallocated_method = _single_series(history.unallocated, horizon, band=True)
    unallocated = _clipped(unallocated)
    total_point = point.sum(axis=0) + unallocated.point
    total_band = _total_band(history.total, total_point, horizon) if band else Band(total_point, total_point,
                                                                                   total_point)
    return Forecast(
        horizon=horizon,
        initiatives=initiatives,
        initiative_jevons=jevons,
        initiative_tokens=tokens,
        methods=methods,
        unallocated=unallocated,
        unallocated_method=unallocated_method,
        total=total_band,
        total_jevons=jevons.sum(axis=0) + unallocated.point,
        tokens=volume_band.point.sum(axis=0),
        token_spend=token_point.sum(axis=0),
        token_spend_jevons=(volume_band.point * price_jevons).sum(axis=0),
    )


def _total_band(total_history: np.ndarray, total_point: np.ndarray, horizon: int) -> Band:
    """The band of the total: statsmodels' simulated spread of the total's own history, around the sum of the parts
    (summing the parts' bands would treat them as independent, which spend across a company is not)."""
    fitted, _method = _single_series(total_history, horizon, band=True)
    below = np.maximum(fitted.point - fitted.lower, 0.0)
    above = np.maximum(fitted.upper - fitted.point, 0.0)
    return Band(total_point, np.maximum(total_point - below, 0.0), total_point + above)


def backtest(history: History, *, months: int = BACKTEST_MONTHS, price_decline_pct: float = 0.0) -> Backtest | None:
    """The same method run `months` months earlier, against what happened since; None when the history is too short
    to leave a month before the cut. An initiative without spend before the cut has no backtest (None)."""
    if history.months - months < 1:
        return None
    earlier = history.truncated(months)
    forecast = forecast_spend(earlier, horizon=months, price_decline_pct=price_decline_pct, band=False)
    actual = history.spend[:, -months:]
    known = _first_index(earlier.spend) < earlier.months if len(earlier.spend) else np.zeros(0, bool)
    per_initiative = [mape(forecast.initiatives.point[i], actual[i]) if known[i] else None
                      for i in range(actual.shape[0])]
    total_actual = history.total[-months:]
    return Backtest(months, per_initiative, mape(forecast.total.point, total_actual), forecast.total.point,
                    total_actual)
