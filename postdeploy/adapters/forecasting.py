"""Holt-Winters forecasts (statsmodels) of a metric history, with simulated prediction intervals
and a backtest. statsmodels takes seconds to import: it is imported when the first fit runs."""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from postdeploy.domain.capacity import (
    Assessment,
    Forecast,
    HistoryError,
    Seasonality,
    assess,
    detect_seasonality,
    detect_trend,
    mape,
    rank,
    resample,
)

MAX_SIMULATED = 2_000_000  # path points simulated per forecast (steps x repetitions)


class ForecastError(RuntimeError):
    """No model could be fitted; the message says why."""


def forecast(
    points: Sequence[tuple[float, float]],
    *,
    horizon_s: float,
    level: float = 0.95,
    repetitions: int = 400,
    seed: int = 0,
    on_gap: Literal["error", "trailing"] = "error",
) -> Forecast:
    """Forecast `horizon_s` ahead of the last sample. HistoryError: the history is unusable;
    ForecastError: no model fitted."""
    if not 0 < level < 1:
        raise ValueError(f"level {level} must be between 0 and 1")
    if horizon_s <= 0:
        raise ValueError(f"horizon {horizon_s}s must be positive")
    grid = resample(points, on_gap=on_gap)
    values = list(grid.values)
    steps = max(1, math.ceil(horizon_s / grid.step))
    season = detect_seasonality(values, grid.step)
    trend = detect_trend(values, season).present

    holdout = max(2, min(steps, len(values) // 5))
    train, actual = values[:-holdout], values[-holdout:]
    damped, error = _backtest(train, actual, season, trend)
    fitted = _fit(values, season, trend, damped)
    method = fitted.method
    mean = _clip(fitted.forecast(steps))
    reps = max(50, min(repetitions, MAX_SIMULATED // steps))
    lower, upper = fitted.interval(steps, reps, level, seed)
    lower = [min(lo, m) for lo, m in zip(_clip(lower), mean, strict=True)]
    upper = [max(hi, m) for hi, m in zip(_clip(upper), mean, strict=True)]
    if not all(map(math.isfinite, [*mean, *lower, *upper])):
        raise ForecastError(f"the {method} model gave a non-finite forecast")
    times = tuple(grid.end + (i + 1) * grid.step for i in range(steps))
    return Forecast(
        grid, times, tuple(mean), tuple(lower), tuple(upper), level,
        method + (f"; {grid.note}" if grid.note else ""), season, error, holdout,
        detect_trend(values, season).note,
    )  # fmt: skip


def _clip(values: Any) -> list[float]:
    """Capacity resources are never negative."""
    return [max(0.0, float(v)) for v in values]


class _Fitted:
    """One fitted model: a Holt-Winters result, or a flat line for a constant history."""

    def __init__(self, result: Any, method: str, damped: bool | None = None) -> None:
        self.result, self.method, self.damped = result, method, damped

    def forecast(self, steps: int) -> list[float]:
        if isinstance(self.result, float):
            return [self.result] * steps
        return [float(v) for v in self.result.forecast(steps)]

    def interval(self, steps: int, reps: int, level: float, seed: int) -> tuple[Any, Any]:
        if isinstance(self.result, float):
            return self.forecast(steps), self.forecast(steps)
        import numpy as np

        paths = self.result.simulate(
            steps, anchor="end", repetitions=reps, error="add", rng=np.random.default_rng(seed)
        )
        paths = np.asarray(paths).reshape(steps, -1)
        tail = (1 - level) / 2
        return np.quantile(paths, tail, axis=1), np.quantile(paths, 1 - tail, axis=1)


DAMPING_GAIN = 0.9  # a damped trend must cut the backtest error by 10% to be chosen


def _backtest(
    train: list[float], actual: list[float], season: Seasonality, trend: bool
) -> tuple[bool, float | None]:
    """Fit on the history less its tail, forecast the tail: whether a damped trend helps (it
    flattens the growth, the risk capacity planning cares about, so only if clearly better),
    and the backtest MAPE of the choice."""
    tried: list[tuple[float | None, bool]] = []
    for damped in (False, True) if trend else (False,):
        try:
            fit = _fit(train, season, trend, damped)
        except ForecastError:
            continue
        tried.append((mape(actual, _clip(fit.forecast(len(actual)))), damped))
        if fit.damped is None:  # no trend in the model that fitted: damping is moot
            break
    if not tried:
        raise ForecastError("no model fitted the history less its last stretch (the backtest)")
    plain = next((e for e, d in tried if not d), None)
    for error, damped in tried:
        if damped and error is not None and (plain is None or error < DAMPING_GAIN * plain):
            return True, error
    return tried[0][1], tried[0][0]


def _fit(values: list[float], season: Seasonality, trend: bool, damped: bool) -> _Fitted:
    """Additive trend when there is one (damped if asked), additive season when a cycle was
    found and two whole cycles are here. Falls back to fewer components, down to simple
    exponential smoothing."""
    import numpy as np

    if max(values) - min(values) <= 1e-12 * max(1.0, abs(values[0])):
        return _Fitted(float(values[0]), "constant (no variation in the history)")
    period = season.period if season.period and len(values) >= 2 * season.period else None
    kind = "add" if trend else None
    tries: list[tuple[str | None, int | None]] = [(kind, period)] if period else []
    tries += [(kind, None), (None, None)] if trend else [(None, None)]
    reasons = []
    for component, seasonal in tries:
        damp = damped and component is not None
        name = _name(component, seasonal, damp, season)
        try:
            result = _one(values, component, damp, seasonal)
        except (ValueError, np.linalg.LinAlgError) as exc:
            reasons.append(f"{name}: {exc}")
            continue
        if all(map(math.isfinite, result.fittedvalues)):
            return _Fitted(result, name, damp if component else None)
        reasons.append(f"{name}: non-finite fit")
    raise ForecastError("no model fitted: " + "; ".join(reasons))


def _one(values: list[float], trend: str | None, damped: bool, period: int | None) -> Any:
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    # start values estimated with the smoothing parameters: slower than statsmodels'
    # heuristic start, but that one, fixed from the first cycles, is often far off and the
    # fit then chases it with a large trend smoothing, whose simulated intervals explode
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence chatter; the result is checked instead
        model = ExponentialSmoothing(
            values, trend=trend, damped_trend=damped,
            seasonal="add" if period else None, seasonal_periods=period,
            initialization_method="estimated",
        )  # fmt: skip
        return model.fit(use_brute=False)


def _name(trend: str | None, period: int | None, damped: bool, season: Seasonality) -> str:
    if period and trend:
        kind = f"Holt-Winters, additive trend and {season.name} season ({period} steps)"
    elif period:
        kind = f"exponential smoothing, additive {season.name} season ({period} steps), no trend"
    elif trend:
        kind = "Holt (additive trend, no season)"
    else:
        kind = "simple exponential smoothing (no trend, no season)"
    return kind + (", damped trend" if damped else "")


def plan(
    history: Mapping[tuple[str, str], Sequence[tuple[float, float]]],
    thresholds: Mapping[tuple[str, str], float | None],
    *,
    horizon_s: float,
    level: float = 0.95,
) -> list[Assessment]:
    """An assessment per (service, resource) with history or a threshold, most urgent first.
    A series that cannot be forecast is an assessment saying why, never a failure of the rest."""
    out = []
    for key in sorted(set(history) | {k for k, v in thresholds.items() if v is not None}):
        service, resource = key
        points = history.get(key, ())
        result: Forecast | str
        if not points:
            result = "no history in the store (collect-metrics stores it)"
        else:
            try:
                result = forecast(points, horizon_s=horizon_s, level=level, on_gap="trailing")
            except (HistoryError, ForecastError) as exc:
                result = str(exc)
        out.append(assess(service, resource, result, thresholds.get(key)))
    return rank(out)
